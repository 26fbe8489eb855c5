"""`AtomicUsize`, `Arc` and `Rc`: atomic operations, counted owners, and which of them may cross threads."""

import threading

import pytest

from rustsync import Arc, AtomicUsize, Mutex, NotSend, Ordering, Rc, UseAfterMove, drop, spawn

pytestmark = pytest.mark.timeout(30)


# --- AtomicUsize ----------------------------------------------------------------------------------


def test_fetch_add_and_fetch_sub_return_the_value_before():
    hits = AtomicUsize(5)
    assert hits.fetch_add(3) == 5
    assert hits.fetch_sub(2, Ordering.SeqCst) == 8
    assert hits.load() == 6
    assert repr(hits) == "6"


def test_store_swap_and_compare_exchange():
    flag = AtomicUsize()
    flag.store(4, Ordering.Release)
    assert flag.load(Ordering.Acquire) == 4
    assert flag.swap(9) == 4
    assert flag.compare_exchange(9, 1) == 9, "success returns the value seen, equal to `current`"
    assert flag.load() == 1
    assert flag.compare_exchange(9, 2) == 1, "failure returns the value seen and stores nothing"
    assert flag.load() == 1


def test_an_atomic_refuses_to_go_below_zero_with_a_clear_error():
    hits = AtomicUsize(1)
    with pytest.raises(ValueError, match=r"would go below zero \(1 - 2\)"):
        hits.fetch_sub(2)
    assert hits.load() == 1, "a refused fetch_sub changes nothing"


@pytest.mark.parametrize("bad", [-1, 1.5, "3"])
def test_an_atomic_holds_a_non_negative_int(bad):
    with pytest.raises(ValueError, match="non-negative int"):
        AtomicUsize(bad)


def test_atomic_counter_shared_by_arc_counts_every_increment():
    counter = Arc(AtomicUsize(0))
    handles = []
    for _ in range(8):
        mine = Arc.clone(counter)
        handles.append(spawn(lambda: [mine.fetch_add(1) for _ in range(1000)] and None))
    for handle in handles:
        handle.join(timeout=10)
    assert counter.load() == 8000


def test_an_atomic_moved_into_a_thread_cannot_be_used_by_its_old_owner():
    hits = AtomicUsize(0)
    spawn(lambda: hits.fetch_add(1)).join(timeout=10)
    with pytest.raises(UseAfterMove, match=r"`hits` has type `AtomicUsize`"):
        hits.load()


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
