"""A cell copied in JupyterLab: one copy is graded, every other one is an ordinary cell.

Copying a cell in JupyterLab copies its metadata, nbgrader's marks included, so a
submission can hold two cells with the grade id `fixed_worker`. nbgrader's own
`DeduplicateIds` keeps the last copy and leaves an empty `nbgrader` mark on the others, on
which `OverwriteCells` then fails (`KeyError: 'grade_id'`): the whole notebook is not
graded. Marks of a cell this notebook does not have (copied from another notebook) end the
same way: `OverwriteCells` drops their grade id and then fails on them.

`CopiedCells` takes `DeduplicateIds`' place in autograde's sanitizing step
(`hooks.sanitize_preprocessors`). Of the cells that share a grade id, one stays the graded
cell:

- of an answer cell's copies, one the student wrote in (its text differs from the
  release's): a student who copied the cell and answered in the copy, leaving
  `raise NotImplementedError()` in the original, has their answer graded, and a written
  answer graded by hand is the one they wrote;
- then the copy that stands where the instructor's notebook has the cell (the fewest
  other graded cells on the wrong side of it: a test cell pasted at the top would
  otherwise run before the answer it tests), then the first.

Every other copy becomes an ordinary cell: nbgrader's marks and the locked and
undeletable flags are dropped, a cell id it shares gets a fresh one, and its text stays
and runs in its place like any cell of the student's, so a later definition wins, as in
the student's kernel. A code copy that is still the release's text (the stub the student
answered beside, a second copy of a test) is no code of the student's: its lines are
commented out, so that it cannot undo the answer in the other copy, whichever comes
first. The graded notebook and the feedback say under each such cell what happened
(`notes.py`), and the autograde log warns.
"""

from __future__ import annotations

import re

import nbformat
from nbgrader.api import Gradebook
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor

from . import notes

__all__ = ["CopiedCells"]

MARKS = ("nbgrader", "editable", "deletable")  # what makes a cell graded, locked or undeletable
SHOWN_ID = re.compile(r"[A-Za-z0-9_.\-]{1,64}\Z")  # a grade id a note quotes as it is
CELL_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}\Z")


def _normal(text):
    return "\n".join(line.rstrip() for line in (text or "").strip().splitlines())


def _name(grade_id):
    """A grade id as a note quotes it: a student's metadata may hold any text."""
    return f"`{grade_id}`" if SHOWN_ID.match(grade_id) else f"`{re.sub(r'[^A-Za-z0-9_.-]', '?', grade_id[:64])}`"


def _commented(source):
    return "\n".join(f"# {line}" if line.strip() else line for line in source.split("\n"))


class _Course:
    """The gradebook's record of the notebook: its cells in order, their release text, which are answers."""

    def __init__(self, cells, answers):
        self.order = {name: n for n, (name, _, _) in enumerate(cells)}
        self.kind = {name: kind for name, kind, _ in cells}
        self.text = {name: text for name, _, text in cells}
        self.answers = set(answers)


class CopiedCells(NbGraderPreprocessor):
    """Keeps one graded copy of each grade id; the other copies become ordinary cells (see the module)."""

    def preprocess(self, nb, resources):
        notes.clear(nb)  # the first sanitizing step to leave notes: none comes from the submission
        info = resources.get("nbgrader", {})
        self._student = info.get("student", "?")
        course = self._course(info)
        places = {}
        for index, cell in enumerate(nb.cells):
            metadata = cell.get("metadata", {})
            if "nbgrader" not in metadata:
                continue
            marks = metadata["nbgrader"]
            grade_id = marks.get("grade_id") if isinstance(marks, dict) else None
            if not isinstance(grade_id, str) or not grade_id:
                self._ordinary(cell, index, "this cell carries nbgrader's marks without a grade id: graded as an "
                                            "ordinary cell.")
            elif course is not None and grade_id not in course.order:
                self._ordinary(cell, index, f"this cell carries the nbgrader marks of a cell {_name(grade_id)} that "
                                            "this notebook does not have (copied from another notebook?): graded "
                                            "as an ordinary cell.")
            else:
                places.setdefault(grade_id, []).append(index)
        alone = {grade_id: found[0] for grade_id, found in places.items() if len(found) == 1}
        for grade_id, found in places.items():
            if len(found) > 1:
                self._keep_one(nb, grade_id, found, alone, course)
        self._unique_ids(nb)
        return nb, resources

    # --- the pieces ---------------------------------------------------------------------------------

    def _course(self, info):
        try:
            with Gradebook(info["db_url"]) as gb:
                notebook = gb.find_notebook(info["notebook"], info["assignment"])
                cells = [(c.name, c.cell_type, c.source) for c in notebook.source_cells]
                answers = [c.name for c in notebook.solution_cells]
            return _Course(cells, answers)
        except Exception as err:  # noqa: BLE001 - then copies are told apart by their order only
            self.log.warning("Copied cells: the gradebook's record of this notebook is missing (%s)", err)
            return None

    def _released(self, cell, grade_id, course):
        """Whether a cell's text is the release's text of the cell `grade_id`."""
        if course is None or cell.get("cell_type") != course.kind.get(grade_id):
            return False
        text = course.text.get(grade_id) or ""
        shown = nbformat.v4.new_code_cell(text)
        try:
            ClearHiddenTests(config=self.config)._remove_hidden_test_region(shown)
        except RuntimeError:
            shown.source = text
        return _normal(cell.get("source")) in (_normal(text), _normal(shown.source))

    def _keep_one(self, nb, grade_id, found, alone, course):
        def misplaced(index):
            """How many graded cells found once are on the other side of `index` than in the instructor's order."""
            if course is None:
                return 0
            mine = course.order[grade_id]
            return sum((course.order[other] < mine) != (at < index) for other, at in alone.items())

        def rank(index):
            cell = nb.cells[index]
            unanswered = course is not None and grade_id in course.answers and self._released(cell, grade_id, course)
            wrong_kind = course is not None and cell.get("cell_type") != course.kind.get(grade_id)
            return unanswered, wrong_kind, misplaced(index), index

        graded = min(found, key=rank)
        for index in found:
            if index == graded:
                continue
            cell = nb.cells[index]
            where = "above" if graded < index else "below"
            text = (f"this cell is a copy of the cell {_name(grade_id)}: graded as an ordinary cell. The copy {where} "
                    f"is the one graded as {_name(grade_id)}")
            if cell.get("cell_type") == "code" and self._released(cell, grade_id, course):
                cell.source = _commented(cell.source)
                text += (", and this copy is still the text as released, so the grader does not run it (its lines "
                         "are commented out here)")
                how = "not run: it is the released text"
            elif cell.get("cell_type") == "code":
                text += "; this copy runs in its place like any cell of yours"
                how = "it runs in its place"
            else:
                how = "its text is not graded"
            self._ordinary(cell, index, text + ".", log=False)
            self.log.warning("%s: cell #%d is a copy of the cell %s (nbgrader's marks came with it): graded as an "
                             "ordinary cell, %s; cell #%d is graded as %s", self._student, index + 1,
                             _name(grade_id), how, graded + 1, _name(grade_id))

    def _ordinary(self, cell, index, text, log=True):
        for key in MARKS:
            cell["metadata"].pop(key, None)
        notes.add(cell, text[0].upper() + text[1:])
        if log:
            self.log.warning("%s: cell #%d: %s", self._student, index + 1, text)

    @staticmethod
    def _unique_ids(nb):
        """A copy that kept its cell id gets a fresh one (nbformat wants each id once)."""
        taken = {cell.get("id") for cell in nb.cells}
        seen = set()
        for cell in nb.cells:
            cell_id = cell.get("id")
            if cell_id is None:
                continue
            if cell_id in seen or not CELL_ID.match(str(cell_id)):
                base = re.sub(r"[^A-Za-z0-9_\-]", "", str(cell_id))[:48] or "cell"
                n = 1
                while f"{base}-copy{n}" in taken:
                    n += 1
                cell["id"] = f"{base}-copy{n}"
                taken.add(cell["id"])
            seen.add(cell["id"])
