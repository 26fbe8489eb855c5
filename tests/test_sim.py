"""`rustsync._sim`: which thread is running (a real one, or one the scheduler simulates), and `raise_in`.

`current()` is None on a real thread and the simulated thread under `rustsync.sched`;
the setting belongs to one OS thread; `owner_token()` names the running thread for the
ownership checks; `raise_in` stops another OS thread at its next bytecode.
"""

import threading

import pytest

from rustsync import _sim, spawn
from rustsync.sched import replay


def on_a_new_thread(func):
    """Run `func` on a fresh OS thread; its result."""
    box = {}
    thread = threading.Thread(target=lambda: box.setdefault("result", func()))
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive()
    return box["result"]


@pytest.fixture
def simulated():
    """A stand-in for a simulated thread, set on this OS thread for the test and taken away after it."""
    previous = _sim.current()
    sim = object()
    _sim.set_current(sim)
    yield sim
    _sim.set_current(previous)


def test_a_real_thread_has_no_simulated_thread():
    assert on_a_new_thread(_sim.current) is None


def test_the_simulated_thread_set_on_one_os_thread_is_not_seen_by_another(simulated):
    assert _sim.current() is simulated
    assert on_a_new_thread(_sim.current) is None


def test_the_owner_of_a_real_thread_is_that_thread():
    me = threading.current_thread()
    assert _sim.current() is None
    assert _sim.owner_token() is me
    other = on_a_new_thread(_sim.owner_token)
    assert other is not me and isinstance(other, threading.Thread)


def test_the_owner_under_the_scheduler_is_the_simulated_thread(simulated):
    assert _sim.owner_token() is simulated


def test_under_the_scheduler_each_thread_sees_its_own_simulated_thread():
    def program():
        me = _sim.current()
        child = spawn(lambda: (_sim.current().tid, _sim.owner_token() is _sim.current()))
        return me.tid, me is _sim.owner_token(), child.join()

    run = replay(program, [0, 1, 0])
    assert run.outcome == (0, True, (1, True))
    assert _sim.current() is None, "the scheduler gives the OS thread back as it found it"


def test_raise_in_stops_a_thread_that_runs_python_code():
    class Stop(Exception):
        pass

    looping = threading.Event()
    caught = []

    def spin():
        try:
            while True:
                looping.set()
        except Stop as err:
            caught.append(err)

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    assert looping.wait(timeout=10)
    _sim.raise_in(thread, Stop)
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert len(caught) == 1 and type(caught[0]) is Stop


def test_raise_in_reaches_only_the_thread_it_names():
    class Stop(Exception):
        pass

    stop_other = threading.Event()
    looping = {"target": threading.Event(), "other": threading.Event()}
    outcome = {}

    def spin(name):
        try:
            while not stop_other.is_set() or name == "target":
                looping[name].set()
            outcome[name] = "ended on its own"
        except Stop:
            outcome[name] = "stopped"

    threads = {name: threading.Thread(target=spin, args=(name,), daemon=True) for name in looping}
    for name, thread in threads.items():
        thread.start()
        assert looping[name].wait(timeout=10)
    _sim.raise_in(threads["target"], Stop)
    threads["target"].join(timeout=10)
    stop_other.set()
    threads["other"].join(timeout=10)
    assert outcome == {"target": "stopped", "other": "ended on its own"}
