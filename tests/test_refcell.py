"""RefCell: borrows checked at run time, Rust's panic texts, and no way into another thread."""

import inspect

import pytest

from rustsync import Arc, BorrowError, BorrowMutError, GuardDropped, NotSend, Rc, RefCell, drop, spawn


def test_borrow_mut_changes_the_value_and_borrow_reads_it():
    cell = RefCell(5)
    with cell.borrow_mut() as v:
        v.value += 1
    with cell.borrow() as v:
        assert v.value == 6
    assert cell.into_inner() == 6


def test_many_shared_borrows_may_live_at_once():
    cell = RefCell([1, 2])
    with cell.borrow() as a, cell.borrow() as b:
        assert a.value is b.value


def test_borrow_mut_while_borrowed_raises_already_borrowed():
    # rustc 1.95 panics with "RefCell already borrowed" here
    cell = RefCell(0, name="cell")
    with cell.borrow():
        with pytest.raises(BorrowMutError, match=r"^RefCell already borrowed\n`cell` is already borrowed"):
            cell.borrow_mut()
    with cell.borrow_mut() as v:  # the shared borrow ended with its block
        v.value = 1
    assert repr(cell) == "RefCell { value: 1 }"


def test_borrow_while_mutably_borrowed_raises_already_mutably_borrowed():
    cell = RefCell(0)
    with cell.borrow_mut():
        with pytest.raises(BorrowError, match=r"^RefCell already mutably borrowed\n"):
            cell.borrow()
        with pytest.raises(BorrowMutError, match="already borrowed by the `borrow_mut\\(\\)`"):
            cell.borrow_mut()


def test_error_names_the_line_of_the_live_guard():
    cell = RefCell(0)
    guard = cell.borrow()  # this line is named in the error
    line = inspect.currentframe().f_lineno - 1
    with pytest.raises(BorrowMutError, match=f"line {line}"):
        cell.borrow_mut()
    drop(guard)
    cell.borrow_mut()


def test_repr_hides_the_value_while_mutably_borrowed():
    cell = RefCell([1])
    with cell.borrow_mut():
        assert repr(cell) == "RefCell { value: <borrowed> }"
    assert repr(cell) == "RefCell { value: [1] }"


def test_shared_guard_refuses_assignment_with_a_hint():
    cell = RefCell(1)
    with cell.borrow() as v:
        with pytest.raises(AttributeError, match="borrow_mut"):
            v.value = 2
    assert cell.into_inner() == 1


def test_guard_used_after_its_block_is_an_error():
    cell = RefCell(1)
    with cell.borrow_mut() as v:
        pass
    with pytest.raises(GuardDropped, match="borrow is over"):
        v.value = 3


def test_exception_inside_the_block_ends_the_borrow():
    cell = RefCell(1)
    with pytest.raises(ZeroDivisionError):
        with cell.borrow_mut() as v:
            v.value = 1 / 0
    with cell.borrow_mut() as v:
        v.value = 2
    assert cell.into_inner() == 2


def test_rc_of_refcell_gives_shared_mutable_state_in_one_thread():
    shared = Rc(RefCell(0))
    other = Rc.clone(shared)
    with other.borrow_mut() as v:
        v.value += 10
    with shared.borrow() as v:
        assert v.value == 10
    assert Rc.strong_count(shared) == 2


@pytest.mark.parametrize("make, type_text", [
    (lambda: Arc(RefCell(0)), "`RefCell<int>` cannot be shared between threads safely"),
    (lambda: Rc(RefCell(0)), "`Rc<RefCell<int>>` cannot be sent between threads safely"),
])
def test_spawn_refuses_a_refcell_with_e0277(make, type_text):
    counter = make()

    def work():
        with counter.borrow_mut() as v:
            v.value += 1

    with pytest.raises(NotSend) as err:
        spawn(work)
    assert err.value.code == "E0277"
    assert type_text in str(err.value)
    with counter.borrow() as v:  # no thread ran
        assert v.value == 0


# --- Send apart from Sync: a RefCell may move into one thread, not be shared ------------------------

from rustsync import Mutex, scope  # noqa: E402
from rustsync.sched import explore  # noqa: E402


def test_a_refcell_moved_into_exactly_one_thread_is_accepted():
    cell = RefCell([1])

    def work():
        cell.borrow_mut().value.append(2)
        return cell.into_inner()

    assert spawn(work).join() == [1, 2]


def test_a_refcell_inside_a_mutex_may_be_shared_through_an_arc():
    shared = Arc(Mutex(RefCell(0)))  # Mutex<T> is Sync when T is Send, and a RefCell is Send
    mine = Arc.clone(shared)

    def work():
        with mine.lock() as inner:
            inner.value.borrow_mut().value = 5

    spawn(work).join()
    with shared.lock() as inner:
        assert inner.value.borrow().value == 5


def test_an_arc_refcell_is_refused_as_not_sync_with_rustcs_notes():
    cell = Arc(RefCell(0))
    with pytest.raises(NotSend) as err:
        spawn(lambda: cell.borrow().value)
    text = str(err.value)
    assert "`RefCell<int>` cannot be shared between threads safely" in text
    assert "= help: the trait `Sync` is not implemented for `RefCell<int>`" in text
    assert "= note: required for `Arc<RefCell<int>>` to implement `Send`" in text
    assert "within this `{closure" not in text, "rustc names no closure field for a missing Sync"


def test_a_scoped_thread_may_not_borrow_a_refcell():
    cell = RefCell(0)
    with pytest.raises(NotSend, match=r"`RefCell<int>` cannot be shared between threads safely") as err:
        with scope() as s:
            s.spawn(lambda: cell.borrow().value)
    assert "required for `&RefCell<int>` to implement `Send`" in str(err.value)


def test_an_rc_is_neither_send_nor_sync_even_in_a_scope():
    count = Rc(1)
    with pytest.raises(NotSend, match=r"`Rc<int>` cannot be shared between threads safely"):
        with scope() as s:
            s.spawn(lambda: Rc.strong_count(count))


def refcell_to_one_thread():
    cell = RefCell(0)

    def work():
        with cell.borrow_mut() as v:
            v.value += 1
        return cell.into_inner()

    return spawn(work).join()


def test_a_refcell_moved_into_a_thread_works_under_the_scheduler():
    assert dict(explore(refcell_to_one_thread, mode="every").outcomes) == {1: 1}


def test_a_borrow_used_after_drop_is_a_use_of_a_moved_value():
    from rustsync import UseAfterMove

    cell = RefCell([1])
    borrowed = cell.borrow()
    drop(borrowed)
    with pytest.raises(UseAfterMove, match=r"borrow of moved value: `borrowed`"):
        borrowed.value  # noqa: B018
    assert cell.borrow_mut().value == [1]  # the borrow ended at the drop
