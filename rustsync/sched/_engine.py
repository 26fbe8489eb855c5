"""The machinery under `rustsync.sched`: the racy cell, threads simulated on greenlets, one execution, choosing.

Every execution, whatever explores it, goes through `_Execution.run`: the explorers
differ only in who chooses the next thread (`chooser`) and in whether a recorder
watches the threads (`recorder`, the model explorer's, in `_recorder`). What a run
gives is in `_results`, the watchdog in `_watchdog`; both are named here too.
"""

from __future__ import annotations

import random
import time
import weakref

import greenlet

from .. import _sim
from ..errors import DeadlockError, JoinTimeout, PoisonError, ScheduleAborted, ThreadPanicked
from ..ownership import bind_at_spawn
from ._results import (  # noqa: F401 (re-exported: the grader lists the course's classes from here)
    Deadlock,
    Event,
    Exploration,
    FrozenDict,
    Panic,
    Run,
    ScheduleError,
    StepLimit,
    StopRun,
    StuckThread,
    Unhashable,
    Violation,
    freeze,
    interleavings,
)
from ._watchdog import GRACE, _collecting, _stop_thread, _watched  # noqa: F401

# --- the racy cell ----------------------------------------------------------------


class RacyCell:
    """A shared value with no protection: `get()` and `set()` are separate steps.

    `cell.set(cell.get() + 1)` in two threads is the lost update of the chapter:
    another thread can write between this thread's read and its write.
    """

    def __init__(self, value=0, *, name="counter"):
        self._value = value
        self.name = name

    def get(self):
        sim = _sim.current()
        if sim is None:
            return self._value
        sim.point("read", self)
        value = self._value
        sim.done(value)
        return value

    def set(self, value):
        sim = _sim.current()
        if sim is None:
            self._value = value
            return
        sim.point("write", self)
        self._value = value
        sim.done(value)

    def peek(self):
        """The value, read without taking a step (for checks after a run)."""
        sim = _sim.current()
        if sim is not None and sim.execution.recorder is not None:
            sim.execution.recorder.observe(sim, "peek", self)
        return self._value

    def __repr__(self):
        return f"RacyCell({self._value!r})"


# --- simulated threads ----------------------------------------------------------------

NEW, RUNNING, PAUSED, FINISHED = "new", "running", "paused", "finished"


class SimThread:
    """A thread under the scheduler; the primitives call its methods at each step.

    Each simulated thread is a greenlet: switching between them costs about a
    microsecond, where waking an OS thread costs tens, and only the scheduler decides
    who runs.
    """

    def __init__(self, execution, tid, name, func, given_name=None):
        self.execution = execution
        self.tid = tid
        self.name = name
        self.given_name = given_name
        self.state = NEW
        self.pending = None  # (op, object name) at a pause
        self.pending_obj = None
        self.blocked_by = None  # () -> holder or None, for blocking ops
        self.invisible = False  # a pause no other thread can observe (join)
        self.timed = False  # paused in join(timeout=...): gives up when every thread is blocked
        self.timed_out = False
        self.slept = False  # its last step was `sleep`: it lets the others go first
        self.advanced = False  # resumed by the scheduler without a step (an unlock nobody watches any more)
        self.joined = False  # a join() of this thread has returned (or raised its panic)
        self.held = []  # weak references to the guards it holds: a guard nobody keeps is dropped at once
        self.result = None
        self.error = None
        self.glet = greenlet.greenlet(lambda: self.main(func))
        self.resumer = None
        # kept by the model explorer's recorder: where this thread is in its life
        self.origin = None
        self.node = None
        self.actions = None
        self.written = None
        self.seq = 0
        self.spawned = 0
        self.fin = None

    # -- called by the primitives, on this thread ------------------------------------

    def point(self, op, obj, blocked_by=None, invisible=False):
        """Pause before an operation until the scheduler chooses this thread."""
        execution = self.execution
        if execution.aborting:
            raise ScheduleAborted()
        rec = execution.recorder
        if rec is not None:
            rec.pause(self, op, obj)
        self.pending = (op, getattr(obj, "name", "") if obj is not None else "")
        self.pending_obj = obj
        self.blocked_by = blocked_by
        self.invisible = invisible
        self.state = PAUSED
        self.resumer.switch()
        self.state = RUNNING
        self.pending = None
        self.pending_obj = None
        self.blocked_by = None
        self.slept = op == "sleep"
        advanced, self.advanced = self.advanced, False
        if execution.aborting:
            raise ScheduleAborted()
        if rec is not None:
            rec.resume(self, op, obj)
        step = not (invisible or advanced) or self.timed_out
        execution.record(self, op, obj, value="timeout" if self.timed_out else None, step=step)

    def done(self, value):
        """Attach the value read or written to the step just taken."""
        execution = self.execution
        execution.trace[-1].value = value
        if execution.recorder is not None:
            execution.recorder.done(self)

    def event(self, op, obj, value=None):
        """Record something inside a step (a guard's read or write, an unlock, an `Arc` count change)."""
        execution = self.execution
        execution.record(self, op, obj, value=value, step=False)
        if execution.recorder is not None:
            execution.recorder.event(self, op, obj)

    def lock(self, mutex, ignore_poison=False):
        if mutex._sim_holder is self:
            raise DeadlockError(mutex._double_lock_message())
        self.point("lock", mutex, blocked_by=lambda: mutex._sim_holder)
        return self._acquired(mutex, ignore_poison)

    def try_lock(self, mutex):
        from ..errors import WouldBlock

        self.execution.tried = True  # from now on, a release can be watched (see `unlock`)
        self.point("try_lock", mutex)
        if mutex._sim_holder is not None:
            self.done("WouldBlock")
            raise WouldBlock(f"another thread holds `{mutex.name}`")
        return self._acquired(mutex, False)

    def _acquired(self, mutex, ignore_poison):
        from ..mutex import MutexGuard

        mutex._sim_holder = self
        guard = MutexGuard(mutex, sim=self)
        self.held.append(weakref.ref(guard))
        if self.execution.recorder is not None:
            self.execution.recorder.wrote(self, mutex)
        if mutex._poisoned and not ignore_poison:
            raise PoisonError(mutex._poison_detail(), guard)
        return guard

    def unlock(self, mutex, pause=False):
        """Release `mutex`; with `pause`, first let a thread waiting in `try_lock` on it go, if there is one.

        A release is a step only when another thread can tell it happened late: a thread
        paused at a `try_lock` of this mutex finds it held until the release. Nobody else
        can (a `lock` waits for the release whenever it comes), so otherwise the release
        stays inside the step before it, and the counts of programs that only `lock` are
        those of the Book's interleavings. `pause` is False where switching threads is
        not allowed: a guard's finalizer, a thread's end, an unwind. A release from
        outside this execution (a finalizer run by the garbage collector elsewhere, or
        after the run) only sets the state.
        """
        execution = self.execution
        if not execution.inside():
            if mutex._sim_holder is self:
                self._released(mutex)
            return
        if pause and execution.running is self and not execution.aborting:
            if execution.tried and execution.watched(mutex, self):
                execution.unlocking += 1
                try:
                    self.point("unlock", mutex)  # records the release: a step, or an event if nobody watches now
                finally:
                    execution.unlocking -= 1
                    if mutex._sim_holder is self:
                        self._released(mutex)
                if execution.recorder is not None:
                    execution.recorder.wrote(self, mutex)
                return
            if execution.recorder is not None:
                execution.recorder.boundary(self, mutex)
        if mutex._sim_holder is self:
            self._released(mutex)
        execution.record(self, "unlock", mutex, step=False)
        if execution.recorder is not None:
            execution.recorder.wrote(self, mutex)

    def _released(self, mutex):
        mutex._sim_holder = None
        self.held = [r for r in self.held if (g := r()) is not None and g._mutex is not mutex]

    def holds(self):
        """The guards this thread holds, live ones only, oldest first."""
        return [g for g in (r() for r in self.held) if g is not None and g._live]

    def spawn(self, closure, name, moved=(), take=None):
        return self.execution.spawn(self, closure, name, moved, take)

    def wait_for(self, target, timed):
        """Pause (without a step) until `target` has finished; with `timed`, give up when every thread waits."""
        self.timed = timed
        try:
            self.point("join", target, blocked_by=lambda: None if target.state == FINISHED else target,
                       invisible=True)
        finally:
            self.timed = False
        if self.timed_out:
            self.timed_out = False
            return False
        return True

    # -- the thread's life ------------------------------------------------------------

    def main(self, func):
        execution = self.execution
        try:
            self.result = func()
        except ScheduleAborted:
            pass
        except BaseException as exc:  # a panic: keep it, poison what it holds
            if not execution.aborting:
                self.error = exc
                for guard in reversed(self.holds()):
                    guard._release(poison=True)
        finally:
            for guard in reversed(self.holds()):
                guard._live = False
                if guard._mutex._sim_holder is self:
                    guard._mutex._sim_holder = None
                if execution.recorder is not None:
                    execution.recorder.wrote(self, guard._mutex)
            self.held = []
            self.state = FINISHED
            execution.ended_any = True  # a join may go on now
            if execution.recorder is not None and not execution.aborting:
                execution.recorder.finished(self)


class SimJoinHandle:
    """`join()` for a simulated thread: waits (without a step) until it has finished.

    As the real `JoinHandle`: a second `join()` raises, and `join(timeout=...)` raises
    `JoinTimeout` when the thread has not finished in time. No time passes under the
    scheduler, so a timed join waits like `join()` while any thread can still take a
    step, and times out (as a step of its own) when every thread is blocked, which is
    when the real one would give up.
    """

    def __init__(self, thread):
        self._thread = thread
        self.name = thread.name
        self._joined = False

    def join(self, timeout=None):
        __tracebackhide__ = True
        if self._joined:
            raise RuntimeError(f"thread '{self.name}' was already joined: join() consumes its handle")
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))):
            raise TypeError(f"join(timeout=...) takes a number of seconds or None, got {timeout!r}")
        target = self._thread
        me = _sim.current()
        rec = me.execution.recorder if me is not None else None
        if rec is not None:
            rec.observe(me, "join", target)
        if target.state == FINISHED:
            if me is not None:  # no wait and no step, but the trace says where the thread joined
                me.execution.record(me, "join", target, step=False)
        elif not me.wait_for(target, timed=timeout is not None):
            raise JoinTimeout(
                f"thread '{self.name}' did not finish within {timeout} s: every thread is blocked, so it "
                "never would (a deadlock, waiting for a lock that is never released)")
        self._joined = True
        target.joined = True
        if target.error is not None:
            raise ThreadPanicked(self.name, target.error) from target.error
        return target.result

    def is_finished(self):
        me = _sim.current()
        if me is not None and me.execution.recorder is not None:
            me.execution.recorder.observe(me, "finished", self._thread)
        return self._thread.state == FINISHED

    def __repr__(self):
        state = "finished" if self._thread.state == FINISHED else "running"
        return f"JoinHandle {{ thread: '{self.name}', {state} }}"


# --- one execution ----------------------------------------------------------------


class _Execution:
    def __init__(self, chooser, max_steps, clock, recorder=None, stop=None, invariant=None):
        self.chooser = chooser
        self.max_steps = max_steps
        self.clock = clock  # [time of the last step], read by the watchdog
        self.recorder = recorder
        self.stop = stop  # the watchdog's flags: {"stop": True} once it gave up on this work
        self.invariant = invariant
        self.threads = []
        self.trace = []
        self.schedule = []
        self.choices = []
        self.aborting = bool(stop and stop.get("stop"))
        self.over = False  # the run has ended: a guard released now (by a finalizer) only sets its state
        self.ended_any = True  # a thread has ended since the joins were last looked at
        self.tried = False  # a thread has paused at a try_lock: releases can be watched from now on
        self.unlocking = 0  # threads paused at a release that another thread watches
        self.running = None
        self.yielded = False  # the thread that took the last step slept
        if recorder is not None:
            recorder.attach(self)

    def inside(self):
        """Whether the code running now is this execution's (a simulated thread, or its invariant)."""
        current = _sim.current()
        return current is not None and current.execution is self and not self.over

    def watched(self, mutex, releaser):
        """Whether a thread other than `releaser` is paused at a `try_lock` of `mutex`."""
        for t in self.threads:
            if t is not releaser and t.state == PAUSED and t.pending_obj is mutex and t.pending[0] == "try_lock":
                return True
        return False

    def record(self, thread, op, obj, value=None, step=True):
        if self.aborting:  # unwinding after a deadlock: the run is over, its trace too
            return
        name = getattr(obj, "name", "") if obj is not None else ""
        held = tuple(g._mutex.name for g in thread.holds()) if thread.held else ()
        self.trace.append(Event(len(self.schedule) - 1 if step else None, thread.tid, op, name, value, held))

    def _switch_into(self, thread):
        """Run `thread` until its next step or its end, then come back here."""
        here = greenlet.getcurrent()
        previous = _sim.current()
        thread.resumer = here
        thread.glet.parent = here
        self.running = thread
        _sim.set_current(thread)
        clock = self.clock
        clock[0] = time.monotonic()
        clock[2] = _collecting[0]
        clock[1] += 1  # the program's own code runs: the watchdog times it
        try:
            thread.glet.switch()
        finally:
            _sim.set_current(previous)
            self.running = previous
            clock[1] -= 1
            clock[0] = time.monotonic()
            clock[2] = _collecting[0]

    def spawn(self, parent, closure, name, moved, take=None):
        tid = len(self.threads)
        child = SimThread(self, tid, name or f"thread-{tid}", _dropping(bind_at_spawn(closure), moved), name)
        if take is not None:
            take(child)
        self.threads.append(child)
        if self.recorder is not None:
            self.recorder.spawn(parent, child, closure, moved)
        self._switch_into(child)  # the child runs until its first step
        if self.aborting:
            raise ScheduleAborted()
        return SimJoinHandle(child)

    def _unwind(self):
        """Stop every paused thread: each raises ScheduleAborted at its pause and ends."""
        self.aborting = True
        for t in self.threads:
            if t.state == PAUSED:
                self._switch_into(t)

    def run(self, program):
        try:
            return self._run(program)
        finally:
            self.over = True

    def _run(self, program):
        main = SimThread(self, 0, "main", program)
        self.threads.append(main)
        rec = self.recorder
        if rec is not None:
            rec.started(main)
        self._switch_into(main)
        if rec is not None:
            rec.initial_done()
        deadlock = limit = violation = None
        threads = self.threads
        while True:
            if self.aborting:
                self._unwind()
                raise ScheduleAborted()
            if self.ended_any or self.unlocking:  # a thread's end lets a join go on; a step, a release
                self.ended_any = False
                self._advance_invisible()
            if self.invariant is not None:
                violation = self._check_invariant()
                if violation is not None:
                    self._unwind()
                    break
            live = []
            enabled = []
            for t in threads:
                state = t.state
                if state != FINISHED:
                    live.append(t)
                    if state == PAUSED and (t.blocked_by is None or t.blocked_by() is None):
                        enabled.append(t.tid)
            if not live:
                break
            timed = False
            if not enabled:
                # every thread waits: a join with a timeout gives up now (its timeout has run out)
                enabled = [t.tid for t in live if t.state == PAUSED and t.timed]
                timed = bool(enabled)
                if not enabled:
                    deadlock = _deadlock(live)
                    self._unwind()
                    break
            if len(self.schedule) >= self.max_steps:
                limit = StepLimit(self.max_steps, tuple(t.tid for t in live))
                self._unwind()
                break
            prev = self.schedule[-1] if self.schedule else None
            self.yielded = prev is not None and threads[prev].slept
            if rec is not None:
                rec.choosing(enabled, timed)
            try:
                tid = self.chooser(len(self.schedule), enabled, prev, self)
            except ScheduleError:
                self._unwind()
                raise
            except StopRun:
                self._unwind()
                return None
            self.choices.append((tuple(enabled), tid, prev, self.yielded))
            self.schedule.append(tid)
            thread = threads[tid]
            if timed:
                thread.timed_out = True
            self._switch_into(thread)
            if rec is not None:
                rec.resumed(tid, "timeout" if timed else "step")
        panics = {t.tid: t.error for t in threads if t.error is not None}
        if violation is not None:
            outcome = violation
        elif main.error is not None:
            outcome = Panic(0, f"{type(main.error).__name__}: {main.error}")
        elif deadlock is not None:
            outcome = deadlock
        elif limit is not None:
            outcome = limit
        else:
            outcome = main.result
        unjoined = tuple(t.tid for t in threads[1:] if not t.joined)
        run = Run(outcome, self.schedule, self.trace, deadlock, panics, self.choices, len(threads), unjoined)
        if rec is not None:
            rec.ended(run)
        return run

    def _check_invariant(self):
        """Call the invariant between two steps, as an observer: a `Violation`, or None while it holds."""
        previous = _sim.current()
        _sim.set_current(_Observer(self))
        clock = self.clock
        clock[0] = time.monotonic()
        clock[2] = _collecting[0]
        clock[1] += 1
        try:
            verdict = self.invariant()
        except BaseException:
            _sim.set_current(previous)
            self._unwind()  # the invariant's own error: the run's threads end, the error goes to the caller
            raise
        finally:
            clock[1] -= 1
            clock[0] = time.monotonic()
            clock[2] = _collecting[0]
        _sim.set_current(previous)
        if verdict is None:
            return None
        if not isinstance(verdict, str):
            self._unwind()
            raise TypeError(f"an invariant returns None while it holds, or a string saying what is wrong; "
                            f"this one returned {verdict!r} ({type(verdict).__name__})")
        return Violation(verdict, len(self.schedule) - 1)

    def _advance_invisible(self):
        """Resume the threads that go on without a step: joins whose thread ended, releases nobody watches now."""
        moved = True
        threads = self.threads
        rec = self.recorder
        while moved:
            moved = False
            for t in threads:
                if t.state != PAUSED:
                    continue
                if t.invisible:
                    if t.blocked_by is None or t.blocked_by() is None:
                        self._switch_into(t)
                        if rec is not None:
                            rec.resumed(t.tid, "join")
                        moved = True
                elif t.pending[0] == "unlock" and not self.watched(t.pending_obj, t):
                    t.advanced = True
                    self._switch_into(t)
                    if rec is not None:
                        rec.resumed(t.tid, "step")
                    moved = True


class InvariantStep(RuntimeError):
    """An invariant tried to take a step (lock, spawn, a racy read): it may only look."""


class _Observer:
    """Stands for the running thread while an invariant runs: reads without a step work, steps raise."""

    tid = None
    name = "invariant"
    observes = True  # owns nothing, may look at everything (see `Owned._use`)

    def __init__(self, execution):
        self.execution = _Looking(execution)

    def _refuse(self, *args, **kwargs):
        raise InvariantStep(
            "an invariant runs between two steps and may not take one (lock, try_lock, spawn, join, a racy "
            "get or set, an atomic operation, strong_count, sleep).\nhelp: read the data without a step: "
            "`mutex.peek()`, `mutex.is_locked()`, `cell.peek()`, `atomic.peek()`"
        )

    point = lock = try_lock = spawn = wait_for = event = done = _refuse


class _Looking:
    """The execution as an invariant sees it: no recorder, so its reads are nobody's observations."""

    recorder = None

    def __init__(self, execution):
        self._execution = execution

    def __getattr__(self, attr):
        return getattr(self._execution, attr)


def _dropping(func, moved):
    if not moved:
        return func

    def run():
        try:
            return func()
        finally:
            for value in moved:
                value._drop()
    return run


def _deadlock(live):
    waits = []
    for t in live:
        if t.blocked_by is not None:
            holder = t.blocked_by()
            what = t.pending[1] if t.pending[0] != "join" else f"join {holder.name}"
            waits.append((t.tid, what, holder.tid if holder is not None else None))
    return Deadlock(tuple(waits), _cycle(waits))


def _cycle(waits):
    edges = {t: h for t, _, h in waits}
    for start in edges:
        path, node = [], start
        while node is not None and node not in path:
            path.append(node)
            node = edges.get(node)
        if node is not None:
            return tuple(path[path.index(node):])
    return ()


# --- choosing ---------------------------------------------------------------------


def _default(enabled, prev, yielded=False):
    """Who runs when nobody says: the last thread goes on, unless it just slept.

    A thread that sleeps lets the others run first (the next one by id, round robin),
    as an OS would while it sleeps; so a back-off loop does not spin forever by default.
    """
    if yielded and prev in enabled and len(enabled) > 1:
        later = [t for t in enabled if t > prev]
        return later[0] if later else next(t for t in enabled if t != prev)
    return prev if prev in enabled else enabled[0]


def _preempts(enabled, tid, prev, yielded=False):
    """A switch away from a thread that could go on; after a sleep, staying on the sleeper."""
    if prev is None or prev not in enabled:
        return False
    if yielded:
        return tid == prev and len(enabled) > 1
    return tid != prev


def _try_order(enabled, prev, yielded=False):
    first = _default(list(enabled), prev, yielded)
    return [first] + [t for t in enabled if t != first]


def _seeded(seed):
    rng = random.Random(seed)

    def choose(i, enabled, prev, execution):
        return enabled[rng.randrange(len(enabled))]
    return choose


def _replayer(schedule, strict):
    def choose(i, enabled, prev, execution):
        if i < len(schedule):
            tid = schedule[i]
            if tid in enabled:
                return tid
            raise ScheduleError(_why_not(i, tid, execution))
        if strict:
            raise ScheduleError(
                f"the schedule ended after {len(schedule)} steps but threads {enabled} can still run; "
                "add their steps or call replay(..., strict=False) to let them finish in turn"
            )
        return _default(enabled, prev, execution.yielded)
    return choose


def _why_not(i, tid, execution):
    known = len(execution.threads)
    if tid < 0:
        return f"step {i}: there is no thread {tid}: threads are numbered from 0, the main thread"
    if tid >= known:
        started = "only thread 0" if known == 1 else f"threads 0 to {known - 1}"
        return (f"step {i}: there is no thread {tid} yet: so far the program has started {started} "
                "(threads are numbered in the order `spawn` creates them)")
    t = execution.threads[tid]
    if t.state == FINISHED:
        return f"step {i}: thread {tid} cannot run: it has finished"
    if t.pending and t.pending[0] == "join":
        return f"step {i}: thread {tid} cannot run: it waits to join a thread that has not finished"
    holder = t.blocked_by() if t.blocked_by else None
    what = t.pending[1] if t.pending else "?"
    return (f"step {i}: thread {tid} cannot run: it is blocked on `{what}`, "
            f"held by thread {holder.tid if holder else '?'}")


def check_schedule(schedule):
    """The schedule as a list of thread ids; ScheduleError for anything that is not an int (True, 1.0, "1")."""
    try:
        items = list(schedule)
    except TypeError:
        raise ScheduleError(f"a schedule is a list of thread numbers like [1, 2, 1], not {schedule!r}") from None
    for i, tid in enumerate(items):
        if type(tid) is not int:
            raise ScheduleError(f"step {i} of the schedule is {tid!r} ({type(tid).__name__}): a schedule lists "
                                "thread numbers, whole numbers like [1, 2, 1]")
    return items


def step_limit_message(run, max_steps):
    """What ScheduleError says about a run stopped by `max_steps`: who was still running, where, and the schedule."""
    limit = run.outcome
    names = []
    for tid in limit.running:
        names.append(f"thread {tid}")
    tail = run.schedule[-12:]
    shown = ("[..., " + ", ".join(map(str, tail)) + "]") if len(run.schedule) > 12 else str(run.schedule)
    return (f"the program took more than {max_steps} steps and was stopped: {', '.join(names)} "
            f"{'was' if len(names) == 1 else 'were'} still running; the schedule {shown}. "
            "Does a thread spin forever? (explore() counts such schedules as the outcome StepLimit.)")
