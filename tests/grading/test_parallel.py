"""Parallel autograding's own pieces (rustsync/grading/parallel.py), without grading anything.

The gradebook merge: one submission's rows exported from a worker's copy of the gradebook
and imported into the course's, on a small gradebook made with nbgrader's API (one
assignment, one notebook, a code and a markdown grade cell, two students). Then the cores
it counts, the submissions it finds, what it reads in nbgrader's logs (`_entries`, `_why`)
and in the journal a killed run leaves. Whole runs are tests/test_parallel_grading.py's.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3

import pytest
from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory
from sqlalchemy import create_engine
from traitlets.config import Config

from rustsync.grading import parallel

COURSE = "c1"

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


@pytest.fixture(scope="module")
def before(tmp_path_factory):
    """A gradebook before grading: a1 recorded, ann and bob known (nbgrader takes seconds to make one)."""
    path = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    with Gradebook(f"sqlite:///{path}", COURSE) as gb:
        gb.add_assignment("a1")
        gb.add_notebook("n1", "a1")
        gb.add_grade_cell("g1", "n1", "a1", max_score=1, cell_type="code")
        gb.add_grade_cell("g2", "n1", "a1", max_score=2, cell_type="markdown")
        gb.add_solution_cell("s1", "n1", "a1")
        gb.add_solution_cell("g2", "n1", "a1")
        for name, kind in (("s1", "code"), ("g1", "code"), ("g2", "markdown")):
            gb.add_source_cell(name, "n1", "a1", cell_type=kind, source=name, checksum="")
        gb.add_student("ann", first_name="Ann")
        gb.add_student("bob", first_name="Bob")
    return path


def gradebook(before, folder):
    folder.mkdir()
    shutil.copy(before, folder / "gradebook.db")
    return f"sqlite:///{folder / 'gradebook.db'}"


def grade(db_url, student, g1, g2, comment, first_name=None):
    """What autograde (and a grader's hand) writes for one submission."""
    with Gradebook(db_url, COURSE) as gb:
        gb.update_or_create_submission("a1", student)
        gb.find_grade("g1", "n1", "a1", student).auto_score = g1
        gb.find_grade("g2", "n1", "a1", student).manual_score = g2
        gb.find_comment("s1", "n1", "a1", student).manual_comment = comment
        if first_name:
            gb.find_student(student).first_name = first_name
        gb.db.commit()


def submission(db_url, student):
    """(first name, {cell: score}, {cell: comment}) of a student's submission of a1."""
    with Gradebook(db_url, COURSE) as gb:
        sub = gb.find_submission("a1", student)
        [nb] = sub.notebooks
        return (sub.student.first_name, {g.name: (g.auto_score, g.manual_score) for g in nb.grades},
                {c.name: c.manual_comment for c in nb.comments})


def merge(db_url, student, rows):
    engine = create_engine(db_url)
    try:
        parallel.import_submission(engine, COURSE, "a1", student, rows)
    finally:
        engine.dispose()


def rows_in(db_url, table):
    with sqlite3.connect(db_url[len("sqlite:///"):]) as db:
        return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


# --- the gradebook's rows of one submission ----------------------------------------------------------------


def test_a_submission_graded_in_a_workers_copy_reaches_the_course_gradebook_whole(before, tmp_path):
    worker, course = gradebook(before, tmp_path / "worker"), gradebook(before, tmp_path / "course")
    assert parallel.export_submission(worker, COURSE, "a1", "ann") is None  # nothing graded yet
    grade(worker, "ann", 1.0, 1.5, "tidy", first_name="Anne")
    rows = parallel.export_submission(worker, COURSE, "a1", "ann")
    assert [len(rows[t]) for t in ("student", "submitted_assignment", "submitted_notebook", "grade", "comment")] \
        == [1, 1, 1, 2, 2]
    merge(course, "ann", rows)
    assert submission(course, "ann") == submission(worker, "ann") == (
        "Anne", {"g1": (1.0, None), "g2": (None, 1.5)}, {"s1": "tidy", "g2": None})
    with Gradebook(course, COURSE) as gb:
        assert [s.student_id for s in gb.assignment_submissions("a1")] == ["ann"]


def test_grading_again_replaces_the_submissions_rows_and_leaves_other_students_alone(before, tmp_path):
    worker, course = gradebook(before, tmp_path / "worker"), gradebook(before, tmp_path / "course")
    grade(course, "ann", 0.0, 0.0, "first try")
    grade(course, "bob", 1.0, 2.0, "bob's")
    counts = {table: rows_in(course, table) for table in ("submitted_notebook", "grade", "comment")}
    grade(worker, "ann", 1.0, 2.0, "second try")
    merge(course, "ann", parallel.export_submission(worker, COURSE, "a1", "ann"))
    assert submission(course, "ann")[1:] == ({"g1": (1.0, None), "g2": (None, 2.0)}, {"s1": "second try", "g2": None})
    assert submission(course, "bob")[1:] == ({"g1": (1.0, None), "g2": (None, 2.0)}, {"s1": "bob's", "g2": None})
    assert {table: rows_in(course, table) for table in counts} == counts  # replaced, nothing left behind
    with sqlite3.connect(course[len("sqlite:///"):]) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_student_the_course_gradebook_does_not_know_is_added_with_the_submission(before, tmp_path):
    worker, course = gradebook(before, tmp_path / "worker"), gradebook(before, tmp_path / "course")
    with Gradebook(worker, COURSE) as gb:
        gb.add_student("cy", first_name="Cy")
    grade(worker, "cy", 1.0, 0.5, "new here")
    merge(course, "cy", parallel.export_submission(worker, COURSE, "a1", "cy"))
    assert submission(course, "cy")[0] == "Cy"


def test_rows_of_an_assignment_recorded_again_meanwhile_are_refused_and_nothing_is_written(before, tmp_path):
    worker, course = gradebook(before, tmp_path / "worker"), gradebook(before, tmp_path / "course")
    grade(worker, "ann", 1.0, 2.0, "mine")
    rows = parallel.export_submission(worker, COURSE, "a1", "ann")
    rows["assignment_id"] = "recorded-again"
    with pytest.raises(RuntimeError, match="the gradebook's record of a1 changed while grading; grade again"):
        merge(course, "ann", rows)
    assert rows_in(course, "submitted_assignment") == 0 and rows_in(course, "grade") == 0


# --- the rest ---------------------------------------------------------------------------------------------------


def test_cores_are_those_this_process_may_use_else_the_machines_else_one(monkeypatch):
    assert parallel.cores() == len(os.sched_getaffinity(0))

    def refused(pid):
        raise OSError("not here")

    monkeypatch.setattr(os, "sched_getaffinity", refused)
    monkeypatch.setattr(os, "cpu_count", lambda: 7)
    assert parallel.cores() == 7
    monkeypatch.delattr(os, "sched_getaffinity")
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert parallel.cores() == 1


def test_the_submissions_found_are_the_students_folders_holding_the_assignment(tmp_path):
    for student in ("zed", "ann", "bob"):
        (tmp_path / "submitted" / student / "a1").mkdir(parents=True)
    (tmp_path / "submitted" / "cy" / "a2").mkdir(parents=True)  # another assignment
    (tmp_path / "submitted" / "dee").mkdir()
    (tmp_path / "submitted" / "dee" / "a1").write_text("a file, not a submission")
    config = Config()
    config.CourseDirectory.root = str(tmp_path)
    assert parallel._submitted_students(CourseDirectory(config=config), "a1") == ["ann", "bob", "zed"]


LOG = """\
[AutogradeApp | WARNING] The student edited the locked cell setup
[AutogradeApp | INFO] Sanitizing
[AutogradeApp | ERROR] There was an error processing assignment: /course/submitted/ann/a1
[AutogradeApp | ERROR] Traceback (most recent call last):
  File "nbgrader/converters/base.py", line 1, in convert
nbformat.reader.NotJSONError: Notebook does not appear to be JSON: '{not'
[AutogradeApp | ERROR] Please see the error message above
[AutogradeApp | ERROR] Removing failed assignment: /course/autograded/ann/a1
[AutogradeApp | CRITICAL] the grader's worker failed, so nothing was scored
more detail on the next line
"""


def test_a_log_is_read_as_entries_with_their_tracebacks_kept_together():
    entries = parallel._entries("noise before any entry\n" + LOG)
    assert [level for level, _ in entries] == ["WARNING", "INFO", "ERROR", "ERROR", "ERROR", "ERROR", "CRITICAL"]
    assert entries[0][1] == "The student edited the locked cell setup"
    assert entries[3][1].splitlines() == ["Traceback (most recent call last):",
                                          '  File "nbgrader/converters/base.py", line 1, in convert',
                                          "nbformat.reader.NotJSONError: Notebook does not appear to be JSON: '{not'"]


def test_why_a_submission_failed_is_said_in_a_line_from_the_errors_of_its_log():
    assert parallel._why(LOG) == ("nbformat.reader.NotJSONError: Notebook does not appear to be JSON: '{not' / "
                                  "the grader's worker failed, so nothing was scored")
    twice = "[AutogradeApp | ERROR] the same\n[AutogradeApp | ERROR] the same\n"
    assert parallel._why(twice) == "the same"
    assert parallel._why("[AutogradeApp | INFO] fine\nKilled\n\n") == "Killed"  # no error: its last line
    assert parallel._why("") == "nbgrader failed"
    assert len(parallel._why("[AutogradeApp | ERROR] " + "x" * 900)) == 500


def test_the_journal_names_the_students_a_killed_run_was_grading(tmp_path):
    journal = tmp_path / ".rustsync-grading-a1"
    assert parallel._journal(str(journal)) == []  # the last run ended as it should
    journal.write_text("ann\n\n  bob  \n")
    assert parallel._journal(str(journal)) == ["ann", "bob"]


def test_a_stop_says_which_signal_and_an_outcome_is_ok_only_without_failures():
    stopped = parallel.Stopped(signal.SIGTERM)
    assert str(stopped) == "SIGTERM" and stopped.graded == 0 and not isinstance(stopped, Exception)
    outcome = parallel.Outcome("a1", 2, graded=["ann"])
    assert outcome.ok
    outcome.failed["bob"] = "it took too long"
    assert not outcome.ok
