"""Parallel autograding (`python -m rustsync.grading.parallel`) against nbgrader's own, sequential autograde.

Two copies of the course hold the same five submissions of a03: the sample `correct` and
`racy`, the unsolved release, a correct variant of tests/corpus/correct.py, and a notebook
that is not JSON (`broken`, which nbgrader cannot grade). One copy is graded by `nbgrader
autograde`, the other by the parallel command with two workers, each in its own process as
an instructor runs them. Then: the same scores for every part of every submission, the
broken one reported by name with nbgrader's reason while the others are graded, exit status
1, every submission in the gradebook once, a progress bar with the count and the time left.
A course that cannot grade (no bwrap; a release that is not what source/ generates) refuses
before anyone is graded. Stopped in the middle by SIGINT, SIGTERM, SIGHUP or SIGKILL, the
command leaves no process behind, the gradebook whole, and a rerun agrees (two submissions).

SLOW: the two gradings take about a minute on a quiet 2-core machine; the tests share them.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from rustsync.grading import parallel, run_nbgrader

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the corpus is the package tests.corpus

from tests.corpus.build import build_from_release  # noqa: E402
from tests.corpus.correct import CORRECT  # noqa: E402

pytestmark = [pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning"),
              pytest.mark.filterwarnings("ignore::nbformat.validator.MissingIDFieldWarning")]

A03 = "a03_sharing_a_mutex"
COURSE = "rust-shared-state"


def submissions():
    samples = ROOT / "tests" / "submissions" / A03
    variant = next(sub for sub in CORRECT if sub.assignment == A03)
    return {
        "correct": nbformat.read(samples / "correct.ipynb", as_version=4),
        "racy": nbformat.read(samples / "racy.ipynb", as_version=4),
        "unsolved": nbformat.read(ROOT / "release" / A03 / f"{A03}.ipynb", as_version=4),
        variant.name: build_from_release(variant),
        "broken": None,  # not a notebook at all
    }


@pytest.fixture(scope="module")
def template(tmp_path_factory, env):
    """A course with a03 generated (release/ and the gradebook's record of it) and the five submissions."""
    folder = tmp_path_factory.mktemp("template") / "course"
    folder.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", folder)
    with open(folder / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.SandboxedKernelManager.hide = [{str(ROOT)!r}]\n")
    shutil.copytree(ROOT / "source", folder / "source")
    run_nbgrader("generate_assignment", A03, cwd=folder, env=env)
    for student, nb in submissions().items():
        target = folder / "submitted" / student / A03
        target.mkdir(parents=True)
        if nb is None:
            (target / f"{A03}.ipynb").write_text("{this is not a notebook")
        else:
            nbformat.write(nb, target / f"{A03}.ipynb")
    return folder


def copy_course(template, folder, gradebook=True):
    shutil.copytree(template, folder)
    if not gradebook:
        (folder / "gradebook.db").unlink()
    return folder


def scores(course):
    """{student: {grade_id: (auto_score, manual_score, needs_manual_grade)}} from the course's gradebook."""
    out = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE) as gb:
        for submission in gb.assignment_submissions(A03):
            out[submission.student_id] = {g.name: (g.auto_score, g.manual_score, g.needs_manual_grade)
                                          for nb in submission.notebooks for g in nb.grades}
    return out


def parallel_command(*args, cwd, env):
    return subprocess.run([sys.executable, "-m", "rustsync.grading.parallel", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    return {**os.environ, "HOME": str(home), "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
            "NBGRADER_EXCHANGE": str(home / "exchange")}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, env, template):
    base = tmp_path_factory.mktemp("parallel")
    sequential, par = copy_course(template, base / "sequential"), copy_course(template, base / "parallel")
    with pytest.raises(RuntimeError, match="There was an error processing assignment 'a03_sharing_a_mutex' for "
                                           "student 'broken'"):
        run_nbgrader("autograde", A03, cwd=sequential, env=env)
    done = parallel_command(A03, "-j", "2", cwd=par, env=env)
    return {"sequential": sequential, "parallel": par, "done": done, "base": base}


def test_parallel_scores_are_the_sequential_scores(graded):
    ours, theirs = scores(graded["parallel"]), scores(graded["sequential"])
    assert ours == theirs
    assert set(ours) == set(submissions())


def test_the_gradebook_holds_every_submission_once_and_is_sound(graded):
    course = graded["parallel"]
    got = scores(course)
    assert got["racy"]["test_count_with_arc"][0] == 0 and got["unsolved"]["test_prediction"][0] == 0
    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        per_student = dict(db.execute("SELECT student_id, COUNT(*) FROM submitted_assignment GROUP BY student_id"))
        assert per_student == {student: 1 for student in submissions()}
        cells = db.execute("SELECT COUNT(*) FROM grade_cells").fetchone()[0]
        grades = dict(db.execute("SELECT sa.student_id, COUNT(*) FROM grade g JOIN submitted_notebook sn ON "
                                 "g.notebook_id = sn.id JOIN submitted_assignment sa ON sn.assignment_id = sa.id "
                                 "GROUP BY sa.student_id"))
        assert grades == {student: cells for student in submissions()}


def test_correct_submissions_get_full_marks(graded):
    from tests.corpus.build import autograded_tests, source_notebook

    points = autograded_tests(source_notebook(A03))
    got = scores(graded["parallel"])
    for student in ("correct", next(sub.name for sub in CORRECT if sub.assignment == A03)):
        assert {part: got[student][part][0] for part in points} == points, student


def test_a_broken_submission_is_reported_and_stops_no_other(graded):
    done, course = graded["done"], graded["parallel"]
    assert done.returncode == parallel.EXIT_FAILED, done.stderr
    assert "failed: broken: nbformat.reader.NotJSONError: Notebook does not appear to be JSON" in done.stderr
    assert "4 graded, 0 already graded (skipped), 1 failed, of 5 submissions" in done.stderr
    graded_folders = {p.parent.parent.name for p in (course / "autograded").glob(f"*/{A03}/{A03}.ipynb")}
    assert graded_folders == set(submissions()) - {"broken"}


def test_a_progress_bar_shows_the_count_and_the_time_left(graded):
    bar = graded["done"].stderr
    assert re.search(rf"{A03}: +100%\|.*\| 5/5 \[\d\d:\d\d<00:00", bar), bar[-2000:]
    assert re.search(r"\| [1-4]/5 \[\d\d:\d\d<\d\d:\d\d", bar), "no estimate of the time left"


def test_grading_again_with_force_replaces_the_submission_and_keeps_its_scores(graded, env, tmp_path):
    course = tmp_path / "course"
    shutil.copytree(graded["parallel"], course)
    before = scores(course)
    done = parallel_command(A03, "--force", "--student", "corr*", "-j", "2", "--no-progress", cwd=course, env=env)
    assert done.returncode == 0, done.stderr
    assert "1 graded, 0 already graded (skipped), 0 failed, of 1 submissions" in done.stderr
    assert scores(course) == before
    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("SELECT COUNT(*) FROM submitted_assignment WHERE student_id = 'correct'").fetchone() == (1,)
    again = parallel_command(A03, "--student", "racy", "--no-progress", cwd=course, env=env)
    assert again.returncode == 0 and "0 graded, 1 already graded (skipped)" in again.stderr, again.stderr


def test_without_bwrap_the_course_refuses_before_grading_anyone(tmp_path, env, template):
    course = copy_course(template, tmp_path / "course")
    done = subprocess.run([sys.executable, "-m", "rustsync.grading.parallel", A03], cwd=course, capture_output=True,
                          text=True, env={**env, "PATH": str(tmp_path / "empty")}, timeout=600)
    assert done.returncode == parallel.EXIT_REFUSED, done.stderr
    assert "`bwrap` (bubblewrap) is not installed" in done.stderr and "Nobody was graded." in done.stderr
    assert scores(course) == {} and not (course / "autograded").exists()


def test_a_release_that_is_not_what_source_generates_refuses_before_grading_anyone(tmp_path, env, monkeypatch,
                                                                                  template):
    # a fresh clone has no gradebook: autograde records the assignment from source/, once release/ matches it
    course = copy_course(template, tmp_path / "course", gradebook=False)
    release = course / "release" / A03 / f"{A03}.ipynb"
    nb = nbformat.read(release, as_version=4)
    nb.cells[0].source += "\n\nAn edit made after the release was generated."
    nbformat.write(nb, release)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(parallel.Refused, match="the gradebook does not know a03_sharing_a_mutex"):
        parallel.grade(A03, course_dir=course, jobs=2, progress=False)
    assert scores(course) == {} and not (course / "autograded").exists()


# --- stopped in the middle: no worker outlives the command, the gradebook stays whole ---------------------


def _process(pid):
    """(parent pid, start time) of process `pid`, or None if it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else (int(fields[1]), fields[19])


def _descendants(root):
    """{pid: start time} of every living process under `root`."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            found = _process(int(entry))
            if found:
                parents[int(entry)] = found
    under, frontier = {}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, started) in parents.items():
            if ppid == parent and pid not in under:
                under[pid] = started
                frontier.append(pid)
    return under


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL],
                         ids=lambda s: signal.Signals(s).name)
def test_stopped_in_the_middle_no_worker_outlives_it_and_a_rerun_agrees(signum, graded, template, env, tmp_path):
    course = copy_course(template, tmp_path / "course")
    kept = ("correct", "racy")
    for folder in (course / "submitted").iterdir():
        if folder.name not in kept:
            shutil.rmtree(folder)
    scratch = Path(tempfile.mkdtemp(prefix="rsg-", dir="/tmp"))  # short: kernels' sockets are made under it
    try:
        stop_in_the_middle(signum, course, scratch, {**env, "TMPDIR": str(scratch)}, graded)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def stop_in_the_middle(signum, course, scratch, run_env, graded):
    kept = ("correct", "racy")
    proc = subprocess.Popen([sys.executable, "-m", "rustsync.grading.parallel", A03, "-j", "2", "--no-progress"],
                            cwd=course, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = {}
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            now = _descendants(proc.pid)
            seen.update(now)
            workers = [pid for pid in now if (_process(pid) or (None,))[0] == proc.pid]
            if len(workers) == 2 and all(_descendants(pid) for pid in workers):  # both are grading
                break
            time.sleep(0.2)
        assert proc.poll() is None, f"it finished before it could be stopped: {proc.communicate()[1][-2000:]}"
        time.sleep(1)
        seen.update(_descendants(proc.pid))
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    expected = -signal.SIGKILL if signum == signal.SIGKILL else 128 + signum
    assert proc.returncode == expected, err[-3000:]
    if signum != signal.SIGKILL:
        assert f"stopped by {signal.Signals(signum).name}" in err and "Run the same command again" in err, err[-2000:]
        assert [str(p) for p in scratch.rglob("*")] == []  # the workers' gradebooks are removed
    deadline = time.monotonic() + 10
    alive = seen
    while alive and time.monotonic() < deadline:
        alive = {pid: started for pid, started in seen.items() if (_process(pid) or (None, None))[1] == started}
        time.sleep(0.2)
    assert alive == {}, f"{len(alive)} of its {len(seen)} processes outlived it after {signal.Signals(signum).name}"
    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    expected_scores = {s: v for s, v in scores(graded["sequential"]).items() if s in kept}
    partial = scores(course)
    assert set(partial) <= set(kept) and all(partial[s] == expected_scores[s] for s in partial)
    again = parallel_command(A03, "-j", "2", "--no-progress", cwd=course, env=run_env)
    assert again.returncode == 0, again.stderr[-3000:]
    assert scores(course) == expected_scores
    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("SELECT COUNT(*) FROM submitted_assignment").fetchone() == (len(kept),)
    graded_folders = {p.parent.parent.name for p in (course / "autograded").glob(f"*/{A03}/{A03}.ipynb")}
    assert graded_folders == set(kept)
