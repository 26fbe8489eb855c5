"""`rustsync.sched._engine`: one execution of a program, its threads, its trace, and who chooses.

A seeded run and what it records (choices, schedule, trace), spawn and join, lock steps
and releases, deadlocks with who waits for whom, a guard freed by `del` against one
dropped with `drop()`, the exact step limit, and the default choice of thread.
"""

import pytest

from rustsync import Arc, Mutex, ThreadPanicked, WouldBlock, drop, spawn
from rustsync.lab import opposite_diners, racy_counter
from rustsync.sched import Deadlock, Panic, RacyCell, ScheduleError, replay, run, spawn_unchecked
from rustsync.sched._engine import _cycle, _default, _preempts, _try_order


def test_a_seeded_run_records_each_choice_among_the_threads_that_could_run():
    result = run(racy_counter(3, 2), seed=7)
    assert result.schedule == [tid for _, tid, _, _ in result.choices]
    previous = None
    for enabled, tid, prev, _ in result.choices:
        assert tid in enabled
        assert prev == previous
        previous = tid
    again = replay(racy_counter(3, 2), result.schedule, strict=True)
    assert [str(e) for e in again.trace] == [str(e) for e in result.trace]
    assert again.outcome == result.outcome


def test_a_racy_cell_read_and_write_are_steps_and_peek_is_not():
    result = replay(racy_counter(1, 1), [1, 1])
    steps = [(e.step, e.thread, e.op, e.obj, e.value) for e in result.trace if e.step is not None]
    assert steps == [(0, 1, "read", "counter", 0), (1, 1, "write", "counter", 1)]
    assert result.outcome == 1
    assert not [e for e in result.trace if e.op == "peek"]


def test_spawn_runs_the_child_up_to_its_first_step_before_the_parent_goes_on():
    def program():
        log = []
        cell = RacyCell(0)

        def child():
            log.append("child starts")
            cell.get()
            log.append("child read")

        handle = spawn_unchecked(child)
        log.append("parent goes on")
        handle.join()
        return tuple(log)

    assert run(program).outcome == ("child starts", "parent goes on", "child read")


def test_a_join_that_waits_is_an_event_not_a_step_and_the_handle_says_when_its_thread_finished():
    def program():
        cell = RacyCell(0)
        handle = spawn_unchecked(lambda: cell.set(1))
        before = repr(handle)
        handle.join()
        return before, repr(handle)

    result = run(program)
    assert result.outcome == ("JoinHandle { thread: 'thread-1', running }",
                              "JoinHandle { thread: 'thread-1', finished }")
    joins = [e for e in result.trace if e.op == "join"]
    assert [(e.step, e.thread, e.obj) for e in joins] == [(None, 0, "thread-1")]
    assert result.schedule == [1]


def test_a_lock_step_names_the_locks_already_held_and_releases_are_events():
    def program():
        outer, inner = Mutex(0, name="outer"), Mutex(0, name="inner")
        with outer.lock():
            with inner.lock() as guard:
                guard.value = 1
        return "ok"

    result = run(program)
    assert [(e.step, e.op, e.obj, e.held) for e in result.trace] == [
        (0, "lock", "outer", ()),
        (1, "lock", "inner", ("outer",)),
        (None, "write", "inner", ("outer", "inner")),
        (None, "unlock", "inner", ("outer",)),
        (None, "unlock", "outer", ()),
    ]


def test_a_deadlock_lists_every_waiting_thread_with_main_s_join_outside_the_cycle():
    result = replay(opposite_diners, [1, 2])
    assert isinstance(result.outcome, Deadlock) and result.deadlock == result.outcome
    assert result.outcome.waits == ((0, "join thread-1", 1), (1, "knife", 2), (2, "fork", 1))
    assert result.outcome.cycle == (1, 2)
    assert not result.completed


def test_the_cycle_is_found_past_a_thread_that_waits_for_it_and_missing_when_the_waits_end():
    assert _cycle([(0, "join", 1), (1, "a", 2), (2, "b", 1)]) == (1, 2)
    assert _cycle([(3, "c", 4), (4, "a", 5), (5, "b", 3)]) == (3, 4, 5)
    assert _cycle([(0, "join", 1), (1, "a", None)]) == ()


def test_locking_a_mutex_the_thread_already_holds_is_a_panic_not_a_wait():
    def program():
        m = Mutex(0, name="m")
        with m.lock():
            m.lock()

    result = run(program)
    assert isinstance(result.outcome, Panic) and result.deadlock is None
    assert result.outcome.error.startswith("DeadlockError: this thread already holds the lock of `m`")
    assert result.schedule == [0]  # the second lock never became a step


def test_a_thread_s_panic_is_kept_in_panics_and_main_may_catch_it():
    def program():
        handle = spawn(lambda: 1 // 0)
        try:
            handle.join()
        except ThreadPanicked:
            return "caught"

    result = run(program)
    assert result.outcome == "caught" and result.completed
    assert list(result.panics) == [1] and isinstance(result.panics[1], ZeroDivisionError)


def holds_while_another_tries(release):
    """Thread 1 locks and releases with `release`; thread 2 tries the lock once."""
    def program():
        m = Arc(Mutex(0, name="m"))
        mine, theirs = Arc.clone(m), Arc.clone(m)

        def holder():
            guard = mine.lock()
            release(guard)

        def trier():
            try:
                with theirs.try_lock():
                    return "got it"
            except WouldBlock:
                return "blocked"

        first, second = spawn(holder), spawn(trier)
        first.join()
        return second.join()
    return program


def forget(guard):
    del guard  # the last reference: the guard's finalizer releases the lock


def test_drop_of_a_watched_guard_is_a_step_but_a_deleted_guard_releases_at_once():
    dropped = replay(holds_while_another_tries(drop), [1, 2])
    assert dropped.outcome == "blocked"  # thread 2 tried while thread 1 was paused at its release

    deleted = replay(holds_while_another_tries(forget), [1, 2])
    assert deleted.outcome == "got it"  # the finalizer released within thread 1's lock step
    unlock = next(e for e in deleted.trace if e.op == "unlock" and e.thread == 1)
    assert unlock.step is None
    assert deleted.trace.index(unlock) < next(i for i, e in enumerate(deleted.trace) if e.step == 1)


def test_max_steps_is_the_exact_number_of_steps_a_run_may_take():
    program = racy_counter(1, 1)  # two steps: a read and a write
    assert replay(program, [], max_steps=2).outcome == 1
    with pytest.raises(ScheduleError, match=r"more than 1 steps .*thread 0, thread 1 were still running; "
                                            r"the schedule \[1\]"):
        replay(program, [], max_steps=1)


def test_by_default_the_last_thread_goes_on_and_after_a_sleep_the_next_one_by_number():
    assert _default([1, 2, 3], 2) == 2
    assert _default([1, 3], 2) == 1  # the last one cannot run: the lowest that can
    assert _default([1, 2, 3], 2, yielded=True) == 3
    assert _default([1, 2, 3], 3, yielded=True) == 1  # round robin wraps around
    assert _default([2], 2, yielded=True) == 2  # alone, the sleeper goes on
    assert _try_order([1, 2, 3], 2) == [2, 1, 3]


def test_a_preemption_is_leaving_a_thread_that_could_go_on_or_staying_on_a_sleeper():
    assert not _preempts([1, 2], 1, None)
    assert _preempts([1, 2], 2, 1)
    assert not _preempts([2], 2, 1)
    assert not _preempts([1, 2], 1, 1)
    assert _preempts([1, 2], 1, 1, yielded=True)
    assert not _preempts([1, 2], 2, 1, yielded=True)
