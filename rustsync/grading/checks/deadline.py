"""Running student code: in a thread of its own with a deadline, its output kept out of the test cell.

Code that deadlocks, loops forever or ignores Ctrl-C costs its part and nothing else:
after its deadline the check gives up on it (and, in the grader's worker, ends the
student's process). Its errors become messages a student can act on: where it failed,
what it printed, which cell to run first.
"""

from __future__ import annotations

import inspect
import os
import re
import sys
import threading
import weakref

from ... import limits, sched
from ..._sim import raise_in
from ...sched import ScheduleError, StuckThread
from . import records

_PACKAGE = os.path.dirname(os.path.abspath(limits.__file__))  # rustsync/: its frames are never "where"
DEFAULT_TIMEOUT = limits.CALL_SECONDS  # seconds for one call of student code
EXPLORE_TIMEOUT = limits.EXPLORE_SECONDS  # seconds for running or exploring a program under the scheduler
NOT_WRITTEN = "replace `raise NotImplementedError()` with your code, then run that cell again"


# --- where student output goes -------------------------------------------------------


class _Router:
    """Stands in for sys.stdout/sys.stderr: the test cell's own thread writes through,
    threads running student code write into the running check's buffer (or nowhere)."""

    def __init__(self, original, owner):
        self._original = original
        self._owner = owner

    def write(self, text):
        if threading.get_ident() == self._owner:
            return self._original.write(text)
        if threading.current_thread() in _muted:
            return len(text)
        sink = _sink[0]
        if sink is not None:
            sink.append(text)
            return len(text)
        return self._original.write(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        if threading.get_ident() == self._owner or (_sink[0] is None and threading.current_thread() not in _muted):
            self._original.flush()

    def __getattr__(self, name):
        return getattr(self._original, name)


_sink = [None]  # the running check's list of captured text, if any
_muted = weakref.WeakSet()  # threads left running by student code: their output is dropped


def _route_output():
    me = threading.get_ident()
    for stream in ("stdout", "stderr"):
        current = getattr(sys, stream)
        if not (isinstance(current, _Router) and current._owner == me):
            setattr(sys, stream, _Router(current, me))


# --- running student code with a deadline ----------------------------------------------


class _GaveUp(BaseException):
    """Raised asynchronously in a thread we stopped waiting for, so that it ends if it can."""


class _Result:
    __slots__ = ("value", "error", "timed_out", "output")

    def __init__(self):
        self.value = None
        self.error = None
        self.timed_out = False
        self.output = ""


def _with_deadline(work, timeout):
    """Run `work()` in a daemon thread; wait at most `timeout` seconds; capture its output."""
    _route_output()
    before = set(threading.enumerate())
    result = _Result()

    def target():
        try:
            result.value = work()
        except BaseException as exc:  # handed to the test below, as a message
            result.error = exc

    runner = threading.Thread(target=target, name="rustsync-grading", daemon=True)
    captured = []
    previous, _sink[0] = _sink[0], captured
    try:
        runner.start()
        runner.join(timeout)
    finally:
        _sink[0] = previous
    result.output = "".join(captured)
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    _muted.update(left)
    if runner.is_alive():
        result.timed_out = True
        if records.STUDENT is not None:  # the student's code is still running there: only ending it stops it
            records.STUDENT.kill("it ran past its time")
        for thread in left:
            if thread is runner or thread.name == "rustsync-scheduler":
                _stop(thread)
    return result


def _stop(thread):
    """Ask a thread to end by raising `_GaveUp` in it; `except KeyboardInterrupt` does not catch it."""
    raise_in(thread, _GaveUp)


def _name(func):
    name = getattr(func, "__name__", None)
    name = name if type(name) is str else type(func).__name__
    return "your code" if name == "<lambda>" else f"your function `{name}`"


def _too_slow(who, timeout, output=""):
    return (f"{who} did not finish within {timeout:g} s: it may be deadlocked (a lock never released, "
            "or two threads each waiting for the other's lock) or loop forever." + _printed(output))


def _printed(output):
    lines = [line for line in output.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    shown = "\n    ".join(lines[-4:])
    return f"\nIt printed:\n    {shown}"


def _where(exc):
    """`Cell In[7], line 4` for the innermost frame of the traceback outside this package."""
    from ...diagnostics import display_name

    if type(getattr(exc, "where", None)) is str:  # an exception of the student's process says where itself
        return f" ({exc.where})"

    package = _PACKAGE
    stdlib = sys.base_prefix
    where = None
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not filename.startswith(package) and not filename.startswith(stdlib) and "site-packages" not in filename:
            where = f"{display_name(filename)}, line {tb.tb_lineno}"
        tb = tb.tb_next
    return f" ({where})" if where else ""


def _headline(text):
    """The first line of an error message, and the `-->` and `help:` lines of a rustc-style one."""
    lines = text.strip().splitlines() or [""]
    keep = [lines[0]]
    if "error[" in lines[0]:
        keep += [line.strip() for line in lines[1:] if line.strip().startswith(("-->", "= help:"))][:3]
    return "\n    ".join(keep)


def _error_message(who, exc, output=""):
    output = output or getattr(exc, "printed", "") or ""
    if isinstance(exc, NotImplementedError) or _not_written(exc) or getattr(exc, "not_written", False) is True:
        return f"{who} is not written yet: {NOT_WRITTEN}."
    if type(exc).__name__ == "StudentGone":
        return f"{who} {str(exc).removeprefix('your code ')}"
    if isinstance(exc, StuckThread):
        return _too_slow(who, _step_timeout(), output)
    if isinstance(exc, ScheduleError) and "steps" in str(exc):
        said = re.search(r"more than ([\d,_]+) steps", str(exc))
        return (f"{who} did not finish: under the scheduler it took more than "
                f"{said.group(1) if said else _max_steps()} steps, so a thread probably loops forever (waiting in "
                "a loop for something that never happens)")
    if isinstance(exc, ScheduleError):
        return f"{who} could not be run under the scheduler: {exc}"
    if isinstance(exc, NameError) and getattr(exc, "name", None) and f"`{exc.name}`" in who:
        return _undefined(exc.name)
    text = _headline(f"{type(exc).__name__}: {exc}")
    return f"{who} raised {text}{_where(exc)}" + _printed(output)


def _unreached(name, where):
    """`name` is not defined although the cell `where` ([cell, how it ended]) assigns it."""
    cell, error = where
    why = f" (it stopped with {error})" if error else ""
    return (f"`{name}` is not defined: {cell} assigns it, but did not get that far when the grader ran it"
            f"{why}. Fix that cell, then run it again")


def _undefined(name):
    if records.ASSIGNED.get(name):
        return _unreached(name, records.ASSIGNED[name])
    return f"`{name}` is not defined: run the cell that defines it, and fix the error that cell shows, if any"


def _not_written(exc):
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, NotImplementedError):
            return True
        exc = getattr(exc, "exception", None) or exc.__cause__
        seen += 1
    return False


def _step_timeout():
    return inspect.signature(sched.run).parameters["step_timeout"].default


def _max_steps():
    return inspect.signature(sched.run).parameters["max_steps"].default


