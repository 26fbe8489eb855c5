"""What the assignments' test cells call: student code under a deadline, decisions by the scheduler.

Every check raises `AssertionError` with a message a student can act on and never lets
the student's exception or a traceback into the test through. Student code runs in a
thread of its own with a deadline, so code that deadlocks, loops forever or ignores
Ctrl-C costs its part and nothing else; what it writes to stdout or stderr is kept
out of the test cell (nbgrader scores a test cell that writes to stderr 0).
"""

from __future__ import annotations

import ctypes
import inspect
import os
import re
import sys
import threading
import weakref

from . import sched
from .sched import Deadlock, Panic, ScheduleError, StuckThread

DEFAULT_TIMEOUT = 5.0  # seconds for one call of student code
EXPLORE_TIMEOUT = 10.0  # seconds for running or exploring a program under the scheduler
MAX_SCHEDULES = 20_000
PREEMPTION_BOUND = 3  # one preemption loses an update, two deadlock two locks; 3 leaves a margin
NOT_WRITTEN = "replace `raise NotImplementedError()` with your code, then run that cell again"

__all__ = [
    "DEFAULT_TIMEOUT",
    "answer",
    "call",
    "check_always",
    "check_deadlock_schedule",
    "check_equal",
    "check_ops",
    "check_prediction",
    "check_schedule",
    "explore_program",
    "hide_test_tracebacks",
    "raised_by",
    "run_nbgrader",
    "run_once",
]


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
        for thread in left:
            if thread is runner or thread.name == "rustsync-scheduler":
                _stop(thread)
    return result


def _stop(thread):
    """Ask a thread to end by raising `_GaveUp` in it; `except KeyboardInterrupt` does not catch it."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(_GaveUp))


def _name(func):
    name = getattr(func, "__name__", None) or type(func).__name__
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
    from .diagnostics import display_name

    package = os.path.dirname(os.path.abspath(__file__))
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
    if isinstance(exc, NotImplementedError) or _not_written(exc):
        return f"{who} is not written yet: {NOT_WRITTEN}."
    if isinstance(exc, StuckThread):
        return _too_slow(who, _step_timeout(), output)
    if isinstance(exc, ScheduleError) and "steps" in str(exc):
        return (f"{who} did not finish: under the scheduler it took more than "
                f"{_max_steps()} steps, so a thread probably loops forever (waiting in a loop "
                "for something that never happens)")
    if isinstance(exc, ScheduleError):
        return f"{who} could not be run under the scheduler: {exc}"
    if isinstance(exc, NameError) and getattr(exc, "name", None) and f"`{exc.name}`" in who:
        return _undefined(exc.name)
    text = _headline(f"{type(exc).__name__}: {exc}")
    return f"{who} raised {text}{_where(exc)}" + _printed(output)


def _undefined(name):
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


def call(func, *args, timeout=DEFAULT_TIMEOUT, hint="", **kwargs):
    """Call `func(*args, **kwargs)` from a thread of its own and return its result.

    Raises AssertionError (with a short message, not the student's traceback) when the
    call raises or does not finish within `timeout` seconds; `hint` is added to the
    message. What the call prints is captured, not shown.
    """
    __tracebackhide__ = True
    who = _name(func)
    if not callable(func):
        raise AssertionError(f"`{func!r}` is not a function: define it with `def` in the cell above and run that cell")
    result = _with_deadline(lambda: func(*args, **kwargs), timeout)
    if result.timed_out:
        raise AssertionError(_with_hint(_too_slow(who, timeout, result.output), hint)) from None
    if result.error is not None:
        raise AssertionError(_with_hint(_error_message(who, result.error, result.output), hint)) from None
    return result.value


def raised_by(func, *args, timeout=DEFAULT_TIMEOUT):
    """The name of the exception class `func(*args)` raises, or "nothing" when it returns."""
    __tracebackhide__ = True
    result = _with_deadline(lambda: func(*args), timeout)
    if result.timed_out:
        raise AssertionError(_too_slow(_name(func), timeout, result.output)) from None
    return "nothing" if result.error is None else type(result.error).__name__


# --- answers ---------------------------------------------------------------------------


def _kind(types):
    names = {set: "a set like {1, 2}", list: "a list like [1, 2, 1]", tuple: "a tuple", int: "a whole number",
             str: 'a string like "E0000"', bool: "True or False"}
    return " or ".join(names.get(t, t.__name__) for t in types)


def answer(name, *types):
    """The value of `name` in the notebook, checked to be one of `types`.

    Fails with a message saying which cell to fill in when the name is not defined.
    """
    __tracebackhide__ = True
    namespace = sys._getframe(1).f_globals
    if name not in namespace:
        raise AssertionError(f"`{name}` is not defined: write `{name} = ...` in the cell above ({NOT_WRITTEN})")
    value = namespace[name]
    if types and (not isinstance(value, types) or (isinstance(value, bool) and bool not in types)):
        raise AssertionError(f"`{name}` must be {_kind(types)}, but it is {type(value).__name__} {value!r}")
    return value


def check_equal(actual, expected, what, *, reveal=False, hint=""):
    """Fail unless `actual == expected`; say what was expected only when `reveal`."""
    __tracebackhide__ = True
    if actual != expected:
        if reveal:
            message = f"{what} is {actual!r}, but it should be {expected!r}"
        else:
            message = f"{what}: your answer {actual!r} is not what the code does"
        raise AssertionError(_with_hint(message, hint))


def _with_hint(message, hint):
    """The message as a sentence, then the hint."""
    if not message.endswith("\n"):
        message = message.rstrip(".") + ". "
    return (message + hint).rstrip()


# --- the scheduler, under a deadline -------------------------------------------------------


def _scheduled(work, who, timeout):
    __tracebackhide__ = True
    result = _with_deadline(work, timeout)
    if result.timed_out:
        raise AssertionError(_too_slow(who, timeout, result.output)) from None
    if result.error is not None:
        raise AssertionError(_error_message(who, result.error, result.output)) from None
    return result.value


def run_once(program, *, seed=0, who="your code", timeout=EXPLORE_TIMEOUT):
    """`sched.run(program, seed=seed)` under a deadline: one schedule, always the same one."""
    __tracebackhide__ = True
    return _scheduled(lambda: sched.run(program, seed=seed), who, timeout)


def explore_program(program, *, preemption_bound=None, who="your code", timeout=EXPLORE_TIMEOUT):
    """`sched.explore(program)` under a deadline, at most `MAX_SCHEDULES` schedules."""
    __tracebackhide__ = True
    return _scheduled(lambda: sched.explore(program, preemption_bound=preemption_bound,
                                            max_schedules=MAX_SCHEDULES), who, timeout)


def _outcome_problem(outcome, who):
    """A message when an outcome is a deadlock or a panic, else None."""
    if isinstance(outcome, Deadlock):
        return f"{who} can deadlock: {str(outcome).removeprefix('deadlock: ')}"
    if isinstance(outcome, Panic):
        if "NotImplementedError" in outcome.error:
            return f"{who} is not written yet: {NOT_WRITTEN}"
        missing = re.match(r"NameError: name '(\w+)' is not defined", outcome.error)
        if missing and f"`{missing.group(1)}`" in who:
            return _undefined(missing.group(1))
        where = "" if outcome.thread == 0 else f" in thread {outcome.thread}"
        return f"{who} raised{where} {_headline(outcome.error)}"
    return None


def _trace(run, limit=24):
    lines = run.show().splitlines()
    if len(lines) > limit:
        lines = lines[:limit] + [f"... ({len(lines) - limit} more events)"]
    return "\n".join("    " + line for line in lines)


def check_prediction(predicted, program, what, *, hint=""):
    """Fail unless `predicted` is exactly the set of outcomes `program` reaches over all schedules."""
    __tracebackhide__ = True
    try:
        predicted = set(predicted)
    except TypeError:
        raise AssertionError(f"your answer for {what} must be a set like {{1, 2}}, not {predicted!r}") from None
    exploration = explore_program(program, who="the program")
    reached = {"deadlock" if isinstance(o, Deadlock) else o for o in exploration.outcomes}
    extra = sorted(predicted - reached, key=repr)
    missing = reached - predicted
    if extra:
        values = ", ".join(repr(v) for v in extra)
        raise AssertionError(_with_hint(f"no schedule makes {what} {values}: remove it from your answer", hint))
    if missing:
        raise AssertionError(_with_hint(f"your answer misses {len(missing)} value(s) that {what} takes under "
                                        "some schedule", hint))


def _stepwise(problem, run):
    """The problem, then the schedule and its trace, for a deadlock or a wrong value."""
    if not run.trace:
        return problem
    return f"{problem}\nwith the schedule {run.schedule}, step by step:\n{_trace(run)}\n"


def check_always(program, expected, what, *, threads=None, uses=(), who="your code",
                 preemption_bound=PREEMPTION_BOUND, hint=""):
    """Fail unless every schedule of `program` ends with an outcome in `expected`.

    `threads`: the least number of threads the program must start, and `uses`: the
    kinds of steps it must take (say `["lock"]`), so that a function that gets the
    number right without threads, or without the mutex, does not pass. The message
    names a schedule that goes wrong and shows its trace.
    """
    __tracebackhide__ = True
    expected = set(expected)
    if threads is not None or uses:
        run = run_once(program, who=who)
        problem = _outcome_problem(run.outcome, who)
        if problem is not None:
            if isinstance(run.outcome, Deadlock):
                problem = _stepwise(problem, run)
            raise AssertionError(_with_hint(problem, hint))
        if threads is not None and run.threads - 1 < threads:
            raise AssertionError(_with_hint(f"{who} started {run.threads - 1} thread(s); it must start {threads} "
                                            "(one `spawn` per thread, then `join` each handle)", hint))
        ops = {event.op for event in run.trace}
        for op in uses:
            if op not in ops:
                raise AssertionError(_with_hint(f"{who} never calls `{op}`: the shared value must go through it",
                                                hint))
    exploration = explore_program(program, preemption_bound=preemption_bound, who=who)
    for outcome in sorted(exploration.outcomes, key=repr):
        problem = _outcome_problem(outcome, who)
        if problem is None and outcome in expected:
            continue
        bad = _scheduled(lambda: sched.replay(program, exploration.examples[outcome]), who, EXPLORE_TIMEOUT)
        if problem is None:
            want = " or ".join(repr(e) for e in sorted(expected, key=repr))
            problem = _stepwise(f"{what} can be {outcome!r} instead of {want}", bad)
        elif isinstance(outcome, Deadlock):
            problem = _stepwise(problem, bad)
        raise AssertionError(_with_hint(problem, hint))


def _valid_schedule(schedule, name="your schedule"):
    if not isinstance(schedule, (list, tuple)) or not all(
            isinstance(t, int) and not isinstance(t, bool) for t in schedule):
        raise AssertionError(f"{name} must be a list of thread numbers like [1, 2, 1], not {schedule!r}")
    if len(schedule) > 500:
        raise AssertionError(f"{name} has {len(schedule)} steps; a few dozen are enough")
    return list(schedule)


def _replayed(program, schedule):
    __tracebackhide__ = True
    try:
        return _scheduled(lambda: sched.replay(program, schedule), "the program", EXPLORE_TIMEOUT)
    except AssertionError as err:
        text = str(err)
        marker = "could not be run under the scheduler: "
        if marker in text:
            text = "your schedule cannot be followed: " + text.split(marker, 1)[1]
        raise AssertionError(text) from None


def check_schedule(program, schedule, expected, what, *, hint=""):
    """Fail unless replaying `schedule` (a list of thread ids) makes `program` end with `expected`."""
    __tracebackhide__ = True
    schedule = _valid_schedule(schedule)
    run = _replayed(program, schedule)
    if run.outcome != expected:
        got = "a deadlock" if isinstance(run.outcome, Deadlock) else repr(run.outcome)
        raise AssertionError(_with_hint(f"with your schedule {schedule}, {what} is {got}, not {expected!r}; "
                                        f"step by step:\n{_trace(run)}\n", hint))


def check_deadlock_schedule(program, schedule, *, hint=""):
    """Fail unless replaying `schedule` leaves every thread of `program` waiting for another."""
    __tracebackhide__ = True
    schedule = _valid_schedule(schedule)
    run = _replayed(program, schedule)
    if run.deadlock is None:
        raise AssertionError(_with_hint(f"with your schedule {schedule} every thread finished (the outcome is "
                                        f"{run.outcome!r}): no deadlock; step by step:\n{_trace(run)}\n", hint))


def check_ops(program, *, uses=(), avoids=(), who="your code", hint=""):
    """Fail unless one run of `program` takes steps of each kind in `uses` and none in `avoids`."""
    __tracebackhide__ = True
    run = run_once(program, who=who)
    problem = _outcome_problem(run.outcome, who)
    if problem is not None:
        raise AssertionError(_with_hint(problem, hint))
    ops = {event.op for event in run.trace}
    for op in uses:
        if op not in ops:
            raise AssertionError(_with_hint(f"{who} never calls `{op}`", hint))
    for op in avoids:
        if op in ops:
            raise AssertionError(_with_hint(f"{who} calls `{op}`, which this part asks you to do without", hint))


# --- feedback --------------------------------------------------------------------------------


def hide_test_tracebacks(nb, resources):
    """Feedback preprocessor: an error in an autograder test cell keeps only its last line.

    IPython's traceback shows the lines of the test cell it passed through, hidden tests
    included; the last line (`AssertionError: ...`) is the message meant for the student.
    Register it in nbgrader_config.py: `c.GenerateFeedback.preprocessors`.
    """
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
    return nb, resources


# --- running nbgrader -------------------------------------------------------------------------


def run_nbgrader(*args, cwd, env=None):
    """Run `nbgrader ARGS` from the folder `cwd`, in this process; return its log.

    The command line's own code (nbgrader's test suite runs its commands this way),
    without the two seconds of Python start-up each `nbgrader` command costs; for tests
    and benchmarks that run many commands. `env` replaces the environment meanwhile.
    Raises RuntimeError with the log when the command fails.
    """
    import io
    import logging

    from jupyter_core.application import NoStart
    from nbgrader.apps import NbGraderApp

    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    log = io.StringIO()
    if env is not None:
        os.environ.clear()
        os.environ.update(env)
    os.chdir(cwd)
    app = NbGraderApp.instance()
    code = 0
    try:
        app.initialize(list(args))
        app.init_logging(logging.StreamHandler, [log], color=False, subapps=True)
        app.start()
    except NoStart:
        pass
    except SystemExit as exc:
        code = exc.code
    finally:
        app.reset()
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    if code not in (0, None):
        raise RuntimeError(f"nbgrader {' '.join(args)} failed ({code}):\n{log.getvalue()}")
    return log.getvalue()



# --- cells that swallow Ctrl-C -----------------------------------------------------------


class CellStopped(BaseException):
    """The grader stopped a cell that ran past its time limit.

    When a cell runs too long, nbgrader interrupts the kernel, which normally raises
    KeyboardInterrupt; a top-level `while True: try: ... except KeyboardInterrupt: pass`
    would swallow that, keep the kernel busy, and leave the whole notebook ungraded. In
    grading kernels the interrupt raises this instead, which such code does not catch.
    """


def _stop_cell(signum, frame):
    raise CellStopped("the grader stopped this cell: it ran past the time limit "
                      "(a loop that never ends, or one that waits for something that never comes?)")


def stop_cells_on_interrupt():
    """In a grading kernel: make the kernel's interrupt raise `CellStopped`, not KeyboardInterrupt.

    ipykernel installs `signal.default_int_handler` (the name it imported) around each
    request it handles; replacing that name replaces what an interrupt raises.
    """
    import ipykernel.kernelbase as kernelbase

    kernelbase.default_int_handler = _stop_cell
