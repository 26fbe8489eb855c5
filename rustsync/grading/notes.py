"""Notes the grader leaves under a cell of the graded notebook, and so of the feedback.

A sanitizing step that changes how a cell is graded (`duplicates.py`: a copied answer
cell) says so under that cell. It cannot write the note into the cell's outputs itself:
the student's kernel runs later, and starts every cell it runs with no output. So the
note waits in the cell's metadata (`add`), and `CellNotes`, which comes right after the
execution in `c.Autograde.autograde_preprocessors` (nbgrader_config.py), writes it: as the
first output line of a code cell, as a short markdown cell right below any other cell.

Whatever a submission itself holds under that metadata key is dropped by the first
sanitizing step (`clear`), so no student writes a note of their own.
"""

from __future__ import annotations

import html

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

__all__ = ["KEY", "CellNotes", "add", "clear"]

KEY = "rustsync_notes"  # cell metadata: [note, ...]
PREFIX = "Note from the grader: "


def add(cell, text):
    """Leave `text` (one sentence or a few, no trailing newline) under `cell` in the graded notebook."""
    cell.setdefault("metadata", {}).setdefault(KEY, []).append(text)


def clear(nb):
    """Drop every note a notebook holds (a submission's own are never written)."""
    for cell in nb.cells:
        cell.get("metadata", {}).pop(KEY, None)


def _texts(cell):
    said = cell.get("metadata", {}).pop(KEY, None)
    if not isinstance(said, list):
        return []
    return [text for text in said if isinstance(text, str) and text]


class CellNotes(NbGraderPreprocessor):
    """Writes the notes the sanitizing steps left (see the module); runs after the execution."""

    def preprocess(self, nb, resources):
        cells = []
        for cell in nb.cells:
            cells.append(cell)
            texts = _texts(cell)
            if not texts:
                continue
            if cell.get("cell_type") == "code":
                text = "".join(f"{PREFIX}{t}\n" for t in texts)
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)] + list(
                    cell.get("outputs", []))
            else:
                note = nbformat.v4.new_markdown_cell(
                    "\n\n".join(f"> *{PREFIX}{html.escape(t, quote=False)}*" for t in texts))
                if "id" in cell:
                    note["id"] = _fresh_id(nb.cells + cells, cell["id"])
                else:
                    note.pop("id", None)
                cells.append(note)
        nb.cells = cells
        return nb, resources


def _fresh_id(cells, base):
    taken = {cell.get("id") for cell in cells}
    n = 1
    while f"{base[:48]}-note{n}" in taken:
        n += 1
    return f"{base[:48]}-note{n}"
