"""One odd cell costs only itself: copied cells and nbgrader's marker text, graded end to end.

A cell copied in JupyterLab keeps its nbgrader marks, so a submission can hold two cells
with one grade id; nbgrader alone then grades nothing of it (`KeyError: 'grade_id'`). Here
one copy is graded, the others are ordinary cells with a note under them
(rustsync/grading/duplicates.py), whichever copy the student answered in. A student's cell
that quotes nbgrader's markers ("### BEGIN HIDDEN TESTS", "### END SOLUTION"), in a
comment, a string or a written answer, made `generate_feedback` fail; here it is shown as
written, and the hidden tests stay hidden (rustsync/grading/markers.py).

One temporary course holds a01_mutexes and the submissions below, put straight into
submitted/; one `nbgrader autograde` and one `nbgrader generate_feedback` grade them all,
with HOME, the exchange and Jupyter's folders inside one temporary folder that is removed
at the end. Each submission answers every part right, so every other part must get its
points.

SLOW: the grading run takes about half a minute; every test here shares it.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from rustsync.grading import run_nbgrader

pytestmark = [pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning"),
              pytest.mark.filterwarnings("ignore::nbformat.validator.MissingIDFieldWarning")]

ROOT = Path(__file__).resolve().parents[1]
COURSE = "rust-shared-state"
A01 = "a01_mutexes"
SOURCE = nbformat.read(ROOT / "source" / A01 / f"{A01}.ipynb", as_version=4)
POINTS = {c.metadata.nbgrader["grade_id"]: float(c.metadata.nbgrader["points"]) for c in SOURCE.cells
          if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata.nbgrader.get("solution")}

ANSWERS = {
    "drawn_counts": "drawn_counts = (1, 2, 3)",
    "fixed_worker": ("def fixed_worker(counter, times):\n"
                     "    for _ in range(times):\n"
                     "        with counter.lock() as count:\n"
                     "            count.value += 1"),
    "lost_update_schedule": "lost_update_schedule = [1, 2, 1, 2]",
    "two_rules": "Only the guard reaches the data, and dropping the guard unlocks.",
}
RACY = ("def fixed_worker(counter, times):\n"
        "    for _ in range(times):\n"
        "        with counter.lock() as count:\n"
        "            seen = count.value\n"
        "        with counter.lock() as count:\n"
        "            count.value = seen + 1")
NOTE = "a copy of the cell `{}`: graded as an ordinary cell"


# --- building the submissions from the release ----------------------------------------------------------


def grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def at(nb, wanted):
    """The index of the (first) cell with grade id `wanted`."""
    return next(i for i, cell in enumerate(nb.cells) if grade_id(cell) == wanted)


def answered(release, **changes):
    """The release with every part answered right, then `changes` ({grade_id: source}) applied."""
    nb = copy.deepcopy(release)
    for wanted, source in {**ANSWERS, **changes}.items():
        nb.cells[at(nb, wanted)].source = source
    return nb


def paste(nb, wanted, index, source=None):
    """JupyterLab's copy and paste of the cell `wanted` to position `index`: its metadata comes along."""
    cell = copy.deepcopy(nb.cells[at(nb, wanted)])
    cell["id"] = f"pasted-{len(nb.cells)}"
    if source is not None:
        cell.source = source
    nb.cells.insert(index, cell)
    return nb


def stub(release, wanted):
    """The release's text of the cell `wanted`."""
    return release.cells[at(release, wanted)].source


def answer_in_the_copy_below(release):
    # copied the empty answer cell, pasted it below (JupyterLab's default) and answered there
    nb = answered(release, fixed_worker=stub(release, "fixed_worker"))
    return paste(nb, "fixed_worker", at(nb, "fixed_worker") + 1, ANSWERS["fixed_worker"])


def answer_in_the_copy_above(release):
    # pasted above and answered there: the release's stub, run after it, would undo the answer
    nb = answered(release, fixed_worker=stub(release, "fixed_worker"))
    return paste(nb, "fixed_worker", at(nb, "fixed_worker"), ANSWERS["fixed_worker"])


def old_attempt_kept(release):
    # a racy first try kept in the original cell, the right one in a copy below it: the later one counts
    nb = answered(release, fixed_worker=RACY)
    return paste(nb, "fixed_worker", at(nb, "fixed_worker") + 1, ANSWERS["fixed_worker"])


def copied_tests(release):
    # a test cell pasted below itself, another one at the top of the notebook, before what it tests
    nb = answered(release)
    paste(nb, "test_drawn_counts", at(nb, "test_drawn_counts") + 1)
    return paste(nb, "test_fixed_worker", 0)


def written_answer_in_a_copy(release):
    nb = answered(release, two_rules=stub(release, "two_rules"))
    return paste(nb, "two_rules", at(nb, "two_rules") + 1, ANSWERS["two_rules"])


def foreign_marks(release):
    # a cell copied from another assignment's notebook, and marks without a grade id
    nb = answered(release)
    stranger = nbformat.v4.new_code_cell("helper = 1", id="from-a03")
    stranger.metadata["nbgrader"] = {"grade": False, "grade_id": "count_with_arc", "locked": False,
                                     "schema_version": 3, "solution": True}
    blank = nbformat.v4.new_code_cell("other = 2", id="no-grade-id")
    blank.metadata["nbgrader"] = {"solution": True}
    nb.cells[at(nb, "fixed_worker"):at(nb, "fixed_worker")] = [stranger, blank]
    return nb


MARKED_COMMENT = ("def fixed_worker(counter, times):\n"
                  "    # ### BEGIN HIDDEN TESTS: I wonder what they check\n"
                  "    for _ in range(times):\n"
                  "        with counter.lock() as count:\n"
                  "            count.value += 1")
MARKED_SOLUTION = "### BEGIN SOLUTION\nlost_update_schedule = [1, 2, 1, 2]\n### END SOLUTION"
MARKED_STRINGS = ('drawn_counts = (1, 2, 3)\nbegin = "### BEGIN HIDDEN TESTS"\nbetween = "kept as written"\n'
                  'end = "### END HIDDEN TESTS"')
MARKED_MARKDOWN = ("Only the guard reaches the data.\n\n### BEGIN HIDDEN TESTS\n"
                   "My guess at the hidden tests: they count to four.\n### END HIDDEN TESTS\n\n"
                   "### BEGIN SOLUTION\nDropping the guard unlocks.\n### END SOLUTION")


def markers_in_code(release):
    nb = answered(release, fixed_worker=MARKED_COMMENT, lost_update_schedule=MARKED_SOLUTION,
                  drawn_counts=MARKED_STRINGS)
    index = at(nb, "drawn_counts") + 1
    nb.cells.insert(index, nbformat.v4.new_code_cell("print(begin)\nprint(between)", id="prints-markers"))
    return nb


def markers_in_a_written_answer(release):
    nb = answered(release, two_rules=MARKED_MARKDOWN)
    # an unfinished marker in a markdown cell of the student's own, too
    nb.cells.insert(at(nb, "two_rules") + 1, nbformat.v4.new_markdown_cell("Note to self: ### BEGIN HIDDEN TESTS",
                                                                           id="own-note"))
    return nb


def odd_python(release):
    """A syntax error in a cell of the student's own, cell and line magics, `nonlocal`: ordinary notebook habits."""
    nb = answered(release, drawn_counts="%%time\ndrawn_counts = (1, 2, 3)", fixed_worker=(
        "%matplotlib inline\n"
        "def fixed_worker(counter, times):\n"
        "    done = 0\n"
        "    def one():\n"
        "        nonlocal done\n"
        "        with counter.lock() as count:\n"
        "            count.value += 1\n"
        "        done += 1\n"
        "    for _ in range(times):\n"
        "        one()"))
    nb.cells.insert(at(nb, "drawn_counts") + 1, nbformat.v4.new_code_cell("scratch = [1, 2,\n# unfinished: a "
                                                                          "syntax error", id="broken-scratch"))
    return nb


SUBMISSIONS = {  # student id: how their notebook differs from the release, every part answered right
    "odd-python": odd_python,
    "answer-in-copy-below": answer_in_the_copy_below,
    "answer-in-copy-above": answer_in_the_copy_above,
    "old-attempt-kept": old_attempt_kept,
    "copied-tests": copied_tests,
    "written-answer-in-copy": written_answer_in_a_copy,
    "foreign-marks": foreign_marks,
    "markers-in-code": markers_in_code,
    "markers-in-written-answer": markers_in_a_written_answer,
}


# --- grading them ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graded():
    base = Path(tempfile.mkdtemp(prefix="rustsync-odd-cells-"))
    try:
        course, home = base / "course", base / "home"
        course.mkdir()
        home.mkdir()
        shutil.copy(ROOT / "nbgrader_config.py", course)
        with open(course / "nbgrader_config.py", "a") as config:  # rustsync leads to the repository: hide it
            config.write(f"\nc.SandboxedKernelManager.hide = [{str(ROOT)!r}]\n")
        (course / "source").mkdir()
        shutil.copytree(ROOT / "source" / A01, course / "source" / A01)
        env = {**os.environ, "HOME": str(home), "NBGRADER_EXCHANGE": str(base / "exchange"),
               "JUPYTER_CONFIG_DIR": str(home / ".jupyter"), "JUPYTER_DATA_DIR": str(home / ".local"),
               "IPYTHONDIR": str(home / ".ipython")}
        run_nbgrader("generate_assignment", A01, cwd=course, env=env)
        release = nbformat.read(course / "release" / A01 / f"{A01}.ipynb", as_version=4)
        for student, make in SUBMISSIONS.items():
            folder = course / "submitted" / student / A01
            folder.mkdir(parents=True)
            nbformat.write(make(release), folder / f"{A01}.ipynb")
        log = run_nbgrader("autograde", A01, cwd=course, env=env)
        feedback_log = run_nbgrader("generate_feedback", A01, cwd=course, env=env)
        yield {"course": course, "log": log, "feedback_log": feedback_log, "release": release}
    finally:
        shutil.rmtree(base, ignore_errors=True)


def grades(graded, student):
    """{grade_id: (score, needs_manual_grade)} of a student's notebook."""
    with Gradebook(f"sqlite:///{graded['course'] / 'gradebook.db'}", COURSE) as gb:
        notebook = gb.find_submission(A01, student).notebooks[0]
        return {g.name: (g.score, g.needs_manual_grade) for g in notebook.grades}


def autograded(graded, student):
    return nbformat.read(graded["course"] / "autograded" / student / A01 / f"{A01}.ipynb", as_version=4)


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts, self.hidden = [], 0

    def handle_starttag(self, tag, attrs):
        self.hidden += tag in ("style", "script")

    def handle_endtag(self, tag):
        self.hidden -= tag in ("style", "script")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def feedback(graded, student):
    """A student's feedback page as a browser shows it: its text."""
    parser = _Text()
    parser.feed((graded["course"] / "feedback" / student / A01 / f"{A01}.html").read_text())
    return re.sub(r"[ \t]+", " ", "".join(parser.parts))


def outputs(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", []))


def hidden_test_lines():
    lines = []
    for cell in SOURCE.cells:
        for region in cell.source.split("### BEGIN HIDDEN TESTS")[1:]:
            lines += [line.strip() for line in region.split("### END HIDDEN TESTS")[0].splitlines()
                      if len(line.strip()) >= 12]
    return lines


# --- every submission -----------------------------------------------------------------------------------


@pytest.mark.parametrize("student", SUBMISSIONS)
def test_every_part_gets_its_points_and_the_feedback_shows_no_hidden_test(graded, student):
    got = grades(graded, student)
    assert {part: got[part][0] for part in POINTS} == POINTS
    page = feedback(graded, student)
    lines = hidden_test_lines()
    assert len(lines) >= 3 and [line for line in lines if line in page] == []
    # each graded cell once, in the instructor's order
    ids = [grade_id(c) for c in autograded(graded, student).cells if grade_id(c)]
    assert ids == [grade_id(c) for c in graded["release"].cells if grade_id(c)]


# --- copied cells -----------------------------------------------------------------------------------------


def the_copy(graded, student, source_part):
    """The cells of the graded notebook that hold `source_part` and carry no nbgrader marks."""
    return [c for c in autograded(graded, student).cells if c.cell_type == "code" and source_part in c.source
            and "nbgrader" not in c.metadata]


@pytest.mark.parametrize("student", ["answer-in-copy-below", "answer-in-copy-above"])
def test_the_copy_the_student_answered_in_is_graded_and_the_released_stub_is_not_run(graded, student):
    nb = autograded(graded, student)
    assert nb.cells[at(nb, "fixed_worker")].source == ANSWERS["fixed_worker"]
    (stub_copy,) = the_copy(graded, student, "raise NotImplementedError()")
    assert all(line.startswith("#") for line in stub_copy.source.splitlines() if line.strip())
    where = "below" if student.endswith("below") else "above"
    note = outputs(stub_copy)
    assert NOTE.format("fixed_worker") in note and f"The copy {where} is the one graded" in note
    assert "does not run it" in note
    assert NOTE.format("fixed_worker") in feedback(graded, student)
    assert re.search(fr"{student}: cell #\d+ is a copy of the cell `fixed_worker` .*graded as an ordinary cell, "
                     "not run", graded["log"])


def test_an_edited_copy_runs_in_its_place_so_the_later_definition_wins(graded):
    student = "old-attempt-kept"
    nb = autograded(graded, student)
    assert nb.cells[at(nb, "fixed_worker")].source == RACY  # the first is graded; both ran, in order
    (later,) = the_copy(graded, student, ANSWERS["fixed_worker"])
    assert "runs in its place like any cell of yours" in outputs(later)
    assert NOTE.format("fixed_worker") in feedback(graded, student)
    assert re.search(fr"{student}: cell #\d+ is a copy of the cell `fixed_worker` .*it runs in its place",
                     graded["log"])


def test_copied_test_cells_are_graded_where_the_instructor_put_them(graded):
    student = "copied-tests"
    nb = autograded(graded, student)
    assert at(nb, "test_fixed_worker") > at(nb, "fixed_worker")  # not the copy pasted at the top
    page = feedback(graded, student)
    for part in ("test_drawn_counts", "test_fixed_worker"):
        (copied,) = [c for c in nb.cells if not grade_id(c) and NOTE.format(part) in outputs(c)]
        assert "nbgrader" not in copied.metadata and copied.source.startswith("# ")  # the release's text: not run
        assert NOTE.format(part) in page
    assert NOTE.format("test_fixed_worker") in outputs(nb.cells[0])
    assert "The copy below is the one graded as `test_fixed_worker`" in outputs(nb.cells[0])


def test_a_written_answer_in_a_copy_waits_for_the_grader_with_the_note_beside_the_original(graded):
    student = "written-answer-in-copy"
    assert grades(graded, student)["two_rules"] == (0, True)  # waits for a human, not left as unanswered
    nb = autograded(graded, student)
    graded_at = at(nb, "two_rules")
    assert nb.cells[graded_at].source == ANSWERS["two_rules"]
    original, note = nb.cells[graded_at - 2], nb.cells[graded_at - 1]
    assert original.source == stub(graded["release"], "two_rules") and "nbgrader" not in original.metadata
    assert note.cell_type == "markdown" and NOTE.format("two_rules") in note.source
    assert "The copy below is the one graded as `two_rules`" in note.source
    assert NOTE.format("two_rules").replace("`", "") in feedback(graded, student)  # markdown: `x` shows as x


def test_marks_of_a_cell_this_notebook_lacks_make_an_ordinary_cell(graded):
    student = "foreign-marks"
    nb = autograded(graded, student)
    stranger = next(c for c in nb.cells if c.source == "helper = 1")
    blank = next(c for c in nb.cells if c.source == "other = 2")
    assert "nbgrader" not in stranger.metadata and "nbgrader" not in blank.metadata
    assert "marks of a cell `count_with_arc` that this notebook does not have" in outputs(stranger)
    assert "nbgrader's marks without a grade id" in outputs(blank)
    page = feedback(graded, student)
    assert "count_with_arc" in page and "without a grade id" in page


def test_a_submission_cannot_write_a_note_of_its_own(graded):
    # the notes wait in the cell's metadata between sanitizing and writing: none is left in a graded notebook
    for student in SUBMISSIONS:
        assert not any("rustsync_notes" in c.metadata for c in autograded(graded, student).cells)


# --- marker text --------------------------------------------------------------------------------------------


def test_markers_in_comments_and_strings_are_shown_as_written(graded):
    student = "markers-in-code"
    page = feedback(graded, student)
    for line in ("# ### BEGIN HIDDEN TESTS: I wonder what they check", 'begin = "### BEGIN HIDDEN TESTS"',
                 'between = "kept as written"', 'end = "### END HIDDEN TESTS"', "### BEGIN SOLUTION",
                 "### END SOLUTION"):
        assert line in page, line
    nb = autograded(graded, student)
    printed = next(c for c in nb.cells if c.get("id") == "prints-markers")
    assert outputs(printed) == "### BEGIN HIDDEN TESTS\nkept as written\n"  # the kernel ran them as written
    assert f"{student}: cell #" in graded["feedback_log"] and "shown as written" in graded["feedback_log"]


def test_markers_in_a_written_answer_are_shown_as_written_and_it_waits_for_the_grader(graded):
    student = "markers-in-written-answer"
    assert grades(graded, student)["two_rules"] == (0, True)  # waits for a human
    page = feedback(graded, student)
    for text in ("Only the guard reaches the data.", "BEGIN HIDDEN TESTS", "My guess at the hidden tests",
                 "END HIDDEN TESTS", "Dropping the guard unlocks.", "Note to self: ### BEGIN HIDDEN TESTS"):
        assert text in page, text


def test_only_the_course_s_test_cells_hold_hidden_tests():
    # what markers.py relies on: the feedback clears hidden tests from the instructor's cells only
    for path in sorted((ROOT / "source").glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if "HIDDEN TESTS" in cell.source:
                assert cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"), path.name


# --- the pieces, without nbgrader's run -------------------------------------------------------------------


def test_feedback_clears_hidden_tests_from_the_instructor_s_cells_only():
    from nbgrader.preprocessors import OverwriteCells

    from rustsync.grading.markers import ClearHiddenTestsInTests

    def graded_cell(cell, **marks):
        cell.metadata["nbgrader"] = {"grade": False, "solution": False, "locked": False, **marks}
        return cell

    hidden = "### BEGIN HIDDEN TESTS\nsecret()\n### END HIDDEN TESTS"
    put_back = OverwriteCells.missing_cell_notification.default_value.format(cell_id="essay")
    nb = nbformat.v4.new_notebook(cells=[
        graded_cell(nbformat.v4.new_code_cell(f"visible()\n{hidden}"), grade=True, locked=True, grade_id="t",
                    points=1),
        graded_cell(nbformat.v4.new_code_cell("# ### BEGIN HIDDEN TESTS, mine"), solution=True, grade_id="a"),
        graded_cell(nbformat.v4.new_markdown_cell(f"{put_back}Why?\n{hidden}"), grade=True, solution=True,
                    grade_id="essay", points=1),  # nbgrader put it back from the gradebook
        graded_cell(nbformat.v4.new_markdown_cell(f"Mine:\n{hidden}"), grade=True, solution=True, grade_id="b",
                    points=1),
        nbformat.v4.new_markdown_cell("### END HIDDEN TESTS, alone"),
    ])
    nb, _ = ClearHiddenTestsInTests().preprocess(nb, {})
    assert [c.source for c in nb.cells] == ["visible()", "# ### BEGIN HIDDEN TESTS, mine", f"{put_back}Why?",
                                            f"Mine:\n{hidden}", "### END HIDDEN TESTS, alone"]


def test_without_the_gradebook_the_first_copy_is_graded_and_each_note_is_written_below_its_cell():
    from rustsync.grading.duplicates import CopiedCells
    from rustsync.grading.notes import CellNotes

    marks = {"grade": False, "grade_id": "answer", "locked": False, "schema_version": 3, "solution": True}
    first = nbformat.v4.new_code_cell("x = 1", id="same")
    second = nbformat.v4.new_code_cell("x = 2", id="other")
    essay = nbformat.v4.new_markdown_cell("Why", id="essay")
    for cell in (first, second):
        cell.metadata.update(nbgrader=dict(marks), deletable=False)
    essay.metadata["nbgrader"] = {"grade": True, "grade_id": "essay", "points": 1, "solution": True}
    copied = copy.deepcopy(essay)
    copied["id"] = "essay-2"
    forged = nbformat.v4.new_code_cell("y = 1", id="forged", metadata={"rustsync_notes": ["you passed"]})
    nb = nbformat.v4.new_notebook(cells=[first, second, essay, copied, forged])
    nb.cells[1]["id"] = "same"  # a copy that kept the cell id, too
    nb, _ = CopiedCells().preprocess(nb, {"nbgrader": {"student": "s"}})
    assert [grade_id(c) for c in nb.cells] == ["answer", None, "essay", None, None]
    assert nb.cells[1].metadata == {"rustsync_notes": [nb.cells[1].metadata["rustsync_notes"][0]]}
    assert len({c.id for c in nb.cells}) == len(nb.cells)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="2\n")]  # what the kernel printed
    nb, _ = CellNotes().preprocess(nb, {})
    assert [c.cell_type for c in nb.cells] == ["code", "code", "markdown", "markdown", "markdown", "code"]
    assert NOTE.format("answer") in nb.cells[1].outputs[0].text and nb.cells[1].outputs[1].text == "2\n"
    assert "The copy above is the one graded as `answer`; this copy runs in its place" in nb.cells[1].outputs[0].text
    assert NOTE.format("essay") in nb.cells[4].source and grade_id(nb.cells[4]) is None
    assert nb.cells[5].outputs == [] and not any("rustsync_notes" in c.metadata for c in nb.cells)
    nbformat.validate(nb)


def test_a_syntax_error_magics_and_nonlocal_cost_nothing_and_the_feedback_shows_the_error(graded):
    got = grades(graded, "odd-python")
    assert {part: got[part][0] for part in POINTS} == POINTS
    broken = next(c for c in autograded(graded, "odd-python").cells if "unfinished: a syntax error" in c.source)
    assert any(o.get("ename") == "SyntaxError" for o in broken.outputs)
    assert "SyntaxError" in feedback(graded, "odd-python")
