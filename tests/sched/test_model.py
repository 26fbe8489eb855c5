"""`rustsync.sched._model`: the model of a program's threads, its nodes, its states, and its exceptions.

`observe()` for each kind of step; the points `Model.node` merges (a join that waited
and one that found its thread ended, two joins made alone in a row) and `merged` (the
ends of a thread with the same result); states: `terminal` (what can run, outcomes,
deadlocks, the step limit), `canonical` (threads alike); the contents helpers; and the
conditions under which the explorer raises `Unknown`, `Inconsistent`, `Budget` and
`Restart`.
"""

import pytest

from rustsync import Arc, Mutex, WouldBlock, spawn
from rustsync.lab import opposite_diners, racy_counter
from rustsync.sched import RacyCell, StepLimit, replay, spawn_unchecked
from rustsync.sched._model import (
    BUSY,
    DELTA,
    FINISH,
    JOIN,
    NOTYET,
    OBSERVE,
    PAUSE,
    SOLO,
    SPAWNED,
    STEP,
    WRITE,
    Budget,
    Inconsistent,
    Model,
    Restart,
    Unknown,
    _applied,
    observe,
)
from rustsync.sched._searches import Explorer


def explorer(program, **options):
    settings = dict(bound=None, max_steps=10_000, max_runs=1_000, max_states=10**6, clock=[0.0, 0, 0.0], state={})
    settings.update(options)
    return Explorer(program, **settings)


@pytest.mark.parametrize("op", ["write", "sleep", "store", "clone:write", "drop:write", "unlock"])
def test_a_step_that_only_writes_observes_nothing(op):
    assert observe(op, 5) is None


def test_a_read_observes_the_content_and_a_lock_the_mutex_without_its_holder():
    assert observe("read", 7) == 7
    assert observe("load", 3) == 3
    held = (1, False, 7)  # (holder, poisoned, data)
    free = (None, True, 7)
    assert observe("lock", held) == observe("lock", (2, False, 7)) == (False, 7)
    assert observe("try_lock", held) is BUSY
    assert observe("try_lock", free) == (True, 7)


def test_a_join_that_waited_goes_on_as_one_that_found_the_thread_ended():
    model = Model(100)
    joining = model.root(0)
    model.learned(joining, ((), (OBSERVE, "join", 1)))
    waiting = model.child(joining, NOTYET)
    model.learned(waiting, ((), (PAUSE, "join", 1, JOIN, None)))
    found_ended = model.child(joining, (True, 5))
    assert model.child(waiting, (True, 5)) == found_ended
    assert model.child(waiting, (True, 6)) != found_ended  # another result, another future


def two_joins_alone(between=()):
    """A model where main joins thread 1 then thread 2, both while alone, with `between` written between."""
    model = Model(100)
    joining = model.root(0)
    model.learned(joining, ((), (OBSERVE, "join", 1)))
    first = model.child(joining, (SOLO, (True, 1), (3,)))
    model.learned(first, (between, (OBSERVE, "join", 2)))
    return model, joining, first


def test_two_joins_alone_in_a_row_are_named_as_if_only_the_second_was_alone():
    model, joining, first = two_joins_alone()
    second = model.child(first, (SOLO, (True, 2), (3,)))
    assert second == model.child(model.child(joining, (True, 1)), (SOLO, (True, 2), (3,)))


@pytest.mark.parametrize("between, contents", [((), (4,)), (((WRITE, 0, 4),), (4,))],
                         ids=["other contents", "a write between"])
def test_two_joins_alone_stay_apart_when_the_contents_changed_between_them(between, contents):
    model, joining, first = two_joins_alone(between)
    second = model.child(first, (SOLO, (True, 2), contents))
    assert second != model.child(model.child(joining, (True, 1)), (SOLO, (True, 2), contents))


def test_a_real_run_whose_joins_are_both_made_alone_takes_the_node_of_a_first_join_made_in_company():
    def program():
        cell = RacyCell(0, name="cell")
        first = spawn_unchecked(lambda: cell.set(1))
        second = spawn_unchecked(lambda: cell.set(2))
        first.join()
        second.join()
        return cell.peek()

    search = explorer(program)
    search.run([2, 1])  # thread 1 ends last: main is alone at both joins
    model = search.model
    joining = model.child(model.child(model.root(0), SPAWNED), SPAWNED)
    in_company = model.child(joining, (True, None))
    main = search.state["execution"].threads[0]
    after_second_join = model.key_of[main.node][0]  # main's last piece ended the thread after a peek
    assert model.key_of[after_second_join] == (in_company, (SOLO, (True, None), (1,)))


def test_the_ends_of_a_thread_with_the_same_result_are_one_node_in_the_counted_states():
    model = Model(100)
    main = model.root(0)
    ends = [model.child(model.root(1), obs) for obs in ("a", "b", "c")]
    results = [(True, 7), (True, 7), (True, 8)]
    for node, fin in zip(ends, results, strict=True):
        model.learned(node, ((), (FINISH, fin)))
    model.learned(main, ((), (PAUSE, "sleep", None, STEP, None)))
    states = [model.merged(((main, node), (1,))) for node in ends]
    assert states[0] == states[1] != states[2]
    assert states[0][1] == (1,)


def test_terminal_lists_who_can_run_and_cuts_at_max_steps():
    search = explorer(racy_counter(2, 1))
    search.count()
    model = search.model
    start = model.initial()
    outcome, choices, timed, alone = model.terminal(start, 0)
    assert (outcome, choices, timed, alone) == (None, [1, 2], False, False)
    assert model.terminal(start, model.max_steps)[0] == StepLimit(10_000, (0, 1, 2))


def test_the_model_s_deadlock_is_the_engine_s_with_main_s_join_included():
    search = explorer(opposite_diners)
    search.count()
    stuck = search.states_along([1, 2])[-1]
    predicted = search.model.terminal(stuck, 2)[0]
    assert predicted == replay(opposite_diners, [1, 2]).outcome
    assert predicted.waits[0] == (0, "join thread-1", 1)


def by(n):
    def program():
        cell = RacyCell(0)

        def adding(k):
            def work():
                cell.set(cell.get() + k)
            return work

        handles = [spawn_unchecked(adding(k)) for k in n]
        for handle in handles:
            handle.join()
        return cell.peek()
    return program


def first_steps(program, threads):
    """The model's states after one step of each of `threads` from the start, and the model."""
    search = explorer(program)
    search.count()
    model = search.model
    start = model.initial()
    return model, [model.resume(start, tid, "step")[0] for tid in threads]


def test_states_equal_but_for_swapping_threads_alike_have_one_canonical_form_and_others_keep_theirs():
    # thread 1 is waited for by main, so it keeps its place; threads 2 and 3 are alike
    model, (second_read, third_read) = first_steps(by((1, 1, 1)), (2, 3))
    assert second_read != third_read
    assert model.canonical(second_read)[0] == model.canonical(third_read)[0]
    # threads that add different amounts are not alike: nothing is swapped
    model, (second_read, third_read) = first_steps(by((1, 2, 3)), (2, 3))
    assert model.canonical(second_read) == (second_read, None)
    assert model.canonical(third_read) == (third_read, None)


def test_contents_take_writes_and_count_changes_and_drop_what_is_not_there_yet():
    assert _applied((5, (2, "x")), ((DELTA, 1, 1),)) == (5, (3, "x"))  # an Arc's count, +1
    assert _applied((1,), ((WRITE, 3, 7),)) == (1, (), (), 7)
    assert _applied((1, 2), ((WRITE, 1, ()),)) == (1,)


def test_a_state_that_needs_a_piece_nobody_learned_is_unknown():
    model = Model(100)
    with pytest.raises(Unknown) as missing:
        model.initial()
    assert missing.value.node == model.root(0)


CALLS = []


def drifting():
    """Thread 1 writes how many times the program has run: data the scheduler cannot see."""
    CALLS.append(1)
    cell = RacyCell(0)
    spawn_unchecked(lambda: cell.set(len(CALLS))).join()
    return cell.peek()


def test_a_run_that_does_not_do_what_the_model_learned_is_inconsistent():
    CALLS.clear()
    search = explorer(drifting)
    assert search.run([1]).outcome == 1
    with pytest.raises(Inconsistent, match="thread 1 did something else after the same observations"):
        search.run([1])


def test_runs_and_states_past_their_budget():
    search = explorer(racy_counter(2, 1), max_runs=1)
    search.run([])
    with pytest.raises(Budget, match="1 runs"):
        search.run([])
    large = explorer(racy_counter(3, 2), max_states=50)
    outcomes, complete = large.count()
    assert not complete and large.states > 50


def trying():
    m = Arc(Mutex(0, name="m"))
    mine = Arc.clone(m)

    def work():
        try:
            with mine.try_lock() as guard:
                guard.value += 1
        except WouldBlock:
            pass

    spawn(work).join()
    return m.peek()


def test_a_try_lock_restarts_the_learning_with_a_model_that_splits_at_releases():
    search = explorer(trying)
    assert not search.model.split
    with pytest.raises(Restart):
        search.run([])
    assert search.model.split
    assert search.run([]).outcome == 1
