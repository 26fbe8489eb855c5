"""Checks that run a student's program under the scheduler: one schedule, every schedule, a given schedule."""

import re

from ... import sched
from ...sched import Deadlock, Panic, StepLimit, Violation
from ..plain import NotPlain, decode, describe, encode, plain, tagged
from . import records
from .answers import _with_hint
from .deadline import (
    EXPLORE_TIMEOUT,
    NOT_WRITTEN,
    _error_message,
    _headline,
    _too_slow,
    _undefined,
    _with_deadline,
)
from .records import _check, _exact_in, _fail, _key, _shown

MAX_SCHEDULES = 20_000
PREEMPTION_BOUND = 3  # one preemption loses an update, two deadlock two locks; 3 leaves a margin
CHECK_STEPS = 200  # a schedule of check_always still running after this many steps is cut (see check_always)


# --- the scheduler, under a deadline -------------------------------------------------------


def _scheduled(work, who, timeout):
    __tracebackhide__ = True
    result = _with_deadline(work, timeout)
    if result.timed_out:
        _fail(_too_slow(who, timeout, result.output))
    if result.error is not None:
        _fail(_error_message(who, result.error, result.output))
    return result.value


def run_once(program, *, seed=0, who="your code", timeout=EXPLORE_TIMEOUT, max_steps=None):
    """`sched.run(program, seed=seed)` under a deadline: one schedule, always the same one.

    With `max_steps`, a run still going after that many steps fails as one that never ends.
    """
    __tracebackhide__ = True
    limit = {} if max_steps is None else {"max_steps": max_steps}
    return _scheduled(lambda: sched.run(program, seed=seed, **limit), who, timeout)


def explore_program(program, *, preemption_bound=None, who="your code", timeout=EXPLORE_TIMEOUT, max_steps=None,
                    invariant=None):
    """`sched.explore(program)` under a deadline, at most `MAX_SCHEDULES` schedules.

    With `max_steps`, every schedule is cut there and counted (`stop_at_step_limit=False`).
    """
    __tracebackhide__ = True
    limit = {} if max_steps is None else {"max_steps": max_steps, "stop_at_step_limit": False}
    return _scheduled(lambda: sched.explore(program, preemption_bound=preemption_bound, max_schedules=MAX_SCHEDULES,
                                            invariant=invariant, **limit), who, timeout)


def _outcome_problem(outcome, who):
    """A message when an outcome is a deadlock or a panic, else None."""
    if isinstance(outcome, Deadlock):
        return f"{who} can deadlock: {str(outcome).removeprefix('deadlock: ')}"
    if isinstance(outcome, Panic):
        if "NotImplementedError" in outcome.error:
            return f"{who} is not written yet: {NOT_WRITTEN}"
        missing = re.match(r"NameError: (?:name '(\w+)' is not defined|(`(\w+)` is not defined: the grader .*))",
                           outcome.error)
        if missing and missing.group(2):
            return missing.group(2)
        if missing and f"`{missing.group(1)}`" in who:
            return _undefined(missing.group(1))
        where = "" if outcome.thread == 0 else f" in thread {outcome.thread}"
        return f"{who} raised{where} {_headline(outcome.error)}"
    if isinstance(outcome, Violation):
        return f"under {who}, {outcome.message}"
    if isinstance(outcome, StepLimit):
        who_runs = ", ".join(str(t) for t in outcome.running)
        return (f"{who} did not finish: under the scheduler, thread(s) {who_runs} still ran after "
                f"{outcome.steps} steps, so a thread probably loops forever (waiting in a loop for "
                "something that never happens)")
    return None


def _trace(run, limit=24):
    lines = run.show().splitlines()
    if len(lines) > limit:
        lines = lines[:limit] + [f"... ({len(lines) - limit} more events)"]
    return "\n".join("    " + line for line in lines)


def _outcomes(exploration):
    """The exploration's outcomes as sorted [key, count] pairs (plain data)."""
    pairs = [[_key(o), n] for o, n in exploration.outcomes.items()]
    pairs.sort(key=lambda pair: repr(pair[0]))
    return pairs


def check_prediction(predicted, program, what, *, hint=""):
    """Fail unless `predicted` is exactly the set of outcomes `program` reaches over all schedules.

    A deadlock is written as the string "deadlock".
    """
    __tracebackhide__ = True
    facts = {"what": what, "hint": hint, "predicted": None, "problem": None, "reached": []}
    try:
        predicted = plain(predicted, f"your answer for {what}")
        if type(predicted) not in (set, frozenset):
            raise NotPlain(f"it is {type(predicted).__name__} {describe(predicted)}")
        facts["predicted"] = encode(predicted)
    except NotPlain as err:
        facts["problem"] = f"your answer for {what} must be a set like {{1, 2}}: {err}"
    if facts["problem"] is None:
        exploration = explore_program(program, who="the program")
        reached = {"deadlock" if isinstance(o, Deadlock) else o for o in exploration.outcomes}
        facts["reached"] = [encode(plain(o, "an outcome")) for o in sorted(reached, key=repr)]
    _check("prediction", facts)


def _decide_prediction(facts):
    what, hint = facts["what"], facts["hint"]
    if facts["problem"]:
        return False, str(facts["problem"])
    predicted = {tagged(v): v for v in decode(facts["predicted"])}
    reached = {tagged(decode(v)): decode(v) for v in facts["reached"]}
    extra = sorted((predicted[k] for k in predicted.keys() - reached.keys()), key=repr)
    missing = reached.keys() - predicted.keys()
    if extra:
        values = ", ".join(describe(v) for v in extra)
        return False, _with_hint(f"no schedule makes {what} {values}: remove it from your answer", hint)
    if missing:
        return False, _with_hint(f"your answer misses {len(missing)} value(s) that {what} takes under some "
                                 "schedule", hint)
    return True, ""


def _stepwise(problem, run, needs=""):
    """The problem, then the schedule (and how many preemptions it `needs`) and its trace."""
    if not run.trace:
        return problem
    told = f" (it {needs})" if needs else ""
    return f"{problem}\nwith the schedule {run.schedule}{told}, step by step:\n{_trace(run)}\n"


def _simplest(program, outcome, example, who, preemption_bound, invariant=None, max_steps=CHECK_STEPS):
    """The run to show for `outcome`: the simplest schedule that reaches it (the fewest
    preemptions, then the fewest steps), else `example` replayed. And the words for how
    many preemptions it needs ("" when unknown)."""
    __tracebackhide__ = True
    wanted = repr(_key(outcome))

    def reaches(o):
        return repr(_key(o)) == wanted

    found = _with_deadline(lambda: sched.minimal_schedule(program, reaches, max_preemptions=preemption_bound,
                                                          max_steps=max_steps, invariant=invariant),
                           EXPLORE_TIMEOUT)
    if not found.timed_out and found.error is None and found.value is not None and reaches(found.value.outcome):
        run = found.value
        return run, sched.needs(run.preemptions)
    return _scheduled(lambda: sched.replay(program, example, max_steps=max_steps, invariant=invariant), who,
                      EXPLORE_TIMEOUT), ""


def _ops_by_thread(run):
    ops = {}
    for event in run.trace:
        ops.setdefault(event.thread, set()).add(event.op)
    return {str(t): sorted(o) for t, o in sorted(ops.items())}


def check_always(program, expected, what, *, threads=None, uses=(), joins=False, who="your code",
                 preemption_bound=PREEMPTION_BOUND, invariant=None, max_steps=CHECK_STEPS, hint=""):
    """Fail unless every schedule of `program` ends with an outcome in `expected`.

    `invariant` (see `sched.explore`) is watched between steps: a schedule that breaks it
    fails the check with its message. Schedules are cut at `max_steps` steps. One still
    running there fails the check, unless the program ends when each thread runs until it
    waits or backs off (`replay(program, [])`): a retry loop can go on for as long as an
    unfair schedule lets it, and still be right.

    `threads`: the least number of threads the program must start, and `uses`: the
    kinds of steps each thread it starts must take (say `["lock"]`), so that a function
    that gets the number right without threads, or with threads that never lock, does
    not pass. Outcomes must equal one of `expected` exactly (`1` is not `True`). The
    message names a schedule that goes wrong and shows its trace.
    """
    __tracebackhide__ = True
    choices = [encode(plain(e, "an expected outcome")) for e in sorted(expected, key=repr)]
    facts = {"what": what, "who": who, "hint": hint, "expected": choices, "threads": threads,
             "uses": [op if isinstance(op, str) else sorted(op) for op in uses], "joins": bool(joins),
             "first": None, "outcomes": [], "bad": None}
    if threads is not None or uses or joins:
        run = run_once(program, who=who, max_steps=max_steps)
        problem = _outcome_problem(run.outcome, who)
        if problem is not None and isinstance(run.outcome, Deadlock):
            problem = _stepwise(problem, run)
        facts["first"] = {"problem": problem, "started": run.threads - 1, "ops": _ops_by_thread(run),
                          "unjoined": sorted(getattr(run, "unjoined", ()) or ())}
        ok, _ = _decide_first(facts)
        if not ok:
            _check("always", facts)
    exploration = explore_program(program, preemption_bound=preemption_bound, who=who, max_steps=max_steps,
                                  invariant=invariant)
    facts["outcomes"] = _outcomes(exploration)
    if any(isinstance(o, StepLimit) for o in exploration.outcomes):
        # A retry loop (`try_lock` and back off) can go on for as long as an unfair schedule lets it: that
        # is no failure when the schedule that lets each thread run until it waits or backs off ends.
        fair = _scheduled(lambda: sched.replay(program, [], max_steps=max_steps), who, EXPLORE_TIMEOUT)
        facts["fair_ends"] = not isinstance(fair.outcome, StepLimit)
    keys = {repr(_key(o)): o for o in exploration.outcomes}
    for key, _count in facts["outcomes"]:
        outcome = keys[repr(key)]
        problem = _outcome_problem(outcome, who)
        if problem is None and _exact_in(key, choices) or (key[0] == "StepLimit" and facts.get("fair_ends")):
            continue
        bad, needs = _simplest(program, outcome, exploration.examples[outcome], who, preemption_bound, invariant,
                               max_steps)
        if problem is None:
            want = " or ".join(_shown(c) for c in choices)
            problem = _stepwise(f"{what} can be {_shown(key)} instead of {want}", bad, needs)
        elif isinstance(outcome, (Deadlock, StepLimit, Violation)):
            problem = _stepwise(problem, bad, needs)
        facts["bad"] = {"key": key, "problem": problem}
        break
    _check("always", facts)


def _decide_first(facts):
    first, who, hint = facts["first"], facts["who"], facts["hint"]
    if first is None:
        return True, ""
    if first["problem"]:
        return False, _with_hint(first["problem"], hint)
    threads = facts["threads"]
    if threads is not None and first["started"] < threads:
        return False, _with_hint(f"{who} started {first['started']} thread(s); it must start {threads} "
                                 "(one `spawn` per thread, then `join` each handle)", hint)
    workers = {str(t): set(first["ops"].get(str(t), [])) for t in range(1, int(first["started"]) + 1)}
    for op in facts["uses"]:
        choices = {op} if isinstance(op, str) else set(op)  # ["lock", "try_lock"]: either one will do
        named = " or ".join(f"`{o}`" for o in sorted(choices))
        if not workers and not choices & set(first["ops"].get("0", [])):
            return False, _with_hint(f"{who} never calls {named}: the shared value must go through it", hint)
        idle = sorted((t for t, ops in workers.items() if not choices & ops), key=int)
        if idle and len(idle) == len(workers):
            return False, _with_hint(f"{who} never calls {named}: the shared value must go through it", hint)
        if idle:
            return False, _with_hint(f"thread {idle[0]} of {who} never calls {named}: every thread must change "
                                     "the shared value through it", hint)
    unjoined = first.get("unjoined") or []
    if facts.get("joins") and unjoined:
        return False, _with_hint(f"{who} never joins thread {unjoined[0]}: `join` every handle `spawn` "
                                 "returns before you read the result", hint)
    return True, ""


def _decide_always(facts):
    ok, message = _decide_first(facts)
    if not ok:
        return ok, message
    choices, what, hint = facts["expected"], facts["what"], facts["hint"]
    bad = [key for key, _ in facts["outcomes"] if not _exact_in(key, choices)
           and not (key[0] == "StepLimit" and facts.get("fair_ends") is True)]
    if not facts["outcomes"]:
        return False, "the program was not explored"
    if not bad:
        return True, ""
    reported = facts["bad"]
    if reported is not None and any(repr(reported["key"]) == repr(key) for key in bad):
        return False, _with_hint(str(reported["problem"]), hint)
    want = " or ".join(_shown(c) for c in choices)
    return False, _with_hint(f"{what} can be {_shown(bad[0])} instead of {want}", hint)


def _valid_schedule(schedule, name="your schedule"):
    """The schedule as a list of ints, or None when it is not one; and a message saying why not."""
    if type(schedule) not in (list, tuple) or not all(type(t) is int for t in schedule):
        return None, f"{name} must be a list of thread numbers like [1, 2, 1], not {describe(schedule)}"
    if len(schedule) > 500:
        return None, f"{name} has {len(schedule)} steps; a few dozen are enough"
    return list(schedule), None


def _replayed(program, schedule):
    __tracebackhide__ = True
    result = _with_deadline(lambda: sched.replay(program, schedule), EXPLORE_TIMEOUT)
    if result.timed_out:
        return None, _too_slow("the program", EXPLORE_TIMEOUT, result.output)
    if result.error is not None:
        text = _error_message("the program", result.error, result.output)
        marker = "could not be run under the scheduler: "
        if marker in text:
            text = "your schedule cannot be followed: " + text.split(marker, 1)[1]
        return None, text
    return result.value, None


def check_schedule(program, schedule, expected, what, *, hint=""):
    """Fail unless replaying `schedule` (a list of thread ids) makes `program` end with `expected` exactly."""
    __tracebackhide__ = True
    facts = {"what": what, "hint": hint, "expected": encode(plain(expected, "the expected outcome")),
             "schedule": None, "problem": None, "outcome": None, "trace": ""}
    steps, problem = _valid_schedule(schedule)
    if problem is None:
        facts["schedule"] = steps
        run, problem = _replayed(program, steps)
        if run is not None:
            facts["outcome"], facts["trace"] = _key(run.outcome), _trace(run)
    facts["problem"] = problem
    _check("schedule", facts)


def _decide_schedule(facts):
    if facts["problem"]:
        return False, str(facts["problem"])
    key, expected = facts["outcome"], facts["expected"]
    if _exact_in(key, [expected]):
        return True, ""
    got = _shown(key)
    return False, _with_hint(f"with your schedule {facts['schedule']}, {facts['what']} is {got}, not "
                             f"{_shown(expected)}; step by step:\n{facts['trace']}\n", facts["hint"])


def check_deadlock_schedule(program, schedule, *, hint=""):
    """Fail unless replaying `schedule` leaves every thread of `program` waiting for another."""
    __tracebackhide__ = True
    facts = {"hint": hint, "schedule": None, "problem": None, "deadlock": False, "outcome": None, "trace": ""}
    steps, problem = _valid_schedule(schedule)
    if problem is None:
        facts["schedule"] = steps
        run, problem = _replayed(program, steps)
        if run is not None:
            facts["deadlock"] = run.deadlock is not None
            facts["outcome"], facts["trace"] = _key(run.outcome), _trace(run)
    facts["problem"] = problem
    _check("deadlock_schedule", facts)


def _decide_deadlock_schedule(facts):
    if facts["problem"]:
        return False, str(facts["problem"])
    if facts["deadlock"] is True:
        return True, ""
    return False, _with_hint(f"with your schedule {facts['schedule']} every thread finished (the outcome is "
                             f"{_shown(facts['outcome'])}): no deadlock; step by step:\n{facts['trace']}\n",
                             facts["hint"])


def check_ops(program, *, uses=(), avoids=(), who="your code", hint=""):
    """Fail unless one run of `program` takes steps of each kind in `uses` and none in `avoids`."""
    __tracebackhide__ = True
    run = run_once(program, who=who)
    facts = {"who": who, "hint": hint, "uses": list(uses), "avoids": list(avoids),
             "problem": _outcome_problem(run.outcome, who), "ops": sorted({event.op for event in run.trace})}
    _check("ops", facts)


def _decide_ops(facts):
    who, hint = facts["who"], facts["hint"]
    if facts["problem"]:
        return False, _with_hint(str(facts["problem"]), hint)
    ops = set(facts["ops"])
    for op in facts["uses"]:
        if op not in ops:
            return False, _with_hint(f"{who} never calls `{op}`", hint)
    for op in facts["avoids"]:
        if op in ops:
            return False, _with_hint(f"{who} calls `{op}`, which this part asks you to do without", hint)
    return True, ""


records.DECIDERS.update(prediction=_decide_prediction, always=_decide_always, schedule=_decide_schedule,
                        deadlock_schedule=_decide_deadlock_schedule, ops=_decide_ops)
