"""The watchdog: the work runs on a thread of its own, the program's own code is timed, Ctrl-C stops it all."""

from __future__ import annotations

import atexit
import gc
import threading
import time
import weakref

from .._sim import raise_in
from ..errors import ScheduleAborted
from ._results import StuckThread

# --- the watchdog -----------------------------------------------------------------------

_workers = weakref.WeakSet()  # scheduler threads still alive, for the exit hook
_collecting = [0.0, None]  # seconds the garbage collector has run, when it started (see `_watched`)


def _collector(phase, info):
    if phase == "start":
        _collecting[1] = time.monotonic()
    elif _collecting[1] is not None:
        _collecting[0] += time.monotonic() - _collecting[1]
        _collecting[1] = None


gc.callbacks.append(_collector)
GRACE = 1.0  # seconds a stopped scheduler thread gets to end before it is reported as blocked


def _watched(work, step_timeout):
    """Run `work(clock, state)` on an OS thread of its own; stop it if a step takes too long.

    `clock` is [when the program's code last started or stopped running, how many of its
    calls are running now, the garbage collector's seconds so far then]: `_Execution`
    keeps it around every switch into a simulated thread and every call of an invariant.
    Only the program's own code is timed, never the engine's work between its steps (a
    search may count for a long time: its own budgets, `max_states` and `max_schedules`,
    bound it), nor the collector's pauses (a large search's model makes them long). Code that blocks outside the
    course's primitives (a `threading.Lock`, `time.sleep`, an endless loop) runs on
    without a step; after `step_timeout` seconds the work is stopped (`state["stop"]`,
    and an exception raised inside the thread, again until it ends) and `StuckThread`
    raised here. The work never goes on to other schedules after that: an explorer
    checks the flag.

    A `KeyboardInterrupt` here (Ctrl-C, a kernel's Interrupt) stops the work the same
    way and waits for its thread to end before it goes on up, so that nothing of the
    search runs on and what it held is freed.
    """
    clock = [time.monotonic(), 0, _collecting[0]]
    state = {"execution": None, "stop": False}
    box = {}
    # Its own mark of the end: a join() that Ctrl-C interrupts marks a thread still running as
    # ended (CPython's bpo-45274 guard), so is_alive() cannot be trusted after one.
    done = threading.Event()

    def target():
        try:
            try:
                box["result"] = work(clock, state)
            except BaseException as exc:  # handed to the caller below
                box["error"] = exc
            finally:
                execution = state["execution"]
                if execution is not None and not box.get("clean"):
                    try:  # greenlets must end on the thread that runs them, never at interpreter exit
                        execution._unwind()
                    except BaseException:  # pragma: no cover - best effort while stopping
                        pass
                state["execution"] = execution = None
        finally:
            done.set()

    thread = threading.Thread(target=target, daemon=True, name="rustsync-scheduler")
    thread.done = done
    thread.start()
    try:
        _wait(thread, clock, state, step_timeout)
    except KeyboardInterrupt:
        _interrupted(thread, state)
        box.clear()
        raise
    if "error" in box:
        error = box.pop("error")
        try:
            raise error
        finally:
            error = None
    return box.pop("result")


def _interrupted(thread, state):
    """Ctrl-C while the work runs: stop it, and wait (through further Ctrl-Cs) until its thread has ended."""
    state["stop"] = True
    execution = state["execution"]
    if execution is not None:
        execution.aborting = True
    while True:
        try:
            thread.done.wait(GRACE)  # a search stops at its next look at the flag; a run, at its next step
            if thread.done.is_set() or _stop_thread(thread, grace=5.0):
                return
            _workers.add(thread)  # blocked in a call Python cannot interrupt: it ends when that returns
            return
        except KeyboardInterrupt:
            continue


def _wait(thread, clock, state, step_timeout):
    done = thread.done
    while not done.wait(0.02):
        if clock[1] > 0 and time.monotonic() - clock[0] - (_collecting[0] - clock[2]) > step_timeout:
            execution = state["execution"]
            culprit = execution.running if execution is not None else None
            state["stop"] = True
            if execution is not None:
                execution.aborting = True
            ended = _stop_thread(thread)
            who = f"thread {culprit.tid} ({culprit.name})" if culprit is not None else "a thread"
            if ended:
                what = ("loops forever, or is blocked outside them (time.sleep, a threading.Lock, input()). "
                        "It was stopped.")
            else:
                _workers.add(thread)
                what = ("is blocked outside them, in a call Python cannot interrupt (a threading.Lock, "
                        "time.sleep, input()). It was stopped; its OS thread ends when that call returns.")
            raise StuckThread(
                f"{who} ran for more than {step_timeout} s without reaching a step of the course's "
                f"primitives: it {what} help: inside scheduled code, use rustsync's Mutex, spawn, join and sleep."
            )


def _stop_thread(thread, grace=GRACE):
    """Raise ScheduleAborted inside `thread` until it ends; True if it ended within `grace` seconds."""
    deadline = time.monotonic() + grace
    done = getattr(thread, "done", None)

    def alive():
        return not done.is_set() if done is not None else thread.is_alive()

    while alive() and time.monotonic() < deadline:
        raise_in(thread, ScheduleAborted)
        if done is not None:  # again if it was swallowed (by a __del__, a gc callback) and the thread still runs
            done.wait(0.2)
        else:
            thread.join(0.2)
    return not alive()


@atexit.register
def _stop_leftovers():
    """At exit, give blocked scheduler threads a last chance to end before the interpreter goes."""
    for thread in list(_workers):
        if thread.is_alive():
            _stop_thread(thread, grace=0.5)
