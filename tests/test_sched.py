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
    before = threading.active_count()
    for _ in range(20):
        run(two_locks_opposite_order, seed=3)
    time.sleep(0.05)
    assert threading.active_count() <= before + 1


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
