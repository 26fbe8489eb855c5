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
once. 3 threads of 2 increments (34,650 interleavings) take about 5,000 states and 35
runs, 4 threads of 2 (63,063,000) about 600,000 states and 90 runs. Threads spawned
with the same closure and the same captured values share what is learned about them.
`mode="every"` runs every schedule, one execution each, and assumes nothing beyond
determinism; the tests hold the two modes equal, outcome by outcome and count by
count. `examples` are the same in both modes: for each outcome, the first schedule
reaching it in depth-first order, the default choice first.

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

from collections import Counter

from .. import _sim
from ..errors import ScheduleAborted
from . import _model
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
    _Execution,
    _preempts,
    _replayer,
    _seeded,
    _try_order,
    _watched,
    check_schedule,
    freeze,
    interleavings,
    step_limit_message,
)

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
                SimJoinHandle, SimThread, StepLimit, StuckThread, Unhashable, Violation, interleavings, freeze):
    _public.__module__ = __name__

MODES = ("model", "every")


def _execute(program, chooser, step_timeout, max_steps, invariant=None):
    def work(clock, state):
        execution = state["execution"] = _Execution(chooser, max_steps, clock, stop=state, invariant=invariant)
        return execution.run(program)
    result = _watched(work, step_timeout)
    if isinstance(result.outcome, StepLimit):
        raise ScheduleError(step_limit_message(result, max_steps))
    return result


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
    lowest-numbered thread that can run (unless `strict`, which asks for every step).
    `ScheduleError` says why a schedule cannot be followed: an entry that is not a
    thread number (`True`, `1.0`), a thread that has not been started yet, has
    finished, or is blocked, and who holds what it waits for. With `invariant`, see
    `explore`.
    """
    schedule = check_schedule(schedule)
    return _execute(program, _replayer(schedule, strict), step_timeout, max_steps, invariant)


def explore(program, *, preemption_bound=None, max_schedules=200_000, step_timeout=2.0, max_steps=10_000,
            mode="model", max_states=3_000_000, stop_at_step_limit=True, invariant=None):
    """Every schedule of `program`, up to `preemption_bound` preemptions: each outcome and how many reach it.

    A preemption is a switch away from a thread that could have gone on (after a
    `sleep`, which lets the others go first, it is staying on the sleeper). Returns an
    `Exploration`: `outcomes` (a Counter: outcome -> number of schedules),
    `examples` (outcome -> one schedule reaching it, for `replay`), `schedules` (their
    total), `complete`.

    `mode="model"` (the default) counts schedules through the states of a model of the
    program (see the module's docstring for what it assumes, and how it checks it);
    `mode="every"` runs each schedule. `max_schedules` bounds the executions either
    mode makes and `max_states` the states the model visits: past them, `complete` is
    False and the counts are those found so far.

    A schedule still running after `max_steps` steps (a thread that spins forever) is
    cut there and becomes the outcome `StepLimit`, which names the threads still
    running; `examples` has its schedule. With `stop_at_step_limit` (the default) the
    exploration then ends, as a program that can spin forever can have schedules of
    every length: it returns what it found so far, in depth-first order, with
    `complete=False`. Without it, the exploration goes on, every schedule cut at
    `max_steps` counted as a `StepLimit` outcome: exact counts for a program that can
    livelock, within a small `max_steps`.

    An outcome that cannot be a dictionary key (a list, a dict) is counted as a
    hashable copy of it (a tuple, a read-only dict).

    `invariant`, a function of no arguments, is called by the scheduler after every
    step (and before the first), while every thread is paused between two steps. It
    returns None while all is well, or a string saying what is wrong; the first string
    ends the run with the outcome `Violation(message, step)`, counted like any other
    (violations with the same message are one outcome). It is not a thread: it reads the
    primitives without steps (`Mutex.peek`, `Mutex.is_locked`, `RacyCell.peek`,
    `AtomicUsize.peek`), and a step (`lock`, `get`, `spawn`) raises `InvariantStep`. It
    reads the objects of the run being explored, typically kept by the program where the
    invariant finds them (the program fills a list the invariant reads, before its first
    step: the mutexes themselves, or `Arc` handles that the program keeps, as a handle
    moved into a thread is dropped when the thread ends). An error the invariant raises
    ends the exploration with that error. The model explorer cannot call it in its
    states, which are not real objects: with an invariant, `explore` runs every schedule
    (`exploration.mode == "every"`, and `note` says why).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    bound = preemption_bound

    stop = stop_at_step_limit

    def work(clock, state):
        if mode == "every" or invariant is not None:
            every = _explore_every(program, bound, max_schedules, max_steps, clock, state, stop, invariant)
            if mode != "every":
                every.note = INVARIANT_NOTE
            return every
        explorer = _model.Explorer(program, bound=bound, max_steps=max_steps, max_runs=max_schedules,
                                   max_states=max_states, clock=clock, state=state, stop_at_step_limit=stop)
        try:
            return _explore_model(explorer)
        except (_model.Inconsistent, _model.LongSchedule) as why:
            every = _explore_every(program, bound, max_schedules, max_steps, clock, state, stop)
            if isinstance(why, _model.Inconsistent):
                every.note = f"the model explorer fell back to running every schedule: {why}"
            else:
                every.note = (f"a schedule ran past max_steps={max_steps}, or for more than {_model.LONG} steps: "
                              "schedules were run one by one, up to the first that ran past max_steps")
            every.runs += explorer.runs
            return every

    return _watched(work, step_timeout)


INVARIANT_NOTE = "an invariant is called on the real objects, between real steps: every schedule was run"
CHECKED_EXAMPLES = 16  # example schedules replayed against the model at the end of an exploration
RANDOM_CHECKS = 2  # random schedules replayed, too


def _explore_model(explorer):
    while True:
        try:
            return _explore_model_once(explorer)
        except _model.Restart:  # learned again, with the releases of locks as points of their own
            pass


def _explore_model_once(explorer):
    outcomes, complete = explorer.count()
    examples = explorer.examples(len(outcomes))
    if complete and len(examples) < len(outcomes):  # cut short by the budget: say so
        complete = False
    try:
        shown = sorted(examples.values(), key=len)[:CHECKED_EXAMPLES]
        explorer.check(shown, RANDOM_CHECKS if complete else 0)
    except _model.Budget:
        pass
    return Exploration(outcomes, examples, sum(outcomes.values()), complete, explorer.bound, "model",
                       explorer.runs, explorer.states)


def _explore_every(program, bound, max_schedules, max_steps, clock, state, stop_at_step_limit=True, invariant=None):
    outcomes = Counter()
    examples = {}
    count = 0
    prefix = []
    while True:
        if state.get("stop"):
            raise ScheduleAborted()
        execution = state["execution"] = _Execution(_replayer(prefix, strict=False), max_steps, clock, stop=state,
                                                    invariant=invariant)
        result = execution.run(program)
        count += 1
        outcome = freeze(result.outcome)
        outcomes[outcome] += 1
        examples.setdefault(outcome, list(result.schedule))
        if stop_at_step_limit and isinstance(outcome, StepLimit):
            return Exploration(outcomes, examples, count, False, bound, "every", count)
        prefix = _next_prefix(result.choices, bound)
        if prefix is None:
            return Exploration(outcomes, examples, count, True, bound, "every", count)
        if count >= max_schedules:
            return Exploration(outcomes, examples, count, False, bound, "every", count)


def _next_prefix(choices, bound, pruned=None):
    """The schedule prefix of the next run in depth-first order, or None when done.

    `pruned`, a list, gets True appended whenever the bound cut an alternative off.
    """
    spent = [0]
    for enabled, tid, prev, yielded in choices:
        spent.append(spent[-1] + _preempts(enabled, tid, prev, yielded))
    for i in range(len(choices) - 1, -1, -1):
        enabled, tid, prev, yielded = choices[i]
        order = _try_order(enabled, prev, yielded)
        for alt in order[order.index(tid) + 1:]:
            if bound is None or spent[i] + _preempts(enabled, alt, prev, yielded) <= bound:
                return [c[1] for c in choices[:i]] + [alt]
            if pruned is not None:
                pruned.append(True)
    return None


# --- the simplest schedule ------------------------------------------------------------


def needs(preemptions):
    """"needs 1 preemption", "needs 4 preemptions", "needs no preemption"."""
    if preemptions == 0:
        return "needs no preemption"
    return f"needs {preemptions} preemption{'s' if preemptions != 1 else ''}"


def minimal_schedule(program, predicate, *, max_preemptions=None, step_timeout=2.0, max_steps=10_000,
                     mode="model", max_states=3_000_000, max_schedules=200_000, invariant=None):
    """The simplest schedule whose outcome satisfies `predicate`, replayed: a `Run`, or None if there is none.

    Simplest means the fewest preemptions, then the fewest steps: what deepening the
    preemption bound one at a time finds (as CHESS does), the shortest schedule at the
    first bound that has one. `predicate` is a function of the outcome
    (`lambda count: count < 6`, `lambda o: isinstance(o, Deadlock)`), or a value the
    outcome must equal. The `Run` has the schedule, its trace, and `run.preemptions`;
    `needs(run.preemptions)` says it in words ("needs 1 preemption"). With
    `max_preemptions`, schedules with more are not considered.

    For grading: `minimal_schedule(program, lambda o: o not in expected)` is the
    schedule to show a student whose code can go wrong. With `invariant` (see
    `explore`), `lambda o: isinstance(o, Violation)` finds the simplest schedule that
    breaks it; schedules are then run one by one, as `explore` does with an invariant.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    if callable(predicate):
        test = predicate
    else:
        wanted = freeze(predicate)

        def test(outcome):
            return freeze(outcome) == wanted

    def work(clock, state):
        found = None
        if mode == "model" and invariant is None:
            explorer = _model.Explorer(program, bound=None, max_steps=max_steps, max_runs=max_schedules,
                                       max_states=max_states, clock=clock, state=state)
            try:
                found = _simplest(explorer, test, max_preemptions)
                if found is None:
                    return None
            except (_model.Inconsistent, _model.Budget):
                found = None
            else:
                return found[0]
        return _minimal_every(program, test, max_preemptions, max_steps, max_schedules, clock, state, invariant)

    schedule = _watched(work, step_timeout)
    if schedule is None:
        return None
    return _execute(program, _replayer(schedule, True), step_timeout, max_steps, invariant)


def _simplest(explorer, test, max_preemptions):
    """The model's simplest schedule, checked by a run; learned again if the program turns out to try_lock."""
    while True:
        try:
            found = explorer.simplest(test, max_preemptions)
            if found is not None:
                explorer.check([found[0]], 0)
            return found
        except _model.Restart:
            pass


def _minimal_every(program, test, max_preemptions, max_steps, max_schedules, clock, state, invariant=None):
    """The same search by running schedules: each bound in turn, the shortest match at the first bound with one."""
    bound = 0
    count = 0
    while max_preemptions is None or bound <= max_preemptions:
        best = None
        prefix = []
        pruned = []
        while prefix is not None:
            if state.get("stop"):
                raise ScheduleAborted()
            execution = state["execution"] = _Execution(_replayer(prefix, strict=False), max_steps, clock,
                                                        stop=state, invariant=invariant)
            result = execution.run(program)
            count += 1
            if test(result.outcome) and (best is None or len(result.schedule) < len(best)):
                best = list(result.schedule)
            if count >= max_schedules:
                return best
            prefix = _next_prefix(result.choices, bound, pruned)
        if best is not None:
            return best
        if not pruned:
            return None  # this bound already covered every schedule
        bound += 1
    return None


def spawn_unchecked(closure, *, name=None):
    """Spawn under the scheduler without the `Send` and move checks.

    For showing what Rust's checks prevent (an `Rc` count shared by threads); never in
    real code.
    """
    sim = _sim.current()
    if sim is None:
        raise RuntimeError("spawn_unchecked only runs under the scheduler (sched.run, replay, explore)")
    return sim.spawn(closure, name)

