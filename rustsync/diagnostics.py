"""rustc-style diagnostics: a headline, the student's own source lines, labels, help.

The rendering follows what rustc prints (see the course's reference outputs): a
`-->` line with the location, a gutter of line numbers, `^^^` under the primary
span, `---` under secondary spans, `...` for skipped lines, `= help:` and `note:`.
"""

from __future__ import annotations

import ast
import functools
import itertools
import linecache
import os
import sys
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """A range on one source line; columns are 0-based, end exclusive."""

    filename: str
    line: int
    col: int
    end_col: int

    @property
    def text(self):
        return source_line(self.filename, self.line)[self.col : self.end_col]


@dataclass
class Label:
    span: Span
    text: str
    primary: bool = False


@dataclass
class Note:
    """A `note:` with an optional location and labels of its own."""

    text: str
    labels: list = field(default_factory=list)
    location: str | None = None


@dataclass
class Suggestion:
    """A `help:` that shows the fixed code, as rustc does: `rows` are (line number, new text), marked `~`."""

    text: str
    rows: list = field(default_factory=list)


@dataclass
class Diagnostic:
    code: str  # "" for an error without a code, as rustc's lints print it (`error: ...`)
    message: str
    labels: list
    helps: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    suggestions: list = field(default_factory=list)
    footnotes: list = field(default_factory=list)  # `= note:` lines

    def render(self):
        head = f"error[{self.code}]" if self.code else "error"
        out = [f"{head}: {self.message}"]
        labels = [lab for lab in self.labels if lab is not None]
        width = _gutter_width(labels + [lab for n in self.notes for lab in n.labels],
                              [row[0] for s in self.suggestions for row in s.rows])
        bar = " " * (width + 1) + "|"
        primary = next((lab for lab in labels if lab.primary), labels[0] if labels else None)
        if primary is not None:
            out.append(" " * width + "--> " + location(primary.span))
            out.extend(_snippet(labels, width))
            if self.helps or self.footnotes or self.notes or self.suggestions:
                out.append(bar)
        for help_text in self.helps:
            out.append(" " * (width + 1) + "= help: " + help_text)
        for note_text in self.footnotes:
            out.append(" " * (width + 1) + "= note: " + note_text)
        for note in self.notes:
            out.append("note: " + note.text)
            if note.labels:
                out.append(" " * width + "--> " + location(note.labels[0].span))
                out.extend(_snippet(note.labels, width))
            elif note.location:
                out.append(" " * width + "--> " + note.location)
        for suggestion in self.suggestions:
            out.append("help: " + suggestion.text)
            out.append(bar)
            out.extend(f"{line:>{width}} ~ {text}".rstrip() for line, text in suggestion.rows)
            out.append(bar)
        out.append("")
        if self.code:
            out.append(f"For more information about this error, try `rustc --explain {self.code}`.")
        return "\n".join(out)

    def __str__(self):
        return self.render()


def _gutter_width(labels, lines=()):
    return max([len(str(lab.span.line)) for lab in labels] + [len(str(n)) for n in lines] or [1])


def _snippet(labels, width):
    bar = " " * (width + 1) + "|"
    rows = [bar]
    by_file = {}
    for lab in labels:
        by_file.setdefault(lab.span.filename, []).append(lab)
    first_file = labels[0].span.filename if labels else None
    primary = next((lab for lab in labels if lab.primary), None)
    if primary is not None:
        first_file = primary.span.filename
        by_file = {first_file: by_file.pop(first_file), **by_file}
    for filename, file_labels in by_file.items():
        if filename != first_file:
            rows.append(" " * width + "::: " + location(min(file_labels, key=lambda lab: lab.span.line).span))
            rows.append(bar)
        lines = sorted({lab.span.line for lab in file_labels})
        previous = None
        for line in lines:
            if previous is not None and line - previous > 2:
                rows.append("...")
            elif previous is not None and line - previous == 2:
                rows.append(_code_row(filename, previous + 1, width))
            rows.append(_code_row(filename, line, width))
            on_line = sorted((lab for lab in file_labels if lab.span.line == line),
                             key=lambda lab: lab.span.col)
            rows.extend(bar + " " + r if r else bar for r in _marker_rows(on_line))
            previous = line
    return rows


def _code_row(filename, line, width):
    text = source_line(filename, line)
    return f"{line:>{width}} | {text}".rstrip()


def _marker_rows(labels):
    """Underlines for the labels of one line, with rustc's connectors for all but the last.

    As rustc does, the last label's text goes on the underline row only when no other
    label overlaps its span (a lambda and the call's argument often start together);
    otherwise every text hangs from a connector, and shorter underlines are drawn on top.
    """
    labels = sorted(labels, key=lambda lab: (lab.span.col, _end(lab)))
    marks = []
    for lab in sorted(labels, key=lambda lab: lab.span.col - _end(lab)):
        ch = "^" if lab.primary else "-"
        while len(marks) < _end(lab):
            marks.append(" ")
        for c in range(lab.span.col, _end(lab)):
            marks[c] = ch
    last = labels[-1]
    if any(lab is not last and lab.span.col < _end(last) and last.span.col < _end(lab) for lab in labels):
        rows = ["".join(marks)]
        rest = labels
    else:
        rows = ["".join(marks) + " " + last.text]
        rest = labels[:-1]
    if rest:
        rows.append(_connectors([lab.span.col for lab in rest]))
        for i in range(len(rest) - 1, -1, -1):
            row = _connectors([lab.span.col for lab in rest[:i]])
            row = row[: rest[i].span.col].ljust(rest[i].span.col) + rest[i].text
            rows.append(row)
    return [r.rstrip() for r in rows]


def _end(label):
    return max(label.span.end_col, label.span.col + 1)


def _connectors(cols):
    row = []
    for c in cols:
        while len(row) <= c:
            row.append(" ")
        row[c] = "|"
    return "".join(row)


# --- where things are -------------------------------------------------------


def display_name(filename):
    """`Cell In[3]` for a notebook cell, a path relative to the working folder otherwise."""
    shell = notebook_shell()
    if shell is not None:
        count = getattr(shell.compile, "_filename_map", {}).get(filename)
        if count is not None:
            return f"Cell In[{count}]"
    package = os.path.dirname(os.path.abspath(__file__))
    if os.path.abspath(filename).startswith(package + os.sep):  # the same on every machine
        return "rustsync/" + os.path.relpath(os.path.abspath(filename), package).replace(os.sep, "/")
    try:
        rel = os.path.relpath(filename)
    except ValueError:
        return filename
    return filename if rel.startswith("..") else rel


def notebook_shell():
    """The running IPython shell, or None; never imports IPython (0.4 s) when no shell runs."""
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None


def location(span):
    return f"{display_name(span.filename)}:{span.line}:{span.col + 1}"


def source_line(filename, line):
    return linecache.getline(filename, line).rstrip("\n")


def source_text(filename):
    return "".join(linecache.getlines(filename))


def source_tree(filename):
    """The parsed module of a file or notebook cell, or None when it cannot be read."""
    return _parse(source_text(filename))


@functools.lru_cache(maxsize=64)
def _parse(text):
    if not text:
        return None
    try:
        return ast.parse(text)
    except SyntaxError:
        return None


def call_position(frame):
    """(line, end_line, col, end_col) of the call a frame is executing."""
    found = _position(frame.f_code, frame.f_lasti)
    if found is not None:
        return found
    line = frame.f_lineno
    return line, line, 0, len(source_line(frame.f_code.co_filename, line))


@functools.lru_cache(maxsize=4096)
def _position(code, lasti):
    pos = next(itertools.islice(code.co_positions(), lasti // 2, None), None)
    if pos is None or pos[0] is None:
        return None
    line, end_line, col, end_col = pos
    return line, end_line, col or 0, end_col or 0


def node_span(filename, node, end=None):
    """The span of an AST node, cut at the end of its first line."""
    end_col = node.end_col_offset if end is None else end
    if node.end_lineno != node.lineno and end is None:
        end_col = len(source_line(filename, node.lineno))
    return Span(filename, node.lineno, node.col_offset, end_col)


def name_span_in(filename, line, col, end_col, name):
    """The span of the identifier `name` inside a range of one line, if it is there."""
    text = source_line(filename, line)
    start = col
    while True:
        i = text.find(name, start, end_col if end_col > col else None)
        if i < 0:
            return None
        before = text[i - 1] if i > 0 else " "
        after = text[i + len(name)] if i + len(name) < len(text) else " "
        if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
            return Span(filename, line, i, i + len(name))
        start = i + 1


_INTERNAL = {"_sim", "atomic", "diagnostics", "mutex", "ownership", "rc", "refcell", "result", "sched", "thread"}


def user_frame(depth=1):
    """The first frame outside the package's core modules, `depth` levels above the caller."""
    frame = sys._getframe(depth + 1)
    first = frame
    while frame is not None:
        if not _core_module(frame.f_code.co_filename):
            return frame
        frame = frame.f_back
    return first


@functools.lru_cache(maxsize=512)
def _core_module(path):
    package = os.path.dirname(os.path.abspath(__file__))
    folder = os.path.dirname(path)
    if folder in (os.path.join(package, "sched"), os.path.join(package, "ownership")):  # packages of their own
        return True
    return folder == package and os.path.splitext(os.path.basename(path))[0] in _INTERNAL
