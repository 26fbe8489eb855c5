"""`AtomicUsize` (rustsync/atomic.py): atomic operations, orderings as rustc checks them, one step each."""


import pytest

from rustsync import Arc, AtomicUsize, Err, InvalidOrdering, Ok, Ordering, UseAfterMove, spawn

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
    assert flag.compare_exchange(9, 1) == Ok(9), "success returns Ok(previous), equal to `current`"
    assert flag.load() == 1
    assert flag.compare_exchange(9, 2) == Err(1), "failure returns Err(the value seen) and stores nothing"
    assert flag.load() == 1


def test_an_atomic_wraps_around_as_a_64_bit_usize_does():
    hits = AtomicUsize(1)
    assert hits.fetch_sub(2) == 1
    assert hits.load() == 2**64 - 1, "Rust's fetch_sub wraps below zero, it does not panic"
    assert hits.fetch_add(1) == 2**64 - 1
    assert hits.load() == 0


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True, 2**64])
def test_an_atomic_holds_an_int_that_fits_a_usize(bad):
    with pytest.raises(ValueError, match=r"an int from 0 to 2\*\*64 - 1"):
        AtomicUsize(bad)


@pytest.mark.parametrize(("call", "message"), [
    (lambda a: a.load(Ordering.Release), "atomic loads cannot have `Release` or `AcqRel` ordering"),
    (lambda a: a.load(Ordering.AcqRel), "atomic loads cannot have `Release` or `AcqRel` ordering"),
    (lambda a: a.store(1, Ordering.Acquire), "atomic stores cannot have `Acquire` or `AcqRel` ordering"),
    (lambda a: a.compare_exchange(0, 1, Ordering.SeqCst, Ordering.Release),
     "`compare_exchange`'s failure ordering may not be `Release` or `AcqRel`"),
], ids=["load-release", "load-acqrel", "store-acquire", "cas-failure-release"])
def test_orderings_that_rustc_refuses_are_refused_with_its_message(call, message):
    hits = AtomicUsize(0)
    with pytest.raises(InvalidOrdering) as err:
        call(hits)
    assert str(err.value).startswith(f"error: {message}")
    assert "= note: `#[deny(invalid_atomic_ordering)]` on by default" in str(err.value)
    assert hits.load() == 0, "nothing happened"


def test_every_valid_ordering_is_accepted_and_behaves_as_seqcst():
    hits = AtomicUsize(0)
    for ordering in Ordering:
        hits.fetch_add(1, ordering)
        hits.swap(hits.load(Ordering.SeqCst), ordering)
    assert hits.load() == len(Ordering)
    with pytest.raises(TypeError, match="expected an `Ordering`"):
        hits.fetch_add(1, "SeqCst")


def test_an_atomic_operation_is_one_step_under_the_scheduler():
    from rustsync.sched import explore, replay

    def program():
        hits = Arc(AtomicUsize(0, name="hits"))
        handles = []
        for _ in range(2):
            mine = Arc.clone(hits)
            handles.append(spawn(lambda: [mine.fetch_add(1) for _ in range(2)]))
        for handle in handles:
            handle.join()
        return hits.load()

    result = explore(program)
    assert dict(result.outcomes) == {4: 6}, "C(4, 2) schedules, one result: no update is lost"
    steps = [e for e in replay(program, [1, 2, 1, 2]).trace if e.step is not None]
    assert [e.op for e in steps] == ["fetch_add"] * 4 + ["load"]


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
