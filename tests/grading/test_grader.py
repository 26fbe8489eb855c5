"""The grader's side of a part (rustsync/grading/grader.py), without starting the student's process.

How a student's exception is seen here (`student_exception`: its name, the built-in class it
derives from, never an exception that escapes `except Exception`); which objects and methods
the student's code may reach (`_course_types`, `_methods`); the student's requests as the
grader applies them to its own objects (`Student._dispatch`), and each one it refuses; the
forms values are sent in (`share`, `copy`) and the handles it drops; and `RemoteRef`, the
grader's view of a student's object, which can be called there and nothing else.
"""

from __future__ import annotations

import os

import pytest

import rustsync
from rustsync import Arc, AtomicUsize, Mutex, MutexGuard, PoisonError
from rustsync.grading import checks, grader, wire
from rustsync.sched import _engine


class Offline(grader.Student):
    """The grader's end with no student's process behind it: requests are handed to `_dispatch` by the test."""

    def __init__(self, namespace=None):
        super().__init__(endpoint=None, pid=None, namespace=namespace if namespace is not None else {})
        self.calls = []

    def kill(self, why):
        self.dead = why

    def call(self, ref, args, kwargs):
        self.calls.append((ref, args, kwargs))
        return "called there"


@pytest.fixture
def student():
    return Offline()


def ask(student, op, handle=None, **fields):
    return student._dispatch({"op": op, **({"h": handle[1]} if handle else {}), **fields})


# --- a student's exception ------------------------------------------------------------------------------


def test_a_students_exception_is_named_as_theirs_and_is_its_builtin_class_too():
    exc = grader.student_exception({"name": "Overdrawn", "mro": ["Overdrawn", "ValueError", "Exception"],
                                    "message": "no money", "where": "Cell In[4], line 2", "not_written": True,
                                    "printed": "balance: -3\n"})
    assert type(exc).__name__ == "Overdrawn" and str(exc) == "no money"
    assert isinstance(exc, grader.StudentError) and isinstance(exc, ValueError)
    assert (exc.where, exc.not_written, exc.printed) == ("Cell In[4], line 2", True, "balance: -3\n")
    again = grader.student_exception({"name": "Overdrawn", "mro": ["Overdrawn", "ValueError"]})
    assert type(again) is type(exc)  # one class per name and base
    missing = grader.student_exception({"name": "NameError", "mro": ["NameError", "Exception"],
                                        "missing": "helper"})
    assert isinstance(missing, NameError) and missing.name == "helper" and missing.missing == "helper"


def test_a_students_exception_never_escapes_except_exception_whatever_the_report_says():
    for info in ({"name": "KeyboardInterrupt", "mro": ["KeyboardInterrupt", "BaseException"]},
                 {"name": "SystemExit", "mro": ["SystemExit", "BaseException"]},
                 {"name": "CellStopped", "mro": ["CellStopped", "BaseException"]}):
        exc = grader.student_exception(info)
        assert isinstance(exc, Exception) and not isinstance(exc, (KeyboardInterrupt, SystemExit)), info
    for info in (None, [1, 2], {"name": "not a name!", "message": "m" * 5000, "where": 3, "not_written": "yes",
                                "printed": ["x"], "mro": "ValueError"}):
        exc = grader.student_exception(info)
        assert type(exc).__name__ == "Exception" and isinstance(exc, grader.StudentError)
        assert len(str(exc)) <= 1000 and exc.where is None and exc.not_written is False and exc.printed == ""


# --- what the student's code may reach --------------------------------------------------------------------


def test_the_course_types_are_the_public_api_and_plain_containers_only():
    allowed = grader._course_types()
    for cls in (Mutex, MutexGuard, Arc, AtomicUsize, PoisonError, rustsync.RefCell, rustsync.Rc, list, dict, set):
        assert cls in allowed, cls
    for cls in (_engine.SimThread, object, type, type(os), type(len), type(lambda: 0), tuple, str, int, bytes):
        assert cls not in allowed, cls


def test_the_methods_named_to_the_student_are_public_methods_and_safe_operators_only():
    mutex, guard = grader._methods(Mutex), grader._methods(MutexGuard)
    assert {"lock", "try_lock", "into_inner", "is_poisoned", "__repr__", "__eq__"} <= set(mutex)
    assert "__enter__" in guard and "value" not in guard  # a property is read with getattr, not called
    for names in (mutex, guard, grader._methods(list)):
        assert names == sorted(names)
        assert all(not name.startswith("_") or name in grader.SAFE_DUNDERS for name in names)
    assert "__init__" not in mutex and "__class__" not in mutex and "__reduce__" not in grader._methods(list)


# --- the student's requests ---------------------------------------------------------------------------------


def test_locking_through_a_handle_locks_the_graders_own_mutex(student):
    mutex = Mutex(0)
    handle = student.share(mutex)
    assert handle[0] == "h" and "lock" in handle[2]["methods"]
    guard = ask(student, "method", handle, name="lock", args=[], kwargs=[])
    assert guard[2]["type"] == "MutexGuard" and mutex.is_locked()
    assert ask(student, "getattr", guard, name="value") == ["int", 0]
    ask(student, "setattr", guard, name="value", value=["int", 5])
    assert ask(student, "exit", guard, error="ValueError: gave up") == ["bool", False]
    assert not mutex.is_locked() and mutex.is_poisoned()  # a panic in the `with` block poisons, as in Rust
    assert mutex.peek() == 5


def test_a_request_outside_the_course_api_is_refused(student):
    mutex = student.share(Mutex(0))
    for name in ("_inner", "__class__", "__dict__", "__reduce_ex__", 3):
        with pytest.raises(AttributeError, match="is not part of the course's API"):
            ask(student, "getattr", mutex, name=name)
    with pytest.raises(TypeError, match="not one the grader gave to your code"):
        ask(student, "call", ["h", 99])
    for outside in (os, os.getcwd, checks.check_always):
        with pytest.raises(TypeError, match="cannot be used by student code while grading"):
            ask(student, "call", student.share(outside), args=[], kwargs=[])
    with pytest.raises(ImportError, match="not part of the course's API while grading"):
        ask(student, "module", name="rustsync.grading")
    with pytest.raises(wire.ProtocolError, match="unknown operation"):
        ask(student, "delete", mutex)


def test_the_course_modules_show_their_public_names_only_and_cannot_be_changed(student):
    module = ask(student, "module", name="rustsync")
    assert ask(student, "getattr", module, name="__all__") == student.copy(list(rustsync.__all__))
    with pytest.raises(AttributeError, match="module 'rustsync' has no attribute 'mutex'"):
        ask(student, "getattr", module, name="mutex")
    mutex_class = ask(student, "getattr", module, name="Mutex")
    with pytest.raises(AttributeError, match="cannot set `lock` of the course's `Mutex`"):
        ask(student, "setattr", mutex_class, name="lock", value=["None", None])
    assert Mutex.lock is rustsync.mutex.Mutex.lock
    assert ask(student, "isinstance", mutex_class, value=student.share(Mutex(1))) == ["bool", True]


def test_a_locked_cells_function_and_a_course_objects_method_may_be_called():
    def helper(n):  # as a locked cell defines it: its globals are the grader's namespace for the part
        return n + 1

    namespace = {}
    exec("def helper(n):\n    return n + 1\n", namespace)  # noqa: S102 - the instructor's cell
    student = Offline(namespace)
    assert ask(student, "call", student.share(namespace["helper"]), args=[["int", 2]], kwargs=[]) == ["int", 3]
    with pytest.raises(TypeError, match="cannot be used"):
        ask(student, "call", student.share(helper), args=[["int", 2]], kwargs=[])  # a function of another module
    atomic = AtomicUsize(3)
    bound = ask(student, "getattr", student.share(atomic), name="fetch_add")
    ask(student, "call", bound, args=[["int", 4]], kwargs=[])
    assert atomic.load() == 7


def test_shared_values_are_handles_for_what_can_change_and_copies_for_the_rest(student):
    items = [1, 2]
    shared = student.share((items, 3, "x"))
    assert shared[0] == "tuple" and shared[1][1:] == [["int", 3], ["str", "x"]]
    handle = shared[1][0]
    assert handle[0] == "h" and "methods" in handle[2]
    ask(student, "method", handle, name="append", args=[["int", 3]], kwargs=[])
    assert items == [1, 2, 3]  # the change reached the grader's list
    assert "methods" not in student.share([4])[2]  # a type's methods are told once
    assert student.copy([items, 3]) == ["list", [["list", [["int", 1], ["int", 2], ["int", 3]]], ["int", 3]]]
    with pytest.raises(wire.ProtocolError, match="no object 42 was given"):
        student.decode(["h", 42, {}])


def test_a_handle_is_forgotten_when_every_copy_the_student_held_is_dropped(student):
    mutex = Mutex(0)
    first = student.share(mutex)
    assert student.share(mutex)[1] == first[1]  # the same object, the same handle, sent twice
    student._drops({"drops": [[first[1], 1], ["junk", 1], [77, 1]]})
    assert student.decode(first) is mutex
    student._drops({"drops": [[first[1], 1]]})
    with pytest.raises(wire.ProtocolError):
        student.decode(first)
    held = Mutex(0)
    guard = student.share(held.lock())
    student._drops({"drops": [[guard[1], 1]]}, panicking=True)  # dropped while the student's function unwound
    assert not held.is_locked() and held.is_poisoned()


def test_an_exception_of_the_graders_raised_again_by_the_student_is_the_graders_own(student):
    error = ValueError("from the grader")
    info = student._exception_info(error)
    assert info["mro"] == ["ValueError", "Exception", "BaseException"] and info["message"] == "from the grader"
    assert student._raised({"h": info["h"]}) is error
    forged = student._raised({"h": student.share(Mutex(0))[1], "name": "ValueError", "mro": ["ValueError"]})
    assert isinstance(forged, grader.StudentError)  # a handle to something that is no exception is not raised


# --- RemoteRef ---------------------------------------------------------------------------------------------


def test_a_student_object_is_called_there_moves_only_the_course_objects_it_captured_and_is_nothing_else(student):
    func = grader.RemoteRef(student, 3, {"callable": True, "name": "work", "type": "function"})
    assert func(1, k=2) == "called there" and student.calls == [(func, (1,), {"k": 2})]
    assert func.__name__ == "work" and repr(func) == "<function 'work' of the student's>"
    account = grader.RemoteRef(student, 4, {"callable": False, "type": "Account"})
    with pytest.raises(TypeError, match="'Account' object is not callable"):
        account()
    assert repr(account) == "<Account of the student's>" and account.student_type == "Account"
    assert account.fingerprint(repr) is None
    with pytest.raises(AttributeError):
        account.balance  # noqa: B018 - nothing of the student's object is looked at here

    mutex = Mutex(0)
    captured = [student.copy(7), student.share(mutex)]
    globals_ = {"counter": student.share(mutex), "plain": ["int", 1]}
    func = grader.RemoteRef(student, 5, {"callable": True, "name": "work", "code": 2, "captured": captured,
                                         "freevars": ["n", "m"], "globals": globals_})
    assert func._rustsync_captures() == [("m", mutex), ("counter", mutex)]
    assert func.fingerprint(repr) == ("student function", 2, ("7", repr(mutex)))
    broken = grader.RemoteRef(student, 6, {"callable": True, "code": 2, "captured": [["h", 999, {}]]})
    assert broken.fingerprint(repr) is None and broken._rustsync_captures() == []
