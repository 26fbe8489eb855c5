"""Hostile, correct and subtly wrong submissions of our own (tests/corpus/), graded end to end with nbgrader.

The run grades with `RUSTSYNC_GATE=off`: no advice, only the process boundary.

Every submission goes through the exchange as a student's would (`fetch_assignment`,
`submit`; the links it ships are then put straight into the exchange, where a student
can write), is collected, autograded in one run with the rest, and gets its feedback.
Then: each scores what it deserves (full marks for what it solved, 0 for what it only
attacked), no feedback shows a hidden test, the grader's environment or a file from
outside its folder, and the course's source/, the package and every other submission
are byte-identical to what they were before grading; the gradebook is still the
gradebook, and the correct submissions graded in the same run get full marks.

SLOW: the one grading run takes a few minutes; every test here shares it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from rustsync.grading import run_nbgrader

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the corpus is the package tests.corpus

from tests.corpus.build import FULL, autograded_tests, source_notebook, write  # noqa: E402
from tests.corpus.correct import CORRECT  # noqa: E402
from tests.corpus.hostile import HOSTILE  # noqa: E402
from tests.corpus.subtle import CORRECT_OTHERWISE, SUBTLY_WRONG  # noqa: E402

pytestmark = [pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning"),
              pytest.mark.filterwarnings("ignore::nbformat.validator.MissingIDFieldWarning"),
              pytest.mark.timeout(2400)]  # the one grading run of ~90 notebooks, on a busy machine

COURSE = "rust-shared-state"
SECRET_ENV = "RUSTSYNC_TEST_SECRET"
SECRET = "canary-env-5e1f9"
SECRET_FILE = "canary-file-93b2c"
SUBMISSIONS = HOSTILE + CORRECT + SUBTLY_WRONG + CORRECT_OTHERWISE


def student_id(sub):
    return f"{sub.assignment[:3]}-{sub.name}".replace("_", "-")


def tree_digest(folder):
    """{relative path: sha256} of every file below `folder` (links as their targets' text)."""
    out = {}
    for path in sorted(Path(folder).rglob("*")):
        rel = str(path.relative_to(folder))
        if "__pycache__" in rel or ".ipynb_checkpoints" in rel:
            continue
        if path.is_symlink():
            out[rel] = "link:" + os.readlink(path)
        elif path.is_file():
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    course, exchange, home = base / "course", base / "exchange", base / "home"
    course.mkdir()
    home.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.SandboxedKernelManager.hide = [{str(ROOT)!r}]\n")
    shutil.copytree(ROOT / "source", course / "source")
    (course / "CANARY.txt").write_text(SECRET_FILE)
    env = {**os.environ, "HOME": str(home), "NBGRADER_EXCHANGE": str(exchange),
           "JUPYTER_CONFIG_DIR": str(home / ".jupyter"), SECRET_ENV: SECRET,
           "RUSTSYNC_GATE": "off"}  # no advice: the boundary alone holds (tests/test_runner.py: the same jobs)
    assignments = sorted({sub.assignment for sub in SUBMISSIONS})
    run_nbgrader("generate_assignment", "*", "--force", cwd=course, env=env)
    for assignment in assignments:
        run_nbgrader("release_assignment", assignment, cwd=course, env=env)
    exchange_args = ["--course", COURSE, f"--Exchange.root={exchange}"]
    for sub in SUBMISSIONS:
        student = student_id(sub)
        folder = base / "students" / student
        folder.mkdir(parents=True)
        student_env = {**env, "HOME": str(folder), "JUPYTER_CONFIG_DIR": str(folder / ".jupyter")}
        run_nbgrader("fetch_assignment", sub.assignment, *exchange_args, cwd=folder, env=student_env)
        plain = type(sub)(**{**sub.__dict__, "symlinks": {}})
        write(plain, folder / sub.assignment)
        run_nbgrader("submit", sub.assignment, f"--student={student}", *exchange_args, cwd=folder, env=student_env)
        if sub.symlinks:  # a student can write into the exchange's inbound folder directly
            inbound = next((exchange / COURSE / "inbound").glob(f"{student}+{sub.assignment}+*"))
            for rel, target in sub.symlinks.items():
                link = inbound / rel
                link.parent.mkdir(parents=True, exist_ok=True)
                if link.exists() or link.is_symlink():
                    link.unlink()
                os.symlink(target, link)
    for assignment in assignments:
        run_nbgrader("collect", assignment, cwd=course, env=env)
    before = {"source": tree_digest(course / "source"), "package": tree_digest(ROOT / "rustsync"),
              "submitted": tree_digest(course / "submitted")}
    start = time.perf_counter()
    log = run_nbgrader("autograde", "*", cwd=course, env=env)
    seconds = time.perf_counter() - start
    run_nbgrader("generate_feedback", "*", cwd=course, env=env)
    print(f"\n{len(SUBMISSIONS)} submissions autograded in {seconds:.0f} s")
    return {"course": course, "env": env, "before": before, "log": log, "base": base}


def scores(graded, sub):
    with Gradebook(f"sqlite:///{graded['course'] / 'gradebook.db'}", COURSE) as gb:
        notebook = gb.find_submission(sub.assignment, student_id(sub)).notebooks[0]
        return {g.name: g.score for g in notebook.grades}


def deserved(sub):
    points = autograded_tests(source_notebook(sub.assignment))
    return {part: (points[part] if want == FULL else 0.0) for part, want in sub.expect.items()}


@pytest.mark.parametrize("sub", SUBMISSIONS, ids=student_id)
def test_each_submission_scores_what_it_deserves(graded, sub):
    got = scores(graded, sub)
    assert {part: got[part] for part in sub.expect} == deserved(sub), sub.notes


def hidden_lines(assignment):
    lines = []
    for cell in source_notebook(assignment).cells:
        for region in cell.source.split("### BEGIN HIDDEN TESTS")[1:]:
            lines += [line.strip() for line in region.split("### END HIDDEN TESTS")[0].splitlines()
                      if len(line.strip()) >= 16]
    return lines


@pytest.mark.parametrize("sub", [s for s in SUBMISSIONS if s.klass], ids=student_id)
def test_feedback_shows_no_hidden_test_no_secret_and_no_outside_file(graded, sub):
    course = graded["course"]
    folder = course / "feedback" / student_id(sub) / sub.assignment
    page = (folder / f"{sub.assignment}.html").read_text()
    graded_nb = (course / "autograded" / student_id(sub) / sub.assignment / f"{sub.assignment}.ipynb").read_text()
    for text in (page,):
        assert "BEGIN HIDDEN TESTS" not in text
        assert [line for line in hidden_lines(sub.assignment) if line in text] == []
    for text in (page, graded_nb):
        assert SECRET not in text and SECRET_FILE not in text
        assert "root:x:0:0" not in text  # /etc/passwd
        assert str(graded["base"]) not in text  # the grader's own folders
    # beside the page: nbgrader's timestamp and the plain files the student shipped, nothing else
    shipped = {Path(rel).parts[0] for rel in sub.files}
    ours = {f"{sub.assignment}.html", "timestamp.txt", "submission_secret.txt"}  # the last two: nbgrader's
    assert {p.name for p in folder.iterdir()} <= ours | shipped
    for path in folder.rglob("*"):
        assert not path.is_symlink(), path
        if path.is_file() and path.suffix != ".html":
            text = path.read_bytes()
            assert SECRET.encode() not in text and SECRET_FILE.encode() not in text and b"root:x:0:0" not in text


def test_no_link_and_no_large_file_is_left_in_the_course(graded):
    course = graded["course"]
    links = [str(p) for p in course.rglob("*") if p.is_symlink()]
    large = [str(p) for p in course.rglob("*") if p.is_file() and p.stat().st_size > 20 * 2**20]
    assert links == [] and large == []


def test_the_course_the_package_and_other_submissions_are_untouched(graded):
    course = graded["course"]
    assert tree_digest(course / "source") == graded["before"]["source"]
    assert tree_digest(ROOT / "rustsync") == graded["before"]["package"]
    assert tree_digest(course / "submitted") == graded["before"]["submitted"]


def test_the_gradebook_is_the_gradebook_and_every_submission_is_in_it(graded):
    path = graded["course"] / "gradebook.db"
    assert not path.is_symlink() and path.is_file()
    with sqlite3.connect(path) as db:
        assert db.execute("pragma integrity_check").fetchone() == ("ok",)
    with Gradebook(f"sqlite:///{path}", COURSE) as gb:
        graded_ids = {s.student.id for a in gb.assignments for s in a.submissions}
    assert graded_ids >= {student_id(sub) for sub in SUBMISSIONS}


@pytest.mark.parametrize("sub", CORRECT, ids=student_id)
def test_correct_variants_graded_with_the_attackers_get_full_marks(graded, sub):
    got = scores(graded, sub)
    points = autograded_tests(source_notebook(sub.assignment))
    assert {part: got[part] for part in points} == points


def test_no_cell_is_refused_its_syntax_decides_nothing(graded):
    assert "Refused Cell In[" not in graded["log"] and "The grader did not run this cell" not in graded["log"]


def graded_notebook(graded, sub):
    path = graded["course"] / "autograded" / student_id(sub) / sub.assignment / f"{sub.assignment}.ipynb"
    return nbformat.read(path, as_version=4)
