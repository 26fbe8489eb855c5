"""What a run or an exploration gives: outcomes, events, runs, explorations, and hashable copies of outcomes."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# --- results ----------------------------------------------------------------------


class ScheduleError(ValueError):
    """A schedule that cannot be followed: a thread that is blocked, finished or unknown."""


class StuckThread(RuntimeError):
    """A simulated thread ran too long without reaching a step of the course's primitives."""


class StopRun(Exception):
    """Raised by a chooser to end a run early (the run's threads are unwound; `run` returns None)."""


@dataclass(slots=True)
class Event:
    """One entry of a trace: a step (with its index) or an event inside a step."""

    step: int | None
    thread: int
    op: str
    obj: str
    value: object = None
    held: tuple = ()

    def __str__(self):
        index = f"{self.step:>3}" if self.step is not None else "   "
        value = "" if self.value is None else f" -> {self.value!r}"
        held = f"  [holds {', '.join(self.held)}]" if self.held else ""
        return f"{index}  T{self.thread}  {self.op:<10} {self.obj}{value}{held}"


@dataclass(frozen=True)
class Deadlock:
    """Every live thread is blocked: `waits` lists (thread, what it waits for, held by)."""

    waits: tuple
    cycle: tuple

    def __str__(self):
        parts = [f"thread {t} waits for `{what}` held by thread {holder}" for t, what, holder in self.waits
                 if t in self.cycle]
        return "deadlock: " + "; ".join(parts)


@dataclass(frozen=True)
class Panic:
    """A thread raised: the outcome of a run whose main thread died of an exception."""

    thread: int
    error: str

    def __str__(self):
        return f"thread {self.thread} panicked: {self.error}"


@dataclass(frozen=True)
class StepLimit:
    """A schedule still running after `steps` steps (`max_steps`): `running` are the threads that had not ended."""

    steps: int
    running: tuple

    def __str__(self):
        who = ", ".join(str(t) for t in self.running)
        return f"still running after {self.steps} steps: thread{'s' if len(self.running) > 1 else ''} {who}"


@dataclass(frozen=True)
class Violation:
    """The invariant failed: `message` is what it returned, `step` the index of the step after which it did.

    `step` is -1 when the invariant failed before the first step. Two violations with the
    same message are the same outcome, wherever they happened, so that `explore` counts
    them together; `step` is that of the schedule in `examples`.
    """

    message: str
    step: int = field(default=-1, compare=False)

    def __str__(self):
        return f"invariant violated: {self.message}"


@dataclass
class Run:
    """One execution: its outcome, the schedule it followed, and its trace.

    `unjoined` lists the spawned threads that nobody joined (thread ids, in order): a
    function that must join every thread it spawns has it empty.
    """

    outcome: object
    schedule: list
    trace: list
    deadlock: Deadlock | None = None
    panics: dict = field(default_factory=dict)
    choices: list = field(default_factory=list, repr=False)
    threads: int = 1
    unjoined: tuple = ()

    @property
    def completed(self):
        return self.deadlock is None and not isinstance(self.outcome, (Panic, StepLimit, Violation))

    @property
    def violation(self):
        """The `Violation` that ended the run, or None."""
        return self.outcome if isinstance(self.outcome, Violation) else None

    @property
    def preemptions(self):
        """How many times the schedule switched away from a thread that could have gone on."""
        from ._engine import _preempts

        return sum(_preempts(enabled, tid, prev, yielded) for enabled, tid, prev, yielded in self.choices)

    def show(self):
        """The trace as text, one line per event."""
        return "\n".join(str(e) for e in self.trace)


def _order(item):
    outcome = item[0]
    return (0, outcome) if isinstance(outcome, (int, float)) else (1, str(outcome))


@dataclass
class Exploration:
    """Every outcome an exploration reached, how often, and one schedule for each.

    `outcomes[o]` is the number of schedules (interleavings) that end with `o`;
    `examples[o]` is one of them, a list of thread ids for `replay`. `mode` says how
    they were found ("model": each thread run once per distinct history, schedules
    counted; "every": each schedule run), `runs` how many executions it took, `states`
    how many states of the model it went through, `note` why a model exploration ran
    schedules one by one instead, if it did, `symmetric` whether threads alike were
    counted once each way they can be arranged (the counts are the same). `deadlocks` and `violations` list the
    outcomes that are a `Deadlock` or a `Violation` of the invariant.
    """

    outcomes: dict
    examples: dict
    schedules: int
    complete: bool
    preemption_bound: int | None = None
    mode: str = "every"
    runs: int = 0
    states: int = 0
    note: str = ""
    symmetric: bool = False

    def example(self, outcome):
        return self.examples[freeze(outcome)]

    @property
    def deadlocks(self):
        return [o for o in self.outcomes if isinstance(o, Deadlock)]

    @property
    def violations(self):
        return [o for o in self.outcomes if isinstance(o, Violation)]

    def __repr__(self):
        shown = ", ".join(f"{o}: {n}" for o, n in sorted(self.outcomes.items(), key=_order))
        return f"Exploration({self.schedules} schedules, outcomes {{{shown}}}, complete={self.complete})"


# --- outcomes that cannot be dictionary keys ------------------------------------------


class FrozenDict(dict):
    """A dict outcome, made hashable (and read-only) so that explorations can count it."""

    def __hash__(self):
        return hash(frozenset(self.items()))

    def _read_only(self, *args, **kwargs):
        raise TypeError("an outcome is read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _read_only


@dataclass(frozen=True, eq=False)
class Unhashable:
    """An outcome of a type that cannot be hashed, counted by its `repr`."""

    text: str

    def __eq__(self, other):
        return isinstance(other, Unhashable) and other.text == self.text

    def __hash__(self):
        return hash(self.text)

    def __repr__(self):
        return self.text


def freeze(value, depth=0):
    """`value` if it can be a dictionary key, else a hashable copy (a tuple, a frozenset, a FrozenDict)."""
    try:
        hash(value)
        return value
    except TypeError:
        pass
    if depth > 20:
        return Unhashable(repr(value))
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v, depth + 1) for v in value)
    if isinstance(value, (set, frozenset)):
        return frozenset(freeze(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return FrozenDict((freeze(k, depth + 1), freeze(v, depth + 1)) for k, v in value.items())
    if isinstance(value, bytearray):
        return bytes(value)
    return Unhashable(repr(value))


def interleavings(*steps):
    """How many ways threads with these numbers of steps can interleave: (sum)! / prod(n!)."""
    total = math.factorial(sum(steps))
    for n in steps:
        total //= math.factorial(n)
    return total
