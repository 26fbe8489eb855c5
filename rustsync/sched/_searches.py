"""The searches of the model explorer: the count of every schedule, examples, checks, the simplest schedule."""

from __future__ import annotations

import math
import random
import time
from collections import Counter

from ..errors import ScheduleAborted
from ._engine import (
    Deadlock,
    ScheduleError,
    StepLimit,
    StopRun,
    _Execution,
    _preempts,
    _replayer,
    _try_order,
    freeze,
)
from ._model import (
    _NO_OBSERVATION,
    ENDED,
    EXAMPLE_STATES,
    LOCKS,
    STEPS,
    TIMED,
    UNLOCKS,
    Asymmetric,
    Budget,
    Inconsistent,
    LongSchedule,
    Model,
    Restart,
    Unknown,
    _applied,
    observe,
)
from ._recorder import Recorder


class Explorer:
    """Explores one program with a model: counts, examples, checks, the simplest schedule to an outcome."""

    def __init__(self, program, *, bound, max_steps, max_runs, max_states, clock, state, seed=0,
                 stop_at_step_limit=False, symmetry=True):
        self.program = program
        self.symmetry = symmetry
        self.symmetric = False
        self.counting_alike = False
        self.first_links = {}
        self.first_schedule = None  # the default schedule, run first: its steps per thread size the search
        self.stop_at_step_limit = stop_at_step_limit
        self.bound = bound
        self.max_steps = max_steps
        self.max_runs = max_runs
        self.max_states = max_states
        self.clock = clock
        self.state = state
        self.model = Model(max_steps)
        self.runs = 0
        self.states = 0
        self.rng = random.Random(seed)

    # -- running the program ---------------------------------------------------------------

    def run(self, schedule, expected=None):
        """A real run following `schedule`, recorded into the model and checked against it.

        Past the schedule, the run takes the steps whose pieces are still unknown when it
        can (the default choice otherwise), so that each run teaches the model as much as it can.
        """
        if self.state.get("stop"):
            raise ScheduleAborted()
        if self.runs >= self.max_runs:
            raise Budget(f"{self.runs} runs")
        rec = Recorder(self.model, expected)
        long = LONG if self.stop_at_step_limit else None
        chooser = _learning(schedule, rec, self.bound, long) if expected is None else _replayer(schedule, strict=False)
        execution = _Execution(chooser, self.max_steps, self.clock, recorder=rec, stop=self.state)
        self.state["execution"] = execution
        self.runs += 1
        try:
            result = execution.run(self.program)
            if self.first_schedule is None and result is not None:
                self.first_schedule = list(result.schedule)
        except ScheduleError as err:
            rec.fail(f"a schedule the model predicted could not be followed ({err})")
            result = None
        if rec.split_needed:
            self.model = Model(self.max_steps, split=True)
            raise Restart()
        if rec.broken:
            raise Inconsistent(rec.broken)
        if self.stop_at_step_limit and (rec.long or result is not None and isinstance(result.outcome, StepLimit)):
            raise LongSchedule()
        return result

    def need(self, compute, path):
        """compute(), learning the pieces it needs by runs along path() until it can."""
        while True:
            try:
                return compute()
            except Unknown as missing:
                self.run(path())
                if self.model.piece[missing.node] is None and not self.model.translate(missing.node):
                    if self.counting_alike:  # a thread alike moved where only another has been
                        raise Asymmetric("a point of a thread alike was learned only for another") from None
                    raise Inconsistent("a run along the model's schedule did not reach the point it "
                                       "needed") from None

    def too_large(self):
        """What `explore` says when its budget stopped it: how large the search is, and the ways out."""
        size = ""
        if self.first_schedule:
            steps = Counter(self.first_schedule).values()
            size = f"about {_multinomial(steps):.1e} interleavings (the first schedule's steps per thread); "
        return (f"stopped after {self.states:,} states and {self.runs} runs of the program: {size}"
                "explore fewer threads or increments, or bound the preemptions (`preemption_bound=2`), "
                "or raise `max_states`")

    def tick(self):
        self.states += 1
        if not self.states & 1023:
            self.heartbeat()

    def heartbeat(self):
        """Tell the watchdog the exploration is alive; stop at its word or at the budget."""
        self.clock[0] = time.monotonic()
        if self.state.get("stop"):
            raise ScheduleAborted()
        if self.states > self.max_states:
            raise Budget(f"{self.states} states")

    def states_along(self, schedule):
        """The model's states after each step of `schedule` (for checking a run against them)."""
        model = self.model
        state = model.initial()
        out = [state]
        for tid in schedule:
            _, choices, timed, alone = model.terminal(state, len(out) - 1)
            if tid not in choices:
                break
            state, _ = model.resume(state, tid, "timeout" if timed else "step", alone)
            out.append(state)
        return out

    def _step(self, state, tid, how, alone, path):
        model = self.model
        try:
            return model.resume(state, tid, how, alone)
        except Unknown:
            return self.need(lambda: model.resume(state, tid, how, alone), path)

    # -- counting --------------------------------------------------------------------------

    def count(self):
        """Every schedule, counted by outcome, depth by depth. (outcomes, complete).

        Threads alike (spawned with equal closures and equal captured values) are counted
        once for each way they can be arranged, with its multiplicity (`Model.canonical`),
        when nothing in the program can tell which of them is which: the thread that
        spawned them takes no step while some have ended and others not, they end with
        equal results, nobody looks at them without joining, no deadlock or cut schedule.
        Each of these is checked on every state counted; where one fails, the states are
        counted again without symmetry (`symmetric` says which way the counts were made).
        """
        self.symmetric = False
        self.first_links = {}
        if self.symmetry and self.bound is None:
            self.counting_alike = True
            try:
                found = self._count(True)
                if self.model.asymmetric is None:
                    self.symmetric = True
                    return found
            except Asymmetric as why:
                self.model.asymmetric = str(why)
            finally:
                self.counting_alike = False
            self.first_links = {}
        return self._count(False)

    def _count(self, sym):
        """Every schedule, counted by outcome, depth by depth; with `sym`, threads alike counted as one.

        The inner loop does inline what `Model.terminal` and `Model.resume` do for the
        usual state (threads that can step, no timed join) and the usual step (a piece
        seen before that ends in a pause, or ends its thread with nobody waiting to join
        it); anything else goes through them.
        """
        model, bound = self.model, self.bound
        root = self.need(model.initial, list)
        perm = None
        if sym:
            root, perm = model.canonical(root)
        first = root if bound is None else (root, None, False, 0)
        # state -> [schedules reaching it, how one of them did: (tid, link) or (tid, link, perm)]
        layer = {first: [1, None if perm is None else (None, None, perm)]}
        outcomes = Counter()
        depth = 0
        terminal, resume, fast, finish = model.terminal, model.resume, model.fast, model.finish
        canonical, merged = model.canonical, model.merged
        ops, refs, code, waits_on, origin_of = model.op, model.ref, model.code, model.waits_on, model.origin_of
        no_obs = _NO_OBSERVATION
        max_steps = self.max_steps
        states = self.states
        try:
            while layer:
                following = {}
                get = following.get
                for key, (count, link) in layer.items():
                    states += 1
                    if not states & 1023:
                        self.states = states
                        self.heartbeat()
                    if bound is None:
                        state = key
                    else:
                        state, prev, yielded, spent = key
                    threads, contents = state
                    # the threads that can take a step (Model.terminal, inline)
                    choices = []
                    live = 0
                    plain = True
                    unlocking = False
                    tid = 0
                    for n in threads:
                        c = code[n]
                        if c == STEPS:
                            choices.append(tid)
                            live += 1
                        elif c == UNLOCKS:  # a watched release: Model.resume's general way
                            choices.append(tid)
                            live += 1
                            unlocking = True
                        elif c != ENDED:
                            live += 1
                            if c == LOCKS:
                                if contents[refs[n]][0] is None:
                                    choices.append(tid)
                            elif c == TIMED:
                                plain = False
                        tid += 1
                    if not choices or not plain or depth >= max_steps:
                        outcome, choices, timed, alone = terminal(state, depth)
                        if outcome is not None:
                            if self.stop_at_step_limit and isinstance(outcome, StepLimit):
                                raise LongSchedule()
                            if sym and isinstance(outcome, (Deadlock, StepLimit)):
                                raise Asymmetric("an outcome names threads by number")
                            frozen = freeze(outcome)
                            if frozen not in outcomes:
                                self.first_links[frozen] = link
                            outcomes[frozen] += count
                            continue
                    else:
                        timed, alone = False, live == 1
                    quick = not (timed or alone or unlocking)
                    how = "timeout" if timed else "step"
                    mult = None
                    if sym and len(choices) > 1:
                        choices, mult = self._alike_choices(threads, choices)
                    for tid in choices:
                        if bound is not None:
                            cost = spent + _preempts(choices, tid, prev, yielded)
                            if cost > bound:
                                continue
                        hit = None
                        if quick:  # the usual step (Model.resume, inline) for a piece seen before
                            node = threads[tid]
                            op = ops[node]
                            if op in no_obs:
                                obs = None
                            else:
                                ref = refs[node]
                                obs = contents[ref] if ref is not None and ref < len(contents) else ()
                                if op == "lock" or op == "try_lock":
                                    obs = observe(op, obs)
                            hit = fast.get((node, obs))
                        try:
                            if hit is None:
                                child, slept = resume(state, tid, how, alone)
                            else:
                                next_node, actions, ends, index, value = hit
                                slept = op == "sleep"
                                if index >= 0 and index < len(contents):  # one write: the usual piece
                                    written = contents[:index] + (value,) + contents[index + 1:]
                                elif actions:
                                    written = _applied(contents, actions)
                                else:
                                    written = contents
                                moved = threads[:tid] + (next_node,) + threads[tid + 1:]
                                child = (moved, written)
                                if ends:  # the thread ended: does anyone wait to join it?
                                    origin = origin_of[next_node]
                                    for n in moved:
                                        if waits_on[n] == origin:
                                            child, slept = finish(threads, contents, tid, next_node, actions, slept)
                                            break
                                    if not sym:
                                        child = merged(child)
                                elif not sym:
                                    hit = True
                        except Unknown:
                            child, slept = self._step(state, tid, how, alone,
                                                      lambda tid=tid, link=link: _path((tid, link)))
                            hit = None
                        perm = None
                        if sym:
                            child, perm = canonical(child, hit is None or ends)
                        elif hit is None:
                            child = merged(child)
                        child_key = child if bound is None else (child, tid, slept, cost)
                        known = get(child_key)
                        times = count if mult is None else count * mult[tid]
                        if known is None:
                            following[child_key] = [times, (tid, link) if perm is None else (tid, link, perm)]
                        else:
                            known[0] += times
                layer = following
                depth += 1
                if sym and model.asymmetric is not None:
                    raise Asymmetric(model.asymmetric)
        except Budget:
            return outcomes, False
        finally:
            self.states = max(self.states, states)
        return outcomes, True

    def _alike_choices(self, threads, choices):
        """The choices that lead to different states up to threads alike, each with how many choices it stands for.

        Two threads alike at the same point (and that no join waits for) lead, stepping,
        to states that are the same but for swapping them: one is taken, counted twice.
        """
        model = self.model
        sym_key, waits_on = model.sym_key, model.waits_on
        refs = None
        for n in threads:
            if waits_on[n] >= 0:
                if refs is None:
                    refs = set()
                refs.add(waits_on[n])
        reps = {}
        mult = {}
        kept = []
        for tid in choices:
            n = threads[tid]
            sk = sym_key.get(n, False)
            if sk is False:
                sk = model._sym_key(n)
            if sk is not None and (refs is None or sk[2] not in refs):
                r = reps.get((sk[0], sk[1]))
                if r is not None:
                    mult[r] += 1
                    continue
                reps[(sk[0], sk[1])] = tid
            kept.append(tid)
            mult[tid] = 1
        return kept, mult

    # -- examples ----------------------------------------------------------------------------

    def examples(self, wanted, budget=EXAMPLE_STATES):
        """The first schedule reaching each outcome, in the order `explore(mode="every")` runs them.

        Depth first, the default choice first; a state already visited is not visited again
        (its outcomes were all reached, earlier, from its first visit). Past `budget` states
        (a program too large to walk state by state), an outcome not found yet gets the
        schedule by which `count` first reached it (one of the shortest): a real schedule
        too, which replays to it.
        """
        found = self._examples_depth_first(wanted, budget)
        for outcome, link in self.first_links.items():
            if outcome not in found:
                found[outcome] = _path(link)
        return found

    def _examples_depth_first(self, wanted, budget):
        model, bound = self.model, self.bound
        found = {}
        visited = set()
        path = []
        stack = []

        def push(state, prev, yielded, spent):
            key = state if bound is None else (state, prev, yielded, spent)
            if key in visited:
                return False
            visited.add(key)
            self.tick()
            if len(visited) > budget:
                raise Budget(f"{budget} states looking for examples")
            outcome, choices, timed, alone = model.terminal(state, len(path))
            if outcome is not None:
                found.setdefault(freeze(outcome), list(path))
                return False
            order = _try_order(choices, prev, yielded)
            stack.append([state, prev, yielded, spent, choices, order, 0, "timeout" if timed else "step", alone])
            return True

        push(self.need(model.initial, list), None, False, 0)
        try:
            while stack and len(found) < wanted:
                frame = stack[-1]
                state, prev, yielded, spent, choices, order, i, how, alone = frame
                if i == len(order):
                    stack.pop()
                    if path:
                        path.pop()
                    continue
                frame[6] = i + 1
                tid = order[i]
                cost = spent
                if bound is not None:
                    cost += _preempts(choices, tid, prev, yielded)
                    if cost > bound:
                        continue
                child, slept = self._step(state, tid, how, alone, lambda: path + [tid])
                path.append(tid)
                if not push(child, tid, slept, cost):
                    path.pop()
        except Budget:
            pass
        return found

    # -- checks --------------------------------------------------------------------------------

    def check(self, schedules, random_walks):
        """Run each schedule for real, checked step by step against the model; then a few random ones."""
        for schedule in schedules:
            self.run(schedule, expected=self.states_along(schedule))
        for _ in range(random_walks):
            schedule = self.random_schedule()
            self.run(schedule, expected=self.states_along(schedule))

    def random_schedule(self):
        model, bound = self.model, self.bound
        state = model.initial()
        prev, yielded, spent = None, False, 0
        schedule = []
        while True:
            _, choices, timed, alone = model.terminal(state, len(schedule))
            if not choices:
                return schedule
            allowed = choices
            if bound is not None:
                allowed = [t for t in choices if spent + _preempts(choices, t, prev, yielded) <= bound]
            tid = allowed[self.rng.randrange(len(allowed))]
            spent += _preempts(choices, tid, prev, yielded)
            state, yielded = self._step(state, tid, "timeout" if timed else "step", alone,
                                        lambda: schedule + [tid])
            schedule.append(tid)
            prev = tid

    # -- the simplest schedule -----------------------------------------------------------------

    def simplest(self, predicate, max_preemptions=None):
        """The first schedule whose outcome satisfies predicate, at the fewest preemptions, as CHESS finds it.

        (schedule, preemptions, outcome), or None when no schedule does. The bound is
        deepened one preemption at a time; under each bound the states are searched depth
        first, the default choice first, and the search stops at the first schedule whose
        outcome satisfies predicate: the first such schedule `explore(mode="every")` would
        run with that bound. A state already searched with as few preemptions spent is
        not searched again (no schedule through it satisfies predicate). When a bound cut
        nothing off, every schedule has been searched.
        """
        if self.symmetry:
            self.counting_alike = True
            try:
                return self._simplest(predicate, max_preemptions, True)
            except Asymmetric as why:
                self.model.asymmetric = str(why)
            finally:
                self.counting_alike = False
        return self._simplest(predicate, max_preemptions, False)

    def _simplest(self, predicate, max_preemptions, alike):
        """`simplest`; with `alike`, a state is not searched again after one equal to it but for threads alike."""
        bound = 0
        while max_preemptions is None or bound <= max_preemptions:
            cut = [False]
            found = self._first_within(bound, predicate, cut, alike)
            if alike and self.model.asymmetric is not None:
                raise Asymmetric(self.model.asymmetric)
            if found is not None:
                return found[0], bound, found[1]
            if not cut[0]:
                return None
            bound += 1
        return None

    def _first_within(self, bound, predicate, cut, alike=False):
        model = self.model
        visited = {}
        path = []
        stack = []

        def push(state, prev, yielded, spent):
            if alike:  # the same state but for threads alike was searched: its schedules map one to one
                same, perm = model.canonical(state)
                key = (same, prev if perm is None or prev is None else perm.index(prev), yielded)
            else:
                key = (state, prev, yielded)
            seen = visited.get(key)
            if seen is not None and seen <= spent:
                return False
            visited[key] = spent
            self.tick()
            outcome, choices, timed, alone = model.terminal(state, len(path))
            if outcome is not None:
                if alike and isinstance(outcome, (Deadlock, StepLimit)):
                    raise Asymmetric("an outcome names threads by number")
                if predicate(outcome):
                    raise _Found(list(path), outcome)
                return False
            order = _try_order(choices, prev, yielded)
            stack.append([state, yielded, spent, choices, order, 0, "timeout" if timed else "step", alone, prev])
            return True

        try:
            push(self.need(model.initial, list), None, False, 0)
            while stack:
                frame = stack[-1]
                state, yielded, spent, choices, order, i, how, alone, prev = frame
                if i == len(order):
                    stack.pop()
                    if path:
                        path.pop()
                    continue
                frame[5] = i + 1
                tid = order[i]
                cost = spent + _preempts(choices, tid, prev, yielded)
                if cost > bound:
                    cut[0] = True
                    continue
                child, slept = self._step(state, tid, how, alone, lambda: path + [tid])
                path.append(tid)
                if not push(model.merged(child), tid, slept, cost):
                    path.pop()
        except _Found as found:
            return found.schedule, found.outcome
        return None


class _Found(Exception):
    def __init__(self, schedule, outcome):
        super().__init__()
        self.schedule = schedule
        self.outcome = outcome


LONG = 1000  # steps past its schedule after which a learning run is taken for one that may never end


def _learning(schedule, rec, bound, long=None):
    """Follow `schedule`; then take a step whose piece the model does not know yet, while there is one.

    Past the schedule the run stays within the preemption bound, and ends as soon as no
    thread that can run has an unknown next piece: its later steps would teach nothing.
    With `long`, a run that goes on for that many steps past the schedule ends too, and
    says so (`rec.long`): a thread may spin forever.
    """
    follow = _replayer(schedule, strict=False)
    spent = [0, 0]  # preemptions so far, over the first spent[1] choices

    def choose(i, enabled, prev, execution):
        if i < len(schedule):
            return follow(i, enabled, prev, execution)
        if long is not None and i - len(schedule) >= long:
            rec.long = True
            raise StopRun()
        choices = execution.choices
        while spent[1] < len(choices):
            spent[0] += _preempts(*choices[spent[1]])
            spent[1] += 1
        yielded = execution.yielded
        allowed = enabled
        if bound is not None:
            allowed = [t for t in enabled if spent[0] + _preempts(enabled, t, prev, yielded) <= bound]
        tid = rec.unknown(allowed, prev, yielded) if allowed else None
        if tid is None:
            raise StopRun()
        return tid
    return choose


def _multinomial(steps):
    total, out = 0, 1
    for k in steps:
        total += k
        out = out * math.comb(total, k)
    return float(out)


def _path(link):
    """The schedule a chain of links stands for, in the threads' real numbers.

    A link is (tid, previous link) or, where the state reached was a permutation of
    threads alike, (tid, previous link, perm): position i of that state plays the thread
    at position perm[i] of the state the step reached, so later tids are mapped back
    through every perm before them.
    """
    chain = []
    while link is not None:
        chain.append(link)
        link = link[1]
    chain.reverse()
    out = []
    real = None  # position in the counted state -> position in the real run
    for item in chain:
        tid = item[0]
        if tid is not None:
            out.append(real[tid] if real is not None and tid < len(real) else tid)
        if len(item) > 2:
            real = [real[q] if real is not None and q < len(real) else q for q in item[2]]
    return out
