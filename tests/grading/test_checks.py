"""The helpers the assignments' test cells call (rustsync/grading/checks/): student code under a
deadline, the scheduler's verdicts, and the messages a student reads."""

from __future__ import annotations

import json
import re
import sys
import threading
import time

import nbformat
import pytest

from rustsync import Arc, Mutex, sched, spawn
from rustsync.grading import (
    answer,
    call,
    check_always,
    check_deadlock_schedule,
    check_prediction,
    check_schedule,
    hide_test_tracebacks,
    raised_by,
)
from rustsync.sched import RacyCell


def test_call_returns_the_result_and_keeps_what_student_code_prints_out_of_stderr(capfd):
    def noisy(x):
        print("debugging", file=sys.stderr)
        return x * 2

    assert call(noisy, 21) == 42
    assert "debugging" not in capfd.readouterr().err


def test_call_gives_up_on_code_that_ignores_keyboard_interrupt_and_stops_it():
    def stubborn():
        while True:
            try:
                time.sleep(0.01)
            except KeyboardInterrupt:
                pass

    start = time.perf_counter()
    with pytest.raises(AssertionError) as failed:
        call(stubborn, timeout=0.5)
    assert " ".join(str(failed.value).split()).startswith(
        "your function `stubborn` did not finish within 0.5 s: it may be deadlocked (a lock never released")
    assert time.perf_counter() - start < 2
    deadline = time.monotonic() + 2
    while any(t.name == "rustsync-grading" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not [t for t in threading.enumerate() if t.name == "rustsync-grading"]


def test_threads_left_running_by_student_code_stay_silent_afterwards(capfd):
    stop = threading.Event()

    def leaves_a_chatty_thread():
        def chatter():
            while not stop.is_set():
                print("still here", file=sys.stderr)
                time.sleep(0.01)
        threading.Thread(target=chatter, daemon=True).start()
        while True:
            time.sleep(0.01)

    try:
        with pytest.raises(AssertionError, match="did not finish within 0.3 s") as info:
            call(leaves_a_chatty_thread, timeout=0.3)
        assert "It printed:\n    still here" in str(info.value)
        time.sleep(0.1)
        print("the test's own line", file=sys.stderr)
        assert capfd.readouterr().err == "the test's own line\n"
    finally:
        stop.set()


def test_call_turns_an_exception_into_one_line_without_a_traceback():
    def broken():
        return {}["missing"]

    with pytest.raises(AssertionError) as info:
        call(broken)
    assert str(info.value).startswith("your function `broken` raised KeyError: 'missing' (")
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_an_error_raised_inside_the_package_names_the_students_line_not_the_packages():
    def locks_twice():
        jar = Mutex(0)
        guard = jar.lock()
        again = jar.lock()  # the student's line: the error itself is raised in rustsync/mutex.py
        return guard, again

    with pytest.raises(AssertionError) as info:
        call(locks_twice)
    line = locks_twice.__code__.co_firstlineno + 3
    assert f"test_checks.py, line {line})" in str(info.value), str(info.value)
    assert "mutex.py" not in str(info.value)


def test_answer_names_the_cell_to_fill_in():
    with pytest.raises(AssertionError, match=r"`no_such_answer` is not defined: write `no_such_answer = \.\.\.`"):
        answer("no_such_answer")
    globals()["some_answer"] = "1, 2"
    try:
        with pytest.raises(AssertionError, match=r"`some_answer` must be a list like \[1, 2, 1\], but it is str"):
            answer("some_answer", list)
    finally:
        del globals()["some_answer"]


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


def test_raised_by_names_the_exception_class():
    assert raised_by(lambda: [][1]) == "IndexError"
    assert raised_by(lambda: None) == "nothing"


def test_hide_test_tracebacks_keeps_the_last_line_of_test_cells_only():
    def code(grade, solution, traceback):
        return nbformat.v4.new_code_cell("x", metadata={"nbgrader": {"grade": grade, "solution": solution}},
                                         outputs=[nbformat.v4.new_output("error", ename="AssertionError",
                                                                         evalue="wrong", traceback=traceback)])

    nb = nbformat.v4.new_notebook(cells=[code(True, False, ["Cell In[3]", "secret()", "AssertionError: wrong"]),
                                         code(False, True, ["Cell In[2]", "student()", "ValueError"])])
    nb, _ = hide_test_tracebacks(nb, {})
    assert nb.cells[0].outputs[0].traceback == ["AssertionError: wrong"]
    assert nb.cells[1].outputs[0].traceback == ["Cell In[2]", "student()", "ValueError"]
    json.dumps(nb)  # still a valid notebook node
