"""Notes the grader leaves under a cell of the graded notebook (rustsync/grading/notes.py).

`add` keeps a note in the cell's metadata, `clear` drops every note a submission brought,
and `CellNotes` writes them after the execution: as the first output line of a code cell,
as an escaped markdown cell right below any other, with a cell id of its own, and nothing
for what is not a note.
"""

from __future__ import annotations

import nbformat

from rustsync.grading import notes


def run(nb):
    nb, _ = notes.CellNotes().preprocess(nb, {})
    return nb


def test_add_keeps_notes_in_order_and_clear_drops_every_one():
    first, second = nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_markdown_cell("text")
    notes.add(first, "one")
    notes.add(first, "two")
    notes.add(second, "three")
    assert first.metadata[notes.KEY] == ["one", "two"] and second.metadata[notes.KEY] == ["three"]
    bare = {"cell_type": "raw", "source": ""}  # a cell with no metadata yet
    notes.add(bare, "four")
    assert bare["metadata"] == {notes.KEY: ["four"]}
    nb = nbformat.v4.new_notebook(cells=[first, second])
    notes.clear(nb)
    assert all(notes.KEY not in c.metadata for c in nb.cells)
    assert run(nb).cells == [first, second]


def test_a_code_cells_notes_are_its_first_output_lines_above_what_the_kernel_printed():
    code = nbformat.v4.new_code_cell("x = 2", outputs=[nbformat.v4.new_output("stream", name="stdout", text="2\n")])
    notes.add(code, "This cell is a copy.")
    notes.add(code, "It runs in its place.")
    nb = run(nbformat.v4.new_notebook(cells=[code]))
    assert len(nb.cells) == 1 and notes.KEY not in code.metadata
    assert [(o.name, o.text) for o in code.outputs] == [
        ("stdout", "Note from the grader: This cell is a copy.\nNote from the grader: It runs in its place.\n"),
        ("stdout", "2\n")]
    nbformat.validate(nb)


def test_a_markdown_cells_notes_are_an_escaped_markdown_cell_right_below_it():
    essay = nbformat.v4.new_markdown_cell("My answer", id="essay")
    after = nbformat.v4.new_code_cell("y = 1", id="after")
    notes.add(essay, "The copy `<b>` & <script>alert(1)</script> is not graded.")
    notes.add(essay, "Second.")
    nb = run(nbformat.v4.new_notebook(cells=[essay, after]))
    assert [c.id for c in nb.cells] == ["essay", "essay-note1", "after"]
    note = nb.cells[1]
    assert note.cell_type == "markdown" and "<script>" not in note.source
    assert note.source == ("> *Note from the grader: The copy `&lt;b&gt;` &amp; &lt;script&gt;alert(1)&lt;/script&gt; "
                           "is not graded.*\n\n> *Note from the grader: Second.*")
    nbformat.validate(nb)


def test_a_note_cell_gets_an_id_no_cell_has_and_none_where_cells_have_none():
    long_id = "c" * 64
    cells = [nbformat.v4.new_markdown_cell("a", id="a"), nbformat.v4.new_markdown_cell("taken", id="a-note1"),
             nbformat.v4.new_markdown_cell("b", id=long_id)]
    for made in (cells[0], cells[2]):
        notes.add(made, "noted")
    nb = run(nbformat.v4.new_notebook(cells=cells))
    assert [c.id for c in nb.cells] == ["a", "a-note2", "a-note1", long_id, f"{'c' * 48}-note1"]
    nbformat.validate(nb)

    old = nbformat.v4.new_markdown_cell("old")
    del old["id"]
    notes.add(old, "noted")
    nb = nbformat.v4.new_notebook()
    nb.nbformat_minor = 4  # before cell ids
    nb.cells = [old]
    nb = run(nb)
    assert [c.source for c in nb.cells] == ["old", "> *Note from the grader: noted*"] and "id" not in nb.cells[1]
    nbformat.validate(nb)


def test_what_is_not_a_list_of_texts_writes_nothing():
    odd = [nbformat.v4.new_code_cell("a"), nbformat.v4.new_code_cell("b"), nbformat.v4.new_markdown_cell("c")]
    odd[0].metadata[notes.KEY] = "you passed"
    odd[1].metadata[notes.KEY] = [3, None, "", {"text": "x"}]
    odd[2].metadata[notes.KEY] = [["nested"], "kept"]
    nb = run(nbformat.v4.new_notebook(cells=odd))
    assert odd[0].outputs == [] and odd[1].outputs == []
    assert [c.source for c in nb.cells] == ["a", "b", "c", "> *Note from the grader: kept*"]
    assert all(notes.KEY not in c.metadata for c in nb.cells)
