"""`Arc<T>` and `Rc<T>`: several owners of one value, counted.

`Arc` counts its owners atomically and may be sent to other threads; `Rc` counts
them with a plain read and write, so it is not `Send`: `spawn` refuses a closure
that holds one (E0277). Under the scheduler, `Rc.clone()` is a read step and a
write step, so two threads cloning at once can lose a count, as Rust forbids.
"""

from __future__ import annotations

import threading

from . import _sim
from .debug_format import rust_debug, type_name
from .diagnostics import user_frame
from .errors import GuardDropped
from .ownership import Owned, shared_by_arc
from .ownership.messages import through_shared
from .result import Err, Ok

# methods of the course's types that take `&mut self` (E0596 through an Arc) or `self` (E0507)
_NEEDS_MUT = {"get_mut": "&mut self", "into_inner": "self"}


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
        return self._twin()

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
        # Deref: `counter.lock()` on an `Arc<Mutex<T>>` locks the mutex inside. Only `Deref`:
        # a method that needs `&mut self` or `self` cannot be reached through shared ownership.
        if attr[:1] == "_":
            raise AttributeError(attr)
        __tracebackhide__ = True
        if self._move is not None:
            self._use()
        if not self._alive:
            self._check_alive()
        value = self._shared.value
        if attr in _NEEDS_MUT and isinstance(value, Owned) and hasattr(value, attr):
            raise through_shared(self, attr, _NEEDS_MUT[attr], user_frame(1))
        if isinstance(type(self).__dict__.get(attr), _Associated) and not hasattr(value, attr):
            kind = type(self).__name__
            raise AttributeError(f"`{kind}::{attr}` is an associated function, not a method: "
                                 f"write `{kind}.{attr}(handle)`")
        return getattr(value, attr)

    def _twin(self):
        """Another handle to the same value, counted as the one it replaces (no change to the count)."""
        twin = object.__new__(type(self))
        twin._shared = self._shared
        twin._alive = True
        return twin

    def _count_now(self, op):
        """The strong count, read as one step under the scheduler."""
        sim = _sim.current()
        if sim is None:
            return self._shared.strong
        sim.point(op, self._shared)
        count = self._shared.strong
        sim.done(count)
        return count

    def _take_if_last(self, op):
        """Rust's `compare_exchange(1, 0)` on the count, one step: True when this was the only handle."""
        sim = _sim.current()
        shared = self._shared
        if sim is None:
            with shared.lock:
                last = shared.strong == 1
                if last:
                    shared.strong = 0
        else:
            sim.point(op, shared)
            last = shared.strong == 1
            if last:
                shared.strong = 0
            sim.done(shared.strong)
        if last:
            self._alive = False
        return last

    def _release_and_tell(self, op):
        """Rust's `fetch_sub(1)` on the count, one step: True when this was the last handle."""
        sim = _sim.current()
        shared = self._shared
        if sim is None:
            with shared.lock:
                shared.strong -= 1
                return shared.strong == 0
        sim.point(op, shared)
        shared.strong -= 1
        sim.done(shared.strong)
        return shared.strong == 0

    def _check_unique(self):
        if self._shared.strong != 1 or not self._alive:
            __tracebackhide__ = True
            raise GuardDropped("this `Arc.get_mut` access ended: another handle to the value exists now "
                               "(or this one moved); call `Arc.get_mut(a)` again")

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

    _successor = None  # the handle `Arc.try_unwrap` gave back in its `Err`, which stands for this one

    def _drop(self):
        if getattr(self, "_alive", False):
            self._alive = False
            self._change_count(-1, "drop")
        elif self._successor is not None:
            self._successor._drop()

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


def _deref(attr):
    """`Deref` for one of the course's methods, found without a failed lookup first (which costs an exception)."""

    def get(self):
        __tracebackhide__ = True
        if self._move is not None:
            self._use()
        if not self._alive:
            self._check_alive()
        return getattr(self._shared.value, attr)

    get.__name__ = attr
    return property(get, doc=f"`{attr}` of the value inside (Deref)")


for _attr in ("lock", "try_lock", "is_poisoned", "clear_poison", "fetch_add", "fetch_sub", "load", "store", "swap",
              "compare_exchange", "compare_exchange_weak", "borrow", "borrow_mut"):
    setattr(_Counted, _attr, _deref(_attr))


class _Associated:
    """An associated function of `Arc` (`Arc::get_mut(&mut a)`), called as `Arc.get_mut(a)`.

    Through a handle (`a.get_mut()`), the name is the value's own method, reached by
    `Deref` as in Rust: `counter.get_mut()` on an `Arc<Mutex<T>>` is the mutex's `get_mut`
    (E0596), not `Arc::get_mut`.
    """

    def __init__(self, func):
        self.func = func
        self.__doc__ = func.__doc__

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, handle, owner=None):
        if handle is None:
            return self.func
        return _Counted.__getattr__(handle, self.name)  # its AttributeError says how to call it


class ArcMut:
    """`Arc::get_mut`'s `&mut T`: `.value` reads and writes the value, which no other handle reaches now."""

    __slots__ = ("_arc",)

    def __init__(self, arc):
        self._arc = arc

    @property
    def value(self):
        __tracebackhide__ = True
        self._arc._check_unique()
        return self._arc._shared.value

    @value.setter
    def value(self, new):
        __tracebackhide__ = True
        self._arc._check_unique()
        self._arc._shared.value = new

    def __repr__(self):
        return rust_debug(self._arc._shared.value)


class Arc(_Counted):
    """Atomically reference-counted: `Arc(Mutex(0))`, then `Arc.clone(counter)` per thread.

    `Arc<T>` is `Send` and `Sync` only when `T` is both: an `Arc<RefCell<T>>` may not go to
    another thread (E0277, "cannot be shared"). The value is the handle's alone while the
    count is 1: `Arc.get_mut(a)` (an `ArcMut` whose `.value` may be changed, or None),
    `Arc.try_unwrap(a)` (`Ok(value)`, or `Err(a)` giving the handle back) and
    `Arc.into_inner(a)` (the value, or None when other handles remain: Rust's `Option`).
    """

    _atomic = True

    def _not_send(self):
        return shared_by_arc(self._rust_type(), self._shared.value)

    _not_sync = _not_send

    @staticmethod
    def _clone_expression(name):
        return f"Arc.clone({name})"

    @_Associated
    def get_mut(arc):
        """`Arc::get_mut(&mut a)`: the value to change in place while no other handle exists, else None."""
        __tracebackhide__ = True
        arc._use()
        arc._check_alive()
        return ArcMut(arc) if arc._count_now("get_mut") == 1 else None

    @_Associated
    def try_unwrap(arc):
        """`Arc::try_unwrap(a)`: `Ok(value)` when `a` is the only handle, else `Err(a)`; `a` moves in either case.

        On `Err`, the handle comes back inside the error (`Err(arc)`): use that one, not the
        name that moved.
        """
        __tracebackhide__ = True
        arc._use()
        arc._check_alive()
        if arc._take_if_last("try_unwrap"):
            arc._moved_by_method("try_unwrap")
            return Ok(arc._shared.value)
        back = arc._twin()
        arc._alive = False
        arc._successor = back  # a thread that moved `arc` in drops `back` when it ends, as it would `arc`
        arc._moved_by_method("try_unwrap")
        return Err(back)

    @_Associated
    def into_inner(arc):
        """`Arc::into_inner(a)`: the value when `a` was the last handle, else None; `a` moves (and counts no more)."""
        __tracebackhide__ = True
        arc._use()
        arc._check_alive()
        last = arc._release_and_tell("into_inner")
        arc._alive = False
        arc._moved_by_method("into_inner")
        return arc._shared.value if last else None


class Rc(_Counted):
    """Reference-counted for one thread only; neither `Send` nor `Sync`."""

    _atomic = False

    def _not_send(self):
        return self._rust_type()

    _not_sync = _not_send
