"""`rustsync.sched._searches`: the model explorer's count, its simplest schedule, its checks and its paths.

The counts are held against every schedule enumerated here by replaying (with and
without a preemption bound), and against the count without symmetry; the simplest
schedule against the fewest preemptions any schedule needs for each outcome.
"""

from collections import Counter

import pytest

from rustsync import Arc, Mutex, spawn
from rustsync.errors import ScheduleAborted
from rustsync.lab import atomic_counter, listing_16_15, mutex_counter, opposite_diners, racy_counter
from rustsync.sched import Deadlock, RacyCell, interleavings, replay
from rustsync.sched._model import Inconsistent
from rustsync.sched._searches import Explorer, _multinomial, _path


def explorer(program, **options):
    settings = dict(bound=None, max_steps=10_000, max_runs=1_000, max_states=10**6, clock=[0.0, 0, 0.0], state={})
    settings.update(options)
    return Explorer(program, **settings)


def every_run(program):
    """Every schedule of `program`, each replayed: a branch at every choice a run made after its prefix."""
    runs = []

    def go(prefix):
        run = replay(program, prefix)
        runs.append(run)
        for i in range(len(prefix), len(run.choices)):
            enabled, taken, _, _ = run.choices[i]
            for other in enabled:
                if other != taken:
                    go(run.schedule[:i] + [other])

    go([])
    return runs


RACY = every_run(racy_counter(2, 2))
DINERS = every_run(opposite_diners)


def test_the_enumeration_here_finds_every_interleaving_once():
    assert len(RACY) == interleavings(4, 4)
    assert len({tuple(run.schedule) for run in RACY}) == len(RACY)


@pytest.mark.parametrize("bound", [None, 0, 1, 2, 3])
def test_the_count_within_a_preemption_bound_is_that_of_the_schedules_within_it(bound):
    expected = Counter(run.outcome for run in RACY if bound is None or run.preemptions <= bound)
    outcomes, complete = explorer(racy_counter(2, 2), bound=bound).count()
    assert complete
    assert outcomes == expected


def test_a_deadlock_is_counted_as_often_as_schedules_reach_it():
    expected = Counter(run.outcome for run in DINERS)
    outcomes, _ = explorer(opposite_diners).count()
    assert outcomes == expected
    assert sum(n for outcome, n in outcomes.items() if isinstance(outcome, Deadlock)) == 2


@pytest.mark.parametrize("program", [
    mutex_counter(3, 1), atomic_counter(3, 1), listing_16_15(4), racy_counter(4, 1), atomic_counter(2, 3),
], ids=lambda p: p.__name__)
def test_threads_alike_counted_once_give_the_counts_made_without_symmetry(program):
    alike, plain = explorer(program), explorer(program, symmetry=False)
    counted = alike.count()
    assert counted == plain.count()
    assert counted[1] and alike.symmetric and not plain.symmetric
    assert alike.states <= plain.states


def gate_held_by_main():
    """Two workers alike read a cell, then wait for a lock main holds while it joins them: a deadlock."""
    gate = Arc(Mutex(0, name="gate"))
    cell = RacyCell(0, name="cell")
    held = gate.lock()

    def worker_for(mine):
        def work():
            cell.get()
            with mine.lock():
                pass
        return work

    handles = [spawn(worker_for(Arc.clone(gate))) for _ in range(2)]
    for handle in handles:
        handle.join()
    return held.value


def test_an_outcome_that_names_threads_alike_is_counted_without_symmetry():
    alike, plain = explorer(gate_held_by_main), explorer(gate_held_by_main, symmetry=False)
    counted = alike.count()
    assert not alike.symmetric
    assert alike.model.asymmetric == "an outcome names threads by number"
    assert counted == plain.count()
    assert list(counted[0].values()) == [2] and isinstance(next(iter(counted[0])), Deadlock)


@pytest.mark.parametrize("runs, program", [(RACY, racy_counter(2, 2)), (DINERS, opposite_diners)],
                         ids=["racy 2x2", "opposite diners"])
def test_the_simplest_schedule_needs_the_fewest_preemptions_any_schedule_needs(runs, program):
    fewest = {}
    for run in runs:
        fewest[run.outcome] = min(fewest.get(run.outcome, run.preemptions), run.preemptions)
    for outcome, preemptions in fewest.items():
        schedule, bound, found = explorer(program).simplest(lambda o, wanted=outcome: o == wanted)
        assert (bound, found) == (preemptions, outcome)
        again = replay(program, schedule, strict=True)
        assert again.outcome == outcome and again.preemptions == preemptions


def test_the_simplest_schedule_is_none_when_no_schedule_or_none_within_the_limit_reaches_it():
    assert explorer(racy_counter(2, 2)).simplest(lambda count: count == 1) is None
    assert explorer(racy_counter(2, 2)).simplest(lambda count: count == 3, max_preemptions=1) is None
    assert explorer(racy_counter(2, 2)).simplest(lambda count: count == 3, max_preemptions=2)[1] == 2


def test_random_schedules_are_drawn_from_the_seed_and_replay_to_a_counted_outcome():
    search = explorer(racy_counter(2, 2), seed=5)
    outcomes, _ = search.count()
    drawn = [search.random_schedule() for _ in range(5)]
    again = explorer(racy_counter(2, 2), seed=5)
    again.count()
    assert drawn == [again.random_schedule() for _ in range(5)]
    for schedule in drawn:
        assert replay(racy_counter(2, 2), schedule, strict=True).outcome in outcomes


def test_a_schedule_checked_against_the_model_must_be_one_the_program_can_follow():
    search = explorer(racy_counter(2, 1))
    search.count()
    search.check([[1, 1, 2, 2], [2, 1, 1, 2]], random_walks=2)
    with pytest.raises(Inconsistent, match="could not be followed"):
        search.check([[1, 1, 1]], random_walks=0)


def test_a_stop_from_the_watchdog_ends_the_search_before_its_next_run():
    search = explorer(racy_counter(2, 1), state={"stop": True})
    with pytest.raises(ScheduleAborted):
        search.count()
    assert search.runs == 0


def test_a_path_maps_steps_taken_after_a_swap_of_threads_alike_back_to_the_real_threads():
    # step 1 by thread 1; then a step by thread 2 into a state where threads 2 and 3 were swapped;
    # so the counted state's thread 2 is the real thread 3
    link = (2, (2, (1, None), (0, 1, 3, 2)))
    assert _path(link) == [1, 2, 3]
    assert _path((2, (2, (1, None)))) == [1, 2, 2]
    assert _path(None) == []


def test_the_size_of_a_search_is_the_multinomial_of_the_steps_per_thread():
    assert _multinomial([4, 4]) == float(interleavings(4, 4))
    assert _multinomial([6, 6, 6, 6]) == float(interleavings(6, 6, 6, 6))
