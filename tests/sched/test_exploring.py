"""`rustsync.sched._exploring`: the entry points `explore` and `minimal_schedule`.

What they accept (modes, predicates as functions or values), what their budgets do and
say (`max_schedules` in both modes), the preemption bound, the fallback to running every
schedule and what it reports, and `_next_prefix`, the depth-first order in which
schedules are run one by one.
"""

import pytest

from rustsync.lab import racy_counter
from rustsync.sched import RacyCell, explore, interleavings, minimal_schedule, replay, spawn_unchecked
from rustsync.sched._exploring import _next_prefix


def counted_calls(program):
    calls = []

    def counted():
        calls.append(1)
        return program()
    return counted, calls


@pytest.mark.parametrize("entry", [
    lambda program, mode: explore(program, mode=mode),
    lambda program, mode: minimal_schedule(program, 4, mode=mode),
], ids=["explore", "minimal_schedule"])
def test_an_unknown_mode_is_refused_before_the_program_runs(entry):
    program, calls = counted_calls(racy_counter(2, 1))
    with pytest.raises(ValueError, match=r"^mode must be one of \('model', 'every'\), not 'fast'$"):
        entry(program, "fast")
    assert calls == []


def two_writers_listed():
    cell = RacyCell(0)

    def work():
        cell.set(cell.get() + 1)

    handles = [spawn_unchecked(work) for _ in range(2)]
    for handle in handles:
        handle.join()
    return [cell.peek(), "done"]


@pytest.mark.parametrize("mode", ["model", "every"])
def test_a_predicate_given_as_a_value_is_compared_with_the_outcome_made_hashable(mode):
    found = minimal_schedule(two_writers_listed, [1, "done"], mode=mode)
    assert found.outcome == [1, "done"]
    assert found.preemptions == 1
    assert minimal_schedule(two_writers_listed, (1, "done"), mode=mode).schedule == found.schedule


@pytest.mark.parametrize("mode", ["model", "every"])
def test_an_error_raised_by_the_predicate_reaches_the_caller(mode):
    def predicate(outcome):
        raise LookupError("no such outcome")

    with pytest.raises(LookupError, match="no such outcome"):
        minimal_schedule(racy_counter(2, 1), predicate, mode=mode)


def test_running_every_schedule_stops_at_max_schedules_with_what_it_counted():
    exploration = explore(racy_counter(2, 2), mode="every", max_schedules=10)
    assert not exploration.complete
    assert exploration.schedules == exploration.runs == sum(exploration.outcomes.values()) == 10


def test_the_model_explorer_stopped_by_max_schedules_says_how_large_the_search_is():
    exploration = explore(racy_counter(3, 2), max_schedules=3)
    assert not exploration.complete and exploration.mode == "model"
    assert exploration.runs == 3
    assert "and 3 runs of the program" in exploration.note
    assert f"about {float(interleavings(4, 4, 4)):.1e} interleavings" in exploration.note
    assert "preemption_bound=2" in exploration.note


@pytest.mark.parametrize("mode", ["model", "every"])
def test_minimal_schedule_gives_up_after_max_schedules_runs(mode):
    assert minimal_schedule(racy_counter(2, 3), 2, mode=mode, max_schedules=5) is None
    assert minimal_schedule(racy_counter(2, 3), 2, mode=mode).outcome == 2


@pytest.mark.parametrize("mode", ["model", "every"])
def test_a_bound_of_no_preemption_leaves_each_thread_running_to_its_end(mode):
    exploration = explore(racy_counter(2, 2), preemption_bound=0, mode=mode)
    assert exploration.complete and exploration.preemption_bound == 0
    assert dict(exploration.outcomes) == {4: 2}  # thread 1 then thread 2, or thread 2 then thread 1
    assert exploration.examples == {4: [1, 1, 1, 1, 2, 2, 2, 2]}


SEEN = []


def shares_a_plain_list():
    """Thread 2 returns how many appends thread 1 made to a plain list: the model cannot see it."""
    SEEN.clear()
    cell = RacyCell(0)

    def first():
        cell.set(1)
        SEEN.append(1)

    def second():
        cell.set(2)
        return len(SEEN)

    one, two = spawn_unchecked(first), spawn_unchecked(second)
    one.join()
    return two.join(), cell.peek()


def test_a_fallback_says_what_disagreed_and_counts_the_runs_of_both_searches():
    exploration = explore(shares_a_plain_list)
    every = explore(shares_a_plain_list, mode="every")
    assert exploration.mode == "every"
    assert exploration.note.startswith("the model explorer fell back to running every schedule: thread 2 did "
                                       "something else after the same observations")
    assert exploration.outcomes == every.outcomes
    assert exploration.runs > every.runs == exploration.schedules == 2


def test_the_next_prefix_is_the_next_schedule_in_depth_first_order_the_default_choice_first():
    # thread 1 ran, then stayed on: next, switch to thread 2 at the last choice
    choices = [((1, 2), 1, None, False), ((1, 2), 1, 1, False)]
    assert _next_prefix(choices, None) == [1, 2]
    # thread 2 first (the alternative at step 0), then alone: nothing is left
    assert _next_prefix([((1, 2), 2, None, False), ((2,), 2, 2, False)], None) is None


def test_the_next_prefix_skips_what_the_bound_cuts_off_and_says_so():
    choices = [((1, 2), 1, None, False), ((1, 2), 1, 1, False)]
    pruned = []
    assert _next_prefix(choices, 0, pruned) == [2]  # switching at step 1 would be a preemption
    assert pruned == [True]
    pruned = []
    assert _next_prefix(choices, 1, pruned) == [1, 2] and pruned == []


def test_the_run_minimal_schedule_returns_is_its_schedule_replayed_strictly():
    found = minimal_schedule(racy_counter(2, 2), lambda count: count < 4)
    again = replay(racy_counter(2, 2), found.schedule, strict=True)
    assert again.outcome == found.outcome and again.schedule == found.schedule
    assert [str(e) for e in again.trace] == [str(e) for e in found.trace]
