"""`Mutex`: the guard, release on drop, `try_lock`, poisoning, `repr`, double locking."""

import inspect
import threading
import time

import pytest

from rustsync import (
    Arc,
    DeadlockError,
    GuardDropped,
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
    with pytest.raises(GuardDropped):
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
        with pytest.raises(RuntimeError, match="cannot move out of `cell`"):
            m.into_inner()


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
    assert repr(m) == "Mutex { data: 1, poisoned: true, .. }", "a failed lock() must not keep the lock"


def test_poison_error_into_inner_gives_a_guard_that_works_and_releases():
    m = Mutex(0)
    poison(m)
    with pytest.raises(PoisonError) as err:
        m.lock()
    with err.value.into_inner() as guard:
        assert guard.value == 1, "the update made before the exception is still there"
        guard.value = 100
        assert repr(m) == "Mutex { data: <locked>, poisoned: true, .. }"
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
        assert repr(m) == "Mutex { data: <locked>, poisoned: false, .. }"
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
