"""Submissions as data: a `Submission` says how a student's notebook differs from the release.

`build(sub, release_nb)` turns one into the notebook the student hands in, starting from the
release notebook of its assignment (`release/<a>/<a>.ipynb`); `write(sub, folder)` writes
that notebook as `<a>.ipynb` into a folder, with the files and symlinks the student ships
beside it (the folder a student submits from).

The changes, applied in this order:

- `answers`: {grade_id of a solution cell: its new source} (code or written answers);
- `edit_cells`: {grade_id of any cell: its new source}, locked and test cells too (tampering);
- `strip_metadata`: grade_ids whose nbgrader metadata (and the locked/undeletable flags) are
  removed, so that the cell is a plain cell (after its edit, if any);
- `extra_cells`: [(grade_id, or None for the top of the notebook, source)]: plain new code
  cells, inserted after that cell, in the order listed;
- `delete_cells`: grade_ids of cells removed from the notebook.

`expect` gives, for every autograded test cell of the assignment, what the submission
deserves: "full" (all its points) or 0.
"""

from __future__ import annotations

import copy
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import nbformat

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = (
    "a00_shared_state",
    "a01_mutexes",
    "a02_mutex_api",
    "a03_sharing_a_mutex",
    "a04_multiple_ownership",
    "a05_arc",
    "a06_refcell_vs_mutex",
)
# The attack classes of the hostile submissions.
KLASSES = (
    "patch-grading",
    "ipython-hooks",
    "rebind",
    "odd-eq",
    "shadow-package",
    "leak",
    "damage",
    "lose-grading",
    "limits",
    "shadow-builtins",
)
FULL = "full"


@dataclass
class Submission:
    """One student's submission of one assignment, as changes to the release notebook."""

    assignment: str
    name: str
    expect: dict[str, str | int]
    answers: dict[str, str] = field(default_factory=dict)
    extra_cells: list[tuple[str | None, str]] = field(default_factory=list)
    edit_cells: dict[str, str] = field(default_factory=dict)
    strip_metadata: set[str] = field(default_factory=set)
    delete_cells: set[str] = field(default_factory=set)
    files: dict[str, bytes | str] = field(default_factory=dict)
    symlinks: dict[str, str] = field(default_factory=dict)
    klass: str | None = None  # the attack class of a hostile submission; None for an honest one
    notes: str = ""


# --- the course's notebooks ------------------------------------------------------------------------------


def release_path(assignment):
    return ROOT / "release" / assignment / f"{assignment}.ipynb"


def source_path(assignment):
    return ROOT / "source" / assignment / f"{assignment}.ipynb"


def release_notebook(assignment):
    return nbformat.read(release_path(assignment), as_version=4)


def source_notebook(assignment):
    return nbformat.read(source_path(assignment), as_version=4)


def grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def is_autograded_test(cell):
    """A test cell that the autograder scores: nbgrader grade=True and solution=False."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def autograded_tests(nb):
    """{grade_id: points} of the autograded test cells of a notebook, in notebook order."""
    return {grade_id(c): float(c.metadata.nbgrader["points"]) for c in nb.cells if is_autograded_test(c)}


# --- building the notebook -------------------------------------------------------------------------------


def _fresh_id(sub, n, taken):
    digest = hashlib.sha1(f"{sub.assignment}/{sub.name}/{n}".encode()).hexdigest()[:8]
    cell_id = f"extra-{n}-{digest}"
    while cell_id in taken:
        cell_id += "x"
    taken.add(cell_id)
    return cell_id


def _cell(nb, wanted, sub, what):
    for cell in nb.cells:
        if grade_id(cell) == wanted:
            return cell
    raise KeyError(f"{sub.name}: {what} names {wanted!r}, which is not a cell of release/{sub.assignment}")


def build(sub, release_nb):
    """The notebook `sub` hands in, made from `release_nb` (left unchanged)."""
    nb = copy.deepcopy(release_nb)
    for wanted, source in sub.answers.items():
        cell = _cell(nb, wanted, sub, "answers")
        if not cell.metadata.nbgrader.get("solution"):
            raise KeyError(f"{sub.name}: answers names {wanted!r}, which is not a solution cell; use edit_cells")
        cell.source = source
    for wanted, source in sub.edit_cells.items():
        _cell(nb, wanted, sub, "edit_cells").source = source
    for wanted in sorted(sub.strip_metadata):
        cell = _cell(nb, wanted, sub, "strip_metadata")
        for key in ("nbgrader", "editable", "deletable"):
            cell.metadata.pop(key, None)
    taken = {c.get("id") for c in nb.cells}
    # insert from the last anchor to the first, so that earlier positions stay right
    placed = []
    for n, (anchor, source) in enumerate(sub.extra_cells):
        if anchor is None:
            index = 0
        else:
            anchors = [i for i, c in enumerate(nb.cells) if grade_id(c) == anchor]
            if not anchors:
                _cell(nb, anchor, sub, "extra_cells")  # raises with the message
            index = anchors[0] + 1
        placed.append((index, n, nbformat.v4.new_code_cell(source, id=_fresh_id(sub, n, taken))))
    for index, _, cell in sorted(placed, key=lambda p: (-p[0], -p[1])):
        nb.cells.insert(index, cell)
    for wanted in sub.delete_cells:
        cell = _cell(nb, wanted, sub, "delete_cells")
        nb.cells.remove(cell)
    nbformat.validate(nb)
    return nb


def build_from_release(sub):
    return build(sub, release_notebook(sub.assignment))


# --- writing the submission folder -----------------------------------------------------------------------


def _inside(folder, relative, sub):
    path = PurePosixPath(relative)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"{sub.name}: {relative!r} must be a path inside the submission folder")
    return folder.joinpath(*path.parts)


def write(sub, folder, release_nb=None):
    """Write the submission into `folder` (made if needed): `<assignment>.ipynb`, its files and symlinks.

    Returns the notebook's path. Shipped paths must stay inside the folder; a symlink's target
    is written as given and never followed here.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    nb = build(sub, release_nb if release_nb is not None else release_notebook(sub.assignment))
    notebook = folder / f"{sub.assignment}.ipynb"
    nbformat.write(nb, notebook)
    for relative, content in sub.files.items():
        path = _inside(folder, relative, sub)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    for relative, target in sub.symlinks.items():
        path = _inside(folder, relative, sub)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink() or path.exists():
            path.unlink()
        os.symlink(target, path)
    return notebook
