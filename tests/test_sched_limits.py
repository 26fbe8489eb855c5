"""The scheduler at its limits: Ctrl-C stops a search for good, the watchdog times only the program's code."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from rustsync.lab import racy_counter
from rustsync.sched import StuckThread, explore, interleavings

CHILD = textwrap.dedent("""
    import gc, resource, sys, threading, time
    from rustsync.lab import racy_counter
    from rustsync.sched import explore

    def cpu():
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    print("started", flush=True)
    try:
        explore(racy_counter(6, 2), max_states=10**9, mode=sys.argv[1])
    except KeyboardInterrupt:
        gc.collect()
        left = [o for o in gc.get_objects() if type(o).__name__ in ("Model", "Explorer", "_Execution")]
        before = cpu()
        time.sleep(1.5)
        used = cpu() - before
        print("interrupted", threading.active_count(), len(left), round(used, 3), flush=True)
    else:
        print("finished", flush=True)
""")


@pytest.mark.parametrize("mode", ["model", "every"])
def test_ctrl_c_in_a_large_search_stops_it_and_frees_it(mode, tmp_path):
    env = dict(os.environ, HOME=str(tmp_path))
    child = subprocess.Popen([sys.executable, "-c", CHILD, mode], stdout=subprocess.PIPE, text=True, env=env,
                             cwd=tmp_path)
    try:
        assert child.stdout.readline().strip() == "started"
        time.sleep(1.5)  # well inside the search (racy 6 x 2 runs for minutes)
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=60)
    finally:
        child.kill()
    words = out.split()
    assert words[0] == "interrupted", out
    threads, left, cpu = int(words[1]), int(words[2]), float(words[3])
    assert threads == 1  # the scheduler's thread has ended
    assert left == 0  # and what the search held is gone
    assert cpu < 0.2  # nothing runs on: the process sleeps


def test_the_watchdog_does_not_time_the_engines_own_work():
    """A count that takes far longer than step_timeout, with every step of the program quick: no StuckThread."""
    began = time.perf_counter()
    exploration = explore(racy_counter(3, 3), step_timeout=0.2)
    assert time.perf_counter() - began > 0.2
    assert exploration.complete and exploration.schedules == 17_153_136


def test_the_watchdog_still_stops_a_thread_that_never_reaches_a_step():
    def program():
        while True:
            pass

    with pytest.raises(StuckThread, match="without reaching a step"):
        explore(program, step_timeout=0.3)


def test_a_search_stopped_by_its_budget_says_how_large_it_is_and_the_way_out():
    exploration = explore(racy_counter(4, 3), max_states=2_000)
    assert not exploration.complete
    size = float(interleavings(6, 6, 6, 6))  # four threads of six steps
    assert f"about {size:.1e} interleavings" in exploration.note
    assert "fewer threads or increments" in exploration.note and "preemption_bound=2" in exploration.note
