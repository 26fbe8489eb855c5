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
from .diagnostics import Diagnostic, Label, Note, user_frame
from .errors import CannotBorrowMut, CannotMoveOut, GuardDropped
from .ownership import Owned, _receiver, not_send

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
        twin = object.__new__(type(self))
        twin._shared = self._shared
        twin._alive = True
        return twin

    def strong_count(self):
        """How many owners the value has now (`Arc.strong_count(a)` or `a.strong_count()`)."""
        __tracebackhide__ = True
        self._use()
        sim = _sim._local.__dict__.get("thread")
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
            raise through_shared(self, attr, user_frame(1))
        return getattr(value, attr)

    def _check_alive(self):
        if not self._alive:
            __tracebackhide__ = True
            raise GuardDropped(f"this `{type(self).__name__}` handle was dropped; clone a live handle instead")

    def _change_count(self, delta, op):
        sim = _sim._local.__dict__.get("thread")
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
            if getattr(self, "_alive", False) and _sim._local.__dict__.get("thread") is None:
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
              "compare_exchange", "borrow", "borrow_mut"):
    setattr(_Counted, _attr, _deref(_attr))


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


def through_shared(handle, method, frame):
    """E0596 (`get_mut`) or E0507 (`into_inner`): a method that needs the value to itself, called through an `Arc`."""
    kind = type(handle).__name__
    shared_type = handle._rust_type()
    name, span = _receiver(frame)
    if _NEEDS_MUT[method] == "&mut self":
        labels = [Label(span, "cannot borrow as mutable", primary=True)] if span else []
        helps = [f"trait `DerefMut` is required to modify through a dereference, but it is not implemented for "
                 f"`{shared_type}`"]
        if kind == "Arc":
            helps.append(f"an `Arc` is shared, so nothing reached through it is yours alone: lock it "
                         f"(`with {name or 'arc'}.lock() as guard: ...`)")
        return CannotBorrowMut(Diagnostic("E0596", f"cannot borrow data in an `{kind}` as mutable", labels,
                                          helps=helps))
    inner = handle._shared.value
    inner_type = type_name(inner)
    labels = []
    if span is not None:
        labels.append(Label(span, f"move occurs because value has type `{inner_type}`, which does not "
                                  "implement the `Copy` trait", primary=True))
        call = _method_call_span(span, method)
        if call is not None:
            labels.append(Label(call, "value moved due to this method call"))
    method_fn = getattr(type(inner), method)
    code = method_fn.__code__
    from .diagnostics import display_name

    note = Note(f"`{type(inner).__name__}.{method}` takes ownership of the receiver `self`, which moves value",
                location=f"{display_name(code.co_filename)}:{code.co_firstlineno}")
    return CannotMoveOut(Diagnostic("E0507", f"cannot move out of an `{kind}`", labels, notes=[note]))


def _method_call_span(receiver, method):
    """The span of `method(...)` right after `receiver.` on the same line."""
    from .diagnostics import Span, source_line

    text = source_line(receiver.filename, receiver.line)
    start = receiver.end_col + 1
    if not text.startswith(method, start):
        return None
    depth, end = 0, start + len(method)
    for i in range(end, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return Span(receiver.filename, receiver.line, start, i + 1)
    return Span(receiver.filename, receiver.line, start, end)
