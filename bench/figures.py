"""Write the course's figures as PNG files to look at: python bench/figures.py [folder]

lost_updates.png   lost updates against thread count (scheduler and real threads, with and without Mutex)
outcomes.png       final values of 2 threads x 3 racy increments over all 924 interleavings
timeline.png       the simplest schedule that ends at 2 (4 preemptions), a lane per thread, lost writes crossed out
rc_timeline.png    two threads clone and drop one Rc: a schedule whose count ends at 0 (lesson 04)
deadlock.png       two diners lock a fork and a knife in opposite orders: the deadlock and who waits for what
panel_step.png     the schedule panel on the deadlock, at its first step: the line under the title says what it shows
"""

import contextlib
import io
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from rustsync import Rc, drop  # noqa: E402
from rustsync.lab import opposite_diners, racy_counter  # noqa: E402
from rustsync.plots import plot_lost_updates, plot_outcome_histogram, plot_timeline  # noqa: E402
from rustsync.sched import explore, minimal_schedule, needs, replay, spawn_unchecked  # noqa: E402
from rustsync.widgets import SchedulePanel  # noqa: E402


def shared_rc():
    shared = Rc(0, name="rc")

    def borrow_and_return():
        drop(Rc.clone(shared))

    handles = [spawn_unchecked(borrow_and_return) for _ in range(2)]
    for handle in handles:
        handle.join()
    return Rc.strong_count(shared)


def main(folder):
    folder.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    plot_lost_updates(ax=ax, max_threads=8, increments=100, seed=0)
    fig.savefig(folder / "lost_updates.png", dpi=110)

    exploration = explore(racy_counter(2, 3))
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    plot_outcome_histogram(exploration, ax=ax, expected=6)
    fig.savefig(folder / "outcomes.png", dpi=110)

    # A timeline sizes its own figure to its steps and labels.
    worst = minimal_schedule(racy_counter(2, 3), 2)
    plot_timeline(worst, title=f"Schedule {worst.schedule} → 2: it {needs(worst.preemptions)}")
    plt.gcf().savefig(folder / "timeline.png", dpi=110)

    losing = replay(shared_rc, explore(shared_rc).example(0))
    plot_timeline(losing, title=f"Schedule {losing.schedule}: the count ends at {losing.outcome}")
    plt.gcf().savefig(folder / "rc_timeline.png", dpi=110)

    stuck = replay(opposite_diners, [1, 2])
    plot_timeline(stuck, title="Schedule [1, 2]: each diner holds one utensil")
    plt.gcf().savefig(folder / "deadlock.png", dpi=110)

    with contextlib.redirect_stdout(io.StringIO()):  # outside a notebook, a panel's display is printed
        panel = SchedulePanel(opposite_diners, schedule=[1, 2])
        panel.step.value = 0
    (folder / "panel_step.png").write_bytes(panel.png)  # the picture the panel shows, at the panel's own dpi
    names = ("lost_updates.png", "outcomes.png", "timeline.png", "rc_timeline.png", "deadlock.png", "panel_step.png")
    for name in names:
        print(folder / name)


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "bench/out"))
