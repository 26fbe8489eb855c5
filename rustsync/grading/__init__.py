"""Grading the course's assignments: the kernel shows, the grader decides, the student's code proposes.

The boundary is a process. Modules of nbgrader's process and the grader's:
- `hooks`: the nbgrader preprocessors that put this in place of nbgrader's own execution.
- `runner`: lines up each part's cells from the instructor's notebook and the student's,
  sends them to the worker, and decides every part from the facts it gets back.
- `worker`: the sandboxed zygote that forks one grader process per part.
- `grader`: that process: the instructor's cells, the scheduler and every primitive, and
  the connection to the student's process (handles out, references in).
- `checks/`: what the assignments' test cells call; facts and pure decisions (`decide`).
- `plain`: the exact-type plain data in which student values reach a decision.
- `wire`: the messages and value forms that cross the boundary.
- `advice`: notes on a student's cell (real threads, `time.sleep`); they decide nothing.
- `commands`, `parallel` (and `rustsync.interrupts`, beside the sandbox): stopping cells that swallow Ctrl-C; nbgrader
  in-process; grading many submissions at once.
The student's side is one module, `student`: it runs the student's cells and functions
in a process of its own and imports nothing of the course but `wire`.
"""

from ..interrupts import CellStopped, stop_cells_on_interrupt
from .checks import (
    DEFAULT_TIMEOUT,
    answer,
    call,
    check_always,
    check_deadlock_schedule,
    check_equal,
    check_ops,
    check_prediction,
    check_schedule,
    decide,
    drawn,
    explore_program,
    raised_by,
    run_once,
)
from .commands import run_nbgrader


def hide_test_tracebacks(nb, resources):
    """Feedback preprocessor (kept here for nbgrader_config.py); see `hooks.hide_test_tracebacks`."""
    from .hooks import hide_test_tracebacks as hide

    return hide(nb, resources)


__all__ = [
    "DEFAULT_TIMEOUT",
    "CellStopped",
    "answer",
    "call",
    "check_always",
    "check_deadlock_schedule",
    "check_equal",
    "check_ops",
    "check_prediction",
    "check_schedule",
    "decide",
    "drawn",
    "explore_program",
    "hide_test_tracebacks",
    "raised_by",
    "run_nbgrader",
    "run_once",
    "stop_cells_on_interrupt",
]
