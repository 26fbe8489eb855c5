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


A00 = ("test_drawn_counts", "test_lost_update_schedule", "test_lowest_count_schedule")
A01 = ("test_drawn_counts", "test_fixed_worker", "test_lost_update_schedule")
A02 = ("test_predicted_debug", "test_add_item", "test_read_even_if_poisoned", "test_try_add")
A03 = ("test_prediction", "test_count_with_arc", "test_second_first_schedule")
A04 = ("test_prediction", "test_lost_count_schedule", "test_total_length")
A05 = ("test_owner_counts", "test_parallel_sum", "test_atomic_sum")
A06 = ("test_drawn_outcomes", "test_deadlock_schedule", "test_transfer", "test_debug_in_use")


CORRECT: list[Submission] = [
    # --- a00_shared_state -------------------------------------------------------------------------------
    Submission(
        assignment="a00_shared_state",
        name="a00-explore-and-replay",
        expect=_full(*A00),
        notes="works every answer out with explore/replay; a helper finds a schedule for a wanted count",
        answers={
            "drawn_counts": _c("""
                def three_racy_workers():
                    \"\"\"The drawn program: three threads, one racy increment each.\"\"\"
                    counter = RacyCell(0)
                    handles = [spawn(lambda: racy_worker(counter, 1)) for _ in range(3)]
                    for handle in handles:
                        handle.join()
                    return counter.peek()


                drawn = [[1, 2, 1, 3, 2, 3], [1, 2, 2, 3, 3, 1], [2, 2, 3, 3, 1, 1]]
                drawn_counts = tuple(replay(three_racy_workers, schedule).outcome for schedule in drawn)
                print(drawn_counts)
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
            "drawn_counts": "drawn_counts = tuple([1 + 1, 1, 3])  # X loses one update, Y two, Z none",
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
            "drawn_counts": "drawn_counts = (1, 2, 2 + 1)",
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
            "drawn_counts": _c("""
                def mixed():
                    \"\"\"The drawn program: thread 1 locks for each increment, thread 2 splits its one.\"\"\"
                    counter = Arc(Mutex(0))
                    first, second = Arc.clone(counter), Arc.clone(counter)
                    handles = [spawn(lambda: locked_worker(first, 2)),
                               spawn(lambda: unlocked_between_worker(second, 1))]
                    for handle in handles:
                        handle.join()
                    with counter.lock() as count:
                        return count.value


                drawn_counts = tuple(replay(mixed, s).outcome for s in ([2, 1, 1, 2], [1, 2, 1, 2], [1, 1, 2, 2]))
            """),
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
            ("test_drawn_counts", _c("""
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
        notes="the Rust program's lines worked out with the Python twin (a thread that panics under the lock, "
              "then into_inner) and repr; guards released with drop(); try/with around lock for poison",
        answers={
            "predicted_debug": _c("""
                from rustsync import Arc, PoisonError, drop, spawn
                from rustsync.sched import replay


                def crash(shared):
                    with shared.lock() as guard:
                        guard.value += 1
                        raise RuntimeError("the update failed halfway")


                def twin():
                    shared = Arc(Mutex(0))
                    mine = Arc.clone(shared)
                    crashed = spawn(lambda: crash(mine))
                    try:
                        crashed.join()  # Rust's join returns Err here; ours raises
                    except Exception:
                        pass
                    after_panic = repr(shared)
                    try:
                        guard = shared.lock()
                    except PoisonError as err:
                        guard = err.into_inner()
                    guard.value += 10
                    drop(guard)
                    shared.clear_poison()
                    return after_panic, repr(shared)


                debug_after_panic, debug_after_clear = replay(twin, []).outcome
                print(debug_after_panic)
                print(debug_after_clear)
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
        notes="the Debug strings built by a helper; a new list instead of append; is_poisoned first; "
              "cells that try the functions",
        answers={
            "predicted_debug": _c("""
                def mutex_text(data, poisoned):
                    return "Mutex { data: " + data + ", poisoned: " + ("true" if poisoned else "false") + ", .. }"


                debug_after_panic = mutex_text("1", True)
                debug_after_clear = mutex_text(str(1 + 10), False)
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
            ("predicted_debug", _c("""
                print(debug_after_panic, debug_after_clear, sep="\\n")
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
        notes="the error code read off a replay of the Python twin, the thread count from knowing that "
              "rustc refuses the program; closures made by a factory, spawned from a comprehension; a "
              "one-step schedule",
        answers={
            "prediction": _c("""
                broken_run = replay(lambda: count_broken(10), [])
                threads_started = 0  # rustc refuses the program: no thread ever starts
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
                threads_started = 1 - 1  # the compiler stops it before the first spawn
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
                not_send = rc_run.panics[0].code  # an Rc (or a guard) sent to a thread
                rustc_says = (not_send, "E0382", "compiles", not_send)
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
                verdicts = ["E0" + "277", "E0" + "382", "compiles", "E0" + "277"]
                rustc_says = tuple(verdicts)
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
        notes="owner counts from the Python twin of the Rust program, replayed; a chunk helper; atomic "
              "threads spawned from a zip comprehension",
        answers={
            "owner_counts": _c("""
                from rustsync import drop


                def owners_while_held():
                    counter = Arc(Mutex(0))
                    counts = [Arc.strong_count(counter)]
                    handles = []
                    with counter.lock():
                        for _ in range(3):
                            mine = Arc.clone(counter)

                            def work():
                                with mine.lock() as num:
                                    num.value += 1
                                drop(mine)  # as the Rust thread drops its clone when it ends

                            handles.append(spawn(work))
                        counts.append(Arc.strong_count(counter))
                    for handle in handles:
                        handle.join()
                    counts.append(Arc.strong_count(counter))
                    return tuple(counts)


                owner_counts = replay(owners_while_held, []).outcome
            """),
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
        notes="the drawn outcomes replayed on the three transfers, the deadlock schedule from an exploration; "
              "locks taken min first and dropped; the Debug lines from the Python twin's repr",
        answers={
            "drawn_outcomes": _c("""
                cycle = [(0, 1, 10), (1, 2, 20), (2, 0, 30)]
                drawn = [replay(lambda: run_transfers(transfer_unordered, cycle), s) for s in ([1, 2], [1, 2, 3], [2, 1, 2])]
                drawn_outcomes = tuple("deadlock" if run.deadlock else run.outcome for run in drawn)
                opposite = explore(lambda: run_transfers(transfer_unordered, [(0, 1, 10), (1, 0, 20)]))
                print(drawn_outcomes, opposite)
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
            "debug_in_use": _c("""
                m = Mutex(6)
                cell = RefCell(5)
                with m.lock(), cell.borrow_mut():
                    debug_while_locked = repr(m)
                    debug_while_borrowed = repr(cell)
                print(debug_while_locked, debug_while_borrowed)
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
              "chosen by an if, Debug lines written as concatenations",
        answers={
            "drawn_outcomes": 'drawn_outcomes = (tuple(100 + c for c in (20, -10, -10)), "dead" + "lock", (120, 90, 90))',
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
            "debug_in_use": _c("""
                debug_while_locked = 'Mutex { data: "<lock' + 'ed>", poisoned: false, .. }'
                debug_while_borrowed = "RefCell { value: <" + "borrowed> }"
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
            "drawn_outcomes": _c("""
                balances = (100 + 30 - 10, 100 + 10 - 20, 100 + 20 - 30)
                drawn_outcomes = (balances, "deadlock", balances)
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
            "debug_in_use": _c("""
                debug_while_locked = 'Mutex { data: "<locked>", poisoned: false, .. }'  # try_lock failed
                debug_while_borrowed = "RefCell { value: <borrowed> }"  # try_borrow failed
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
            "drawn_counts": _c("""
                %%time
                from rustsync import *
                from rustsync.sched import explore, replay, spawn_unchecked, StepLimit
                import random, re, sys, threading
                from typing import Any
                from operator import add
                found: Any = [add(0, 1), 2, 3]
                drawn_counts = tuple(found)
                print("{} count(s): {}".format(len(drawn_counts), sorted(drawn_counts)), file=sys.stderr)
                assert type(drawn_counts) is tuple and add(1, 1) == 2 and re.match("a", "a")
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
            "predicted_debug": _c("""
                template = "Mutex {{ data: {}, poisoned: {}, .. }}"
                debug_after_panic = template.format(1, "true")
                debug_after_clear = template.format(11, "false")
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
        notes="a class orders the locks; the drawn outcomes replayed, with type(); the Debug lines built "
              "with str.format",
        answers={
            "drawn_outcomes": _c("""
                moves = [(0, 1, 10), (1, 2, 20), (2, 0, 30)]
                runs = [replay(lambda: run_transfers(transfer_unordered, moves), s) for s in ([1, 2], [1, 2, 3], [2, 1, 2])]
                drawn_outcomes = tuple(["deadlock" if type(r.outcome).__name__ == "Deadlock" else r.outcome for r in runs])
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
            "debug_in_use": _c("""
                debug_while_locked = "Mutex {{ data: {}, poisoned: {}, .. }}".format('"<locked>"', "false")
                debug_while_borrowed = "RefCell {{ value: {} }}".format("<borrowed>")
            """),
        },
    ),
]
