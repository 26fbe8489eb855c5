"""A lesson cell run before the cell it needs: name the cell that defines the missing name.

An IPython extension. The kernels that `start.sh` launches load it through the course's
IPython settings (`environment.py`); `%load_ext rustsync.course.cells` loads it anywhere.
After a cell fails with a `NameError`, it reads the notebook the kernel runs (Jupyter
passes its path in `JPY_SESSION_NAME`), finds the code cell that defines the name, and
prints which one to run first: the heading it sits under and its first line.

Why this way: an IPython exception handler (`set_custom_exc`) would have to share the
shell's one custom handler with the package's own (`rustsync._ipython`); a hook after the
cell leaves IPython's traceback, and that handler, as they are. The kernel cannot ask the
browser which notebook it serves, and a line in every lesson would be one more thing to
run in order; the notebook on disk is what JupyterLab saved last, so a cell typed and not
saved yet may be missing, and then nothing is printed. Outside JupyterLab (nbval,
nbgrader, a console) `JPY_SESSION_NAME` is not set and the hook does nothing.
"""

from __future__ import annotations

import ast
import json
import os
import re
import sys

__all__ = ["defining_cell", "hint", "load_ipython_extension", "unload_ipython_extension"]

SESSION_ENV = "JPY_SESSION_NAME"


def _defined_names(source: str) -> set[str]:
    """The names a cell binds at its top level: assignments, imports, defs, classes, loop and with targets."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]  # magics
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return set()
    names = set()

    def targets(node):
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                names.add(sub.id)

    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.For | ast.AsyncFor | ast.With
                        | ast.AsyncWith | ast.If | ast.Try | ast.While):
            targets(node)
        elif isinstance(node, ast.Expr):
            for sub in ast.walk(node):
                if isinstance(sub, ast.NamedExpr):
                    names.add(sub.target.id)
    return names


def _heading(cells: list, index: int) -> str | None:
    for cell in reversed(cells[:index]):
        if cell.get("cell_type") == "markdown":
            found = [m[1].strip() for m in (re.match(r"#+\s+(.*)", line) for line in _text(cell).splitlines()) if m]
            if found:
                return found[-1]  # the last heading of the cell is the one the code sits under
    return None


def _text(cell) -> str:
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def defining_cell(notebook: dict, name: str, running: str | None = None) -> dict | None:
    """The code cell of `notebook` that defines `name`, the nearest one above the cell `running` (its source).

    A dict: `number` (the code cell's position, 1 for the first code cell), `heading` (the
    nearest markdown heading above it, or None), `first_line`. None when no cell defines it.
    """
    cells = notebook.get("cells", [])
    code = [(i, c) for i, c in enumerate(cells) if c.get("cell_type") == "code"]
    here = next((i for i, c in code if running is not None and _text(c).strip() == running.strip()), None)
    found = [(n, i, c) for n, (i, c) in enumerate(code, 1) if name in _defined_names(_text(c))]
    if not found:
        return None
    above = [f for f in found if here is not None and f[1] < here]
    number, index, cell = above[-1] if above else found[0]
    first = next((line for line in _text(cell).splitlines() if line.strip() and not line.lstrip().startswith("#")),
                 _text(cell).splitlines()[0] if _text(cell) else "")
    return {"number": number, "heading": _heading(cells, index), "first_line": first.strip()}


def hint(notebook_path: str, name: str, running: str | None = None) -> str | None:
    """The line that tells a student which cell to run before this one, or None."""
    try:
        with open(notebook_path, encoding="utf-8") as f:
            notebook = json.load(f)
    except (OSError, ValueError):
        return None
    cell = defining_cell(notebook, name, running)
    if cell is None:
        return None
    where = f"under \"{cell['heading']}\"" if cell["heading"] else "above"
    return (f"help: `{name}` is defined by code cell {cell['number']} of {os.path.basename(notebook_path)}, "
            f"{where}, which starts `{cell['first_line']}`. Run that cell first (or Run > Run All Above "
            "Selected Cell), then this one again.")


def _missing_name(error: BaseException) -> str | None:
    name = getattr(error, "name", None)
    if name:
        return name
    match = re.search(r"name '([^']+)' is not defined", str(error))
    return match[1] if match else None


def _after_cell(result) -> None:
    error = getattr(result, "error_in_exec", None)
    notebook = os.environ.get(SESSION_ENV)
    if not isinstance(error, NameError) or not notebook or not notebook.endswith(".ipynb"):
        return
    name = _missing_name(error)
    info = getattr(result, "info", None)
    said = hint(notebook, name, getattr(info, "raw_cell", None)) if name else None
    if said:
        print(said, file=sys.stderr)


def load_ipython_extension(shell) -> None:
    if _after_cell not in shell.events.callbacks["post_run_cell"]:
        shell.events.register("post_run_cell", _after_cell)


def unload_ipython_extension(shell) -> None:
    if _after_cell in shell.events.callbacks["post_run_cell"]:
        shell.events.unregister("post_run_cell", _after_cell)
