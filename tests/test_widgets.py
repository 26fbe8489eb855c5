"""The slider panels (rustsync/widgets.py), their callbacks driven without a browser, and the lessons' saved panels."""

import threading

import matplotlib

matplotlib.use("Agg")

from pathlib import Path  # noqa: E402

from rustsync.lab import opposite_diners, racy_counter  # noqa: E402
from rustsync.widgets import LostUpdatePanel, OutcomePanel, SchedulePanel  # noqa: E402


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
    panel = LostUpdatePanel(threads=3, increments=10, real_increments=2_000, ahead=False)
    runs = dict(panel._runs)
    panel.threads.value = 4
    real = panel.real_increments  # the real threads make their own number of increments
    assert set(panel._runs) - set(runs) == {(4, 10, 0, False), (4, 10, 0, True), (4, real, 0, "real")}
    assert panel.data["real increments"] == real
    panel.seed.value = 1  # another run: the real threads are measured again
    assert (1, real, 1, "real") in panel._runs
    assert panel.increments.max == 100


def test_lost_update_panel_draws_the_settings_one_key_press_away_ahead():
    panel = LostUpdatePanel(threads=3, increments=10, real_increments=2_000)
    assert panel.computed_ahead.wait(60)
    for settings in ((2, 10, 0), (3, 11, 0), (3, 9, 0), (1, 10, 0), (3, 100, 0), (3, 1, 0)):
        assert settings in panel._shown, f"{settings} was not drawn ahead"  # arrows, Home and End
    for top, increments, seed in ((4, 10, 0), (12, 10, 0), (3, 10, 1)):  # more threads, the next seed
        assert (top, increments, seed, False) in panel._runs and (top, increments, seed, True) in panel._runs
        assert (top, 2_000, seed, "real") not in panel._runs  # real threads are measured when asked for
        assert (top, increments, seed) not in panel._shown
    computed = []
    compute = panel._compute
    panel._compute = lambda key: (threading.current_thread() is threading.main_thread() and computed.append(key)
                                  or compute(key))
    panel.increments.value = 11  # drawn ahead: shown without computing a point in the foreground
    assert computed == [] and panel.data["increments"] == 11
    assert panel.data["scheduler, no lock"] == [panel._runs[(n, 11, 0, False)] for n in (1, 2, 3)]
    fresh = LostUpdatePanel(threads=3, increments=11, real_increments=2_000, ahead=False)
    assert panel.data["scheduler, no lock"] == fresh.data["scheduler, no lock"]  # the same figures either way
    assert panel.data["scheduler, Mutex"] == fresh.data["scheduler, Mutex"]
    panel.threads.value = 4  # the scheduler's points were ready: only the real threads run now
    assert computed == [(4, 2_000, 0, "real")]


def test_real_threads_never_run_ahead(monkeypatch):
    import rustsync.widgets as widgets

    where = []
    real_race = widgets.race
    monkeypatch.setattr(widgets, "race", lambda *a, **k: where.append(threading.current_thread().name)
                        or real_race(*a, **k))
    panel = LostUpdatePanel(threads=3, increments=10, real_increments=2_000)
    assert panel.computed_ahead.wait(60)
    panel.threads.value = 5
    assert panel.computed_ahead.wait(60)
    assert where and set(where) == {threading.main_thread().name}


def test_a_move_stops_what_was_computed_ahead_of_the_old_setting():
    panel = LostUpdatePanel(threads=3, increments=10, real=False)
    assert panel.computed_ahead.wait(60)
    first = panel.computed_ahead
    panel.threads.value = 5  # the work ahead of (3, 10) is done; the move starts the work ahead of (5, 10)
    assert panel.computed_ahead is not first and panel.computed_ahead.wait(60)
    assert (6, 10, 0) in panel._shown and (5, 11, 0) in panel._shown
    panel.ahead = False
    generation = panel._generation
    panel.increments.value = 12
    assert panel._generation == generation + 1  # any thread still ahead of (5, 10) stops at its next point


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


def test_every_panel_says_under_its_figure_to_run_the_cell():
    from rustsync.widgets import HINT

    panel = OutcomePanel(increments=1)
    assert "Run this cell to move the sliders" in panel.hint.value and HINT in panel.hint.value
    children = panel.widget.children
    assert children.index(panel.hint) == children.index(panel.out) + 1  # right under the figure


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
