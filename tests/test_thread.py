"""`spawn` and `join`: results, panics, timeouts, values captured at spawn time, and real-thread counts."""

import sys
import threading
import time

import pytest

from rustsync import Arc, AtomicUsize, Mutex, ThreadPanicked, spawn

pytestmark = pytest.mark.timeout(60)

THREADS = 16
INCREMENTS = 10_000
REPEATS = 3

LABEL = "as spawned"


# --- spawn and join ---------------------------------------------------------------------------


def test_join_returns_the_closures_result():
    handle = spawn(lambda: sum(range(10)))
    assert handle.join(timeout=10) == 45


def test_join_twice_is_an_error_that_says_join_consumes_the_handle():
    handle = spawn(lambda: 1)
    handle.join(timeout=10)
    with pytest.raises(RuntimeError, match="already joined"):
        handle.join(timeout=10)


def test_spawn_refuses_something_that_is_not_a_closure():
    with pytest.raises(TypeError, match=r"spawn\(\) takes a closure.*got int"):
        spawn(42)


def test_join_on_a_thread_that_raised_raises_thread_panicked_caused_by_its_exception():
    original = ValueError("bad input")

    def fails():
        raise original

    handle = spawn(fails, name="parser")
    with pytest.raises(ThreadPanicked) as err:
        handle.join(timeout=10)
    assert err.value.__cause__ is original
    assert err.value.exception is original
    assert err.value.thread_name == "parser"
    assert "thread 'parser' panicked: ValueError: bad input" in str(err.value)


def test_a_panic_inside_a_with_block_poisons_the_mutex():
    counter = Arc(Mutex(0))
    mine = Arc.clone(counter)

    def work():
        with mine.lock() as guard:
            guard.value += 1
            raise RuntimeError("half-way")

    with pytest.raises(ThreadPanicked):
        spawn(work).join(timeout=10)
    assert counter.is_poisoned()
    assert repr(counter) == "Mutex { data: 1, poisoned: true, .. }"


def test_a_panic_while_holding_a_guard_outside_with_poisons_and_releases_the_mutex():
    counter = Arc(Mutex(0))
    mine = Arc.clone(counter)

    def work():
        guard = mine.lock()
        guard.value += 1
        raise RuntimeError("no with block")

    with pytest.raises(ThreadPanicked):
        spawn(work).join(timeout=10)
    assert counter.is_poisoned()
    assert repr(counter) == "Mutex { data: 1, poisoned: true, .. }", "the dead thread's guard must be released"


@pytest.mark.timeout(15)
def test_join_with_timeout_on_a_blocked_thread_raises_timeout_error():
    go = threading.Event()
    handle = spawn(lambda: go.wait(10), name="waiter")
    start = time.perf_counter()
    with pytest.raises(TimeoutError, match=r"thread 'waiter' did not finish within 0.2 s.*deadlocked"):
        handle.join(timeout=0.2)
    assert time.perf_counter() - start < 5
    assert not handle.is_finished()
    go.set()
    assert handle.join(timeout=10) is True
    assert handle.is_finished()


@pytest.mark.timeout(15)
def test_join_with_timeout_on_a_thread_waiting_for_a_held_lock():
    counter = Arc(Mutex(0))
    mine = Arc.clone(counter)

    def work():
        with mine.lock() as guard:
            guard.value += 1

    with counter.lock():
        handle = spawn(work)
        with pytest.raises(TimeoutError, match="waiting for a lock"):
            handle.join(timeout=0.2)
    handle.join(timeout=10)
    with counter.lock() as guard:
        assert guard.value == 1


# --- values are captured when the thread is spawned ---------------------------------------------


def test_each_thread_sees_the_loop_variable_as_it_was_when_spawned():
    go = Arc(threading.Event())  # an Event is not `Copy`: each thread gets an owner of its own
    handles = []
    for i in range(5):
        mine = Arc.clone(go)
        handles.append(spawn(lambda: (mine.wait(10), i)[1]))
    go.set()  # every thread reads `i` only now, after the loop has finished
    assert [h.join(timeout=10) for h in handles] == [0, 1, 2, 3, 4]


def test_each_thread_sees_a_nested_functions_loop_variable_as_it_was_when_spawned():
    go = Arc(threading.Event())
    handles = []
    for word in ["a", "b", "c"]:
        mine = Arc.clone(go)

        def work():
            mine.wait(10)
            return word

        handles.append(spawn(work))
    go.set()
    assert [h.join(timeout=10) for h in handles] == ["a", "b", "c"]


def test_a_rebound_global_is_seen_as_it_was_when_the_thread_was_spawned():
    global LABEL
    go = Arc(threading.Event())

    def reader(gate):
        def read_label():
            gate.wait(10)
            return LABEL
        return read_label

    try:
        first = spawn(reader(Arc.clone(go)))
        LABEL = "rebound once"
        second = spawn(reader(Arc.clone(go)))
        LABEL = "rebound twice"
        go.set()
        assert first.join(timeout=10) == "as spawned"
        assert second.join(timeout=10) == "rebound once"
    finally:
        LABEL = "as spawned"


# --- real threads: the mutex loses no update --------------------------------------------------------


def count_with_plain_threads():
    counter = Mutex(0)

    def work():
        for _ in range(INCREMENTS):
            with counter.lock() as num:
                num.value += 1

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a thread did not finish in 30 s"
    return counter.into_inner()


def count_with_arc_and_spawn():
    counter = Arc(Mutex(0))
    handles = []
    for _ in range(THREADS):
        counter_clone = Arc.clone(counter)

        def work():
            for _ in range(INCREMENTS):
                with counter_clone.lock() as num:
                    num.value += 1

        handles.append(spawn(work))
    for handle in handles:
        handle.join(timeout=30)
    assert Arc.strong_count(counter) == 1
    with counter.lock() as num:
        return num.value


def count_with_an_atomic():
    counter = Arc(AtomicUsize(0))
    handles = []
    for _ in range(THREADS):
        mine = Arc.clone(counter)
        handles.append(spawn(lambda: [mine.fetch_add(1) for _ in range(INCREMENTS)] and None))
    for handle in handles:
        handle.join(timeout=30)
    return counter.load()


@pytest.fixture
def frequent_switches():
    """Switch threads every 10 us (CPython's default is 5 ms) so that a broken lock would lose updates."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("frequent_switches")
@pytest.mark.parametrize("count", [count_with_plain_threads, count_with_arc_and_spawn, count_with_an_atomic])
def test_sixteen_threads_of_ten_thousand_increments_end_at_exactly_160000(count):
    results = [count() for _ in range(REPEATS)]
    assert results == [THREADS * INCREMENTS] * REPEATS


# --- scope(): threads that may borrow; spawn(move=False): E0373 -------------------------------------

from rustsync import BorrowMayOutlive, Scope, UseAfterMove, scope  # noqa: E402
from rustsync.sched import explore, replay  # noqa: E402


def test_scoped_threads_borrow_without_arc_and_are_joined_when_the_block_ends():
    counter = Mutex(0)
    names = ["a", "b"]
    seen = []
    with scope() as s:
        assert isinstance(s, Scope)
        for _ in range(5):
            s.spawn(lambda: _bump(counter))
        s.spawn(lambda: seen.append(len(names)))
    assert counter.into_inner() == 5, "every thread ended with the block"
    assert names == ["a", "b"] and seen == [2], "the list was borrowed, not moved"


def _bump(counter):
    with counter.lock() as num:
        num.value += 1


def test_the_function_form_returns_what_the_function_returns():
    total = AtomicUsize(0)

    def body(s):
        handles = [s.spawn(lambda: total.fetch_add(2)) for _ in range(3)]
        return [h.join() for h in handles]

    before = scope(body)
    assert sorted(before) == [0, 2, 4] and total.load() == 6


def test_a_panic_in_a_scoped_thread_is_raised_once_all_have_ended():
    done = AtomicUsize(0)

    def slow():
        time.sleep(0.05)
        done.fetch_add(1)

    with pytest.raises(ThreadPanicked, match="ZeroDivisionError"):
        with scope() as s:
            s.spawn(lambda: 1 / 0)
            s.spawn(slow)
    assert done.load() == 1, "the other thread was joined before the panic went on"


def test_a_scope_that_ended_spawns_no_more():
    with scope() as s:
        pass
    with pytest.raises(RuntimeError, match="this scope has ended"):
        s.spawn(lambda: None)


def test_a_scoped_move_closure_moves_what_it_uses():
    log = [1]
    with scope() as s:
        s.spawn(lambda: log.append(2), move=True)
    with pytest.raises(UseAfterMove):
        spawn(lambda: log)


def test_spawn_without_move_that_borrows_is_e0373_before_the_thread_starts():
    v = [1, 2, 3]
    ran = []
    with pytest.raises(BorrowMayOutlive) as err:
        spawn(lambda: ran.append(v), move=False)
    assert err.value.code == "E0373"
    text = str(err.value)
    assert "closure may outlive the current function, but it borrows `ran`" in text
    assert "may outlive borrowed value `ran`" in text and "`ran` is borrowed here" in text
    assert "function requires argument type to outlive `'static`" in text
    assert "spawn(lambda: ran.append(v))" in text, "the fix: the same call, with `move`"
    assert ran == []


def test_spawn_without_move_that_borrows_nothing_runs():
    assert spawn(lambda: 41 + 1, move=False).join() == 42


def scoped_counter():
    counter = Mutex(0)
    with scope() as s:
        for _ in range(2):
            s.spawn(lambda: _bump(counter))
    return counter.into_inner()


def test_a_scoped_mutex_counter_has_one_outcome_in_every_schedule():
    exploration = explore(scoped_counter, mode="every")
    assert exploration.complete
    assert list(exploration.outcomes) == [2] and exploration.schedules == 2


def test_a_scoped_program_replays_step_for_step():
    result = replay(scoped_counter, [2, 1], strict=True)
    locks = [step.thread for step in result.trace if step.op == "lock"]
    assert locks == [2, 1] and result.outcome == 2
