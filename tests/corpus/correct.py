"""Correct submissions, written otherwise than the reference solutions in source/.

Each one deserves full marks on every autograded part. They use only what a student of the
course writes: the public API of `rustsync` and `rustsync.sched`, builtins, comprehensions,
functions and lambdas; helpers of their own in extra cells, `drop()` instead of `with`,
answers worked out with `explore`, `replay` or `repr`, other right schedules, and equal
values written otherwise.
"""

from __future__ import annotations

from textwrap import dedent

from .build import FULL, Submission


def _c(text):
    return dedent(text).strip("\n")


def _full(*parts):
    return {part: FULL for part in parts}


A00 = ("test_possible_counts", "test_lost_update_schedule", "test_lowest_count_schedule")
A01 = ("test_locked_counts", "test_fixed_worker", "test_lost_update_schedule")
A02 = ("test_predicted_reprs", "test_add_item", "test_read_even_if_poisoned", "test_try_add")
A03 = ("test_prediction", "test_count_with_arc", "test_second_first_schedule")
A04 = ("test_prediction", "test_lost_count_schedule", "test_total_length")
A05 = ("test_owner_counts", "test_parallel_sum", "test_atomic_sum")
A06 = ("test_unordered_outcomes", "test_deadlock_schedule", "test_transfer", "test_twice_errors")


CORRECT: list[Submission] = [
    # --- a00_shared_state -------------------------------------------------------------------------------
    Submission(
        assignment="a00_shared_state",
        name="a00-explore-and-replay",
        expect=_full(*A00),
        notes="works every answer out with explore/replay; a helper finds a schedule for a wanted count",
        answers={
            "possible_counts": _c("""
                every_schedule = explore(lambda: two_racy_workers(2))
                print(every_schedule)
                possible_counts = set(every_schedule.outcomes)
            """),
            "lost_update_schedule": "lost_update_schedule = [2, 1]",
            "lowest_count_schedule": _c("""
                lowest_count_schedule = schedule_that_ends_with(lambda: two_racy_workers(2), 2)
                print(lowest_count_schedule)
            """),
            "why_not_one": "Each thread's last write stores what it read plus one, and it read after its own "
                           "first write, so the count is at least 2. CPython rarely switches threads inside "
                           "`x += 1`; Rust and C run threads on several cores at once.",
        },
        extra_cells=[
            ("lost_update_schedule", _c("""
                shown = replay(lambda: two_racy_workers(1), lost_update_schedule)
                print("count:", shown.outcome)
                print(shown.show())
            """)),
            ("test_lost_update_schedule", _c("""
                def schedule_that_ends_with(program, wanted):
                    \"\"\"A schedule under which `program` ends with `wanted`, found by exploring.\"\"\"
                    return explore(program).example(wanted)
            """)),
        ],
    ),
    Submission(
        assignment="a00_shared_state",
        name="a00-written-by-hand",
        expect=_full(*A00),
        notes="a comprehension for the set, schedules written with list arithmetic, the mirror image "
              "of the reference schedules",
        answers={
            "possible_counts": "possible_counts = {n for n in range(2, 5)}  # 2 lost at most, none at best",
            "lost_update_schedule": "lost_update_schedule = [1, 2] * 2",
            "lowest_count_schedule": "lowest_count_schedule = [2] + [1] * 3 + [2] * 3 + [1]",
        },
        extra_cells=[
            ("lowest_count_schedule", _c("""
                print(replay(lambda: two_racy_workers(2), lowest_count_schedule).outcome)
            """)),
        ],
    ),
    # --- a01_mutexes ------------------------------------------------------------------------------------
    Submission(
        assignment="a01_mutexes",
        name="a01-drop-guard",
        expect=_full(*A01),
        notes="fixed_worker locks, writes through the guard and drops it; a schedule starting with thread 2",
        answers={
            "locked_counts": "locked_counts = {2 * 2}",
            "fixed_worker": _c("""
                from rustsync import drop


                def fixed_worker(counter, times):
                    for _ in range(times):
                        guard = counter.lock()
                        guard.value = guard.value + 1
                        drop(guard)
            """),
            "lost_update_schedule": "lost_update_schedule = [2, 1]",
        },
    ),
    Submission(
        assignment="a01_mutexes",
        name="a01-helper-and-search",
        expect=_full(*A01),
        notes="a helper of its own for one whole increment; the prediction from explore; the schedule "
              "picked from candidates with replay",
        answers={
            "locked_counts": "locked_counts = set(explore(lambda: two_workers(locked_worker, 2)).outcomes)",
            "fixed_worker": _c("""
                def fixed_worker(counter, times):
                    done = 0
                    while done < times:
                        add_one(counter)
                        done += 1
            """),
            "lost_update_schedule": _c("""
                candidates = [[1, 1, 2, 2], [1, 2, 1, 2], [2, 1, 2, 1]]
                losing = [s for s in candidates
                          if replay(lambda: two_workers(unlocked_between_worker, 1), s).outcome == 1]
                lost_update_schedule = losing[-1]
                print(losing)
            """),
        },
        extra_cells=[
            ("test_locked_counts", _c("""
                def add_one(counter):
                    \"\"\"One whole increment: the read and the write under the same guard.\"\"\"
                    with counter.lock() as count:
                        count.value = count.value + 1
            """)),
        ],
    ),
    # --- a02_mutex_api ----------------------------------------------------------------------------------
    Submission(
        assignment="a02_mutex_api",
        name="a02-repr-and-drop",
        expect=_full(*A02),
        notes="predictions taken from repr; guards released with drop(); try/with around lock for poison",
        answers={
            "predicted_reprs": _c("""
                repr_after_listing = repr(listing_16_12())
                repr_after_panic = repr(panicking_update())
                print(repr_after_listing)
                print(repr_after_panic)
            """),
            "add_item": _c("""
                from rustsync import drop


                def add_item(shopping, item):
                    guard = shopping.lock()
                    guard.value.append(item)
                    length = len(guard.value)
                    drop(guard)
                    return length
            """),
            "read_even_if_poisoned": _c("""
                def read_even_if_poisoned(m):
                    try:
                        with m.lock() as guard:
                            return guard.value
                    except PoisonError as err:
                        with err.into_inner() as guard:
                            m.clear_poison()
                            return guard.value
            """),
            "try_add": _c("""
                def try_add(m, n):
                    try:
                        guard = m.try_lock()
                    except WouldBlock:
                        return False
                    guard.value = guard.value + n
                    drop(guard)
                    return True
            """),
        },
    ),
    Submission(
        assignment="a02_mutex_api",
        name="a02-helpers-and-checks",
        expect=_full(*A02),
        notes="the repr strings built by a helper; a new list instead of append; is_poisoned first; "
              "cells that try the functions",
        answers={
            "predicted_reprs": _c("""
                def mutex_text(data, poisoned):
                    return "Mutex { data: " + data + ", poisoned: " + ("true" if poisoned else "false") + ", .. }"


                repr_after_listing = mutex_text("6", False)
                repr_after_panic = mutex_text("[1, 2, 3]", True)
            """),
            "add_item": _c("""
                def add_item(shopping, item):
                    with shopping.lock() as guard:
                        guard.value = guard.value + [item]
                        new_length = len(guard.value)
                    return new_length
            """),
            "read_even_if_poisoned": _c("""
                from rustsync import drop


                def read_even_if_poisoned(m):
                    was_poisoned = m.is_poisoned()
                    try:
                        guard = m.lock()
                    except PoisonError as err:
                        guard = err.into_inner()
                    if was_poisoned:
                        m.clear_poison()
                    data = guard.value
                    drop(guard)
                    return data
            """),
            "try_add": _c("""
                def try_add(m, n):
                    try:
                        with m.try_lock() as guard:
                            guard.value += n
                        return True
                    except WouldBlock:
                        return False
            """),
        },
        extra_cells=[
            ("predicted_reprs", _c("""
                print(repr_after_listing == repr(listing_16_12()), repr_after_panic == repr(panicking_update()))
            """)),
            ("add_item", 'print(add_item(Mutex(["tea"]), "milk"))'),
            ("read_even_if_poisoned", "print(read_even_if_poisoned(panicking_update()))"),
            ("try_add", "print(try_add(Mutex(10), 5))"),
        ],
    ),
    # --- a03_sharing_a_mutex ----------------------------------------------------------------------------
    Submission(
        assignment="a03_sharing_a_mutex",
        name="a03-replay-and-factory",
        expect=_full(*A03),
        notes="the prediction read off a replay of count_broken; closures made by a factory, spawned from a "
              "comprehension; a one-step schedule",
        answers={
            "prediction": _c("""
                broken_run = replay(lambda: count_broken(10), [])
                threads_started = broken_run.threads - 1
                error_code = broken_run.panics[0].code
                print(threads_started, error_code)
            """),
            "count_with_arc": _c("""
                from rustsync import drop


                def count_with_arc(n):
                    counter = Arc(Mutex(0))
                    handles = [spawn(make_incrementer(Arc.clone(counter))) for _ in range(n)]
                    for handle in handles:
                        handle.join()
                    guard = counter.lock()
                    total = guard.value
                    drop(guard)
                    return total
            """),
            "second_first_schedule": "second_first_schedule = [2]  # thread 2 first; then the rest goes on",
            "why_moved": "The first closure takes `counter`; after that the main thread no longer owns it, "
                         "so the second iteration cannot move it again. An `Arc.clone` per thread is a new "
                         "owner for each closure.",
        },
        extra_cells=[
            ("test_prediction", _c("""
                def make_incrementer(counter):
                    \"\"\"A closure that adds 1 to `counter` under its lock.\"\"\"
                    def increment():
                        with counter.lock() as num:
                            num.value += 1
                    return increment
            """)),
            ("second_first_schedule", "print(replay(who_goes_first, second_first_schedule).show())"),
        ],
    ),
    Submission(
        assignment="a03_sharing_a_mutex",
        name="a03-clones-first",
        expect=_full(*A03),
        notes="all clones made first in a comprehension, a helper that drops its guard, the schedule "
              "chosen from candidates with replay",
        answers={
            "prediction": _c("""
                threads_started = 1  # the first spawn works, the second one finds `counter` moved
                error_code = "E0" + str(382)
            """),
            "count_with_arc": _c("""
                def count_with_arc(n):
                    counter = Arc(Mutex(0))
                    clones = [Arc.clone(counter) for _ in range(n)]
                    handles = []
                    for mine in clones:
                        handles.append(spawn(lambda: add_one(mine)))
                    for handle in handles:
                        handle.join()
                    with counter.lock() as total:
                        return total.value
            """),
            "second_first_schedule": _c("""
                tries = ([1, 2], [2, 1])
                second_first_schedule = [s for s in tries if replay(who_goes_first, s).outcome == (2, 1)][0]
            """),
        },
        extra_cells=[
            ("test_prediction", _c("""
                from rustsync import drop


                def add_one(counter):
                    guard = counter.lock()
                    guard.value += 1
                    drop(guard)
            """)),
            ("count_with_arc", "print(count_with_arc(4), explore(lambda: count_with_arc(2)))"),
        ],
    ),
    # --- a04_multiple_ownership -------------------------------------------------------------------------
    Submission(
        assignment="a04_multiple_ownership",
        name="a04-replay-and-helper",
        expect=_full(*A04),
        notes="the prediction read off a replay; the mirror schedule; a helper called from each thread",
        answers={
            "prediction": _c("""
                rc_run = replay(lambda: count_with_rc(10), [])
                threads_started = rc_run.threads - 1
                error_code = rc_run.panics[0].code
            """),
            "lost_count_schedule": "lost_count_schedule = [2, 1, 2, 1]",
            "total_length": _c("""
                def total_length(words):
                    total = Arc(Mutex(0))
                    handles = []
                    for word in words:
                        mine = Arc.clone(total)
                        handles.append(spawn(lambda: add_length(mine, word)))
                    for handle in handles:
                        handle.join()
                    with total.lock() as so_far:
                        return so_far.value
            """),
        },
        extra_cells=[
            ("lost_count_schedule", "print(replay(clone_in_two_threads, lost_count_schedule).show())"),
            ("test_lost_count_schedule", _c("""
                def add_length(total, word):
                    with total.lock() as so_far:
                        so_far.value += len(word)
            """)),
        ],
    ),
    Submission(
        assignment="a04_multiple_ownership",
        name="a04-explored-and-dropped",
        expect=_full(*A04),
        notes="the schedule found by explore; closures from a nested factory, spawned in a comprehension, "
              "guards dropped",
        answers={
            "prediction": _c("""
                threads_started = 0
                error_code = "E0" + "277"
            """),
            "lost_count_schedule": _c("""
                counts_seen = explore(clone_in_two_threads)
                print(counts_seen)
                lost_count_schedule = counts_seen.example(2)
            """),
            "total_length": _c("""
                from rustsync import drop


                def total_length(words):
                    total = Arc(Mutex(0))

                    def adder(owner, word):
                        def work():
                            guard = owner.lock()
                            guard.value = guard.value + len(word)
                            drop(guard)
                        return work

                    handles = [spawn(adder(Arc.clone(total), w)) for w in words]
                    for handle in handles:
                        handle.join()
                    guard = total.lock()
                    result = guard.value
                    drop(guard)
                    return result
            """),
        },
        extra_cells=[("total_length", 'print(total_length(["mutex", "arc"]))')],
    ),
    # --- a05_arc ----------------------------------------------------------------------------------------
    Submission(
        assignment="a05_arc",
        name="a05-replay-helper-zip",
        expect=_full(*A05),
        notes="owner counts from a replay; a chunk helper; atomic threads spawned from a zip comprehension",
        answers={
            "owner_counts": "owner_counts = replay(lambda: owners_over_time(3), []).outcome",
            "parallel_sum": _c("""
                from rustsync import drop


                def parallel_sum(chunks):
                    total = Arc(Mutex(0))
                    handles = []
                    for chunk in chunks:
                        mine = Arc.clone(total)
                        handles.append(spawn(lambda: add_chunk(mine, chunk)))
                    for handle in handles:
                        handle.join()
                    guard = total.lock()
                    result = guard.value
                    drop(guard)
                    return result
            """),
            "atomic_sum": _c("""
                def atomic_sum(chunks):
                    total = Arc(AtomicUsize(0))
                    clones = [Arc.clone(total) for _ in chunks]
                    handles = [spawn(lambda: mine.fetch_add(sum(chunk))) for mine, chunk in zip(clones, chunks)]
                    for handle in handles:
                        handle.join()
                    return total.load()
            """),
        },
        extra_cells=[
            ("test_owner_counts", _c("""
                def add_chunk(total, chunk):
                    part = sum(chunk)
                    with total.lock() as so_far:
                        so_far.value += part
            """)),
            ("atomic_sum", "print(atomic_sum([[1, 2], [3]]), explore(lambda: atomic_sum([[1], [2]])))"),
        ],
    ),
    Submission(
        assignment="a05_arc",
        name="a05-by-hand-ordering",
        expect=_full(*A05),
        notes="the tuple built from a list; enumerate over the chunks; fetch_add with an explicit Ordering",
        answers={
            "owner_counts": "owner_counts = tuple([1, 3 + 1, 1])",
            "parallel_sum": _c("""
                def parallel_sum(chunks):
                    total = Arc(Mutex(0))
                    handles = []
                    for index, chunk in enumerate(chunks):
                        share = Arc.clone(total)

                        def work():
                            with share.lock() as so_far:
                                so_far.value = so_far.value + sum(chunk)

                        handles.append(spawn(work))
                    for handle in handles:
                        handle.join()
                    with total.lock() as so_far:
                        return so_far.value
            """),
            "atomic_sum": _c("""
                from rustsync import Ordering


                def atomic_sum(chunks):
                    total = Arc(AtomicUsize(0))
                    handles = []
                    for chunk in chunks:
                        share = Arc.clone(total)
                        handles.append(spawn(lambda: share.fetch_add(sum(chunk), Ordering.SeqCst)))
                    for handle in handles:
                        handle.join()
                    return total.load(Ordering.SeqCst)
            """),
        },
    ),
    # --- a06_refcell_vs_mutex ---------------------------------------------------------------------------
    Submission(
        assignment="a06_refcell_vs_mutex",
        name="a06-explored-min-max-drop",
        expect=_full(*A06),
        notes="outcomes and the deadlock schedule from one exploration; locks taken min first and "
              "dropped; exception names found by running the functions",
        answers={
            "unordered_outcomes": _c("""
                opposite = explore(lambda: run_transfers(transfer_unordered, [(0, 1, 10), (1, 0, 20)]))
                print(opposite)
                finished = {o for o in opposite.outcomes if o not in opposite.deadlocks}
                unordered_outcomes = finished | ({"deadlock"} if opposite.deadlocks else set())
            """),
            "deadlock_schedule": "deadlock_schedule = opposite.example(opposite.deadlocks[0])",
            "transfer": _c("""
                from rustsync import drop


                def transfer(accounts, source, target, amount):
                    low, high = min(source, target), max(source, target)
                    first = accounts[low].lock()
                    second = accounts[high].lock()
                    guards = {low: first, high: second}
                    guards[source].value -= amount
                    guards[target].value += amount
                    drop(second)
                    drop(first)
            """),
            "twice_errors": _c("""
                from rustsync import BorrowMutError, DeadlockError


                def error_name(func):
                    try:
                        func()
                    except BorrowMutError:
                        return "BorrowMutError"
                    except DeadlockError:
                        return "DeadlockError"
                    return "nothing"


                borrow_twice_error = error_name(borrow_twice)
                lock_twice_error = error_name(lock_twice)
            """),
        },
        extra_cells=[
            ("transfer", "print(run_transfers(transfer, [(0, 1, 10), (1, 2, 20), (2, 0, 30)]))"),
        ],
    ),
    Submission(
        assignment="a06_refcell_vs_mutex",
        name="a06-by-hand-branches",
        expect=_full(*A06),
        notes="the outcome tuple from a comprehension, the mirror deadlock schedule, nested with blocks "
              "chosen by an if, names written as concatenations",
        answers={
            "unordered_outcomes": 'unordered_outcomes = {tuple(100 + change for change in (10, -10)), "dead" + "lock"}',
            "deadlock_schedule": "deadlock_schedule = [2, 1]",
            "transfer": _c("""
                def transfer(accounts, source, target, amount):
                    if source < target:
                        first, second = source, target
                    else:
                        first, second = target, source
                    with accounts[first].lock() as a:
                        with accounts[second].lock() as b:
                            if first == source:
                                a.value -= amount
                                b.value += amount
                            else:
                                b.value -= amount
                                a.value += amount
            """),
            "twice_errors": _c("""
                borrow_twice_error = "BorrowMut" + "Error"
                lock_twice_error = "Deadlock" + "Error"
            """),
            "compare": "Rc<RefCell<T>> shares a value in one thread and checks borrows at run time; "
                       "Arc<Mutex<T>> shares it between threads. Mutex can deadlock, as Rc can leak in a cycle.",
        },
        extra_cells=[
            ("deadlock_schedule", _c("""
                stuck = replay(lambda: run_transfers(transfer_unordered, [(0, 1, 10), (1, 0, 20)]), deadlock_schedule)
                print(stuck.deadlock)
            """)),
        ],
    ),
    Submission(
        assignment="a06_refcell_vs_mutex",
        name="a06-ordered-helper",
        expect=_full(*A06),
        notes="a helper returns the two account numbers in lock order; a longer schedule that still deadlocks",
        answers={
            "unordered_outcomes": _c("""
                balances = (100 + 20 - 10, 100 + 10 - 20)
                unordered_outcomes = {balances, "deadlock"}
            """),
            "deadlock_schedule": "deadlock_schedule = [1, 2, 1, 2]",
            "transfer": _c("""
                def transfer(accounts, source, target, amount):
                    first, second = in_lock_order(source, target)
                    with accounts[first].lock() as one, accounts[second].lock() as other:
                        by_number = {first: one, second: other}
                        by_number[source].value = by_number[source].value - amount
                        by_number[target].value = by_number[target].value + amount
            """),
            "twice_errors": _c("""
                borrow_twice_error = "BorrowMutError"  # RefCell: already mutably borrowed
                lock_twice_error = "DeadlockError"  # the thread would wait for itself
            """),
        },
        extra_cells=[
            ("test_deadlock_schedule", _c("""
                def in_lock_order(source, target):
                    \"\"\"The two account numbers, lowest first: every thread locks in this order.\"\"\"
                    return sorted([source, target])
            """)),
        ],
    ),
    # --- ordinary Python, as students write it: classes, type, format, the standard library, magics ---------
    Submission(
        assignment="a01_mutexes",
        name="a01-ordinary-python",
        expect=_full(*A01),
        notes="the setup line copied; `from rustsync import *`; a %%time cell; a small class; nonlocal; "
              "str.format, type(), import random/re/sys/threading, typing, dataclasses, operator",
        answers={
            "locked_counts": _c("""
                %%time
                from rustsync import *
                from rustsync.sched import explore, replay, spawn_unchecked, StepLimit
                import random, re, sys, threading
                from typing import Any
                from operator import add
                found: Any = explore(lambda: two_workers(locked_worker, 2))
                locked_counts = set(found.outcomes)
                print("{} outcome(s): {}".format(len(locked_counts), sorted(locked_counts)), file=sys.stderr)
                assert type(locked_counts) is set and add(1, 1) == 2 and re.match("a", "a")
            """),
            "fixed_worker": _c("""
                from dataclasses import dataclass


                @dataclass
                class Increment:
                    counter: Any

                    def apply(self):
                        with self.counter.lock() as count:
                            count.value += 1


                def fixed_worker(counter, times):
                    done = 0

                    def one():
                        nonlocal done
                        Increment(counter).apply()
                        done += 1

                    for _ in range(times):
                        one()
            """),
            "lost_update_schedule": _c("""
                rng = random.Random(7)
                lost_update_schedule = [1, 2, 1, 2] if rng.random() < 2 else []
                print(f"{type(lost_update_schedule).__name__}: {lost_update_schedule!r}")
            """),
        },
    ),
    Submission(
        assignment="a02_mutex_api",
        name="a02-ordinary-python",
        expect=_full(*A02),
        notes="exception names read with type(err).__name__, err.__class__.__name__ and getattr; a helper class "
              "that wraps the guard; str.format",
        answers={
            "predicted_reprs": _c("""
                template = "Mutex {{ data: {}, poisoned: {}, .. }}"
                repr_after_listing = template.format(6, "false")
                repr_after_panic = template.format([1, 2, 3], "true")
            """),
            "add_item": _c("""
                class Shopping:
                    def __init__(self, mutex):
                        self.mutex = mutex

                    def add(self, item):
                        with self.mutex.lock() as guard:
                            guard.value.append(item)
                            return len(guard.value)


                def add_item(shopping, item):
                    return Shopping(shopping).add(item)
            """),
            "read_even_if_poisoned": _c("""
                def read_even_if_poisoned(m):
                    try:
                        guard = m.lock()
                    except Exception as err:
                        if type(err).__name__ != "PoisonError" or err.__class__.__name__ != "PoisonError":
                            raise
                        getattr(err, "code", None)
                        guard = err.into_inner()
                        m.clear_poison()
                    with guard:
                        return guard.value
            """),
            "try_add": _c("""
                def try_add(m, n):
                    try:
                        guard = m.try_lock()
                    except Exception as err:
                        if type(err).__name__ == "WouldBlock":
                            return False
                        raise
                    with guard:
                        guard.value += n
                    return True
            """),
        },
    ),
    Submission(
        assignment="a06_refcell_vs_mutex",
        name="a06-ordinary-python",
        expect=_full(*A06),
        notes="a Bank class orders the locks; the outcome set built with a comprehension and isinstance; "
              "exception names from the raised classes with type()",
        answers={
            "unordered_outcomes": _c("""
                opposite = explore(lambda: run_transfers(transfer_unordered, [(0, 1, 10), (1, 0, 20)]))
                unordered_outcomes = {"deadlock" if type(o).__name__ == "Deadlock" else o for o in opposite.outcomes}
            """),
            "deadlock_schedule": "deadlock_schedule = list((1, 2))",
            "transfer": _c("""
                class Order:
                    \"\"\"Two account numbers in the one order every thread locks them in.\"\"\"

                    def __init__(self, a, b):
                        self.first, self.second = min(a, b), max(a, b)


                def transfer(accounts, source, target, amount):
                    order = Order(source, target)
                    with accounts[order.first].lock() as one, accounts[order.second].lock() as other:
                        held = {order.first: one, order.second: other}
                        held[source].value -= amount
                        held[target].value += amount
            """),
            "twice_errors": _c("""
                def name_of(func):
                    try:
                        func()
                    except Exception as err:
                        return "{}".format(type(err).__name__)
                    return "nothing"


                borrow_twice_error = name_of(borrow_twice)
                lock_twice_error = name_of(lock_twice)
            """),
        },
    ),
]
