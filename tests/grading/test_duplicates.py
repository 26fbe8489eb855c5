"""A cell copied in JupyterLab (rustsync/grading/duplicates.py), sorted out against a small gradebook.

The gradebook, made with nbgrader's API in a temporary folder, records one notebook: a
locked setup cell, an answer cell, its test (with hidden tests) and a written answer. Of
the copies of a cell, the one graded is the one the student wrote in, then the one where
the instructor's notebook has the cell, then the first; every other copy becomes an
ordinary cell with a note, and a code copy that is still the release's text is commented
out. Marks of a cell the notebook does not have, or without a grade id, are dropped, and
every cell id ends up valid and unique.
"""

from __future__ import annotations

import copy
import logging

import nbformat
import pytest
from nbgrader.api import Gradebook

from rustsync.grading import notes
from rustsync.grading.duplicates import CopiedCells

SETUP = "from rustsync import Mutex"
STUB = "def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()"
TEST = "assert f() == 1\n### BEGIN HIDDEN TESTS\nassert f() != 2\n### END HIDDEN TESTS"
TEST_RELEASED = "assert f() == 1"
ESSAY = "YOUR ANSWER HERE"
MARKS = {
    "setup": {"grade": False, "grade_id": "setup", "locked": True, "solution": False},
    "answer": {"grade": False, "grade_id": "answer", "locked": False, "solution": True},
    "test_answer": {"grade": True, "grade_id": "test_answer", "locked": True, "points": 1, "solution": False},
    "essay": {"grade": True, "grade_id": "essay", "locked": False, "points": 2, "solution": True},
}


@pytest.fixture(scope="module")
def resources(tmp_path_factory):
    """The gradebook is only read here: one for the module (nbgrader takes seconds to make one)."""
    db_url = f"sqlite:///{tmp_path_factory.mktemp('course') / 'gradebook.db'}"
    with Gradebook(db_url) as gb:
        gb.add_assignment("a1")
        gb.add_notebook("a1", "a1")
        for name, kind, source in (("setup", "code", SETUP), ("answer", "code", STUB),
                                   ("test_answer", "code", TEST), ("essay", "markdown", ESSAY)):
            gb.add_source_cell(name, "a1", "a1", cell_type=kind, source=source, locked=MARKS[name]["locked"],
                               checksum="")
        gb.add_solution_cell("answer", "a1", "a1")
        gb.add_solution_cell("essay", "a1", "a1")
        gb.add_grade_cell("test_answer", "a1", "a1", max_score=1, cell_type="code")
        gb.add_grade_cell("essay", "a1", "a1", max_score=2, cell_type="markdown")
    return {"nbgrader": {"db_url": db_url, "notebook": "a1", "assignment": "a1", "student": "ann"}}


def graded(grade_id, source, kind="code", **extra):
    made = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    made.metadata["nbgrader"] = dict(MARKS[grade_id])
    made.metadata.update(extra)
    return made


def sort_out(cells, resources, caplog=None):
    nb = nbformat.v4.new_notebook(cells=cells)
    log = logging.getLogger("test_duplicates")
    if caplog is not None:
        caplog.set_level(logging.WARNING, logger="test_duplicates")
    nb, _ = CopiedCells(log=log).preprocess(nb, resources)
    nbformat.validate(nb)
    return nb


def grade_ids(nb):
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


def note(cell):
    [text] = cell.metadata[notes.KEY]
    return text


def test_the_copy_the_student_answered_in_is_graded_and_the_stub_is_commented_out(resources, caplog):
    answer = "def f():\n    return 1"
    nb = sort_out([graded("setup", SETUP), graded("answer", STUB, deletable=False, editable=True),
                   graded("answer", answer), graded("test_answer", TEST_RELEASED)], resources, caplog)
    assert grade_ids(nb) == ["setup", None, "answer", "test_answer"]
    stub = nb.cells[1]
    assert stub.source == "def f():\n#     # YOUR CODE HERE\n#     raise NotImplementedError()".replace(
        "def f():", "# def f():")
    assert set(stub.metadata) == {notes.KEY}  # no nbgrader marks, nor the locked and undeletable flags
    assert note(stub) == ("This cell is a copy of the cell `answer`: graded as an ordinary cell. The copy below is "
                          "the one graded as `answer`, and this copy is still the text as released, so the grader "
                          "does not run it (its lines are commented out here).")
    assert nb.cells[2].source == answer and notes.KEY not in nb.cells[2].metadata
    assert caplog.messages == ["ann: cell #2 is a copy of the cell `answer` (nbgrader's marks came with it): graded "
                               "as an ordinary cell, not run: it is the released text; cell #3 is graded as `answer`"]


def test_a_test_pasted_above_its_answer_is_not_the_one_graded(resources):
    answer = "def f():\n    return 1"
    nb = sort_out([graded("test_answer", TEST_RELEASED), graded("setup", SETUP), graded("answer", answer),
                   graded("test_answer", TEST_RELEASED)], resources)
    assert grade_ids(nb) == [None, "setup", "answer", "test_answer"]
    assert nb.cells[0].source == "# assert f() == 1"  # the release's text (hidden tests out) is not run twice
    assert "The copy below is the one graded as `test_answer`" in note(nb.cells[0])


def test_of_two_answered_copies_the_first_is_graded_and_the_other_runs_in_its_place(resources, caplog):
    first, second = "def f():\n    return 1", "def f():\n    return 2"
    nb = sort_out([graded("answer", first), graded("answer", second)], resources, caplog)
    assert grade_ids(nb) == ["answer", None]
    assert nb.cells[1].source == second  # a later definition wins, as in the student's kernel
    assert note(nb.cells[1]) == ("This cell is a copy of the cell `answer`: graded as an ordinary cell. The copy "
                                 "above is the one graded as `answer`; this copy runs in its place like any cell "
                                 "of yours.")
    assert "it runs in its place; cell #1 is graded as `answer`" in caplog.text


def test_a_written_answer_is_graded_where_it_is_markdown_and_its_other_copies_are_not_graded(resources, caplog):
    nb = sort_out([graded("essay", "Because.", kind="code"), graded("essay", "Mine, as released?", kind="markdown"),
                   graded("essay", ESSAY, kind="markdown")], resources, caplog)
    assert grade_ids(nb) == [None, "essay", None]  # a copy of the wrong kind comes last
    assert [c.source for c in nb.cells] == ["Because.", "Mine, as released?", ESSAY]
    assert note(nb.cells[2]) == ("This cell is a copy of the cell `essay`: graded as an ordinary cell. The copy above "
                                 "is the one graded as `essay`.")
    assert "its text is not graded; cell #2 is graded as `essay`" in caplog.text


def test_marks_of_a_cell_this_notebook_lacks_or_without_a_grade_id_are_dropped(resources, caplog):
    foreign = graded("answer", "x = 1")
    foreign.metadata["nbgrader"]["grade_id"] = "from another notebook`<b>"
    nameless = graded("answer", "y = 1")
    del nameless.metadata["nbgrader"]["grade_id"]
    junk = nbformat.v4.new_code_cell("z = 1", metadata={"nbgrader": "not marks", "editable": False})
    nb = sort_out([foreign, nameless, junk, graded("answer", STUB)], resources, caplog)
    assert grade_ids(nb) == [None, None, None, "answer"]
    assert note(nb.cells[0]) == ("This cell carries the nbgrader marks of a cell `from?another?notebook??b?` that this "
                                 "notebook does not have (copied from another notebook?): graded as an ordinary cell.")
    for cell in nb.cells[1:3]:
        assert note(cell) == "This cell carries nbgrader's marks without a grade id: graded as an ordinary cell."
        assert set(cell.metadata) == {notes.KEY}
    assert "ann: cell #1: this cell carries the nbgrader marks of a cell `from?another" in caplog.text


def test_every_cell_id_ends_up_valid_and_used_once(resources):
    cells = [graded("answer", "x = 1"), graded("answer", "x = 2"), nbformat.v4.new_code_cell("pass"),
             nbformat.v4.new_code_cell("pass"), nbformat.v4.new_code_cell("pass")]
    cells[0]["id"] = cells[1]["id"] = "same"
    cells[2]["id"] = "same-copy1"
    cells[3]["id"] = "not valid!"
    cells[4]["id"] = "x" * 80
    nb = nbformat.v4.new_notebook()
    nb.cells = copy.deepcopy(cells)  # ids as a submission holds them, before any validation
    nb, _ = CopiedCells().preprocess(nb, resources)
    assert [c["id"] for c in nb.cells] == ["same", "same-copy2", "same-copy1", "notvalid-copy1", f"{'x' * 48}-copy1"]
    nbformat.validate(nb)
