"""Stopping a cell that runs too long, even one that swallows Ctrl-C."""

from __future__ import annotations

__all__ = ["CellStopped", "stop_cells_on_interrupt"]


class CellStopped(BaseException):
    """The grader stopped a cell that ran past its time limit (in the student's kernel, or in the grader's process).

    When a cell runs too long, nbgrader interrupts the kernel, which normally raises
    KeyboardInterrupt; a top-level `while True: try: ... except KeyboardInterrupt: pass`
    would swallow that, keep the kernel busy, and leave the whole notebook ungraded. In
    grading kernels the interrupt raises this instead, which such code does not catch. The
    grader's process raises it from its alarm when an instructor's cell runs too long (grader.py).
    """


def _stop_cell(signum, frame):
    raise CellStopped("the grader stopped this cell: it ran past the time limit "
                      "(a loop that never ends, or one that waits for something that never comes?)")


def stop_cells_on_interrupt():
    """In a grading kernel: make the kernel's interrupt raise `CellStopped`, not KeyboardInterrupt.

    ipykernel installs `signal.default_int_handler` (the name it imported) around each
    request it handles; replacing that name replaces what an interrupt raises.
    """
    import ipykernel.kernelbase as kernelbase

    kernelbase.default_int_handler = _stop_cell
