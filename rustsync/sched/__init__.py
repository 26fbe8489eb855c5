"""A deterministic scheduler for the course's primitives: seeded, exhaustive, replayable.

A *program* is a function with no arguments that returns an outcome (say, the final
count). It runs as thread 0 and may `spawn` and `join` threads with the ordinary
`rustsync.spawn`. Each thread is a greenlet and only one runs at a time: it runs
until its next *step* (locking a `Mutex`, reading or writing a `RacyCell`, an atomic
operation, an `Rc` count change, `Arc.strong_count`, `rustsync.sleep`), then the
scheduler chooses which thread takes the next step. A schedule is the list of thread
ids that took the steps, so any interleaving can be written down, replayed
(`replay`), drawn at random (`run`), explored exhaustively (`explore`), and searched
for the simplest one that goes wrong (`minimal_schedule`).

Steps are only the operations another thread can observe: reads and writes of a
guard's data and `join` are recorded in the trace but are not choice points, which is
sound because no other thread can observe them. The release of a lock is a step only
while another thread is paused at a `try_lock` of that mutex: that thread finds the
lock still held (`WouldBlock`) or already free, and the schedule says which, so a worker
that gives up on `WouldBlock` loses its update under the scheduler as with real
threads. A thread waiting in `lock` cannot tell when the release came, only that it
did, so in a program that never calls `try_lock` no release is ever a step and its
counts are the Book's interleavings. What this leaves out: a `try_lock` that its
thread reaches only after a step that depends on something the holder did while
holding the lock (a value it wrote there, another lock it released before this one)
is not offered this release late. And as a holder paused at a watched release can be
passed over, threads that retry `try_lock` in turn can keep it from releasing for as
long as they retry, as an unfair scheduler could: explore such loops with `max_steps`.
A release can be a step at the end of a `with` block or at `drop(guard)`; a guard
freed because nothing refers to it any more (`del guard`) releases at once, as its
finalizer may run anywhere and must not switch threads. `Arc` count changes are atomic
and recorded as events too; only a `strong_count` read taken exactly between two of
them could tell the difference.

`Run.unjoined` lists the spawned threads nobody joined, and an `invariant` (see
`explore`) is a function the scheduler calls between steps to check the primitives'
contents, ending a run that breaks it with the outcome `Violation`.

How `explore` counts. Every count is of interleavings, the number a student can
check with `interleavings`: two threads of k increments have C(4k, 2k) of them. By
default (`mode="model"`) `explore` does not run each one. A deterministic thread's
future depends only on what it has observed, so the explorer runs the program a few
times to learn, for each thread and each sequence of observations it can make, what
the thread does next (its writes to the primitives, its next step); a state is then
the point each thread has reached plus the contents of the primitives, and the number
of schedules reaching each outcome is counted through the states, each state handled
once. Threads spawned with the same closure and the same captured values share what
is learned about them.

Three things keep the states few. A thread that has ended is one state per result,
whatever it saw on its way (only what `join` returns is left of it). A `join` that
waited for its thread and one that found it ended lead to the same point (join returns
the same), and so do joins made while the joiner was alone, whichever of them was the
first made alone. And threads alike (the same closure, equal captured values, spawned
by the same thread) are counted once for each way they can be arranged, with its
multiplicity, as Murphi and TLC's SYMMETRY do: a state and the same state with two of
them swapped reach each outcome by as many schedules, so one is kept, and two of them
at the same point give one next state counted twice. That holds while nothing can
tell which of them is which; the explorer checks it on every state it counts (the
thread that spawned them takes no step while some have ended and others not, they end
with equal results, nobody joins them but their spawner or asks `is_finished`, no
`join(timeout=...)` waits for one, no outcome names them by number, as a deadlock
does), and counts again without symmetry where it does not hold (`symmetric` on the
`Exploration` says which). Counts stay exact, outcome by outcome; examples are real
schedules, mapped back through the swaps, and replay. Listing 16-15 as written, ten
threads, 3,628,800 interleavings, takes about 70 states and 13 runs; 10 threads of one
racy increment (2.4e15 interleavings) about 80,000 states. A thread's point is still
named by everything it read, so two points with the same future but different dead
history (a value read two increments ago) stay apart: racy 5 x 2 keeps about
800,000 states where the abstract counter has 73,000.

`mode="every"` runs every schedule, one execution each, and assumes nothing beyond
determinism; the tests hold the two modes equal, outcome by outcome and count by
count, and hold the model's counts equal to a dynamic program over abstract states
(tests/test_sched_dp.py). `examples` are the same in both modes: for each outcome, the
first schedule reaching it in depth-first order, the default choice first, as long as
that search stays within 20,000 states; past that, an outcome not met yet gets the
first schedule by which the count reached it.

Two other choices were weighed for the fast mode. Caching states keyed by each
thread's history while running each step for real (one execution per edge of the
state graph) needs about 400,000 executions for 4 threads of 2; learning each
thread's pieces once and computing the states from them needs about 90.

What the model assumes, and what happens when a program breaks it:

- each thread is deterministic: run again after the same observations, it does the
  same (no `random`, no clock, no `id()`);
- threads share data only through the primitives (`RacyCell`, `Mutex`, atomics,
  `Arc`/`Rc` counts, the results `join` returns), not through plain Python objects
  that two threads both change (a list appended to by two threads, a global); a read
  outside a step (`peek`, `into_inner`, `is_poisoned`, `repr` of a mutex) is followed
  when the thread reading is the only one still running, the usual place for it;
- the program makes its own shared state, so each run starts from the same state.

Every run the model explorer makes is checked against the model as it goes: the same
observations lead to the same writes and steps, the same threads can run, the run ends
with the outcome the model predicts. So are the example schedules and a few random
ones, replayed at the end. When a run disagrees, `explore` falls back to running every
schedule (`exploration.mode == "every"`, and `exploration.note` says what disagreed).
A program breaking the assumptions where no checked run goes can still be miscounted:
`explore(program, mode="every")` is the reference.

Why our own engine rather than `frontrun` (PyPI)? frontrun explores real bytecode
with DPOR and finds a bare `x += 1` race, but its unit of interleaving is the
bytecode instruction, so schedules are long, hard to write by hand, and tied to the
CPython version; graded "give a schedule" exercises need short schedules over the
chapter's own operations that mean the same on every Python. Partial-order reduction
(DPOR with sleep sets), the other choice weighed for the fast mode, explores one
schedule per class of equivalent ones, so it cannot give the per-outcome counts of
interleavings the lessons' histograms show; counting through the states gives them
exactly.
"""

from __future__ import annotations

from .. import _sim
from ._engine import (
    Deadlock,
    Event,
    Exploration,
    FrozenDict,
    InvariantStep,
    Panic,
    RacyCell,
    Run,
    ScheduleError,
    SimJoinHandle,
    SimThread,
    StepLimit,
    StuckThread,
    Unhashable,
    Violation,
    _replayer,
    _seeded,
    check_schedule,
    freeze,
    interleavings,
)
from ._exploring import _execute, explore, minimal_schedule, needs

__all__ = [
    "Deadlock",
    "Event",
    "Exploration",
    "InvariantStep",
    "Panic",
    "RacyCell",
    "Run",
    "ScheduleError",
    "StepLimit",
    "StuckThread",
    "Violation",
    "explore",
    "interleavings",
    "minimal_schedule",
    "needs",
    "replay",
    "run",
    "spawn_unchecked",
]

for _public in (Deadlock, Event, Exploration, FrozenDict, InvariantStep, Panic, RacyCell, Run, ScheduleError,
                SimJoinHandle, SimThread, StepLimit, StuckThread, Unhashable, Violation, interleavings, freeze,
                explore, minimal_schedule, needs):
    _public.__module__ = __name__

# --- the API ------------------------------------------------------------------------


def run(program, *, seed=None, step_timeout=2.0, max_steps=10_000, invariant=None):
    """Run `program` once under a random schedule drawn from `seed` (same seed, same run).

    Raises `ScheduleError` when the run takes more than `max_steps` steps (a thread that
    spins forever), naming the threads still running, and `StuckThread` when a thread
    runs `step_timeout` seconds without a step. With `invariant`, see `explore`.
    """
    return _execute(program, _seeded(seed), step_timeout, max_steps, invariant)


def replay(program, schedule, *, strict=False, step_timeout=2.0, max_steps=10_000, invariant=None):
    """Run `program` following `schedule`, a list of thread ids (ints), one per step.

    When the list ends, the thread that ran last goes on while it can, then the
    lowest-numbered thread that can run; entries left when the program has ended (or
    deadlocked) are not used. `strict` asks for every step and nothing more: the list
    must end exactly where the program does. `ScheduleError` says why a schedule cannot
    be followed: an entry that is not a thread number (`True`, `1.0`), a thread that has
    not been started yet, has finished, or is blocked, and who holds what it waits for.
    With `invariant`, see `explore`.
    """
    schedule = check_schedule(schedule)
    result = _execute(program, _replayer(schedule, strict), step_timeout, max_steps, invariant)
    if strict and len(result.schedule) < len(schedule):
        left = schedule[len(result.schedule):]
        raise ScheduleError(
            f"the program ended after {len(result.schedule)} steps, but the schedule goes on: "
            f"{left} {'was' if len(left) == 1 else 'were'} never used; remove {'it' if len(left) == 1 else 'them'}, "
            "or call replay(..., strict=False)")
    return result


def spawn_unchecked(closure, *, name=None):
    """Spawn under the scheduler without the `Send` and move checks.

    For showing what Rust's checks prevent (an `Rc` count shared by threads); never in
    real code.
    """
    sim = _sim.current()
    if sim is None:
        raise RuntimeError("spawn_unchecked only runs under the scheduler (sched.run, replay, explore)")
    return sim.spawn(closure, name)
