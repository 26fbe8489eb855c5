"""`rustsync.grading.checks.scheduled`: checks that run a student's program under the scheduler: a
prediction of every outcome, a result reached on every schedule, a given schedule, a deadlock."""

from __future__ import annotations

import json
import re

import pytest

from rustsync import Arc, Mutex, sched, spawn
from rustsync.grading import (
    check_always,
    check_deadlock_schedule,
    check_prediction,
    check_schedule,
)
from rustsync.sched import RacyCell


def racy_increments(threads):
    """A program: `threads` threads each add 1 to a shared cell with a read and a write."""
    def program():
        counter = RacyCell(0)
        handles = [spawn(lambda: counter.set(counter.get() + 1)) for _ in range(threads)]
        for handle in handles:
            handle.join()
        return counter.peek()
    return program


two_racy_increments = racy_increments(2)
three_racy_increments = racy_increments(3)


def test_check_prediction_is_exact_in_both_directions():
    check_prediction({1, 2}, two_racy_increments, "the count")
    with pytest.raises(AssertionError, match="no schedule makes the count 3"):
        check_prediction({1, 2, 3}, two_racy_increments, "the count")
    with pytest.raises(AssertionError, match=r"misses 1 value\(s\)"):
        check_prediction({2}, two_racy_increments, "the count")


def test_check_always_finds_the_lost_update_and_shows_its_schedule():
    with pytest.raises(AssertionError, match=r"the count can be 1 instead of 2\nwith the schedule \[1, 2"):
        check_always(two_racy_increments, {2}, "the count")


def test_check_always_shows_the_simplest_schedule_that_goes_wrong_and_the_preemptions_it_needs():
    with pytest.raises(AssertionError) as info:
        check_always(three_racy_increments, {3}, "the count")
    message = str(info.value)
    found = re.search(r"the count can be (\d) instead of 3\nwith the schedule (\[[\d, ]+\]) \(it needs 1 preemption\)",
                      message)
    assert found, message
    shown, schedule = int(found.group(1)), json.loads(found.group(2))
    run = sched.replay(three_racy_increments, schedule, strict=True)
    assert run.outcome == shown and run.preemptions == 1
    # the fewest: no schedule without a preemption goes wrong
    assert set(sched.explore(three_racy_increments, preemption_bound=0, mode="every").outcomes) == {3}


def test_a_schedule_that_never_ends_is_its_own_outcome_in_the_grader():
    from rustsync.grading.checks.records import _exact_in, _is_special, _key, _shown
    from rustsync.grading.checks.scheduled import _outcome_problem
    from rustsync.sched import StepLimit

    cut = StepLimit(10_000, (1,))
    key = _key(cut)
    assert _is_special(key) and not _exact_in(key, [_key(1)])
    assert _shown(key) == "a schedule that never ends"
    problem = _outcome_problem(cut, "your code")
    assert "did not finish" in problem and "thread(s) 1 still ran after 10000 steps" in problem


def test_check_always_rejects_a_right_number_reached_without_threads_or_without_the_mutex():
    def no_threads():
        return 2

    def plain_list():
        handles = [spawn(lambda: None) for _ in range(2)]  # threads that share nothing through the mutex
        for handle in handles:
            handle.join()
        return 2

    with pytest.raises(AssertionError, match=r"started 0 thread\(s\); it must start 2"):
        check_always(no_threads, {2}, "the count", threads=2)
    check_always(plain_list, {2}, "the count", threads=2)  # no step of ours: the scheduler sees no race
    with pytest.raises(AssertionError, match=r"the count can be True instead of 1"):
        check_always(lambda: True, {1}, "the count")  # outcomes are compared with their exact types
    with pytest.raises(AssertionError, match="never calls `lock`: the shared value must go through it"):
        check_always(plain_list, {2}, "the count", threads=2, uses=["lock"])


def test_check_always_reports_a_deadlock_with_the_cycle():
    def crossed():
        a, b = Arc(Mutex(0, name="a")), Arc(Mutex(0, name="b"))

        def one(first, second):
            def work():
                with first.lock(), second.lock():
                    pass
            return work

        handles = [spawn(one(Arc.clone(a), Arc.clone(b))), spawn(one(Arc.clone(b), Arc.clone(a)))]
        for handle in handles:
            handle.join()
        return "done"

    with pytest.raises(AssertionError, match="can deadlock: thread 1 waits for `b` held by thread 2"):
        check_always(crossed, {"done"}, "the outcome")
    check_deadlock_schedule(crossed, [1, 2])
    with pytest.raises(AssertionError, match=r"with your schedule \[1, 1\] every thread finished"):
        check_deadlock_schedule(crossed, [1, 1])


def test_check_schedule_explains_a_bad_schedule():
    check_schedule(two_racy_increments, [1, 2], 1, "the count")
    with pytest.raises(AssertionError, match=r"must be a list of thread numbers like \[1, 2, 1\], not '1, 2'"):
        check_schedule(two_racy_increments, "1, 2", 1, "the count")
    with pytest.raises(AssertionError, match="your schedule cannot be followed: step 0: there is no thread 7"):
        check_schedule(two_racy_increments, [7], 1, "the count")
    with pytest.raises(AssertionError, match=r"with your schedule \[1, 1\], the count is 2, not 1; step by step"):
        check_schedule(two_racy_increments, [1, 1], 1, "the count")
