"""The race lab (rustsync/lab.py): real threads racing, and the same race under the scheduler."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from rustsync.lab import RaceResult, plain_race, race, racy_counter, scheduled_race  # noqa: E402


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
