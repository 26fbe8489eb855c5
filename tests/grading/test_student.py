"""The student's side of grading (rustsync/grading/student.py).

In this process: how the grader's exceptions are mirrored (built-in classes are the real
ones, the course's are made with the same names, and nothing escapes `except Exception`),
how a student's exception is written for the grader, the proxies made for the grader's
objects, the references made for the student's functions (with the values a closure held
when it was sent), and the imports refused.

Then the process itself (`child_main`, started here as the grader starts it, without the
sandbox), driven over the wire by this test in the grader's place: every operation on a
grader's object is a request, an answer can raise or abort, a primitive cannot be used
from a thread of the student's, the course's package comes from the grader, and a message
nobody asked for ends the process.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import weakref

import pytest

from rustsync.grading import student, wire

# --- in this process -----------------------------------------------------------------------------------


@pytest.fixture
def fresh(monkeypatch):
    """The student's side's tables, empty, and put back afterwards."""
    for name, value in (("handles", weakref.WeakValueDictionary()), ("refs", {}), ("ref_ids", {}), ("drops", []),
                        ("printed", [])):
        monkeypatch.setattr(student.S, name, value)
    monkeypatch.setattr(student, "_methods_of", {})
    monkeypatch.setattr(student, "_snapshots", {})
    return student.S


def test_a_mirrored_exception_is_the_real_builtin_or_a_course_class_of_its_name_and_never_escapes_except_exception():
    assert student._mirror(("ValueError", "Exception", "BaseException")) is ValueError
    poison = student._mirror(("PoisonError", "RuntimeError", "Exception", "BaseException"))
    assert poison.__name__ == "PoisonError" and poison.__module__ == "rustsync"
    assert issubclass(poison, RuntimeError) and issubclass(poison, student._RemoteError)
    assert student._mirror(("PoisonError", "RuntimeError", "Exception", "BaseException")) is poison  # made once
    child = student._mirror(("Deeper", "PoisonError", "RuntimeError", "Exception", "BaseException"))
    assert issubclass(child, poison)
    for mro in (("KeyboardInterrupt", "BaseException"), ("Stop", "SystemExit", "BaseException"),
                ("GeneratorExit", "BaseException"), ("Unknown",)):
        assert issubclass(student._mirror(mro), Exception), mro


def cell_error(code, name="Cell In[7]"):
    try:
        exec(compile(code, name, "exec"), {})  # noqa: S102 - a student cell, as the student's process runs it
    except BaseException as exc:  # noqa: BLE001
        return student._error(exc)
    raise AssertionError("the cell raised nothing")


def test_a_students_exception_is_written_with_its_name_its_cell_and_line_and_whether_it_is_a_stub(fresh):
    info = cell_error("def f():\n    return 1 / 0\n\nf()\n")
    assert info["name"] == "ZeroDivisionError" and info["message"] == "division by zero"
    assert info["mro"] == ["ZeroDivisionError", "ArithmeticError", "Exception", "BaseException"]
    assert info["where"] == "Cell In[7], line 2"  # the innermost frame of a notebook cell
    assert "missing" not in info and "not_written" not in info and "printed" not in info
    assert cell_error("print(spelled_wrong)\n", "Cell In[3]")["missing"] == "spelled_wrong"
    code = "try:\n    raise NotImplementedError()\nexcept NotImplementedError:\n    raise ValueError('no answer')\n"
    assert cell_error(code)["not_written"] is True
    assert "not_written" not in cell_error("raise ValueError('an answer that fails')\n")


def test_what_the_code_printed_and_a_str_that_raises_reach_the_grader_safely(fresh):
    fresh.printed[:] = ["x" * 700, "last words\n"]

    class Rude(Exception):
        def __str__(self):
            raise RuntimeError("no")

    info = student._error(Rude())
    assert info["message"] == "?" and info["name"] == "Rude"
    assert info["printed"].endswith("last words\n") and len(info["printed"]) == 600


def test_a_grader_object_becomes_a_proxy_named_as_its_class_and_one_per_handle(fresh):
    mutex = student._handle(5, {"kind": "object", "type": "Mutex", "methods": ["lock", "try_lock"]})
    assert type(mutex).__name__ == "Mutex" and isinstance(mutex, student.Handle)
    assert student._handle(5, {"kind": "object", "type": "Mutex"}) is mutex
    assert object.__getattribute__(mutex, "_count") == 2  # the grader counts what it sent
    later = student._handle(6, {"kind": "object", "type": "Mutex"})  # the type's methods are told once
    assert isinstance(later.lock, student._Method) and isinstance(later.try_lock, student._Method)
    assert type(student._handle(7, {"kind": "class", "type": "type"})) is student.RemoteClass
    assert type(student._handle(8, {"kind": "module", "type": "module"})) is student.RemoteModule
    assert type(student._handle(9, {"kind": "object", "type": "not a name"})) is student.Handle
    assert student._handle(0, {"kind": "excclass", "mro": ["ValueError", "Exception"]}) is ValueError


def test_an_exception_from_the_grader_carries_its_handle_and_its_message(fresh):
    exc = student._exception({"mro": ["PoisonError", "RuntimeError", "Exception"], "message": "poisoned", "h": 12,
                              "methods": ["into_inner"]})
    assert isinstance(exc, RuntimeError) and type(exc).__name__ == "PoisonError" and str(exc) == "poisoned"
    assert isinstance(exc._rustsync_handle, student.Handle)
    assert student._other(exc) == ["h", 12, {}]  # raised again, the grader gets its own object back
    assert isinstance(exc.into_inner, student._Method)  # its other attributes are the grader's


def test_a_students_function_crosses_as_a_reference_with_what_it_captured(fresh):
    def helper(x):
        return x + 1

    first = student.encode(helper)
    assert first[0] == "r" and student.encode(helper) == first
    info = first[2]
    assert info["callable"] is True and info["name"] == "helper" and info["type"] == "function"
    assert student._reference(first[1], {}) is helper
    with pytest.raises(wire.ProtocolError, match="no object 99"):
        student._reference(99, {})

    mutex = student._handle(3, {"kind": "object", "type": "Mutex", "methods": []})
    made = []
    for n in range(3):
        def work():
            return n, mutex
        made.append(student.encode(work))
    assert [student.S.refs[ref[1]]()[0] for ref in made] == [0, 1, 2]  # as Rust's move captures it
    captured = dict(zip(made[1][2]["freevars"], made[1][2]["captured"], strict=True))
    assert captured == {"n": ["int", 1], "mutex": ["h", 3, {}]}
    assert made[0][2]["code"] == made[2][2]["code"]  # threads of one closure behave alike


# --- the process, driven over the wire -------------------------------------------------------------------


class Grader:
    """This test in the grader's place: one end of the socket pair, the student's process at the other."""

    def __init__(self):
        ours, theirs = socket.socketpair()
        code = "import sys; from rustsync.grading import student; student.child_main(int(sys.argv[1]))"
        self.proc = subprocess.Popen([sys.executable, "-c", code, str(theirs.fileno())], pass_fds=[theirs.fileno()])
        theirs.close()
        self.end = wire.Endpoint(ours)
        assert self.receive() == {"t": "ready"}

    def send(self, **message):
        self.end.send(message)

    def receive(self):
        return self.end.receive(deadline=time.monotonic() + 20)

    def cell(self, code, lane=1, name="Cell In[2]"):
        self.send(t="cell", lane=lane, code=code, name=name)
        return self.receive()

    def names(self):
        self.send(t="names")
        answer = self.receive()
        assert answer["t"] == "names"
        return answer["names"]

    def close(self):
        self.end.close()
        try:
            self.proc.wait(10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def grader():
    g = Grader()
    yield g
    g.close()


MUTEX = ["h", 5, {"kind": "object", "type": "Mutex", "methods": ["lock"]}]


def test_a_cell_runs_there_and_its_names_come_back_as_values_and_references(grader):
    assert grader.cell("x = [1, (2, 'a')]\n\ndef double(n, plus=0):\n    return 2 * n + plus\n") == \
        {"t": "done", "lane": 1}
    names = grader.names()
    assert names["x"] == ["list", [["int", 1], ["tuple", [["int", 2], ["str", "a"]]]]]
    kind, rid, info = names["double"]
    assert kind == "r" and info["callable"] is True and info["name"] == "double"
    grader.send(t="call", lane=2, f=rid, args=[["int", 20]], kwargs=[["plus", ["int", 2]]])
    assert grader.receive() == {"t": "return", "lane": 2, "value": ["int", 42]}
    grader.send(t="call", lane=3, f=rid, args=[["str", "no"]], kwargs=[["plus", ["int", 1]]])
    error = grader.receive()
    assert error["t"] == "error" and error["error"]["name"] == "TypeError" and error["error"]["where"] == \
        "Cell In[2], line 4"


def test_every_operation_on_a_grader_object_is_a_request_the_grader_answers(grader):
    grader.send(t="bind", names={"m": MUTEX})
    assert grader.receive() == {"t": "bound"}
    grader.send(t="cell", lane=1, name="Cell In[3]", code=(
        "kind = type(m).__name__\n"
        "g = m.lock()\n"
        "try:\n    m.lock()\nexcept RuntimeError as err:\n    caught = [type(err).__name__, str(err)]\n"))
    assert grader.receive() == {"t": "req", "lane": 1, "op": "method", "h": 5, "name": "lock", "args": [],
                                "kwargs": []}
    grader.send(t="reply", lane=1, value=["int", 7])
    assert grader.receive()["op"] == "method"
    grader.send(t="raise", lane=1, exc={"mro": ["PoisonError", "RuntimeError", "Exception"], "message": "poisoned"})
    assert grader.receive() == {"t": "done", "lane": 1}
    names = grader.names()
    assert names["g"] == ["int", 7] and names["kind"] == ["str", "Mutex"]
    assert names["caught"] == ["list", [["str", "PoisonError"], ["str", "poisoned"]]]
    assert "m" not in names  # still what the grader bound it to


def test_an_abort_ends_the_students_thread_even_through_except_exception(grader):
    grader.send(t="bind", names={"m": MUTEX})
    grader.receive()
    grader.send(t="cell", lane=1, name="Cell In[4]", code=(
        "after = False\ntry:\n    m.lock()\nexcept Exception:\n    pass\nafter = True\n"))
    assert grader.receive()["t"] == "req"
    grader.send(t="abort", lane=1)
    done = grader.receive()
    assert done["t"] == "done" and done["error"]["name"] == "Aborted"
    assert grader.names()["after"] == ["bool", False]


def test_a_primitive_used_from_a_thread_of_the_students_is_refused_without_asking_the_grader(grader):
    grader.send(t="bind", names={"m": MUTEX})
    grader.receive()
    done = grader.cell("import threading\nseen = []\n\ndef use():\n    try:\n        m.lock()\n"
                       "    except RuntimeError as err:\n        seen.append(str(err))\n\n"
                       "t = threading.Thread(target=use)\nt.start()\nt.join()\n")
    assert done == {"t": "done", "lane": 1}  # no request came first
    [said] = grader.names()["seen"][1]
    assert "only from the notebook's own code and from threads started with `spawn`" in said[1]


def test_import_rustsync_gives_the_graders_package_and_refuses_its_private_modules(grader):
    grader.send(t="cell", lane=1, code="from rustsync import Mutex\nimport rustsync.grading.checks\n")
    assert grader.receive() == {"t": "req", "lane": 1, "op": "module", "name": "rustsync"}
    grader.send(t="reply", lane=1, value=["h", 1, {"kind": "module", "type": "module"}])
    assert grader.receive() == {"t": "req", "lane": 1, "op": "getattr", "h": 1, "name": "__all__"}
    grader.send(t="reply", lane=1, value=["list", [["str", "Mutex"]]])
    assert grader.receive() == {"t": "req", "lane": 1, "op": "getattr", "h": 1, "name": "Mutex"}
    grader.send(t="reply", lane=1, value=["h", 2, {"kind": "class", "type": "type"}])
    done = grader.receive()
    assert done["error"]["name"] == "ImportError" and "rustsync.grading" in done["error"]["message"]
    assert grader.names()["Mutex"] == ["h", 2, {}]


def test_a_message_nobody_asked_for_ends_the_students_process(grader):
    grader.send(t="reply", lane=9, value=["int", 1])  # no call of lane 9 waits for an answer
    with pytest.raises(wire.Closed):
        grader.receive()
    assert grader.proc.wait(10) == 0
