"""Slider panels for the lessons: change a setting, the plot redraws in place.

Each panel owns one matplotlib figure and one fixed-height `Output`; a change redraws
the figure and replaces the output's image in a single step (`clear_output(wait=True)`),
so the page neither flickers nor stacks figures. The callbacks are plain methods: a
test sets `panel.threads.value = 6` and reads `panel.data`, no browser needed.

Every setting is computed once and its picture kept, so coming back to a slider
position is instant. A setting that is still being computed is marked at once: the
old figure fades and a "computing…" line names the new setting, so the old figure is
never taken for the new one; both marks stay invisible for the first 80 ms, so quick
updates do not flicker. A panel displays with its first figure as a plain PNG beside
the widget, which is what a notebook shows before its kernel runs (GitHub, nbviewer,
a lesson just opened). Under the figure, a line says to run the cell to move the
sliders: a notebook reopened without running shows the saved widgets, which do not
move, and the line keeps them from looking broken.
"""

from __future__ import annotations

import atexit
import base64
import html
import io
import threading
import time

import ipywidgets as w
import matplotlib.pyplot as plt
from IPython.display import Image, clear_output, display
from matplotlib.figure import Figure

from .lab import race, racy_counter, scheduled_race
from .plots import REAL_INCREMENTS, plot_lost_updates, plot_outcome_histogram, plot_timeline, timeline_layout
from .sched import explore, minimal_schedule, needs, replay, run

# Panels drawing ahead, and the flag that stops them: at exit each is stopped and waited for, so
# that no thread is inside matplotlib's C++ code while the interpreter shuts down.
_AHEAD = set()
_STOP = threading.Event()


@atexit.register
def _stop_drawing_ahead():
    _STOP.set()
    for thread in list(_AHEAD):
        thread.join(timeout=10)


# The marks of a panel whose new figure is being computed: shown only if it takes longer than 80 ms.
_STYLE = """<style>
.rustsync-busy { visibility: hidden; animation: rustsync-show 0s linear 80ms forwards; color: #8a5a00; }
@keyframes rustsync-show { to { visibility: visible; } }
.rustsync-stale img { opacity: 0.3; transition: opacity 0s linear 80ms; }
.rustsync-stale .rustsync-caption { opacity: 0.4; transition: opacity 0s linear 80ms; }
.rustsync-hint { color: #666666; font-size: 0.9em; }
</style>"""

# Under every panel, also in a notebook reopened without running: its saved picture is not a broken widget.
HINT = "Run this cell to move the sliders: a notebook opened without running it shows the saved picture only."


class _Panel:
    """A row of controls above one figure that is redrawn when a control changes."""

    height = "380px"
    size = (7, 3.6)
    margins = dict(left=0.1, right=0.97, top=0.9, bottom=0.14)
    dpi = 90
    cache = True  # the same settings draw the same figure

    def __init__(self, controls):
        self.controls = controls
        # A fixed layout: drawn once per update, no layout solver, no tight bounding box.
        self.fig, self.ax = plt.subplots(figsize=self.size, dpi=self.dpi)
        self.fig.subplots_adjust(**self.margins)
        plt.close(self.fig)  # shown through the Output below, never by the inline backend
        self.png = b""
        self.out = w.Output(layout=w.Layout(height=self.height, overflow="hidden"))
        self.status = w.HTML()
        self.busy = w.HTML()
        self.hint = w.HTML(f"<span class='rustsync-hint'>{HINT}</span>")
        self.widget = w.VBox([w.HBox(controls), w.HBox([self.status, self.busy]), self.out, self.hint,
                              w.HTML(_STYLE)])
        self.widget.add_class("rustsync-panel")
        self.data = None
        self.draws = 0
        self.seconds = 0.0  # how long the last update took (compute, draw, PNG)
        self._shown = {}  # settings -> (png, data, caption)
        for control in controls:
            control.observe(self._changed, names="value")
        self.update()

    def _changed(self, _change):
        self.update()

    def settings(self):
        return tuple(c.value for c in self.controls)

    def describe(self):
        """The settings in words, for the "computing…" line."""
        return ", ".join(f"{c.description} {c.value}" for c in self.controls if getattr(c, "description", ""))

    def update(self):
        """Recompute (unless these settings were drawn before), redraw the figure in place, and show it."""
        began = time.perf_counter()
        key = self.settings()
        shown = self._shown.get(key) if self.cache else None
        if shown is None:
            self.busy.value = f"<span class='rustsync-busy'>computing {html.escape(self.describe())}…</span>"
            self.widget.add_class("rustsync-stale")
            try:
                self.ax.clear()
                for extra in self.fig.axes[1:]:
                    extra.remove()
                self.caption = ""
                data = self.draw(self.ax)
                buffer = io.BytesIO()
                self.fig.savefig(buffer, format="png", dpi=self.dpi, pil_kwargs={"compress_level": 1})
                shown = (buffer.getvalue(), data, self.caption)
                if self.cache:
                    self._shown[key] = shown
            finally:
                self.widget.remove_class("rustsync-stale")
                self.busy.value = ""
        self.png, self.data, caption = shown
        self.status.value = f"<span class='rustsync-caption'>{caption}</span>" if caption else ""
        self.draws += 1
        with self.out:
            clear_output(wait=True)
            display(Image(self.png))
        self.seconds = time.perf_counter() - began

    def draw(self, ax):  # pragma: no cover - each panel draws its own
        raise NotImplementedError

    def _start_prefetch(self, keys, picture):
        """Draw the pictures of `keys` in a thread of its own, on a figure of its own, into the cache.

        `picture(ax, key)` draws on `ax` and returns (data, caption) without touching the
        widgets. The cache then answers those settings at once; a setting the slider
        reaches first is computed in the foreground as before (the same picture either way).
        """
        self.prefetched = threading.Event()

        def work():
            try:
                fig = Figure(figsize=self.size, dpi=self.dpi)
                ax = fig.subplots()
                fig.subplots_adjust(**self.margins)
                for key in keys:
                    if _STOP.is_set():
                        break
                    if key not in self._shown:
                        self._draw_ahead(fig, ax, picture, key)
            except Exception:  # noqa: BLE001 - a picture not drawn ahead is drawn when asked for
                pass
            finally:
                _AHEAD.discard(threading.current_thread())
                self.prefetched.set()

        thread = threading.Thread(target=work, name="rustsync-panel-prefetch", daemon=True)
        _AHEAD.add(thread)
        thread.start()

    def _draw_ahead(self, fig, ax, picture, key):
        """Draw the picture of settings `key` on the drawing thread's own figure, into the cache (first one stays)."""
        ax.clear()
        for extra in fig.axes[1:]:
            extra.remove()
        data, caption = picture(ax, key)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=self.dpi, pil_kwargs={"compress_level": 1})
        self._shown.setdefault(key, (buffer.getvalue(), data, caption))

    def _repr_mimebundle_(self, include=None, exclude=None):
        # The widget, and its first figure as a PNG: notebooks saved with it show a picture before they run.
        bundle = self.widget._repr_mimebundle_()
        bundle["image/png"] = base64.b64encode(self.png).decode("ascii")
        return bundle

    def save(self, path):
        """Write the current figure to a PNG file."""
        self.fig.savefig(path, dpi=110)


class LostUpdatePanel(_Panel):
    """Threads and increments per thread: lost updates with and without a Mutex.

    The scheduler lines are reproducible (they follow the seed). The real-thread line is
    not: real races differ from run to run. Its threads make `real_increments` each (a
    short run on CPython rarely reaches a thread switch), so the figure shows shares of
    the increments lost. Each point of each line is computed once for
    its setting and kept, so a slider move computes only the new points; a new seed
    measures the real threads again, as another run.

    After each update, a thread of its own computes the scheduler's points of the
    settings one key press away (one thread more and one less, one increment more and one
    less, then each slider's Home and End, then the next seed) while the student looks at
    the figure, and draws those whose real-thread points are already measured (the
    increments, fewer threads), so that the next move only shows a picture. Real threads
    are never run ahead: they would race with the kernel's own threads, and slow the
    cells that follow; a setting that needs a new one (more threads, a new seed) measures
    it when the slider gets there, in about 0.1 s per thread count. A move cancels what is
    still ahead of the old setting; a point being computed ahead when the slider reaches
    it is waited for, not computed twice. `ahead=False` computes only what a setting shows.
    """

    def __init__(self, threads=4, increments=50, seed=0, real=True, real_increments=REAL_INCREMENTS, ahead=True):
        self.real = real
        self.real_increments = real_increments
        self.ahead = ahead
        self._runs = {}  # (threads, increments, seed, kind) -> updates lost
        self._computing = {}  # key -> Event set when the thread ahead has stored it
        self._generation = 0  # a new update makes what is ahead of the old setting stop
        self.computed_ahead = None  # Event set when the points ahead of the last update are all there
        self.threads = w.IntSlider(value=threads, min=1, max=12, description="threads",
                                   continuous_update=False)
        self.increments = w.IntSlider(value=increments, min=1, max=100, step=1, description="increments",
                                      continuous_update=False)
        self.seed = w.BoundedIntText(value=seed, min=0, max=10_000, description="seed",
                                     layout=w.Layout(width="160px"))
        super().__init__([self.threads, self.increments, self.seed])

    def _point(self, key):
        lost = self._runs.get(key)
        if lost is None:
            pending = self._computing.get(key)
            if pending is not None:  # being computed ahead: wait for it rather than run it twice
                pending.wait()
                lost = self._runs.get(key)
        if lost is None:
            lost = self._runs.setdefault(key, self._compute(key))
        return lost

    def _compute(self, key):
        n, increments, seed, kind = key
        if kind == "real":
            return race(n, increments).lost
        return scheduled_race(n, increments, mutex=kind, seed=seed + n).lost

    def _lost(self, n, increments, seed, mutex):
        return self._point((n, increments, seed, mutex))

    def _real(self, n, seed):
        return self._point((n, self.real_increments, seed, "real"))

    def _keys(self, top, increments, seed):
        keys = [(n, increments, seed, mutex) for n in range(1, top + 1) for mutex in (False, True)]
        if self.real:
            keys += [(n, self.real_increments, seed, "real") for n in range(1, top + 1)]
        return keys

    def update(self):
        self._generation += 1  # what was being computed ahead of the old setting stops at its next point
        super().update()
        if self.ahead:
            self._compute_ahead()

    def _compute_ahead(self):
        top, increments, seed = self.threads.value, self.increments.value, self.seed.value
        threads, steps = self.threads, self.increments
        near = ((top + 1, increments), (top - 1, increments), (top, increments + 1), (top, increments - 1),
                (threads.max, increments), (threads.min, increments), (top, steps.max), (top, steps.min))
        ahead = []
        for t, k in near:  # the arrow keys' settings first, then Home's and End's
            if (threads.min <= t <= threads.max and steps.min <= k <= steps.max
                    and (t, k, seed) not in self._shown and (t, k, seed) not in ahead):
                ahead.append((t, k, seed))
        if seed < self.seed.max and (top, increments, seed + 1) not in self._shown:
            ahead.append((top, increments, seed + 1))  # the seed box's up arrow: another run
        generation = self._generation
        done = self.computed_ahead = threading.Event()

        def work():
            try:
                fig = Figure(figsize=self.size, dpi=self.dpi)
                ax = fig.subplots()
                fig.subplots_adjust(**self.margins)
                for settings in ahead:
                    for key in self._keys(*settings):
                        if _STOP.is_set() or generation != self._generation:
                            return
                        if key in self._runs or key in self._computing or key[3] == "real":
                            continue
                        pending = self._computing[key] = threading.Event()
                        try:
                            self._runs.setdefault(key, self._compute(key))
                        finally:
                            del self._computing[key]
                            pending.set()
                    if _STOP.is_set() or generation != self._generation:
                        return
                    if any(key not in self._runs for key in self._keys(*settings)):
                        continue  # a real-thread point is missing: measured when the slider gets there
                    self._draw_ahead(fig, ax, self._picture, settings)
            except Exception:  # noqa: BLE001 - a point not computed ahead is computed when asked for
                pass
            finally:
                _AHEAD.discard(threading.current_thread())
                done.set()

        thread = threading.Thread(target=work, name="rustsync-panel-ahead", daemon=True)
        _AHEAD.add(thread)
        thread.start()

    def draw(self, ax):
        return self._picture(ax, self.settings())[0]

    def _picture(self, ax, settings):
        top, increments, seed = settings
        counts = list(range(1, top + 1))
        data = {"threads": counts, "increments": increments, "seed": seed,
                "scheduler, no lock": [self._lost(n, increments, seed, False) for n in counts],
                "scheduler, Mutex": [self._lost(n, increments, seed, True) for n in counts]}
        if self.real:
            data["real increments"] = self.real_increments
            data["real threads, no lock"] = [self._real(n, seed) for n in counts]
        plot_lost_updates(data, ax=ax)
        return data, ""


class OutcomePanel(_Panel):
    """Two threads, k increments each: every interleaving explored, final values counted."""

    def __init__(self, increments=2, preemption_bound=None, prefetch=True):
        self.increments = w.IntSlider(value=increments, min=1, max=4, description="increments",
                                      continuous_update=False)
        # not None: ipywidgets shows a None value as an empty dropdown (nothing selected)
        self.bound = w.Dropdown(options=[("no bound", "none"), ("1 preemption", 1), ("2 preemptions", 2),
                                         ("3 preemptions", 3), ("4 preemptions", 4)],
                                value="none" if preemption_bound is None else preemption_bound, description="bound")
        self._explorations = {}
        super().__init__([self.increments, self.bound])
        self.prefetched = None
        if prefetch:  # every other setting ahead, the increments nearest to the first one shown first
            first = self.increments.value
            order = sorted(range(self.increments.min, self.increments.max + 1), key=lambda k: (abs(k - first), k))
            self._start_prefetch([(k, bound) for k in order for _, bound in self.bound.options], self._picture)

    def describe(self):
        bound = "no bound" if self.bound.value == "none" else f"at most {self.bound.value} preemption(s)"
        return f"2 threads × {self.increments.value} increments, {bound}"

    def draw(self, ax):
        data, self.caption = self._picture(ax, self.settings())
        self.exploration = self._explorations[self._key(self.settings())]
        return data

    @staticmethod
    def _key(settings):
        k, bound = settings
        return k, None if bound == "none" else bound

    def _picture(self, ax, settings):
        """Draw the settings' histogram on `ax`; (data, caption). Reads no widget: the prefetch thread calls it too."""
        k, bound = key = self._key(settings)
        exploration = self._explorations.get(key)
        if exploration is None:
            exploration = self._explorations.setdefault(key, explore(racy_counter(2, k), preemption_bound=bound))
        plot_outcome_histogram(exploration, ax=ax, expected=2 * k,
                               title=f"2 threads × {k} increments: final values over "
                                     f"{exploration.schedules:,} schedules")
        caption = (f"<code>{exploration.schedules}</code> schedules, "
                   f"outcomes <code>{dict(sorted(exploration.outcomes.items()))}</code>")
        return dict(exploration.outcomes), caption


class SchedulePanel(_Panel):
    """Step through one schedule: a slider reveals the timeline one step at a time.

    The schedule is `schedule` (replayed), or the simplest one whose outcome satisfies
    `failing` (a function of the outcome, or a value: fewest preemptions, then fewest
    steps, see `rustsync.sched.minimal_schedule`), or a seeded random one. A run that
    ends in a deadlock has one more slider position: every thread waiting. The line
    under the figure's title says what the slider's position shows; the figure is sized
    for the whole run, so it keeps its size and scale at every position.
    """

    max_width = 10.5  # inches: about the width of a notebook's output area at the panel's dpi

    def __init__(self, program=None, schedule=None, seed=0, failing=None, prefetch=True):
        self.program = program or racy_counter(2, 2)
        self.note = ""
        found = None
        if failing is not None and schedule is None:
            found = minimal_schedule(self.program, failing)
            if found is None:
                self.note = "no schedule ends that way; "
        self.simplest = found is not None
        if found is not None:
            self.run = found
        elif schedule is not None:
            self.run = replay(self.program, schedule)
        else:
            self.run = run(self.program, seed=seed)
        self.steps = len(self.run.schedule)
        layout = timeline_layout(self.run, subtitle=True, max_width=self.max_width)
        self.size, self.margins = layout["size"], layout["margins"]
        self.height = f"{round(self.size[1] * self.dpi) + 10}px"
        last = max(self.steps - 1, 0) + (1 if self.run.deadlock is not None else 0)
        self.step = w.IntSlider(value=last, min=0, max=last, description="show step",
                                continuous_update=True, style={"description_width": "initial"})
        super().__init__([self.step])
        self.prefetched = None
        if prefetch:  # every position ahead of the slider, nearest to the first one shown first
            self._start_prefetch([(upto,) for upto in range(last, -1, -1)],
                                 lambda ax, key: self._picture(ax, key[0]))

    def describe(self):
        return f"step {self.step.value}"

    def position(self, upto=None):
        """What the slider's position (or `upto`) shows, in words: one step, or every thread waiting."""
        upto = self.step.value if upto is None else upto
        if self.run.deadlock is not None and upto >= self.steps:  # the column the axis calls "waits"
            return f"step {upto}, waits: after step {self.steps - 1} every thread waits, none can go on"
        for ev in self.run.trace:
            if ev.step == upto:  # on the figure, names need no code quotes
                return f"step {upto} of {self.steps - 1}: {_in_words(ev).replace('`', '')}"
        return f"step {upto}"

    def draw(self, ax):
        data, self.caption = self._picture(ax, self.step.value)
        return data

    def _picture(self, ax, upto):
        """Draw position `upto` on `ax`; (data, caption). Reads no widget: the prefetch thread calls it too."""
        waits = self.run.deadlock is not None and upto >= self.steps
        data = plot_timeline(self.run, ax=ax, upto=min(upto, self.steps - 1) if self.steps else None,
                             waits=waits, subtitle=self.position(upto))
        schedule = html.escape(str(self.run.schedule))
        preemptions = self.run.preemptions
        if self.simplest:
            how = f"the simplest schedule that ends this way, {schedule}, {needs(preemptions)}"
        else:
            how = f"the schedule {schedule} has {preemptions} preemption{'s' if preemptions != 1 else ''}"
        if waits:
            how = html.escape(str(self.run.deadlock).removeprefix("deadlock: ")) + " &nbsp;·&nbsp; " + how
        return data, f"{self.note}{how}"


def _in_words(ev):
    verbs = {"read": "reads", "write": "writes", "lock": "locks", "try_lock": "tries to lock", "unlock": "unlocks",
             "count": "reads the count of", "fetch_add": "adds to", "sleep": "sleeps"}
    kind = ev.op.rsplit(":", 1)[-1]
    what = verbs.get(kind, ev.op)
    obj = f" `{ev.obj}`" if ev.obj else ""
    if ":" in ev.op and ev.value is not None:  # an `Rc` count change: `clone:read` reads the count for a clone
        value = f" ({ev.op.split(':')[0]}: {ev.value!r})"
    else:
        value = f" ({ev.value!r})" if ev.value is not None else ""
    return f"thread {ev.thread} {what}{obj}{value}"
