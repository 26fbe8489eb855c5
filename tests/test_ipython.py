"""`rustsync._ipython`: the course's errors shown from the student's lines, without the package's frames.

Which frames are dropped (the core modules and `grading/`, by file), that only the
course's own errors are cleaned (`SHOWN_CLEAN`), how `install` hooks a script
(`sys.excepthook`, once) or an IPython shell (its custom exception handler, unless
another one is set), and a real IPython shell printing a cell's error.
"""

import os
import subprocess
import sys
import textwrap
import types

import pytest

from rustsync import _ipython
from rustsync.errors import DeadlockError


def traceback_through(filenames):
    """A real traceback whose frames run, in order, in code compiled under each of `filenames`; the last raises."""
    source = "def call(rest):\n    return rest[0](rest[1:])\n"
    last = "def call(rest):\n    raise DeadlockError('twice')\n"
    functions = []
    for i, filename in enumerate(filenames):
        code = compile(last if i == len(filenames) - 1 else source, filename, "exec")
        scope = {"DeadlockError": DeadlockError}
        exec(code, scope)
        functions.append(scope["call"])
    try:
        functions[0](functions[1:])
    except DeadlockError as err:
        return err, err.__traceback__.tb_next  # without this helper's own frame
    raise AssertionError("the last function did not raise")


def filenames(tb):
    names = []
    while tb is not None:
        names.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    return names


PACKAGE = _ipython._PACKAGE


def test_the_frames_of_the_core_modules_and_of_grading_are_dropped_the_others_kept():
    files = [
        "/course/student_cell.py",
        os.path.join(PACKAGE, "thread.py"),
        os.path.join(PACKAGE, "sched", "_engine.py"),
        os.path.join(PACKAGE, "grading", "checks", "scheduled.py"),
        os.path.join(PACKAGE, "grading", "runner.py"),
        os.path.join(PACKAGE, "lab.py"),
        os.path.join(PACKAGE, "game", "play.py"),
        os.path.join(PACKAGE, "mutex.py"),
    ]
    _err, tb = traceback_through(files)
    assert filenames(tb) == files
    kept = _ipython.strip_package_frames(tb)
    assert filenames(kept) == ["/course/student_cell.py", os.path.join(PACKAGE, "lab.py"),
                               os.path.join(PACKAGE, "game", "play.py")]


def test_a_stripped_traceback_keeps_each_kept_frames_line():
    _err, tb = traceback_through(["/course/a.py", os.path.join(PACKAGE, "mutex.py"), "/course/b.py"])
    kept = _ipython.strip_package_frames(tb)
    assert [(t.tb_frame.f_code.co_filename, t.tb_lineno) for t in (kept, kept.tb_next)] == [
        ("/course/a.py", 2), ("/course/b.py", 2)]
    assert kept.tb_next.tb_next is None


def test_the_excepthook_cleans_the_courses_errors_only():
    seen = []
    hook = _ipython._excepthook(lambda etype, value, tb: seen.append((etype, value, tb)))
    err, tb = traceback_through(["/course/cell.py", os.path.join(PACKAGE, "mutex.py")])
    hook(DeadlockError, err, tb)
    etype, value, shown = seen[-1]
    assert filenames(shown) == ["/course/cell.py"]
    assert value.__traceback__ is shown, "the default hook prints the value's own traceback"

    class NotOurs(Exception):
        pass

    other = NotOurs("elsewhere")
    hook(NotOurs, other, tb)
    assert seen[-1][2] is tb, "an error that is not the course's keeps every frame"


@pytest.fixture
def no_shell(monkeypatch):
    """A script: no IPython shell runs, and an excepthook of its own."""
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    original = lambda *args: None  # noqa: E731
    monkeypatch.setattr(sys, "excepthook", original)
    return original


def test_in_a_script_install_wraps_the_excepthook_once(no_shell):
    assert _ipython.install() is False
    wrapped = sys.excepthook
    assert wrapped is not no_shell and wrapped.rustsync is True
    assert _ipython.install() is False
    assert sys.excepthook is wrapped, "a second install does not wrap the hook again"


class FakeShell:
    """What `install` uses of an IPython shell: its custom exception handler and its traceback printer."""

    def __init__(self, custom=()):
        self.custom_exceptions = custom
        self.handler = None
        self.shown = []

    def set_custom_exc(self, exceptions, handler):
        self.custom_exceptions, self.handler = exceptions, handler

    def showtraceback(self, exc_tuple, tb_offset=None):
        self.shown.append(exc_tuple)


def running(monkeypatch, shell):
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))


def test_in_a_shell_install_sets_a_handler_that_shows_the_traceback_without_the_package(monkeypatch):
    shell = FakeShell()
    running(monkeypatch, shell)
    assert _ipython.install() is True
    assert shell.custom_exceptions == _ipython.SHOWN_CLEAN
    err, tb = traceback_through(["/course/cell.py", os.path.join(PACKAGE, "refcell.py")])
    shell.handler(shell, DeadlockError, err, tb)
    (etype, value, shown), = shell.shown
    assert etype is DeadlockError and value is err and filenames(shown) == ["/course/cell.py"]
    assert _ipython.install() is True, "installing again keeps the same handler"


def test_in_a_shell_with_another_handler_install_leaves_it_alone(monkeypatch):
    theirs = (ValueError,)
    shell = FakeShell(custom=theirs)
    running(monkeypatch, shell)
    assert _ipython.install() is False
    assert shell.custom_exceptions is theirs and shell.handler is None


def test_an_ipython_cell_shows_the_courses_error_from_its_own_lines(tmp_path):
    script = textwrap.dedent("""
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance(colors="NoColor")
        shell.run_cell("from rustsync import Mutex, spawn\\nm = Mutex(0)\\nguard = m.lock()")
        print("=== a course error")
        shell.run_cell("def again():\\n    return m.lock()\\nagain()")
        print("=== another error")
        shell.run_cell("spawn(lambda: 1 / 0).join()")
    """)
    env = {**os.environ, "IPYTHONDIR": str(tmp_path / "ipython")}
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    course_error, other_error = done.stdout.split("=== a course error", 1)[1].split("=== another error")
    assert "DeadlockError" in course_error and "----> 2     return m.lock()" in course_error
    assert "mutex.py" not in course_error, course_error
    assert "ThreadPanicked" in other_error
    assert "thread.py" in other_error, "an error that is not the course's keeps the package's frames"
