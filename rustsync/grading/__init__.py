"""Grading the course's assignments: the kernel shows, the grader decides.

- `checks`: what the assignments' test cells call (`answer`, `check_always`, ...): facts
  gathered from student code under a deadline and the scheduler, and pure decisions.
- `plain`: the exact-type plain data in which student values reach a decision.
- `gate`: the policy a student's cell must pass, read as text, before the grader runs it.
- `worker`: the sandboxed process that runs one part in a fresh fork and reports facts.
- `runner`: the grader's side: builds each part's job from the instructor's notebook and
  the student's cells, runs the workers, and decides every part from their facts.
- `hooks`: the nbgrader preprocessors that put this in place of nbgrader's own execution.
- `interrupts`, `commands`: stopping cells that swallow Ctrl-C; nbgrader in-process.
"""

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
    explore_program,
    raised_by,
    run_once,
)
from .commands import run_nbgrader
from .interrupts import CellStopped, stop_cells_on_interrupt


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
    "explore_program",
    "hide_test_tracebacks",
    "raised_by",
    "run_nbgrader",
    "run_once",
    "stop_cells_on_interrupt",
]
