"""What the assignments' test cells call: student code under a deadline, decisions by the scheduler.

Every check gathers facts (plain data: the student's values as `plain` copies, the
outcomes the scheduler reached, the steps each thread took) and then decides from
those facts alone, with a pure function (`decide`). In the student's kernel a failed
check raises `AssertionError` with a message a student can act on. In the grader's
worker each check also leaves its facts in `RECORDS`; the grader decides each one
again, in its own process, from the facts, so an answer whose `==` lies, or a check
replaced by student code, decides nothing.

Student code runs in a thread of its own with a deadline, so code that deadlocks,
loops forever or ignores Ctrl-C costs its part and nothing else; what it writes to
stdout or stderr is kept out of the test cell.

The checks live in modules named after what they do: `deadline` runs student code under a
deadline and words its errors; `records` holds the facts of each check and decides them;
`answers` calls student functions and checks their values; `scheduled` runs student
programs under the scheduler. The grader's worker sets the state of one part in `records`.
"""

from .answers import answer, call, check_equal, raised_by
from .deadline import DEFAULT_TIMEOUT, EXPLORE_TIMEOUT
from .records import MESSAGE_WIDTH, decide, drawn, wrap
from .scheduled import (
    check_always,
    check_deadlock_schedule,
    check_ops,
    check_prediction,
    check_schedule,
    explore_program,
    run_once,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "EXPLORE_TIMEOUT",
    "MESSAGE_WIDTH",
    "answer",
    "drawn",
    "call",
    "check_always",
    "check_deadlock_schedule",
    "check_equal",
    "check_ops",
    "check_prediction",
    "check_schedule",
    "explore_program",
    "decide",
    "raised_by",
    "run_once",
    "wrap",
]


