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
    assert "T2" in panel.status.value
