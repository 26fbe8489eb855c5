"""What the assignments' test cells call: student code under a deadline, decisions by the scheduler.

Every check gathers facts (plain data: the student's values as `plain` copies, the
outcomes the scheduler reached, the steps each thread took) and then decides from
those facts alone, with a pure function (`decide`). In the student's kernel a failed
check raises `AssertionError` with a message a student can act on. In the grader's
worker each check also leaves its facts in `RECORDS`; the grader decides each one
again, in its own process, from the facts, so an answer whose `==` lies, or a check
replaced by student code, decides nothing.

Student code runs in a thread of its own with a deadline, so code that deadlocks,
loops forever or ignores Ctrl-C costs its part and nothing else; what it writes to
stdout or stderr is kept out of the test cell.
"""

from __future__ import annotations

import inspect
import os
import re
import sys
import textwrap
import threading
import weakref

from .. import limits, sched
from .._sim import raise_in
from ..sched import Deadlock, Panic, ScheduleError, StepLimit, StuckThread, Violation
from .plain import NotPlain, decode, describe, encode, plain, same, tagged

DEFAULT_TIMEOUT = limits.CALL_SECONDS  # seconds for one call of student code
EXPLORE_TIMEOUT = limits.EXPLORE_SECONDS  # seconds for running or exploring a program under the scheduler
MAX_SCHEDULES = 20_000
PREEMPTION_BOUND = 3  # one preemption loses an update, two deadlock two locks; 3 leaves a margin
CHECK_STEPS = 200  # a schedule of check_always still running after this many steps is cut (see check_always)
NOT_WRITTEN = "replace `raise NotImplementedError()` with your code, then run that cell again"
# JupyterLab's nbgrader Validate dialog is at most 1000 px wide and shows a failed test's error in a
# <pre> that does not wrap: at 13 px monospace (7.8 px a character) about 118 characters fit, and a
# longer line is hidden behind a scroll bar. Messages are wrapped well inside that, counting the
# "AssertionError: " in front of their first line.
MESSAGE_WIDTH = 100

__all__ = [
    "DEFAULT_TIMEOUT",
    "answer",
    "drawn",
    "call",
    "check_always",
    "check_deadlock_schedule",
    "check_equal",
    "check_ops",
    "check_prediction",
    "check_schedule",
    "explore_program",
    "decide",
    "raised_by",
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
        if STUDENT is not None:  # the student's code is still running there: only ending it stops it
            STUDENT.kill("it ran past its time")
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
    from ..diagnostics import display_name

    if type(getattr(exc, "where", None)) is str:  # an exception of the student's process says where itself
        return f" ({exc.where})"

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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
    if ASSIGNED.get(name):
        return _unreached(name, ASSIGNED[name])
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


# --- records: the facts of each check, for the grader to decide again -----------------------

RECORDS = None  # a list in the grader's worker, where every check appends its facts; None elsewhere
STUDENT = None  # in the grader's worker: the connection to the student's process (grader.Student)
ASSIGNED = {}  # in the grader's worker: name -> [the student cell that assigns it, how that cell ended]
SEED = 0  # in the grader's worker: a number fixed for each student, for `drawn`


def drawn(kind, size=None):
    """Test inputs drawn from a seed fixed per student: the same on every run for one student, other for others.

    "words": a list of 3 or 4 short words, one of them twice; "chunks": a list of 3 or 4 lists
    of small numbers with a value repeated; `size` fixes how many. In the student's kernel the
    seed is 0, so the visible tests are the same for everyone.
    """
    import random

    rng = random.Random(f"{SEED}:{kind}:{size}")
    count = size or rng.choice((3, 4))
    if kind == "words":
        pool = ["mutex", "arc", "send", "sync", "guard", "lock", "rc", "cell", "join", "spawn", "atomic"]
        words = rng.sample(pool, count - 1)
        words.append(rng.choice(words))
        rng.shuffle(words)
        return words
    if kind == "chunks":
        chunks = [[rng.randint(1, 9) for _ in range(rng.choice((1, 2, 3)))] for _ in range(count)]
        chunks[-1].append(chunks[0][0])  # a value in two chunks
        chunks[0].append(chunks[0][0])  # and twice in one
        rng.shuffle(chunks)
        return chunks
    raise ValueError(f"no inputs of kind {kind!r}")


def _check(kind, facts):
    """Decide `facts` of a check of `kind`; record them for the grader; raise when it fails."""
    __tracebackhide__ = True
    if RECORDS is not None:
        RECORDS.append({"kind": kind, "facts": facts})
    ok, message = decide(kind, facts)
    if not ok:
        raise AssertionError(message) from None


def _fail(message):
    __tracebackhide__ = True
    _check("failed", {"message": message})


def decide(kind, facts):
    """(passed, message) for the facts of one check: a pure function of plain data.

    The message's lines are wrapped at `MESSAGE_WIDTH` (see `wrap`)."""
    decider = _DECIDERS.get(kind)
    if decider is None or not isinstance(facts, dict):
        return False, f"the grader cannot decide a check of kind {kind!r}"
    try:
        ok, message = decider(facts)
    except (KeyError, TypeError, ValueError, NotPlain) as err:
        return False, f"the grader could not read the facts of this check ({type(err).__name__})"
    return ok, wrap(message)


def wrap(message, width=MESSAGE_WIDTH, first="AssertionError: "):
    """`message` with every line longer than `width` broken at spaces, the first line counting the
    `first` text shown before it; a broken line's continuation keeps the line's indentation.
    A word longer than a line (a long value) stays whole."""
    if type(message) is not str:
        return message
    lines = []
    for number, line in enumerate(message.split("\n")):
        room = width - (len(first) if number == 0 else 0)
        if len(line) <= room:
            lines.append(line)
            continue
        indent = line[:len(line) - len(line.lstrip(" "))]
        pieces = textwrap.wrap(line, width=room, subsequent_indent=indent, break_long_words=False,
                               break_on_hyphens=False, drop_whitespace=True)
        if pieces:
            pieces[1:] = textwrap.wrap(" ".join(piece.strip() for piece in pieces[1:]), width=width,
                                       initial_indent=indent, subsequent_indent=indent,
                                       break_long_words=False, break_on_hyphens=False)
        lines.extend(pieces or [line])
    return "\n".join(lines)


def _decide_failed(facts):
    return False, str(facts["message"])


def _key(value):
    """A plain, encoded form of an outcome: a Deadlock or a Panic by its text, else the value itself."""
    if isinstance(value, Deadlock):
        return ["Deadlock", str(value)]
    if isinstance(value, Panic):
        return ["Panic", [value.thread, value.error]]
    if isinstance(value, StepLimit):
        return ["StepLimit", [value.steps, list(value.running)]]
    if isinstance(value, Violation):
        return ["Violation", str(value.message)]
    try:
        return encode(plain(value, "the result"))
    except NotPlain as err:
        return ["NotPlain", str(err)]


def _is_special(key):
    return key[0] in ("Deadlock", "Panic", "StepLimit", "NotPlain", "Violation")


def _exact_in(key, choices):
    """True when the encoded outcome `key` is exactly one of the encoded `choices`."""
    if _is_special(key):
        return False
    wanted = {tagged(decode(c)) for c in choices}
    return tagged(decode(key)) in wanted


def _shown(key):
    if key[0] == "Deadlock":
        return "a deadlock"
    if key[0] == "Panic":
        return f"a panic in thread {key[1][0]}"
    if key[0] == "StepLimit":
        return "a schedule that never ends"
    if key[0] == "NotPlain":
        return "a value that is not plain data"
    if key[0] == "Violation":
        return f"a broken invariant ({key[1]})"
    return describe(decode(key))


# --- calling student code --------------------------------------------------------------------


def call(func, *args, timeout=DEFAULT_TIMEOUT, hint="", **kwargs):
    """Call `func(*args, **kwargs)` from a thread of its own and return its result.

    Fails (AssertionError with a short message, not the student's traceback) when the
    call raises or does not finish within `timeout` seconds; `hint` is added to the
    message. What the call prints is captured, not shown.
    """
    __tracebackhide__ = True
    who = _name(func)
    if not callable(func) or getattr(func, "_callable", True) is False:
        _fail(f"`{func!r:.60}` is not a function: define it with `def` in the cell above and run that cell")
    def work():  # which guards the student's code keeps is read before this thread ends and drops its own
        return func(*args, **kwargs), _guards_kept()

    result = _with_deadline(work, timeout)
    if result.timed_out:
        _fail(_with_hint(_too_slow(who, timeout, result.output), hint))
    if result.error is not None:
        _fail(_with_hint(_error_message(who, result.error, result.output), hint))
    result.value, kept = result.value
    if kept:
        _fail(_with_hint(f"{who} returned while your code still keeps a guard of `{kept[0]}` alive (in a list, a "
                         "global, an object): its lock is never released. Release the lock before you return: end "
                         "the guard's `with` block, or `drop` it", hint))
    return result.value


def _guards_kept():
    """Names of the mutexes whose guards the student's process still holds, live (in the grader's worker)."""
    if STUDENT is None:
        return []
    from ..mutex import MutexGuard

    return sorted({getattr(obj._mutex, "name", "mutex") for obj, *_ in list(STUDENT.objects.values())
                   if isinstance(obj, MutexGuard) and getattr(obj, "_live", False)})


def raised_by(func, *args, timeout=DEFAULT_TIMEOUT):
    """The name of the exception class `func(*args)` raises, or "nothing" when it returns."""
    __tracebackhide__ = True
    result = _with_deadline(lambda: func(*args), timeout)
    if result.timed_out:
        _fail(_too_slow(_name(func), timeout, result.output))
    return "nothing" if result.error is None else type(result.error).__name__


# --- answers ---------------------------------------------------------------------------


def _kind(types):
    names = {set: "a set like {1, 2}", list: "a list like [1, 2, 1]", tuple: "a tuple", int: "a whole number",
             str: 'a string like "E0000"', bool: "True or False", dict: "a dict", float: "a number"}
    return " or ".join(names.get(t, t.__name__) for t in types)


_TYPES = {"set": set, "list": list, "tuple": tuple, "int": int, "str": str, "bool": bool, "dict": dict,
          "float": float, "frozenset": frozenset, "None": type(None)}


def answer(name, *types):
    """A plain copy of the value of `name` in the notebook, checked to be exactly one of `types`.

    Fails with a message saying which cell to fill in when the name is not defined, and
    when the value is not plain data of one of `types` (subclasses do not count, and
    neither does `True` for a number nor `1` for True).
    """
    __tracebackhide__ = True
    namespace = sys._getframe(1).f_globals
    facts = {"name": name, "types": [t.__name__ if t is not type(None) else "None" for t in types],
             "defined": name in namespace, "value": None, "problem": None,
             "assigned_in": ASSIGNED.get(name) if name not in namespace else None}
    if facts["defined"]:
        value = namespace[name]
        try:
            facts["value"] = encode(plain(value, f"`{name}`"))
        except NotPlain as err:
            facts["problem"] = f"`{name}` must be {_kind(types)}, but {err}"
    _check("answer", facts)
    return decode(facts["value"])


def _decide_answer(facts):
    name = facts["name"]
    if not facts["defined"] and facts.get("assigned_in"):
        return False, _unreached(name, facts["assigned_in"])
    if not facts["defined"]:
        return False, f"`{name}` is not defined: write `{name} = ...` in the cell above ({NOT_WRITTEN})"
    if facts["problem"]:
        return False, str(facts["problem"])
    value = decode(facts["value"])
    types = [_TYPES[t] for t in facts["types"]]
    if types and type(value) not in types:
        return False, f"`{name}` must be {_kind(types)}, but it is {type(value).__name__} {describe(value)}"
    return True, ""


def check_equal(actual, expected, what, *, reveal=False, hint=""):
    """Fail unless `actual` equals `expected` exactly (plain data, same types).

    The message says what was expected only when `reveal`.
    """
    __tracebackhide__ = True
    try:
        wanted = encode(plain(expected, "the expected value"))
    except NotPlain as err:
        raise TypeError(f"check_equal compares plain data only: {err}") from None
    facts = {"what": what, "reveal": bool(reveal), "hint": hint, "expected": wanted, "actual": None,
             "problem": None}
    try:
        facts["actual"] = encode(plain(actual, what))
    except NotPlain as err:
        facts["problem"] = str(err)
    _check("equal", facts)


def _decide_equal(facts):
    what, hint = facts["what"], facts["hint"]
    expected = decode(facts["expected"])
    if facts["problem"]:
        return False, _with_hint(f"{what}: {facts['problem']}", hint)
    actual = decode(facts["actual"])
    if same(actual, expected):
        return True, ""
    if facts["reveal"]:
        message = f"{what} is {describe(actual)}, but it should be {describe(expected)}"
        if actual == expected:
            message += f" (a {type(expected).__name__}, not a {type(actual).__name__})"
    else:
        message = f"{what}: your answer {describe(actual)} is not what the code does"
    return False, _with_hint(message, hint)


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
        _fail(_too_slow(who, timeout, result.output))
    if result.error is not None:
        _fail(_error_message(who, result.error, result.output))
    return result.value


def run_once(program, *, seed=0, who="your code", timeout=EXPLORE_TIMEOUT, max_steps=None):
    """`sched.run(program, seed=seed)` under a deadline: one schedule, always the same one.

    With `max_steps`, a run still going after that many steps fails as one that never ends.
    """
    __tracebackhide__ = True
    limit = {} if max_steps is None else {"max_steps": max_steps}
    return _scheduled(lambda: sched.run(program, seed=seed, **limit), who, timeout)


def explore_program(program, *, preemption_bound=None, who="your code", timeout=EXPLORE_TIMEOUT, max_steps=None,
                    invariant=None):
    """`sched.explore(program)` under a deadline, at most `MAX_SCHEDULES` schedules.

    With `max_steps`, every schedule is cut there and counted (`stop_at_step_limit=False`).
    """
    __tracebackhide__ = True
    limit = {} if max_steps is None else {"max_steps": max_steps, "stop_at_step_limit": False}
    return _scheduled(lambda: sched.explore(program, preemption_bound=preemption_bound, max_schedules=MAX_SCHEDULES,
                                            invariant=invariant, **limit), who, timeout)


def _outcome_problem(outcome, who):
    """A message when an outcome is a deadlock or a panic, else None."""
    if isinstance(outcome, Deadlock):
        return f"{who} can deadlock: {str(outcome).removeprefix('deadlock: ')}"
    if isinstance(outcome, Panic):
        if "NotImplementedError" in outcome.error:
            return f"{who} is not written yet: {NOT_WRITTEN}"
        missing = re.match(r"NameError: (?:name '(\w+)' is not defined|(`(\w+)` is not defined: the grader .*))",
                           outcome.error)
        if missing and missing.group(2):
            return missing.group(2)
        if missing and f"`{missing.group(1)}`" in who:
            return _undefined(missing.group(1))
        where = "" if outcome.thread == 0 else f" in thread {outcome.thread}"
        return f"{who} raised{where} {_headline(outcome.error)}"
    if isinstance(outcome, Violation):
        return f"under {who}, {outcome.message}"
    if isinstance(outcome, StepLimit):
        who_runs = ", ".join(str(t) for t in outcome.running)
        return (f"{who} did not finish: under the scheduler, thread(s) {who_runs} still ran after "
                f"{outcome.steps} steps, so a thread probably loops forever (waiting in a loop for "
                "something that never happens)")
    return None


def _trace(run, limit=24):
    lines = run.show().splitlines()
    if len(lines) > limit:
        lines = lines[:limit] + [f"... ({len(lines) - limit} more events)"]
    return "\n".join("    " + line for line in lines)


def _outcomes(exploration):
    """The exploration's outcomes as sorted [key, count] pairs (plain data)."""
    pairs = [[_key(o), n] for o, n in exploration.outcomes.items()]
    pairs.sort(key=lambda pair: repr(pair[0]))
    return pairs


def check_prediction(predicted, program, what, *, hint=""):
    """Fail unless `predicted` is exactly the set of outcomes `program` reaches over all schedules.

    A deadlock is written as the string "deadlock".
    """
    __tracebackhide__ = True
    facts = {"what": what, "hint": hint, "predicted": None, "problem": None, "reached": []}
    try:
        predicted = plain(predicted, f"your answer for {what}")
        if type(predicted) not in (set, frozenset):
            raise NotPlain(f"it is {type(predicted).__name__} {describe(predicted)}")
        facts["predicted"] = encode(predicted)
    except NotPlain as err:
        facts["problem"] = f"your answer for {what} must be a set like {{1, 2}}: {err}"
    if facts["problem"] is None:
        exploration = explore_program(program, who="the program")
        reached = {"deadlock" if isinstance(o, Deadlock) else o for o in exploration.outcomes}
        facts["reached"] = [encode(plain(o, "an outcome")) for o in sorted(reached, key=repr)]
    _check("prediction", facts)


def _decide_prediction(facts):
    what, hint = facts["what"], facts["hint"]
    if facts["problem"]:
        return False, str(facts["problem"])
    predicted = {tagged(v): v for v in decode(facts["predicted"])}
    reached = {tagged(decode(v)): decode(v) for v in facts["reached"]}
    extra = sorted((predicted[k] for k in predicted.keys() - reached.keys()), key=repr)
    missing = reached.keys() - predicted.keys()
    if extra:
        values = ", ".join(describe(v) for v in extra)
        return False, _with_hint(f"no schedule makes {what} {values}: remove it from your answer", hint)
    if missing:
        return False, _with_hint(f"your answer misses {len(missing)} value(s) that {what} takes under some "
                                 "schedule", hint)
    return True, ""


def _stepwise(problem, run, needs=""):
    """The problem, then the schedule (and how many preemptions it `needs`) and its trace."""
    if not run.trace:
        return problem
    told = f" (it {needs})" if needs else ""
    return f"{problem}\nwith the schedule {run.schedule}{told}, step by step:\n{_trace(run)}\n"


def _simplest(program, outcome, example, who, preemption_bound, invariant=None, max_steps=CHECK_STEPS):
    """The run to show for `outcome`: the simplest schedule that reaches it (the fewest
    preemptions, then the fewest steps), else `example` replayed. And the words for how
    many preemptions it needs ("" when unknown)."""
    __tracebackhide__ = True
    wanted = repr(_key(outcome))

    def reaches(o):
        return repr(_key(o)) == wanted

    found = _with_deadline(lambda: sched.minimal_schedule(program, reaches, max_preemptions=preemption_bound,
                                                          max_steps=max_steps, invariant=invariant),
                           EXPLORE_TIMEOUT)
    if not found.timed_out and found.error is None and found.value is not None and reaches(found.value.outcome):
        run = found.value
        return run, sched.needs(run.preemptions)
    return _scheduled(lambda: sched.replay(program, example, max_steps=max_steps, invariant=invariant), who,
                      EXPLORE_TIMEOUT), ""


def _ops_by_thread(run):
    ops = {}
    for event in run.trace:
        ops.setdefault(event.thread, set()).add(event.op)
    return {str(t): sorted(o) for t, o in sorted(ops.items())}


def check_always(program, expected, what, *, threads=None, uses=(), joins=False, who="your code",
                 preemption_bound=PREEMPTION_BOUND, invariant=None, max_steps=CHECK_STEPS, hint=""):
    """Fail unless every schedule of `program` ends with an outcome in `expected`.

    `invariant` (see `sched.explore`) is watched between steps: a schedule that breaks it
    fails the check with its message. Schedules are cut at `max_steps` steps. One still
    running there fails the check, unless the program ends when each thread runs until it
    waits or backs off (`replay(program, [])`): a retry loop can go on for as long as an
    unfair schedule lets it, and still be right.

    `threads`: the least number of threads the program must start, and `uses`: the
    kinds of steps each thread it starts must take (say `["lock"]`), so that a function
    that gets the number right without threads, or with threads that never lock, does
    not pass. Outcomes must equal one of `expected` exactly (`1` is not `True`). The
    message names a schedule that goes wrong and shows its trace.
    """
    __tracebackhide__ = True
    choices = [encode(plain(e, "an expected outcome")) for e in sorted(expected, key=repr)]
    facts = {"what": what, "who": who, "hint": hint, "expected": choices, "threads": threads,
             "uses": [op if isinstance(op, str) else sorted(op) for op in uses], "joins": bool(joins),
             "first": None, "outcomes": [], "bad": None}
    if threads is not None or uses or joins:
        run = run_once(program, who=who, max_steps=max_steps)
        problem = _outcome_problem(run.outcome, who)
        if problem is not None and isinstance(run.outcome, Deadlock):
            problem = _stepwise(problem, run)
        facts["first"] = {"problem": problem, "started": run.threads - 1, "ops": _ops_by_thread(run),
                          "unjoined": sorted(getattr(run, "unjoined", ()) or ())}
        ok, _ = _decide_first(facts)
        if not ok:
            _check("always", facts)
    exploration = explore_program(program, preemption_bound=preemption_bound, who=who, max_steps=max_steps,
                                  invariant=invariant)
    facts["outcomes"] = _outcomes(exploration)
    if any(isinstance(o, StepLimit) for o in exploration.outcomes):
        # A retry loop (`try_lock` and back off) can go on for as long as an unfair schedule lets it: that
        # is no failure when the schedule that lets each thread run until it waits or backs off ends.
        fair = _scheduled(lambda: sched.replay(program, [], max_steps=max_steps), who, EXPLORE_TIMEOUT)
        facts["fair_ends"] = not isinstance(fair.outcome, StepLimit)
    keys = {repr(_key(o)): o for o in exploration.outcomes}
    for key, _count in facts["outcomes"]:
        outcome = keys[repr(key)]
        problem = _outcome_problem(outcome, who)
        if problem is None and _exact_in(key, choices) or (key[0] == "StepLimit" and facts.get("fair_ends")):
            continue
        bad, needs = _simplest(program, outcome, exploration.examples[outcome], who, preemption_bound, invariant,
                               max_steps)
        if problem is None:
            want = " or ".join(_shown(c) for c in choices)
            problem = _stepwise(f"{what} can be {_shown(key)} instead of {want}", bad, needs)
        elif isinstance(outcome, (Deadlock, StepLimit, Violation)):
            problem = _stepwise(problem, bad, needs)
        facts["bad"] = {"key": key, "problem": problem}
        break
    _check("always", facts)


def _decide_first(facts):
    first, who, hint = facts["first"], facts["who"], facts["hint"]
    if first is None:
        return True, ""
    if first["problem"]:
        return False, _with_hint(first["problem"], hint)
    threads = facts["threads"]
    if threads is not None and first["started"] < threads:
        return False, _with_hint(f"{who} started {first['started']} thread(s); it must start {threads} "
                                 "(one `spawn` per thread, then `join` each handle)", hint)
    workers = {str(t): set(first["ops"].get(str(t), [])) for t in range(1, int(first["started"]) + 1)}
    for op in facts["uses"]:
        choices = {op} if isinstance(op, str) else set(op)  # ["lock", "try_lock"]: either one will do
        named = " or ".join(f"`{o}`" for o in sorted(choices))
        if not workers and not choices & set(first["ops"].get("0", [])):
            return False, _with_hint(f"{who} never calls {named}: the shared value must go through it", hint)
        idle = sorted((t for t, ops in workers.items() if not choices & ops), key=int)
        if idle and len(idle) == len(workers):
            return False, _with_hint(f"{who} never calls {named}: the shared value must go through it", hint)
        if idle:
            return False, _with_hint(f"thread {idle[0]} of {who} never calls {named}: every thread must change "
                                     "the shared value through it", hint)
    unjoined = first.get("unjoined") or []
    if facts.get("joins") and unjoined:
        return False, _with_hint(f"{who} never joins thread {unjoined[0]}: `join` every handle `spawn` "
                                 "returns before you read the result", hint)
    return True, ""


def _decide_always(facts):
    ok, message = _decide_first(facts)
    if not ok:
        return ok, message
    choices, what, hint = facts["expected"], facts["what"], facts["hint"]
    bad = [key for key, _ in facts["outcomes"] if not _exact_in(key, choices)
           and not (key[0] == "StepLimit" and facts.get("fair_ends") is True)]
    if not facts["outcomes"]:
        return False, "the program was not explored"
    if not bad:
        return True, ""
    reported = facts["bad"]
    if reported is not None and any(repr(reported["key"]) == repr(key) for key in bad):
        return False, _with_hint(str(reported["problem"]), hint)
    want = " or ".join(_shown(c) for c in choices)
    return False, _with_hint(f"{what} can be {_shown(bad[0])} instead of {want}", hint)


def _valid_schedule(schedule, name="your schedule"):
    """The schedule as a list of ints, or None when it is not one; and a message saying why not."""
    if type(schedule) not in (list, tuple) or not all(type(t) is int for t in schedule):
        return None, f"{name} must be a list of thread numbers like [1, 2, 1], not {describe(schedule)}"
    if len(schedule) > 500:
        return None, f"{name} has {len(schedule)} steps; a few dozen are enough"
    return list(schedule), None


def _replayed(program, schedule):
    __tracebackhide__ = True
    result = _with_deadline(lambda: sched.replay(program, schedule), EXPLORE_TIMEOUT)
    if result.timed_out:
        return None, _too_slow("the program", EXPLORE_TIMEOUT, result.output)
    if result.error is not None:
        text = _error_message("the program", result.error, result.output)
        marker = "could not be run under the scheduler: "
        if marker in text:
            text = "your schedule cannot be followed: " + text.split(marker, 1)[1]
        return None, text
    return result.value, None


def check_schedule(program, schedule, expected, what, *, hint=""):
    """Fail unless replaying `schedule` (a list of thread ids) makes `program` end with `expected` exactly."""
    __tracebackhide__ = True
    facts = {"what": what, "hint": hint, "expected": encode(plain(expected, "the expected outcome")),
             "schedule": None, "problem": None, "outcome": None, "trace": ""}
    steps, problem = _valid_schedule(schedule)
    if problem is None:
        facts["schedule"] = steps
        run, problem = _replayed(program, steps)
        if run is not None:
            facts["outcome"], facts["trace"] = _key(run.outcome), _trace(run)
    facts["problem"] = problem
    _check("schedule", facts)


def _decide_schedule(facts):
    if facts["problem"]:
        return False, str(facts["problem"])
    key, expected = facts["outcome"], facts["expected"]
    if _exact_in(key, [expected]):
        return True, ""
    got = _shown(key)
    return False, _with_hint(f"with your schedule {facts['schedule']}, {facts['what']} is {got}, not "
                             f"{_shown(expected)}; step by step:\n{facts['trace']}\n", facts["hint"])


def check_deadlock_schedule(program, schedule, *, hint=""):
    """Fail unless replaying `schedule` leaves every thread of `program` waiting for another."""
    __tracebackhide__ = True
    facts = {"hint": hint, "schedule": None, "problem": None, "deadlock": False, "outcome": None, "trace": ""}
    steps, problem = _valid_schedule(schedule)
    if problem is None:
        facts["schedule"] = steps
        run, problem = _replayed(program, steps)
        if run is not None:
            facts["deadlock"] = run.deadlock is not None
            facts["outcome"], facts["trace"] = _key(run.outcome), _trace(run)
    facts["problem"] = problem
    _check("deadlock_schedule", facts)


def _decide_deadlock_schedule(facts):
    if facts["problem"]:
        return False, str(facts["problem"])
    if facts["deadlock"] is True:
        return True, ""
    return False, _with_hint(f"with your schedule {facts['schedule']} every thread finished (the outcome is "
                             f"{_shown(facts['outcome'])}): no deadlock; step by step:\n{facts['trace']}\n",
                             facts["hint"])


def check_ops(program, *, uses=(), avoids=(), who="your code", hint=""):
    """Fail unless one run of `program` takes steps of each kind in `uses` and none in `avoids`."""
    __tracebackhide__ = True
    run = run_once(program, who=who)
    facts = {"who": who, "hint": hint, "uses": list(uses), "avoids": list(avoids),
             "problem": _outcome_problem(run.outcome, who), "ops": sorted({event.op for event in run.trace})}
    _check("ops", facts)


def _decide_ops(facts):
    who, hint = facts["who"], facts["hint"]
    if facts["problem"]:
        return False, _with_hint(str(facts["problem"]), hint)
    ops = set(facts["ops"])
    for op in facts["uses"]:
        if op not in ops:
            return False, _with_hint(f"{who} never calls `{op}`", hint)
    for op in facts["avoids"]:
        if op in ops:
            return False, _with_hint(f"{who} calls `{op}`, which this part asks you to do without", hint)
    return True, ""


_DECIDERS = {
    "failed": _decide_failed,
    "answer": _decide_answer,
    "equal": _decide_equal,
    "prediction": _decide_prediction,
    "always": _decide_always,
    "schedule": _decide_schedule,
    "deadlock_schedule": _decide_deadlock_schedule,
    "ops": _decide_ops,
}
