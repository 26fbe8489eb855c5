"""`Arc` and `Rc` (rustsync/rc.py): counted owners, and which of them may cross threads."""

import threading

import pytest

from rustsync import Arc, Mutex, NotSend, Rc, UseAfterMove, drop, spawn

pytestmark = pytest.mark.timeout(30)


# --- Arc -------------------------------------------------------------------------------------------


def test_arc_derefs_to_the_value_inside():
    counter = Arc(Mutex(1))
    with counter.lock() as guard:
        guard.value += 1
    assert repr(counter) == "Mutex { data: 2, poisoned: false, .. }"


def test_arc_clone_and_the_method_form_are_the_same():
    a = Arc([1])
    b = Arc.clone(a)
    c = a.clone()
    assert Arc.strong_count(a) == a.strong_count() == 3
    assert b.ptr_eq(a) and c.ptr_eq(b)
    assert not Arc([1]).ptr_eq(a), "equal values in different Arcs are different allocations"


def test_deleting_a_handle_gives_its_count_back():
    a = Arc(0)
    b = Arc.clone(a)
    assert Arc.strong_count(a) == 2
    del b
    assert Arc.strong_count(a) == 1


def test_arc_of_an_rc_is_not_send():
    shared = Arc(Rc(1))
    with pytest.raises(NotSend, match=r"`Rc<int>` cannot be sent between threads safely"):
        spawn(lambda: shared)


@pytest.mark.parametrize("wrap", [lambda rc: [rc], lambda rc: (0, rc), lambda rc: {"key": rc}, lambda rc: Mutex(rc)],
                         ids=["list", "tuple", "dict", "mutex"])
def test_an_rc_inside_another_value_is_not_send(wrap):
    holder = wrap(Rc(1))
    with pytest.raises(NotSend, match=r"`Rc<int>` cannot be sent between threads safely"):
        spawn(lambda: holder)


# --- Rc ------------------------------------------------------------------------------------------


def test_rc_counts_its_owners_in_one_thread():
    a = Rc("text")
    b = Rc.clone(a)
    assert Rc.strong_count(a) == 2
    assert b.upper() == "TEXT", "Rc derefs to the value inside"
    drop(b)
    assert Rc.strong_count(a) == 1


def test_rc_is_refused_by_spawn_and_the_thread_never_runs():
    a = Rc(0)
    ran = threading.Event()

    def work():
        ran.set()
        return a

    with pytest.raises(NotSend) as err:
        spawn(work)
    assert not ran.wait(0.1)
    assert "`Rc` counts its owners without atomic operations; use `Arc`" in str(err.value)
    assert Rc.strong_count(a) == 1


# --- Arc's exclusive access: get_mut, try_unwrap, into_inner -------------------------------------------

from rustsync import CannotBorrowMut  # noqa: E402
from rustsync.sched import explore  # noqa: E402


def test_arc_get_mut_gives_the_value_only_while_the_count_is_one():
    first = Arc([1])
    Arc.get_mut(first).value.append(2)
    second = Arc.clone(first)
    assert Arc.get_mut(first) is None, "another handle exists: Rust's None"
    drop(second)
    access = Arc.get_mut(first)
    access.value = [7]
    assert repr(first) == "[7]"


def test_an_arc_get_mut_access_ends_when_a_clone_appears():
    first = Arc([1])
    access = Arc.get_mut(first)
    keep = Arc.clone(first)
    with pytest.raises(Exception, match=r"another handle to the value exists now"):
        access.value = [2]
    assert repr(keep) == "[1]"


def test_try_unwrap_is_ok_for_the_last_handle_and_gives_the_handle_back_otherwise():
    first = Arc(Mutex(5))
    second = Arc.clone(first)
    result = Arc.try_unwrap(first)
    assert result.is_err()
    back = result.unwrap_err()
    assert Arc.strong_count(back) == 2, "the count is unchanged: the handle came back"
    with pytest.raises(UseAfterMove, match="use of moved value: `first`|borrow of moved value: `first`"):
        first.lock()
    drop(second)
    mutex = Arc.try_unwrap(back).unwrap()
    assert mutex.into_inner() == 5


def test_into_inner_gives_the_value_to_the_last_handle_only():
    first = Arc([1, 2])
    second = Arc.clone(first)
    assert Arc.into_inner(first) is None
    assert Arc.strong_count(second) == 1, "into_inner gave up the first handle's count"
    assert Arc.into_inner(second) == [1, 2]


def test_through_a_handle_the_names_are_the_values_own_methods_as_rusts_autoderef():
    counter = Arc(Mutex(0))
    with pytest.raises(CannotBorrowMut):
        counter.get_mut()  # Mutex::get_mut through the Arc: E0596, not Arc::get_mut
    with pytest.raises(AttributeError, match=r"`Arc::try_unwrap` is an associated function.*Arc.try_unwrap\(handle\)"):
        counter.try_unwrap()


def into_inner_race():
    """Two threads each give up their handle with `Arc.into_inner`: Rust guarantees exactly one gets the value."""
    first = Arc([1])
    second = Arc.clone(first)
    a = spawn(lambda: Arc.into_inner(first))
    b = spawn(lambda: Arc.into_inner(second))
    return (a.join(), b.join())


def test_exactly_one_thread_gets_the_value_from_into_inner_in_every_schedule():
    exploration = explore(into_inner_race, mode="every")
    assert exploration.complete and exploration.schedules >= 2
    assert set(exploration.outcomes) == {((1,), None), (None, (1,))}  # a list outcome is counted as a tuple


def try_unwrap_race():
    """Two threads try to unwrap their handles at once: either both find the count 2, or one finds 1 after the other."""
    first = Arc(0)
    second = Arc.clone(first)

    def attempt(handle):
        return "ok" if Arc.try_unwrap(handle).is_ok() else "err"

    a = spawn(lambda: attempt(first))
    b = spawn(lambda: attempt(second))
    return (a.join(), b.join())


def test_try_unwrap_never_hands_the_value_to_two_threads():
    exploration = explore(try_unwrap_race, mode="every")
    assert exploration.complete
    assert ("ok", "ok") not in exploration.outcomes
    # the thread that found 2 drops the handle its Err gave back, so the other may find 1
    assert {("ok", "err"), ("err", "ok")} <= set(exploration.outcomes)
