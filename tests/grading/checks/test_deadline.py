"""`rustsync.grading.checks.deadline`: student code run under a deadline, its output kept out of the test
cell, and its errors worded for the student (one line, naming the student's line)."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from rustsync import Mutex
from rustsync.grading import (
    call,
)


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
    assert " ".join(str(info.value).split()).startswith("your function `broken` raised KeyError: 'missing' (")
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
    message = " ".join(str(info.value).split())  # as wrapped for the Validate dialog, joined again
    assert f"test_deadline.py, line {line})." in message, message
    assert "mutex.py" not in message
