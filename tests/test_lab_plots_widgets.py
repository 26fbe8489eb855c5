"""The race lab, the plots and the slider panels (callbacks driven without a browser)."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from rustsync.lab import RaceResult, plain_race, race, racy_counter, scheduled_race  # noqa: E402
from rustsync.plots import lost_writes, plot_lost_updates, plot_outcome_histogram, plot_timeline  # noqa: E402
from rustsync.sched import explore, replay  # noqa: E402
from rustsync.widgets import LostUpdatePanel, OutcomePanel, SchedulePanel  # noqa: E402


def test_real_race_with_mutex_loses_nothing():
    for _ in range(3):
        result = race(4, 200, mutex=True)
        assert result.final == 800 and result.lost == 0


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


def test_schedule_panel_reveals_steps():
    panel = SchedulePanel(racy_counter(2, 1), schedule=[1, 2, 2, 1])
    assert len(panel.data["steps"]) == 4
    panel.step.value = 1
    assert len(panel.data["steps"]) == 2
    assert "thread 2 reads `counter`" in panel.status.value


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
    panel = LostUpdatePanel(threads=3, increments=10)
    runs = dict(panel._runs)
    panel.threads.value = 4
    assert set(panel._runs) - set(runs) == {(4, 10, 0, False), (4, 10, 0, True), (4, 10, 0, "real")}
    panel.seed.value = 1  # another run: the real threads are measured again
    assert (1, 10, 1, "real") in panel._runs
    assert panel.increments.max == 100


def test_schedule_panel_shows_the_simplest_failing_schedule():
    panel = SchedulePanel(racy_counter(2, 3), failing=2)
    assert panel.run.outcome == 2 and panel.run.preemptions == 4
    assert "needs 4 preemptions" in panel.status.value
    panel.step.value = 0
    assert "step 0 of 11: thread 1 reads `counter`" in panel.status.value


def test_schedule_panel_ends_a_deadlock_with_the_waiting_threads():
    from rustsync import Arc, Mutex, spawn
    from rustsync.sched import Deadlock

    def opposite():
        fork, knife = Arc(Mutex(0, name="fork")), Arc(Mutex(0, name="knife"))

        def diner(first, second):
            def work():
                with first.lock(), second.lock():
                    pass
            return work

        one = spawn(diner(Arc.clone(fork), Arc.clone(knife)))
        two = spawn(diner(Arc.clone(knife), Arc.clone(fork)))
        one.join()
        two.join()

    panel = SchedulePanel(opposite, failing=lambda o: isinstance(o, Deadlock))
    assert panel.run.schedule == [1, 2]
    assert panel.step.max == 2  # both steps, then every thread waiting
    assert ("1", "knife") in {(str(t), what) for t, what in panel.data["waits"]}
    assert "then every thread waits" in panel.status.value
    panel.step.value = 1
    assert panel.data["waits"] == [] and "thread 2 locks `knife`" in panel.status.value


def test_timeline_gives_each_kind_of_step_its_own_shape():
    from rustsync import Rc, drop
    from rustsync.plots import _marker
    from rustsync.sched import explore, spawn_unchecked

    def program():
        shared = Rc(0, name="rc")

        def work():
            drop(shared.clone())

        handles = [spawn_unchecked(work) for _ in range(2)]
        for h in handles:
            h.join()
        return shared.strong_count()

    exploration = explore(program)
    result = replay(program, exploration.example(0))
    shapes = {}
    for ev in result.trace:
        if ev.step is not None:
            marker, label = _marker(ev.op)
            shapes.setdefault(marker, set()).add(label)
    assert all(len(labels) == 1 for labels in shapes.values()), shapes  # "strong_count" is not drawn as a read
    ax = plot_timeline(result)
    assert ax["steps"]
