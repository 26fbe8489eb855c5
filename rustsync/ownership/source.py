"""Where, in the student's source: the spawn call, its closure and loop, bindings and later uses.

Everything here reads the student's file or notebook cell (parsed once and cached) to find
the token a label of rustc's points at; nothing here says anything to the student.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass

from ..diagnostics import (
    Span,
    call_position,
    name_span_in,
    node_span,
    notebook_shell,
    source_line,
    source_text,
    source_tree,
)


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
    call = _call_node(tree, line, col, end_col)
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


def later_use(site, name, after=None, in_function=False):
    """The first read of `name` that runs after the statement `after` (default: the spawn), or None.

    A read of what rustc would flag: the statements that follow, in this block and the
    blocks around it, up to the enclosing function (with `in_function`, up to the end of its
    body; without, a spawn's look-ahead stops at a function's own top level, leaving the
    rest to the checks made when the code runs); the other branch of an `if` does not
    follow; a rebinding of the name ends the search. Returns (node, borrowed).
    """
    tree = site.tree
    current = after if after is not None else site.stmt
    if tree is None or current is None:
        return None
    parents = _parents(tree)
    while current is not None:
        parent = parents.get(current)
        if parent is None or isinstance(parent, (ast.Lambda, ast.ClassDef)):
            return None
        if isinstance(parent, _SCOPES) and not in_function:
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
        if isinstance(parent, _SCOPES):
            return None  # the enclosing function's body ends the search
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


def _call_at(frame):
    """The AST node of the call a frame is making (or None), its file, and its raw span."""
    filename = frame.f_code.co_filename
    line, end_line, col, end_col = call_position(frame)
    fallback = Span(filename, line, col, end_col) if end_col > col else None
    tree = source_tree(filename)
    if tree is not None:
        return _call_node(tree, line, col, end_col, end_line), filename, fallback
    return None, filename, fallback


def _call_node(tree, line, col, end_col, end_line=None):
    """The call that starts at (line, col); of calls chained there (`spawn(f).join()`), the one ending at end_col."""
    found = [node for node in ast.walk(tree)
             if isinstance(node, ast.Call) and node.lineno == line and node.col_offset == col]
    for node in found:
        if node.end_col_offset == end_col and (end_line is None or node.end_lineno == end_line):
            return node
    return found[0] if found else None


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



def use_site_names(frame, name):
    """True when the call the frame is making uses the variable `name` itself.

    As the receiver (`log` in `log.borrow()`) or an argument (`print(log)`); a use that
    is not a call (`f"{log}"`) is found by its name in the span the frame runs.
    """
    return _uses_name(frame.f_code, frame.f_lasti, frame.f_lineno, name)


@functools.lru_cache(maxsize=1024)
def _uses_name(code, lasti, lineno, name):
    frame = _Where(code, lasti, lineno)
    node, filename, _ = _call_at(frame)
    if node is None:
        line, end_line, col, end_col = call_position(frame)
        return name_span_in(filename, line, col, end_col if end_line == line else 10**6, name) is not None
    receiver, _ = _receiver(frame)
    return receiver == name or any(isinstance(arg, ast.Name) and arg.id == name for arg in node.args)


@dataclass(frozen=True)
class _Where:
    """The part of a frame that says where it is (kept instead of the frame, which holds its locals alive)."""

    f_code: object
    f_lasti: int
    f_lineno: int


def rebound_between(filename, name, after_line, before_line):
    """Whether a statement on a line strictly between `after_line` and `before_line` of `filename` binds `name`.

    An assignment (`log = back`, `log, x = ...`, `log: T = ...`), a `for` target, a `with ... as`
    or an `import ... as`: in Rust, a new `let` of that name, which ends the old binding's move.
    """
    tree = source_tree(filename)
    if tree is None:
        return False
    for node in ast.walk(tree):
        if not after_line < getattr(node, "lineno", 0) < before_line:
            continue
        if isinstance(node, (ast.Name, ast.Starred)) and isinstance(getattr(node, "ctx", None), ast.Store):
            target = node.value if isinstance(node, ast.Starred) else node
            if isinstance(target, ast.Name) and target.id == name:
                return True
        if isinstance(node, ast.alias) and (node.asname or node.name) == name:
            return True
    return False


def _assigned_name(frame):
    """The name the statement a frame is running binds its value to (`back` in `back = handle.join()`), or None."""
    if frame is None:
        return None
    filename = frame.f_code.co_filename
    line, _, col, _ = call_position(frame)
    tree = source_tree(filename)
    if tree is None:
        return None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            value = node.value
            if (value.lineno, value.col_offset) <= (line, col) <= (value.end_lineno, value.end_col_offset):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if len(targets) == 1 and isinstance(targets[0], ast.Name):
                    return targets[0].id
                return None
    return None


def use_after_statement(frame, name):
    """The first read of `name` after the statement a frame is running, as (filename, node, borrowed), or None."""
    if frame is None:
        return None
    node, filename, _ = _call_at(frame)
    tree = source_tree(filename)
    if node is None or tree is None:
        return None
    stmt = _statement_of(node, _parents(tree))
    later = later_use(_Block(tree, stmt), name, in_function=True)
    return (filename, *later) if later is not None else None


@dataclass(frozen=True)
class _Block:
    """A statement and the tree it belongs to: where `later_use` starts looking."""

    tree: object
    stmt: object
