"""The gate: what a student's cell may contain before the grader runs it.

Every cell a student wrote or could change is read as text (parsed, never run) and
checked against a policy that fits this course: the names of `rustsync` and
`rustsync.sched`, a few harmless modules (`math`, `itertools`, `functools`,
`collections`, `time`, and `stderr` from `sys`), the ordinary builtins, functions,
lambdas, comprehensions, `with`,
`try`/`except Exception`, prints. Refused: dunder names and attributes that start with
`_`; the attributes that lead to frames, code or format strings (`gi_frame`,
`f_globals`, `format`, ...); builtins that reach the interpreter (`open`, `eval`,
`exec`, `getattr`, `globals`, `type`, ...); every other import; `class`; `async`;
catching `BaseException`, `SystemExit`, `KeyboardInterrupt` or everything (a bare
`except:`); assigning to attributes other than a guard's `value`; and rebinding a name
that the instructor's locked cells define. IPython's `%magic` and `!shell` lines are
not Python: they are left out (a `%%cell` magic refuses the cell).

Why a policy of our own rather than RestrictedPython: RestrictedPython (maintained, made
for this) rewrites code so that every attribute access, item access and iteration goes
through guard functions at run time. Our scheduler and the `with` guards would run
through those guards too, which changes the traces the course shows and costs time on
every step; and its default policy allows much this course never needs (classes,
`getattr` through a guard, any import given a guard). A course this small needs a
policy one can read in a screen: an allow-list of imports and names, checked on the
AST before anything runs, backed at run time by the worker's restricted builtins.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass, field

__all__ = ["Refusal", "Verdict", "check_cell", "defined_names", "without_magics"]

ALLOWED_MODULES = {
    "rustsync": None,  # None: the names in the module's __all__
    "rustsync.sched": {"explore", "replay", "run", "interleavings", "RacyCell", "Deadlock", "Panic",
                       "ScheduleError", "StuckThread", "Run", "Exploration", "Event"},
    "math": None,
    "itertools": None,
    "functools": {"reduce", "partial", "lru_cache", "cache"},
    "collections": {"Counter", "defaultdict", "deque", "namedtuple", "OrderedDict"},
    "time": {"sleep", "time", "monotonic", "perf_counter"},
    "sys": {"stderr", "stdout"},  # print(..., file=stderr); `import sys` itself is refused
}

FORBIDDEN_BUILTINS = {
    "open", "exec", "eval", "compile", "getattr", "setattr", "delattr", "globals", "locals", "vars", "dir",
    "breakpoint", "input", "help", "exit", "quit", "memoryview", "object", "type", "super", "classmethod",
    "staticmethod", "property", "copyright", "credits", "license", "BaseException", "SystemExit",
    "KeyboardInterrupt", "GeneratorExit", "get_ipython", "display", "In", "Out", "format", "aiter", "anext",
}

FORBIDDEN_ATTRIBUTES = {
    "format", "format_map", "mro", "with_traceback", "gi_frame", "gi_code", "gi_yieldfrom", "gi_running",
    "cr_frame", "cr_code", "cr_await", "ag_frame", "ag_code", "ag_await", "f_back", "f_globals", "f_locals",
    "f_builtins", "f_code", "f_trace", "tb_frame", "tb_next", "func_globals", "func_code", "im_func", "im_self",
    "co_code", "co_consts", "settrace", "setprofile",
}

WRITABLE_ATTRIBUTES = {"value"}  # a guard's or a cell's value: `num.value += 1`

FORBIDDEN_EXCEPTIONS = {"BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit"}

MAX_CELL_CHARS = 50_000


@dataclass(frozen=True)
class Refusal:
    """One thing the gate refused: what, and on which line of the cell."""

    line: int
    what: str

    def __str__(self):
        return f"line {self.line}: {self.what}"


@dataclass
class Verdict:
    """The gate's word on one cell: the code to run (magics left out), and what it refused."""

    code: str
    refusals: list = field(default_factory=list)
    dropped: list = field(default_factory=list)  # magic and shell lines left out

    @property
    def ok(self):
        return not self.refusals

    def reason(self):
        """One sentence for a student: the first thing refused, and how many more."""
        if not self.refusals:
            return ""
        first = self.refusals[0]
        more = len(self.refusals) - 1
        tail = f" (and {more} more thing{'s' if more > 1 else ''} the grader does not run)" if more else ""
        return f"{first}{tail}"


def _public(module):
    if module == "rustsync":
        import rustsync

        return set(rustsync.__all__)
    import importlib

    mod = importlib.import_module(module)
    names = getattr(mod, "__all__", None)
    return set(names) if names is not None else {n for n in vars(mod) if not n.startswith("_")}


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
    # compound statements at the top level bind names in their bodies too
    for node in tree.body if isinstance(tree, ast.Module) else []:
        if isinstance(node, (ast.If, ast.For, ast.While, ast.With, ast.Try)):
            inner = ast.Module(body=[n for n in ast.iter_child_nodes(node) if isinstance(n, ast.stmt)],
                               type_ignores=[])
            names |= defined_names(inner)
    return names


_DUNDER = re.compile(r"^__\w*__$")


class _Policy(ast.NodeVisitor):
    def __init__(self, locked_names):
        self.locked = set(locked_names)
        self.refusals = []

    def refuse(self, node, what):
        self.refusals.append(Refusal(getattr(node, "lineno", 0), what))

    # imports
    def visit_Import(self, node):
        for alias in node.names:
            if alias.name in ALLOWED_MODULES and "." not in alias.name and alias.name not in ("rustsync", "sys"):
                continue
            if alias.name == "sys":
                self.refuse(node, "`import sys`: to print to stderr, write `from sys import stderr`")
                continue
            if alias.name.startswith("rustsync"):
                self.refuse(node, f"`import {alias.name}`: import the names you need, such as "
                                  "`from rustsync import Mutex`")
            else:
                others = ", ".join(sorted(m for m in ALLOWED_MODULES if "." not in m and m not in ("rustsync", "sys")))
                self.refuse(node, f"`import {alias.name}`: this course's code needs only rustsync (and {others})")

    def visit_ImportFrom(self, node):
        module = "." * node.level + (node.module or "")
        if module not in ALLOWED_MODULES:
            self.refuse(node, f"`from {module} import ...`: imports come from rustsync or rustsync.sched only")
            return
        allowed = ALLOWED_MODULES[module]
        if allowed is None:
            allowed = _public(module)
        for alias in node.names:
            if alias.name == "*":
                self.refuse(node, f"`from {module} import *`: name the things you import")
            elif alias.name not in allowed:
                self.refuse(node, f"`{alias.name}` is not part of `{module}` that a student's code may import")
        self.generic_visit(node)

    # names
    def visit_Name(self, node):
        if _DUNDER.match(node.id):
            self.refuse(node, f"the name `{node.id}`: names with double underscores reach into Python itself")
        elif node.id in FORBIDDEN_BUILTINS:
            self.refuse(node, f"`{node.id}` reaches outside the exercise (files, the interpreter or the grader)")

    def visit_Attribute(self, node):
        if node.attr.startswith("_"):
            self.refuse(node, f"the attribute `.{node.attr}`: attributes that start with `_` belong to the "
                              "package's inside")
        elif node.attr in FORBIDDEN_ATTRIBUTES:
            self.refuse(node, f"the attribute `.{node.attr}` reaches into the interpreter")
        elif isinstance(node.ctx, (ast.Store, ast.Del)) and node.attr not in WRITABLE_ATTRIBUTES:
            self.refuse(node, f"assigning to `.{node.attr}`: the only attribute your code sets is a guard's "
                              "`.value`")
        self.generic_visit(node)

    def visit_keyword(self, node):
        if node.arg and _DUNDER.match(node.arg):
            self.refuse(node, f"the keyword `{node.arg}`")
        self.generic_visit(node)

    def visit_arg(self, node):
        if _DUNDER.match(node.arg):
            self.refuse(node, f"the parameter `{node.arg}`")

    # statements this course never needs
    def visit_ClassDef(self, node):
        self.refuse(node, f"`class {node.name}`: the exercises need functions only")

    def visit_AsyncFunctionDef(self, node):
        self.refuse(node, "`async def`: the course's threads are `spawn`ed, not awaited")

    def visit_Await(self, node):
        self.refuse(node, "`await`")

    def visit_ExceptHandler(self, node):
        if node.type is None:
            self.refuse(node, "a bare `except:` also catches the grader stopping your code: "
                              "write `except Exception:`")
        else:
            caught = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
            for kind in caught:
                if isinstance(kind, ast.Name) and kind.id in FORBIDDEN_EXCEPTIONS:
                    self.refuse(node, f"`except {kind.id}` catches the grader stopping your code: "
                                      "write `except Exception:`")
        self.generic_visit(node)

    def visit_Global(self, node):
        for name in node.names:
            if name in self.locked:
                self.refuse(node, f"`global {name}`: `{name}` is defined by a locked cell of the assignment")

    visit_Nonlocal = None  # nonlocal names are local to the enclosing function: allowed

    def generic_visit(self, node):
        super().generic_visit(node)


def check_cell(source, locked_names=()):
    """The gate's verdict on one cell's source. Nothing in the cell is run."""
    if len(source) > MAX_CELL_CHARS:
        return Verdict("", [Refusal(1, f"the cell has {len(source):,} characters; the grader reads at most "
                                       f"{MAX_CELL_CHARS:,}")])
    if source.lstrip().startswith("%%"):
        first = source.lstrip().splitlines()[0]
        return Verdict("", [Refusal(1, f"the cell magic `{first.split()[0]}`: the grader runs plain Python")])
    code, dropped = without_magics(source)
    try:
        tree = ast.parse(code)
    except SyntaxError as err:
        return Verdict(code, [Refusal(err.lineno or 1, f"it is not valid Python ({err.msg})")], dropped)
    except (ValueError, RecursionError, MemoryError) as err:
        return Verdict(code, [Refusal(1, f"it cannot be read ({type(err).__name__})")], dropped)
    policy = _Policy(locked_names)
    try:
        policy.visit(tree)
    except RecursionError:
        return Verdict(code, [Refusal(1, "it is nested too deeply to read")], dropped)
    reimported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                  and node.module in ("rustsync", "rustsync.sched") and node.level == 0
                  for alias in node.names if alias.asname in (None, alias.name)}
    others = set()
    for node in ast.walk(tree):  # names bound other than by importing the same name again
        if isinstance(node, ast.alias) and (node.asname or node.name) not in reimported:
            others.add((node.asname or node.name).split(".")[0])
    rebound = defined_names(tree) - (reimported - others - _bound_otherwise(tree))
    for name in sorted(rebound & set(locked_names)):
        line = next((getattr(n, "lineno", 1) for n in ast.walk(tree)
                     if (isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store))
                     or (isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == name)
                     or (isinstance(n, ast.alias) and (n.asname or n.name) == name)), 1)
        policy.refuse(ast.Pass(lineno=line), f"it defines `{name}` again, which a locked cell of the assignment "
                                             "defines: give your own function or value another name")
    refusals = sorted(policy.refusals, key=lambda r: r.line)
    return Verdict(code, refusals, dropped)


def _bound_otherwise(tree):
    """Names the module binds by anything but an import."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Global):
            names.update(node.names)
    return names


def builtins_for_students():
    """The builtins the worker gives the notebook's namespace: the ordinary ones, not the forbidden."""
    return {name: value for name, value in vars(builtins).items()
            if name not in FORBIDDEN_BUILTINS and not _DUNDER.match(name)}
