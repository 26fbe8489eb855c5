"""The be-the-scheduler game (`rustsync.game`): its levels, its logic, and the widget driven without a browser.

Every position the game shows is what `replay` reports; these tests hold it to that: a
winning sequence of clicks reaches the goal and shows the schedule, a losing one does
not, the locked twins have no winning sequence (every move tried), the schedule shown
replays to the same outcome, and the line marked in each thread's code is the line
where that thread is really paused (read from its frame, independently of the trace).
"""

from __future__ import annotations

import html
import re

import pytest

from rustsync.game import LEVELS, Game, SchedulerGame, ThreadCode
from rustsync.game.levels import Level, LevelError, level, levels_for, racy_worker, racy_workers
from rustsync.lab import mutex_counter, opposite_diners, racy_counter
from rustsync.sched import Deadlock, ScheduleError, explore, replay

# A winning schedule per winnable level: the assignments' answers where a part asks for one.
WINNING = {
    "lost-update": [1, 2, 1, 2],  # a00 Part B
    "two-lost": [1, 2, 2, 2, 1, 1, 1, 2],  # a00 Part C
    "released-between": [1, 2, 1, 2, 0],  # a01 Part C, with the main thread's final lock
    "three-to-one": [1, 2, 2, 3, 3, 1],  # not everyone reads first: only the last writer must have read 0
    "rc-count": [1, 2, 1, 2, 1, 1, 2, 2, 0],  # both clones from a count of 1: the count ends at 0
    "opposite-diners": [1, 2],  # a06 Part B's shape
}
LOSING = {
    "lost-update": [1, 1, 2, 2],
    "two-lost": [1, 1, 1, 1, 2, 2, 2, 2],
    "released-between": [1, 1, 2, 2, 0],
    "three-to-one": [1, 1, 2, 2, 3, 3],  # one after the other: the count ends at 3
    "rc-count": [1, 1, 1, 1, 2, 2, 2, 2, 0],
    "opposite-diners": [1, 1, 2, 2],
}
TWINS = [lv for lv in LEVELS if lv.locked]
WINNABLE = [lv for lv in LEVELS if not lv.locked]


def every_finished_schedule(game):
    """Every complete schedule, found by trying every move of every position the game reaches."""
    found = {}
    stack = [[]]
    while stack:
        schedule = stack.pop()
        position = game.position(schedule)
        if position.over:
            found[tuple(schedule)] = position
            continue
        assert position.moves, f"{schedule}: the run is not over, yet no thread can step"
        stack.extend(schedule + [tid] for tid in position.moves)
    return found


def status_schedule(widget):
    """The schedule the widget's goal message shows, read back from its text."""
    text = html.unescape(re.sub(r"<[^>]+>", "", widget.status.value))
    found = re.search(r"as the assignments take it: (\[[\d, ]*\])", text)
    assert found, f"no schedule in the goal message: {text!r}"
    return [int(x) for x in re.findall(r"\d+", found.group(1))]


def test_every_winnable_level_has_a_winning_schedule_listed_and_every_lesson_has_levels():
    assert {lv.key for lv in WINNABLE} == set(WINNING) == set(LOSING)
    for lesson in ("00", "01", "03", "04", "06"):
        found = levels_for(lesson)
        assert found and any(not lv.locked for lv in found), lesson
    for twin in TWINS:
        assert level(twin.twin_of).lesson in (twin.lesson, "00"), twin.key
    with pytest.raises(KeyError, match="lessons with levels"):
        levels_for("02")


@pytest.mark.parametrize("key", sorted(WINNING))
def test_a_winning_sequence_of_clicks_reaches_the_goal_and_shows_the_schedule(key):
    widget = SchedulerGame(levels=[key])
    for tid in WINNING[key]:
        assert not widget.position.over
        widget.buttons[tid].click()
    position = widget.position
    assert position.over and position.won, position
    assert "Goal reached" in widget.status.value
    shown = status_schedule(widget)
    assert shown == WINNING[key] == position.schedule
    # the schedule shown replays, with the course's replay, to the same outcome
    again = replay(level(key).program, shown)
    assert again.outcome == position.outcome
    assert level(key).won(again)
    assert not widget.replay_button.disabled
    drawn = widget.draw_replay()
    assert [step[1] for step in drawn["steps"]] == shown


@pytest.mark.parametrize("key", sorted(LOSING))
def test_a_losing_sequence_ends_the_run_without_reaching_the_goal(key):
    widget = SchedulerGame(levels=[key])
    for tid in LOSING[key]:
        widget.click(tid)
    position = widget.position
    assert position.over and not position.won
    assert "Goal reached" not in widget.status.value and "Not the goal" in widget.status.value
    assert not level(key).won(replay(level(key).program, LOSING[key]))


@pytest.mark.parametrize("twin", TWINS, ids=lambda lv: lv.key)
def test_a_locked_twin_has_no_winning_sequence_every_move_tried(twin):
    game = Game(twin)
    finished = every_finished_schedule(game)
    assert finished and not any(p.won for p in finished.values())
    # every move tried: as many complete schedules as the scheduler's own count, the same outcomes
    exploration = explore(twin.program)
    assert len(finished) == exploration.schedules == game.total
    assert {p.outcome for p in finished.values()} == set(exploration.outcomes)
    # and its unlocked twin can be won
    assert any(p.won for p in every_finished_schedule(Game(level(twin.twin_of))).values())


@pytest.mark.parametrize("twin", TWINS, ids=lambda lv: lv.key)
def test_the_page_says_so_when_every_schedule_of_a_locked_twin_was_played(twin):
    widget = SchedulerGame(levels=[twin.key])
    assert "locked twin" in widget.goal.value
    schedules = sorted(every_finished_schedule(Game(twin)))
    for i, schedule in enumerate(schedules):
        widget.reset_button.click()
        for tid in schedule:
            widget.buttons[tid].click()
        said = "none reaches the goal" in widget.status.value
        assert said == (i == len(schedules) - 1), (i, schedule, widget.status.value)
    assert twin.locked_text and html.escape(twin.locked_text) in widget.status.value


@pytest.mark.parametrize("lv", LEVELS, ids=lambda lv: lv.key)
def test_every_schedule_the_game_can_finish_replays_to_the_outcome_it_showed(lv):
    game = Game(lv)
    finished = every_finished_schedule(game)
    assert len(finished) == explore(lv.program).schedules
    for schedule, position in finished.items():
        again = replay(lv.program, list(schedule), strict=True)
        assert again.outcome == position.outcome and list(again.schedule) == list(schedule)
        assert position.won == bool(lv.won(again))


@pytest.mark.parametrize("lv", LEVELS, ids=lambda lv: lv.key)
def test_the_marked_line_of_every_thread_is_where_its_frame_is_paused(lv):
    """Independent of the trace: the scheduler's paused threads are asked for their frames' lines."""
    from rustsync.sched import _engine

    game = Game(lv)
    for schedule in [list(s) for s in every_finished_schedule(game)][:40]:
        for cut in range(len(schedule) + 1):
            position = game.position(schedule[:cut])
            lines = _paused_lines(_engine, lv, schedule[:cut])
            for view in position.threads:
                if view.line is None:
                    continue
                code = lv.thread(view.tid)
                assert view.tid in lines, (schedule[:cut], view)
                where = lines[view.tid]
                assert code.lines[view.line].strip() == where.strip(), (lv.key, schedule[:cut], view, where)


def _paused_lines(engine, lv, prefix):
    """{thread id: the source line of the shown function where the thread is paused}, after `prefix`.

    Read by an invariant, which the scheduler calls between two steps, also where the run
    ends (a deadlock), from each paused thread's own frames.
    """
    codes = {code.tid: code for code in lv.threads}
    seen = {}
    box = {}

    def look():
        if box["calls"] == len(prefix):
            for thread in box["execution"].threads:
                frame, code = thread.glet.gr_frame, codes.get(thread.tid)
                while frame is not None and code is not None:
                    if _belongs(frame.f_code, code.func):
                        seen[thread.tid] = _source_line(frame.f_code.co_filename, frame.f_lineno)
                        break
                    frame = frame.f_back
        box["calls"] += 1

    def work(clock, state):
        program, _board = lv.make()
        box["calls"] = 0
        execution = box["execution"] = engine._Execution(engine._replayer(prefix, False), 10_000, clock,
                                                         stop=state, invariant=look)
        return execution.run(program)

    engine._watched(work, 2.0)
    return seen


def _belongs(code, func):
    if code is func.__code__:
        return True
    return any(const is code for const in func.__code__.co_consts if hasattr(const, "co_code"))


def _source_line(filename, lineno):
    with open(filename) as f:
        return f.read().splitlines()[lineno - 1]


def test_the_levels_are_the_courses_programs():
    same = {"lost-update": racy_counter(2, 1), "two-lost": racy_counter(2, 2), "three-to-one": racy_counter(3, 1),
            "locked-counter": mutex_counter(2, 1), "three-locked": mutex_counter(3, 1)}
    for key, program in same.items():
        assert explore(level(key).program).outcomes == explore(program).outcomes, key
    diners = explore(level("opposite-diners").program)
    assert set(map(type, diners.outcomes)) == set(map(type, explore(opposite_diners).outcomes))
    assert any(isinstance(o, Deadlock) for o in diners.outcomes)


def test_undo_reset_and_the_step_counter():
    widget = SchedulerGame(levels=["lost-update"])
    assert widget.undo_button.disabled and widget.reset_button.disabled
    widget.click(1)
    widget.click(2)
    assert "Steps taken: 2" in widget.counter.value and "[1, 2]" in widget.counter.value
    assert "thread 2 reads <code>counter</code> (0)" in widget.counter.value
    widget.undo_button.click()
    assert widget.position.schedule == [1] and "Steps taken: 1" in widget.counter.value
    widget.reset_button.click()
    assert widget.position.schedule == [] and "Steps taken: 0" in widget.counter.value
    assert widget.position.board == [("counter", "RacyCell, no lock", 0, None)]


def test_a_blocked_thread_cannot_step_and_the_page_says_who_holds_its_lock():
    widget = SchedulerGame(levels=["opposite-diners"])
    widget.click(1)
    assert ("fork", "Mutex", 0, 1) in widget.position.board
    assert "held by thread 1" in widget.board.value
    widget.click(2)
    assert widget.position.over and isinstance(widget.position.outcome, Deadlock)
    for tid in (1, 2):
        assert widget.buttons[tid].disabled
        assert "blocked: waits for" in widget.notes[tid].value
    with pytest.raises(ValueError, match="the run is over"):
        widget.game.step(1)
    game = Game("locked-counter")
    with pytest.raises(ValueError, match="thread 0 cannot step: waits to join thread-1"):
        game.step(0)
    with pytest.raises(ValueError, match="no thread 7"):
        game.step(7)


def test_the_current_line_is_marked_without_colour_alone():
    widget = SchedulerGame(levels=["lost-update"])
    code = widget.codes[1].value
    marked = [line for line in code.split("</span>") if "aria-current" in line]
    assert len(marked) == 1 and "▶" in marked[0] and "◀ next" in marked[0] and "counter.get()" in marked[0]
    widget.click(1)
    assert "counter.set(" in [line for line in widget.codes[1].value.split("</span>") if "aria-current" in line][0]
    for tid, button in widget.buttons.items():
        assert button.description == f"Step thread {tid}" and button.tooltip


def test_a_level_whose_code_disagrees_with_the_run_raises_instead_of_showing_a_wrong_line():
    good = level("lost-update")
    swapped = (ThreadCode(1, "thread 1", racy_worker,
                          (("read", "counter", "counter.get()"), ("read", "counter", "counter.set(")), True),)
    bad = Level("bad", "00", "bad", "bad", lambda watch: racy_workers(watch, 1, 1), good.threads[:1] + swapped,
                good.won)
    game = Game(bad)
    game.position()  # the first step, a read, is where the page says
    with pytest.raises(LevelError, match="step 1: the scheduler reports write `counter`, the page shows read"):
        game.step(1)


def test_a_move_the_game_refuses_is_one_replay_refuses():
    game = Game("same-order-diners")
    game.step(1)  # thread 1 holds the fork; thread 2's next step locks it too
    assert game.position().thread(2).note == "blocked: waits for `fork`, held by thread 1"
    with pytest.raises(ValueError, match="thread 2 cannot step: blocked"):
        game.step(2)
    with pytest.raises(ScheduleError, match="thread 2 cannot run: it is blocked on `fork`"):
        replay(level("same-order-diners").program, [1, 2])
    assert game.position().moves == [1]


def test_the_level_chooser_starts_the_chosen_level_afresh():
    widget = SchedulerGame("01")
    assert [lv.key for lv in widget.levels] == ["locked-counter", "released-between"]
    assert "locked twin" in widget.chooser.options[0][0] and "locked twin" in widget.goal.value
    widget.click(1)
    widget.chooser.value = 1
    assert widget.level.key == "released-between" and widget.position.schedule == []
    assert "locked twin" not in widget.goal.value
    assert sorted(widget.buttons) == [0, 1, 2]
    assert "two_workers(unlocked_between_worker, 1)" in widget.goal.value
