"""`Arc<T>` and `Rc<T>`: several owners of one value, counted.

`Arc` counts its owners atomically and may be sent to other threads; `Rc` counts
them with a plain read and write, so it is not `Send`: `spawn` refuses a closure
that holds one (E0277). Under the scheduler, `Rc.clone()` is a read step and a
write step, so two threads cloning at once can lose a count, as Rust forbids.
"""

from __future__ import annotations

import threading

from . import _sim
from .debug import rust_debug, type_name
from .errors import GuardDropped
from .ownership import Owned, not_send


class _Shared:
    __slots__ = ("value", "strong", "lock", "name")

    def __init__(self, value, name):
        self.value = value
        self.strong = 1
        self.lock = threading.Lock()
        self.name = name


class _Counted(Owned):
    """What `Arc` and `Rc` share: handles to one value and a count of live handles."""

    _atomic = True

    def __init__(self, value, *, name=None):
        self._shared = _Shared(value, name or type(self).__name__.lower())
        self._alive = True

    @property
    def name(self):
        return self._shared.name

    def clone(self):
        """A new owner of the same value; the strong count goes up by one."""
        __tracebackhide__ = True
        self._use()
        self._check_alive()
        self._change_count(+1, "clone")
        twin = object.__new__(type(self))
        twin._shared = self._shared
        twin._alive = True
        return twin

    def strong_count(self):
        """How many owners the value has now (`Arc.strong_count(a)` or `a.strong_count()`)."""
        __tracebackhide__ = True
        self._use()
        sim = _sim.current()
        if sim is not None:
            sim.point("count", self._shared)
            count = self._shared.strong
            sim.done(count)
            return count
        return self._shared.strong

    def ptr_eq(self, other):
        """True when both handles own the same value."""
        return self._shared is other._shared

    def __getattr__(self, attr):
        # Deref: `counter.lock()` on an `Arc<Mutex<T>>` locks the mutex inside.
        if attr.startswith("_"):
            raise AttributeError(attr)
        self._use()
        self._check_alive()
        return getattr(self._shared.value, attr)

    def _check_alive(self):
        if not self._alive:
            __tracebackhide__ = True
            raise GuardDropped(f"this `{type(self).__name__}` handle was dropped; clone a live handle instead")

    def _change_count(self, delta, op):
        sim = _sim.current()
        shared = self._shared
        if sim is None:
            with shared.lock:
                shared.strong += delta
        elif self._atomic:
            # One indivisible update that only `strong_count` can observe: recorded in
            # the trace, but not a choice point, so schedules list the interesting steps.
            shared.strong += delta
            sim.event(op, shared, shared.strong)
        else:
            # Rc: the count is read, then written back: two steps another thread can split
            sim.point(op + ":read", shared)
            seen = shared.strong
            sim.done(seen)
            sim.point(op + ":write", shared)
            shared.strong = seen + delta
            sim.done(shared.strong)

    def _drop(self):
        if getattr(self, "_alive", False):
            self._alive = False
            self._change_count(-1, "drop")

    def __del__(self):
        try:
            if getattr(self, "_alive", False) and _sim.current() is None:
                self._alive = False
                with self._shared.lock:
                    self._shared.strong -= 1
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def __repr__(self):
        return rust_debug(self._shared.value)

    def _rust_type(self):
        return f"{type(self).__name__}<{type_name(self._shared.value)}>"


class Arc(_Counted):
    """Atomically reference-counted: `Arc(Mutex(0))`, then `Arc.clone(counter)` per thread."""

    _atomic = True

    def _not_send(self):
        return not_send(self._shared.value)


class Rc(_Counted):
    """Reference-counted for one thread only; not `Send`."""

    _atomic = False

    def _not_send(self):
        return self._rust_type()
