"""`Mutex`: the guard, release on drop, `try_lock`, poisoning, `repr`, double locking."""

import inspect
import threading
import time

import pytest

from rustsync import (
    Arc,
    DeadlockError,
    GuardDropped,
    MovedWhileBorrowed,
    Mutex,
    MutexGuard,
    PoisonError,
    ThreadPanicked,
    WouldBlock,
    drop,
    spawn,
)

pytestmark = pytest.mark.timeout(30)


def is_free(m):
    """True when this thread can take the lock right now (it is released and not poisoned)."""
    try:
        guard = m.try_lock()
    except WouldBlock:
        return False
    drop(guard)
    return True


def poison(m):
    with pytest.raises(ZeroDivisionError):
        with m.lock() as guard:
            guard.value += 1
            raise ZeroDivisionError("an exception while holding the lock")


# --- the data is reached through a guard --------------------------------------------


def test_the_data_is_reachable_only_through_a_guard():
    m = Mutex(5)
    with pytest.raises(AttributeError):
        m.value  # noqa: B018 - the attribute must not exist
    with m.lock() as num:
        assert isinstance(num, MutexGuard)
        assert num.value == 5
        num.value = 6
    with m.lock() as num:
        assert num.value == 6


def test_with_block_releases_the_lock_on_normal_exit():
    m = Mutex(0)
    with m.lock() as guard:
        guard.value += 1
        assert not is_free(m)
    assert is_free(m)
    assert repr(m) == "Mutex { data: 1, poisoned: false, .. }"


def test_with_block_releases_the_lock_when_it_raises():
    m = Mutex(0)
    poison(m)
    assert repr(m) == "Mutex { data: 1, poisoned: true, .. }", "the lock must be released, not `<locked>`"
    m.clear_poison()
    assert is_free(m)


def test_drop_releases_a_guard_before_its_block_ends():
    m = Mutex(1)
    guard = m.lock()
    assert not is_free(m)
    drop(guard)
    assert is_free(m)
    with pytest.raises(UseAfterMove, match=r"borrow of moved value: `guard`"):  # drop moved it, as in Rust
        guard.value  # noqa: B018


def test_a_guard_used_after_its_block_raises_guard_dropped():
    m = Mutex(3, name="score")
    with m.lock() as guard:
        pass
    with pytest.raises(GuardDropped, match=r"dropped when its `with` block ended") as err:
        guard.value  # noqa: B018
    assert "score" in str(err.value)
    assert "lock the mutex again" in str(err.value)
    with pytest.raises(GuardDropped):
        guard.value = 4
    with pytest.raises(GuardDropped):
        with guard:
            pass
    assert repr(guard) == "MutexGuard { <dropped> }"
    with m.lock() as again:
        assert again.value == 3, "writing through a dropped guard must not change the data"


# --- try_lock ------------------------------------------------------------------------------


def test_try_lock_would_block_while_another_thread_holds_the_lock():
    counter = Arc(Mutex(0))
    held, release = threading.Event(), threading.Event()
    holder_counter = Arc.clone(counter)

    def holder():
        with holder_counter.lock() as guard:
            guard.value += 1
            held.set()
            release.wait(10)

    handle = spawn(holder)
    try:
        assert held.wait(10), "the holder thread never took the lock"
        with pytest.raises(WouldBlock, match="another thread holds"):
            counter.try_lock()
    finally:
        release.set()
        handle.join(timeout=10)
    with counter.try_lock() as guard:
        assert guard.value == 1


def test_try_lock_would_block_while_this_thread_holds_the_lock():
    m = Mutex(0)
    with m.lock():
        start = time.perf_counter()
        with pytest.raises(WouldBlock, match="this thread holds"):
            m.try_lock()
        assert time.perf_counter() - start < 1
    with m.try_lock() as guard:
        guard.value = 9
    assert repr(m) == "Mutex { data: 9, poisoned: false, .. }"


# --- into_inner, get_mut, poisoning ------------------------------------------------------------


def test_into_inner_returns_the_data():
    m = Mutex([1, 2])
    with m.lock() as guard:
        guard.value.append(3)
    assert m.into_inner() == [1, 2, 3]


def test_into_inner_refuses_while_a_guard_holds_the_lock():
    m = Mutex(1, name="cell")
    with m.lock():
        with pytest.raises(MovedWhileBorrowed, match="cannot move out of `m` because it is borrowed") as err:
            m.into_inner()
    assert err.value.code == "E0505"
    assert m.into_inner() == 1, "once the guard is gone, the mutex may move"


def test_get_mut_reads_and_writes_without_locking():
    m = Mutex(10)
    ref = m.get_mut()
    ref.value += 5
    assert ref.value == 15
    assert is_free(m)
    with m.lock() as guard:
        assert guard.value == 15
        with pytest.raises(RuntimeError, match="guard holds its lock"):
            m.get_mut()


def test_an_exception_while_holding_the_lock_poisons_the_mutex():
    m = Mutex(0)
    assert not m.is_poisoned()
    poison(m)
    assert m.is_poisoned()
    with pytest.raises(PoisonError, match="poisoned lock"):
        m.lock()
    with pytest.raises(PoisonError):
        m.try_lock()
    assert repr(m) == "Mutex { data: 1, poisoned: true, .. }", "an error thrown away drops its guard"


def test_poison_error_into_inner_gives_a_guard_that_works_and_releases():
    m = Mutex(0)
    poison(m)
    with pytest.raises(PoisonError) as err:
        m.lock()
    with err.value.into_inner() as guard:
        assert guard.value == 1, "the update made before the exception is still there"
        guard.value = 100
        assert repr(m) == 'Mutex { data: "<locked>", poisoned: true, .. }'
    assert repr(m) == "Mutex { data: 100, poisoned: true, .. }"
    m.clear_poison()
    assert not m.is_poisoned()
    with m.lock() as guard:
        assert guard.value == 100


def test_into_inner_of_a_poisoned_mutex_still_gives_the_data():
    m = Mutex("half")
    with pytest.raises(ZeroDivisionError):
        with m.lock() as guard:
            guard.value += "-done"
            raise ZeroDivisionError("an exception while holding the lock")
    with pytest.raises(PoisonError) as err:
        m.into_inner()
    assert err.value.into_inner() == "half-done"


# --- repr -----------------------------------------------------------------------------------------


def test_repr_mirrors_rusts_debug_output():
    m = Mutex(5)
    with m.lock() as num:
        num.value = 6
    assert repr(m) == "Mutex { data: 6, poisoned: false, .. }"


def test_repr_shows_locked_while_a_guard_holds_it():
    m = Mutex(6)
    with m.lock():
        assert repr(m) == 'Mutex { data: "<locked>", poisoned: false, .. }'
    assert repr(m) == "Mutex { data: 6, poisoned: false, .. }"


def test_repr_shows_poisoned_true_after_poisoning():
    m = Mutex(0)
    poison(m)
    assert repr(m) == "Mutex { data: 1, poisoned: true, .. }"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("hi", '"hi"'),
        ('say "hi"', r'"say \"hi\""'),
        (True, "true"),
        ([1, "a"], '[1, "a"]'),
        (None, "None"),
    ],
)
def test_repr_prints_values_as_rust_debug_does(value, shown):
    assert repr(Mutex(value)) == f"Mutex {{ data: {shown}, poisoned: false, .. }}"


# --- locking twice from one thread ------------------------------------------------------------


@pytest.mark.timeout(10)
def test_locking_twice_from_one_thread_raises_deadlock_error_at_once():
    m = Mutex(0, name="account")
    first_line = inspect.currentframe().f_lineno + 1
    with pytest.raises(DeadlockError) as err, m.lock():
        start = time.perf_counter()
        try:
            m.lock()
        finally:
            elapsed = time.perf_counter() - start
    assert elapsed < 1, f"the second lock() took {elapsed:.1f} s; it must fail at once"
    message = str(err.value)
    assert "wait for itself" in message
    assert "`account`" in message
    assert f"test_mutex.py, line {first_line}" in message, message
    assert "help:" in message


@pytest.mark.timeout(10)
def test_locking_twice_inside_a_spawned_thread_panics_instead_of_hanging():
    counter = Arc(Mutex(0))
    mine = Arc.clone(counter)

    def twice():
        with mine.lock():
            with mine.lock():
                pass

    handle = spawn(twice)
    with pytest.raises(ThreadPanicked) as err:
        handle.join(timeout=5)
    assert isinstance(err.value.__cause__, DeadlockError)
    assert counter.is_poisoned(), "the thread panicked while holding the first guard"


# --- a poisoned lock keeps its guard ----------------------------------------------------------------

from rustsync import Arc as _Arc  # noqa: E402
from rustsync import CannotBorrowMut, CannotMoveOut, UseAfterMove  # noqa: E402
from rustsync.errors import POISONED  # noqa: E402
from rustsync.sched import replay, run  # noqa: E402


def locked_elsewhere(m):
    """True when another thread cannot take the lock now."""
    other = _Arc.clone(m)

    def attempt():
        try:
            drop(other.try_lock())
        except WouldBlock:
            return True
        except PoisonError:
            return False
        return False

    return spawn(attempt).join(timeout=10)


def poisoned_arc():
    shared = _Arc(Mutex(0, name="shared"))
    clone = _Arc.clone(shared)

    def crash():
        with clone.lock() as guard:
            guard.value += 1
            raise RuntimeError("halfway")

    with pytest.raises(ThreadPanicked):
        spawn(crash).join(timeout=10)
    return shared


def test_the_poison_error_holds_the_guard_and_the_lock_until_it_is_dropped():
    shared = poisoned_arc()
    with pytest.raises(PoisonError) as caught:
        shared.lock()
    err = caught.value
    del caught
    assert str(err) == POISONED == "poisoned lock: another task failed inside", "Rust's Display, exactly"
    assert repr(err) == "PoisonError { .. }"
    assert any("`shared` is poisoned" in note for note in err.__notes__)
    assert locked_elsewhere(shared), "the lock is held while the error holds its guard"
    assert repr(shared) == 'Mutex { data: "<locked>", poisoned: true, .. }'
    guard = err.into_inner()
    assert guard is err.get_ref() and repr(guard) == "1"
    assert locked_elsewhere(shared), "into_inner() hands the same guard over: still locked, never released"
    with pytest.raises(RuntimeError, match="consumes the PoisonError"):
        err.into_inner()
    del err
    assert locked_elsewhere(shared), "the guard now belongs to `guard`, not to the error"
    drop(guard)
    assert repr(shared) == "Mutex { data: 1, poisoned: true, .. }"


def test_a_poison_error_thrown_away_releases_its_guard_and_drop_does_too():
    shared = poisoned_arc()
    try:
        shared.lock()
    except PoisonError:
        pass
    assert not locked_elsewhere(shared) and repr(shared).startswith("Mutex { data: 1")
    try:
        shared.lock()
    except PoisonError as err:
        drop(err)
        assert repr(shared) == "Mutex { data: 1, poisoned: true, .. }"


def test_a_thread_that_lets_the_poison_error_escape_releases_the_guard():
    shared = poisoned_arc()
    clone = _Arc.clone(shared)
    with pytest.raises(ThreadPanicked) as err:
        spawn(lambda: clone.lock()).join(timeout=10)  # the error escapes: a panic, which drops the guard
    assert isinstance(err.value.__cause__, PoisonError)
    assert repr(shared) == "Mutex { data: 1, poisoned: true, .. }"


def test_an_escaped_poison_error_in_a_notebook_cell_releases_its_guard():
    from rustsync.mutex import _release_escaped_poison

    m = Mutex(0)
    poison(m)
    try:
        m.lock()
    except PoisonError as caught:
        kept = caught  # as IPython keeps the last error in sys.last_value
    assert repr(m).startswith('Mutex { data: "<locked>"')

    class Result:
        error_in_exec = kept

    _release_escaped_poison(Result())
    assert repr(m) == "Mutex { data: 1, poisoned: true, .. }"


def test_try_lock_on_a_poisoned_mutex_also_gives_the_guard_in_the_error():
    m = Mutex(0)
    poison(m)
    with pytest.raises(PoisonError) as err:
        m.try_lock()
    assert repr(m).startswith('Mutex { data: "<locked>"')
    with err.value.into_inner() as guard:
        guard.value += 1
    assert repr(m) == "Mutex { data: 2, poisoned: true, .. }"


def test_under_the_scheduler_nobody_takes_the_lock_between_the_poison_error_and_into_inner():
    def program():
        m = _Arc(Mutex([], name="m"))
        crasher, other = _Arc.clone(m), _Arc.clone(m)

        def crash():
            with crasher.lock() as items:
                items.value.append("half")
                raise RuntimeError("halfway")

        def write():
            try:
                guard = other.lock()
            except PoisonError as err:
                guard = err.into_inner()
            with guard:
                guard.value.append("other")

        first = spawn(crash)
        try:
            first.join()
        except ThreadPanicked:
            pass
        second = spawn(write)
        try:
            guard = m.lock()
        except PoisonError as err:
            guard = err.into_inner()
            with guard:
                guard.value.append("main")
        second.join()
        try:
            guard = m.lock()
        except PoisonError as err:
            guard = err.into_inner()
        with guard:
            return tuple(guard.value)

    from rustsync.sched import explore

    exploration = explore(program)
    assert set(exploration.outcomes) == {("half", "main", "other"), ("half", "other", "main")}
    assert exploration.schedules == 2, "recovering is not a second lock step another thread could come before"
    for outcome in exploration.outcomes:
        ops = [e.op for e in replay(program, exploration.example(outcome)).trace if e.op in ("lock", "unlock")]
        assert ops == ["lock", "unlock"] * 4, f"a lock taken while another was held: {ops}"


# --- get_mut needs the mutex to itself -------------------------------------------------------------------


def test_get_mut_through_an_arc_is_e0596_whatever_the_count():
    counter = _Arc(Mutex(0))
    with pytest.raises(CannotBorrowMut) as err:
        counter.get_mut()  # through-arc
    message = str(err.value)
    assert message.startswith("error[E0596]: cannot borrow data in an `Arc` as mutable")
    assert ("= help: trait `DerefMut` is required to modify through a dereference, but it is not implemented for "
            "`Arc<Mutex<int>>`") in message
    label = err.value.diagnostic.labels[0]
    assert (label.text, label.span.text, label.primary) == ("cannot borrow as mutable", "counter", True)
    assert label.span.line == inspect.currentframe().f_lineno - 7


def test_get_mut_through_an_arc_is_refused_under_the_scheduler_too():
    def program():
        counter = _Arc(Mutex(0))
        mine = _Arc.clone(counter)

        def sneak():
            mine.get_mut().value += 1  # a way around the lock, if it worked

        spawn(sneak).join()

    outcome = run(program, seed=0).outcome
    assert "CannotBorrowMut" in str(outcome) and "E0596" in str(outcome)


def test_into_inner_through_an_arc_is_e0507():
    jar = _Arc(Mutex([1]))
    with pytest.raises(CannotMoveOut, match=r"error\[E0507\]: cannot move out of an `Arc`"):
        jar.into_inner()
    with jar.lock() as items:
        assert items.value == [1], "nothing moved"


def test_get_mut_on_a_poisoned_mutex_reports_it_and_still_gives_access():
    m = Mutex(1)
    poison(m)
    with pytest.raises(PoisonError, match="poisoned lock: another task failed inside") as err:
        m.get_mut()
    err.value.into_inner().value += 1
    assert repr(m) == "Mutex { data: 3, poisoned: true, .. }"


def test_a_get_mut_borrow_cannot_be_used_after_the_mutex_moved():
    m = Mutex(1)
    access = m.get_mut()
    spawn(lambda: m.is_poisoned()).join(timeout=10)
    with pytest.raises(UseAfterMove):
        access.value += 1


def test_a_guard_prints_the_value_it_leads_to_as_rusts_does():
    m = Mutex([1, "a"])
    with m.lock() as guard:
        assert repr(guard) == '[1, "a"]'
        assert repr(m) == 'Mutex { data: "<locked>", poisoned: false, .. }'


def test_a_guard_nobody_keeps_is_dropped_at_once_as_a_rust_temporary_is():
    m = Mutex(5)
    assert m.lock().value == 5  # the guard is a temporary: released at the end of the expression
    assert is_free(m)
    m.lock()
    assert is_free(m), "a guard thrown away releases its lock"
    kept = m.lock()
    assert not is_free(m)
    del kept
    assert is_free(m)


def test_a_thread_that_ends_holding_a_guard_releases_it_as_unwinding_would():
    m = Mutex(0)
    kept = []

    def leak():
        kept.append(m.lock())  # a guard that outlives its thread

    t = threading.Thread(target=leak)
    t.start()
    t.join(timeout=10)
    assert not t.is_alive()
    assert is_free(m), "the thread is gone: so is its lock"
    assert not kept[0]._live


def test_a_poison_error_kept_by_another_thread_does_not_keep_the_lock_once_its_thread_ends():
    m = Mutex(0)
    poison(m)
    box = []

    def student():
        box.append(m.lock())  # raises PoisonError; the caller below keeps the error

    def caller():
        try:
            student()
        except PoisonError as err:
            box.append(err)

    t = threading.Thread(target=caller)
    t.start()
    t.join(timeout=10)
    assert isinstance(box[0], PoisonError)
    assert repr(m) == "Mutex { data: 1, poisoned: true, .. }", "the guard died with its thread"


def test_peek_and_is_locked_read_the_mutex_without_locking_it():
    m = Mutex([1, 2], name="m")
    assert m.peek() == [1, 2] and not m.is_locked()
    with m.lock() as guard:
        guard.value.append(3)
        assert m.is_locked() and m.peek() == [1, 2, 3]  # no deadlock: nothing was locked
    assert not m.is_locked()
    assert is_free(m)


def test_deleting_the_guard_of_a_with_block_inside_it_releases_once_at_its_end():
    m = Mutex(0)
    with m.lock() as guard:
        guard.value += 1
        del guard  # the with statement still refers to the guard
        assert m.is_locked()
    assert not m.is_locked() and m.peek() == 1
    with m.lock() as again:  # released exactly once: the lock works as before
        again.value += 1
    assert repr(m) == "Mutex { data: 2, poisoned: false, .. }"


def scheduled(program):
    return run(program, seed=0)


def test_a_guard_nobody_keeps_is_dropped_at_once_under_the_scheduler_too():
    def program():
        m = Mutex(5, name="m")
        seen = m.lock().value  # a temporary: released at the end of the statement
        free_after_temporary = not m.is_locked()
        kept = m.lock()
        held_while_kept = m.is_locked()
        del kept
        return seen, free_after_temporary, held_while_kept, m.is_locked()

    result = scheduled(program)
    assert result.outcome == (5, True, True, False)
    assert [e.op for e in result.trace if e.step is not None] == ["lock", "lock"]
    assert [(e.op, e.step) for e in result.trace if e.op == "unlock"] == [("unlock", None)] * 2


def test_a_poison_error_thrown_away_releases_its_guard_under_the_scheduler():
    def program():
        m = _Arc(Mutex(0, name="m"))
        crasher = _Arc.clone(m)

        def crash():
            with crasher.lock() as guard:
                guard.value += 1
                raise ValueError("half-way")

        handle = spawn(crash)
        try:
            handle.join()
        except ThreadPanicked:
            pass
        try:
            m.lock()
        except PoisonError:
            pass  # thrown away: its guard is dropped, as Rust drops it
        m.clear_poison()
        with m.lock() as guard:
            return guard.value

    assert scheduled(program).outcome == 1


# --- E0505: a mutex cannot move while a guard borrows it ---------------------------------------------


def test_dropping_a_mutex_while_its_guard_lives_is_e0505_with_rustcs_labels():
    jar = Mutex(5)
    guard = jar.lock()
    with pytest.raises(MovedWhileBorrowed) as err:
        drop(jar)
    text = str(err.value)
    assert text.startswith("error[E0505]: cannot move out of `jar` because it is borrowed")
    for label in ("binding `jar` declared here", "borrow of `jar` occurs here", "move out of `jar` occurs here",
                  "borrow later used here"):
        assert label in text, label
    assert guard.value == 5, "the mutex did not move: the guard still reads it"
    drop(guard)
    drop(jar)  # now it may


def test_dropping_a_mutex_inside_its_guards_with_block_is_e0505():
    jar = Mutex(1)
    with jar.lock() as guard:
        with pytest.raises(MovedWhileBorrowed, match="cannot move out of `jar`"):
            drop(jar)
        guard.value += 1
    assert jar.into_inner() == 2


def drop_while_locked():
    jar = Mutex(0)
    guard = jar.lock()
    try:
        drop(jar)
    except MovedWhileBorrowed as err:
        return err.code
    finally:
        del guard
    return "dropped"


def test_dropping_a_locked_mutex_is_e0505_under_the_scheduler():
    assert run(drop_while_locked, seed=1).outcome == "E0505"
