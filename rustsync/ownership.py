"""Moves and `Send`: the checks rustc makes at compile time, made when the code runs.

A value of the course's types (`Mutex`, `Arc`, `Rc`, ...) that a spawned closure uses
moves into that thread. Using it again from anywhere else raises `UseAfterMove`
(E0382); handing a thread a value that is not `Send` raises `NotSend` (E0277). Both
errors point at the student's own source lines, as rustc would.
"""

from __future__ import annotations

import ast
import dis
import functools
import types
from dataclasses import dataclass, field

from . import _sim
from .debug import type_name
from .diagnostics import (
    Diagnostic,
    Label,
    Note,
    Span,
    call_position,
    name_span_in,
    node_span,
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
    extra: dict = field(default_factory=dict)


class Owned:
    """Base of the values that move: they remember where they moved and who owns them."""

    _move = None

    def _use(self):
        """Check that the running thread may use this value; raise E0382 if it moved away."""
        move = self._move
        if move is not None and move.owner is not _sim.owner_token():
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
    """The (name, value) pairs a function uses from outside itself: closure cells and globals."""
    out = []
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
    call = None
    loops = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.lineno == line and node.col_offset == col:
            call = node
        if isinstance(node, (ast.For, ast.While, ast.AsyncFor)) and node.lineno <= line <= node.end_lineno:
            loops.append(node)
    if call is not None:
        site.call = node_span(filename, call)
        site.func = node_span(filename, call.func)
        if isinstance(call.func, ast.Attribute):
            site.func = Span(filename, call.func.end_lineno,
                             call.func.end_col_offset - len(call.func.attr), call.func.end_col_offset)
        if call.args:
            site.arg = node_span(filename, call.args[0])
    else:
        site.call = Span(filename, line, col, end_col)
    if loops:
        loop = max(loops, key=lambda n: n.lineno)  # the innermost
        head_end = loop.iter.end_col_offset if hasattr(loop, "iter") else loop.test.end_col_offset
        site.loop = Span(filename, loop.lineno, loop.col_offset, head_end)
        site.loop_end = loop.end_lineno
    if closure_code is not None and closure_code.co_filename == filename:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.Lambda)) and _code_line(node) == closure_code.co_firstlineno:
                if isinstance(node, ast.FunctionDef):
                    start = node.col_offset + len("def ")
                    site.closure = Span(filename, node.lineno, start, start + len(node.name))
                else:
                    site.closure = Span(filename, node.lineno, node.col_offset, node.col_offset + len("lambda"))
                break
    return site


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
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return []
    shell = get_ipython()
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


def _later_use(filename, name, after_line, skip_def_line=None):
    """The first use of `name` after a line (outside the closure's own body), in the same function."""
    tree = source_tree(filename)
    if tree is None:
        return None, False
    skip = []
    scope = None  # the innermost function around the line; None at module level
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.lineno == skip_def_line:
            skip.append((node.lineno, node.end_lineno))
        if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno <= after_line <= node.end_lineno
                and (scope is None or node.lineno > scope.lineno)):
            scope = node
    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node

    def in_scope(node):
        while node is not None and node is not scope:
            node = parents.get(node)
        return node is scope

    found = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == name and node.lineno > after_line:
            if any(a <= node.lineno <= b for a, b in skip) or not in_scope(node):
                continue
            if isinstance(node.ctx, ast.Store):
                continue
            if found is None or (node.lineno, node.col_offset) < (found.lineno, found.col_offset):
                found = node
    if found is None:
        return None, False
    parent = parents.get(found)
    borrowed = isinstance(parent, ast.Attribute)
    return node_span(filename, found), borrowed


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


def _move_labels(move, in_previous_iteration=False, primary=False):
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
    return labels


def _help(move):
    if move.kind == "closure":
        return ("to share one value between threads, wrap it in an `Arc` and move an "
                f"`Arc.clone({move.name})` into each closure instead of `{move.name}` itself")
    if move.kind == "method":
        method = move.extra.get("method", "the method")
        return f"`{method}` takes ownership; call it last, when nothing else needs `{move.name}`"
    return f"`drop({move.name})` gives the value up; use `{move.name}` before dropping it"


def _use_after_move(move):
    """E0382 for a use of a moved value by code that no longer owns it."""
    frame = user_frame(2)
    span = use_site(frame, move.name)
    borrowed = span is not None and span.filename and _is_method_receiver(span)
    verb = "borrowed" if borrowed else "used"
    labels = _move_labels(move)
    if span is not None:
        labels.append(Label(span, f"value {verb} here after move", primary=True))
    head = "borrow" if borrowed else "use"
    return Diagnostic("E0382", f"{head} of moved value: `{move.name}`", labels, helps=[_help(move)])


def _is_method_receiver(span):
    from .diagnostics import source_line

    rest = source_line(span.filename, span.line)[span.end_col :]
    return rest.startswith(".")


def moved_again(move, site, spawn_frame):
    """E0382 for a second spawn of a value that already moved into a thread.

    When the second spawn is the same call in a loop, rustc blames the first use of
    the value after the loop (`value borrowed here after move`) if there is one, and
    otherwise the move itself (`value moved into closure here, in previous iteration
    of loop`). The labels follow suit.
    """
    same_site = move.site is not None and site.arg is not None and move.site == site.arg
    labels = _move_labels(move, in_previous_iteration=same_site)
    notes = []
    if same_site:
        later, borrowed = (None, False)
        if site.loop_end is not None:
            later, borrowed = _later_use(site.filename, move.name, site.loop_end,
                                         move.closure.line if move.closure else None)
        if later is not None:
            verb = "borrowed" if borrowed else "used"
            labels.append(Label(later, f"value {verb} here after move", primary=True))
            head = "borrow" if borrowed else "use"
            notes.append(Note("found when the loop spawned the closure a second time; "
                              "no thread was started for that spawn"))
        else:
            for lab in labels:
                if lab.span == move.site:
                    lab.primary = True
            head = "use"
    else:
        target = site.arg or site.call
        labels.append(Label(target, "value used here after move", primary=True))
        head = "use"
    return UseAfterMove(Diagnostic("E0382", f"{head} of moved value: `{move.name}`",
                                   labels, helps=[_help(move)], notes=notes))


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
