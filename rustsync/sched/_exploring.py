"""`explore` and `minimal_schedule`: every schedule counted, and the simplest one that shows an outcome."""

from __future__ import annotations

from collections import Counter

from ..errors import ScheduleAborted
from . import _searches
from ._engine import (
    Exploration,
    ScheduleError,
    StepLimit,
    _Execution,
    _preempts,
    _replayer,
    _try_order,
    _watched,
    freeze,
    step_limit_message,
)

MODES = ("model", "every")


def _execute(program, chooser, step_timeout, max_steps, invariant=None):
    def work(clock, state):
        execution = state["execution"] = _Execution(chooser, max_steps, clock, stop=state, invariant=invariant)
        return execution.run(program)
    result = _watched(work, step_timeout)
    if isinstance(result.outcome, StepLimit):
        raise ScheduleError(step_limit_message(result, max_steps))
    return result


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
    False, the counts are those found so far, and `note` says how large the search is
    ("about 2.4e+15 interleavings") and the ways out (fewer threads or increments,
    `preemption_bound=2`). `step_timeout` times the program's own code between two of
    its steps, never the counting, however long that takes. Ctrl-C (a kernel's
    Interrupt) stops the search at once: nothing of it runs on after the
    `KeyboardInterrupt`, and what it held is freed.

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
        explorer = _searches.Explorer(program, bound=bound, max_steps=max_steps, max_runs=max_schedules,
                                   max_states=max_states, clock=clock, state=state, stop_at_step_limit=stop)
        try:
            return _explore_model(explorer)
        except (_searches.Inconsistent, _searches.LongSchedule) as why:
            every = _explore_every(program, bound, max_schedules, max_steps, clock, state, stop)
            if isinstance(why, _searches.Inconsistent):
                every.note = f"the model explorer fell back to running every schedule: {why}"
            else:
                every.note = (f"a schedule ran past max_steps={max_steps}, or for more than {_searches.LONG} steps: "
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
        except _searches.Restart:  # learned again, with the releases of locks as points of their own
            pass


def _explore_model_once(explorer):
    outcomes, complete = explorer.count()
    examples = explorer.examples(len(outcomes))
    if complete and len(examples) < len(outcomes):  # cut short by the budget: say so
        complete = False
    try:
        shown = sorted(examples.values(), key=len)[:CHECKED_EXAMPLES]
        explorer.check(shown, RANDOM_CHECKS if complete else 0)
    except _searches.Budget:
        pass
    exploration = Exploration(outcomes, examples, sum(outcomes.values()), complete, explorer.bound, "model",
                              explorer.runs, explorer.states, symmetric=explorer.symmetric)
    if not complete:
        exploration.note = explorer.too_large()
    return exploration


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

    Simplest means the fewest preemptions: the preemption bound is deepened one at a
    time and each bound searched depth first, the default choice first, up to the first
    schedule that shows the outcome (as CHESS does); both modes find the same one, the
    first that `explore(mode="every")` would run at that bound. `predicate` is a function of the outcome
    (`lambda count: count < 6`, `lambda o: isinstance(o, Deadlock)`), or a value the
    outcome must equal. The `Run` has the schedule, its trace, and `run.preemptions`;
    `needs(run.preemptions)` says it in words ("needs 1 preemption"). With
    `max_preemptions`, schedules with more are not considered. None also when the
    search ran out of `max_schedules` (or `max_states`) before it found one: None means
    "not found within these limits", not "impossible"; `explore` says which.

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
            explorer = _searches.Explorer(program, bound=None, max_steps=max_steps, max_runs=max_schedules,
                                       max_states=max_states, clock=clock, state=state)
            try:
                found = _simplest(explorer, test, max_preemptions)
                if found is None:
                    return None
            except (_searches.Inconsistent, _searches.Budget):
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
        except _searches.Restart:
            pass


def _minimal_every(program, test, max_preemptions, max_steps, max_schedules, clock, state, invariant=None):
    """The same search by running schedules: each bound in turn, depth first, up to the first match."""
    bound = 0
    count = 0
    while max_preemptions is None or bound <= max_preemptions:
        prefix = []
        pruned = []
        while prefix is not None:
            if state.get("stop"):
                raise ScheduleAborted()
            execution = state["execution"] = _Execution(_replayer(prefix, strict=False), max_steps, clock,
                                                        stop=state, invariant=invariant)
            result = execution.run(program)
            count += 1
            if test(result.outcome):
                return list(result.schedule)
            if count >= max_schedules:
                return None
            prefix = _next_prefix(result.choices, bound, pruned)
        if not pruned:
            return None  # this bound already covered every schedule
        bound += 1
    return None
