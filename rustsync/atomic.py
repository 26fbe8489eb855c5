"""`AtomicUsize`: an integer whose read-modify-write operations are single, indivisible steps.

Rust's `AtomicUsize::fetch_add` is one machine instruction (on x86-64, `lock xadd`): no
lock, no waiting, a few nanoseconds. Python offers no such instruction, so this
stand-in makes each read-modify-write indivisible by holding a `threading.Lock` for
exactly that step. That is needed with the GIL (a thread switch could fall between the
read and the write) and without it (free-threaded builds run threads truly at once).
It is a lock in disguise: in Python it costs more than a bare `threading.Lock`, and what
it teaches is the interface and the one-step guarantee, not Rust's speed. A `load` is a
single read and takes no lock. Under `rustsync.sched` each operation is one step.

`Ordering` arguments are accepted and checked as rustc checks them (a load cannot be
`Release`, a store cannot be `Acquire`), then ignored: every operation here behaves as
`SeqCst`, which the lock gives for free. Values wrap around at 2**64, as a 64-bit
`usize` does.
"""

from __future__ import annotations

import enum
import threading

from . import _sim
from .diagnostics import node_span, user_frame
from .ownership import Owned
from .ownership.messages import invalid_ordering
from .ownership.source import _call_at
from .result import Err, Ok

_sim_local = _sim._local
USIZE_MAX = 2**64 - 1


class Ordering(enum.Enum):
    """Rust's memory orderings: checked as rustc checks them, then ignored (all behave as `SeqCst`)."""

    Relaxed = "Relaxed"
    Release = "Release"
    Acquire = "Acquire"
    AcqRel = "AcqRel"
    SeqCst = "SeqCst"


SeqCst = Ordering.SeqCst
_NO_RELEASE = (Ordering.Release, Ordering.AcqRel)
_NO_ACQUIRE = (Ordering.Acquire, Ordering.AcqRel)


class AtomicUsize(Owned):
    """A counter that needs no mutex: `fetch_add` reads and writes in one step."""

    def __init__(self, value=0, *, name=None):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= USIZE_MAX:
            raise ValueError(f"AtomicUsize holds an int from 0 to 2**64 - 1, got {value!r}")
        self._value = value
        self._lock = threading.Lock()
        self.name = name or "atomic"

    def _update(self, op, change, ordering):
        __tracebackhide__ = True
        if self._move is not None:
            self._use()
        if ordering is not SeqCst and type(ordering) is not Ordering:
            _not_an_ordering(ordering)
        sim = _sim_local.__dict__.get("thread")
        if sim is not None:
            sim.point(op, self)
            old = self._value
            self._value = change(old)
            sim.done(self._value)
            return old
        with self._lock:
            old = self._value
            self._value = change(old)
        return old

    def fetch_add(self, n=1, ordering=SeqCst):
        """Add `n` and return the value before (wrapping at 2**64, as Rust's does)."""
        __tracebackhide__ = True
        if self._move is not None:
            self._use()
        if ordering is not SeqCst and type(ordering) is not Ordering:
            _not_an_ordering(ordering)
        if _sim_local.__dict__.get("thread") is not None:
            return self._update("fetch_add", lambda v: (v + n) & USIZE_MAX, ordering)
        with self._lock:  # the fast path: no helper calls
            old = self._value
            self._value = (old + n) & USIZE_MAX
        return old

    def fetch_sub(self, n=1, ordering=SeqCst):
        """Subtract `n` and return the value before (wrapping below zero, as Rust's does)."""
        __tracebackhide__ = True
        return self._update("fetch_sub", lambda v: (v - n) & USIZE_MAX, ordering)

    def load(self, ordering=SeqCst):
        """The value now. (`Release` and `AcqRel` are refused, as rustc refuses them for a load.)"""
        __tracebackhide__ = True
        if self._move is not None:
            self._use()
        if ordering is not SeqCst:
            _check(ordering, _NO_RELEASE, "load")
        sim = _sim_local.__dict__.get("thread")
        if sim is not None:
            sim.point("load", self)
            value = self._value
            sim.done(value)
            return value
        return self._value  # one read of one attribute: indivisible on every build

    def store(self, value, ordering=SeqCst):
        """Replace the value. (`Acquire` and `AcqRel` are refused, as rustc refuses them for a store.)"""
        __tracebackhide__ = True
        if ordering is not SeqCst:
            _check(ordering, _NO_ACQUIRE, "store")
        self._update("store", lambda v: value & USIZE_MAX, ordering)

    def swap(self, value, ordering=SeqCst):
        """Replace the value and return the one before."""
        __tracebackhide__ = True
        return self._update("swap", lambda v: value & USIZE_MAX, ordering)

    def compare_exchange(self, current, new, success=SeqCst, failure=SeqCst):
        """Store `new` if the value is `current`, in one step: `Ok(previous)` if it stored, else `Err(seen)`.

        As Rust's: the `Result` says which (`Ok(5)`, `Err(6)`); `previous` equals `current`, and
        `seen` is the value found instead. The failure ordering may not be `Release` or `AcqRel`.
        """
        __tracebackhide__ = True
        return self._compare_exchange("compare_exchange", current, new, success, failure)

    def compare_exchange_weak(self, current, new, success=SeqCst, failure=SeqCst):
        """`compare_exchange` that Rust allows to fail even when the value is `current`, for use in a loop.

        Here it never fails spuriously (a lock makes the step, not an LL/SC instruction); a loop
        written for Rust's behaviour is right here too.
        """
        __tracebackhide__ = True
        return self._compare_exchange("compare_exchange_weak", current, new, success, failure)

    def _compare_exchange(self, op, current, new, success, failure):
        __tracebackhide__ = True
        if failure is not SeqCst:
            _check(failure, _NO_RELEASE, "failure", argument=3, op=op)
        if not isinstance(new, int) or isinstance(new, bool):
            raise TypeError(f"`{op}` stores an int, got {new!r}")
        old = self._update(op, lambda v: new & USIZE_MAX if v == current else v, success)
        return Ok(old) if old == current else Err(old)

    def into_inner(self):
        """Consume the atomic and return its value."""
        __tracebackhide__ = True
        self._use()
        self._moved_by_method("into_inner")
        return self._value

    def peek(self):
        """The value, read without a step: for an invariant, or a check after a run (`load` is the program's read)."""
        sim = _sim_local.__dict__.get("thread")
        if sim is not None and sim.execution.recorder is not None:
            sim.execution.recorder.observe(sim, "peek", self)
        return self._value

    def __repr__(self):
        return str(self._value)  # Rust's Debug prints the number alone

    def _rust_type(self):
        return "AtomicUsize"


def _not_an_ordering(ordering):
    __tracebackhide__ = True
    raise TypeError(f"expected an `Ordering` (such as `Ordering.SeqCst`), found {ordering!r}")


def _check(ordering, refused, kind, argument=None, op=None):
    """rustc's `invalid_atomic_ordering` check, which stops the program from compiling (its wording: `messages`)."""
    __tracebackhide__ = True
    if type(ordering) is not Ordering:
        _not_an_ordering(ordering)
    if ordering not in refused:
        return
    raise invalid_ordering(kind, _argument_span(user_frame(2), argument), op)


def _argument_span(frame, index):
    """The span of the ordering argument in the call the frame is making (the last one, or `index`)."""
    if frame is None:
        return None
    node, filename, _ = _call_at(frame)
    if node is None:
        return None
    args = list(node.args) + [k.value for k in node.keywords]
    if not args:
        return None
    arg = args[index] if index is not None and index < len(node.args) else args[-1]
    return node_span(filename, arg)
