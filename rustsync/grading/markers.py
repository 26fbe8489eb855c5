"""nbgrader's marker text in a student's cell: the feedback shows the cell as written.

nbgrader's `ClearHiddenTests` takes the hidden tests out of the feedback by reading every
cell, line by line, for "BEGIN HIDDEN TESTS" and "END HIDDEN TESTS" anywhere in a line. A
student who writes that text, in a comment, a string or a markdown answer, made
`nbgrader generate_feedback` fail for the whole notebook ("No end hidden tests statement
found", or "Hidden test region detected in a non-grade cell"), or, with both markers in a
written answer, cut the lines between them out of the answer the student gets back.

In a graded notebook, the instructor's text is only in the cells nbgrader holds for the
instructor: the locked cells and the autograder tests, which `OverwriteCells` puts back
from the gradebook whatever the submission holds, and an answer cell nbgrader put back
from the gradebook after the student deleted it (nbgrader's note starts its text).
Only those can hold hidden tests, so `ClearHiddenTestsInTests` clears them there, and
shows every other cell (an answer, a written answer, a cell the student added) as the
student wrote it, markers and all.
Autograding itself reads no marker in a student's cell; nor does anything read
"BEGIN SOLUTION" after `generate_assignment`.
"""

from __future__ import annotations

from nbgrader.preprocessors import ClearHiddenTests, OverwriteCells

__all__ = ["ClearHiddenTestsInTests", "holds_instructor_text"]


def holds_instructor_text(cell, put_back=OverwriteCells.missing_cell_notification.default_value):
    """Whether a cell of a graded notebook holds the instructor's text: a locked cell, a test, or a graded
    cell nbgrader put back from the gradebook after the student deleted it (it starts with nbgrader's note)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if not isinstance(meta, dict) or not meta.get("grade_id"):
        return False
    if meta.get("locked") or (meta.get("grade") and not meta.get("solution")):
        return True
    note = put_back.format(cell_id=meta["grade_id"])
    return cell.get("source", "").startswith((note, f"# {note}"))


class ClearHiddenTestsInTests(ClearHiddenTests):
    """nbgrader's `ClearHiddenTests` for the feedback, on the instructor's cells only (see the module)."""

    def preprocess(self, nb, resources):
        self._put_back = OverwriteCells(config=self.config).missing_cell_notification
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        if holds_instructor_text(cell, self._put_back):
            try:
                self._remove_hidden_test_region(cell)
            except RuntimeError:  # unbalanced markers in the instructor's text: show none of it
                cell.source = ""
        elif self.begin_test_delimeter in cell.get("source", "") or self.end_test_delimeter in cell.get("source", ""):
            student = resources.get("nbgrader", {}).get("student", "?")
            self.log.info("%s: cell #%d holds nbgrader's hidden-test marker text: it is shown as written",
                          student, cell_index + 1)
        return cell, resources
