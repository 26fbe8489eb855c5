"""Write the course's figures as PNG files to look at: python bench/figures.py [folder]

lost_updates.png   lost updates against thread count (scheduler and real threads, with and without Mutex)
outcomes.png       final values of 2 threads x 3 racy increments over all 924 interleavings
timeline.png       the simplest schedule that ends at 2 (4 preemptions), a lane per thread, lost writes crossed out
"""

import pathlib
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from rustsync.lab import racy_counter  # noqa: E402
from rustsync.plots import plot_lost_updates, plot_outcome_histogram, plot_timeline  # noqa: E402
from rustsync.sched import explore, minimal_schedule, needs  # noqa: E402


def main(folder):
    folder.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    plot_lost_updates(ax=ax, max_threads=8, increments=100, seed=0)
    fig.savefig(folder / "lost_updates.png", dpi=110)

    exploration = explore(racy_counter(2, 3))
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    plot_outcome_histogram(exploration, ax=ax, expected=6)
    fig.savefig(folder / "outcomes.png", dpi=110)

    worst = minimal_schedule(racy_counter(2, 3), 2)
    fig, ax = plt.subplots(figsize=(9, 2.8), layout="constrained")
    plot_timeline(worst, ax=ax, title=f"Schedule {worst.schedule} → 2: it {needs(worst.preemptions)}")
    fig.savefig(folder / "timeline.png", dpi=110)
    for name in ("lost_updates.png", "outcomes.png", "timeline.png"):
        print(folder / name)


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "bench/out"))
