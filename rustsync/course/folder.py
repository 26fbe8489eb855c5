"""The course's folder and its nbgrader commands: what each needs, and a message that says the fix when it is missing.

nbgrader reads the course's settings (`nbgrader_config.py`) only in the folder it is run
from, and its own messages for a wrong folder or a wrong name mislead ("No notebooks were
matched", a "Did you mean" that picks another assignment or another student's folder, an
exchange made under /usr/local). `check_command` runs as nbgrader reads its settings and
stops a command that would fail or go astray, saying what to run instead.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
import shlex
import sys

__all__ = ["COURSE_ID", "ROOT_WARNING", "assignments", "check_command", "find_course", "nbgrader_command",
           "no_submissions", "nothing_graded", "outside_the_course", "stop_if_wrong", "unknown_assignment"]

COURSE_ID = "rust-shared-state"

# The instructor's steps: they read source/, release/, submitted/ or the gradebook of the folder they run in.
INSTRUCTOR_STEPS = {"generate_assignment", "assign", "release_assignment", "release", "collect", "autograde",
                    "generate_feedback", "feedback", "release_feedback", "export", "db", "zip_collect",
                    "generate_solution", "formgrader"}
# The steps that name an assignment of the course as their first argument.
NAMES_AN_ASSIGNMENT = {"generate_assignment", "assign", "release_assignment", "release", "collect", "autograde",
                       "generate_feedback", "feedback", "release_feedback", "generate_solution", "fetch_assignment",
                       "fetch", "submit", "fetch_feedback"}
# nbgrader's options that take a value, which may follow as the next word
_VALUED = {"--student", "--assignment", "--notebook", "--course", "--course-dir", "--db", "--log-level", "--timezone",
           "--exchange", "--to", "--config"}

ROOT_WARNING = (
    "You are grading as root. Inside the sandbox a student's code keeps the grader's user id, and for root "
    "the limit on processes (RLIMIT_NPROC) does not hold, so one submission can start processes until the "
    "machine stops. Grade as an ordinary user who owns the course's folder: "
    "`su - USER -c 'cd {root} && nbgrader autograde ASSIGNMENT'` (docs/troubleshooting.md).")


def find_course(start: str) -> str | None:
    """The course's folder at or above `start`: the nearest one with nbgrader_config.py and source/; else None."""
    here = os.path.realpath(start)
    while True:
        if os.path.isfile(os.path.join(here, "nbgrader_config.py")) and os.path.isdir(os.path.join(here, "source")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def assignments(root: str) -> list[str]:
    """The course's assignments: the folders of source/ that hold a notebook, sorted."""
    source = os.path.join(root, "source")
    try:
        names = os.listdir(source)
    except OSError:
        return []
    return sorted(n for n in names if glob.glob(os.path.join(glob.escape(os.path.join(source, n)), "*.ipynb")))


def _suggestion(name: str, known: list[str]) -> str | None:
    """The one assignment `name` most likely means: the same number (`a3`, `3`, `a03`), or the only one it starts."""
    digits = re.findall(r"\d+", name)
    if digits:
        same = [k for k in known if re.match(r"a(\d+)", k) and int(re.match(r"a(\d+)", k)[1]) == int(digits[0])]
        if len(same) == 1:
            return same[0]
    starting = [k for k in known if k.startswith(name)]
    return starting[0] if len(starting) == 1 else None


def unknown_assignment(root: str, name: str, step: str = "autograde") -> str | None:
    """Why `name` (an assignment, or nbgrader's shell pattern) names no assignment of the course; None if it does."""
    known = assignments(root)
    if any(fnmatch.fnmatchcase(k, name) for k in known):
        return None
    guess = _suggestion(name, known)
    lines = [f"There is no assignment '{name}' in this course. Its assignments (the folders of source/) are:",
             *(f"  {k}" for k in known)]
    if guess:
        lines.append(f"Did you mean {guess}? `nbgrader {step} {guess}`")
    return "\n".join(lines)


def _students_in(root: str, step: str, name: str, students: list[str] | None) -> list[str]:
    """The students with a folder `step/<student>/name` (of the patterns `students`, when given)."""
    found = [os.path.basename(os.path.dirname(path)) for path in glob.glob(os.path.join(
        glob.escape(os.path.join(root, step)), "*", name)) if os.path.isdir(path)]
    if students:
        found = [s for s in found if any(fnmatch.fnmatchcase(s, p) for p in students)]
    return found


def no_submissions(root: str, name: str, students: list[str] | None = None) -> str | None:
    """Why `nbgrader autograde name` would grade nothing: no collected submission (of these students); else None."""
    if _students_in(root, "submitted", name, students):
        return None
    who = f" by {', '.join(students)}" if students else ""
    return (f"No submission of {name}{who} has been collected: submitted/*/{name}/ holds none. Collect them first, "
            f"`nbgrader collect {name}` (students hand in with `nbgrader submit {name} --course {COURSE_ID}`); "
            f"`nbgrader list --inbound` shows what is in the exchange.")


def nothing_graded(root: str, name: str, students: list[str] | None = None) -> str | None:
    """Why `nbgrader generate_feedback name` would find nothing: no graded submission (of these students)."""
    if _students_in(root, "autograded", name, students):
        return None
    who = f" by {', '.join(students)}" if students else ""
    return (f"No submission of {name}{who} has been graded yet: autograded/*/{name}/ holds none. Grade first, "
            f"`nbgrader autograde {name}`, then write the feedback.")


def outside_the_course(root: str, step: str, args: list[str]) -> str:
    """What to do when an instructor's nbgrader command runs outside the course's folder `root`."""
    again = " ".join(["nbgrader", step, *(shlex.quote(a) for a in args)])
    return (f"`nbgrader {step}` runs from the course's folder, where nbgrader_config.py is, and the folder "
            f"{os.getcwd()} is not it: nbgrader would not find the course's settings (it would look for its "
            f"assignments here and use an exchange of its own). Run it there:\n  cd {shlex.quote(root)} && {again}")


def nbgrader_command(argv: list[str] | None = None) -> tuple[str, list[str]] | None:
    """(step, its arguments) when this process is the `nbgrader` command line; None otherwise."""
    argv = list(sys.argv if argv is None else argv)
    if not argv:
        return None
    program = os.path.basename(argv[0])
    if program != "nbgrader" and not argv[0].endswith(os.path.join("nbgrader", "__main__.py")):
        return None
    rest = argv[1:]
    if not rest or rest[0].startswith("-"):
        return None
    return rest[0], rest[1:]


def _option(args: list[str], *names: str) -> list[str]:
    values = []
    for i, word in enumerate(args):
        for name in names:
            if word.startswith(name + "="):
                values.append(word.split("=", 1)[1])
            elif word == name and i + 1 < len(args):
                values.append(args[i + 1])
    return values


def _positional(args: list[str]) -> list[str]:
    found, skip = [], False
    for word in args:
        if skip:
            skip = False
        elif word.startswith("-"):
            skip = word in _VALUED
        else:
            found.append(word)
    return found


def _named_assignment(args: list[str]) -> str | None:
    named = _positional(args)[:1] or _option(args, "--assignment", "--CourseDirectory.assignment_id")
    return named[0] if named else None


def check_command(root: str, argv: list[str] | None = None, cwd: str | None = None) -> str | None:
    """What is wrong with the nbgrader command of this process for the course at `root`, or None.

    Checked: an instructor's step run outside the course's folder; an assignment name that
    is not the course's; `autograde` with no collected submission.
    """
    command = nbgrader_command(argv)
    if command is None:
        return None
    step, args = command
    here = os.path.realpath(cwd or os.getcwd())
    inside = here == os.path.realpath(root)
    if step in INSTRUCTOR_STEPS and not inside:
        return outside_the_course(root, step, args)
    if not inside or step not in NAMES_AN_ASSIGNMENT:
        return None
    name = _named_assignment(args)
    if name is None:
        return None
    wrong = unknown_assignment(root, name, step)
    if wrong:
        return wrong
    students = _option(args, "--student", "--CourseDirectory.student_id") or None
    if step == "autograde":
        return no_submissions(root, name, students)
    if step in ("generate_feedback", "feedback"):
        return nothing_graded(root, name, students)
    return None


MARK = "# Written by start.sh"


def decides(settings_file: str) -> bool:
    """Whether the course settings in `settings_file` decide: no course's settings come before them.

    Jupyter reads every folder of its config path, so two environments' settings can both
    be read (a course's environment, and another course's settings named by
    JUPYTER_CONFIG_PATH, which comes first). Only the first course's settings may stop a
    command, or each would name its own folder.
    """
    from jupyter_core.paths import jupyter_config_path

    mine = os.path.realpath(os.path.dirname(settings_file))
    for folder in jupyter_config_path():
        folder = os.path.realpath(folder)
        if folder == mine:
            return True
        other = os.path.join(folder, "nbgrader_config.py")
        try:
            with open(other, encoding="utf-8") as f:
                if f.read().startswith(MARK):
                    return False
        except OSError:
            continue
    return True


def stop_if_wrong(root: str) -> None:
    """In an nbgrader settings file: stop the command with the fix when `check_command` finds it wrong."""
    message = check_command(root)
    if message:
        print(f"[nbgrader | ERROR] {message}", file=sys.stderr)
        raise SystemExit(1)
