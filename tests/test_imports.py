"""Import circles in the package: modules that import each other while they load.

A circle works only as long as each module uses the other's names late enough, and
breaks when someone moves a line; the layers (docs/architecture.md) have none. Read with
`ast`, without importing anything: an import counts when it runs as its module loads (at
the top level, or in a class body, `if` or `try` there), not inside a function and not
under `if TYPE_CHECKING:`.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "rustsync"


def module_names(root=PACKAGE):
    """{dotted name: its file} for every module of the package, packages as their __init__.py."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _load_time_statements(body):
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _load_time_statements(node.orelse)
            continue
        yield node
        for field in ("body", "orelse", "finalbody"):
            yield from _load_time_statements(getattr(node, field, []) or [])
        for handler in getattr(node, "handlers", []) or []:
            yield from _load_time_statements(handler.body)


def load_time_imports(name, path, modules):
    """The package's modules that `name` imports as it loads."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in _load_time_statements(ast.parse(path.read_text(), str(path)).body):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            submodules = [f"{source}.{alias.name}" for alias in node.names if f"{source}.{alias.name}" in modules]
            # `from . import x` with x a module loads x; the package itself is already loading
            names_only = len(submodules) < len(node.names) or not node.names
            targets = submodules + ([source] if names_only or node.module else [])
        else:
            continue
        found.update(t for t in targets if t in modules and t != name)
    return found


def import_graph(root=PACKAGE):
    modules = module_names(root)
    return {name: load_time_imports(name, path, modules) for name, path in modules.items()}


def circles(graph):
    """Each strongly connected group of more than one module (Tarjan), as a sorted list."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                group.append(other)
                if other == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def _is_ancestor(package, module):
    return module.startswith(package + ".")


def real_circles(graph):
    """Circles, leaving out a package's own loading of its modules: `pkg/__init__` importing
    `pkg.mod`, while `pkg.mod` names `pkg`, is how a package loads, not a circle."""
    kept = {name: {t for t in targets if not _is_ancestor(t, name)} for name, targets in graph.items()}
    return circles(kept)


def test_the_finder_sees_a_circle_through_a_relative_import(tmp_path):
    package = tmp_path / "rustsync"
    (package / "inner").mkdir(parents=True)
    (package / "__init__.py").write_text("from .a import A\n")
    (package / "a.py").write_text("from .inner import b\nA = 1\n")
    (package / "inner" / "__init__.py").write_text("")
    (package / "inner" / "b.py").write_text("from .. import c\n")
    (package / "c.py").write_text("import typing\nif typing.TYPE_CHECKING:\n    from . import d\n"
                                  "def late():\n    from . import a\n"
                                  "try:\n    from .a import A\nexcept ImportError:\n    pass\n")
    (package / "d.py").write_text("from . import c\n")
    assert real_circles(import_graph(package)) == [["rustsync.a", "rustsync.c", "rustsync.inner.b"]]


def test_the_package_has_no_import_circles():
    found = real_circles(import_graph())
    assert not found, ("these modules import each other as they load; move one import into the function "
                       f"that needs it, or the shared part into a module below both: {found}")
