"""nbgrader's marker text in a student's cell (rustsync/grading/markers.py).

`holds_instructor_text` tells the cells whose text is the instructor's (locked cells,
autograder tests, an answer nbgrader put back from the gradebook) from the student's.
`ClearHiddenTestsInTests` clears hidden tests from the former only: an instructor's cell
with unbalanced markers shows nothing, a student's cell with marker text is shown as
written and the log says so, and nbgrader's put-back note is read from the course's settings.
"""

from __future__ import annotations

import logging

import nbformat
import pytest
from nbgrader.preprocessors import OverwriteCells
from traitlets.config import Config

from rustsync.grading.markers import ClearHiddenTestsInTests, holds_instructor_text

PUT_BACK = OverwriteCells.missing_cell_notification.default_value
HIDDEN = "### BEGIN HIDDEN TESTS\nsecret()\n### END HIDDEN TESTS"


def cell(source="x = 1", kind="code", **marks):
    made = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    if marks:
        made.metadata["nbgrader"] = marks
    return made


@pytest.mark.parametrize("marks", [
    {"grade_id": "setup", "locked": True, "grade": False, "solution": False},
    {"grade_id": "test_x", "locked": True, "grade": True, "solution": False, "points": 1},
    {"grade_id": "test_x", "locked": False, "grade": True, "solution": False, "points": 1},  # a test is one anyway
])
def test_locked_cells_and_tests_hold_the_instructors_text(marks):
    assert holds_instructor_text(cell(**marks))


@pytest.mark.parametrize("made", [
    cell(),  # a cell the student added
    cell(grade_id="answer", locked=False, grade=False, solution=True),
    cell("Mine", "markdown", grade_id="essay", locked=False, grade=True, solution=True, points=2),
    cell(locked=True, grade=True, solution=False),  # marks without a grade id
    cell(grade_id="", locked=True),
    nbformat.v4.new_code_cell("x", metadata={"nbgrader": ["not", "a", "dict"]}),
])
def test_answers_added_cells_and_odd_marks_hold_the_students_text(made):
    assert not holds_instructor_text(made)


def test_an_answer_put_back_from_the_gradebook_is_the_instructors_and_only_for_its_own_id():
    answer = {"grade_id": "answer", "locked": False, "grade": False, "solution": True}
    note = PUT_BACK.format(cell_id="answer")
    assert holds_instructor_text(cell(f"{note}\nraise NotImplementedError()", **answer))
    assert holds_instructor_text(cell(f"# {note}\nraise NotImplementedError()", **answer))  # as a comment
    assert not holds_instructor_text(cell(f"{PUT_BACK.format(cell_id='other')}\nx = 1", **answer))
    assert not holds_instructor_text(cell(f"x = 1\n{note}", **answer))  # quoted further down by the student
    custom = "Gone: {cell_id}. "
    assert holds_instructor_text(cell(custom.format(cell_id="answer") + "x", **answer), custom)
    assert not holds_instructor_text(cell(f"{note}\nx", **answer), custom)


def test_the_feedback_reads_the_put_back_note_from_the_courses_settings():
    config = Config()
    config.OverwriteCells.missing_cell_notification = "Put back ({cell_id}): "
    marks = {"grade_id": "answer", "locked": False, "grade": False, "solution": True}
    nb = nbformat.v4.new_notebook(cells=[cell(f"Put back (answer): \n{HIDDEN}", **marks),
                                         cell(f"{PUT_BACK.format(cell_id='answer')}\n{HIDDEN}", **marks)])
    nb, _ = ClearHiddenTestsInTests(config=config).preprocess(nb, {})
    assert nb.cells[0].source == "Put back (answer): "
    assert nb.cells[1].source.endswith(HIDDEN)  # the default note is no longer nbgrader's here


def test_unbalanced_markers_in_an_instructors_cell_show_none_of_it():
    test = {"grade_id": "test_x", "locked": True, "grade": True, "solution": False, "points": 1}
    nb = nbformat.v4.new_notebook(cells=[cell("visible()\n### BEGIN HIDDEN TESTS\nsecret()", **test),
                                         cell(f"visible()\n### BEGIN HIDDEN TESTS\n{HIDDEN}", **test)])  # nested
    nb, _ = ClearHiddenTestsInTests().preprocess(nb, {})
    assert [c.source for c in nb.cells] == ["", ""]


def test_marker_text_in_a_students_cell_is_logged_with_the_student_and_the_cell(caplog):
    nb = nbformat.v4.new_notebook(cells=[cell("x = 1"), cell("# ### END HIDDEN TESTS"), cell("y = 2"),
                                         cell("BEGIN HIDDEN TESTS in prose", "markdown")])
    log = logging.getLogger("test_markers")
    with caplog.at_level(logging.INFO, logger="test_markers"):
        nb, _ = ClearHiddenTestsInTests(log=log).preprocess(nb, {"nbgrader": {"student": "ann"}})
    said = [r.getMessage() for r in caplog.records]
    assert said == ["ann: cell #2 holds nbgrader's hidden-test marker text: it is shown as written",
                    "ann: cell #4 holds nbgrader's hidden-test marker text: it is shown as written"]
    assert nb.cells[1].source == "# ### END HIDDEN TESTS" and nb.cells[3].source == "BEGIN HIDDEN TESTS in prose"
