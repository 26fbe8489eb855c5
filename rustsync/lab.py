"""The race lab: counters incremented by many threads, real or scheduled.

Real threads (`race`, `plain_race`) are nondeterministic by nature: every run may
differ, and nothing graded relies on them. The programs for the scheduler
(`racy_counter`, `mutex_counter`, `atomic_counter`) give the same result for the same
seed or schedule, on every run and machine.

Why a call inside the read-modify-write? On CPython with the GIL, threads switch only
between bytecodes, at calls and backward jumps, so `x[0] += 1` in two threads almost
never loses an update. A call between the read and the write (`race`'s default) is a
point where the interpreter may switch: how many updates are lost then depends on when
the switch interval runs out, a different number in every run, and a short run may lose
none. `alternate=True` sleeps instead (`time.sleep(0)` releases the GIL): two threads
then take turns at every sleep and lose exactly half, run after run. That is a strict
alternation, not a race; it is kept, and labelled, to show the difference.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from .atomic import AtomicUsize, Ordering
from .mutex import Mutex
from .rc import Arc
from .sched import RacyCell, run
from .thread import spawn


@dataclass(frozen=True)
class RaceResult:
    """How many increments were asked for and how many the counter shows."""

    threads: int
    increments: int
    final: int
    protected: bool
    seconds: float = 0.0

    @property
    def expected(self):
        return self.threads * self.increments

    @property
    def lost(self):
        return self.expected - self.final

    @property
    def lost_fraction(self):
        return self.lost / self.expected if self.expected else 0.0


def _check(threads, increments):
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive int, got {threads!r}")
    if not isinstance(increments, int) or increments < 0:
        raise ValueError(f"increments must be a non-negative int, got {increments!r}")


def race(threads=2, increments=1_000, *, mutex=False, alternate=False):
    """Real threads each add 1 to a shared counter `increments` times. NONDETERMINISTIC.

    Without `mutex`, each increment reads the counter, calls a function that does
    nothing (a point where CPython may switch threads), then writes back what it read
    plus one: updates get lost, a different number in every run, often none in a short
    run. With `mutex`, the same steps happen inside `with counter.lock()`, and none is
    lost. `alternate=True` calls `time.sleep(0)` instead, which hands the GIL over at
    once: two threads then alternate strictly and lose exactly half (not a race).
    """
    _check(threads, increments)
    start = threading.Barrier(threads)
    pause = time.sleep if alternate else (lambda _s: None)
    if mutex:
        counter = Arc(Mutex(0, name="counter"))

        def worker_for(handle):
            def work():
                start.wait()
                for _ in range(increments):
                    with handle.lock() as num:
                        seen = num.value
                        pause(0)
                        num.value = seen + 1
            return work

        workers = [worker_for(Arc.clone(counter)) for _ in range(threads)]
    else:
        cell = [0]

        def work():
            start.wait()
            for _ in range(increments):
                seen = cell[0]
                pause(0)
                cell[0] = seen + 1

        workers = [work] * threads
    began = time.perf_counter()
    handles = [spawn(w, name=f"counter-{i}") for i, w in enumerate(workers)]
    for h in handles:
        h.join()
    seconds = time.perf_counter() - began
    if mutex:
        with counter.lock() as num:
            final = num.value
    else:
        final = cell[0]
    return RaceResult(threads, increments, final, mutex, seconds)


def plain_race(threads=2, increments=100_000):
    """Real threads doing a bare `x[0] += 1`. NONDETERMINISTIC, and on CPython with the
    GIL it usually loses nothing: the increment sits between two switch points."""
    _check(threads, increments)
    cell = [0]
    start = threading.Barrier(threads)

    def work():
        start.wait()
        for _ in range(increments):
            cell[0] += 1

    began = time.perf_counter()
    handles = [spawn(work, name=f"plain-{i}") for i in range(threads)]
    for h in handles:
        h.join()
    return RaceResult(threads, increments, cell[0], False, time.perf_counter() - began)


# --- programs for the scheduler ---------------------------------------------------------


def racy_counter(threads=2, increments=2):
    """A program for `rustsync.sched`: threads do `counter.set(counter.get() + 1)`; returns the count."""
    _check(threads, increments)

    def program():
        counter = RacyCell(0, name="counter")

        def work():
            for _ in range(increments):
                counter.set(counter.get() + 1)

        handles = [spawn(work) for _ in range(threads)]
        for h in handles:
            h.join()
        return counter.peek()

    program.__name__ = f"racy_counter_{threads}x{increments}"
    return program


def mutex_counter(threads=2, increments=2):
    """The same count through an `Arc<Mutex>`: every schedule ends at threads * increments."""
    _check(threads, increments)

    def program():
        counter = Arc(Mutex(0, name="counter"))

        def worker_for(handle):
            def work():
                for _ in range(increments):
                    with handle.lock() as num:
                        num.value += 1
            return work

        handles = [spawn(worker_for(Arc.clone(counter))) for _ in range(threads)]
        for h in handles:
            h.join()
        with counter.lock() as num:
            return num.value

    program.__name__ = f"mutex_counter_{threads}x{increments}"
    return program


def listing_16_15(threads=10):
    """Listing 16-15 as the Book writes it: `Arc(Mutex(0))`, one `Arc.clone` per thread, lock and add 1, join, read.

    `mutex_counter` builds the same count with a worker per handle; this one keeps the listing's shape, for the
    scheduler's benchmark and the tests that hold its exact count (10! interleavings at ten threads).
    """

    def program():
        counter = Arc(Mutex(0, name="counter"))
        handles = []
        for _ in range(threads):
            counter_clone = Arc.clone(counter)

            def work():
                with counter_clone.lock() as num:
                    num.value += 1

            handles.append(spawn(work))  # spawn takes counter_clone's value now, as Rust's `move`
        for handle in handles:
            handle.join()
        with counter.lock() as num:
            return num.value

    program.__name__ = f"listing_16_15_{threads}"
    return program


def atomic_counter(threads=2, increments=2):
    """The same count with `AtomicUsize.fetch_add(1, Ordering.SeqCst)`: one indivisible step per increment."""
    _check(threads, increments)

    def program():
        counter = Arc(AtomicUsize(0, name="counter"))

        def worker_for(handle):
            def work():
                for _ in range(increments):
                    handle.fetch_add(1, Ordering.SeqCst)
            return work

        handles = [spawn(worker_for(Arc.clone(counter))) for _ in range(threads)]
        for h in handles:
            h.join()
        return counter.load(Ordering.SeqCst)

    program.__name__ = f"atomic_counter_{threads}x{increments}"
    return program


def opposite_diners():
    """Two threads lock a fork and a knife in opposite orders: a deadlock after one preemption."""
    fork, knife = Arc(Mutex(0, name="fork")), Arc(Mutex(0, name="knife"))

    def diner(first, second):
        def work():
            with first.lock(), second.lock():
                pass
        return work

    one = spawn(diner(Arc.clone(fork), Arc.clone(knife)))
    two = spawn(diner(Arc.clone(knife), Arc.clone(fork)))
    one.join()
    two.join()
    return "both ate"


def scheduled_race(threads=2, increments=100, *, mutex=False, seed=0):
    """`race` under the scheduler with a seeded random schedule: the same seed, the same count."""
    program = (mutex_counter if mutex else racy_counter)(threads, increments)
    result = run(program, seed=seed, max_steps=4 * threads * increments + 100)
    return RaceResult(threads, increments, result.outcome, mutex)
