"""Advice on a student's cell: notes for Validate and the feedback; they decide nothing.

Grading does not depend on what a cell contains: the student's cells run in a process
of their own (see `grader.py`), so any Python is graded the same way. Some code runs,
but not the way the course's scheduler can follow, or not the way a student expects;
these notes say so, with the fix: real threads (`threading`, `concurrent.futures`,
`multiprocessing`) run outside the scheduler, `time.sleep` is not a step, catching
`KeyboardInterrupt` leaves only the grader's deadline to stop a loop, and a name that a
locked cell defines is used in the tests in the locked cell's version, whatever a student
cell binds to it.

`RUSTSYNC_GATE=off` in the environment of `nbgrader autograde` leaves the notes out.
"""

from __future__ import annotations

import ast
import os
import warnings

ENV = "RUSTSYNC_GATE"
MAX_CELL_CHARS = 200_000

__all__ = ["ENV", "advise", "defined_names", "enabled", "without_magics"]

_REAL_THREADS = {"threading", "_thread", "concurrent", "concurrent.futures", "multiprocessing", "asyncio"}


def enabled(environ=None):
    """False when `RUSTSYNC_GATE=off`: no advice is given."""
    return (os.environ if environ is None else environ).get(ENV, "on").strip().lower() != "off"


def without_magics(source):
    """The cell's source with IPython's `%line` magics and `!shell` lines left out (as blank lines)."""
    lines, dropped = [], []
    for number, line in enumerate(source.splitlines(), 1):
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")) and not stripped.startswith("%%"):
            dropped.append(number)
            lines.append("")
        else:
            lines.append(line)
    return "\n".join(lines), dropped


def defined_names(tree):
    """The names a module binds at its top level, or in any function through `global`."""
    names = set()

    def targets(node):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for elt in node.elts:
                targets(elt)
        elif isinstance(node, ast.Starred):
            targets(node.value)

    for node in tree.body if isinstance(tree, ast.Module) else []:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                targets(target)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets(node.target)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            targets(node.target)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    targets(item.optional_vars)
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            names.update(node.names)
        elif isinstance(node, ast.NamedExpr):
            targets(node.target)
    # compound statements at the top level bind names in their bodies too: an `except` handler's,
    # a `match` case's, an `else` or `finally` block's
    for node in tree.body if isinstance(tree, ast.Module) else []:
        if isinstance(node, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try,
                             ast.TryStar, ast.Match)):
            inner = [n for n in ast.iter_child_nodes(node) if isinstance(n, ast.stmt)]
            for part in list(getattr(node, "handlers", [])) + list(getattr(node, "cases", [])):
                inner += part.body
                if isinstance(part, ast.ExceptHandler) and part.name:
                    names.add(part.name)
            names |= defined_names(ast.Module(body=inner, type_ignores=[]))
    return names


def advise(source, locked_names=()):
    """Notes on one cell's source (a list of strings, perhaps empty). Nothing in the cell is run."""
    if len(source) > MAX_CELL_CHARS:
        return []
    code = source
    if source.lstrip().startswith("%%"):
        code = source.lstrip().split("\n", 1)[1] if "\n" in source.lstrip() else ""
    code, _ = without_magics(code)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []  # the grader's run of the cell says what is wrong with it
    notes = []
    try:
        nodes = list(ast.walk(tree))
    except RecursionError:
        return []
    modules = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    threads = sorted(m for m in modules if m in _REAL_THREADS or m.split(".")[0] in _REAL_THREADS)
    if threads:
        notes.append(f"`import {threads[0]}` starts real threads, which run outside the course's scheduler: the "
                     "grader cannot follow them or the primitives they use. help: use `spawn` and `join` from rustsync")
    sleeps = any(isinstance(n, ast.Attribute) and n.attr == "sleep" and isinstance(n.value, ast.Name)
                 and n.value.id == "time" for n in nodes)
    if sleeps:
        notes.append("`time.sleep` is not a step of the scheduler: a thread that waits with it holds everyone up. "
                     "help: use `rustsync.sleep()`, which lets the other threads go first")
    caught = sorted({_caught(handler) for handler in nodes if isinstance(handler, ast.ExceptHandler)} - {None})
    if caught:
        notes.append(f"{caught[0]} catches Ctrl-C too: nothing can interrupt this code, so the grader ends it "
                     "after its time (10 s a cell, 5 to 10 s a call) and the parts that need it score 0. help: "
                     "catch the exceptions you expect (`except WouldBlock:`), or `except Exception:`")
    rebound = sorted(defined_names(tree) & set(locked_names) - _reimported(tree))
    if rebound:
        notes.append(f"this cell defines `{rebound[0]}` again, which a locked cell of the assignment defines: the "
                     "tests use the locked cell's version. help: give yours another name")
    return notes


def _caught(handler):
    """How an `except` clause that also catches KeyboardInterrupt is written, or None."""
    if handler.type is None:
        return "A bare `except:`"
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    for name in names:
        if isinstance(name, ast.Name) and name.id in ("KeyboardInterrupt", "BaseException"):
            return f"`except {name.id}`"
    return None


def _reimported(tree):
    """Names a cell imports again from the course's package under their own name (`from rustsync import Mutex`)."""
    return {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
            and node.module in ("rustsync", "rustsync.sched") and node.level == 0
            for alias in node.names if alias.asname in (None, alias.name)}
