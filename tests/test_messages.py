"""Errors that say the fix: each message a newcomer meets, checked as the command prints it.

- nbgrader in the course's folder: a wrong assignment name lists the course's assignments
  (and the likely one), an assignment nobody submitted says so and how to collect;
- nbgrader outside the course's folder, from the course's environment: an instructor's
  command names the folder to run it from, and no command makes an exchange under /usr/local;
- `python -m rustsync.grading.parallel`: the same three messages;
- `nbgrader autograde` as root warns why not to, once, and prints no SQLAlchemy warning;
- a lesson cell that uses a name before the cell that defines it ran: the kernel names that cell.

Each command runs in a copy of the course with a HOME and an exchange of its own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from browser_lab import copy_course

from rustsync.course import cells, environment, folder

ROOT = Path(__file__).resolve().parents[1]
A03 = "a03_sharing_a_mutex"
ASSIGNMENTS = sorted(p.parent.name for p in (ROOT / "source").glob("a*/a*.ipynb"))

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return copy_course(tmp_path_factory.mktemp("messages") / "course")


def run(command: list[str], cwd: Path, tmp_path: Path, **extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "NBGRADER", "PYTEST"))}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), NBGRADER_EXCHANGE=str(tmp_path / "exchange"),
               PATH=os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")]), **extra)
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)


# --- nbgrader, in the course's folder ------------------------------------------------------------------


def test_a_wrong_assignment_name_lists_the_courses_assignments_and_the_likely_one(course, tmp_path):
    done = run(["nbgrader", "autograde", "a3"], course, tmp_path)
    assert done.returncode == 1, done.stderr
    said = done.stderr
    assert "There is no assignment 'a3' in this course" in said
    listed = [line.strip() for line in said.splitlines() if line.startswith("  ")]
    assert listed == ASSIGNMENTS, listed
    assert f"Did you mean {A03}? `nbgrader autograde {A03}`" in said
    assert "a05_arc" not in said.split("Did you mean", 1)[1], "nbgrader's own guess (a05_arc) is still shown"
    assert "No notebooks were matched" not in said


def test_an_assignment_nobody_submitted_says_so_and_how_to_collect(course, tmp_path):
    # bob submitted a02 only: nbgrader alone would suggest his a02 folder for a03
    other = course / "submitted" / "bob" / "a02_mutex_api"
    other.mkdir(parents=True)
    shutil.copy(ROOT / "release" / "a02_mutex_api" / "a02_mutex_api.ipynb", other)
    try:
        done = run(["nbgrader", "autograde", A03], course, tmp_path)
    finally:
        shutil.rmtree(course / "submitted")
    assert done.returncode == 1, done.stderr
    assert f"No submission of {A03} has been collected" in done.stderr
    assert f"`nbgrader collect {A03}`" in done.stderr
    assert "bob" not in done.stderr and "Did you mean" not in done.stderr


def test_feedback_before_grading_says_to_grade_first(course, tmp_path):
    done = run(["nbgrader", "generate_feedback", A03], course, tmp_path)
    assert done.returncode == 1, done.stderr
    assert f"No submission of {A03} has been graded yet" in done.stderr
    assert f"`nbgrader autograde {A03}`" in done.stderr and "No notebooks were matched" not in done.stderr


def test_a_student_pattern_that_matches_no_submission_says_whose(course, tmp_path):
    message = folder.no_submissions(str(course), A03, ["carol*"])
    assert message.startswith(f"No submission of {A03} by carol* has been collected"), message


# --- nbgrader, outside the course's folder, from the course's environment --------------------------------


@pytest.fixture
def course_environment(course, tmp_path):
    """The settings start.sh writes into the course's environment, found through JUPYTER_CONFIG_PATH."""
    env = tmp_path / "venv"
    written = environment.write_settings(str(course), str(env))
    assert len(written) == 3
    return {"JUPYTER_CONFIG_PATH": str(env / "etc" / "jupyter")}


def test_an_instructors_command_outside_the_course_names_the_folder_to_run_it_from(course, tmp_path,
                                                                                    course_environment):
    usr_local = Path("/usr/local/share/nbgrader/exchange")
    existed = usr_local.exists()
    done = run(["nbgrader", "release_assignment", A03], course / "notebooks", tmp_path, **course_environment)
    assert done.returncode == 1, done.stderr
    assert "`nbgrader release_assignment` runs from the course's folder" in done.stderr
    assert f"cd {os.path.realpath(course)} && nbgrader release_assignment {A03}" in done.stderr
    assert not (tmp_path / "exchange").exists(), "the refused command made an exchange"
    assert usr_local.exists() == existed


def test_a_students_command_outside_the_course_uses_the_courses_exchange_not_usr_local(course, tmp_path,
                                                                                       course_environment):
    usr_local = Path("/usr/local/share/nbgrader/exchange")
    existed = usr_local.exists()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    released = tmp_path / "exchange" / folder.COURSE_ID / "outbound" / A03  # as release_assignment leaves it
    released.mkdir(parents=True)
    for part in (tmp_path / "exchange", released.parent.parent, released.parent):
        part.chmod(0o777)
    done = run(["nbgrader", "list", "--course", folder.COURSE_ID], elsewhere, tmp_path, **course_environment)
    assert done.returncode == 0, done.stderr
    assert f"{folder.COURSE_ID} {A03}" in done.stdout + done.stderr, "the course's exchange was not the one listed"
    assert usr_local.exists() == existed, "an exchange was made under /usr/local"


# --- python -m rustsync.grading.parallel -----------------------------------------------------------------


def test_parallel_grading_says_what_is_wrong_and_what_to_run(course, tmp_path):
    wrong = run([sys.executable, "-m", "rustsync.grading.parallel", "a3"], course, tmp_path)
    assert wrong.returncode == 2
    assert "There is no assignment 'a3' in this course" in wrong.stderr
    assert f"Did you mean {A03}? `python -m rustsync.grading.parallel {A03}`" in wrong.stderr
    assert "where source/ is" not in wrong.stderr, "it still says to grade from the folder it runs in"

    below = run([sys.executable, "-m", "rustsync.grading.parallel", A03], course / "notebooks", tmp_path)
    assert below.returncode == 2
    assert f"cd {os.path.realpath(course)} && python -m rustsync.grading.parallel {A03}" in below.stderr

    nobody = run([sys.executable, "-m", "rustsync.grading.parallel", A03, "--no-progress"], course, tmp_path)
    assert nobody.returncode == 0, nobody.stderr
    assert f"No submission of {A03} has been collected" in nobody.stderr
    (course / "gradebook.db").unlink(missing_ok=True)


# --- nbgrader autograde as root, and nothing else on the terminal --------------------------------------


def test_autograde_warns_root_why_and_prints_no_sqlalchemy_warning(course, tmp_path):
    """One submission graded by `nbgrader autograde`: the root warning (as root) once, no SAWarning."""
    submitted = course / "submitted" / "ann" / A03
    submitted.mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "submissions" / A03 / "correct.ipynb", submitted / f"{A03}.ipynb")
    try:
        done = run(["nbgrader", "autograde", A03], course, tmp_path)
    finally:
        for name in ("submitted", "autograded"):
            shutil.rmtree(course / name, ignore_errors=True)
        (course / "autograded").mkdir()
        (course / "gradebook.db").unlink(missing_ok=True)
    said = done.stdout + done.stderr
    assert done.returncode == 0, said[-3000:]
    assert "SAWarning" not in said, said
    warned = said.count("You are grading as root")
    if os.geteuid() == 0:
        assert warned == 1, said
        assert "RLIMIT_NPROC" in said and "Grade as an ordinary user" in said
    else:
        assert warned == 0, said


def test_the_sqlalchemy_warnings_silenced_are_only_nbgraders_submission_rows():
    import warnings

    from sqlalchemy.exc import SAWarning

    import rustsync.grading.hooks  # noqa: F401 - installs the filter

    def warn(message, module):
        with warnings.catch_warnings(record=True) as caught:
            warnings.filterwarnings("always")
            rustsync.grading.hooks.quiet_gradebook_warnings()
            warnings.warn_explicit(message, SAWarning, f"{module.replace('.', '/')}.py", 1, module=module)
        return caught

    quiet = ("Object of type <SubmittedAssignment> not in session, add operation along 'Student.submissions' "
             "will not proceed")
    assert warn(quiet, "nbgrader.api") == []
    assert len(warn(quiet, "someone.else")) == 1
    assert len(warn("Object of type <Grade> is not mapped", "nbgrader.api")) == 1


# --- a lesson cell run out of order -------------------------------------------------------------------


def _notebook(tmp_path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A lesson\n\n## Setup"),
        nbformat.v4.new_code_cell("from rustsync import Mutex"),
        nbformat.v4.new_markdown_cell("## The counter"),
        nbformat.v4.new_code_cell("# a shared counter\ncounter = Mutex(0)"),
        nbformat.v4.new_code_cell("with counter.lock() as n:\n    n.value += 1"),
        nbformat.v4.new_markdown_cell("## Later"),
        nbformat.v4.new_code_cell("counter = Mutex(10)  # again"),
        nbformat.v4.new_code_cell("print(counter)"),
    ]
    path = tmp_path / "lesson.ipynb"
    nbformat.write(nb, path)
    return path


def test_the_hint_names_the_nearest_cell_above_that_defines_the_name(tmp_path):
    path = _notebook(tmp_path)
    notebook = json.loads(path.read_text())
    assert cells.defining_cell(notebook, "counter", "with counter.lock() as n:\n    n.value += 1") == {
        "number": 2, "heading": "The counter", "first_line": "counter = Mutex(0)"}
    assert cells.defining_cell(notebook, "counter", "print(counter)")["number"] == 4
    assert cells.defining_cell(notebook, "Mutex", "print(counter)") == {
        "number": 1, "heading": "Setup", "first_line": "from rustsync import Mutex"}
    assert cells.defining_cell(notebook, "nowhere", "print(counter)") is None
    assert cells.hint(str(path), "counter", "with counter.lock() as n:\n    n.value += 1") == (
        "help: `counter` is defined by code cell 2 of lesson.ipynb, under \"The counter\", which starts "
        "`counter = Mutex(0)`. Run that cell first (or Run > Run All Above Selected Cell), then this one again.")


def test_a_kernel_with_the_extension_names_the_cell_to_run_first(tmp_path):
    """IPython with the course's kernel settings runs a cell out of order: the traceback, then the hint."""
    path = _notebook(tmp_path)
    script = textwrap.dedent("""
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance()
        shell.extension_manager.load_extension("rustsync.course.cells")
        shell.run_cell("with counter.lock() as n:\\n    n.value += 1")
        shell.run_cell("undefined_anywhere + 1")
        shell.run_cell("x = 1")
    """)
    env = {**os.environ, cells.SESSION_ENV: str(path), "IPYTHONDIR": str(tmp_path / "ipython")}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert "NameError" in done.stdout, done.stdout  # IPython's own traceback is kept
    hints = [line for line in done.stderr.splitlines() if line.startswith("help:")]
    assert hints == [cells.hint(str(path), "counter", "with counter.lock() as n:\n    n.value += 1")], done.stderr

    without = subprocess.run([sys.executable, "-c", script], env={**env, cells.SESSION_ENV: ""},
                             capture_output=True, text=True, timeout=60)
    assert "help:" not in without.stderr, "outside a notebook there is no cell to name"
