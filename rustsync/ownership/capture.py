"""What a closure captures, bound as of the spawn, and whether it may cross to another thread.

`Send` and `Sync` apart, as in Rust: a value that is `Send` may move into another thread;
one that is `Sync` may be *shared* with one (reached from several threads through `&`, or
through an `Arc`). `Arc<T>` is `Send` only when `T` is `Send` and `Sync`.

| course type | Send | Sync |
| --- | --- | --- |
| `Mutex<T>` | when `T` is | when `T` is `Send` |
| `Arc<T>` | when `T` is `Send + Sync` | likewise |
| `Rc<T>` | no | no |
| `RefCell<T>` | when `T` is | no |
| `MutexGuard<T>` | no | when `T` is |
| `AtomicUsize`, plain values | yes | yes |
"""

from __future__ import annotations

import dis
import functools
import itertools
import types
from dataclasses import dataclass


def captures(func):
    """The (name, value) pairs a function uses from outside itself: closure cells and globals.

    A bound method takes its object with it (`self`), a `functools.partial` its arguments.
    """
    out = []
    if getattr(type(func), "_rustsync_remote_function", False) is True:  # a student's function, while grading
        return list(func._rustsync_captures())
    if isinstance(func, types.MethodType):
        out.append(("self", func.__self__))
        func = func.__func__
    elif isinstance(func, functools.partial):
        out.extend((f"{getattr(func.func, '__name__', 'partial')}'s argument", arg)
                   for arg in (*func.args, *func.keywords.values()))
        return out + captures(func.func)
    code = getattr(func, "__code__", None)
    if code is None:
        return out
    for name, cell in zip(code.co_freevars, func.__closure__ or (), strict=False):
        try:
            out.append((name, cell.cell_contents))
        except ValueError:  # an empty cell: the name is not bound yet
            continue
    namespace = func.__globals__
    for name in _global_names(code):
        if name in namespace:
            out.append((name, namespace[name]))
    return out


@functools.lru_cache(maxsize=512)
def global_names(code):
    """The global names `code`, and the functions written inside it, read."""
    return tuple(_collect_global_names(code, []))


_global_names = global_names


def _collect_global_names(code, seen):
    for ins in dis.get_instructions(code):
        if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME") and ins.argval not in seen:
            seen.append(ins.argval)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _collect_global_names(const, seen)
    return seen


def bind_at_spawn(func):
    """A copy of `func` whose captured values are those of now, as Rust's `move` captures.

    Python closures see a loop variable's latest value when they run; a moved closure
    must keep the value it had when the thread was spawned.
    """
    if not isinstance(func, types.FunctionType):
        return func
    cells = None
    if func.__closure__:
        cells = []
        for cell in func.__closure__:
            try:
                cells.append(types.CellType(cell.cell_contents))
            except ValueError:
                cells.append(cell)
        cells = tuple(cells)
    bound = types.FunctionType(
        func.__code__, dict(func.__globals__), func.__name__, func.__defaults__, cells
    )
    bound.__kwdefaults__ = func.__kwdefaults__
    bound.__qualname__ = func.__qualname__
    return bound


@dataclass(frozen=True)
class Unsafe:
    """Why a value may not go to another thread: the Rust type at fault and the trait it lacks.

    `via` is the type whose `Send` needed that trait (`Arc<RefCell<int>>` needs `RefCell<int>`
    to be `Sync`), or None when the value at fault was itself handed over.
    """

    bad: str
    trait: str  # "Send" or "Sync"
    via: str | None = None


# How far into plain containers (lists, tuples, sets, dicts) a value is searched for a part that is not
# `Send` or `Sync`: any depth up to MAX_DEPTH, and at most MAX_ITEMS items in all, so that a capture of a
# large structure costs a bounded time at spawn (a part past either bound is not seen).
MAX_DEPTH = 32
MAX_ITEMS = 10_000


def not_send(value, depth=0, budget=None):
    """Why `value` is not `Send` (an `Unsafe`), or None when it may move into another thread.

    A type says it with `_not_send(self)`, returning None, the Rust name of the part that is
    not `Send`, or an `Unsafe`; a list, tuple, set or dict is `Send` when its items (a dict's
    keys and values) are.
    """
    check = getattr(type(value), "_not_send", None)
    if check is not None:
        found = check(value)
        return Unsafe(found, "Send") if isinstance(found, str) else found
    return _in_items(value, depth, not_send, budget)


def not_sync(value, depth=0, budget=None):
    """Why `value` is not `Sync` (an `Unsafe`), or None when threads may share it.

    A type says it with `_not_sync(self)`, as `_not_send`; `Rc` and `RefCell` are not `Sync`,
    a `Mutex<T>` is whenever `T` is `Send`, a plain value is when its items are.
    """
    check = getattr(type(value), "_not_sync", None)
    if check is not None:
        found = check(value)
        return Unsafe(found, "Sync") if isinstance(found, str) else found
    return _in_items(value, depth, not_sync, budget)


def _in_items(value, depth, check, budget):
    if depth >= MAX_DEPTH:
        return None
    if isinstance(value, dict):
        items = itertools.chain(value.keys(), value.values())
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = iter(value)
    else:
        return None
    if budget is None:
        budget = [MAX_ITEMS]
    for item in items:
        budget[0] -= 1
        if budget[0] < 0:
            return None
        found = check(item, depth + 1, budget)
        if found:
            return found
    return None


def shared_by_arc(arc_type, value):
    """Why an `Arc` around `value` is not `Send`: `value` must be `Send` and `Sync`."""
    found = not_send(value)
    if found is not None:
        return found
    found = not_sync(value)
    if found is not None and found.via is None:
        return Unsafe(found.bad, "Sync", arc_type)
    return found
