"""`Mutex<T>`: data reachable only through a lock, released when the guard's block ends.

`lock()` returns a `MutexGuard`, or raises `PoisonError` when an earlier holder
raised while holding it (Rust's `Err` from `lock()`). The error holds the guard, as
Rust's does: the lock is taken until that guard is released, and `err.into_inner()`
hands it over without locking again. Use the guard in a `with` block: the block is
the guard's scope, and the lock is released when it ends, also on an exception.
"""

from __future__ import annotations

import sys
import threading
import weakref
from threading import get_ident

from . import _sim
from .debug_format import rust_debug, type_name
from .diagnostics import display_name, user_frame
from .errors import DeadlockError, GuardDropped, PoisonError, ScheduleAborted, UseAfterMove, WouldBlock
from .ownership import Owned, messages, not_send, not_sync
from .ownership.messages import moved_while_borrowed
from .ownership.source import _receiver

_held = threading.local()
# `_sim_local.__dict__.get("thread")`, not `getattr(_sim_local, "thread", None)`: on a thread that never
# ran under the scheduler the attribute is missing, and a missing attribute costs an exception (~1 us)
_sim_local = _sim._local


def held_guards():
    """Weak references to the guards the running real thread holds, oldest first.

    Weak, so that a guard nobody keeps (`counter.lock().value`) is dropped at once and
    releases its lock, as Rust drops a temporary guard at the end of its statement.
    """
    guards = _held.__dict__.get("guards")
    if guards is None:
        guards = _held.guards = []
        _held.end = _ThreadEnd(guards)
    return guards


class _ThreadEnd:
    """Lives in a thread's locals: when the thread ends, it releases the guards the thread still holds.

    A Rust thread cannot end with a guard alive (unwinding drops it). A Python one can, when
    a guard was kept elsewhere: in a `PoisonError` that another thread caught, say.
    """

    __slots__ = ("guards",)

    def __init__(self, guards):
        self.guards = guards

    def __del__(self):
        try:
            for ref in reversed(list(self.guards)):
                guard = ref()
                if guard is not None and guard._live:
                    guard._release(poison=False)
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


def live_guards():
    """The guards the running real thread holds, newest first."""
    return [g for g in (ref() for ref in reversed(held_guards())) if g is not None and g._live]


def _line_of(code, lasti):
    """The source line of instruction `lasti` (found only when an error needs it: `f_lineno` is slow)."""
    for start, end, line in code.co_lines():
        if start <= lasti < end and line is not None:
            return line
    return code.co_firstlineno


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

        Raises `PoisonError` if a thread raised while holding the lock (the error holds
        the guard, so the lock is taken either way), and `DeadlockError` if this thread
        already holds it.
        """
        __tracebackhide__ = True
        if self._move is not None:
            self._use()
        sim = _sim_local.__dict__.get("thread")
        if sim is not None:
            caller = sys._getframe(1)
            self._site = (caller.f_code, caller.f_lasti)  # for E0505, should the mutex move while locked
            return sim.lock(self)  # a step; a poisoned lock raises PoisonError holding the guard, as here
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
        sim = _sim_local.__dict__.get("thread")
        if sim is not None:
            return sim.try_lock(self)
        me = get_ident()
        if not self._lock.acquire(blocking=False):
            holder = "this thread" if self._holder == me else "another thread"
            raise WouldBlock(f"{holder} holds `{self.name}`")
        return self._acquired(me, sys._getframe(1))

    def _acquired(self, me, frame):
        self._holder = me
        self._site = (frame.f_code, frame.f_lasti)
        guards = held_guards()
        guard = MutexGuard(self, held=guards)
        guards.append(weakref.ref(guard))
        if self._poisoned:
            # Rust's `Err(PoisonError)` carries the guard: the lock stays taken until it is dropped
            raise PoisonError(self._poison_detail(), guard)
        return guard

    def _poison_detail(self):
        return (f"`{self.name}` is poisoned: a thread raised while holding its lock, so the data may be "
                "half-updated. The error holds the guard, and with it the lock.\n"
                "help: `err.into_inner()` gives you that guard; `clear_poison()` once the data is repaired")

    def peek(self):
        """The data, read without locking and without a step: for an invariant, or a check after a run.

        Not part of Rust's API (a debugger's view): nothing stops another thread from
        changing the data meanwhile, so a program's own logic locks instead. An invariant
        (`sched.explore(program, invariant=...)`) runs between two steps, where no thread
        is in the middle of one, so what it reads is what the threads left there. It does
        not count as a use of the mutex (a mutex that moved into a thread can be peeked).
        """
        _observed(self)
        return self._value

    def is_locked(self):
        """Whether a guard holds the lock now (as `parking_lot`'s `Mutex::is_locked`), without a step.

        For invariants and checks, like `peek`: a program that acts on the answer races
        with the holder; `try_lock` is the way to ask and take in one step.
        """
        _observed(self)
        return self._sim_holder is not None or self._lock.locked()

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
        borrow = self._borrow()
        if borrow is not False:
            frame = user_frame(1)
            name, span = _receiver(frame)
            raise moved_while_borrowed(name or self.name, span, frame, borrow)
        self._moved_by_method("into_inner")
        if self._poisoned:
            raise PoisonError(f"`{self.name}` was poisoned; `err.into_inner()` returns the data anyway",
                              self._value)
        return self._value

    def get_mut(self):
        """Direct access without locking, for the sole owner (Rust's `&mut self`): returns a `Ref`.

        Only the mutex's own owner can call it: through an `Arc` (shared, so never `&mut`)
        it is rustc's E0596. On a poisoned mutex it raises `PoisonError`, whose
        `into_inner()` gives the `Ref` anyway, as Rust's `get_mut` returns `Err`.
        """
        __tracebackhide__ = True
        self._use()
        if self._holder is not None or self._sim_holder is not None:
            raise RuntimeError(f"cannot borrow `{self.name}` as mutable because a guard holds its lock")
        if self._poisoned:
            raise PoisonError(f"`{self.name}` is poisoned; `err.into_inner()` gives the access anyway", Ref(self))
        return Ref(self)

    # -- Debug and the ownership checks --------------------------------------------

    def __repr__(self):
        if self._holder is not None or self._sim_holder is not None:
            data = '"<locked>"'  # Rust 1.95 prints the placeholder as a string, quoted
        else:
            data = rust_debug(self._value)
        return f"Mutex {{ data: {data}, poisoned: {'true' if self._poisoned else 'false'}, .. }}"

    def _rust_type(self):
        return f"Mutex<{type_name(self._value)}>"

    def _not_send(self):
        return not_send(self._value)

    _not_sync = _not_send  # `Mutex<T>` is `Sync` when `T` is `Send`: the lock lets one thread at a time in

    def _borrow(self):
        """The (code, instruction) of the `lock()` whose guard borrows this mutex now, or False when none does."""
        if self._holder is None and self._sim_holder is None:
            return False
        return self._site

    def _double_lock_message(self):
        where = ""
        if self._site is not None:
            code, lasti = self._site
            where = f" (locked at {display_name(code.co_filename)}, line {_line_of(code, lasti)})"
        return (
            f"this thread already holds the lock of `{self.name}`{where}; locking it again would "
            "wait for itself forever.\nhelp: end the first guard's `with` block, or `drop(guard)`, "
            "before locking again"
        )


def _observed(mutex):
    """Tell the model explorer that a simulated thread read `mutex` outside a step (see `RacyCell.peek`)."""
    sim = _sim_local.__dict__.get("thread")
    if sim is not None and sim.execution.recorder is not None:
        sim.execution.recorder.observe(sim, "peek", mutex)


class MutexGuard:
    """Access to a mutex's data while the lock is held: read and write `guard.value`.

    The guard is dropped, and the lock released, when its `with` block ends, at
    `drop(guard)`, or as soon as nothing refers to it any more (`del guard`, a guard
    never kept: `counter.lock().value += 1`), as Rust drops a value at the end of its
    scope; under the scheduler too.
    """

    __slots__ = ("_mutex", "_live", "_sim", "_held", "_dropped_at", "__weakref__")

    def __init__(self, mutex, sim=None, held=None):
        self._mutex = mutex
        self._live = True
        self._sim = sim
        self._held = held  # the list of guards of the real thread that locked

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
            self._release(poison=exc_type is not None and not isinstance(exc, ScheduleAborted), pause=True)
        return False

    def _drop_now(self):
        """`drop(guard)`: release now (under the scheduler, a step when a `try_lock` waits for it)."""
        if self._live:
            self._release(poison=False, pause=True)

    def _finalize(self):
        """Release from a finalizer: only sets the state, never switches threads nor raises (as `__del__` must)."""
        if self._live:
            self._release(poison=False)

    def _release(self, poison, pause=False):
        mutex = self._mutex
        self._live = False
        if poison:
            mutex._poisoned = True
        if self._sim is not None:
            self._sim.unlock(mutex, pause)
            return
        guards = self._held if self._held is not None else held_guards()
        if guards and guards[-1]() is self:  # the usual case: the innermost `with` ends first
            guards.pop()
        else:  # another order, or a guard being deleted (its weak reference may be dead already)
            guards[:] = [ref for ref in guards if ref() is not None and ref() is not self]
        mutex._holder = None
        mutex._site = None
        mutex._lock.release()

    def _moved_by_drop(self, move):
        """`drop(guard)` moved this guard (`move` says where): a later use is E0382."""
        self._dropped_at = move

    def _dropped(self):
        __tracebackhide__ = True
        moved = getattr(self, "_dropped_at", None)
        if moved is not None:  # `drop(guard)` moved it: Rust refuses the use at compile time
            raise UseAfterMove(messages.guard_used_after_drop(moved, type_name(self._mutex._value)))
        raise GuardDropped(
            f"this guard of `{self._mutex.name}` was dropped when its `with` block ended, so the lock "
            "is no longer held and the data cannot be reached through it.\n"
            "help: lock the mutex again: `with m.lock() as guard: ...`"
        )

    def __repr__(self):
        if not self._live:
            return "MutexGuard { <dropped> }"
        return rust_debug(self._mutex._value)  # Rust's guard prints the value it leads to

    def __del__(self):
        # A guard nobody refers to any more: release like Rust's drop. Under the scheduler this may
        # run at odd points (while a run unwinds, in another thread's greenlet when the garbage
        # collector frees a cycle), so it only sets the state: see SimThread.unlock.
        if getattr(self, "_live", False):
            try:
                self._finalize()
            except BaseException:  # pragma: no cover - interpreter shutdown, a stop raised into the thread
                pass

    def _rust_type(self):
        return f"MutexGuard<'_, {type_name(self._mutex._value)}>"

    def _not_send(self):
        return self._rust_type()

    def _not_sync(self):
        return not_sync(self._mutex._value)


class Ref:
    """`get_mut()`'s result: `.value` reads and writes the data without locking.

    It is a borrow of the mutex: once the mutex has moved (into a thread, `into_inner`),
    using it is E0382, as the borrow checker would refuse it.
    """

    __slots__ = ("_mutex",)

    def __init__(self, mutex):
        self._mutex = mutex

    @property
    def value(self):
        __tracebackhide__ = True
        if self._mutex._move is not None:
            self._mutex._use()
        return self._mutex._value

    @value.setter
    def value(self, new):
        __tracebackhide__ = True
        if self._mutex._move is not None:
            self._mutex._use()
        self._mutex._value = new

    def __repr__(self):
        return rust_debug(self._mutex._value)


def _release_escaped_poison(result):
    """After a notebook cell: a `PoisonError` that escaped it uncaught was a panic, so its guard is dropped.

    (A Rust thread that `unwrap()`s a poisoned lock panics, and unwinding drops the guard.
    IPython keeps the last error alive in `sys.last_value`; without this the lock would stay
    taken by the notebook's thread.)
    """
    err = getattr(result, "error_in_exec", None)
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, PoisonError):
            err._drop_now()
        err = err.__cause__ or err.__context__


def _install_notebook_hook():
    ipython = sys.modules.get("IPython")  # only a shell that already runs: importing IPython is slow
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    events = getattr(shell, "events", None)
    if events is None:
        return
    hooks = events.callbacks.get("post_run_cell", [])
    if not any(getattr(h, "__qualname__", "") == _release_escaped_poison.__qualname__ for h in hooks):
        events.register("post_run_cell", _release_escaped_poison)


_install_notebook_hook()
