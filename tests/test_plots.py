"""The plots (rustsync/plots.py): what each figure draws, its legend, and text large enough to read."""

import matplotlib

matplotlib.use("Agg")

from rustsync.lab import opposite_diners, racy_counter  # noqa: E402
from rustsync.plots import lost_writes, plot_lost_updates, plot_outcome_histogram, plot_timeline  # noqa: E402
from rustsync.sched import explore, replay  # noqa: E402
from rustsync.widgets import SchedulePanel  # noqa: E402


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
