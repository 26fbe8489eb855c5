"""Scheduler speed and panel latency, printed (not asserted): python bench/bench_sched.py [--quick]

In one run: `explore` on the racy counter and on Listing 16-15 as written, against an
independent dynamic program (tests/test_sched_dp.py: the completions of each abstract state
memoised, without and with threads alike merged), with the ratios; `minimal_schedule`
on the racy counter at ten threads against frontrun's DPOR finding the same race (when
frontrun is installed: `pip install frontrun`); `explore(mode="every")`, which runs
each schedule; seeded single runs; and each slider panel's update at its largest
setting (compute, draw, PNG), measured in this process. `--quick` skips the sizes whose
plain dynamic program takes minutes (racy 5 x 2: about 3 minutes; racy 10 x 1: hours).
"""

import contextlib
import io
import os
import statistics
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import test_sched_dp as sched_dp  # noqa: E402

from rustsync.lab import listing_16_15, opposite_diners, racy_counter  # noqa: E402
from rustsync.sched import Deadlock, explore, minimal_schedule, run  # noqa: E402
from rustsync.widgets import LostUpdatePanel, OutcomePanel, SchedulePanel  # noqa: E402


def timed(func):
    began = time.perf_counter()
    result = func()
    return result, time.perf_counter() - began


def as_tuples(outcomes):
    return {(o,) if not isinstance(o, tuple) else o: n for o, n in outcomes.items()}


def compare(label, program, ops, plain=True):
    """One row: explore, the dynamic program without and with threads alike merged, ratios."""
    exploration, engine = timed(lambda: explore(program, step_timeout=60, max_states=20_000_000))
    assert exploration.complete, exploration.note
    alike, dp_alike = timed(lambda: sched_dp.count(ops, alike=True))
    assert as_tuples(exploration.outcomes) == dict(alike), (exploration.outcomes, alike)
    if plain:
        counts, dp_plain = timed(lambda: sched_dp.count(ops))
        assert counts == alike
        plain_cells = f"{dp_plain:9.3f} s {engine / dp_plain:7.2f}x"
    else:
        plain_cells = f"{'skipped':>11} {'':>8}"
    print(f"{label:<22} {exploration.schedules:>22,} {engine:8.3f} s {exploration.states:>9,} "
          f"{'yes' if exploration.symmetric else 'no':>4} {plain_cells} {dp_alike:9.3f} s "
          f"{engine / dp_alike:7.2f}x", flush=True)


def counts_table(quick):
    explore(racy_counter(2, 1))  # the first call's imports and warm-up, not timed
    sched_dp.count(sched_dp.racy(2, 1))
    print("explore against a dynamic program over abstract states (tests/test_sched_dp.py), same run:")
    print(f"{'program':<22} {'interleavings':>22} {'explore':>10} {'states':>9} {'alike':>4} "
          f"{'DP plain':>11} {'ratio':>8} {'DP alike':>11} {'ratio':>8}")
    compare("racy 2 x 4", racy_counter(2, 4), sched_dp.racy(2, 4))
    compare("racy 3 x 2", racy_counter(3, 2), sched_dp.racy(3, 2))
    compare("racy 3 x 3", racy_counter(3, 3), sched_dp.racy(3, 3))
    compare("racy 4 x 2", racy_counter(4, 2), sched_dp.racy(4, 2))
    compare("racy 5 x 2", racy_counter(5, 2), sched_dp.racy(5, 2), plain=not quick)
    compare("racy 10 x 1", racy_counter(10, 1), sched_dp.racy(10, 1), plain=False)
    compare("Listing 16-15 (10)", listing_16_15(10), sched_dp.locked(10, 1))


def simplest_against_frontrun():
    """minimal_schedule on racy 10 x 1, and frontrun finding the same lost update, same run."""
    found, ours = timed(lambda: minimal_schedule(racy_counter(10, 1), lambda count: count < 10, step_timeout=60))
    print(f"minimal_schedule, racy 10 x 1: {ours:.3f} s ({found.preemptions} preemption, "
          f"{len(found.schedule)} steps, outcome {found.outcome})", flush=True)
    try:
        import frontrun
    except ImportError:
        print("  frontrun not installed (pip install frontrun): not compared")
        return

    class Counter:
        def __init__(self):
            self.value = 0

    def work(counter):
        seen = counter.value
        counter.value = seen + 1

    os.environ.setdefault("FRONTRUN_ACTIVE", "1")
    result, theirs = timed(lambda: frontrun.explore(Counter, work, lambda c: c.value == 10, count=10))
    assert not result.property_holds
    print(f"  frontrun DPOR, the same race: {theirs:.3f} s   ratio {ours / theirs:.2f}", flush=True)


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


def ahead_latency(panel, control, values, ready):
    """Each move made once the panel's work ahead of the current setting has finished (`ready()` waits)."""
    times = []
    sink = io.StringIO()
    for value in values:
        ready()
        with contextlib.redirect_stdout(sink):
            began = time.perf_counter()
            control.value = value
            times.append(time.perf_counter() - began)
    return statistics.median(times), max(times)


def panels():
    print("One slider update at the largest setting, in this process (compute + redraw + PNG),")
    print("each setting computed when the slider reaches it (nothing drawn ahead):")
    with contextlib.redirect_stdout(io.StringIO()):
        lost = LostUpdatePanel(threads=11, increments=100, ahead=False)
        lost_sched = LostUpdatePanel(threads=11, increments=100, real=False, ahead=False)
        outcome = OutcomePanel(increments=3, prefetch=False)
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
    print("The same panels as the lessons make them (drawing ahead), each move once the work ahead is done:")
    with contextlib.redirect_stdout(io.StringIO()):
        lost = LostUpdatePanel(threads=11, increments=100)
        outcome = OutcomePanel(increments=3)
    lost_ready = lambda: lost.computed_ahead.wait(120)  # noqa: E731
    outcome_ready = lambda: outcome.prefetched.wait(120)  # noqa: E731
    cases = [
        ("LostUpdatePanel, increments 100 -> 99 -> 98 -> 99", lost, lost.increments, [99, 98, 99], lost_ready),
        ("LostUpdatePanel, threads 11 -> 10 (real points measured)", lost, lost.threads, [10], lost_ready),
        ("LostUpdatePanel, threads 10 -> 11 -> 12 (a real point each)", lost, lost.threads, [11, 12], lost_ready),
        ("OutcomePanel, every setting", outcome, outcome.increments, [4, 1, 2, 3], outcome_ready),
    ]
    for label, panel, control, values, ready in cases:
        median, worst = ahead_latency(panel, control, values, ready)
        print(f"  {label:<52} median {median * 1000:7.1f} ms  [worst {worst * 1000:.1f} ms]", flush=True)


def main():
    quick = "--quick" in sys.argv
    counts_table(quick)
    print()
    simplest_against_frontrun()
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
