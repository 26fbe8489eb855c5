"""Pictures of races: lost updates against thread count, outcome histograms, timelines.

Each function draws on a matplotlib `Axes` (a new figure if none is given), returns
the data it plotted, and leaves the figure to the caller (`ax.figure`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath
from matplotlib.ticker import MaxNLocator

from .lab import race, scheduled_race

COLORS = {"racy": "#d62728", "mutex": "#1f77b4", "real_racy": "#ff7f0e", "real_mutex": "#17becf"}
LANE_COLORS = ["#444444", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"]

# Text sizes in points. Labels, legends and the notes beside the markers keep matplotlib's 10-point
# default, titles 12: the lessons show these figures at about their own size, so nothing is smaller.
TEXT = 10
TITLE = 12
_LANE = 0.6  # inches between two threads' lanes
_MEASURE = TextToPath()


def _axes(ax, size=(7, 4)):
    if ax is None:
        fig, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


REAL_INCREMENTS = 100_000  # per real thread: a shorter run usually ends before CPython switches threads


def lost_update_data(max_threads=8, increments=100, seed=0, real=True, real_mutex=True,
                     real_increments=REAL_INCREMENTS):
    """Lost updates for 1..max_threads threads: scheduler and (optionally) real threads.

    The scheduler runs `increments` per thread and its figures are the same for the
    same seed. Real threads run `real_increments` each without the lock (on CPython
    with the GIL a short run rarely reaches a thread switch, so it would lose nothing)
    and `increments` each with the `Mutex`; their figures change from run to run.
    Values are updates lost; `plot_lost_updates` draws them as a share of the total.
    """
    counts = list(range(1, max_threads + 1))
    data = {"threads": counts, "increments": increments, "seed": seed}
    data["scheduler, no lock"] = [scheduled_race(n, increments, seed=seed + n).lost for n in counts]
    data["scheduler, Mutex"] = [scheduled_race(n, increments, mutex=True, seed=seed + n).lost for n in counts]
    if real:
        data["real increments"] = real_increments
        data["real threads, no lock"] = [race(n, real_increments).lost for n in counts]
    if real and real_mutex:
        data["real threads, Mutex"] = [race(n, increments, mutex=True).lost for n in counts]
    return data


_STYLE = {
    "scheduler, no lock": dict(color=COLORS["racy"], marker="o", linestyle="-"),
    "scheduler, Mutex": dict(color=COLORS["mutex"], marker="s", linestyle="-"),
    "real threads, no lock": dict(color=COLORS["real_racy"], marker="^", linestyle="--"),
    "real threads, Mutex": dict(color=COLORS["real_mutex"], marker="v", linestyle="--"),
}


def _per_thread(data, key):
    """How many increments each thread of line `key` made."""
    return data.get("real increments", data["increments"]) if key == "real threads, no lock" else data["increments"]


def plot_lost_updates(data=None, ax=None, **kwargs):
    """The share of updates lost against thread count, with and without the mutex, on one figure.

    A share, not a count, so that lines whose threads made different numbers of
    increments (the real threads without a lock need many more) compare on one scale;
    each line's label says how many increments its threads made.
    """
    data = data if data is not None else lost_update_data(**kwargs)
    ax = _axes(ax)
    counts = data["threads"]
    for key, style in _STYLE.items():
        if key in data:
            each = _per_thread(data, key)
            shares = [100 * lost / (n * each) if n * each else 0.0 for n, lost in zip(counts, data[key], strict=True)]
            ax.plot(counts, shares, label=f"{key} ({each:,} each)", **style)
    ax.set_xlabel("threads")
    ax.set_ylabel("updates lost (% of all increments)")
    ax.set_title(f"Lost updates: scheduler with {data['increments']} increments per thread, seed {data['seed']}")
    ax.set_xticks(counts)
    ax.set_ylim(-2, 100)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=TEXT)
    return data


def plot_outcome_histogram(exploration, ax=None, expected=None, title=None):
    """How many schedules end at each final value; the correct value highlighted."""
    ax = _axes(ax)
    items = sorted(((o, n) for o, n in exploration.outcomes.items() if isinstance(o, (int, float))))
    others = [(str(o), n) for o, n in exploration.outcomes.items() if not isinstance(o, (int, float))]
    labels = [str(o) for o, _ in items] + [o for o, _ in others]
    counts = [n for _, n in items] + [n for _, n in others]
    colors = [COLORS["mutex"] if expected is not None and str(expected) == lab else COLORS["racy"]
              for lab in labels]
    bars = ax.bar(labels, counts, color=colors)
    ax.bar_label(bars)
    ax.margins(y=0.12)
    ax.set_xlabel("final value of the counter")
    ax.set_ylabel("schedules")
    ax.set_title(title or f"Final values over all {exploration.schedules} schedules")
    if expected is not None:
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(color=COLORS["mutex"], label=f"correct ({expected})"),
                           Patch(color=COLORS["racy"], label="an update was lost")])
    return dict(zip(labels, counts, strict=True))


def lost_writes(trace):
    """Steps whose write another thread overwrote with a value computed from an older read.

    Two-step updates such as an `Rc` count's (`clone:read`, `clone:write`) count as a
    read and a write of their object.
    """
    last_read = {}
    lost = []
    writes = []  # (step, thread, obj)
    for ev in trace:
        if ev.step is None:
            continue
        kind = ev.op.rsplit(":", 1)[-1]
        if kind == "read":
            last_read[(ev.thread, ev.obj)] = ev.step
        elif kind == "write":
            read_at = last_read.get((ev.thread, ev.obj))
            if read_at is not None:
                lost.extend(s for s, t, o in writes if o == ev.obj and t != ev.thread and s > read_at)
            writes.append((ev.step, ev.thread, ev.obj))
    return sorted(set(lost))


# One shape per kind of step; the legend draws each in grey once. Two kinds never share a shape,
# and kinds that mean the same share a label: `strong_count` reads a count, so it is drawn as a read.
_MARKERS = {"read": ("o", "read"), "write": ("s", "write"), "lock": ("v", "lock"),
            "try_lock": ("^", "try_lock"), "unlock": ("|", "unlock"),
            "fetch_add": ("D", "fetch_add"), "fetch_sub": ("d", "fetch_sub"),
            "load": ("p", "load"), "store": ("P", "store"), "swap": ("<", "swap"),
            "compare_exchange": (">", "compare_exchange"), "count": ("o", "read"),
            "clone": ("*", "clone"), "drop": ("X", "drop"), "sleep": ("8", "sleep"), "join": ("H", "join")}
_SPARE = ["1", "2", "3", "4", "+", "x", "_"]



def _inches(text, size=TEXT):
    """How wide `text` is drawn at `size` points, in inches."""
    width, _height, _descent = _MEASURE.get_text_width_height_descent(text, FontProperties(size=size), ismath=False)
    return width / 72


def _marker(op):
    """The shape and legend label of a step: an `Rc` count's `clone:read` is drawn as a read."""
    if ":" in op:
        kind = op.rsplit(":", 1)[-1]
        if kind in ("read", "write"):
            return _MARKERS[kind]
    found = _MARKERS.get(op.split(":")[0])
    if found is None:  # an operation the table does not know: a shape no other kind uses
        used = {shape for shape, _ in _MARKERS.values()}
        found = _MARKERS[op] = (next((s for s in _SPARE if s not in used), "."), op)
    return found


def _step_text(ev):
    """The label above a step: the value read or written, or which mutex a lock step took."""
    if ev.op in ("lock", "try_lock"):
        return f"{ev.obj} (busy)" if ev.value == "WouldBlock" else ev.obj
    if ev.value is None:
        return ""
    if ev.op == "count":
        return f"count {ev.value}"
    return f"{ev.op.split(':')[0]} {ev.value}" if ":" in ev.op else str(ev.value)


def _wait_text(what, holder):
    """The note beside a thread that waits forever: what for, and who has it."""
    if what.startswith("join ") and holder is not None:
        return f"waits to join thread {holder}"
    return f"waits for {what}" + (f" (held by thread {holder})" if holder is not None else "")


def timeline_layout(run, title=None, subtitle=None, max_width=None):
    """The figure size (inches) and margins (figure fractions) that fit `run`'s timeline and its labels.

    Computed from the whole run, so that every step of a step slider draws on the same
    figure: one column per step, wide enough for the widest label above a step; a last
    column with the notes of the threads that wait, for a deadlock; one lane per thread;
    the legend on the right. `subtitle` (its text, or True) leaves room for a line under
    the title. A run too long for `max_width` inches gets narrower columns.
    """
    texts = [_step_text(ev) for ev in run.trace if ev.step is not None]
    column = max(0.5, max((_inches(t) for t in texts), default=0) + 0.15)
    waits = run.deadlock.waits if run.deadlock is not None else ()
    notes = max((_inches(_wait_text(what, holder)) + 0.35 for _, what, holder in waits), default=0)
    last = max(len(run.schedule) - 1, 0)
    columns = last + (1.7 if waits else 1.4)  # from half a column before the first step to the last one
    lanes = _lanes(run)
    labels = _legend_labels(run)
    left = 0.3 + max(_inches(f"thread {t}") for t in lanes)
    right = 0.75 + max((_inches(label) for label in labels), default=0)
    if max_width is not None and left + columns * column + notes + right > max_width:
        column = max(0.05, (max_width - left - notes - right) / columns)
    # The title is centred over the axes: they are made wide enough that it ends inside the figure.
    needed = _inches(title or _default_title(run), TITLE) - 2 * left + 0.2
    if max_width is not None:
        needed = min(needed, max_width - left - right)
    if columns * column + notes < needed:
        column = (needed - notes) / columns
    # a deadlock's circles one column after the last step, their notes to the right of them
    xlim = (-0.7, last + 1 + notes / column) if waits else (-0.7, last + 0.7)
    top = 0.45 + (0.25 if subtitle else 0)
    bottom = 0.55
    width = max(left + (xlim[1] - xlim[0]) * column + right, 6.0)
    height = max(top + bottom + (len(lanes) + 0.4) * _LANE, top + 0.4 + 0.27 * len(labels))
    return {"size": (round(width, 2), round(height, 2)), "xlim": xlim,
            "margins": {"left": left / width, "right": 1 - right / width,
                        "top": 1 - top / height, "bottom": bottom / height}}


def _lanes(run):
    """Every thread that takes a step or waits at the end of the run, in order."""
    waiting = run.deadlock.waits if run.deadlock is not None else ()
    return sorted({ev.thread for ev in run.trace if ev.step is not None} | {t for t, _, _ in waiting}) or [0]


def _unlocks(trace, upto=None):
    """(x, thread) of every release of a lock: at its step, or half a column after the step it followed.

    Most releases are not steps (no other thread can observe when they happen), but a
    release between two locks of the same thread is what lets another thread in: drawn
    between the columns, it shows where the lock was free.
    """
    out = []
    last_step = -1
    for ev in trace:
        if ev.step is not None:
            last_step = ev.step
        if upto is not None and last_step > upto:
            break
        if ev.op == "unlock":
            out.append((ev.step if ev.step is not None else last_step + 0.5, ev.thread))
    return out


def _legend_labels(run):
    labels = list(dict.fromkeys(_marker(ev.op)[1] for ev in run.trace if ev.step is not None))
    if "unlock" not in labels and _unlocks(run.trace):
        labels.append("unlock")
    if lost_writes(run.trace):
        labels.append("lost write")
    if run.deadlock is not None:
        labels.append("waits")
    return labels


def _default_title(run):
    outcome = "deadlock" if run.deadlock is not None else f"outcome {run.outcome}"
    if len(run.schedule) > 16:  # too long to read in a title
        return f"A schedule of {len(run.schedule)} steps  →  {outcome}"
    return f"Schedule {run.schedule}  →  {outcome}"


def plot_timeline(run, ax=None, upto=None, title=None, waits=None, subtitle=None):
    """One lane per thread, one column per step: reads, writes, locks and unlocks, lost writes crossed out.

    For a run that ended in a deadlock, `waits` (the default when the whole run is shown)
    adds a last column: each waiting thread, what it waits for and who holds it.
    `upto` shows the steps up to that one only, on the axes, lanes and legend of the
    whole run, so a step slider never rescales the figure; `subtitle`, a line under the
    title, can say what is shown.
    """
    layout = timeline_layout(run, title, subtitle)
    if ax is None:
        fig, ax = plt.subplots(figsize=layout["size"])
        fig.subplots_adjust(**layout["margins"])
    steps = [ev for ev in run.trace if ev.step is not None]
    if upto is not None:
        steps = [ev for ev in steps if ev.step <= upto]
    if waits is None:
        waits = run.deadlock is not None and (upto is None or upto >= len(run.schedule) - 1)
    waiting = run.deadlock.waits if waits and run.deadlock is not None else ()
    threads = _lanes(run)
    lost = set(lost_writes(run.trace))
    # The legend says what each shape means, for the whole run: it stays the same as a slider moves.
    for label in _legend_labels(run):
        if label == "lost write":
            ax.scatter([], [], marker="x", s=120, color=COLORS["racy"], label=label)
        elif label == "waits":
            ax.scatter([], [], marker="o", s=70, facecolors="none", edgecolors="#777777", linewidths=1.5,
                       label=label)
        else:
            marker = next(m for m, lab in _MARKERS.values() if lab == label)
            ax.scatter([], [], marker=marker, s=70, color="#777777", label=label)
    groups = {}  # (marker, thread) -> steps: one scatter each, fewer artists to draw
    crossed = []
    for ev in steps:
        marker, _label = _marker(ev.op)
        if ev.op != "unlock":  # every release, a step or not, is drawn below
            groups.setdefault((marker, ev.thread), []).append(ev.step)
        text = _step_text(ev)
        if text:
            ax.annotate(text, (ev.step, ev.thread), textcoords="offset points", xytext=(0, 9),
                        ha="center", fontsize=TEXT)
        if ev.step in lost:
            crossed.append((ev.step, ev.thread))
    for (marker, thread), where in groups.items():
        ax.scatter(where, [thread] * len(where), marker=marker, s=90, color=LANE_COLORS[thread % len(LANE_COLORS)],
                   zorder=3)
    released = {}
    for x, thread in _unlocks(run.trace, upto):
        released.setdefault(thread, []).append(x)
    for thread, where in released.items():
        ax.scatter(where, [thread] * len(where), marker=_MARKERS["unlock"][0], s=160, linewidths=2.2,
                   color=LANE_COLORS[thread % len(LANE_COLORS)], zorder=3)
    if crossed:
        ax.scatter([x for x, _ in crossed], [y for _, y in crossed], marker="x", s=260, color=COLORS["racy"],
                   zorder=4)
    last = max(len(run.schedule) - 1, 0)
    for thread, what, holder in waiting:  # after the last step: who waits for what, and who has it
        ax.scatter(last + 1, thread, marker="o", s=110, facecolors="none", zorder=3,
                   edgecolors=LANE_COLORS[thread % len(LANE_COLORS)], linewidths=1.8)
        ax.annotate(_wait_text(what, holder), (last + 1, thread), textcoords="offset points", xytext=(10, 0),
                    ha="left", va="center", fontsize=TEXT)
    held = _held_intervals(run.trace, upto)
    if waiting:  # the locks still held when every thread waits: held into the last column
        held = [(thread, start, last + 1 if end == last else end) for thread, start, end in held]
    for thread, start, end in held:
        ax.plot([start, end], [thread, thread], color=LANE_COLORS[thread % len(LANE_COLORS)],
                linewidth=6, alpha=0.25, solid_capstyle="round")
    ax.set_yticks(threads, [f"thread {t}" for t in threads])
    ax.set_ylim(min(threads) - 0.7, max(threads) + 0.7)
    ax.set_xlabel("step")
    # The whole schedule's width even when only part is shown, so a step slider does not rescale.
    ax.set_xlim(*layout["xlim"])
    if run.deadlock is not None and last < 40:  # the column after the last step is where threads wait
        ax.set_xticks(list(range(last + 1)) + [last + 1], [str(i) for i in range(last + 1)] + [f"{last + 1}: waits"])
    elif last < 20:
        ax.set_xticks(range(last + 1))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.2)
    ax.set_title(title or _default_title(run), fontsize=TITLE, pad=6 + (TEXT + 6 if subtitle else 0))
    if subtitle:
        ax.annotate(subtitle, (0.5, 1.0), xycoords="axes fraction", textcoords="offset points", xytext=(0, 5),
                    ha="center", va="bottom", fontsize=TEXT, color="#444444")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=TEXT)
    return {"steps": [(ev.step, ev.thread, ev.op, ev.value) for ev in steps], "lost": sorted(lost),
            "waits": [(t, what) for t, what, _ in waiting]}


def _held_intervals(trace, upto=None):
    """(thread, first step, last step) while a thread held a lock, for shading."""
    out = []
    start = {}
    last_step = -1
    for ev in trace:
        if ev.step is not None:
            last_step = ev.step
        if upto is not None and last_step > upto:
            break
        if ev.op == "lock" and ev.step is not None:
            start[(ev.thread, ev.obj)] = ev.step
        elif ev.op == "unlock" and (ev.thread, ev.obj) in start:  # held up to the release
            end = ev.step if ev.step is not None else last_step + 0.5
            out.append((ev.thread, start.pop((ev.thread, ev.obj)), end))
    if upto is not None:  # still held at the last step shown
        last_step = min(last_step, upto)
    for (thread, _obj), s in start.items():
        out.append((thread, s, last_step))
    return out
