"""The race lab, the plots and the slider panels (callbacks driven without a browser)."""

import matplotlib

matplotlib.use("Agg")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from rustsync.lab import RaceResult, opposite_diners, plain_race, race, racy_counter, scheduled_race  # noqa: E402
from rustsync.plots import lost_writes, plot_lost_updates, plot_outcome_histogram, plot_timeline  # noqa: E402
from rustsync.sched import explore, replay  # noqa: E402
from rustsync.widgets import LostUpdatePanel, OutcomePanel, SchedulePanel  # noqa: E402


def test_real_race_with_mutex_loses_nothing():
    for _ in range(3):
        result = race(4, 200, mutex=True)
        assert result.final == 800 and result.lost == 0


def test_real_race_is_a_race_by_default_and_alternates_only_when_asked(monkeypatch):
    import rustsync.lab as lab

    sleeps = []
    real_sleep = lab.time.sleep
    monkeypatch.setattr(lab.time, "sleep", lambda s: (sleeps.append(s), real_sleep(s)))
    race(2, 50)
    assert sleeps == []  # the default: a call that does nothing between the read and the write
    race(2, 50, alternate=True)
    assert sleeps == [0] * 100  # the labelled variant: sleep(0) at every increment


def test_the_lost_update_figure_draws_shares_and_says_each_line_s_increments():
    import matplotlib.pyplot as plt

    data = {"threads": [1, 2], "increments": 10, "seed": 0, "scheduler, no lock": [0, 5],
            "scheduler, Mutex": [0, 0], "real increments": 1_000, "real threads, no lock": [0, 500]}
    fig, ax = plt.subplots()
    plot_lost_updates(data, ax=ax)
    lines = {line.get_label(): list(line.get_ydata()) for line in ax.get_lines()}
    assert lines["scheduler, no lock (10 each)"] == [0.0, 25.0]
    assert lines["real threads, no lock (1,000 each)"] == [0.0, 25.0]
    assert "%" in ax.get_ylabel()
    plt.close(fig)


def test_real_race_result_is_consistent():
    # Nondeterministic by nature: only the bookkeeping is checked, never the count.
    result = race(3, 100)
    assert isinstance(result, RaceResult)
    assert 100 <= result.final <= 300
    assert result.lost == 300 - result.final
    assert plain_race(2, 1000).expected == 2000


def test_lab_rejects_bad_arguments_clearly():
    with pytest.raises(ValueError, match="threads must be a positive int"):
        race(0, 10)
    with pytest.raises(ValueError, match="increments must be a non-negative int"):
        racy_counter(2, -1)


def test_scheduled_race_is_reproducible():
    first = scheduled_race(4, 50, seed=7)
    assert all(scheduled_race(4, 50, seed=7) == first for _ in range(3))
    assert first.lost > 0
    assert scheduled_race(4, 50, seed=7, mutex=True).lost == 0


def test_lost_writes_marks_the_overwritten_write():
    # thread 1 reads 0, thread 2 reads 0 and writes 1, thread 1 writes 1: thread 2's write is lost
    result = replay(racy_counter(2, 1), [1, 2, 2, 1])
    assert result.outcome == 1
    assert lost_writes(result.trace) == [2]


def test_plots_return_what_they_drew():
    data = plot_lost_updates(max_threads=3, increments=20, real=False)
    assert data["threads"] == [1, 2, 3]
    assert data["scheduler, Mutex"] == [0, 0, 0]
    assert data["scheduler, no lock"][0] == 0
    exploration = explore(racy_counter(2, 2))
    bars = plot_outcome_histogram(exploration, expected=4)
    assert bars == {"2": 32, "3": 32, "4": 6}
    timeline = plot_timeline(replay(racy_counter(2, 1), [1, 2, 2, 1]))
    assert timeline["lost"] == [2]
    assert len(timeline["steps"]) == 4


def test_lost_update_panel_redraws_when_a_slider_moves():
    panel = LostUpdatePanel(threads=3, increments=20, real=False)
    assert panel.data["threads"] == [1, 2, 3]
    draws = panel.draws
    panel.threads.value = 5
    assert panel.draws == draws + 1
    assert panel.data["threads"] == [1, 2, 3, 4, 5]
    panel.increments.value = 10
    assert panel.data["increments"] == 10
    assert len(panel.fig.axes) == 1  # redrawn in place, not stacked
    assert len(panel.out.outputs) <= 1


def test_outcome_panel_explores_again_for_new_settings():
    panel = OutcomePanel(increments=1)
    assert panel.data == {1: 4, 2: 2}
    panel.increments.value = 2
    assert panel.data == {2: 32, 3: 32, 4: 6}
    panel.bound.value = 1
    assert sum(panel.data.values()) < 70


def test_an_outcome_panel_draws_every_setting_ahead_and_the_same_pictures_as_the_slider():
    ahead = OutcomePanel(increments=2)
    assert ahead.prefetched.wait(120), "the settings were not drawn ahead within 120 s"
    settings = {(k, bound) for k in range(1, 5) for _, bound in ahead.bound.options}
    assert set(ahead._shown) == settings
    asked = OutcomePanel(increments=2, prefetch=False)
    assert asked.prefetched is None and len(asked._shown) == 1
    for k, bound in [(3, "none"), (4, 2), (1, 1)]:
        asked.increments.value, asked.bound.value = k, bound
        png, data, caption = ahead._shown[(k, bound)]
        assert png == asked.png and data == asked.data and caption in asked.status.value, (k, bound)
    drawn = []
    ahead.draw = lambda ax: drawn.append(ax)  # a move now needs no exploring and no drawing
    ahead.increments.value = 4
    assert drawn == [] and ahead.data == {8: 70, 7: 896, 6: 3464, 5: 5184, 4: 3056, 3: 192, 2: 8}


def test_schedule_panel_reveals_steps_and_says_which_on_the_figure():
    panel = SchedulePanel(racy_counter(2, 1), schedule=[1, 2, 2, 1], prefetch=False)  # each move draws on panel.ax
    assert len(panel.data["steps"]) == 4
    size = panel.fig.get_size_inches().tolist()
    panel.step.value = 1
    assert len(panel.data["steps"]) == 2
    assert panel.position() == "step 1 of 3: thread 2 reads counter (0)"
    assert panel.position() in [t.get_text() for t in panel.ax.texts]  # the line under the title
    assert panel.fig.get_size_inches().tolist() == size  # the same figure at every position


def test_a_schedule_panel_draws_every_position_ahead_and_the_same_pictures_as_the_slider():
    ahead = SchedulePanel(racy_counter(2, 3), failing=2)
    assert ahead.prefetched.wait(60), "the positions were not drawn ahead within 60 s"
    positions = range(ahead.step.max + 1)
    assert set(ahead._shown) == {(p,) for p in positions}
    asked = SchedulePanel(racy_counter(2, 3), failing=2, prefetch=False)
    assert asked.prefetched is None and len(asked._shown) == 1
    for position in reversed(positions):
        asked.step.value = position
        png, data, caption = ahead._shown[(position,)]
        assert png == asked.png and data == asked.data and caption in asked.status.value, position
    drawn = []
    ahead.draw = lambda ax: drawn.append(ax)  # a move now needs no drawing at all
    ahead.step.value = 3
    assert drawn == [] and ahead.png == asked._shown[(3,)][0]


def test_panels_keep_each_setting_and_draw_it_once():
    panel = OutcomePanel(increments=1)
    first = panel.png
    panel.increments.value = 3
    third = panel.png
    explorations = dict(panel._explorations)
    panel.increments.value = 1
    assert panel.png == first  # the picture kept for this setting, not computed again
    panel.increments.value = 3
    assert panel.png == third and panel._explorations == explorations
    assert "924" in panel.status.value  # the caption belongs to the figure shown


def test_a_slow_setting_is_marked_while_it_is_computed_and_never_shown_stale():
    panel = OutcomePanel(increments=1)
    marks = []
    original = panel.draw

    def draw(ax):
        # what the page shows while the new figure is being computed
        marks.append(("rustsync-stale" in panel.widget._dom_classes, panel.busy.value))
        return original(ax)

    panel.draw = draw
    panel.increments.value = 4
    stale, busy = marks[-1]
    assert stale  # the old figure fades (after 80 ms, by the panel's style)
    assert "computing 2 threads × 4 increments, no bound" in busy
    assert "rustsync-stale" not in panel.widget._dom_classes and panel.busy.value == ""
    assert "12870" in panel.status.value


def test_a_panel_displays_with_its_first_figure_as_a_png():
    import base64

    panel = OutcomePanel(increments=2)
    bundle = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"]) == panel.png
    assert panel.png.startswith(b"\x89PNG")


def test_lost_update_panel_computes_each_point_once():
    panel = LostUpdatePanel(threads=3, increments=10, real_increments=2_000)
    runs = dict(panel._runs)
    panel.threads.value = 4
    real = panel.real_increments  # the real threads make their own number of increments
    assert set(panel._runs) - set(runs) == {(4, 10, 0, False), (4, 10, 0, True), (4, real, 0, "real")}
    assert panel.data["real increments"] == real
    panel.seed.value = 1  # another run: the real threads are measured again
    assert (1, real, 1, "real") in panel._runs
    assert panel.increments.max == 100


def test_schedule_panel_shows_the_simplest_failing_schedule():
    panel = SchedulePanel(racy_counter(2, 3), failing=2)
    assert panel.run.outcome == 2 and panel.run.preemptions == 4
    assert "needs 4 preemptions" in panel.status.value
    panel.step.value = 0
    assert panel.position() == "step 0 of 11: thread 1 reads counter (0)"


def test_schedule_panel_ends_a_deadlock_with_the_waiting_threads():
    from rustsync.sched import Deadlock

    panel = SchedulePanel(opposite_diners, failing=lambda o: isinstance(o, Deadlock))
    assert panel.run.schedule == [1, 2]
    assert panel.step.max == 2  # both steps, then every thread waiting
    assert ("1", "knife") in {(str(t), what) for t, what in panel.data["waits"]}
    # the slider says "show step 2": the subtitle and the axis name that position the same way
    assert panel.step.value == 2 and panel.step.description == "show step"
    assert panel.position() == "step 2, waits: after step 1 every thread waits, none can go on"
    assert "thread 1 waits for `knife` held by thread 2" in panel.status.value
    assert [t.get_text() for t in panel.ax.get_xticklabels()][-1] == "2: waits"  # the column of that position
    panel.step.value = 1
    assert panel.data["waits"] == [] and panel.position() == "step 1 of 1: thread 2 locks knife"
    assert "waits for" not in panel.status.value


def _rc_program():
    """Lesson 04's program: two threads clone and drop one `Rc`, the main thread reads its count."""
    from rustsync import Rc, drop
    from rustsync.sched import spawn_unchecked

    shared = Rc(0, name="rc")

    def work():
        drop(shared.clone())

    handles = [spawn_unchecked(work) for _ in range(2)]
    for h in handles:
        h.join()
    return shared.strong_count()


def _legend(ax):
    """(label, shape, filled) of each legend entry."""
    handles, labels = ax.get_legend_handles_labels()
    entries = []
    for handle, label in zip(handles, labels, strict=True):
        path = handle.get_paths()[0]
        filled = len(handle.get_facecolor()) > 0 and handle.get_facecolor()[0][3] > 0
        shape = (path.vertices.round(3).tobytes(), None if path.codes is None else path.codes.tobytes())
        entries.append((label, shape, filled))
    return entries


def test_timeline_legend_gives_each_entry_its_own_shape():
    import matplotlib.pyplot as plt

    from rustsync.plots import _marker

    exploration = explore(_rc_program)
    result = replay(_rc_program, exploration.example(0))
    ops = {ev.op for ev in result.trace if ev.step is not None}
    assert {"clone:read", "drop:write", "count"} <= ops
    assert _marker("count") == _marker("clone:read")  # reading the count is a read: one legend entry
    fig, ax = plt.subplots()
    plot_timeline(result, ax=ax)
    entries = _legend(ax)
    assert [label for label, _, _ in entries] == ["read", "write", "lost write"]
    assert len({(shape, filled) for _, shape, filled in entries}) == len(entries)
    # a deadlock adds the waiting threads: a hollow circle, not the read's filled one
    deadlock = replay(opposite_diners, [1, 2])
    fig, ax = plt.subplots()
    plot_timeline(deadlock, ax=ax)
    entries = _legend(ax)
    assert [label for label, _, _ in entries] == ["lock", "waits"]
    assert len({(shape, filled) for _, shape, filled in entries}) == len(entries)
    plt.close("all")


def test_timeline_never_repeats_a_shape_for_two_kinds_of_step():
    from rustsync.plots import _MARKERS, _marker

    shapes = {}
    for op in list(_MARKERS) + ["made_up_op", "another_op"]:
        marker, label = _marker(op)
        shapes.setdefault(marker, set()).add(label)
    assert all(len(labels) == 1 for labels in shapes.values()), shapes


def test_a_timeline_draws_each_release_so_a_lock_taken_twice_shows_the_gap():
    import matplotlib.pyplot as plt

    from rustsync.lab import mutex_counter
    from rustsync.plots import _held_intervals, _unlocks

    result = replay(mutex_counter(2, 2), [1, 1, 2, 2, 0])  # thread 1 locks, unlocks, locks again
    assert [ev.op for ev in result.trace if ev.step is None].count("unlock") == 5  # none of them a step
    releases = _unlocks(result.trace)
    assert releases[:2] == [(0.5, 1), (1.5, 1)]  # between the columns of the steps they followed
    held = [h for h in _held_intervals(result.trace) if h[0] == 1]
    assert held == [(1, 0, 0.5), (1, 1, 1.5)]  # the shading ends at the release, not at the next lock
    fig, ax = plt.subplots()
    plot_timeline(result, ax=ax)
    assert "unlock" in [label for label, _, _ in _legend(ax)]
    drawn = [tuple(map(tuple, c.get_offsets())) for c in ax.collections if c.get_label().startswith("_")]
    assert any(((0.5, 1.0), (1.5, 1.0)) == offsets for offsets in drawn)
    assert _unlocks(result.trace, upto=0) == [(0.5, 1)]  # a slider at step 0 shows the release after it
    plt.close(fig)


def test_every_panel_says_under_its_figure_to_run_the_cell():
    from rustsync.widgets import HINT

    panel = OutcomePanel(increments=1)
    assert "Run this cell to move the sliders" in panel.hint.value and HINT in panel.hint.value
    children = panel.widget.children
    assert children.index(panel.hint) == children.index(panel.out) + 1  # right under the figure


def test_a_lock_still_held_is_shaded_up_to_the_last_step_shown():
    from rustsync.plots import _held_intervals

    stuck = replay(opposite_diners, [1, 2])
    assert _held_intervals(stuck.trace, upto=0) == [(1, 0, 0)]
    assert sorted(_held_intervals(stuck.trace, upto=1)) == [(1, 0, 1), (2, 1, 1)]


def _text_sizes(fig):
    """The font size of every non-empty text of `fig`: titles, labels, ticks, legends, notes."""
    import matplotlib.text

    fig.canvas.draw()
    return {t.get_text(): t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text().strip()}


def test_plots_write_no_text_smaller_than_10_points():
    import matplotlib.pyplot as plt

    from rustsync.plots import TEXT

    assert TEXT >= 10
    figures = []
    plot_timeline(replay(racy_counter(2, 2), [1, 1, 1, 2, 2, 2, 2, 1]), subtitle="a line under the title")
    figures.append(plt.gcf())
    plot_timeline(replay(opposite_diners, [1, 2]))
    figures.append(plt.gcf())
    plot_lost_updates(max_threads=3, increments=10, real=False)
    figures.append(plt.gcf())
    plot_outcome_histogram(explore(racy_counter(2, 1)), expected=2)
    figures.append(plt.gcf())
    panel = SchedulePanel(_rc_program, schedule=[1, 1, 1, 2, 2, 1, 2, 2, 0])
    figures.append(panel.fig)
    for fig in figures:
        sizes = _text_sizes(fig)
        assert sizes and min(sizes.values()) >= 10, {t: s for t, s in sizes.items() if s < 10}
    assert "waits for knife (held by thread 2)" in _text_sizes(figures[1])
    assert "count 0" in _text_sizes(panel.fig)
    plt.close("all")


def test_timeline_labels_do_not_overlap():
    import matplotlib.pyplot as plt

    exploration = explore(_rc_program)
    for run in (replay(_rc_program, exploration.example(0)), replay(opposite_diners, [1, 2])):
        plot_timeline(run)
        fig = plt.gcf()
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in fig.axes[0].texts]
        assert len(boxes) >= 3
        for i, (a, box) in enumerate(boxes):
            assert fig.bbox.contains(box.x0, box.y0) and fig.bbox.contains(box.x1, box.y1), a
            for b, other in boxes[i + 1:]:
                assert not box.overlaps(other), (a, b)
    plt.close("all")


# --- the saved lessons --------------------------------------------------------------------

LESSONS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
WIDGET = "application/vnd.jupyter.widget-view+json"


def panel_cells(nb):
    """Indexes of the code cells that build a slider panel of `rustsync.widgets` (read from their code)."""
    import ast

    from IPython.core.inputtransformer2 import TransformerManager

    from rustsync import widgets

    names = {name for name, value in vars(widgets).items()
             if isinstance(value, type) and issubclass(value, widgets._Panel) and value is not widgets._Panel}
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tree = ast.parse(TransformerManager().transform_cell(cell.source))
        if any(isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names
               for node in ast.walk(tree)):
            found.append(index)
    return found


def panels_without_a_picture(nb):
    """Panel cells whose saved output does not show the widget and a PNG of its figure together."""
    import base64

    lacking = []
    for index in panel_cells(nb):
        pictured = [o for o in nb.cells[index].get("outputs", [])
                    if WIDGET in o.get("data", {}) and "image/png" in o["data"]
                    and base64.b64decode(o["data"]["image/png"]).startswith(b"\x89PNG")]
        if not pictured:
            lacking.append(index)
    return lacking


def test_every_lesson_panel_is_saved_with_a_picture():
    """Before its kernel runs (GitHub, nbviewer, a lesson just opened) a panel cell shows a PNG, not a repr."""
    import nbformat

    assert len(LESSONS) == 7
    counted = 0
    for path in LESSONS:
        nb = nbformat.read(path, as_version=4)
        counted += len(panel_cells(nb))
        lacking = panels_without_a_picture(nb)
        assert lacking == [], f"{path.name}: panel cells {lacking} have no picture; run tools/save_panel_pictures.py"
    assert counted >= 6  # every lesson but 05 has a panel


def test_the_picture_check_fails_on_a_lesson_whose_panel_lost_its_picture(tmp_path):
    import nbformat

    path = next(p for p in LESSONS if p.name.startswith("06-"))
    nb = nbformat.read(path, as_version=4)
    [index] = panel_cells(nb)
    assert panels_without_a_picture(nb) == []
    for output in nb.cells[index].outputs:
        output.get("data", {}).pop("image/png", None)
    nbformat.write(nb, tmp_path / path.name)
    assert panels_without_a_picture(nbformat.read(tmp_path / path.name, as_version=4)) == [index]
    nb.cells[index].outputs = []  # a panel cell saved without any output
    assert panels_without_a_picture(nb) == [index]


def test_a_process_that_ends_while_a_panel_draws_ahead_exits_cleanly():
    import subprocess
    import sys

    script = ("from rustsync.lab import racy_counter\n"
              "from rustsync.widgets import SchedulePanel\n"
              "SchedulePanel(racy_counter(2, 3), failing=2)\n")  # ends at once, the drawing thread still busy
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and "terminate" not in done.stderr, (done.returncode, done.stderr[-2000:])
