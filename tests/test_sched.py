"""The deterministic scheduler: seeds, exhaustive counts, replay, deadlocks, stuck threads."""

import threading
import time

import pytest

from rustsync import Arc, Mutex, Rc, drop, sleep, spawn
from rustsync.lab import atomic_counter, mutex_counter, racy_counter
from rustsync.sched import (
    Deadlock,
    Panic,
    RacyCell,
    ScheduleError,
    StuckThread,
    explore,
    interleavings,
    replay,
    run,
    spawn_unchecked,
)


def two_locks_opposite_order():
    """Thread 1 takes a then b; thread 2 takes b then a."""
    a = Mutex(0, name="a")
    b = Mutex(0, name="b")

    def first():
        with a.lock():
            with b.lock():
                pass

    def second():
        with b.lock():
            with a.lock():
                pass

    handles = [spawn_unchecked(first), spawn_unchecked(second)]
    for h in handles:
        h.join()
    return "finished"


def test_same_seed_gives_same_trace_and_outcome():
    program = racy_counter(3, 4)
    first = run(program, seed=42)
    for _ in range(5):
        again = run(program, seed=42)
        assert again.schedule == first.schedule
        assert [str(e) for e in again.trace] == [str(e) for e in first.trace]
        assert again.outcome == first.outcome


def test_different_seeds_give_different_schedules():
    program = racy_counter(2, 4)
    schedules = {tuple(run(program, seed=s).schedule) for s in range(20)}
    assert len(schedules) > 10


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_exhaustive_count_matches_the_formula(k):
    exploration = explore(racy_counter(2, k))
    assert exploration.complete
    assert exploration.schedules == interleavings(2 * k, 2 * k)
    assert sum(exploration.outcomes.values()) == exploration.schedules
    assert set(exploration.outcomes) == set(range(2, 2 * k + 1)) if k >= 2 else {1, 2}


def test_interleavings_formula_values():
    assert [interleavings(2 * k, 2 * k) for k in (2, 3, 4)] == [70, 924, 12870]
    assert interleavings(2, 2, 2) == 90


def test_worst_case_two_is_found_and_replays():
    exploration = explore(racy_counter(2, 3))
    schedule = exploration.example(2)
    assert min(exploration.outcomes) == 2
    replayed = replay(racy_counter(2, 3), schedule)
    assert replayed.outcome == 2
    assert replayed.schedule == schedule


def test_one_preemption_loses_an_update_but_two_needs_four():
    program = racy_counter(2, 3)
    one = explore(program, preemption_bound=1)
    assert min(one.outcomes) < 6
    assert 2 not in explore(program, preemption_bound=3).outcomes
    assert 2 in explore(program, preemption_bound=4).outcomes
    assert one.schedules < 924


def test_mutex_counter_has_a_single_outcome():
    exploration = explore(mutex_counter(2, 3))
    assert exploration.complete
    assert dict(exploration.outcomes) == {6: exploration.schedules}
    assert exploration.schedules == interleavings(3, 3)


def test_atomic_counter_has_a_single_outcome():
    exploration = explore(atomic_counter(3, 2))
    assert list(exploration.outcomes) == [6]


def test_two_locks_in_opposite_order_deadlock_with_the_cycle_named():
    exploration = explore(two_locks_opposite_order)
    deadlocks = exploration.deadlocks
    assert deadlocks, exploration
    assert "finished" in exploration.outcomes
    deadlock = deadlocks[0]
    assert isinstance(deadlock, Deadlock)
    assert set(deadlock.cycle) == {1, 2}
    text = str(deadlock)
    assert "thread 1 waits for `b` held by thread 2" in text
    assert "thread 2 waits for `a` held by thread 1" in text
    again = replay(two_locks_opposite_order, exploration.example(deadlock))
    assert again.deadlock == deadlock


def test_deadlock_leaves_no_thread_behind():
    """Every simulated thread of a deadlocked run ends (its `finally` runs) before `run` returns,
    and the scheduler's OS thread ends too."""
    ended = []

    def program():
        a = Mutex(0, name="a")
        b = Mutex(0, name="b")

        def taking(name, one, other):
            def work():
                try:
                    with one.lock():
                        with other.lock():
                            pass
                finally:
                    ended.append(name)
            return work

        handles = [spawn_unchecked(taking("first", a, b)), spawn_unchecked(taking("second", b, a))]
        try:
            for h in handles:
                h.join()
        finally:
            ended.append("main")

    deadlocks = 0
    for seed in range(20):
        ended.clear()
        result = run(program, seed=seed)
        if result.deadlock is not None:
            deadlocks += 1
            assert sorted(ended) == ["first", "main", "second"], f"seed {seed}: threads left suspended: {ended}"
    assert deadlocks >= 3, "the program must deadlock on some of these seeds for the test to mean anything"
    deadline = time.monotonic() + 2
    while any(t.name == "rustsync-scheduler" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [t.name for t in threading.enumerate() if t.name == "rustsync-scheduler"] == []


def slow_holders():
    """Two threads that each take the lock and take one more step (a sleep) while holding it."""
    counter = Arc(Mutex(0, name="counter"))

    def worker_for(handle):
        def work():
            with handle.lock() as num:
                sleep(0)
                num.value += 1
        return work

    handles = [spawn(worker_for(Arc.clone(counter))) for _ in range(2)]
    for h in handles:
        h.join()
    return counter.lock().value


def test_replay_rejects_a_blocked_thread_with_a_clear_message():
    # thread 1 locks, then sleeps holding the lock: thread 2 cannot lock now
    message = "step 1: thread 2 cannot run: it is blocked on `counter`, held by thread 1"
    with pytest.raises(ScheduleError, match=message):
        replay(slow_holders, [1, 2])
    assert replay(slow_holders, [1, 1, 2, 2]).outcome == 2


def test_replay_rejects_a_finished_or_unknown_thread():
    program = racy_counter(2, 1)
    with pytest.raises(ScheduleError, match="thread 1 cannot run: it has finished"):
        replay(program, [1, 1, 1])
    with pytest.raises(ScheduleError, match="there is no thread 7"):
        replay(program, [7])


def test_short_schedule_is_completed_unless_strict():
    program = racy_counter(2, 2)
    completed = replay(program, [1, 2])
    assert len(completed.schedule) == 8
    assert completed.schedule[:2] == [1, 2]
    with pytest.raises(ScheduleError, match="schedule ended after 2 steps"):
        replay(program, [1, 2], strict=True)


def test_trace_records_thread_operation_object_value_and_held_locks():
    result = replay(mutex_counter(2, 1), [1, 2])
    steps = [e for e in result.trace if e.step is not None]
    assert [(e.thread, e.op, e.obj) for e in steps[:2]] == [(1, "lock", "counter"), (2, "lock", "counter")]
    writes = [e for e in result.trace if e.op == "write"]
    assert [w.value for w in writes] == [1, 2]
    assert all(w.held == ("counter",) for w in writes)
    assert result.outcome == 2


def test_stuck_on_a_raw_lock_is_stopped_with_a_message():
    def program():
        def work():
            gate = threading.Lock()
            gate.acquire()
            gate.acquire(timeout=5)  # blocks outside the scheduler

        spawn(work).join()
        return 0

    began = time.monotonic()
    with pytest.raises(StuckThread, match="blocked outside them"):
        run(program, step_timeout=0.5)
    assert time.monotonic() - began < 4


def test_endless_loop_is_stopped_with_a_message():
    def program():
        def work():
            while True:
                pass

        spawn(work).join()

    with pytest.raises(StuckThread, match=r"thread 1 .* loops forever"):
        run(program, step_timeout=0.5)


def test_panic_in_main_is_an_outcome_and_in_a_thread_poisons():
    def program():
        m = Arc(Mutex(0, name="m"))
        clone = Arc.clone(m)

        def work():
            with clone.lock() as g:
                g.value = 1
                raise ValueError("boom")

        handle = spawn(work)
        try:
            handle.join()
        except Exception as exc:
            return f"{type(exc).__name__}, poisoned={m.is_poisoned()}"

    assert run(program, seed=0).outcome == "ThreadPanicked, poisoned=True"

    def bad():
        raise KeyError("x")

    assert run(bad).outcome == Panic(0, "KeyError: 'x'")


def test_rc_count_can_be_lost_under_the_scheduler():
    def program():
        shared = Rc(0, name="rc")

        def work():
            mine = shared.clone()
            drop(mine)

        handles = [spawn_unchecked(work) for _ in range(2)]
        for h in handles:
            h.join()
        return shared.strong_count()

    outcomes = explore(program).outcomes
    assert 1 in outcomes  # the right answer is reachable
    assert any(o != 1 for o in outcomes)  # and so is a wrong count


def test_racy_cell_outside_the_scheduler_is_a_plain_value():
    cell = RacyCell(3)
    cell.set(cell.get() + 1)
    assert cell.peek() == 4


def back_off_transfers():
    """Two threads take two locks in opposite orders, but back off with try_lock and sleep."""
    from rustsync import WouldBlock

    a = Mutex(0, name="a")
    b = Mutex(0, name="b")

    def worker(first, second):
        def work():
            while True:
                with first.lock():
                    try:
                        with second.try_lock():
                            return "done"
                    except WouldBlock:
                        pass
                sleep(0)  # back off: let the other thread finish
        return work

    handles = [spawn_unchecked(worker(a, b)), spawn_unchecked(worker(b, a))]
    return tuple(h.join() for h in handles)


def test_try_lock_with_back_off_never_deadlocks_within_the_bound():
    exploration = explore(back_off_transfers, preemption_bound=2)
    assert exploration.complete
    assert exploration.deadlocks == []
    assert set(exploration.outcomes) == {("done", "done")}


def test_sleep_lets_the_other_thread_go_first_by_default():
    # each thread takes its first lock, then the schedule is left to the defaults
    result = replay(back_off_transfers, [1, 2])
    assert result.outcome == ("done", "done")
    sleeps = [e for e in result.trace if e.op == "sleep"]
    assert sleeps, result.show()
    by_step = [e.thread for e in result.trace if e.step is not None]
    for ev in sleeps:
        assert by_step[ev.step + 1] != ev.thread  # the next step is the other thread's


def test_lost_writes_sees_a_lost_rc_count():
    from rustsync.plots import lost_writes

    def program():
        shared = Rc(0, name="rc")

        def work():
            drop(shared.clone())

        handles = [spawn_unchecked(work) for _ in range(2)]
        for h in handles:
            h.join()
        return shared.strong_count()

    exploration = explore(program)
    wrong = next(o for o in exploration.outcomes if o != 1)
    result = replay(program, exploration.example(wrong))
    assert lost_writes(result.trace), result.show()


# --- the model explorer against running every schedule -------------------------------------------
#
# The corpus: every program the lessons and the assignments explore (notebooks/ and source/,
# their explore(), check_prediction() and check_always() calls), written out here as they are
# there, with the preemption bounds they are explored with.

from rustsync import AtomicUsize, PoisonError, WouldBlock  # noqa: E402
from rustsync.sched import (  # noqa: E402
    Exploration,
    StepLimit,
    minimal_schedule,
    needs,
)


def forgetful_host():
    mic = Arc(Mutex((), name="mic"))
    guest_mic = Arc.clone(mic)

    def guest():
        with guest_mic.lock() as words:
            words.value += ("guest",)

    guest_thread = spawn(guest, name="guest")
    guard = mic.lock()
    guard.value += ("host",)
    guest_thread.join()
    return guard.value


def polite_host():
    mic = Arc(Mutex((), name="mic"))
    guest_mic = Arc.clone(mic)

    def guest():
        with guest_mic.lock() as words:
            words.value += ("guest",)

    guest_thread = spawn(guest, name="guest")
    with mic.lock() as words:
        words.value += ("host",)
    guest_thread.join()
    with mic.lock() as words:
        return words.value


def two_threads_share_an_rc():
    shared = Rc(Mutex(0), name="rc")

    def borrow_and_return():
        mine = Rc.clone(shared)
        drop(mine)

    handles = [spawn_unchecked(borrow_and_return) for _ in range(2)]
    for handle in handles:
        handle.join()
    return Rc.strong_count(shared)


def dine(first, second):
    def work():
        with first.lock() as one:
            with second.lock() as other:
                one.value += 1
                other.value += 1
    return work


def dine_politely(first, second):
    def work():
        while True:
            with first.lock() as one:
                try:
                    with second.try_lock() as other:
                        one.value += 1
                        other.value += 1
                        return
                except WouldBlock:
                    pass
            sleep(0.001)
    return work


def two_diners(worker, same_order=False):
    def program():
        fork, knife = Arc(Mutex(0, name="fork")), Arc(Mutex(0, name="knife"))
        diner_1 = spawn(worker(Arc.clone(fork), Arc.clone(knife)))
        if same_order:
            diner_2 = spawn(worker(Arc.clone(fork), Arc.clone(knife)))
        else:
            diner_2 = spawn(worker(Arc.clone(knife), Arc.clone(fork)))
        diner_1.join()
        diner_2.join()
        return "both ate"
    return program


def three_diners():
    utensils = [Arc(Mutex(0, name=f"m{i}")) for i in range(3)]
    diners = [spawn(dine(Arc.clone(utensils[i]), Arc.clone(utensils[(i + 1) % 3]))) for i in range(3)]
    for diner in diners:
        diner.join()
    return "all ate"


def racy_worker(counter, times):
    for _ in range(times):
        seen = counter.get()
        counter.set(seen + 1)


def two_racy_workers(times):
    counter = RacyCell(0)
    first = spawn(lambda: racy_worker(counter, times))
    second = spawn(lambda: racy_worker(counter, times))
    first.join()
    second.join()
    return counter.peek()


def locked_worker(counter, times):
    for _ in range(times):
        with counter.lock() as count:
            count.value += 1


def unlocked_between_worker(counter, times):
    for _ in range(times):
        with counter.lock() as count:
            seen = count.value
        with counter.lock() as count:
            count.value = seen + 1


def two_workers(worker, times):
    counter = Arc(Mutex(0))
    handles = []
    for _ in range(2):
        mine = Arc.clone(counter)
        handles.append(spawn(lambda: worker(mine, times)))
    for handle in handles:
        handle.join()
    with counter.lock() as count:
        return count.value


def count_with_arc(n):
    counter = Arc(Mutex(0))
    handles = []
    for _ in range(n):
        counter_clone = Arc.clone(counter)

        def work():
            with counter_clone.lock() as num:
                num.value += 1

        handles.append(spawn(work))
    for handle in handles:
        handle.join()
    with counter.lock() as num:
        return num.value


def who_goes_first():
    order = Arc(Mutex([]))
    handles = []
    for number in (1, 2):
        mine = Arc.clone(order)

        def work():
            with mine.lock() as names:
                names.value.append(number)

        handles.append(spawn(work))
    for handle in handles:
        handle.join()
    with order.lock() as names:
        return tuple(names.value)


def clone_in_two_threads():
    shared = Rc("config")
    clones = []

    def work():
        clones.append(Rc.clone(shared))

    first = spawn_unchecked(work)
    second = spawn_unchecked(work)
    first.join()
    second.join()
    return Rc.strong_count(shared)


def total_length(words):
    total = Arc(Mutex(0))
    handles = []
    for word in words:
        total_clone = Arc.clone(total)

        def work():
            with total_clone.lock() as so_far:
                so_far.value += len(word)

        handles.append(spawn(work))
    for handle in handles:
        handle.join()
    with total.lock() as so_far:
        return so_far.value


def owners_over_time(n):
    counter = Arc(Mutex(0))
    counts = [Arc.strong_count(counter)]
    clones = [Arc.clone(counter) for _ in range(n)]
    counts.append(Arc.strong_count(counter))
    handles = []
    for mine in clones:

        def work():
            with mine.lock() as num:
                num.value += 1

        handles.append(spawn(work))
    for handle in handles:
        handle.join()
    counts.append(Arc.strong_count(counter))
    return tuple(counts)


def parallel_sum(chunks):
    total = Arc(Mutex(0))
    handles = []
    for chunk in chunks:
        total_clone = Arc.clone(total)

        def work():
            part = sum(chunk)
            with total_clone.lock() as so_far:
                so_far.value += part

        handles.append(spawn(work))
    for handle in handles:
        handle.join()
    with total.lock() as so_far:
        return so_far.value


def atomic_sum(chunks):
    total = Arc(AtomicUsize(0))
    handles = []
    for chunk in chunks:
        total_clone = Arc.clone(total)

        def work():
            total_clone.fetch_add(sum(chunk))

        handles.append(spawn(work))
    for handle in handles:
        handle.join()
    return total.load()


def transfer_unordered(accounts, source, target, amount):
    with accounts[source].lock() as money_out:
        with accounts[target].lock() as money_in:
            money_out.value -= amount
            money_in.value += amount


def transfer(accounts, source, target, amount):
    first, second = sorted((source, target))
    with accounts[first].lock() as a, accounts[second].lock() as b:
        balances = {first: a, second: b}
        balances[source].value -= amount
        balances[target].value += amount


def run_transfers(transfer, moves):
    names = ["alice", "bob", "carol", "dave"]
    size = 1 + max(max(source, target) for source, target, _ in moves)
    bank = [Arc(Mutex(100, name=names[i])) for i in range(size)]
    handles = []
    for source, target, amount in moves:
        mine = [Arc.clone(account) for account in bank]
        handles.append(spawn(lambda: transfer(mine, source, target, amount)))
    for handle in handles:
        handle.join()
    balances = []
    for account in bank:
        with account.lock() as money:
            balances.append(money.value)
    return tuple(balances)


def audited_transfers(moves):
    size = 1 + max(max(source, target) for source, target, _ in moves)
    bank = [Arc(Mutex(100, name=f"account {i}")) for i in range(size)]
    handles = []
    for source, target, amount in moves:
        mine = [Arc.clone(account) for account in bank]
        handles.append(spawn(lambda: transfer(mine, source, target, amount)))
    books = [Arc.clone(account) for account in bank]

    def audit():
        guards = [account.lock() for account in books]
        total = sum(guard.value for guard in guards)
        for guard in reversed(guards):
            drop(guard)
        return total

    auditor = spawn(audit)
    for handle in handles:
        handle.join()
    seen = auditor.join()
    balances = []
    for account in bank:
        with account.lock() as money:
            balances.append(money.value)
    return tuple(balances), seen


# (name, program, preemption bounds it is explored with, other options of explore)
CORPUS = [
    ("00 racy 2x2", racy_counter(2, 2), [None], None),
    ("00 racy 2x3", racy_counter(2, 3), [None], None),
    ("01 mutex 2x2", mutex_counter(2, 2), [None], None),
    ("01 forgetful host", forgetful_host, [None], None),
    ("01 polite host", polite_host, [None], None),
    ("02 outcome panel, racy 2x1", racy_counter(2, 1), [None, 1, 2, 3, 4], None),
    ("02 outcome panel, racy 2x2", racy_counter(2, 2), [1, 2, 3, 4], None),
    ("02 outcome panel, racy 2x3", racy_counter(2, 3), [1, 2, 3, 4], None),
    ("02 mutex 3x2", mutex_counter(3, 2), [None], None),
    ("04 two threads share an Rc", two_threads_share_an_rc, [None], None),
    ("05 mutex 3x1", mutex_counter(3, 1), [None], None),
    ("05 atomic 2x3", atomic_counter(2, 3), [None], None),
    ("05 atomic 2x4", atomic_counter(2, 4), [None], None),
    ("05 racy 2x1", racy_counter(2, 1), [None], None),
    ("05 mutex 2x1", mutex_counter(2, 1), [None], None),
    ("05 mutex 2x2", mutex_counter(2, 2), [None], None),
    ("05 mutex 2x3", mutex_counter(2, 3), [None], None),
    ("05 atomic 2x1", atomic_counter(2, 1), [None], None),
    ("05 atomic 2x2", atomic_counter(2, 2), [None], None),
    ("06 opposite diners", two_diners(dine), [None, 0, 1], None),
    ("06 diners in the same order", two_diners(dine, same_order=True), [None], None),
    ("06 polite diners", two_diners(dine_politely), [1, 2, 3], None),
    ("06 polite diners, 200 steps", two_diners(dine_politely), [None], {"max_steps": 200}),
    ("06 polite diners, 16 steps, counted", two_diners(dine_politely), [None],
     {"max_steps": 16, "stop_at_step_limit": False}),
    ("a00 two racy workers 1", lambda: two_racy_workers(1), [None], None),
    ("a00 two racy workers 2", lambda: two_racy_workers(2), [None], None),
    ("a01 locked worker", lambda: two_workers(locked_worker, 2), [None, 0, 3], None),
    ("a01 locked worker 3", lambda: two_workers(locked_worker, 3), [3], None),
    ("a01 unlocked between", lambda: two_workers(unlocked_between_worker, 1), [None, 3], None),
    ("a03 count with arc", lambda: count_with_arc(3), [0, 3], None),
    ("a03 who goes first", who_goes_first, [None], None),
    ("a04 clone in two threads", clone_in_two_threads, [None], None),
    ("a04 total length", lambda: total_length(["mutex", "arc"]), [0], None),
    ("a04 total length 3", lambda: total_length(["send", "sync", "arc"]), [3], None),
    ("a05 owners over time", lambda: owners_over_time(3), [None], None),
    ("a05 parallel sum", lambda: parallel_sum([[1, 2], [3]]), [0], None),
    ("a05 parallel sum 3", lambda: parallel_sum([[1, 2], [3], [4, 5]]), [3], None),
    ("a05 atomic sum 3", lambda: atomic_sum([[1, 2], [3], [4, 5]]), [3], None),
    ("a06 unordered transfers", lambda: run_transfers(transfer_unordered, [(0, 1, 10), (1, 0, 20)]), [None], None),
    ("a06 transfer", lambda: run_transfers(transfer, [(0, 1, 10)]), [0], None),
    ("a06 opposite transfers", lambda: run_transfers(transfer, [(0, 1, 10), (1, 0, 20)]), [3], None),
    ("a06 three-way transfers", lambda: run_transfers(transfer, [(0, 1, 10), (1, 2, 20), (2, 0, 30)]), [3], None),
    ("a06 audited transfers", lambda: audited_transfers([(0, 1, 10), (1, 0, 20)]), [3], None),
    ("tests: two locks", two_locks_opposite_order, [None, 1], None),
    ("tests: slow holders", slow_holders, [None], None),
    ("tests: back-off transfers", back_off_transfers, [0, 1, 2], None),
]


def same_exploration(program, **options):
    fast = explore(program, **options)
    every = explore(program, mode="every", **options)
    if options.get("stop_at_step_limit", True) and any(isinstance(o, StepLimit) for o in every.outcomes):
        assert "ran past max_steps" in fast.note  # then both run schedules up to the first that spins
    else:
        assert fast.mode == "model", fast.note
    assert fast.outcomes == every.outcomes
    assert fast.schedules == every.schedules
    assert fast.examples == every.examples
    assert fast.complete == every.complete
    return fast


@pytest.mark.parametrize("name, program, bounds, options", CORPUS, ids=[c[0] for c in CORPUS])
def test_model_explorer_equals_every_schedule_on_the_lessons_programs(name, program, bounds, options):
    for bound in bounds:
        same_exploration(program, preemption_bound=bound, **(options or {}))


def test_model_counts_three_and_four_threads_exactly():
    three = explore(racy_counter(3, 2))
    assert three.mode == "model" and three.complete
    assert three.schedules == interleavings(4, 4, 4) == 34_650
    assert dict(three.outcomes) == {2: 10428, 3: 15180, 4: 7512, 5: 1440, 6: 90}
    assert three.runs < 200  # a few runs, not one per schedule


def test_replaying_an_example_reaches_its_outcome():
    exploration = explore(racy_counter(3, 2))
    for outcome, schedule in exploration.examples.items():
        assert replay(racy_counter(3, 2), schedule).outcome == outcome


# --- generated programs -----------------------------------------------------------------------------
#
# Programs made of the course's operations, in threads that read and branch on what they
# see: racy cells, locks (nested, in both orders: deadlocks), try_lock, atomics, sleeps,
# panics that poison, nested spawns, Arc counts, joins in any order, some with timeouts.

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from rustsync import JoinTimeout, ThreadPanicked  # noqa: E402

CELLS, MUTEXES = 2, 2

_lock2 = st.tuples(st.just("lock2"), st.integers(0, MUTEXES - 1), st.integers(0, MUTEXES - 1))
_op = st.one_of(
    _lock2,
    st.tuples(st.just("rw"), st.integers(0, CELLS - 1), st.integers(1, 2)),
    st.tuples(st.just("set"), st.integers(0, CELLS - 1), st.integers(0, 3)),
    st.tuples(st.just("branch"), st.integers(0, CELLS - 1)),
    st.tuples(st.just("lock"), st.integers(0, MUTEXES - 1), st.integers(1, 3)),
    _lock2,
    st.tuples(st.just("lockcell"), st.integers(0, MUTEXES - 1), st.integers(0, CELLS - 1)),
    st.tuples(st.just("try"), st.integers(0, MUTEXES - 1)),
    st.tuples(st.just("add"), st.integers(1, 2)),
    st.tuples(st.just("sleep")),
    st.tuples(st.just("count")),
    st.tuples(st.just("panic"), st.integers(0, MUTEXES - 1)),
)
_thread = st.lists(_op, min_size=1, max_size=2)
_nested = st.tuples(st.just("child"), _thread)
_spec = st.fixed_dictionaries({
    "threads": st.lists(st.lists(st.one_of(_op, _op, _op, _nested), min_size=1, max_size=3), min_size=2, max_size=3),
    "joins": st.permutations(range(3)),
    "timed": st.booleans(),
    "main_op": st.one_of(st.none(), _op),
    "checked": st.booleans(),
    "peek": st.booleans(),
})


def _run_ops(ops, cells, mutexes, atomic, arc):
    seen = []
    for op in ops:
        kind = op[0]
        if kind == "rw":
            cells[op[1]].set(cells[op[1]].get() + op[2])
        elif kind == "set":
            cells[op[1]].set(op[2])
        elif kind == "branch":
            value = cells[op[1]].get()
            cells[op[1]].set(value * 2 if value % 2 else value + 3)
            seen.append(value)
        elif kind in ("lock", "lock2", "lockcell", "panic"):
            try:
                guard = mutexes[op[1]].lock()
            except PoisonError as err:
                guard = err.into_inner()
                seen.append("poisoned")
            with guard:
                if kind == "lock":
                    guard.value += op[2]
                elif kind == "lock2" and op[2] != op[1]:
                    try:
                        inner = mutexes[op[2]].lock()
                    except PoisonError as err:
                        inner = err.into_inner()
                    with inner:
                        inner.value += guard.value
                elif kind == "lockcell":
                    cells[op[2]].set(cells[op[2]].get() + guard.value)
                elif kind == "panic":
                    guard.value += 100
                    raise ValueError("boom")
        elif kind == "try":
            try:
                with mutexes[op[1]].try_lock() as guard:
                    guard.value += 10
                    seen.append("got")
            except WouldBlock:
                seen.append("busy")
            except PoisonError as err:
                drop(err)
                seen.append("poisoned")
        elif kind == "add":
            atomic.fetch_add(op[1])
        elif kind == "sleep":
            sleep(0)
        elif kind == "count":
            seen.append(Arc.strong_count(arc))
        elif kind == "child":
            sub = op[1]
            handle = spawn_unchecked(lambda: _run_ops(sub, cells, mutexes, atomic, arc))
            try:
                seen.append(handle.join())
            except ThreadPanicked:
                seen.append("child panicked")
    return tuple(seen)


def generated(spec):
    """A program from a spec drawn by hypothesis."""

    def program():
        cells = [RacyCell(0, name=f"c{i}") for i in range(CELLS)]
        mutexes = [Arc(Mutex(0, name=f"m{i}")) for i in range(MUTEXES)]
        atomic = Arc(AtomicUsize(0, name="atomic"))
        arc = Arc(0, name="arc")
        handles = []
        for ops in spec["threads"]:
            if spec["checked"]:
                mine = (list(cells), [Arc.clone(m) for m in mutexes], Arc.clone(atomic), Arc.clone(arc))
                handles.append(spawn(lambda: _run_ops(ops, *mine)))
            else:
                handles.append(spawn_unchecked(lambda: _run_ops(ops, cells, mutexes, atomic, Arc.clone(arc))))
            if spec["main_op"] is not None and len(handles) == 1:
                _run_ops([spec["main_op"]], cells, mutexes, atomic, arc)
        results = {}
        for i in spec["joins"]:
            if i < len(handles):
                try:
                    results[i] = handles[i].join(timeout=1) if spec["timed"] else handles[i].join()
                except ThreadPanicked:
                    results[i] = "panicked"
                except JoinTimeout:
                    results[i] = "timed out"
        values = []
        for m in mutexes:
            try:
                guard = m.lock()
            except PoisonError as err:
                guard = err.into_inner()
            with guard:
                values.append(guard.value)
        cell_values = [c.peek() if spec["peek"] else c.get() for c in cells]
        return (tuple(cell_values), tuple(values), atomic.load(), tuple(sorted(results.items())))

    return program


@settings(max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=_spec, bound=st.sampled_from([None, None, None, 1, 2]))
def test_model_explorer_equals_every_schedule_on_generated_programs(spec, bound):
    program = generated(spec)
    # (a generous step timeout: the first spawn of a closure reads this file's source for the move checks)
    every = explore(program, mode="every", preemption_bound=bound, max_schedules=3000, step_timeout=30)
    if not every.complete:
        return  # too many schedules to run them all in a test
    fast = explore(program, preemption_bound=bound, step_timeout=30)
    assert fast.mode == "model", fast.note
    assert fast.outcomes == every.outcomes
    assert fast.examples == every.examples
    assert fast.complete


# --- the simplest failing schedule -------------------------------------------------------------------


def _abstract_racy_schedules(threads, increments):
    """Every interleaving of `threads` racy workers (read, then write +1), with its final count and preemptions.

    Written without the scheduler, to check it: a preemption is a switch away from a
    thread that could have taken the next step.
    """
    steps = 2 * increments
    out = []

    def go(pcs, seen, cell, prev, schedule, preemptions):
        live = [t for t in range(threads) if pcs[t] < steps]
        if not live:
            out.append((cell, preemptions, list(schedule)))
            return
        for t in live:
            cost = preemptions + (prev is not None and prev != t and prev in live)
            pcs2, seen2 = list(pcs), list(seen)
            if pcs[t] % 2 == 0:
                seen2[t], cell2 = cell, cell
            else:
                cell2 = seen[t] + 1
            pcs2[t] += 1
            schedule.append(t + 1)
            go(pcs2, seen2, cell2, t, schedule, cost)
            schedule.pop()

    go([0] * threads, [0] * threads, 0, None, [], 0)
    return out


def test_simplest_lost_update_needs_one_preemption_and_count_two_needs_four():
    every = _abstract_racy_schedules(2, 3)
    assert len(every) == 924
    fewest = {target: min(p for count, p, _ in every if test(count))
              for target, test in [("lost", lambda c: c < 6), ("two", lambda c: c == 2)]}
    assert fewest == {"lost": 1, "two": 4}

    lost = minimal_schedule(racy_counter(2, 3), lambda count: count < 6)
    assert lost.preemptions == 1 and lost.outcome < 6
    assert needs(lost.preemptions) == "needs 1 preemption"
    two = minimal_schedule(racy_counter(2, 3), 2)
    assert two.preemptions == 4 and two.outcome == 2
    assert needs(two.preemptions) == "needs 4 preemptions"
    assert replay(racy_counter(2, 3), two.schedule).outcome == 2
    # the same from running every schedule, bound by bound
    assert minimal_schedule(racy_counter(2, 3), 2, mode="every").preemptions == 4


def test_simplest_schedule_is_the_shortest_among_the_fewest_preemptions():
    # a deadlock of the opposite diners: one preemption, and two steps suffice
    found = minimal_schedule(two_diners(dine), lambda o: isinstance(o, Deadlock))
    assert found.deadlock is not None
    assert found.preemptions == 1
    assert len(found.schedule) == 2
    every = minimal_schedule(two_diners(dine), lambda o: isinstance(o, Deadlock), mode="every")
    assert (every.preemptions, len(every.schedule)) == (1, 2)
    assert minimal_schedule(two_diners(dine, same_order=True), lambda o: isinstance(o, Deadlock)) is None
    assert minimal_schedule(mutex_counter(2, 2), lambda count: count != 4) is None
    assert needs(0) == "needs no preemption"


def test_simplest_schedule_respects_a_preemption_limit():
    assert minimal_schedule(racy_counter(2, 3), 2, max_preemptions=3) is None
    assert minimal_schedule(racy_counter(2, 3), 2, max_preemptions=4).preemptions == 4


# --- engine defects, each with its test -----------------------------------------------------------------


STARTED = []


def blocks_on_a_raw_lock():
    """Every schedule blocks one thread for 1.5 s in a threading.Lock, outside the scheduler."""
    STARTED.append(time.monotonic())
    cell = RacyCell(0)

    def stuck():
        cell.set(1)
        gate = threading.Lock()
        gate.acquire()
        gate.acquire(timeout=1.5)

    def other():
        cell.set(2)

    a, b = spawn_unchecked(other), spawn_unchecked(stuck)
    a.join()
    b.join()
    return cell.peek()


@pytest.mark.parametrize("mode", ["every", "model"])
def test_after_stuck_thread_no_schedule_runs_in_the_background(mode):
    STARTED.clear()
    with pytest.raises(StuckThread, match="blocked outside them, in a call Python cannot interrupt"):
        explore(blocks_on_a_raw_lock, step_timeout=0.3, mode=mode)
    runs = len(STARTED)
    time.sleep(2.5)  # the blocked call has returned by now: nothing may go on to the next schedule
    assert len(STARTED) == runs
    assert not [t for t in threading.enumerate() if t.name == "rustsync-scheduler"]
    # and a later exploration is not slowed by leftovers
    assert explore(racy_counter(2, 2)).complete


def test_endless_loop_message_says_it_loops_not_that_it_is_blocked():
    def program():
        def work():
            while True:
                pass

        spawn(work).join()

    for mode in ("every", "model"):
        with pytest.raises(StuckThread) as caught:
            explore(program, step_timeout=0.3, mode=mode)
        assert "loops forever" in str(caught.value)
        assert "cannot interrupt" not in str(caught.value)


def test_no_crash_at_exit_after_a_stuck_thread():
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import threading
        from rustsync import spawn
        from rustsync.sched import RacyCell, StuckThread, explore

        def program():
            cell = RacyCell(0)
            def stuck():
                cell.set(1)
                gate = threading.Lock()
                gate.acquire()
                gate.acquire(timeout=0.8)
            def other():
                cell.set(2)
            a, b = spawn(other), spawn(stuck)
            a.join()
            b.join()

        def spins():
            def work():
                while True:
                    pass
            spawn(work).join()

        for p in (program, spins):
            try:
                explore(p, step_timeout=0.3)
            except StuckThread:
                pass
        print("exiting")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert "exiting" in done.stdout


def spins_in_one_schedule(setter_first=False):
    """A thread waits in a loop for the other's flag; schedules that never run the setter spin forever."""
    flag = RacyCell(0, name="flag")

    def waiter():
        while flag.get() == 0:
            pass
        return "saw it"

    def setter():
        flag.set(1)

    if setter_first:
        b = spawn_unchecked(setter)
        a = spawn_unchecked(waiter)
    else:
        a = spawn_unchecked(waiter)
        b = spawn_unchecked(setter)
    return (a.join(), b.join())


@pytest.mark.parametrize("mode", ["every", "model"])
def test_an_over_long_schedule_is_an_outcome_and_what_was_found_is_kept(mode):
    # by default the exploration ends at the first schedule past max_steps, and says so
    first = explore(lambda: spins_in_one_schedule(setter_first=True), max_steps=20, preemption_bound=1, mode=mode)
    assert not first.complete
    assert [o for o in first.outcomes if isinstance(o, StepLimit)] == [StepLimit(20, (0, 1, 2))]
    assert ("saw it", None) in first.outcomes  # found before it, kept
    # or it goes on, and every schedule cut at max_steps is counted
    exploration = explore(spins_in_one_schedule, max_steps=20, preemption_bound=1, mode=mode,
                          stop_at_step_limit=False)
    limits = [o for o in exploration.outcomes if isinstance(o, StepLimit)]
    assert limits, exploration
    assert ("saw it", None) in exploration.outcomes  # what the other schedules found is kept
    assert exploration.complete
    limit = limits[0]
    assert limit.running == (0, 1, 2) and str(limit) == "still running after 20 steps: threads 0, 1, 2"
    with pytest.raises(ScheduleError, match=r"more than 20 steps .*thread 0, thread 1, thread 2 were still running; "
                                            r"the schedule \[\.\.\., "):
        replay(spins_in_one_schedule, exploration.examples[limit], max_steps=20)


def test_over_long_schedules_count_the_same_in_both_modes():
    counted = same_exploration(spins_in_one_schedule, max_steps=12, stop_at_step_limit=False)
    assert counted.complete and any(isinstance(o, StepLimit) for o in counted.outcomes)


def test_a_spinning_program_is_reported_as_a_step_limit_not_a_stuck_thread():
    # how long it takes is measured by bench/bench_sched.py, not here: a loaded machine is slow
    exploration = explore(spins_in_one_schedule, preemption_bound=3)
    assert StepLimit(10_000, (0, 1, 2)) in exploration.outcomes and not exploration.complete


def test_a_strict_replay_refuses_entries_left_after_the_program_ended():
    program = racy_counter(2, 1)
    full = replay(program, [1, 1, 2, 2], strict=True)
    assert full.schedule == [1, 1, 2, 2] and full.outcome == 2
    with pytest.raises(ScheduleError, match=r"ended after 4 steps, but the schedule goes on: \[0, 5\] were never used"):
        replay(program, [1, 1, 2, 2, 0, 5], strict=True)
    assert replay(program, [1, 1, 2, 2, 0, 5]).schedule == [1, 1, 2, 2]  # not strict: the rest is not used


def test_replay_refuses_true_and_floats_as_thread_ids():
    program = racy_counter(2, 1)
    with pytest.raises(ScheduleError, match=r"step 0 of the schedule is True \(bool\)"):
        replay(program, [True, 2])
    with pytest.raises(ScheduleError, match=r"step 1 of the schedule is 2.0 \(float\)"):
        replay(program, [1, 2.0])
    with pytest.raises(ScheduleError, match="a schedule is a list of thread numbers"):
        replay(program, 3)


def test_a_thread_spawned_later_is_not_yet_there_rather_than_missing():
    def program():
        counter = Mutex(0, name="counter")
        with counter.lock():  # a step before any thread is spawned
            pass
        cell = RacyCell(0)
        spawn_unchecked(lambda: cell.set(1)).join()
        return cell.peek()

    with pytest.raises(ScheduleError, match=r"step 0: there is no thread 1 yet: so far the program has started only "
                                            r"thread 0 \(threads are numbered in the order `spawn` creates them\)"):
        replay(program, [1])
    assert replay(program, [0, 1]).outcome == 1


@pytest.mark.parametrize("mode", ["every", "model"])
def test_unhashable_outcomes_are_counted(mode):
    def program():
        cell = RacyCell(0)
        order = Arc(Mutex([]))
        handles = []
        for n in (1, 2):
            mine = Arc.clone(order)

            def work():
                with mine.lock() as names:
                    names.value.append(n)
                cell.set(n)

            handles.append(spawn(work))
        for h in handles:
            h.join()
        with order.lock() as names:
            return {"order": list(names.value), "last": cell.peek(), "seen": {cell.peek()}}

    exploration = explore(program, mode=mode)
    assert exploration.schedules == sum(exploration.outcomes.values())
    outcome = next(iter(exploration.outcomes))
    assert outcome == {"order": (1, 2), "last": outcome["last"], "seen": frozenset({outcome["last"]})}
    assert len(exploration.outcomes) == 4  # two orders of the appends, two last writers
    run_ = replay(program, exploration.examples[outcome])
    assert run_.outcome["order"] == list(outcome["order"])  # a replay keeps the real value


# --- the scheduler's join handle behaves like the real one -------------------------------------------


def test_a_second_join_raises_as_with_real_threads():
    def program():
        h = spawn(lambda: 7)
        first = h.join()
        try:
            h.join()
        except RuntimeError as err:
            return first, str(err)

    outcome = run(program).outcome
    assert outcome[0] == 7
    assert "was already joined: join() consumes its handle" in outcome[1]
    assert outcome[1] == f"thread '{'thread-1'}' was already joined: join() consumes its handle"


def test_join_with_a_timeout_gives_up_when_every_thread_waits():
    from rustsync import JoinTimeout

    def program():
        m = Arc(Mutex(0, name="m"))
        guard = m.lock()
        mine = Arc.clone(m)

        def work():
            with mine.lock():
                return "locked"

        h = spawn(work)
        try:
            h.join(timeout=1)
        except JoinTimeout:
            drop(guard)
            return ("timed out", h.join())
        return "joined"

    exploration = explore(program)
    assert set(exploration.outcomes) == {("timed out", "locked")}
    assert exploration.deadlocks == []
    same_exploration(program)
    # a thread that can finish is waited for, as join() would
    assert run(lambda: spawn(lambda: 3).join(timeout=0.5)).outcome == 3


def test_join_timeout_refusal_is_a_panic_outcome():
    outcome = run(lambda: spawn(lambda: 3).join(timeout="soon")).outcome
    assert isinstance(outcome, Panic) and "takes a number of seconds" in outcome.error


def test_is_finished_is_seen_by_the_model():
    def program():
        cell = RacyCell(0)
        h = spawn_unchecked(lambda: cell.set(1))
        cell.get()  # a step: thread 1 may run first
        seen = h.is_finished()
        h.join()
        return seen

    exploration = same_exploration(program)
    assert set(exploration.outcomes) == {True, False}


# --- what the model assumes, and what it does when a program breaks it -------------------------------

SHARED = []


def shares_a_plain_list():
    """Threads that talk through a plain Python list: the model cannot see it."""
    SHARED.clear()
    cell = RacyCell(0)

    def first():
        cell.set(1)
        SHARED.append("first")

    def second():
        cell.set(2)
        return len(SHARED)

    a, b = spawn_unchecked(first), spawn_unchecked(second)
    a.join()
    return b.join(), cell.peek()


def test_a_program_sharing_plain_data_makes_the_model_fall_back():
    fast = explore(shares_a_plain_list)
    every = explore(shares_a_plain_list, mode="every")
    assert fast.mode == "every" and "fell back" in fast.note
    assert fast.outcomes == every.outcomes


def test_exploration_reports_its_mode_and_work():
    fast = explore(racy_counter(2, 2))
    every = explore(racy_counter(2, 2), mode="every")
    assert (fast.mode, every.mode) == ("model", "every")
    assert every.runs == 70 and fast.runs < 70
    assert isinstance(fast, Exploration)
    with pytest.raises(ValueError, match="mode must be one of"):
        explore(racy_counter(2, 2), mode="fast")


# --- a guard nobody keeps is dropped at once, under the scheduler too -------------------------------


def deleting_worker(counter, times):
    for _ in range(times):
        guard = counter.lock()
        guard.value += 1
        del guard  # the last reference: the guard is dropped, and the lock released, here


def test_a_deleted_guard_releases_its_lock_under_the_scheduler():
    def program():
        m = Mutex(0, name="m")
        guard = m.lock()
        guard.value += 1
        del guard
        with m.lock() as again:  # would be a DeadlockError if the lock were still held
            again.value += 1
        return m.peek()

    result = run(program, seed=0)
    assert result.outcome == 2
    unlocks = [e for e in result.trace if e.op == "unlock"]
    assert [(e.thread, e.obj, e.step) for e in unlocks] == [(0, "m", None), (0, "m", None)]


def test_a_guard_never_kept_releases_at_the_end_of_its_statement_under_the_scheduler():
    def program():
        counter = Arc(Mutex(0))
        mine = Arc.clone(counter)

        def work():
            first = mine.lock().value  # a temporary guard: released at the end of this line
            with mine.lock() as again:  # so this is no second lock by the same thread
                again.value = first + 1
            return first

        helper = spawn(work)
        seen = helper.join()
        with counter.lock() as count:
            return seen, count.value

    exploration = same_exploration(program)
    assert dict(exploration.outcomes) == {(0, 1): 1}


def test_workers_that_delete_their_guards_count_as_with_blocks_in_both_modes():
    deleting = same_exploration(lambda: two_workers(deleting_worker, 2))
    with_blocks = explore(lambda: two_workers(locked_worker, 2))
    assert deleting.mode == "model"
    assert dict(deleting.outcomes) == dict(with_blocks.outcomes) == {4: 6}


def test_deleting_the_guard_of_a_with_block_inside_it_releases_once_at_its_end():
    def program():
        m = Mutex(0, name="m")
        with m.lock() as guard:
            guard.value += 1
            del guard  # the with statement still refers to the guard: the lock stays held
            held_inside = m.is_locked()
        return held_inside, m.is_locked(), m.peek()

    result = run(program, seed=0)
    assert result.outcome == (True, False, 1)
    assert len([e for e in result.trace if e.op == "unlock"]) == 1


def test_a_guard_freed_while_a_deadlocked_run_unwinds_raises_nothing(monkeypatch):
    unraisable = []
    monkeypatch.setattr("sys.unraisablehook", unraisable.append)
    for program in (forgetful_host, two_diners(dine)):
        exploration = explore(program, mode="every")
        assert exploration.deadlocks
        for outcome, schedule in exploration.examples.items():
            assert replay(program, schedule).outcome == outcome
    assert unraisable == []


def test_a_guard_freed_by_the_garbage_collector_in_another_thread_only_releases(monkeypatch):
    import gc

    def program():
        m = Arc(Mutex(0, name="m"))
        mine = Arc.clone(m)

        def keeper():
            guard = mine.lock()
            cycle = [guard]
            cycle.append(cycle)  # only the garbage collector can free this guard
            del guard, cycle
            sleep(0)
            return "kept"

        def collector():
            sleep(0)
            gc.collect()  # frees the keeper's guard here, in this thread, while the keeper is paused
            return "collected"

        first, second = spawn(keeper), spawn(collector)
        return first.join(), second.join(), m.is_locked()

    unraisable = []
    monkeypatch.setattr("sys.unraisablehook", unraisable.append)
    gc.disable()
    try:
        result = replay(program, [1, 2, 1], strict=True)
    finally:
        gc.enable()
    assert result.outcome == ("kept", "collected", False)
    assert unraisable == []
    unlocks = [e for e in result.trace if e.op == "unlock"]
    assert [(e.thread, e.step) for e in unlocks] == [(1, None)]
    collected_at = next(i for i, e in enumerate(result.trace) if e.step == 1)
    assert result.trace.index(unlocks[0]) > collected_at  # released during thread 2's step


# --- try_lock: a release is a step while another thread waits in try_lock -------------------------


def try_once_worker(counter):
    try:
        with counter.try_lock() as count:
            count.value += 1
    except WouldBlock:
        pass  # gives up: the update is lost


def try_until_done_worker(counter):
    while True:
        try:
            with counter.try_lock() as count:
                count.value += 1
            break
        except WouldBlock:
            sleep(0)


def two_trying(worker, threads=2):
    def program():
        counter = Arc(Mutex(0, name="counter"))
        handles = []
        for _ in range(threads):
            mine = Arc.clone(counter)
            handles.append(spawn(lambda: worker(mine)))
        for handle in handles:
            handle.join()
        with counter.lock() as count:
            return count.value
    return program


def test_a_try_lock_that_gives_up_loses_an_update_in_both_modes():
    exploration = same_exploration(two_trying(try_once_worker))
    assert exploration.complete
    assert dict(exploration.outcomes) == {1: 2, 2: 2}
    lost = replay(two_trying(try_once_worker), exploration.example(1))
    steps = [(e.thread, e.op, e.value) for e in lost.trace if e.step is not None]
    assert steps[:2] == [(1, "try_lock", None), (2, "try_lock", "WouldBlock")]
    assert lost.preemptions == 1  # thread 2 ran while thread 1 could go on to release the lock
    simplest = [minimal_schedule(two_trying(try_once_worker), 1, mode=mode) for mode in ("model", "every")]
    assert simplest[0].schedule == simplest[1].schedule and simplest[0].preemptions == 1
    kept = replay(two_trying(try_once_worker), [1, 1])
    steps = [(e.thread, e.op) for e in kept.trace if e.step is not None]
    assert steps[:3] == [(1, "try_lock"), (1, "unlock"), (2, "try_lock")] and kept.outcome == 2


def test_a_try_lock_retry_loop_never_loses_an_update_and_ends():
    for bound in (0, 1, 2, 3, None):
        exploration = same_exploration(two_trying(try_until_done_worker), preemption_bound=bound)
        assert exploration.complete
        assert set(exploration.outcomes) == {2}, bound
    # three threads: two that retry in turn can keep the third from releasing the lock for ever (it is
    # never scheduled), so schedules of every length exist; none of them loses an update
    three = same_exploration(two_trying(try_until_done_worker, 3), preemption_bound=2, max_steps=30,
                             stop_at_step_limit=False)
    assert three.complete and 3 in three.outcomes
    assert all(o == 3 or isinstance(o, StepLimit) for o in three.outcomes)
    retried = replay(two_trying(try_until_done_worker), [1, 2])
    assert retried.outcome == 2
    assert [e.value for e in retried.trace if e.op == "try_lock"] == [None, "WouldBlock", None]


def test_try_lock_meets_a_lock_held_across_other_steps_in_both_modes():
    def program():
        counter = Arc(Mutex(0, name="counter"))
        mine = Arc.clone(counter)

        def holder():
            with mine.lock() as count:
                sleep(0)  # a step while holding the lock
                count.value += 1

        first = spawn(holder)
        theirs = Arc.clone(counter)
        second = spawn(lambda: try_once_worker(theirs))
        first.join()
        second.join()
        return counter.peek()

    exploration = same_exploration(program)
    assert set(exploration.outcomes) == {1, 2}


def test_programs_that_only_lock_take_no_unlock_steps_and_keep_their_counts():
    # counts measured before releases could be steps: they must not change
    expected = [
        (mutex_counter(2, 2), None, {4: 6}),
        (mutex_counter(3, 2), None, {6: 90}),
        (lambda: count_with_arc(3), None, {3: 6}),
        (lambda: audited_transfers([(0, 1, 10), (1, 0, 20)]), 3, {((110, 90), 200): 6}),
        (lambda: two_workers(unlocked_between_worker, 1), None, {2: 2, 1: 4}),
    ]
    for program, bound, outcomes in expected:
        exploration = same_exploration(program, preemption_bound=bound)
        assert dict(exploration.outcomes) == outcomes
        for schedule in exploration.examples.values():
            trace = replay(program, schedule).trace
            assert all(e.step is None for e in trace if e.op == "unlock")
    diners = explore(two_diners(dine))
    assert diners.schedules == 4 and len(diners.deadlocks) == 1


def test_a_watched_release_that_nobody_watches_any_more_goes_on_without_a_step():
    # thread 2 gives up at once (WouldBlock) and goes on to a sleep: thread 1's release, paused
    # while thread 2 waited in try_lock, then goes on by itself, as an event
    def program():
        counter = Arc(Mutex(0, name="counter"))
        mine, theirs = Arc.clone(counter), Arc.clone(counter)
        first = spawn(lambda: try_once_worker(mine))

        def second():
            try_once_worker(theirs)
            sleep(0)

        other = spawn(second)
        first.join()
        other.join()
        return counter.peek()

    result = replay(program, [1, 2], strict=False)
    unlocks = [e for e in result.trace if e.op == "unlock"]
    assert unlocks and all(e.step is None for e in unlocks), result.show()
    assert result.outcome == 1
    same_exploration(program)


# --- which threads were joined ---------------------------------------------------------------


def test_a_run_names_the_threads_nobody_joined():
    def program():
        handles = [spawn(lambda: 1) for _ in range(3)]
        handles[0].join()
        handles[2].join()
        return "done"

    assert run(program, seed=1).unjoined == (2,)
    assert replay(mutex_counter(2, 1), [1, 2]).unjoined == ()


def test_a_join_that_raises_the_thread_s_panic_counts_as_a_join_and_one_that_times_out_does_not():
    from rustsync import JoinTimeout, ThreadPanicked

    def program():
        m = Arc(Mutex(0, name="m"))
        mine = Arc.clone(m)
        guard = m.lock()
        panicking = spawn(lambda: 1 // 0)
        waiting = spawn(lambda: mine.lock().value)
        try:
            panicking.join()
        except ThreadPanicked:
            pass
        try:
            waiting.join(timeout=1)
        except JoinTimeout:
            pass
        drop(guard)
        return "done"

    result = run(program, seed=0)
    assert result.outcome == "done"
    assert result.unjoined == (2,)


def test_a_thread_joined_by_another_thread_is_joined():
    def program():
        inner = []

        def parent():
            child = spawn_unchecked(lambda: "child")
            inner.append(child)
            return child.join()

        handle = spawn_unchecked(parent)
        return handle.join()

    result = run(program, seed=0)
    assert result.outcome == "child" and result.unjoined == ()


# --- invariants observed between steps ---------------------------------------------------------------

from rustsync.sched import InvariantStep, Violation  # noqa: E402

BANK = []


def bank(transfer_between, moves):
    """Accounts of 100 each, one Mutex each, a thread per transfer; the accounts are in BANK for the invariant."""
    def program():
        accounts = [Arc(Mutex(100, name=f"account {i}")) for i in range(3)]
        BANK[:] = accounts
        handles = []
        for source, target, amount in moves:
            mine = [Arc.clone(account) for account in accounts]
            handles.append(spawn(lambda: transfer_between(mine, source, target, amount)))
        for handle in handles:
            handle.join()
        return tuple(account.peek() for account in accounts)
    return program


def transfer_in_two_halves(accounts, source, target, amount):
    with accounts[source].lock() as money:
        money.value -= amount
    with accounts[target].lock() as money:  # in between, the money is in neither account
        money.value += amount


def money_is_kept():
    """Between steps, when no account is locked, the accounts hold the 300 they started with."""
    if any(account.is_locked() for account in BANK):
        return None
    total = sum(account.peek() for account in BANK)
    return None if total == 300 else f"the accounts hold {total}, not 300"


MOVES = [(0, 1, 10), (1, 2, 20), (2, 0, 30)]


def test_an_invariant_finds_money_in_flight_and_both_modes_agree():
    program = bank(transfer_in_two_halves, MOVES)
    fast = explore(program, invariant=money_is_kept)
    every = explore(program, invariant=money_is_kept, mode="every")
    assert fast.mode == "every" and "invariant" in fast.note
    assert fast.outcomes == every.outcomes and fast.examples == every.examples
    assert fast.violations and fast.complete
    assert all(isinstance(v, Violation) and "not 300" in v.message for v in fast.violations)
    assert sum(fast.outcomes.values()) == fast.schedules
    for violation in fast.violations:
        schedule = fast.examples[violation]
        replayed = replay(program, schedule, invariant=money_is_kept)
        assert replayed.outcome == violation
        assert replayed.violation.step == len(replayed.schedule) - 1 == violation.step
        assert not replayed.completed


def test_an_invariant_that_holds_changes_no_count():
    program = bank(transfer, MOVES)
    checked = explore(program, invariant=money_is_kept, preemption_bound=3)
    plain = explore(program, preemption_bound=3)
    assert checked.violations == []
    assert checked.outcomes == plain.outcomes and checked.schedules == plain.schedules


def test_the_invariant_is_called_after_every_step_and_before_the_first():
    calls = []

    def counting():
        calls.append(len(BANK))
        return None

    result = replay(bank(transfer, MOVES[:2]), [1, 1, 2, 2])
    calls.clear()
    again = replay(bank(transfer, MOVES[:2]), result.schedule, invariant=counting)
    assert again.outcome == result.outcome
    assert len(calls) == len(result.schedule) + 1


def test_the_simplest_schedule_breaking_an_invariant():
    program = bank(transfer_in_two_halves, MOVES)
    found = minimal_schedule(program, lambda o: isinstance(o, Violation), invariant=money_is_kept)
    assert isinstance(found.outcome, Violation)
    assert found.preemptions == 0 and found.schedule == [1]


def test_an_invariant_may_not_take_a_step_nor_return_anything_but_none_or_a_string():
    def locks():
        with BANK[0].lock():
            return None

    with pytest.raises(InvariantStep, match="may not take one"):
        run(bank(transfer, MOVES), seed=0, invariant=locks)
    with pytest.raises(TypeError, match="returns None while it holds, or a string"):
        run(bank(transfer, MOVES), seed=0, invariant=lambda: True)
    cell = RacyCell(0)
    with pytest.raises(InvariantStep):
        run(bank(transfer, MOVES), seed=0, invariant=lambda: cell.get())
    assert run(bank(transfer, MOVES), seed=0, invariant=lambda: None if cell.peek() == 0 else "moved").completed


def test_an_invariant_may_peek_at_a_mutex_that_moved_into_a_thread():
    seen = []

    def program():
        counter = Mutex(0, name="counter")
        seen[:] = [counter]

        def work():
            with counter.lock() as count:  # `counter` moved into this thread
                count.value += 1

        spawn(work).join()
        return "done"

    def at_most_one():
        value = seen[0].peek()
        return None if value <= 1 else f"counter at {value}"

    assert run(program, seed=0, invariant=at_most_one).outcome == "done"
    assert Violation("same words", 3) == Violation("same words", 5)  # one outcome, wherever it happened
