"""Scheduler speed and panel latency, printed (not asserted): python bench/bench_sched.py [--quick]

In one run: `explore` on the racy counter (2 threads x 4 increments, 3 x 2, 4 x 2), the
same counts from a plain enumerator (a Python loop over every interleaving of an
abstract model of the counter, no scheduler), and their ratios; `explore(mode="every")`,
which runs each schedule; seeded single runs; and each slider panel's update at its
largest setting (compute, draw, PNG), measured in this process. `--quick` skips the
plain enumerator's 63 million interleavings of 4 x 2 (several minutes).
"""

import contextlib
import io
import statistics
import sys
import time
from collections import Counter

import matplotlib

matplotlib.use("Agg")

from rustsync.lab import opposite_diners, racy_counter  # noqa: E402
from rustsync.sched import Deadlock, explore, interleavings, run  # noqa: E402
from rustsync.widgets import LostUpdatePanel, OutcomePanel, SchedulePanel  # noqa: E402


def plain_enumerator(threads, increments):
    """Every interleaving of `threads` workers doing `read; write read+1`, `increments` times: final counts.

    A depth-first loop over an abstract model (program counters, the value each thread
    read, the counter), one leaf per interleaving: what enumerating costs without a scheduler.
    """
    steps = 2 * increments
    pcs = [0] * threads
    seen = [0] * threads
    cell = [0]
    counts = Counter()

    def go():
        moved = False
        for t in range(threads):
            pc = pcs[t]
            if pc == steps:
                continue
            moved = True
            pcs[t] = pc + 1
            if pc % 2 == 0:
                old = seen[t]
                seen[t] = cell[0]
                go()
                seen[t] = old
            else:
                old = cell[0]
                cell[0] = seen[t] + 1
                go()
                cell[0] = old
            pcs[t] = pc
        if not moved:
            counts[cell[0]] += 1

    go()
    return counts


def timed(func):
    began = time.perf_counter()
    result = func()
    return result, time.perf_counter() - began


def compare(threads, increments, plain=True):
    exploration, engine = timed(lambda: explore(racy_counter(threads, increments)))
    total = interleavings(*([2 * increments] * threads))
    assert exploration.schedules == total and exploration.complete, exploration
    line = (f"{threads} threads x {increments}: {total:>11,} schedules   explore {engine:7.3f} s "
            f"({exploration.runs} runs, {exploration.states:,} states)")
    if plain:
        counts, enumerator = timed(lambda: plain_enumerator(threads, increments))
        assert counts == exploration.outcomes, (counts, exploration.outcomes)
        line += f"   plain enumerator {enumerator:8.3f} s   ratio {engine / enumerator:6.2f}"
    else:
        line += "   plain enumerator skipped (--quick)"
    print(line, flush=True)


def rate(program, label):
    exploration, seconds = timed(lambda: explore(program, mode="every"))
    print(f"{label:<40} {exploration.schedules:>7} schedules  {seconds:6.2f} s  "
          f"{exploration.schedules / seconds:8.0f} schedules/s", flush=True)


def slider_latency(panel, control, values):
    """Median and worst seconds of one slider change to each of `values` (compute, redraw, PNG)."""
    times = []
    sink = io.StringIO()
    for value in values:
        with contextlib.redirect_stdout(sink):
            began = time.perf_counter()
            control.value = value
            times.append(time.perf_counter() - began)
    return statistics.median(times), max(times)


def panels():
    print("One slider update at the largest setting, in this process (compute + redraw + PNG):")
    with contextlib.redirect_stdout(io.StringIO()):
        lost = LostUpdatePanel(threads=11, increments=100)
        lost_sched = LostUpdatePanel(threads=11, increments=100, real=False)
        outcome = OutcomePanel(increments=3)
        schedule = SchedulePanel(racy_counter(2, 4), failing=2)
        deadlock = SchedulePanel(opposite_diners, failing=lambda o: isinstance(o, Deadlock))
    cases = [
        ("LostUpdatePanel, threads 11 -> 12 (first time)", lost, lost.threads, [12]),
        ("  a setting seen before", lost, lost.threads, [11, 12, 11, 12]),
        ("LostUpdatePanel, seed 0 -> 1, 12 threads (all measured again)", lost, lost.seed, [1]),
        ("LostUpdatePanel, increments 99 -> 100, 12 threads", lost, lost.increments, [99, 100]),
        ("  scheduler lines only, threads 11 -> 12", lost_sched, lost_sched.threads, [12]),
        ("  scheduler lines only, a setting seen before", lost_sched, lost_sched.threads, [11, 12, 11, 12]),
        ("OutcomePanel, increments 3 -> 4 (first time)", outcome, outcome.increments, [4]),
        ("OutcomePanel, increments 4, bound 4 (first time)", outcome, outcome.bound, [4]),
        ("OutcomePanel, a setting seen before", outcome, outcome.increments, [3, 4, 3, 4]),
        ("SchedulePanel, 2 x 4, each step once", schedule, schedule.step, list(range(schedule.step.max + 1))),
        ("SchedulePanel, deadlock, each position once", deadlock, deadlock.step, [0, 1, 2]),
    ]
    for label, panel, control, values in cases:
        median, worst = slider_latency(panel, control, values)
        print(f"  {label:<52} median {median * 1000:7.1f} ms  [worst {worst * 1000:.1f} ms]", flush=True)


def main():
    quick = "--quick" in sys.argv
    print("explore (counting through the model's states) against a plain enumerator, same run:")
    compare(2, 4)
    compare(3, 2)
    compare(4, 2, plain=not quick)
    print()
    print('explore(mode="every"): one execution per schedule')
    rate(racy_counter(2, 3), "racy counter, 2 threads x 3")
    rate(racy_counter(2, 4), "racy counter, 2 threads x 4")
    began = time.perf_counter()
    for seed in range(200):
        run(racy_counter(2, 3), seed=seed)
    print(f"{'seeded runs, 2 threads x 3':<40} {200 / (time.perf_counter() - began):8.0f} runs/s", flush=True)
    print()
    panels()


if __name__ == "__main__":
    main()
