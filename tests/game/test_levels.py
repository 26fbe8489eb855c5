"""`rustsync.game.levels`: each level's goal, its winnability, and the code each thread shows.

A level's goal sentence and its `won` test agree on every outcome the scheduler can
reach; a level without the lock can be won and its locked twin cannot; a thread's listed
steps are found in its code in order (a loop's round again and again), and a level that
lists them wrongly raises `LevelError`; `make` gives a fresh board on every run.
"""

import re

import pytest

from rustsync.game.levels import (
    LEVELS,
    Level,
    LevelError,
    ThreadCode,
    dine,
    level,
    levels_for,
    racy_worker,
    two_diners,
)
from rustsync.sched import Deadlock, explore, replay


def goal_says_reached(goal, outcome):
    """Whether `outcome` reaches the goal as its sentence states it."""
    if "deadlock" in goal:
        return isinstance(outcome, Deadlock)
    if isinstance(outcome, Deadlock):
        return False
    if found := re.search(r"count at (\d+)\.", goal):
        return outcome == int(found[1])
    if found := re.search(r"count below (\d+)\.", goal):
        return outcome < int(found[1])
    if found := re.search(r"end at (\d+)\. Make it end anywhere else|anywhere but (\d+)\.", goal):
        return outcome != int(found[1] or found[2])
    raise AssertionError(f"a goal this test cannot read: {goal!r}")


def every_outcome(lv):
    """{outcome: the run of a schedule that reaches it}, for every outcome the level's program can have."""
    exploration = explore(lv.program)
    assert exploration.complete
    return {outcome: replay(lv.program, exploration.examples[outcome]) for outcome in exploration.outcomes}


@pytest.mark.parametrize("lv", LEVELS, ids=lambda lv: lv.key)
def test_the_goal_sentence_and_the_won_test_agree_on_every_reachable_outcome(lv):
    for outcome, run in every_outcome(lv).items():
        assert run.outcome == outcome
        assert bool(lv.won(run)) == goal_says_reached(lv.goal, outcome), (lv.key, outcome)


@pytest.mark.parametrize("lv", LEVELS, ids=lambda lv: lv.key)
def test_a_level_without_the_lock_can_be_won_and_a_locked_twin_cannot(lv):
    winnable = any(lv.won(run) for run in every_outcome(lv).values())
    assert winnable is not lv.locked
    if lv.locked:
        twin = level(lv.twin_of)
        assert not twin.locked and twin.lesson <= lv.lesson
        assert lv.locked_text, "the page says why no schedule reaches the goal"
    else:
        assert lv.won_text, "the page says why the goal was reached"


def test_a_level_is_found_by_its_key_and_an_unknown_key_names_them_all():
    assert all(level(lv.key) is lv for lv in LEVELS)
    assert len({lv.key for lv in LEVELS}) == len(LEVELS)
    with pytest.raises(KeyError, match="no level 'lost'; the levels are lost-update, two-lost, locked-counter"):
        level("lost")


def test_a_lessons_levels_come_in_their_order_whatever_way_the_lesson_is_written():
    assert [lv.key for lv in levels_for("03")] == ["three-to-one", "three-locked"]
    assert levels_for(3) == levels_for("3") == levels_for("03")
    assert [lv.key for lv in levels_for(6)] == ["opposite-diners", "same-order-diners"]
    assert sorted({lv.lesson for lv in LEVELS}) == ["00", "01", "03", "04", "06"]


@pytest.mark.parametrize("lv", LEVELS, ids=lambda lv: lv.key)
def test_every_thread_of_a_level_shows_code_holding_each_listed_step(lv):
    assert [code.tid for code in lv.threads] == list(range(len(lv.threads)))
    for code in lv.threads:
        assert lv.thread(code.tid) is code
        for line, (_op, _obj, text) in zip(code.step_lines, code.steps, strict=True):
            assert text in code.lines[line]


def test_a_step_on_the_line_before_and_a_loops_round_are_found_in_order():
    rc = level("rc-count").thread(1)
    assert [rc.lines[i].strip() for i in rc.step_lines] == [
        "mine = Rc.clone(shared)  # count + 1: a read, then a write"] * 2 + [
        "drop(mine)               # count - 1: a read, then a write"] * 2
    racy = level("lost-update").thread(1)
    assert racy.repeat
    lines = [racy.line_of_step(k, op, "counter") for k, op in enumerate(["read", "write"] * 3)]
    assert [racy.lines[i].strip() for i in lines[:2]] == ["seen = counter.get()", "counter.set(seen + 1)"]
    assert lines == lines[:2] * 3


def test_a_thread_without_a_loop_takes_no_more_steps_than_it_lists():
    diner = level("opposite-diners").thread(2)
    assert diner.line_of_step(0, "lock", "knife") < diner.line_of_step(1, "lock", "fork")
    with pytest.raises(LevelError, match="thread 2 takes a step number 2 \\(lock `fork`\\); its level lists 2"):
        diner.line_of_step(2, "lock", "fork")
    silent = ThreadCode(3, "thread 3", dine)
    with pytest.raises(LevelError, match="thread 3 takes a step \\(lock `fork`\\) but its level lists none"):
        silent.line_of_step(0, "lock", "fork")


def test_a_join_is_shown_on_its_own_line_or_the_line_for_any_thread():
    main = level("opposite-diners").thread(0)
    assert main.lines[main.line_of_join("thread-2")].strip() == "diner_2.join()"
    assert main.lines[main.line_of_join("thread-1")].strip() == "diner_1.join()"
    racy_main = level("lost-update").thread(0)
    assert racy_main.lines[racy_main.line_of_join("thread-7")].strip() == "handle.join()"
    with pytest.raises(LevelError, match="thread 0 waits to join thread-3 but its level shows no such join"):
        main.line_of_join("thread-3")


def test_a_listed_line_missing_from_the_code_is_a_fault_of_the_level():
    wrong = ThreadCode(1, "thread 1", racy_worker, (("read", "counter", "counter.read()"),), True)
    with pytest.raises(LevelError, match="no line of racy_worker after line 0 holds 'counter.read\\(\\)'"):
        wrong.step_lines  # noqa: B018 - the property computes the lines
    with pytest.raises(LevelError, match="level 'lost-update' shows no thread 3"):
        level("lost-update").thread(3)


def test_each_run_of_a_level_fills_a_fresh_board_with_what_it_watches():
    lv = Level("two-diners", "06", "t", "g", lambda watch: two_diners(watch, same_order=True), (), lambda run: True)
    program, board = lv.make()
    assert program.__name__ == "two_diners" and board == []
    seen = []
    for _ in range(2):
        assert replay(program, []).outcome == "both ate"
        assert [type(thing).__name__ for thing in board] == ["Arc", "Arc"], "the board of one run, not of every run"
        seen.append(list(board))
    assert not set(map(id, seen[0])) & set(map(id, seen[1])), "each run watches the objects it made"
