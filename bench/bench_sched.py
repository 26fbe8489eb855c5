"""Scheduler speed and slider latency, printed (not asserted): python bench/bench_sched.py"""

import contextlib
import io
import statistics
import time

import matplotlib

matplotlib.use("Agg")

from rustsync.lab import mutex_counter, racy_counter  # noqa: E402
from rustsync.sched import explore, run  # noqa: E402
from rustsync.widgets import LostUpdatePanel, OutcomePanel  # noqa: E402


def rate(program, label):
    began = time.perf_counter()
    exploration = explore(program)
    seconds = time.perf_counter() - began
    print(f"{label:<34} {exploration.schedules:>7} schedules  {seconds:6.2f} s  "
          f"{exploration.schedules / seconds:8.0f} schedules/s")


def slider_latency(panel, control, values, repeats=20):
    """Median seconds for one slider change: recompute, redraw, render the PNG the kernel sends."""
    times = []
    sink = io.StringIO()
    for i in range(repeats):
        began = time.perf_counter()
        with contextlib.redirect_stdout(sink):
            control.value = values[i % len(values)]
        times.append(time.perf_counter() - began)
    return statistics.median(times), max(times)


def main():
    print("Exhaustive exploration (no reduction):")
    rate(racy_counter(2, 3), "racy counter, 2 threads x 3")
    rate(racy_counter(2, 4), "racy counter, 2 threads x 4")
    rate(mutex_counter(3, 2), "mutex counter, 3 threads x 2")
    began = time.perf_counter()
    for seed in range(200):
        run(racy_counter(2, 3), seed=seed)
    print(f"{'seeded runs, 2 threads x 3':<34} {200 / (time.perf_counter() - began):8.0f} runs/s "
          "(each run on a fresh scheduler thread)")
    print()
    print("One slider update (compute + redraw + PNG), median of 20 [max]:")
    with contextlib.redirect_stdout(io.StringIO()):
        lost = LostUpdatePanel()
        lost_sched = LostUpdatePanel(real=False)
        outcome = OutcomePanel()
    for label, panel, control, values in [
        ("LostUpdatePanel, threads slider", lost, lost.threads, [3, 5, 4, 6]),
        ("  same, scheduler lines only", lost_sched, lost_sched.threads, [3, 5, 4, 6]),
        ("OutcomePanel, increments 1..3", outcome, outcome.increments, [1, 2, 3, 2]),
    ]:
        median, worst = slider_latency(panel, control, values)
        print(f"{label:<34} {median * 1000:7.1f} ms  [{worst * 1000:.1f} ms]")


if __name__ == "__main__":
    main()
