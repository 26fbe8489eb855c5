"""`Mutex<T>`: data reachable only through a lock, released when the guard's block ends.

`lock()` returns a `MutexGuard`, or raises `PoisonError` when an earlier holder
raised while holding it (Rust's `Err` from `lock()`); the error's `into_inner()`
still gives a guard. Use the guard in a `with` block: the block is the guard's
scope, and the lock is released when it ends, also when it ends with an exception.
"""

from __future__ import annotations

import sys
import threading
from threading import get_ident

from . import _sim
from .debug import rust_debug, type_name
from .diagnostics import display_name
from .errors import DeadlockError, GuardDropped, PoisonError, ScheduleAborted, WouldBlock
from .ownership import Owned, not_send

_held = threading.local()
_sim_local = _sim._local


def held_guards():
    """The guards the running real thread holds, oldest first."""
    try:
        return _held.guards
    except AttributeError:
        guards = _held.guards = []
        return guards


def _site(depth=2):
    frame = sys._getframe(depth)
    return frame.f_code.co_filename, frame.f_lineno


class Mutex(Owned):
    """A mutual-exclusion lock around a value: `Mutex(0)` is Rust's `Mutex::new(0)`."""

    def __init__(self, value, *, name=None):
        self._value = value
        self._lock = threading.Lock()
        self._holder = None  # the id of the real thread holding the lock
        self._site = None  # where the holder locked it
        self._poisoned = False
        self._sim_holder = None
        self.name = name or "mutex"

    # -- the API of Mutex<T> --------------------------------------------------

    def lock(self):
        """Block until the lock is free, then return a guard to the data.

        Raises `PoisonError` if a thread raised while holding the lock, and
        `DeadlockError` if this thread already holds it.
        """
        __tracebackhide__ = True
        if self._move is not None:
            self._use()
        sim = getattr(_sim_local, "thread", None)
        if sim is not None:
            return sim.lock(self)
        me = get_ident()  # the holder is a real thread here: its id is enough, and cheap
        if self._holder == me:
            raise DeadlockError(self._double_lock_message())
        self._lock.acquire()
        return self._acquired(me, sys._getframe(1))

    def try_lock(self):
        """Take the lock if it is free now; raise `WouldBlock` if another guard holds it."""
        __tracebackhide__ = True
        if self._move is not None:
            self._use()
        sim = getattr(_sim_local, "thread", None)
        if sim is not None:
            return sim.try_lock(self)
        me = get_ident()
        if not self._lock.acquire(blocking=False):
            holder = "this thread" if self._holder == me else "another thread"
            raise WouldBlock(f"try_lock failed because the operation would block: {holder} holds `{self.name}`")
        return self._acquired(me, sys._getframe(1))

    def _acquired(self, me, frame):
        self._holder = me
        self._site = (frame.f_code.co_filename, frame.f_lineno)
        guard = MutexGuard(self)
        held_guards().append(guard)
        if self._poisoned:
            guard._release(poison=False)
            raise PoisonError(
                f"poisoned lock: another thread raised while holding `{self.name}`, so its data "
                "may be half-updated; `err.into_inner()` returns a guard anyway",
                self._lock_ignoring_poison,
            )
        return guard

    def _lock_ignoring_poison(self):
        sim = _sim.current()
        if sim is not None:
            return sim.lock(self, ignore_poison=True)
        me = get_ident()
        if self._holder == me:
            raise DeadlockError(self._double_lock_message())
        self._lock.acquire()
        self._holder = me
        self._site = _site(3)
        guard = MutexGuard(self)
        held_guards().append(guard)
        return guard

    def is_poisoned(self):
        """True once a thread has raised while holding the lock."""
        __tracebackhide__ = True
        if self._move is not None:
            self._use()
        return self._poisoned

    def clear_poison(self):
        """Declare the data repaired: later `lock()` calls succeed again."""
        __tracebackhide__ = True
        if self._move is not None:
            self._use()
        self._poisoned = False

    def into_inner(self):
        """Consume the mutex and return its data (`PoisonError` if poisoned; recover with `into_inner()`)."""
        __tracebackhide__ = True
        self._use()
        if self._holder is not None or self._sim_holder is not None:
            raise RuntimeError(f"cannot move out of `{self.name}` while a guard holds its lock; "
                               "release the guard first")
        self._moved_by_method("into_inner")
        value = self._value
        if self._poisoned:
            raise PoisonError("poisoned lock: a thread raised while holding it; `err.into_inner()` returns the data",
                              lambda: value)
        return value

    def get_mut(self):
        """Direct access without locking, for the sole owner (Rust's `&mut self`): returns a `Ref`."""
        __tracebackhide__ = True
        self._use()
        if self._holder is not None or self._sim_holder is not None:
            raise RuntimeError(f"cannot borrow `{self.name}` as mutable because a guard holds its lock")
        return Ref(self)

    # -- Debug and the ownership checks --------------------------------------------

    def __repr__(self):
        if self._holder is not None or self._sim_holder is not None:
            data = "<locked>"
        else:
            data = rust_debug(self._value)
        return f"Mutex {{ data: {data}, poisoned: {'true' if self._poisoned else 'false'}, .. }}"

    def _rust_type(self):
        return f"Mutex<{type_name(self._value)}>"

    def _not_send(self):
        return not_send(self._value)

    def _double_lock_message(self):
        where = ""
        if self._site is not None:
            where = f" (locked at {display_name(self._site[0])}, line {self._site[1]})"
        return (
            f"this thread already holds the lock of `{self.name}`{where}; locking it again would "
            "wait for itself forever.\nhelp: end the first guard's `with` block, or `drop(guard)`, "
            "before locking again"
        )


class MutexGuard:
    """Access to a mutex's data while the lock is held: read and write `guard.value`."""

    __slots__ = ("_mutex", "_live", "_sim", "__weakref__")

    def __init__(self, mutex, sim=None):
        self._mutex = mutex
        self._live = True
        self._sim = sim

    @property
    def value(self):
        if not self._live:
            self._dropped()
        value = self._mutex._value
        if self._sim is not None:
            self._sim.event("read", self._mutex, value)
        return value

    @value.setter
    def value(self, new):
        if not self._live:
            self._dropped()
        self._mutex._value = new
        if self._sim is not None:
            self._sim.event("write", self._mutex, new)

    def __enter__(self):
        if not self._live:
            self._dropped()
        return self

    def __exit__(self, exc_type, exc, tb):
        if self._live:
            self._release(poison=exc_type is not None and not isinstance(exc, ScheduleAborted))
        return False

    def _drop_now(self):
        if self._live:
            self._release(poison=False)

    def _release(self, poison):
        mutex = self._mutex
        self._live = False
        if poison:
            mutex._poisoned = True
        if self._sim is not None:
            self._sim.unlock(mutex)
            return
        guards = held_guards()
        if guards and guards[-1] is self:  # the usual case: the innermost `with` ends first
            guards.pop()
        elif self in guards:
            guards.remove(self)
        mutex._holder = None
        mutex._site = None
        mutex._lock.release()

    def _dropped(self):
        __tracebackhide__ = True
        raise GuardDropped(
            f"this guard of `{self._mutex.name}` was dropped when its `with` block ended, so the lock "
            "is no longer held and the data cannot be reached through it.\n"
            "help: lock the mutex again: `with m.lock() as guard: ...`"
        )

    def __repr__(self):
        if not self._live:
            return "MutexGuard { <dropped> }"
        return f"MutexGuard {{ data: {rust_debug(self._mutex._value)} }}"

    def __del__(self):
        # A guard that was never used in `with` nor dropped: release like Rust's drop.
        if getattr(self, "_live", False) and self._sim is None:
            try:
                self._release(poison=False)
            except Exception:  # pragma: no cover - interpreter shutdown
                pass

    def _rust_type(self):
        return f"MutexGuard<'_, {type_name(self._mutex._value)}>"

    def _not_send(self):
        return self._rust_type()


class Ref:
    """`get_mut()`'s result: `.value` reads and writes the data without locking."""

    __slots__ = ("_mutex",)

    def __init__(self, mutex):
        self._mutex = mutex

    @property
    def value(self):
        return self._mutex._value

    @value.setter
    def value(self, new):
        self._mutex._value = new
