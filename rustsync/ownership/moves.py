"""Moves: which values a closure takes with it, where each moved, and who owns it now.

Every value a spawned closure uses moves into that thread, as with Rust's `move`, unless it
is `Copy` (`is_copy`). The course's types (`Owned`) notice a use after their move when it
happens; a plain Python value cannot, so its move is kept in a registry here.
"""

from __future__ import annotations

import ast
import enum
import functools
import io
import os
import site
import sys
import sysconfig
import types
from dataclasses import dataclass, field

from .. import _sim
from ..debug_format import type_name
from ..diagnostics import Span, Suggestion, display_name, source_text, user_frame
from ..errors import UseAfterMove
from . import messages
from .source import (
    _argument,
    _assigned_name,
    _binding_site,
    _receiver,
    first_use_in_closure,
    rebound_between,
    use_after_statement,
    use_site_names,
)


@dataclass
class MoveRecord:
    """Where and how a value moved, and who owns it now."""

    name: str
    type_name: str
    kind: str  # "closure", "method" (into_inner) or "drop"
    owner: object
    site: Span | None = None  # the closure handed to spawn, or the consuming call
    loop: Span | None = None  # the loop around the spawn, if any
    created: Span | None = None  # where the name was bound
    closure: Span | None = None  # the closure's `def` name or `lambda`
    use: Span | None = None  # the closure's first use of the name
    suggestion: Suggestion | None = None  # rustc's "consider cloning" fix, for values that can be cloned
    spawn: object = None  # the SpawnSite, to find `use` and `suggestion` when an error needs them
    clone: str | None = None  # how to clone the value in Python (`Arc.clone(c)`, `log.copy()`), or None
    extra: dict = field(default_factory=dict)

    def resolve(self):
        """Fill in what only an error message needs (found lazily: spawning must stay cheap)."""
        if self.spawn is not None:
            site, self.spawn = self.spawn, None
            self.use = first_use_in_closure(site, self.name)
            self.suggestion = messages.clone_suggestion(site, self.name, self.clone)
        return self


class Owned:
    """Base of the values that move: they remember where they moved and who owns them."""

    _move = None

    def _use(self, borrowed=None):
        """Check that the running thread may use this value; raise E0382 if it moved away.

        An invariant of the scheduler (`sched.explore(..., invariant=...)`) is no thread
        and owns nothing: it may look at any value, moved or not. `borrowed=True` says the
        use only borrows (printing it, Rust's `{:?}`), for the error's wording.
        """
        move = self._move
        if move is not None:
            owner = _sim.owner_token()
            if move.owner is not owner and not getattr(owner, "observes", False):
                __tracebackhide__ = True
                raise UseAfterMove(messages.use_after_move(_reported(move, owner), borrowed))
            if move.extra.get("renamed") and _named_as(self, move.name):
                if _rebound_since_join(move):  # `log = back`: a new binding of the old name, as Rust's `let`
                    self._move = None
                    return
                __tracebackhide__ = True
                raise UseAfterMove(messages.use_after_move(move, borrowed))

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for method in ("__repr__", "__str__"):
            if method in cls.__dict__:
                setattr(cls, method, _debug_checked(cls.__dict__[method]))

    def _moved_by_method(self, method):
        """Mark this value consumed by a method such as `into_inner()`."""
        frame = user_frame(2)
        name, site = _receiver(frame)
        self._move = MoveRecord(
            name=name or type(self).__name__.lower(),
            type_name=type_name(self),
            kind="method",
            owner=None,
            site=site,
            created=_binding_site(frame.f_code.co_filename, name, site.line) if name and site else None,
            extra={"method": method, "owner": type(self).__name__, "location": _defined_at(type(self), method),
                   **_moved_in(self._move)},
        )

    def _drop(self):
        """Release what this value owns (overridden by reference-counted types)."""


def _defined_at(cls, method):
    """`file:line` of a method's definition, as rustc's note points into the standard library."""
    code = getattr(getattr(cls, method, None), "__code__", None)
    return f"{display_name(code.co_filename)}:{code.co_firstlineno}" if code is not None else None


def drop(value):
    """Rust's `drop(x)`: release a guard, an `Arc`/`Rc` handle or a value now, and move it.

    A mutex whose guard is alive cannot move: that is rustc's E0505 (`MovedWhileBorrowed`).
    """
    __tracebackhide__ = True
    borrowed = getattr(value, "_borrow", None)
    if borrowed is not None:
        borrow = borrowed()
        if borrow is not False and (value._move is None or value._move.owner is _sim.owner_token()):
            frame = user_frame(1)
            name, site = _argument(frame)
            raise messages.moved_while_borrowed(name or type(value).__name__.lower(), site, frame, borrow)
    release = getattr(value, "_drop_now", None)
    if release is not None:
        release()
        moved = getattr(value, "_moved_by_drop", None)
        if moved is not None:  # a guard: a later use of it is E0382, as in Rust, where `drop(guard)` moves it
            frame = user_frame(1)
            name, site = _argument(frame)
            moved(MoveRecord(
                name=name or "guard", type_name=type_name(value), kind="drop", owner=None, site=site,
                created=_binding_site(frame.f_code.co_filename, name, site.line) if name and site else None))
    if isinstance(value, Owned):
        value._use()
        frame = user_frame(1)
        name, site = _argument(frame)
        value._drop()
        value._move = MoveRecord(
            name=name or type(value).__name__.lower(),
            type_name=type_name(value),
            kind="drop",
            owner=None,
            site=site,
            created=_binding_site(frame.f_code.co_filename, name, site.line) if name and site else None,
            extra=_moved_in(value._move),
        )


def _moved_in(previous):
    """What a consuming call (`into_inner()`, `drop`) remembers of the closure that brought the value to its thread.

    rustc reports the capture by the closure to any code outside that thread: for the
    spawning thread, the value moved into the closure, whatever the thread did with it next.
    """
    if previous is not None and previous.kind == "closure" and previous.owner is not None:
        return {"captured": previous, "thread": previous.owner}
    return {}


def _reported(move, owner):
    """The move to report to `owner`: the closure's capture, unless `owner` is the thread that consumed the value."""
    captured = move.extra.get("captured")
    if captured is not None and owner is not move.extra.get("thread"):
        return captured
    return move


def _named_as(value, name):
    """True when the student's code now uses `value` under `name`, a name that gave it up.

    A value a thread hands back through `join()` belongs to the name it is bound to there
    (`back = handle.join()`); the name it moved away from stays moved, as in Rust.
    """
    frame = user_frame(2)
    if frame is None or not _outside_package(frame.f_code.co_filename):
        return False
    bound = frame.f_locals.get(name, frame.f_globals.get(name, _MISSING))
    return bound is value and use_site_names(frame, name)


_MISSING = object()


def _rebound_since_join(move):
    """True when the student's code bound the moved name again between the `join()` and this use.

    Looked for in the file or cell that uses it: after the join's line when the join is in
    the same one, from the first line of the code that uses it otherwise; and in IPython, in
    the cells run after the join's cell and before the one that uses it.
    """
    frame = user_frame(1)
    joined = move.extra.get("joined_at")
    if frame is None or joined is None:
        return False
    filename, line = joined
    here = frame.f_code.co_filename
    start = line if here == filename else frame.f_code.co_firstlineno - 1
    if rebound_between(here, move.name, start, frame.f_lineno):
        return True
    return here != filename and _rebound_in_cells_between(move.name, filename, here)


def _rebound_in_cells_between(name, first, last):
    """In IPython: whether a cell run after cell `first` and before cell `last` (file names) binds `name`."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    if shell is None:
        return False
    cells = [text.rstrip("\n") for text in getattr(shell.history_manager, "input_hist_parsed", [])]
    first_text, last_text = source_text(first).rstrip("\n"), source_text(last).rstrip("\n")
    ends = [i for i, text in enumerate(cells) if text == last_text]
    if not first_text or not ends:
        return False
    end = ends[-1]  # the cell running now
    starts = [i for i, text in enumerate(cells[:end]) if text == first_text]
    if not starts:
        return False
    for text in cells[starts[-1] + 1:end]:
        tree = _parsed(text)
        if tree is not None and any(isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store)
                                    for node in ast.walk(tree)):
            return True
    return False


@functools.lru_cache(maxsize=256)
def _parsed(text):
    try:
        return ast.parse(text)
    except SyntaxError:
        return None


def _debug_checked(method):
    """`repr`/`str` of a course value that refuses, as rustc's `{:?}` does, to print it after its move.

    Only the student's own code is refused: the scheduler's traces, the plots, the grader,
    a debugger or IPython's display may still show a moved value.
    """

    @functools.wraps(method)
    def checked(self):
        if self._move is not None and _students_code(sys._getframe(1).f_code.co_filename):
            __tracebackhide__ = True
            self._use(borrowed=True)
        return method(self)

    return checked


@functools.lru_cache(maxsize=256)
def _students_code(filename):
    """True for a file of the student's: neither this package, Python's library, installed packages, nor frozen code."""
    if filename.startswith("<frozen") or not _outside_package(filename):
        return False
    path = os.path.abspath(filename)
    return not any(path.startswith(folder + os.sep) for folder in _LIBRARY_FOLDERS)


_LIBRARY_FOLDERS = tuple(sorted({os.path.abspath(p) for p in (
    *(sysconfig.get_paths().get(key) for key in ("stdlib", "platstdlib", "purelib", "platlib")),
    site.getusersitepackages()) if p}))


# --- which values move -------------------------------------------------------------

_COPY_TYPES = (type(None), bool, int, float, complex, str, bytes, type(Ellipsis), enum.Enum)
_ITEM_TYPES = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, types.BuiltinMethodType,
               types.ModuleType, type, functools.partial, staticmethod, classmethod,
               io.IOBase)  # a stream such as sys.stderr is a process-wide handle, as Rust's `io::stderr()`
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # rustsync/


def is_copy(value, depth=0):
    """True for the values a `move` closure copies instead of moving (Rust's `Copy` types).

    `None`, `bool`, `int`, `float`, `complex`, `str`, `bytes`, enum members, and tuples
    and frozensets of those. (Rust's `String` is not `Copy`; a Python `str` is immutable,
    so it plays the part of a `&str`, which is.)
    """
    if isinstance(value, _COPY_TYPES):
        return True
    if isinstance(value, (tuple, frozenset)) and depth < 4 and len(value) <= 1000:
        return all(is_copy(item, depth + 1) for item in value)
    return False


def is_item(value):
    """True for the name of an item (a function, a class, a module, a stream): used, never captured by a closure.

    A closure without `move` borrows every other value it names (E0373 outside a scope).
    """
    if isinstance(value, _ITEM_TYPES):
        return True
    item = getattr(type(value), "_rustsync_item", None)  # a function that lives in another process
    return bool(item is not None and item(value))


def moves(value):
    """True for a plain Python value that a spawned closure takes with it (not `Copy`, not an item)."""
    if isinstance(value, Owned) or is_copy(value) or isinstance(value, _ITEM_TYPES):
        return False
    item = getattr(type(value), "_rustsync_item", None)  # a function that lives in another process
    if item is not None and item(value):
        return False
    sched = sys.modules.get("rustsync.sched")
    if sched is not None and isinstance(value, sched.RacyCell):
        return False  # the unprotected cell: reached by every thread, as through `&`
    return True


def checked_closure(closure):
    """False for closures written inside this package: its demonstrations share plain values on purpose."""
    code = getattr(closure, "__code__", None)
    return code is None or _outside_package(code.co_filename)


@functools.lru_cache(maxsize=256)
def _outside_package(filename):
    return not os.path.abspath(filename).startswith(_PACKAGE + os.sep)


# Plain values that moved into a thread: id -> (value, MoveRecord). A list cannot carry a
# mark of its own, so the record is kept here, with the value (so its id stays its own).
_plain_moves = {}
_sweep_at = [256]


def plain_move(value):
    """The move record of a plain value, or None."""
    entry = _plain_moves.get(id(value))
    return entry[1] if entry is not None and entry[0] is value else None


def record_plain_move(value, record):
    _plain_moves[id(value)] = (value, record)
    if len(_plain_moves) >= _sweep_at[0]:
        _sweep()


def forget_plain_move(value):
    entry = _plain_moves.get(id(value))
    if entry is not None and entry[0] is value:
        del _plain_moves[id(value)]


def _sweep():
    """Forget the moved values nobody else refers to any more (they were dropped)."""
    for key, (value, _) in list(_plain_moves.items()):
        # references: the registry's tuple, `value` here, and getrefcount's argument
        if sys.getrefcount(value) <= 3:
            del _plain_moves[key]
        del value
    _sweep_at[0] = max(256, 2 * len(_plain_moves))


def _returned(result):
    items = [result]
    if isinstance(result, (tuple, list)) and len(result) <= 100:
        items.extend(result)
    return items


def hand_over(result, thread, handle):
    """A thread's result waits in its join handle: what the thread moved in and returns now belongs to the handle.

    Returns the ids of the course's values handed over, which the thread must not drop.
    """
    kept = set()
    for item in _returned(result):
        if isinstance(item, Owned):
            if item._move is not None and item._move.owner is thread and item._move.kind == "closure":
                item._move.owner = handle
                kept.add(id(item))
        else:
            record = plain_move(item)
            if record is not None and record.owner is thread:
                record.owner = handle
    return kept


def claim(result, handle):
    """`join()` gives the result to the thread that joins: it owns again what the handle held.

    Under the name it is bound to there: after `back = handle.join()`, the value is `back`'s,
    and the name it moved away from (`log`) stays moved, as in Rust. Rebound to its old name
    (`log = handle.join()`), it is simply `log`'s again.
    """
    target = _UNKNOWN
    for item in _returned(result):
        if isinstance(item, Owned):
            move = item._move
            if move is not None and move.owner is handle:
                if target is _UNKNOWN:
                    target = _assigned_name(user_frame(1))
                if target == move.name or item is not result:
                    item._move = None  # an item of a returned tuple: its new name is not known
                else:
                    move.owner = _sim.owner_token()
                    move.extra["renamed"] = True
                    frame = user_frame(1)
                    if frame is not None:
                        move.extra["joined_at"] = (frame.f_code.co_filename, frame.f_lineno)
        else:
            record = plain_move(item)
            if record is not None and record.owner is handle:
                if target is _UNKNOWN:
                    target = _assigned_name(user_frame(1))
                if target == record.name or item is not result:
                    forget_plain_move(item)
                    continue
                record.owner = _sim.owner_token()
                record.extra["renamed"] = True
                # a plain value cannot notice its own use: look ahead, as `spawn` does
                later = use_after_statement(user_frame(1), record.name)
                if later is not None:
                    __tracebackhide__ = True
                    raise messages.used_after_join(record, *later)


_UNKNOWN = object()


def clone_expression(name, value):
    """How to clone `value` in Python, for rustc's "consider cloning" help; None when it cannot be cloned."""
    # `Arc.clone(name)`, `cell.clone()`: the type says how (a `RefCell` only when its value can be cloned)
    own = getattr(value if isinstance(value, Owned) else type(value), "_clone_expression", None)
    if own is not None:
        return own(name)
    if isinstance(value, Owned):
        return None  # a Mutex, an atomic, a RefCell: not `Clone` in Rust
    if type(value) in (list, dict, set) and len(value) <= 1000 and all(
            is_copy(v) for v in (value.values() if type(value) is dict else value)):
        return f"{name}.copy()"
    if (type(value).__module__.split(".")[0] in _NOT_CLONE_MODULES
            or isinstance(value, (types.GeneratorType, types.CoroutineType))):
        return None  # locks, events, queues, files: no copy of them means the same thing
    return f"copy.deepcopy({name})"


_NOT_CLONE_MODULES = {"threading", "_thread", "queue", "multiprocessing", "concurrent", "asyncio", "socket",
                      "io", "_io", "subprocess", "selectors"}

def closure_move(var, value, site, owner):
    """The record of `value` moving into a spawned closure under the name `var`."""
    before = site.loop.line if site.loop is not None else (site.arg or site.call).line + 1
    return MoveRecord(
        name=var,
        type_name=type_name(value),
        kind="closure",
        owner=owner,
        site=site.moved_at,
        loop=site.loop,
        created=_binding_site(site.filename, var, before),
        closure=site.closure,
        spawn=site,
        clone=clone_expression(var, value),
    )
