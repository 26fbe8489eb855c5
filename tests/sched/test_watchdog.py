"""`rustsync.sched._watchdog`: the work runs on a thread of its own, and only the program's code is timed.

`_watched(work, step_timeout)` is driven here with small works of its own that keep the
`clock` as `_Execution` does (`clock[1]` counts the program's calls running, `clock[0]`
is when they started): time spent outside them is never timed, a stuck program is
stopped inside its thread and reported with the simulated thread that ran, and Ctrl-C
stops the work before it goes on up.
"""

import threading
import time
from types import SimpleNamespace

import pytest

from rustsync._sim import raise_in
from rustsync.errors import ScheduleAborted
from rustsync.sched import StuckThread
from rustsync.sched import _watchdog as watchdog


def enter_program_code(clock):
    """What `_Execution` does when it switches into a simulated thread: the watchdog starts timing."""
    clock[0] = time.monotonic()
    clock[2] = watchdog._collecting[0]
    clock[1] += 1


def spin_until_stopped(seen):
    try:
        while True:
            pass
    except ScheduleAborted:
        seen.append("stopped")
        raise


def ending_quietly(target):
    """A thread's target that ends without a traceback when it is stopped."""
    def run():
        try:
            target()
        except ScheduleAborted:
            pass
    return run


class FakeExecution:
    """Stands for `_Execution`: the thread it runs, its abort flag, and whether it was unwound, and where."""

    def __init__(self, tid=3, name="worker"):
        self.running = SimpleNamespace(tid=tid, name=name)
        self.aborting = False
        self.unwound_on = []

    def _unwind(self):
        self.unwound_on.append(threading.current_thread().name)


def test_the_work_runs_on_a_scheduler_thread_of_its_own_and_its_result_comes_back():
    def work(clock, state):
        return threading.current_thread().name, threading.current_thread() is not caller

    caller = threading.current_thread()
    assert watchdog._watched(work, 1.0) == ("rustsync-scheduler", True)


def test_an_error_of_the_work_is_raised_in_the_caller():
    def work(clock, state):
        raise ValueError("from the work")

    with pytest.raises(ValueError, match="from the work"):
        watchdog._watched(work, 1.0)


def test_time_spent_outside_the_program_s_code_is_not_timed():
    def work(clock, state):
        time.sleep(0.3)  # the engine's own work: no program call is running (clock[1] == 0)
        return "counted"

    assert watchdog._watched(work, 0.1) == "counted"


def test_a_program_running_past_step_timeout_is_stopped_inside_its_thread():
    seen = []
    states = []

    def work(clock, state):
        states.append(state)
        enter_program_code(clock)
        spin_until_stopped(seen)

    with pytest.raises(StuckThread, match=r"^a thread ran for more than 0.2 s without reaching a step .* "
                                          r"loops forever"):
        watchdog._watched(work, 0.2)
    assert seen == ["stopped"]
    assert states[0]["stop"] is True  # an explorer looks at this flag before its next schedule


def test_a_stuck_thread_is_named_and_its_execution_aborted_and_unwound_on_the_scheduler_thread():
    execution = FakeExecution(tid=3, name="worker")
    seen = []

    def work(clock, state):
        state["execution"] = execution
        enter_program_code(clock)
        spin_until_stopped(seen)

    with pytest.raises(StuckThread, match=r"^thread 3 \(worker\) ran for more than 0.2 s"):
        watchdog._watched(work, 0.2)
    assert execution.aborting is True
    assert execution.unwound_on == ["rustsync-scheduler"]


def test_an_execution_left_by_the_work_is_unwound_on_the_thread_that_ran_it():
    execution = FakeExecution()
    states = []

    def work(clock, state):
        states.append(state)
        state["execution"] = execution
        return "done"

    assert watchdog._watched(work, 1.0) == "done"
    assert execution.unwound_on == ["rustsync-scheduler"]  # greenlets end where they ran
    assert states[0]["execution"] is None


@pytest.mark.parametrize("collector_seconds, stuck", [(10.0, False), (0.0, True)])
def test_the_collector_s_pauses_are_not_counted_as_the_program_s_time(monkeypatch, collector_seconds, stuck):
    monkeypatch.setattr(watchdog, "_collecting", [0.0, None])

    def work(clock, state):
        enter_program_code(clock)
        watchdog._collecting[0] += collector_seconds  # as if the collector had paused the program that long
        time.sleep(0.4)
        clock[1] -= 1
        return "quick enough"

    if stuck:
        with pytest.raises(StuckThread):
            watchdog._watched(work, 0.2)
    else:
        assert watchdog._watched(work, 0.2) == "quick enough"


def test_the_collector_callback_adds_up_the_seconds_of_its_pauses(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(watchdog, "time", SimpleNamespace(monotonic=lambda: now[0]))
    monkeypatch.setattr(watchdog, "_collecting", [1.0, None])
    watchdog._collector("start", {})
    now[0] = 103.5
    watchdog._collector("stop", {})
    assert watchdog._collecting == [4.5, None]
    now[0] = 110.0
    watchdog._collector("stop", {})  # a stop without its start adds nothing
    assert watchdog._collecting == [4.5, None]


def test_stop_thread_ends_a_python_loop_but_not_a_call_python_cannot_interrupt():
    seen = []
    looping = threading.Thread(target=ending_quietly(lambda: spin_until_stopped(seen)))
    looping.start()
    assert watchdog._stop_thread(looping, grace=2.0) is True
    assert seen == ["stopped"] and not looping.is_alive()

    gate = threading.Lock()
    gate.acquire()
    blocked = threading.Thread(target=ending_quietly(lambda: gate.acquire(timeout=10)))
    blocked.start()
    try:
        assert watchdog._stop_thread(blocked, grace=0.3) is False
        assert blocked.is_alive()
    finally:
        gate.release()
        blocked.join(5)
    assert not blocked.is_alive()


def test_a_scheduler_thread_blocked_in_such_a_call_is_kept_for_the_exit_hook():
    gate = threading.Lock()
    gate.acquire()
    workers = []

    def work(clock, state):
        workers.append(threading.current_thread())
        enter_program_code(clock)
        gate.acquire(timeout=10)

    try:
        with pytest.raises(StuckThread, match="in a call Python cannot interrupt"):
            watchdog._watched(work, 0.2)
        assert workers[0] in watchdog._workers
    finally:
        gate.release()
        workers[0].join(5)
    assert not workers[0].is_alive()


def test_ctrl_c_stops_the_work_and_waits_for_its_thread_before_going_on_up():
    started = threading.Event()
    ended = []

    def work(clock, state):
        started.set()
        while not state["stop"]:
            time.sleep(0.01)
        time.sleep(0.1)  # winding down: the caller must wait for this
        ended.append("saw the stop")

    caller = threading.current_thread()

    def press_ctrl_c():
        started.wait(5)
        time.sleep(0.1)  # the caller is waiting on the work by now
        raise_in(caller, KeyboardInterrupt)

    presser = threading.Thread(target=press_ctrl_c)
    presser.start()
    with pytest.raises(KeyboardInterrupt):
        watchdog._watched(work, 5.0)
    presser.join()
    assert ended == ["saw the stop"]
    assert not [t for t in threading.enumerate() if t.name == "rustsync-scheduler"]
