"""`rustsync.game.play`: a schedule grown one step at a time, each position what `replay` reports.

Which threads may step (exactly those `replay` can follow), what each one's next step
is, the board between two steps, moves refused without changing the schedule, undo and
reset served from positions already computed, the runs played to their end, and the
words a trace event is shown in.
"""

import pytest

from rustsync.game import Game
from rustsync.game.levels import level
from rustsync.game.play import BLOCKED, FINISHED, READY, WAITING, _holders, describe
from rustsync.sched import Event, ScheduleError, replay


def prefixes(schedule):
    return [schedule[:cut] for cut in range(len(schedule) + 1)]


@pytest.mark.parametrize(("key", "schedule"), [
    ("lost-update", [1, 2, 2, 1]),
    ("rc-count", [1, 2, 1, 2, 1, 1, 2, 2, 0]),
    ("opposite-diners", [1, 2]),
    ("released-between", [2, 1, 2, 1, 0]),
])
def test_a_thread_may_step_exactly_when_replay_can_follow_it_there(key, schedule):
    game = Game(key)
    program = level(key).program
    for prefix in prefixes(schedule):
        position = game.position(prefix)
        if position.over:
            assert position.moves == [] and prefix == schedule
            continue
        for view in position.threads:
            try:
                ahead = replay(program, prefix + [view.tid])
            except ScheduleError:
                assert view.status != READY, (prefix, view)
                continue
            assert view.status == READY, (prefix, view)
            step = next(ev for ev in ahead.trace if ev.step == len(prefix))
            assert (view.op, view.obj) == (step.op, step.obj), (prefix, view)
        assert position.moves == [view.tid for view in position.threads if view.status == READY]


def test_the_board_shows_the_shared_value_between_two_steps():
    game = Game("lost-update")
    assert game.position().board == [("counter", "RacyCell, no lock", 0, None)]
    both_read = game.play([1, 2])
    assert both_read.board == [("counter", "RacyCell, no lock", 0, None)]
    assert both_read.last == ["thread 2 reads `counter` (0)"]
    one_wrote = game.step(1)
    assert one_wrote.board == [("counter", "RacyCell, no lock", 1, None)]
    assert one_wrote.last[0] == "thread 1 writes `counter` (1)"


def test_the_board_of_a_count_level_shows_the_count_and_a_mutex_its_holder():
    rc = Game("rc-count").play([1, 2, 1])  # thread 1 cloned; thread 2 read the count before that write
    assert rc.board == [("rc", "Rc strong count", 2, None)]
    assert rc.thread(2).note == "next: write the count of `rc` (clone)"
    diners = Game("opposite-diners")
    assert diners.step(1).board == [("fork", "Mutex", 0, 1), ("knife", "Mutex", 0, None)]
    assert diners.step(2).board == [("fork", "Mutex", 0, 1), ("knife", "Mutex", 0, 2)]


def test_at_a_deadlock_each_thread_says_what_it_waits_for():
    position = Game("opposite-diners").play([1, 2])
    assert position.over and position.moves == []
    main, one, two = position.threads
    assert (main.status, main.note) == (WAITING, "waits to join thread-1, which never ends")
    assert (one.status, one.op, one.obj, one.note) == (BLOCKED, "lock", "knife",
                                                       "blocked: waits for `knife`, held by thread 2")
    assert (two.status, two.obj) == (BLOCKED, "fork")
    assert level("opposite-diners").thread(1).lines[one.line].strip() == "with second.lock() as other:"


def test_a_refused_move_says_why_and_leaves_the_schedule_as_it_was():
    game = Game("lost-update")
    game.play([1, 1])
    assert game.position().thread(1).status == FINISHED
    with pytest.raises(ValueError, match="thread 1 cannot step: finished"):
        game.step(1)
    with pytest.raises(ValueError, match="its threads are 0, 1, 2"):
        game.step(3)
    assert game.schedule == [1, 1]
    game.play([2, 2])
    with pytest.raises(ValueError, match="the run is over"):
        game.step(0)
    assert game.schedule == [1, 1, 2, 2]


def test_undo_and_reset_come_back_to_positions_without_replaying():
    game = Game("lost-update")
    start = game.position()
    first = game.step(2)
    game.step(1)
    replays = game.replays
    assert game.undo() is first and game.schedule == [2]
    assert game.reset() is start and game.schedule == []
    assert game.undo() is start and game.schedule == [], "undo at the start stays there"
    assert game.step(2) is first
    assert game.replays == replays, "positions already seen are kept"


def test_the_runs_played_to_their_end_are_kept_until_every_schedule_was_tried():
    game = Game("locked-counter")
    assert game.total == 2
    game.play([1, 2, 0])
    assert game.finished == {(1, 2, 0): 2} and not game.everything_tried
    game.reset()
    game.play([2, 1, 0])
    assert game.finished == {(1, 2, 0): 2, (2, 1, 0): 2}
    assert game.everything_tried and not game.ever_won
    lost = Game("lost-update")
    lost.play([1, 1, 2, 2])
    assert not lost.ever_won
    lost.reset()
    lost.play([1, 2, 1, 2])
    assert lost.ever_won and lost.position().won and lost.position().outcome == 1


@pytest.mark.parametrize(("event", "words"), [
    (Event(0, 1, "read", "counter", 0), "thread 1 reads `counter` (0)"),
    (Event(1, 2, "write", "counter", 1), "thread 2 writes `counter` (1)"),
    (Event(0, 1, "lock", "fork"), "thread 1 locks `fork`"),
    (Event(None, 1, "unlock", "fork"), "thread 1 unlocks `fork`"),
    (Event(0, 1, "try_lock", "fork", "WouldBlock"), "thread 1 tries to lock `fork` ('WouldBlock')"),
    (Event(0, 1, "clone:read", "rc", 1), "thread 1 reads the count of `rc` for a clone (1)"),
    (Event(0, 1, "drop:write", "rc", 1), "thread 1 writes the count of `rc` for a drop (1)"),
    (Event(None, 1, "drop", "arc", 2), "thread 1 drops `arc` (count now 2)"),
    (Event(0, 2, "count", "arc", 3), "thread 2 reads the strong count of `arc` (3)"),
    (Event(None, 0, "join", "thread-1", "its result"), "thread 0 joins `thread-1`"),
    (Event(0, 1, "sleep", ""), "thread 1 sleeps"),
    (Event(0, 1, "fetch_add", "hits", 5), "thread 1 adds to `hits` (5)"),
])
def test_a_trace_event_in_words(event, words):
    assert describe(event) == words


def test_a_mutex_is_held_from_its_lock_to_its_holders_unlock():
    events = [
        Event(0, 1, "lock", "fork"),
        Event(1, 2, "try_lock", "fork", "WouldBlock"),  # did not get it
        Event(None, 2, "unlock", "fork"),  # not the holder: changes nothing
        Event(2, 2, "lock", "knife"),
    ]
    assert _holders(events) == {"fork": 1, "knife": 2}
    assert _holders(events + [Event(None, 1, "unlock", "fork")]) == {"knife": 2}
    assert _holders([Event(0, 2, "try_lock", "fork", None)]) == {"fork": 2}
