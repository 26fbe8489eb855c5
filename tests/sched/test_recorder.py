"""`rustsync.sched._recorder`: what the recorder of a real run puts into the model, and what it checks.

A `Recorder` watches one `_Execution`: each thread's pieces (the writes it made, how the
piece ended) are learned into the `Model` under the node its observations name, and the
run is followed by the model's own prediction (`shadow`), so a run that does something
else than the model predicts is `broken`. Also the fingerprints that name values (and
closures: threads alike) and the contents the model keeps of each primitive.
"""

from rustsync import Arc, AtomicUsize, Mutex, WouldBlock, spawn
from rustsync.sched import RacyCell, spawn_unchecked
from rustsync.sched._engine import _Execution, _replayer
from rustsync.sched._model import (
    BUSY,
    FINISH,
    LOCK,
    OBSERVE,
    PAUSE,
    SOLO,
    SPAWN,
    SPAWNED,
    STEP,
    WRITE,
    Model,
)
from rustsync.sched._recorder import Recorder, _differ


def record(model, program, schedule, expected=None):
    """One real run of `program` along `schedule` (then the default choices), watched by a recorder."""
    recorder = Recorder(model, expected)
    execution = _Execution(_replayer(schedule, False), 100, [0.0, 0, 0.0], recorder=recorder)
    return recorder, execution, execution.run(program)


def one_worker():
    cell = RacyCell(0, name="cell")

    def work():
        cell.set(cell.get() + 1)
        return "worked"

    handle = spawn_unchecked(work)
    return handle.join(), cell.peek()


def two_writers():
    cell = RacyCell(0, name="cell")
    first = spawn_unchecked(lambda: cell.set(1))
    second = spawn_unchecked(lambda: cell.set(2))
    first.join()
    second.join()
    return cell.peek()


def _cell_of(recorder):
    (cell,) = [obj for obj in recorder.keep if isinstance(obj, RacyCell)]
    return cell


def test_a_recorded_run_teaches_each_thread_s_pieces_under_the_nodes_its_observations_name():
    model = Model(100)
    recorder, execution, result = record(model, one_worker, [])
    assert result.outcome == ("worked", 1) and recorder.broken is None
    main, worker = model.root(0), model.root(1)
    cell = recorder.ids[id(_cell_of(recorder))]
    # main made the cell (its content 0 written into the model), then spawned thread 1
    assert model.piece[main] == (((WRITE, cell, 0),), (SPAWN, 1, None))
    # thread 1 ran up to its first step, a read of that cell; having read 0, up to its write
    assert model.piece[worker] == ((), (PAUSE, "read", cell, STEP, None))
    after_read = model.child(worker, 0)
    assert model.piece[after_read] == ((), (PAUSE, "write", cell, STEP, None))
    # the write of 1 belongs to the piece after it, which ends the thread with its result
    assert model.piece[model.child(after_read, None)] == (((WRITE, cell, 1),), (FINISH, (True, "worked")))
    # and main went on after the spawn to its join
    assert model.piece[model.child(main, SPAWNED)] == ((), (OBSERVE, "join", 1))


def test_the_model_s_prediction_follows_the_run_to_its_end_and_keeps_main_s_result():
    model = Model(100)
    recorder, execution, result = record(model, one_worker, [])
    threads, contents = recorder.shadow
    assert threads == tuple(thread.node for thread in execution.threads)
    assert contents == (1,)  # the cell's final content
    assert model.results[recorder.fp(result.outcome)] == ("worked", 1)
    assert model.terminal(recorder.shadow, len(result.schedule))[0] == ("worked", 1)


def test_a_second_run_along_the_same_schedule_learns_nothing_new():
    model = Model(100)
    record(model, two_writers, [1, 2])
    learned = model.pieces
    recorder, _, result = record(model, two_writers, [1, 2])
    assert recorder.broken is None and result.outcome == 2
    assert model.pieces == learned
    record(model, two_writers, [2, 1])
    assert model.pieces > learned  # another order: other observations, new pieces


def test_a_join_made_while_alone_carries_the_contents_and_one_made_in_company_does_not():
    model = Model(100)
    recorder, execution, result = record(model, two_writers, [1, 2])
    assert result.outcome == 2 and recorder.broken is None
    cell = recorder.ids[id(_cell_of(recorder))]
    # main's way to its end, read backwards from the node the real thread reached: (node before, observation)
    after_second, peeked = model.key_of[execution.threads[0].node]
    assert peeked == 2 and model.piece[after_second][1] == (OBSERVE, "peek", cell)
    # thread 2 ended too: main, alone now, is named by the contents it could read as well
    after_first, second = model.key_of[after_second]
    assert second == (SOLO, (True, None), (2,))
    # thread 1 ended while thread 2 was still running: the join gives thread 1's result, nothing more
    joining, first = model.key_of[after_first]
    assert first == (True, None)
    assert model.piece[joining][1] == (OBSERVE, "join", 1)


CALLS = []


def drifting():
    """Thread 1 writes how many times the program has run: data the scheduler cannot see."""
    CALLS.append(1)
    cell = RacyCell(0, name="cell")
    spawn_unchecked(lambda: cell.set(len(CALLS))).join()
    return cell.peek()


def test_a_thread_that_acts_differently_after_the_same_observations_breaks_the_run():
    CALLS.clear()
    model = Model(100)
    first, _, _ = record(model, drifting, [1])
    assert first.broken is None
    again, _, _ = record(model, drifting, [1])
    assert again.broken.startswith("thread 1 did something else after the same observations (it wrote other values in one run than in another)")
    assert again.broken.endswith("it depends on data the scheduler cannot see")


def test_a_run_checked_against_the_model_s_states_breaks_where_they_differ():
    model = Model(100)
    record(model, one_worker, [1, 1])
    states = [model.initial()]
    for tid in (1, 1):
        states.append(model.resume(states[-1], tid, "step")[0])
    recorder, _, _ = record(model, one_worker, [1, 1], expected=states)
    assert recorder.broken is None
    recorder, _, _ = record(model, one_worker, [1, 1], expected=[states[0], states[0], states[2]])
    assert recorder.broken == "after 1 steps the run is not in the state the model predicted"


def trying():
    m = Mutex(0, name="m")
    try:
        with m.try_lock() as guard:
            guard.value += 1
    except Exception:
        pass
    return m.peek()


def test_a_try_lock_asks_for_a_model_that_splits_pieces_at_releases():
    plain, _, _ = record(Model(100), trying, [])
    assert plain.split_needed
    assert "try_lock" in plain.broken
    split, _, result = record(Model(100, split=True), trying, [])
    assert not split.split_needed and split.broken is None and result.outcome == 1


def contended():
    m = Arc(Mutex(0, name="m"))
    mine, theirs = Arc.clone(m), Arc.clone(m)

    def locker():
        with mine.lock() as guard:
            guard.value += 1

    def trier():
        try:
            with theirs.try_lock():
                return "got it"
        except WouldBlock:
            return "busy"

    first, second = spawn(locker), spawn(trier)
    first.join()
    return second.join()


def test_a_try_lock_observes_busy_while_the_mutex_is_held_and_else_its_poison_flag_and_data():
    model = Model(100, split=True)
    busy, _, held = record(model, contended, [1, 2])
    free, _, first = record(model, contended, [2])
    assert (held.outcome, first.outcome) == ("busy", "got it")
    assert busy.broken is None and free.broken is None
    locker, trier = model.root(1), model.root(2)
    mutex = model.piece[trier][1][2]
    assert model.piece[trier][1] == (PAUSE, "try_lock", mutex, STEP, None)
    assert model.piece[model.child(trier, BUSY)] is not None
    assert model.piece[model.child(trier, (False, 0))] is not None  # not poisoned, the data 0
    # a lock observes the same, without the holder: it only ever goes on once the mutex is free
    assert model.piece[locker][1] == (PAUSE, "lock", mutex, LOCK, "m")
    assert model.piece[model.child(locker, (False, 0))] is not None


def test_fingerprints_tell_apart_what_python_equality_mixes_up():
    fp = Recorder(Model(100)).fp
    assert fp(True) != fp(1) and fp(1.0) != fp(1)
    assert fp([1, 2]) != fp((1, 2)) and fp({1}) != fp(frozenset({1}))
    assert fp({"a": [1, (float("2.5"), "b", 1 == 1)]}) == fp({"a": [1, (float("2.5"), "b", True)]})
    assert fp(ValueError("x")) == fp(ValueError("x")) != fp(KeyError("x"))


def test_closures_alike_fingerprint_alike():
    fp = Recorder(Model(100)).fp

    def adder(n):
        return lambda: n + 1

    def doubler(n):
        return lambda: n * 2

    assert fp(adder(1)) == fp(adder(1))
    assert fp(adder(1)) != fp(adder(2))  # another captured value
    assert fp(adder(1)) != fp(doubler(1))  # another code


def test_an_instance_is_named_by_its_attributes_and_an_opaque_value_by_its_identity_kept_alive():
    model = Model(100)
    fp = Recorder(model).fp

    class Point:
        def __init__(self, x):
            self.x = x

    assert fp(Point(1)) == fp(Point(1)) != fp(Point(2))
    first, second = object(), object()
    assert fp(first) != fp(second)
    assert fp(first) == fp(first)
    assert any(kept is first for kept in model.keep)  # its id stays unique while the model lives


def test_the_contents_kept_of_each_primitive():
    recorder = Recorder(Model(100))
    assert recorder.content(Mutex([1], name="m")) == (None, False, recorder.fp([1]))  # holder, poisoned, data
    assert recorder.content(RacyCell(True)) == recorder.fp(True)
    assert recorder.content(AtomicUsize(3)) == 3
    assert recorder.broken is None
    assert recorder.content(object()) == ()
    assert recorder.broken == "a step on an object the model does not know (object)"


def test_differ_says_how_two_pieces_of_the_same_point_differ():
    read = ((), (PAUSE, "read", 0, STEP, None))
    write = ((), (PAUSE, "write", 0, STEP, None))
    ends = ((), (FINISH, (True, 1)))
    assert _differ(read, write) == "a `read` step in one run, a `write` step in another"
    assert _differ(read, ends) == "a `read` step in one run, its end in another"
    assert _differ(ends, ((), (FINISH, (True, 2)))) == "its end, with a different result"
    assert _differ(read, ((), (PAUSE, "read", 1, STEP, None))) == "a `read` step of another object"
    assert _differ(read, (((WRITE, 0, 1), (WRITE, 1, 1)), read[1])) == \
        "it wrote 0 value(s) in one run and 2 in another"
    assert _differ((((WRITE, 0, 1),), read[1]), (((WRITE, 0, 2),), read[1])) == \
        "it wrote other values in one run than in another"
