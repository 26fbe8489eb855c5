"""Calling student functions and checking the values they return or the answers they name."""

import sys

from ..plain import NotPlain, decode, describe, encode, plain, same
from . import records
from .deadline import DEFAULT_TIMEOUT, NOT_WRITTEN, _error_message, _name, _too_slow, _unreached, _with_deadline
from .records import _check, _fail

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
    if records.STUDENT is None:
        return []
    from ...mutex import MutexGuard

    return sorted({getattr(obj._mutex, "name", "mutex") for obj, *_ in list(records.STUDENT.objects.values())
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
             "assigned_in": records.ASSIGNED.get(name) if name not in namespace else None}
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


records.DECIDERS.update(answer=_decide_answer, equal=_decide_equal)
