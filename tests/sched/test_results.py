"""`rustsync.sched._results`: what a run and an exploration give back.

The outcome classes and their text, `Run`'s derived properties (`completed`,
`violation`, `preemptions`, `show`), `Exploration`'s repr, its outcome order and its
look-ups, and `freeze`, which makes any outcome countable.
"""

import itertools

import pytest

from rustsync.lab import racy_counter
from rustsync.sched import RacyCell, explore, replay, spawn_unchecked
from rustsync.sched._results import (
    Deadlock,
    Event,
    Exploration,
    FrozenDict,
    Panic,
    Run,
    StepLimit,
    Unhashable,
    Violation,
    freeze,
    interleavings,
)

CROSSED = Deadlock(waits=((0, "join thread-1", 1), (1, "knife", 2), (2, "fork", 1)), cycle=(1, 2))


def test_an_event_prints_its_step_thread_operation_object_value_and_held_locks():
    step = Event(3, 1, "read", "counter", 0, ("m",))
    inside = Event(None, 0, "join", "thread-1")
    assert str(step) == "  3  T1  read       counter -> 0  [holds m]"
    assert str(inside) == "     T0  join       thread-1"


def test_a_deadlock_names_only_the_threads_of_its_cycle():
    text = str(CROSSED)
    assert text == ("deadlock: thread 1 waits for `knife` held by thread 2; "
                    "thread 2 waits for `fork` held by thread 1")
    assert "thread 0" not in text  # main waits to join, but is not part of the cycle


def test_a_step_limit_says_thread_or_threads():
    assert str(StepLimit(5, (1,))) == "still running after 5 steps: thread 1"
    assert str(StepLimit(5, (0, 2))) == "still running after 5 steps: threads 0, 2"


def test_violations_with_the_same_message_are_one_outcome_in_a_counter():
    counted = {}
    for violation in (Violation("lost money", 3), Violation("lost money", 7), Violation("too much", 1)):
        counted[violation] = counted.get(violation, 0) + 1
    assert counted == {Violation("lost money"): 2, Violation("too much"): 1}
    assert str(Violation("lost money", 3)) == "invariant violated: lost money"


@pytest.mark.parametrize("outcome, completed", [
    (4, True),
    (Panic(0, "KeyError: 'x'"), False),
    (StepLimit(10, (1,)), False),
    (Violation("broken", 2), False),
    (CROSSED, False),
])
def test_a_run_is_completed_unless_it_panicked_deadlocked_was_cut_or_broke_the_invariant(outcome, completed):
    run = Run(outcome, [1], [], deadlock=outcome if isinstance(outcome, Deadlock) else None)
    assert run.completed is completed
    assert run.violation == (outcome if isinstance(outcome, Violation) else None)


def test_preemptions_count_switches_away_from_a_thread_that_could_go_on():
    choices = [
        ((1, 2), 1, None, False),  # the first step: nothing to switch away from
        ((1, 2), 2, 1, False),  # thread 1 could go on: a preemption
        ((1,), 1, 2, False),  # thread 2 ended: no preemption
        ((1, 2), 1, 1, True),  # thread 1 slept, and stays on although thread 2 could run: a preemption
        ((2,), 2, 1, True),  # the sleeper is no longer enabled: no preemption
    ]
    assert Run(0, [c[1] for c in choices], [], choices=choices).preemptions == 2


def test_a_replayed_run_counts_the_preemptions_of_its_schedule():
    # a switch to thread 2 while thread 1 could write, then back while thread 2 could write: two
    assert replay(racy_counter(2, 1), [1, 2, 1, 2]).preemptions == 2
    # thread 2 reads and writes before thread 1's write: going back to thread 1 after thread 2 ended is free
    assert replay(racy_counter(2, 1), [1, 2, 2, 1]).preemptions == 1
    assert replay(racy_counter(2, 1), [1, 1, 2, 2]).preemptions == 0


def test_show_gives_one_line_per_event_of_the_trace():
    run = replay(racy_counter(1, 1), [1, 1])
    assert run.show().splitlines() == [str(event) for event in run.trace]
    assert run.show().splitlines()[0] == "  0  T1  read       counter -> 0"


def test_the_repr_of_an_exploration_lists_numbers_in_order_then_other_outcomes_by_their_text():
    exploration = Exploration({CROSSED: 1, 10: 2, "both ate": 1, 9: 5, 2.5: 4}, {}, 13, True)
    assert repr(exploration) == (
        "Exploration(13 schedules, outcomes {2.5: 4, 9: 5, 10: 2, both ate: 1, "
        f"{CROSSED}: 1}}, complete=True)"
    )


def test_deadlocks_and_violations_pick_their_outcomes_out():
    broken = Violation("broken", 0)
    exploration = Exploration({CROSSED: 1, broken: 2, 4: 3}, {}, 6, True)
    assert exploration.deadlocks == [CROSSED]
    assert exploration.violations == [broken]


def lists_what_two_threads_did():
    cell = RacyCell(0)

    def work():
        cell.set(cell.get() + 1)

    handles = [spawn_unchecked(work) for _ in range(2)]
    for handle in handles:
        handle.join()
    return [cell.peek(), "done"]


def test_an_example_is_looked_up_by_the_outcome_as_the_program_returns_it_and_replays_to_it():
    exploration = explore(lists_what_two_threads_did)
    assert set(exploration.outcomes) == {(1, "done"), (2, "done")}
    for outcome in ([1, "done"], [2, "done"]):
        schedule = exploration.example(outcome)
        assert replay(lists_what_two_threads_did, schedule).outcome == outcome


def test_freeze_gives_hashable_copies_that_compare_equal_to_the_original():
    value = {"order": [1, 2], "seen": {3}, "raw": bytearray(b"ab"), "pair": (1, [2])}
    frozen = freeze(value)
    assert isinstance(frozen, FrozenDict)
    assert frozen == {"order": (1, 2), "seen": frozenset({3}), "raw": b"ab", "pair": (1, (2,))}
    assert hash(frozen) == hash(freeze({"pair": (1, [2]), "raw": bytearray(b"ab"), "seen": {3}, "order": [1, 2]}))
    hashable = ("already", 1)
    assert freeze(hashable) is hashable


def test_a_frozen_dict_is_read_only():
    frozen = freeze({"a": 1})
    for change in (lambda: frozen.__setitem__("a", 2), lambda: frozen.pop("a"), frozen.clear,
                   lambda: frozen.update(b=2)):
        with pytest.raises(TypeError, match="read-only"):
            change()
    assert frozen == {"a": 1}


def test_what_cannot_be_hashed_nor_copied_is_counted_by_its_repr():
    class Opaque:
        __hash__ = None

        def __repr__(self):
            return "Opaque()"

    assert freeze(Opaque()) == Unhashable("Opaque()") == freeze([Opaque()])[0]
    assert repr(freeze(Opaque())) == "Opaque()"
    deep = []
    for _ in range(25):
        deep = [deep]
    innermost = freeze(deep)
    for _ in range(21):
        innermost = innermost[0]
    assert isinstance(innermost, Unhashable)  # past 20 levels, the rest is kept as text


@pytest.mark.parametrize("steps", [(1,), (2, 3), (1, 1, 1), (3, 0, 2), (2, 2, 1)])
def test_interleavings_counts_the_distinct_orders_of_the_threads_steps(steps):
    letters = "".join(str(thread) * n for thread, n in enumerate(steps))
    assert interleavings(*steps) == len(set(itertools.permutations(letters)))
