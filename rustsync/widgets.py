"""Slider panels for the lessons: change a setting, the plot redraws in place.

Each panel owns one matplotlib figure and one fixed-height `Output`; a change redraws
the figure and replaces the output's image in a single step (`clear_output(wait=True)`),
so the page neither flickers nor stacks figures. The callbacks are plain methods: a
test sets `panel.threads.value = 6` and reads `panel.data`, no browser needed.
"""

from __future__ import annotations

import html
import io

import ipywidgets as w
import matplotlib.pyplot as plt
from IPython.display import Image, clear_output, display

from .lab import racy_counter
from .plots import lost_update_data, plot_lost_updates, plot_outcome_histogram, plot_timeline
from .sched import explore, replay, run


class _Panel:
    """A row of controls above one figure that is redrawn when a control changes."""

    height = "380px"
    size = (7, 3.6)
    margins = dict(left=0.1, right=0.97, top=0.9, bottom=0.14)
    dpi = 90

    def __init__(self, controls):
        self.controls = controls
        # A fixed layout: drawn once per update, no layout solver, no tight bounding box.
        self.fig, self.ax = plt.subplots(figsize=self.size, dpi=self.dpi)
        self.fig.subplots_adjust(**self.margins)
        plt.close(self.fig)  # shown through the Output below, never by the inline backend
        self.png = b""
        self.out = w.Output(layout=w.Layout(height=self.height, overflow="hidden"))
        self.status = w.HTML()
        self.widget = w.VBox([w.HBox(controls), self.status, self.out])
        self.data = None
        self.draws = 0
        for control in controls:
            control.observe(self._changed, names="value")
        self.update()

    def _changed(self, _change):
        self.update()

    def update(self):
        """Recompute, redraw the figure in place, and show it."""
        self.ax.clear()
        for extra in self.fig.axes[1:]:
            extra.remove()
        self.data = self.draw(self.ax)
        self.draws += 1
        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="png", dpi=self.dpi)
        self.png = buffer.getvalue()
        with self.out:
            clear_output(wait=True)
            display(Image(self.png))

    def draw(self, ax):  # pragma: no cover - each panel draws its own
        raise NotImplementedError

    def _ipython_display_(self):
        display(self.widget)

    def save(self, path):
        """Write the current figure to a PNG file."""
        self.fig.savefig(path, dpi=110)


class LostUpdatePanel(_Panel):
    """Threads and increments per thread: lost updates with and without a Mutex.

    The scheduler lines are reproducible (they follow the seed); the real-thread line
    changes from run to run, as real races do.
    """

    def __init__(self, threads=4, increments=50, seed=0, real=True):
        self.real = real
        self.threads = w.IntSlider(value=threads, min=1, max=12, description="threads",
                                   continuous_update=False)
        self.increments = w.IntSlider(value=increments, min=1, max=200, step=1, description="increments",
                                      continuous_update=False)
        self.seed = w.BoundedIntText(value=seed, min=0, max=10_000, description="seed",
                                     layout=w.Layout(width="160px"))
        super().__init__([self.threads, self.increments, self.seed])

    def draw(self, ax):
        data = lost_update_data(self.threads.value, self.increments.value, self.seed.value,
                                real=self.real, real_mutex=False)
        plot_lost_updates(data, ax=ax)
        return data


class OutcomePanel(_Panel):
    """Two threads, k increments each: every interleaving explored, final values counted."""

    def __init__(self, increments=2, preemption_bound=None):
        self.increments = w.IntSlider(value=increments, min=1, max=4, description="increments",
                                      continuous_update=False)
        # not None: ipywidgets shows a None value as an empty dropdown (nothing selected)
        self.bound = w.Dropdown(options=[("no bound", "none"), ("1 preemption", 1), ("2 preemptions", 2),
                                         ("3 preemptions", 3), ("4 preemptions", 4)],
                                value="none" if preemption_bound is None else preemption_bound, description="bound")
        super().__init__([self.increments, self.bound])

    def draw(self, ax):
        k = self.increments.value
        bound = None if self.bound.value == "none" else self.bound.value
        exploration = explore(racy_counter(2, k), preemption_bound=bound)
        plot_outcome_histogram(exploration, ax=ax, expected=2 * k,
                               title=f"2 threads × {k} increments: final values over "
                                     f"{exploration.schedules} schedules")
        self.exploration = exploration
        self.status.value = (f"<code>{exploration.schedules}</code> schedules, "
                             f"outcomes <code>{dict(sorted(exploration.outcomes.items()))}</code>")
        return dict(exploration.outcomes)


class SchedulePanel(_Panel):
    """Step through one schedule: a slider reveals the timeline one step at a time."""

    size = (8, 2.6)
    height = "300px"
    margins = dict(left=0.1, right=0.84, top=0.86, bottom=0.2)

    def __init__(self, program=None, schedule=None, seed=0):
        self.program = program or racy_counter(2, 2)
        self.run = replay(self.program, schedule) if schedule is not None else run(self.program, seed=seed)
        last = max(len(self.run.schedule) - 1, 0)
        self.step = w.IntSlider(value=last, min=0, max=last, description="step", continuous_update=True)
        super().__init__([self.step])

    def draw(self, ax):
        upto = self.step.value
        data = plot_timeline(self.run, ax=ax, upto=upto)
        shown = ""
        for ev in self.run.trace:
            if ev.step is not None and ev.step > upto:
                break
            if ev.step == upto:
                shown = str(ev)
        self.status.value = "<pre style='margin:0'>" + html.escape(shown) + "</pre>"
        return data
