"""Moves and `Send`: the checks rustc makes at compile time, made when the code runs.

Every value a spawned closure uses moves into that thread, as with Rust's `move`,
unless it is `Copy`. The Python rule (`is_copy`): `None`, `bool`, `int`, `float`,
`complex`, `str`, `bytes`, enum members, and tuples and frozensets of those are `Copy`;
functions, classes and modules are names of items, not values, and are not captured.
Everything else moves: lists, dicts, sets, instances, and the course's types
(`Mutex`, `Arc`, ...). A value used again after its move raises `UseAfterMove` (E0382):
the course's types notice the use when it happens; a plain Python value cannot, so
`spawn` reads the lines after it in the same function, and a second spawn of the
same value is refused. Handing a thread a value that is not `Send` raises `NotSend`
(E0277). Both errors point at the student's own source lines, as rustc would.

Two kinds of closure are not held to the move rule: those written inside this package
(`rustsync.lab` races plain lists on purpose, to show what Rust forbids), and a
`rustsync.sched.RacyCell`, the course's unprotected cell, which every thread reaches
as through a shared reference.
"""

from __future__ import annotations

import ast
import dis
import enum
import functools
import io
import os
import sys
import types
from dataclasses import dataclass, field

from . import _sim
from .debug import type_name
from .diagnostics import (
    Diagnostic,
    Label,
    Note,
    Span,
    Suggestion,
    call_position,
    name_span_in,
    node_span,
    notebook_shell,
    source_line,
    source_text,
    source_tree,
    user_frame,
)
from .errors import NotSend, UseAfterMove


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
            self.suggestion = clone_suggestion(site, self.name, self.clone)
        return self


class Owned:
    """Base of the values that move: they remember where they moved and who owns them."""

    _move = None

    def _use(self):
        """Check that the running thread may use this value; raise E0382 if it moved away.

        An invariant of the scheduler (`sched.explore(..., invariant=...)`) is no thread
        and owns nothing: it may look at any value, moved or not.
        """
        move = self._move
        if move is not None:
            owner = _sim.owner_token()
            if move.owner is not owner and not getattr(owner, "observes", False):
                __tracebackhide__ = True
                raise UseAfterMove(_use_after_move(move))

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
            extra={"method": method},
        )

    def _drop(self):
        """Release what this value owns (overridden by reference-counted types)."""


def drop(value):
    """Rust's `drop(x)`: release a guard, an `Arc`/`Rc` handle or a value now, and move it."""
    release = getattr(value, "_drop_now", None)
    if release is not None:
        release()
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
        )


# --- what a closure captures -------------------------------------------------


def captures(func):
    """The (name, value) pairs a function uses from outside itself: closure cells and globals.

    A bound method takes its object with it (`self`), a `functools.partial` its arguments.
    """
    out = []
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
def _global_names(code):
    return tuple(_collect_global_names(code, []))


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


def not_send(value, depth=0):
    """The Rust type name of the part of `value` that is not `Send`, or None."""
    check = getattr(type(value), "_not_send", None)
    if check is not None:
        return check(value)
    if depth < 3 and isinstance(value, (list, tuple, set, frozenset)) and len(value) <= 1000:
        for item in value:
            found = not_send(item, depth + 1)
            if found:
                return found
    if depth < 3 and isinstance(value, dict) and len(value) <= 1000:
        for item in value.values():
            found = not_send(item, depth + 1)
            if found:
                return found
    return None


# --- which values move -------------------------------------------------------------

_COPY_TYPES = (type(None), bool, int, float, complex, str, bytes, type(Ellipsis), enum.Enum)
_ITEM_TYPES = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, types.BuiltinMethodType,
               types.ModuleType, type, functools.partial, staticmethod, classmethod,
               io.IOBase)  # a stream such as sys.stderr is a process-wide handle, as Rust's `io::stderr()`
_PACKAGE = os.path.dirname(os.path.abspath(__file__))


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
    """`join()` gives the result to the thread that joins: it owns again what the handle held."""
    for item in _returned(result):
        if isinstance(item, Owned):
            if item._move is not None and item._move.owner is handle:
                item._move = None
        else:
            record = plain_move(item)
            if record is not None and record.owner is handle:
                forget_plain_move(item)


def clone_expression(name, value):
    """How to clone `value` in Python, for rustc's "consider cloning" help; None when it cannot be cloned."""
    from .rc import Arc  # the rc module imports this one

    if isinstance(value, Arc):
        return f"Arc.clone({name})"
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


# --- where, in the student's source ----------------------------------------------


@dataclass
class SpawnSite:
    """The spawn call in the student's source: the callee, the closure, the loop around it."""

    filename: str
    call: Span | None
    func: Span | None
    arg: Span | None
    loop: Span | None
    loop_end: int | None
    closure: Span | None
    head: Span | None = None  # what rustc's `move ||` stands for: `work` in `spawn(work)`, or `lambda:`
    closure_node: ast.AST | None = None  # the Lambda or FunctionDef
    stmt: ast.stmt | None = None  # the statement that makes the spawn call
    loop_node: ast.AST | None = None  # a For or While statement, or a comprehension
    loop_stmt: ast.stmt | None = None  # the statement that holds the loop
    loop_target: ast.AST | None = None  # what the loop binds on every turn
    tree: ast.Module | None = None

    @property
    def moved_at(self):
        return self.head or self.arg or self.call


def spawn_site(frame, closure_code=None):
    """Locate the `spawn(...)` call a frame is making, with the loop that encloses it."""
    filename = frame.f_code.co_filename
    line, _, col, end_col = call_position(frame)
    return _spawn_site(filename, line, col, end_col, closure_code, hash(source_text(filename)))


@functools.lru_cache(maxsize=256)
def _spawn_site(filename, line, col, end_col, closure_code, _text_hash):
    site = SpawnSite(filename, None, None, None, None, None, None)
    tree = source_tree(filename)
    if tree is None:
        site.call = Span(filename, line, col, end_col)
        return site
    site.tree = tree
    parents = _parents(tree)
    call = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.lineno == line and node.col_offset == col:
            call = node
            break
    if call is not None:
        site.call = node_span(filename, call)
        site.func = node_span(filename, call.func)
        if isinstance(call.func, ast.Attribute):
            site.func = Span(filename, call.func.end_lineno,
                             call.func.end_col_offset - len(call.func.attr), call.func.end_col_offset)
        if call.args:
            site.arg = node_span(filename, call.args[0])
            if isinstance(call.args[0], ast.Lambda):
                site.head = _lambda_head(filename, call.args[0])
                site.closure_node = call.args[0]
            else:
                site.head = site.arg
        site.stmt = _statement_of(call, parents)
        _find_loop(site, call, parents)
    else:
        site.call = Span(filename, line, col, end_col)
    if site.closure_node is None and closure_code is not None and closure_code.co_filename == filename:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.Lambda)) and _code_line(node) == closure_code.co_firstlineno:
                if isinstance(node, ast.FunctionDef):
                    start = node.col_offset + len("def ")
                    site.closure = Span(filename, node.lineno, start, start + len(node.name))
                else:
                    site.closure = _lambda_head(filename, node)
                site.closure_node = node
                break
    elif site.closure_node is not None:
        site.closure = site.head
    return site


_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _find_loop(site, call, parents):
    """The innermost loop that runs the spawn call again: a `for`/`while` body, or a comprehension."""
    child, node = call, parents.get(call)
    while node is not None and not isinstance(node, _SCOPES):
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While)) and child in node.body:
            end = node.iter.end_col_offset if hasattr(node, "iter") else node.test.end_col_offset
            site.loop = Span(site.filename, node.lineno, node.col_offset, end)
            site.loop_end = node.end_lineno
            site.loop_node, site.loop_stmt = node, node
            site.loop_target = getattr(node, "target", None)
            return
        if isinstance(node, _COMPREHENSIONS) and child is not node.generators[0].iter:
            first = node.generators[0]
            text = source_line(site.filename, first.target.lineno)
            start = text.rfind("for", 0, first.target.col_offset)
            site.loop = Span(site.filename, first.target.lineno, max(start, 0), first.iter.end_col_offset)
            site.loop_end = node.end_lineno
            site.loop_node, site.loop_stmt = node, _statement_of(node, parents)
            site.loop_target = ast.Tuple(elts=[g.target for g in node.generators], ctx=ast.Store())
            return
        child, node = node, parents.get(node)


def _lambda_head(filename, node):
    """`lambda:` or `lambda x:`, the part of a lambda that rustc's `move ||` stands for."""
    text = source_line(filename, node.lineno)
    end = node.body.col_offset if node.body.lineno == node.lineno else len(text)
    colon = text.rfind(":", node.col_offset, end)
    return Span(filename, node.lineno, node.col_offset, colon + 1 if colon >= 0 else node.col_offset + 6)


@functools.lru_cache(maxsize=64)
def _parents(tree):
    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    return parents


def _statement_of(node, parents):
    while node is not None and not isinstance(node, ast.stmt):
        node = parents.get(node)
    return node


def _code_line(node):
    if isinstance(node, ast.FunctionDef) and node.decorator_list:
        return node.decorator_list[0].lineno
    return node.lineno


def _binding_site(filename, name, before_line):
    """The last place before `before_line` where `name` is bound in the file, as a span."""
    if not name:
        return None
    found = _cached_binding_site(filename, name, before_line, hash(source_text(filename)))
    if found is None:  # bound in an earlier notebook cell?
        for cell in _earlier_cells(filename):
            found = _cached_binding_site(cell, name, 10**9, hash(source_text(cell)))
            if found is not None:
                break
    return found


def _earlier_cells(filename):
    """The notebook's cells executed before the one in `filename`, latest first."""
    shell = notebook_shell()
    names = getattr(getattr(shell, "compile", None), "_filename_map", None) or {}
    current = names.get(filename, 10**9)
    return [f for f, n in sorted(names.items(), key=lambda item: -item[1]) if n < current]


@functools.lru_cache(maxsize=1024)
def _cached_binding_site(filename, name, before_line, _text_hash):
    tree = source_tree(filename)
    if tree is None:
        return None
    best = None
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
            targets = [node.target]
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            targets = [node.optional_vars]
        for target in targets:
            for sub in ast.walk(target):
                if (isinstance(sub, ast.Name) and sub.id == name and isinstance(sub.ctx, ast.Store)
                        and sub.lineno < before_line):
                    if best is None or sub.lineno > best.lineno:
                        best = sub
    return node_span(filename, best) if best is not None else None


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_BLOCKS = ("body", "orelse", "finalbody", "handlers")
# builtins that only read their argument: passing a value to them borrows it, as `v.len()` does in Rust
_READERS = {"print", "len", "repr", "str", "format", "sorted", "sum", "min", "max", "any", "all", "list",
            "tuple", "set", "frozenset", "dict", "enumerate", "iter", "reversed", "isinstance", "id", "hash",
            "type", "bool", "zip", "map", "filter"}


def _names_in(node, name):
    """The `Name` nodes for `name` inside `node`, in source order, skipping nested functions and classes."""
    found = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Name) and current.id == name:
            found.append(current)
        for child in ast.iter_child_nodes(current):
            if not isinstance(child, _SCOPES):
                stack.append(child)
    return sorted(found, key=lambda n: (n.lineno, n.col_offset))


def _binds(stmt, name):
    """True when the statement (or a loop's body) assigns `name`."""
    return any(isinstance(n.ctx, ast.Store) for n in _names_in(stmt, name))


def _first_use_in(stmt, name):
    """("use", node) for a read of `name` in the statement, ("bound", None) if it rebinds it first, or None."""
    if isinstance(stmt, (ast.For, ast.AsyncFor)) and any(isinstance(n.ctx, ast.Store)
                                                         for n in _names_in(stmt.target, name)):
        reads = _names_in(stmt.iter, name)
        return ("use", reads[0]) if reads else ("bound", None)
    if isinstance(stmt, _SCOPES):
        return ("bound", None) if getattr(stmt, "name", None) == name else None
    names = _names_in(stmt, name)
    reads = [n for n in names if not isinstance(n.ctx, ast.Store)]
    if reads:
        return "use", reads[0]
    return ("bound", None) if names else None


def later_use(site, name, after=None):
    """The first read of `name` that runs after the statement `after` (default: the spawn), or None.

    A read of what rustc would flag: the statements that follow, in this block and the
    blocks around it, up to the enclosing function; the other branch of an `if` does
    not follow; a rebinding of the name ends the search. Returns (node, borrowed).
    """
    tree = site.tree
    current = after if after is not None else site.stmt
    if tree is None or current is None:
        return None
    parents = _parents(tree)
    while current is not None:
        parent = parents.get(current)
        if parent is None or isinstance(parent, _SCOPES):
            return None
        following = []
        for block in _BLOCKS:
            stmts = getattr(parent, block, None) or []
            if current in stmts:
                following = stmts[stmts.index(current) + 1:]
                if isinstance(parent, ast.Try) and block == "body":
                    following = following + list(parent.orelse) + list(parent.finalbody)
                break
        for stmt in following:
            found = _first_use_in(stmt, name)
            if found is not None:
                kind, node = found
                return (node, _is_borrow(node, parents)) if kind == "use" else None
        current = parent if isinstance(parent, ast.stmt) else parents.get(parent)
        current = _statement_of(current, parents) if current is not None else None
    return None


def _is_borrow(node, parents):
    """A read that only borrows: `x.method()`, `x[i]`, `len(x)`, `print(x)`, an f-string, a `for` over it."""
    parent = parents.get(node)
    if isinstance(parent, (ast.Attribute, ast.Subscript, ast.FormattedValue, ast.Compare)):
        return True
    if isinstance(parent, (ast.For, ast.comprehension)) and parent.iter is node:
        return True
    if isinstance(parent, ast.Call) and node in parent.args:
        return isinstance(parent.func, ast.Name) and parent.func.id in _READERS
    return False


def rebound_in_loop(site, name):
    """True when the loop around the spawn gives `name` a new value on every turn (`for chunk in chunks`)."""
    loop = site.loop_node
    if loop is None:
        return False
    if site.loop_target is not None and _names_in(site.loop_target, name):
        return True
    return any(_binds(stmt, name) for stmt in getattr(loop, "body", ()) if stmt is not site.stmt)


def first_use_in_closure(site, name):
    """The span of the closure's first use of `name` (rustc's "... due to use in closure"), or None."""
    node = site.closure_node
    if node is None:
        return None
    body = node.body if isinstance(node, ast.Lambda) else node
    stack, found = [body] if isinstance(body, ast.AST) else list(body), []
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Name) and current.id == name and not isinstance(current.ctx, ast.Store):
            found.append(current)
        stack.extend(ast.iter_child_nodes(current))
    if isinstance(node, ast.FunctionDef):
        found = [n for n in found if n.lineno > node.lineno or n.col_offset > node.col_offset + 4]
    if not found:
        return None
    first = min(found, key=lambda n: (n.lineno, n.col_offset))
    return node_span(site.filename, first)


def clone_suggestion(site, name, expression):
    """rustc's "consider cloning the value before moving it into the closure", in Python.

    The clone goes on a new line before the statement that makes the closure, and the
    closure uses the clone: the rows shown run from the new line to the changed use.
    """
    use = first_use_in_closure(site, name)
    node = site.closure_node
    if use is None or node is None or expression is None or site.tree is None:
        return None
    parents = _parents(site.tree)
    stmt = node if isinstance(node, ast.FunctionDef) else _statement_of(node, parents)
    if stmt is None:
        return None
    indent = " " * stmt.col_offset
    rows = [(stmt.lineno, f"{indent}value = {expression}")]
    for line in range(stmt.lineno, use.line + 1):
        text = source_line(site.filename, line)
        if line == use.line:
            text = text[: use.col] + "value" + text[use.end_col :]
        rows.append((line + 1, text))
    return Suggestion("consider cloning the value before moving it into the closure", rows)


def _call_at(frame):
    """The AST node of the call a frame is making (or None), its file, and its raw span."""
    filename = frame.f_code.co_filename
    line, _, col, end_col = call_position(frame)
    fallback = Span(filename, line, col, end_col) if end_col > col else None
    tree = source_tree(filename)
    if tree is not None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.lineno == line and node.col_offset == col:
                return node, filename, fallback
    return None, filename, fallback


def _receiver(frame):
    """The variable name and span of `x` in `x.method(...)` (or `Type.method(x)`) a frame is making."""
    if frame is None:
        return None, None
    node, filename, fallback = _call_at(frame)
    if node is not None and isinstance(node.func, ast.Attribute):
        value = node.func.value
        while isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
            value = value.func.value
        if isinstance(value, ast.Name) and not value.id[:1].isupper():
            return value.id, node_span(filename, value)
        if node.args and isinstance(node.args[0], ast.Name):  # Arc.clone(counter)
            return node.args[0].id, node_span(filename, node.args[0])
    return None, fallback


def _argument(frame):
    """The variable name and span of the first argument of the call a frame is making."""
    if frame is None:
        return None, None
    node, filename, fallback = _call_at(frame)
    if node is not None and node.args:
        arg = node.args[0]
        return (arg.id if isinstance(arg, ast.Name) else None), node_span(filename, arg)
    return None, fallback


def use_site(frame, name):
    """Where the student's code uses `name` in the call the frame is making."""
    if frame is None:
        return None
    filename = frame.f_code.co_filename
    line, end_line, col, end_col = call_position(frame)
    if name:
        span = name_span_in(filename, line, col, end_col if end_line == line else 10**6, name)
        if span is not None:
            return span
    return Span(filename, line, col, end_col if end_line == line else col + 1)


# --- the diagnostics ----------------------------------------------------------------


def _copy_label(move):
    return (f"move occurs because `{move.name}` has type `{move.type_name}`, "
            "which does not implement the `Copy` trait")


def _move_labels(move, in_previous_iteration=False, primary=False, closure_use=None):
    """The labels that say where the value was made and where it moved.

    `closure_use` is the text for the closure's own use of the value (rustc's "variable
    moved due to use in closure"), or None where rustc leaves it out.
    """
    move.resolve()
    labels = []
    if move.created is not None:
        labels.append(Label(move.created, _copy_label(move)))
    if move.kind == "closure":
        if in_previous_iteration and move.loop is not None:
            labels.append(Label(move.loop, "inside of this loop"))
            text = "value moved into closure here, in previous iteration of loop"
        else:
            text = "value moved into closure here"
    elif move.kind == "method":
        text = f"`{move.name}` moved due to this method call"
    else:
        text = "value moved here"
    if move.site is not None:
        labels.append(Label(move.site, text, primary=primary))
    if closure_use and move.kind == "closure" and move.use is not None:
        labels.append(Label(move.use, closure_use))
    return labels


def _help(move):
    move.resolve()
    if move.kind == "closure":
        if move.suggestion is not None:
            return None  # rustc's own help, the clone, says it
        return ("to share one value between threads, wrap it in an `Arc` and move an "
                f"`Arc.clone({move.name})` into each closure instead of `{move.name}` itself")
    if move.kind == "method":
        method = move.extra.get("method", "the method")
        return f"`{method}` takes ownership; call it last, when nothing else needs `{move.name}`"
    return f"`drop({move.name})` gives the value up; use `{move.name}` before dropping it"


def _diagnostic(head, move, labels, notes=()):
    helps = [h for h in [_help(move)] if h]
    suggestions = [move.suggestion] if move.suggestion is not None else []
    return Diagnostic("E0382", f"{head} of moved value: `{move.name}`", labels, helps=helps, notes=list(notes),
                      suggestions=suggestions)


def _use_after_move(move):
    """E0382 for a use of a moved value by code that no longer owns it."""
    frame = user_frame(2)
    span = use_site(frame, move.name)
    borrowed = span is not None and span.filename and _is_method_receiver(span)
    verb = "borrowed" if borrowed else "used"
    labels = _move_labels(move, closure_use="variable moved due to use in closure")
    if span is not None:
        labels.append(Label(span, f"value {verb} here after move", primary=True))
    return _diagnostic("borrow" if borrowed else "use", move, labels)


def _is_method_receiver(span):
    rest = source_line(span.filename, span.line)[span.end_col :]
    return rest.startswith(".")


def moved_again(move, site, spawn_frame):
    """E0382 for a second spawn of a value that already moved into a thread.

    When the second spawn is the same call in a loop, rustc blames the first use of
    the value after the loop (`value borrowed here after move`) if there is one, and
    otherwise the move itself (`value moved into closure here, in previous iteration
    of loop`), with the closure's use of the value. A different closure is blamed
    itself (`value used here after move`), with its use of the value.
    """
    same_site = move.site is not None and move.site == site.moved_at
    notes = []
    if same_site:
        later = later_use(site, move.name, after=site.loop_stmt) if site.loop_stmt is not None else None
        if later is not None:
            node, borrowed = later
            labels = _move_labels(move, in_previous_iteration=True)
            verb = "borrowed" if borrowed else "used"
            labels.append(Label(node_span(site.filename, node), f"value {verb} here after move", primary=True))
            head = "borrow" if borrowed else "use"
            notes.append(Note("found when the loop spawned the closure a second time; "
                              "no thread was started for that spawn"))
        else:
            labels = _move_labels(move, in_previous_iteration=True, primary=True,
                                  closure_use="use occurs due to use in closure")
            head = "use"
    else:
        labels = _move_labels(move, closure_use="variable moved due to use in closure")
        labels.append(Label(site.moved_at, "value used here after move", primary=True))
        use = first_use_in_closure(site, move.name)
        if use is not None:
            labels.append(Label(use, "use occurs due to use in closure"))
        head = "use"
    return UseAfterMove(_diagnostic(head, move, labels, notes))


def used_after_spawn(move, site, later):
    """E0382 for a plain value that the lines after its spawn use again: raised before the thread starts."""
    node, borrowed = later
    labels = _move_labels(move, closure_use="variable moved due to use in closure")
    verb = "borrowed" if borrowed else "used"
    labels.append(Label(node_span(site.filename, node), f"value {verb} here after move", primary=True))
    notes = [Note("found in the lines after the spawn, before the thread started: "
                  "a plain Python value cannot notice its own use, so `spawn` looks ahead, as rustc does")]
    return UseAfterMove(_diagnostic("borrow" if borrowed else "use", move, labels, notes))


def cannot_send(bad_type, name, site, spawn_location):
    """E0277 for a closure that captures a value which is not `Send`."""
    closure = site.closure or site.arg
    closure_name = f"{{closure@{_short(closure)}}}" if closure else "the closure"
    labels = []
    if site.func is not None:
        labels.append(Label(site.func, "required by a bound introduced by this call"))
    target = site.arg or site.call
    if target is not None:
        labels.append(Label(target, f"`{bad_type}` cannot be sent between threads safely", primary=True))
    if closure is not None and closure != target:
        labels.append(Label(closure, f"within this `{closure_name}`"))
    notes = []
    if closure is not None:
        notes.append(Note("required because it's used within this closure", [Label(closure, "", primary=True)]))
    notes.append(Note("required by a bound in `spawn`", location=spawn_location))
    helps = [f"within `{closure_name}`, the trait `Send` is not implemented for `{bad_type}`"]
    if bad_type.startswith("Rc<"):
        helps.append(f"`Rc` counts its owners without atomic operations; use `Arc` to share `{name}` between threads")
    elif bad_type.startswith("MutexGuard"):
        helps.append("a guard must be released by the thread that locked; "
                     "send the `Arc<Mutex<..>>` and lock it in the thread")
    return NotSend(Diagnostic("E0277", f"`{bad_type}` cannot be sent between threads safely",
                              labels, helps=helps, notes=notes))


def _short(span):
    from .diagnostics import location

    return location(span)


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
