"""The grader's side of one part: instructor code, the scheduler and every primitive live here.

`run_part(job, out)` runs in a fresh process forked by the worker (`worker.py`) for
one test cell. Before anything else it starts the student's process (`student.py`) in
a user and PID namespace of its own, connected by a socket pair, and makes itself
undumpable, so the student's process can neither see, signal nor trace this one.

Then it lines up the notebook's cells: the instructor's locked cells and the test cell
run *here*, with the real builtins, in a namespace no student code shares; the
student's cells run *there*. A name a locked cell defines is bound in the student's
namespace to a handle; a name a student cell defines is bound here to a plain copy of
its value (exact built-in types only) or to a `RemoteRef`, which only the student's
process can call. The primitives (mutexes and their guards, racy cells, atomics,
`Arc`/`Rc` counts, threads, joins) are objects of this process: the student's code
reaches them only through messages that name an operation this module allows on an
object of the course, and the scheduler that drives the student's threads is this
process's. So outcomes, traces, who did what, and the checks' facts are all made here;
the student's process can choose its own operations and its own return values, and
nothing else.

Why a process and not a syntax check: an earlier design ran everything in one process
and refused student cells whose syntax could reach the grader (an AST gate). It was
both too loose (a shadowed builtin, a `global` rebinding of a check while the test ran)
and too strict (`format`, `type`, small classes, `import random`, `nonlocal` cost
honest students their points). A process boundary needs no list of forbidden syntax:
the gate is now advice only.
"""

from __future__ import annotations

import builtins
import collections
import ctypes
import linecache
import operator
import os
import resource
import signal
import socket
import sys
import threading
import time
import types
import weakref

import greenlet

from ..interrupts import CellStopped
from ..limits import PART
from . import wire

__all__ = ["RemoteRef", "Student", "StudentError", "StudentGone", "run_part", "start_student"]


# --- exceptions from the student's side -----------------------------------------------------------


class StudentError(Exception):
    """An exception a student's code raised, as the grader sees it: a name, a message, where."""

    where = None
    missing = None
    not_written = False
    printed = ""


class StudentGone(Exception):
    """The student's process stopped answering (it ran past its time, crashed, or broke the protocol)."""


_classes = {}
_SAFE_BASES = {name: value for name, value in vars(builtins).items()
               if isinstance(value, type) and issubclass(value, Exception)}


def student_exception(info):
    """A `StudentError` named as the student's exception; also an instance of the built-in class it derives from."""
    info = info if type(info) is dict else {}
    name = str(info.get("name") or "Exception")[:80]
    mro = [str(n) for n in info.get("mro") or []][:20]
    base = next((_SAFE_BASES[n] for n in mro if n in _SAFE_BASES), Exception)
    key = (name, base)
    cls = _classes.get(key)
    if cls is None:
        bases = (StudentError,) if base is Exception else (StudentError, base)
        try:
            cls = type(name if name.isidentifier() else "Exception", bases, {"__module__": "builtins"})
        except TypeError:  # a layout conflict between StudentError and an odd built-in
            cls = type(name if name.isidentifier() else "Exception", (StudentError,), {"__module__": "builtins"})
        _classes[key] = cls
    exc = cls(str(info.get("message", ""))[:1000])
    exc.where = info.get("where") if type(info.get("where")) is str else None
    exc.missing = info.get("missing") if type(info.get("missing")) is str else None
    if exc.missing and isinstance(exc, NameError):
        exc.name = exc.missing
    exc.not_written = info.get("not_written") is True
    exc.printed = info.get("printed") if type(info.get("printed")) is str else ""
    return exc


# --- what the student's process may touch -----------------------------------------------------------

SAFE_DUNDERS = {"__repr__", "__str__", "__format__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__",
                "__hash__", "__bool__", "__len__", "__iter__", "__next__", "__getitem__", "__setitem__",
                "__delitem__", "__contains__", "__enter__", "__add__", "__index__", "__int__"}
_OPERATORS = {"__repr__": repr, "__str__": str, "__format__": format, "__eq__": operator.eq, "__ne__": operator.ne,
              "__lt__": operator.lt, "__le__": operator.le, "__gt__": operator.gt, "__ge__": operator.ge,
              "__hash__": hash, "__bool__": bool, "__len__": len, "__iter__": iter, "__next__": next,
              "__getitem__": operator.getitem, "__setitem__": operator.setitem, "__delitem__": operator.delitem,
              "__contains__": operator.contains, "__add__": operator.add, "__index__": operator.index,
              "__int__": int}
PUBLIC_MODULES = ("rustsync", "rustsync.sched")


def _course_types():
    """The classes whose instances the student's code may operate on: the course's public API and plain containers."""
    import rustsync
    import rustsync.sched
    from rustsync import atomic, errors, mutex, rc, refcell, thread
    from rustsync.sched import _engine

    found = set()
    for module in (rustsync, rustsync.sched, atomic, errors, mutex, rc, refcell, thread, _engine):
        for name, value in vars(module).items():
            if isinstance(value, type) and not name.startswith("_") and \
                    getattr(value, "__module__", "").startswith("rustsync"):
                found.add(value)
    found.discard(_engine.SimThread)
    found.add(thread._SimHandle)
    found.update({list, dict, set, collections.Counter, type(iter([])), type(iter({})), type({}.keys()),
                  type({}.values()), type({}.items()), type(iter({}.items())), type(iter({}.values())),
                  type(iter(set())), type(iter(())), type(reversed([]))})
    return frozenset(found)


def _course_functions():
    import rustsync
    import rustsync.sched

    out = set()
    for module in (rustsync, rustsync.sched):
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if isinstance(value, types.FunctionType):
                out.add(value)
    return frozenset(out)


_methods_of = {}


def _methods(cls):
    """Names of the methods of `cls` the student's side may call in one message (no properties)."""
    names = _methods_of.get(cls)
    if names is None:
        names = []
        for name in dir(cls):
            if name.startswith("_") and name not in SAFE_DUNDERS:
                continue
            try:
                attr = getattr(cls, name)
            except AttributeError:
                continue
            if callable(attr) and not isinstance(attr, (property, type)):
                names.append(name)
        _methods_of[cls] = names = sorted(names)
    return names


def _mro_names(cls):
    return [c.__name__ for c in cls.__mro__ if c is not object]


class RemoteRef:
    """An object of the student's process: it can be called (there), passed back, and nothing else."""

    __slots__ = ("_student", "_rid", "_tname", "_name", "_callable", "_code", "_captured", "_names", "_globals",
                 "__weakref__")
    _rustsync_remote_function = True  # ownership.capture asks it what it captured

    def __init__(self, student, rid, info):
        self._student, self._rid = student, rid
        self._tname = str(info.get("type") or "object")[:80]
        self._name = str(info.get("name") or self._tname)[:80]
        self._callable = info.get("callable") is True
        self._code = info.get("code") if type(info.get("code")) is int else None
        self._captured, self._names, self._globals = (), (), ()
        captured = info.get("captured")
        if self._code is not None and type(captured) is list:
            try:
                self._captured = tuple(student.decode(c) for c in captured)
            except wire.ProtocolError:
                self._code = None
        names = info.get("freevars")
        if type(names) is list and len(names) == len(self._captured) and all(type(n) is str for n in names):
            self._names = tuple(names)
        found = info.get("globals")
        if self._code is not None and type(found) is dict:
            try:
                self._globals = tuple((str(k), student.decode(v)) for k, v in found.items()
                                      if type(v) is list and v[:1] == ["h"])
            except wire.ProtocolError:
                self._globals = ()

    def _rustsync_captures(self):
        """The course's objects the function captured, (name, object) pairs, as `spawn` checks and moves them.

        Plain data crossed as copies, which no thread of the student's shares: only the
        course's objects (held here, in the grader) move, are dropped when the thread ends,
        or are refused (`Rc`, a guard: E0277), as in the student's own kernel.
        """
        pairs = [*zip(self._names, self._captured, strict=False), *self._globals]
        return [(name, value) for name, value in pairs if type(value).__module__.startswith("rustsync.")]

    def _rustsync_item(self):
        """A function is an item, as in Rust: a closure can use it without moving it."""
        return self._callable

    def fingerprint(self, fp):
        """What the scheduler's model knows this function by: its code and what it captured, or itself."""
        if self._code is None:
            return None
        return ("student function", self._code, tuple(fp(c) for c in self._captured))

    @property
    def __name__(self):  # noqa: A003 - what the checks' messages call a function
        return self._name

    @property
    def student_type(self):
        return self._tname

    def __call__(self, *args, **kwargs):
        if not self._callable:
            raise TypeError(f"'{self._tname}' object is not callable")
        return self._student.call(self, args, kwargs)

    def __repr__(self):
        shown = f" {self._name!r}" if self._callable else ""
        return f"<{self._tname}{shown} of the student's>"


# --- the connection to the student's process ---------------------------------------------------------


class Student:
    """The grader's end of the student's process: lanes, handles, references, deadlines."""

    def __init__(self, endpoint, pid, namespace):
        self.endpoint = endpoint
        self.pid = pid
        self.namespace = namespace
        self.objects = {}  # handle id -> [object, how many times the student's side was sent it]
        self.handle_ids = {}  # id(object) -> handle id
        self.refs = {}  # reference id -> RemoteRef
        self.lanes = weakref.WeakKeyDictionary()  # greenlet -> lane
        self.next_lane = 1
        self.dead = None  # why the student's process is gone
        self.deadline = None  # time.monotonic() by which the student's side must answer
        self.types = _course_types()
        self.functions = _course_functions()
        # Student calls made outside the scheduler (a check's `call`) may start real threads, which
        # talk to the student's process at once: one reads at a time and hands each message to its lane.
        self.cond = threading.Condition()
        self.sending = threading.Lock()
        self.reading = False
        self.mail = {}  # lane -> messages read for it while another lane's thread was reading
        self.next_hid = 1
        self.described = set()  # the types whose methods the student's side was told

    # -- life --------------------------------------------------------------------------------------

    def kill(self, why):
        if self.dead is None:
            self.dead = why
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        self.endpoint.close()

    def _gone(self):
        return StudentGone(f"your code stopped answering the grader: {self.dead}")

    def _send(self, message):
        if self.dead is not None:
            raise self._gone()
        try:
            with self.sending:
                self.endpoint.send(message)
        except wire.ProtocolError as err:
            self.kill(f"its process went away ({err})")
            raise self._gone() from None

    def _receive(self, lane=None):
        """The next message for `lane` (None: one that belongs to no lane)."""
        while True:
            with self.cond:
                while True:
                    if self.dead is not None:
                        raise self._gone()
                    box = self.mail.get(lane)
                    if box:
                        return box.pop(0)
                    if not self.reading:
                        self.reading = True
                        break
                    self.cond.wait(0.05)
            try:
                message = self._read()
            finally:
                with self.cond:
                    self.reading = False
                    self.cond.notify_all()
            owner = message.get("lane")
            if owner == lane:
                return message
            with self.cond:
                box = self.mail.setdefault(owner if type(owner) is int else None, [])
                box.append(message)
                if sum(len(b) for b in self.mail.values()) > 10_000:
                    self.kill("it broke the protocol (messages nobody asked for)")
                self.cond.notify_all()

    def _read(self):
        if self.dead is not None:
            raise self._gone()
        try:
            return self.endpoint.receive(self.deadline)
        except wire.TimedOut:
            self.kill("it ran past its time")
        except wire.Closed:
            self.kill("its process ended or crashed")
        except wire.ProtocolError as err:
            self.kill(f"it broke the protocol ({err})")
        except BaseException:  # a stop while the student's code runs: the only way to stop it is to end it
            self.kill("the grader stopped it")
            raise
        raise self._gone()

    def lane(self):
        me = greenlet.getcurrent()
        lane = self.lanes.get(me)
        if lane is None:
            lane = self.lanes[me] = self.next_lane
            self.next_lane += 1
        return lane

    # -- values ------------------------------------------------------------------------------------

    def _handle_of(self, value):
        if isinstance(value, type) and issubclass(value, BaseException):
            return ["h", 0, {"kind": "excclass", "mro": _mro_names(value)}]
        hid = self.handle_ids.get(id(value))
        entry = self.objects.get(hid) if hid is not None else None
        if entry is None or entry[0] is not value:
            hid = self.next_hid  # never reused: a late message names one object only
            self.next_hid += 1
            entry = self.objects[hid] = [value, 0]
            self.handle_ids[id(value)] = hid
        entry[1] += 1
        kind = "class" if isinstance(value, type) else "module" if isinstance(value, types.ModuleType) else "object"
        info = {"kind": kind, "type": type(value).__name__}
        if kind == "object" and type(value) not in self.described:  # the student's side keeps them by type
            self.described.add(type(value))
            info["methods"] = _methods(type(value))
        return ["h", hid, info]

    def share(self, value, depth=0):
        """The wire form of a value for the student's side: mutable containers as handles, so changes reach here."""
        kind = type(value)
        if kind in wire.SCALARS or kind is float:
            return wire.encode(value, None)
        if kind in (tuple, frozenset) and depth < wire.MAX_DEPTH:
            return [wire.CONTAINERS[kind], [self.share(v, depth + 1) for v in value]]
        return self._handle_of(value)

    def copy(self, value):
        """The wire form of a value for the student's side, plain containers copied."""
        return wire.encode(value, self._handle_of)

    def _object(self, hid, info):
        entry = self.objects.get(hid)
        if entry is None:
            raise wire.ProtocolError(f"no object {hid} was given to the student")
        return entry[0]

    def _reference(self, rid, info):
        ref = self.refs.get(rid)
        if ref is None:
            ref = self.refs[rid] = RemoteRef(self, rid, info)
        return ref

    def decode(self, data):
        return wire.decode(data, self._object, self._reference)

    def _drops(self, message, panicking=False):
        for item in message.get("drops") or []:
            if type(item) is list and len(item) == 2 and type(item[0]) is int and type(item[1]) is int:
                entry = self.objects.get(item[0])
                if entry is not None:
                    entry[1] -= item[1]
                    if entry[1] <= 0:
                        if panicking:
                            from ..mutex import MutexGuard

                            if type(entry[0]) is MutexGuard and entry[0]._live:
                                entry[0]._release(poison=True)
                        del self.objects[item[0]]
                        self.handle_ids.pop(id(entry[0]), None)
                        del entry[:]  # the last reference this table kept

    # -- calls both ways ---------------------------------------------------------------------------

    def _serve(self, lane):
        """Answer the student's requests on `lane` until its call or cell ends; that end message."""
        stopping = None
        while True:
            message = self._receive(lane)
            kind = message.get("t")
            if message.get("lane") != lane or kind not in ("req", "return", "error", "done"):
                self.kill(f"it broke the protocol (a {str(kind)[:20]!r} message for lane "
                          f"{str(message.get('lane'))[:10]}, while lane {lane} runs)")
                raise self._gone()
            if kind != "req":  # its drops are taken once its value is read (they may name what it holds)
                if stopping is not None:
                    self._drops(message)
                    raise stopping
                return message
            if stopping is not None:
                self._drops(message)
                self._send({"t": "abort", "lane": lane})
                continue
            # A request's drops are of proxies that died before it was sent, which its arguments
            # cannot name: release them first (a guard dropped with `del` unlocks before the next lock)
            self._drops(message)
            try:
                value = self._dispatch(message)
            except (StudentGone, greenlet.GreenletExit):
                raise  # a thread abandoned and collected: the student's side of it waits forever, unasked
            except Exception as exc:  # noqa: BLE001 - raised in the student's code, where it was asked for
                self._send({"t": "raise", "lane": lane, "exc": self._exception_info(exc)})
            except BaseException as exc:  # the scheduler unwinding, a stop: the student's thread ends too
                stopping = exc
                self._send({"t": "abort", "lane": lane})
            else:
                self._send({"t": "reply", "lane": lane, "value": value})

    def _exception_info(self, exc):
        handle = self._handle_of(exc)
        return {"mro": _mro_names(type(exc)), "message": str(exc)[:2000], "h": handle[1], "type": type(exc).__name__,
                "methods": _methods(type(exc))}

    def call(self, ref, args, kwargs):
        """Call the student's `ref` with these arguments, on the lane of the running thread."""
        lane = self.lane()
        self._send({"t": "call", "lane": lane, "f": ref._rid, "args": [self.share(a) for a in args],
                    "kwargs": [[str(k), self.share(v)] for k, v in kwargs.items()]})
        message = self._serve(lane)
        if message.get("t") != "return":
            raised = self._raised(message.get("error"))
            # the student's function panicked: a guard its frames held is dropped while unwinding, and poisons
            # its mutex, as in Rust (and as in the student's kernel, where the traceback keeps it until then)
            self._drops(message, panicking=isinstance(raised, Exception))
            raise raised
        try:
            return self._value(message.get("value"))
        finally:
            self._drops(message)

    def _value(self, data):
        try:
            return self.decode(data)
        except wire.ProtocolError as err:
            self.kill(f"it broke the protocol ({err})")
            raise self._gone() from None

    def _raised(self, info):
        if type(info) is dict and type(info.get("h")) is int:
            entry = self.objects.get(info["h"])
            if entry is not None and isinstance(entry[0], Exception):
                return entry[0]  # one of ours, raised again by the student's code
        return student_exception(info)

    def run_cell(self, code, name, seconds):
        """Run a student cell there; None, or the `StudentError` it ended with."""
        lane = self.lane()
        self.deadline = time.monotonic() + seconds
        try:
            self._send({"t": "cell", "lane": lane, "code": code, "name": name})
            message = self._serve(lane)
        finally:
            self.deadline = None
        error = message.get("error")
        try:
            return None if error is None else self._raised(error)
        finally:
            self._drops(message)

    def exchange(self, message, answer, seconds=30):
        """Send `message` (or nothing, if None) and return the answer of kind `answer`, outside any lane."""
        self.deadline = time.monotonic() + seconds
        try:
            if message is not None:
                self._send(message)
            got = self._receive()
        finally:
            self.deadline = None
        if got.get("t") != answer:
            self.kill(f"it broke the protocol (no {answer!r} message)")
            raise self._gone()
        return got

    def names(self):
        """{name: value} of what the student's namespace holds (plain copies, handles, references)."""
        message = self.exchange({"t": "names"}, "names")
        if type(message.get("names")) is not dict:
            self.kill("it broke the protocol (no names)")
            raise self._gone()
        out = {}
        for name, data in message["names"].items():
            if type(name) is str and name.isidentifier():
                try:
                    out[name] = self.decode(data)
                except wire.ProtocolError:
                    continue
        return out

    def bind(self, values):
        """Bind these names in the student's namespace (plain values copied, the rest as handles)."""
        self.exchange({"t": "bind", "names": {name: self.copy(value) for name, value in values.items()}}, "bound")

    # -- what the student's side may ask -----------------------------------------------------------

    def _allowed(self, obj):
        if type(obj) in self.types or (isinstance(obj, type) and obj in self.types):
            return True
        if isinstance(obj, types.FunctionType):
            if obj in self.functions or obj.__globals__ is self.namespace:  # the course's, or a locked cell's
                return True
            owner = sys.modules.get(getattr(obj, "__module__", "") or "")
            head = obj.__qualname__.split(".")[0]  # `Arc.clone`, taken from the class
            base = getattr(owner, head, None) if owner is not None and "." in obj.__qualname__ else None
            return isinstance(base, type) and any(issubclass(t, base) for t in self.types)
        if isinstance(obj, (types.MethodType, types.BuiltinMethodType, types.MethodWrapperType)):
            owner = getattr(obj, "__self__", None)
            return owner is not None and not isinstance(owner, types.ModuleType) and self._allowed(owner)
        if isinstance(obj, Exception):
            return True
        if isinstance(obj, types.ModuleType):
            return obj.__name__ in PUBLIC_MODULES
        import enum

        return isinstance(obj, enum.Enum) and type(obj).__module__.startswith("rustsync")

    def _target(self, message):
        hid = message.get("h")
        if type(hid) is not int or hid not in self.objects:
            raise TypeError("this object is not one the grader gave to your code")
        obj = self.objects[hid][0]
        if not self._allowed(obj):
            raise TypeError(f"an object of type `{type(obj).__name__}` cannot be used by student code while grading")
        return obj

    @staticmethod
    def _name(message):
        name = message.get("name")
        if type(name) is not str or (name.startswith("_") and name not in SAFE_DUNDERS):
            raise AttributeError(f"`{str(name)[:40]}` is not part of the course's API")
        return name

    def _args(self, message):
        args = [self.decode(a) for a in message.get("args") or []]
        kwargs = {}
        for pair in message.get("kwargs") or []:
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                raise wire.ProtocolError("not a keyword argument")
            kwargs[pair[0]] = self.decode(pair[1])
        return args, kwargs

    def _dispatch(self, message):
        op = message.get("op")
        if op == "module":
            name = message.get("name")
            if name not in PUBLIC_MODULES:
                raise ImportError(f"`{str(name)[:60]}` is not part of the course's API while grading")
            import importlib

            return self._handle_of(importlib.import_module(name))
        obj = self._target(message)
        if op == "getattr":
            name = message.get("name")
            if isinstance(obj, types.ModuleType):
                public = getattr(obj, "__all__", ())
                if name == "__all__":
                    return self.copy(list(public))
                if name not in public:
                    raise AttributeError(f"module '{obj.__name__}' has no attribute '{str(name)[:40]}'")
                return self.share(getattr(obj, name))
            return self.share(getattr(obj, self._name(message)))
        if op == "setattr":
            name = self._name(message)
            if isinstance(obj, (type, types.ModuleType, types.FunctionType)):
                raise AttributeError(f"cannot set `{name}` of the course's `{getattr(obj, '__name__', '?')}`")
            setattr(obj, name, self.decode(message.get("value")))
            return self.share(None)
        if op == "call":
            if not callable(obj):
                raise TypeError(f"'{type(obj).__name__}' object is not callable")
            args, kwargs = self._args(message)
            return self.share(obj(*args, **kwargs))
        if op == "method":
            name = self._name(message)
            args, kwargs = self._args(message)
            if name in _OPERATORS:
                return self.share(_OPERATORS[name](obj, *args))
            method = getattr(obj, name)
            if not callable(method):
                raise TypeError(f"`{name}` is not a method")
            return self.share(method(*args, **kwargs))
        if op == "exit":
            error = message.get("error")
            if type(error) is str:
                exc = student_exception({"name": error.split(":", 1)[0], "message": error.partition(": ")[2]})
                return self.share(bool(obj.__exit__(type(exc), exc, None)))
            return self.share(bool(obj.__exit__(None, None, None)))
        if op == "isinstance":
            if not isinstance(obj, type):
                raise TypeError("isinstance() arg 2 must be a type")
            return self.share(isinstance(self.decode(message.get("value")), obj))
        raise wire.ProtocolError(f"unknown operation {str(op)[:30]!r}")


# --- starting the student's process --------------------------------------------------------------------

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWPID = 0x20000000
_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4


def _libc():
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _limits(limits):
    pairs = {
        resource.RLIMIT_AS: limits.get("memory", PART["memory"]),
        resource.RLIMIT_CPU: limits.get("cpu_seconds", PART["cpu_seconds"]),
        resource.RLIMIT_FSIZE: limits.get("file_size", PART["file_size"]),
        resource.RLIMIT_NOFILE: limits.get("open_files", PART["open_files"]),
        resource.RLIMIT_CORE: 0,
    }
    if os.getuid() != 0 and "processes" in limits:
        pairs[resource.RLIMIT_NPROC] = limits["processes"]
    for which, value in pairs.items():
        try:
            soft, hard = resource.getrlimit(which)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (value, value if which != resource.RLIMIT_CPU else value + 5))
        except (ValueError, OSError):
            pass


def start_student(namespace, limits):
    """Fork the student's process (in namespaces of its own when the kernel allows); the connected `Student`."""
    libc = _libc()
    if libc is not None:
        libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)  # the student's process cannot trace or read this one
    ours, theirs = socket.socketpair()
    read_pid, write_pid = os.pipe()
    middle = os.fork()
    if middle == 0:  # between the two: enters new namespaces, forks the student's process, waits for it
        try:
            ours.close()
            os.close(read_pid)
            if libc is not None:
                libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
                libc.unshare(_CLONE_NEWUSER | _CLONE_NEWPID)  # best effort: without it, the sandbox still holds
            pid = os.fork()
            if pid == 0:
                if libc is not None:
                    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
                keep = theirs.fileno()
                devnull = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(devnull, fd)
                os.closerange(3, keep)
                os.closerange(keep + 1, 4096)
                _limits(limits)
                from . import student

                student.child_main(keep)
                os._exit(0)
            os.write(write_pid, str(pid).encode())
            os.close(write_pid)
            theirs.close()
            for fd in (0, 1, 2):
                try:
                    os.close(fd)
                except OSError:
                    pass
            while True:
                try:
                    os.waitpid(pid, 0)
                    break
                except ChildProcessError:
                    break
                except InterruptedError:
                    continue
        finally:
            os._exit(0)
    theirs.close()
    os.close(write_pid)
    data = b""
    while True:
        chunk = os.read(read_pid, 64)
        if not chunk:
            break
        data += chunk
    os.close(read_pid)
    pid = int(data or b"0") or middle
    endpoint = wire.Endpoint(ours)
    student = Student(endpoint, pid, namespace)
    student.exchange(None, "ready")
    return student


# --- one part ------------------------------------------------------------------------------------------


def _alarm(signum, frame):
    raise CellStopped("the cell ran past its time")


_BUILTIN_NAMES = frozenset(dir(builtins))


def _first_line(exc):
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def run_part(job, send):
    """Run the cells of `job` up to its test cell; `send(message)` reports the cells and the result."""
    from .checks import records

    limits = job.get("limits", {})
    cell_seconds = float(limits.get("cell_seconds", PART["cell_seconds"]))
    test_seconds = float(limits.get("test_seconds", PART["test_seconds"]))
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    student = start_student(namespace, {**limits, "memory": limits.get("memory", PART["memory"])})
    records.STUDENT = student
    records.SEED = job.get("seed", 0)
    assigned = {}  # name -> [the cell that assigns it, how it ended], for "not defined" messages
    signal.signal(signal.SIGALRM, _alarm)
    cells, target = job["cells"], job["test"]
    errors = {}
    locked = set()
    result = {"event": "result", "status": "error", "message": "the test cell did not run", "records": []}
    for index, cell in enumerate(cells[: target + 1]):
        kind = cell["kind"]
        if kind == "test" and index != target:
            continue
        if index in job.get("skip", ()):
            continue
        send({"event": "cell", "index": index})
        filename = cell["name"]
        if kind == "student":
            # what the cell asks of this process (an `explore` of its own) is bounded too
            signal.setitimer(signal.ITIMER_REAL, cell_seconds + 5)
            try:
                error = student.run_cell(cell["code"], filename, cell_seconds)
            except (StudentGone, CellStopped):
                student.kill("it ran past its time")
                send({"event": "died", "last": index, "killed": True, "why": student.dead})
                return
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            if error is not None:
                errors[index] = _first_line(error)
            for name in cell.get("defines", ()):
                assigned[name] = [filename, errors.get(index, "")]
            continue
        # the instructor's code: here, with the student's names as plain copies or references; never
        # a name a locked cell defined, nor a builtin's (a student's `range` is theirs alone)
        try:
            for name, value in student.names().items():
                if name not in locked and name not in _BUILTIN_NAMES:
                    namespace[name] = value
        except StudentGone:
            pass
        if kind != "test":  # tracebacks and diagnostics may show these lines; never the test's
            linecache.cache[filename] = (len(cell["code"]), None, cell["code"].splitlines(True), filename)
        try:
            code = compile(cell["code"], filename if kind != "test" else "<test>", "exec")
        except (SyntaxError, ValueError) as exc:
            errors[index] = _first_line(exc)
            continue
        if kind == "test":
            records.RECORDS = []
            records.ASSIGNED = assigned
        signal.setitimer(signal.ITIMER_REAL, test_seconds if kind == "test" else cell_seconds * 3)
        try:
            exec(code, namespace)  # noqa: S102 - the instructor's own cell
            if kind == "test":
                result = {"event": "result", "status": "done", "message": "", "records": records.RECORDS}
        except CellStopped:
            signal.setitimer(signal.ITIMER_REAL, 0)
            errors[index] = f"{filename} ran for more than {test_seconds:g} s"
            if kind == "test":
                result = {"event": "result", "status": "timeout", "records": records.RECORDS,
                          "message": f"the grader stopped this test after {test_seconds:g} s"}
        except AssertionError as exc:
            errors[index] = _first_line(exc)
            if kind == "test":
                result = {"event": "result", "status": "failed", "message": str(exc)[:4000],
                          "records": records.RECORDS}
        except BaseException as exc:  # noqa: BLE001 - reported as the part's failure
            errors[index] = _first_line(exc)
            if kind == "test":
                message = _first_line(exc)
                result = {"event": "result", "status": "error", "message": message, "records": records.RECORDS}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if kind == "locked":
            defined = {name: namespace[name] for name in cell.get("defines", ()) if name in namespace}
            locked.update(defined)
            try:
                student.bind(defined)
            except StudentGone:
                pass
    result["errors"] = {str(k): v for k, v in errors.items()}
    student.kill("the part is over")
    send(result)

