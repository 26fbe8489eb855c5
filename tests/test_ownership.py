"""Moves and `Send`: E0382 for a value used after it moved, E0277 for a value that is not `Send`."""

import inspect
import threading

import pytest

from rustsync import (
    Arc,
    AtomicUsize,
    CompileError,
    Mutex,
    NotSend,
    Rc,
    UseAfterMove,
    drop,
    spawn,
)

pytestmark = pytest.mark.timeout(30)


def line_of(marker):
    """The line of this file that ends with the comment `# <marker>`."""
    lines = inspect.getsource(inspect.getmodule(line_of)).splitlines()
    found = [i + 1 for i, text in enumerate(lines) if text.rstrip().endswith(f"# {marker}")]
    assert len(found) == 1, f"marker {marker!r} found {len(found)} times"
    return found[0]


def labels(err):
    """{label text: line} of a compile error's rustc-style diagnostic."""
    return {lab.text: lab.span.line for lab in err.diagnostic.labels}


# --- E0382: moves into threads ---------------------------------------------------------------


def test_spawning_the_same_mutex_twice_raises_e0382_and_starts_no_second_thread():
    counter = Mutex(0)
    go = threading.Event()
    runs = []

    def work():
        go.wait(10)
        runs.append(threading.current_thread().name)
        with counter.lock() as num:
            num.value += 1

    first = spawn(work, name="first")  # first-move
    alive = threading.active_count()
    try:
        with pytest.raises(UseAfterMove) as err:
            spawn(work, name="second")  # second-move
        assert threading.active_count() == alive, "the second spawn must not start a thread"
    finally:
        go.set()
        first.join(timeout=10)
    assert runs == ["first"]
    assert err.value.code == "E0382"
    assert str(err.value).startswith("error[E0382]: use of moved value: `counter`")
    found = labels(err.value)
    assert found["value moved into closure here"] == line_of("first-move")
    assert found["value used here after move"] == line_of("second-move")


def test_spawning_in_a_loop_blames_the_previous_iteration():
    counter = Mutex(0)
    handles = []
    with pytest.raises(UseAfterMove) as err:
        for _ in range(3):  # the-loop
            handles.append(spawn(lambda: counter.lock()))  # the-spawn
    for handle in handles:
        handle.join(timeout=10)
    assert len(handles) == 1
    found = labels(err.value)
    assert found["inside of this loop"] == line_of("the-loop")
    assert found["value moved into closure here, in previous iteration of loop"] == line_of("the-spawn")
    assert "value borrowed here after move" not in found, "no later use in this function: blame the move itself"


def test_using_a_moved_value_from_the_main_thread_raises_e0382_borrow_of_moved_value():
    counter = Mutex(0)  # created

    def work():
        with counter.lock() as num:
            num.value += 1

    spawn(work).join(timeout=10)  # moved
    with pytest.raises(UseAfterMove) as err:
        counter.lock()  # used-after
    message = str(err.value)
    assert message.startswith("error[E0382]: borrow of moved value: `counter`")
    assert "`counter` has type `Mutex<int>`, which does not implement the `Copy` trait" in message
    assert "help: to share one value between threads, wrap it in an `Arc`" in message
    found = labels(err.value)
    assert found["value moved into closure here"] == line_of("moved")
    assert found["value borrowed here after move"] == line_of("used-after")
    assert any(text.startswith("move occurs because") and line == line_of("created") for text, line in found.items())


@pytest.mark.parametrize("use", ["lock", "try_lock", "get_mut", "into_inner", "is_poisoned", "clear_poison"])
def test_every_method_of_a_moved_mutex_raises_e0382(use):
    counter = Mutex(0)
    spawn(lambda: counter.lock() and None).join(timeout=10)
    with pytest.raises(UseAfterMove, match=r"moved value: `counter`"):
        getattr(counter, use)()


def test_the_thread_that_received_a_mutex_may_use_it():
    counter = Mutex(1)

    def work():
        with counter.lock() as num:
            num.value += 1
        return counter.into_inner()

    assert spawn(work).join(timeout=10) == 2


# --- E0277: values that are not Send ----------------------------------------------------------------


def test_an_rc_in_a_closure_raises_e0277_before_any_thread_starts():
    shared = Rc(Mutex(0))
    side_effects = []

    def work():
        side_effects.append("ran")
        with shared.lock() as num:
            num.value += 1

    alive = threading.active_count()
    with pytest.raises(NotSend) as err:
        spawn(work)
    assert threading.active_count() == alive
    assert side_effects == [], "the closure must not run"
    assert err.value.code == "E0277"
    message = str(err.value)
    assert message.startswith("error[E0277]: `Rc<Mutex<int>>` cannot be sent between threads safely")
    assert "the trait `Send` is not implemented for `Rc<Mutex<int>>`" in message
    assert "use `Arc` to share `shared` between threads" in message
    assert Rc.strong_count(shared) == 1, "a refused spawn must not change the count"
    with shared.lock() as num:
        assert num.value == 0


def test_a_mutex_guard_captured_by_a_closure_raises_e0277():
    m = Mutex(3)
    side_effects = []
    with m.lock() as guard:
        def work():
            side_effects.append("ran")
            return guard.value

        with pytest.raises(NotSend, match=r"`MutexGuard<'_, int>` cannot be sent between threads safely") as err:
            spawn(work)
    assert side_effects == []
    assert "a guard must be released by the thread that locked" in str(err.value)


def test_compile_errors_share_a_base_class_with_the_rustc_code():
    assert issubclass(UseAfterMove, CompileError) and UseAfterMove.code == "E0382"
    assert issubclass(NotSend, CompileError) and NotSend.code == "E0277"


# --- Arc: one owner per thread ------------------------------------------------------------------------


def test_arc_clone_gives_each_thread_its_own_owner():
    counter = Arc(Mutex(0))
    handles = []
    owners = []
    for _ in range(4):
        counter_clone = Arc.clone(counter)
        owners.append(counter_clone)

        def work():
            with counter_clone.lock() as num:
                num.value += 1
            return id(counter_clone)

        handles.append(spawn(work))
    seen = [h.join(timeout=10) for h in handles]
    assert seen == [id(o) for o in owners]
    assert len(set(seen)) == 4, "each thread owns a handle of its own"
    assert all(o.ptr_eq(counter) for o in owners), "all handles own the same mutex"
    with counter.lock() as num:
        assert num.value == 4


def test_spawning_the_same_arc_clone_twice_raises_e0382():
    counter = Arc(Mutex(0))
    counter_clone = Arc.clone(counter)
    spawn(lambda: counter_clone.lock() and None).join(timeout=10)
    with pytest.raises(UseAfterMove, match=r"`counter_clone` has type `Arc<Mutex<int>>`"):
        spawn(lambda: counter_clone.lock() and None)


def test_strong_count_goes_up_with_clones_and_down_when_threads_finish():
    counter = Arc(Mutex(0))
    assert Arc.strong_count(counter) == 1
    go = threading.Event()
    handles = []
    for _ in range(3):
        counter_clone = Arc.clone(counter)

        def work():
            go.wait(10)
            with counter_clone.lock() as num:
                num.value += 1

        handles.append(spawn(work))
    assert Arc.strong_count(counter) == 4
    go.set()
    for handle in handles:
        handle.join(timeout=10)
    assert Arc.strong_count(counter) == 1
    assert counter.strong_count() == 1


def test_strong_count_goes_down_on_drop_and_the_dropped_handle_is_moved():
    counter = Arc(Mutex(0))
    extra = counter.clone()
    assert Arc.strong_count(counter) == 2
    drop(extra)  # dropped
    assert Arc.strong_count(counter) == 1
    with pytest.raises(UseAfterMove) as err:
        extra.lock()
    assert labels(err.value)["value moved here"] == line_of("dropped")
    with pytest.raises(UseAfterMove):
        drop(extra)
    assert Arc.strong_count(counter) == 1, "a refused second drop must not change the count"


# --- consuming methods ----------------------------------------------------------------------------------


def test_into_inner_consumes_the_mutex_and_a_later_use_names_the_method():
    m = Mutex(7)
    assert m.into_inner() == 7  # consumed
    with pytest.raises(UseAfterMove) as err:
        m.lock()
    message = str(err.value)
    assert message.startswith("error[E0382]: borrow of moved value: `m`")
    assert "`m` moved due to this method call" in message
    assert "`into_inner` takes ownership" in message
    assert labels(err.value)["`m` moved due to this method call"] == line_of("consumed")


def test_into_inner_consumes_an_atomic():
    hits = AtomicUsize(3)
    assert hits.into_inner() == 3
    with pytest.raises(UseAfterMove, match=r"`into_inner` takes ownership"):
        hits.fetch_add(1)
