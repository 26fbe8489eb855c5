"""nbgrader's side of the course's grading (rustsync/grading/hooks.py), piece by piece, without a grading run.

What goes into the graded notebook: the test cells as the kernel runs them (hidden tests
out), the grader's decisions written in their place, notes, and outputs cut to a size a
feedback page can show. Where the course's preprocessors go in nbgrader's lists. A course
that cannot grade refuses, once and for all its notebooks. And collect, which never
follows a link a student left in the exchange.
"""

from __future__ import annotations

import json
import logging
import os

import nbformat
import pytest
from nbgrader.converters.base import NbGraderException
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

from rustsync import sandbox
from rustsync.grading import hooks
from rustsync.grading.duplicates import CopiedCells
from rustsync.grading.notes import CellNotes
from rustsync.grading.runner import Cell, Part

HIDDEN = "visible()\n### BEGIN HIDDEN TESTS\nsecret()\n### END HIDDEN TESTS\nafter()"


def test_a_test_cell_is_run_in_the_kernel_without_its_hidden_tests():
    assert hooks.without_hidden_tests(HIDDEN) == "visible()\nafter()"
    assert hooks.without_hidden_tests("plain()") == "plain()"
    assert hooks.without_hidden_tests("### BEGIN HIDDEN TESTS\nsecret()") == ""  # unbalanced: none of it


def test_a_long_text_keeps_its_head_and_tail_and_says_how_much_was_left_out():
    short = "x" * hooks.MAX_TEXT
    assert hooks._cap(short) is short
    left_out = 123_456
    text = "h" * (hooks.MAX_TEXT // 2) + "-" * left_out + "t" * 2000
    capped = hooks._cap(text)
    assert capped.startswith("h" * (hooks.MAX_TEXT // 2) + "\n") and capped.endswith("\n" + "t" * 2000)
    assert f"... [{left_out:,} characters left out by the grader] ..." in capped and "-" not in capped


def test_a_cells_outputs_are_cut_to_what_a_feedback_page_can_show():
    many = nbformat.v4.new_code_cell("print", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text=f"{i}\n") for i in range(hooks.MAX_OUTPUTS + 7)])
    huge = nbformat.v4.new_code_cell("show", outputs=[
        nbformat.v4.new_output("execute_result", data={"text/html": "<b>" * (4 * hooks.MAX_TEXT),
                                                       "text/plain": "x"}),
        nbformat.v4.new_output("execute_result", data={"text/plain": ["y" * hooks.MAX_TEXT, "z" * 10]}),
        nbformat.v4.new_output("stream", name="stdout", text=["a" * hooks.MAX_TEXT, "b" * 10])])
    nb = nbformat.v4.new_notebook(cells=[many, huge, nbformat.v4.new_markdown_cell("text")])
    hooks._cap_outputs(nb)
    assert len(many.outputs) == hooks.MAX_OUTPUTS + 1
    assert many.outputs[-2].text == f"{hooks.MAX_OUTPUTS - 1}\n"
    assert many.outputs[-1].text == "... [7 more outputs left out by the grader]\n"
    assert huge.outputs[0].data == {"text/plain": f"[an output of {3 * 4 * hooks.MAX_TEXT:,} characters left out by "
                                                  "the grader]"}
    plain, stream = huge.outputs[1].data["text/plain"], huge.outputs[2].text  # lines joined, then cut
    assert plain.startswith("y" * 100) and plain.endswith("z" * 10) and "characters left out" in plain
    assert stream.startswith("a" * 100) and stream.endswith("b" * 10) and "characters left out" in stream
    nbformat.validate(nb)


def graded_notebook():
    def test(grade_id, source="check()"):
        return nbformat.v4.new_code_cell(source, metadata={"nbgrader": {
            "grade": True, "solution": False, "locked": True, "grade_id": grade_id, "points": 1}}, outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="the kernel's own verdict\n")])

    answer = nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {"grade": False, "solution": True,
                                                                       "grade_id": "answer"}},
                                       outputs=[nbformat.v4.new_output("stream", name="stdout", text="1\n")])
    return nbformat.v4.new_notebook(cells=[answer, test("passes"), test("fails"), test("undecided"), test("blank"),
                                           test("passes", "copy of a test")])


def test_each_test_cell_shows_the_graders_decision_and_nothing_the_kernel_said():
    nb = graded_notebook()
    decided = {"passes": Part("passes", True, ""), "fails": Part("fails", False, "  the count can be 1  "),
               "blank": Part("blank", False, "")}
    cells = [Cell("student", "x = 1", "Cell In[2]", index=0)]
    hooks.TrustedExecute()._write_decisions(nb, decided, {0: ["it defines `x` again", "and again"]}, cells)
    answer, passes, fails, undecided, blank, copy = nb.cells
    assert [o.text for o in answer.outputs] == [
        "Note from the grader on Cell In[2]: it defines `x` again\nNote from the grader on Cell In[2]: and again\n",
        "1\n"]
    assert [o.text for o in passes.outputs] == [hooks.PASSED]
    assert [(o.output_type, o.ename, o.evalue, o.traceback) for o in fails.outputs] == [
        ("error", "AssertionError", "the count can be 1", ["AssertionError: the count can be 1"])]
    assert undecided.outputs[0].evalue == "the grader could not run this test"
    assert blank.outputs[0].evalue == "the test failed"
    assert copy.outputs[0].text == "the kernel's own verdict\n"  # one cell per grade id is written
    nbformat.validate(nb)


def test_a_kernel_that_stopped_says_so_under_the_last_cell_it_ran():
    nb = graded_notebook()
    nb.cells[2].outputs, nb.cells[3].outputs, nb.cells[4].outputs, nb.cells[5].outputs = [], [], [], []
    hooks.TrustedExecute._note_stopped(nb, TimeoutError("too slow"))
    said = nb.cells[1].outputs[-1].text
    assert said.startswith("The notebook's kernel stopped here (TimeoutError)") and "scores do not depend" in said


def test_the_course_grader_takes_executes_place_and_its_notes_come_right_after():
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import DeduplicateIds, Execute, OverwriteCells

    default = Autograde.class_traits()["autograde_preprocessors"].default()
    ours = hooks.autograde_preprocessors()
    at = default.index(Execute)
    assert ours == default[:at] + [hooks.TrustedExecute, CellNotes] + default[at + 1:]
    default = Autograde.class_traits()["sanitize_preprocessors"].default()
    swapped = {OverwriteCells: hooks.QuietOverwriteCells, DeduplicateIds: CopiedCells}
    assert hooks.sanitize_preprocessors() == [swapped.get(p, p) for p in default]


def test_an_nbgrader_that_changed_its_lists_is_met_with_a_refusal_or_copies_still_sorted_first(monkeypatch):
    import nbgrader.preprocessors

    monkeypatch.setattr(nbgrader.preprocessors, "Execute", type("Other", (), {}))
    with pytest.raises(sandbox.SandboxError, match="autogrades without its `Execute` preprocessor"):
        hooks.autograde_preprocessors()
    monkeypatch.setattr(nbgrader.preprocessors, "DeduplicateIds", type("Gone", (), {}))
    ours = hooks.sanitize_preprocessors()
    assert ours.index(CopiedCells) == ours.index(hooks.QuietOverwriteCells) - 1


def test_a_course_without_the_instructors_notebook_refuses_at_once_and_from_then_on(tmp_path, monkeypatch):
    monkeypatch.setattr(hooks.TrustedExecute, "_refusals", {})
    monkeypatch.setattr(hooks.TrustedExecute, "_warned_root", True)
    config = Config()
    config.CourseDirectory.root = str(tmp_path)
    execute = hooks.TrustedExecute(config=config)
    resources = {"nbgrader": {"assignment": "a1", "notebook": "a1", "student": "ann"}}
    with pytest.raises(NbGraderException, match=r"the instructor's notebook \S+/source/(\./)?a1/a1\.ipynb is missing: "
                                                "the grader takes the locked cells and the hidden tests from there"):
        execute.preprocess(graded_notebook(), resources)
    (tmp_path / "source" / "a1").mkdir(parents=True)
    nbformat.write(graded_notebook(), tmp_path / "source" / "a1" / "a1.ipynb")
    with pytest.raises(NbGraderException, match="is missing"):  # decided once for the course: no other try
        hooks.TrustedExecute(config=config).preprocess(graded_notebook(), resources)
    other = Config()
    other.CourseDirectory.root = str(tmp_path / "elsewhere")
    assert hooks.TrustedExecute(config=other)._course_key() not in hooks.TrustedExecute._refusals


def test_collect_copies_plain_files_and_folders_and_never_follows_a_link(tmp_path, caplog):
    secret = tmp_path / "gradebook.db"
    secret.write_text("the grader's")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "other.ipynb").write_text("another student's")
    src = tmp_path / "inbound"
    (src / "data").mkdir(parents=True)
    (src / "a1.ipynb").write_text("{}")
    (src / "data" / "input.csv").write_text("1,2")
    (src / "gradebook.db").symlink_to(secret)
    (src / "data" / "theirs").symlink_to(tmp_path / "outside", target_is_directory=True)
    log = logging.getLogger("test_collect")
    collect = hooks.SafeCollect(coursedir=CourseDirectory(), log=log)
    with caplog.at_level(logging.WARNING, logger="test_collect"):
        collect.do_copy(str(src), str(tmp_path / "submitted"))
    copied = sorted(str(p.relative_to(tmp_path / "submitted")) for p in (tmp_path / "submitted").rglob("*"))
    assert copied == ["a1.ipynb", "data", "data/input.csv"]
    assert not any(p.is_symlink() for p in (tmp_path / "submitted").rglob("*"))
    for name in ("gradebook.db", "data/theirs"):
        assert f"Left out of the submission: {name} is not a plain file" in caplog.text
    assert secret.read_text() == "the grader's"


def test_collect_leaves_out_a_named_pipe_and_a_socket_and_copies_the_rest(tmp_path, caplog):
    import socket

    src = tmp_path / "inbound"
    (src / "deep").mkdir(parents=True)
    (src / "a1.ipynb").write_text("{}")
    (src / "deep" / "notes.txt").write_text("mine")
    os.mkfifo(src / "pipe")
    os.mkfifo(src / "deep" / "pipe")
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(src / "sock"))
        log = logging.getLogger("test_collect_odd")
        collect = hooks.SafeCollect(coursedir=CourseDirectory(), log=log)
        with caplog.at_level(logging.WARNING, logger="test_collect_odd"):
            collect.do_copy(str(src), str(tmp_path / "submitted"))
    finally:
        server.close()
    copied = sorted(str(p.relative_to(tmp_path / "submitted")) for p in (tmp_path / "submitted").rglob("*"))
    assert copied == ["a1.ipynb", "deep", "deep/notes.txt"]
    for name in ("pipe", "deep/pipe", "sock"):
        assert f"Left out of the submission: {name} is not a plain file" in caplog.text


def test_hide_test_tracebacks_keeps_the_last_line_of_test_cells_only():
    def code(grade, solution, traceback):
        return nbformat.v4.new_code_cell("x", metadata={"nbgrader": {"grade": grade, "solution": solution}},
                                         outputs=[nbformat.v4.new_output("error", ename="AssertionError",
                                                                         evalue="wrong", traceback=traceback)])

    nb = nbformat.v4.new_notebook(cells=[code(True, False, ["Cell In[3]", "secret()", "AssertionError: wrong"]),
                                         code(False, True, ["Cell In[2]", "student()", "ValueError"])])
    nb, _ = hooks.hide_test_tracebacks(nb, {})
    assert nb.cells[0].outputs[0].traceback == ["AssertionError: wrong"]
    assert nb.cells[1].outputs[0].traceback == ["Cell In[2]", "student()", "ValueError"]
    json.dumps(nb)  # still a valid notebook node
