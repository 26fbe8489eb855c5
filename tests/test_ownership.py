"""Moves and `Send`: E0382 for a value used after it moved, E0277 for a value that is not `Send`."""

import inspect
import threading

import pytest

from rustsync import (
    Arc,
    AtomicUsize,
    BorrowError,
    CompileError,
    Mutex,
    NotSend,
    Rc,
    ThreadPanicked,
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
    go = Arc(threading.Event())
    runs = Arc(Mutex([]))

    def worker(gate, seen):
        def work():
            gate.wait(10)
            with seen.lock() as names:
                names.value.append(threading.current_thread().name)
            with counter.lock() as num:
                num.value += 1
        return work

    work = worker(Arc.clone(go), Arc.clone(runs))
    first = spawn(work, name="first")  # first-move
    alive = threading.active_count()
    try:
        with pytest.raises(UseAfterMove) as err:
            spawn(worker(Arc.clone(go), Arc.clone(runs)), name="second")  # second-move
        assert threading.active_count() == alive, "the second spawn must not start a thread"
    finally:
        go.set()
        first.join(timeout=10)
    with runs.lock() as names:
        assert names.value == ["first"]
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
    """One `except CompileError` catches both errors a spawn raises, each with rustc's code in its headline."""
    moved = Mutex(0)
    spawn(lambda: moved.lock() and None).join(timeout=10)
    not_send = Rc(Mutex(0))
    caught = []
    for attempt in (moved.lock, lambda: spawn(lambda: not_send.lock() and None)):
        with pytest.raises(CompileError) as err:
            attempt()
        caught.append(err.value)
    assert [type(e) for e in caught] == [UseAfterMove, NotSend]
    for error, code in zip(caught, ["E0382", "E0277"], strict=True):
        assert error.code == code
        assert str(error).startswith(f"error[{code}]: "), str(error).splitlines()[0]


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
    go = Arc(threading.Event())
    handles = []
    for _ in range(3):
        counter_clone = Arc.clone(counter)
        gate = Arc.clone(go)

        def work():
            gate.wait(10)
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
    assert "note: `Mutex.into_inner` takes ownership of the receiver `self`, which moves `m`" in message
    assert labels(err.value)["`m` moved due to this method call"] == line_of("consumed")


def test_into_inner_consumes_an_atomic():
    hits = AtomicUsize(3)
    assert hits.into_inner() == 3
    with pytest.raises(UseAfterMove, match=r"`into_inner` takes ownership"):
        hits.fetch_add(1)


# --- every captured value moves, unless it is Copy ----------------------------------------------------------

from dataclasses import dataclass  # noqa: E402

from rustsync import Ordering  # noqa: E402
from rustsync.ownership import is_copy, moves  # noqa: E402
from rustsync.sched import RacyCell, explore, run  # noqa: E402


@dataclass
class Point:
    x: int


@pytest.mark.parametrize("value", [None, True, 3, 2.5, 1j, "text", b"raw", (1, "a", (2.0, None)),
                                   frozenset({1, 2}), Ordering.SeqCst], ids=repr)
def test_copy_values_are_copied_into_every_closure(value):
    assert is_copy(value) and not moves(value)
    handles = [spawn(lambda: value) for _ in range(3)]
    assert [h.join(timeout=10) for h in handles] == [value] * 3
    assert spawn(lambda: value).join(timeout=10) == value, "the main thread still has it"


@pytest.mark.parametrize("value", [[1], {"a": 1}, {1}, bytearray(b"x"), Point(1), (1, [2]), threading.Event()],
                         ids=lambda v: type(v).__name__)
def test_every_other_value_moves_and_a_second_spawn_is_e0382(value):
    assert not is_copy(value) and moves(value)
    first = spawn(lambda: value)  # first
    with pytest.raises(UseAfterMove) as err:
        spawn(lambda: value)  # second
    first.join(timeout=10)
    assert err.value.diagnostic.message == "use of moved value: `value`"
    found = labels(err.value)
    assert found["value moved into closure here"] == line_of("first")
    assert found["value used here after move"] == line_of("second")
    assert found["use occurs due to use in closure"] == line_of("second")


def test_functions_classes_and_modules_are_items_not_captured_values():
    def helper():
        return 1

    assert not moves(helper) and not moves(Point) and not moves(threading)
    handles = [spawn(lambda: (helper(), Point(2).x, threading.active_count() > 0)) for _ in range(2)]
    assert [h.join(timeout=10) for h in handles] == [(1, 2, True)] * 2


def test_a_list_used_after_its_spawn_is_refused_before_the_thread_starts():
    log = [1, 2, 3]  # plain-made
    ran = []
    with pytest.raises(UseAfterMove) as err:
        spawn(lambda: ran.append(log))  # plain-moved
        log.append(4)  # plain-used-after
    assert ran == [], "no thread started"
    message = str(err.value)
    assert message.startswith("error[E0382]: borrow of moved value: `log`")
    assert "`log` has type `list[int]`, which does not implement the `Copy` trait" in message
    found = labels(err.value)
    assert found["value borrowed here after move"] == line_of("plain-used-after")
    assert found["value moved into closure here"] == found["variable moved due to use in closure"] == line_of(
        "plain-moved")
    help_row = [r for r in message.splitlines() if "~" in r and "value = " in r]
    assert help_row and help_row[0].endswith("value = log.copy()"), message


def test_a_rebinding_or_the_other_branch_after_the_spawn_is_not_a_use():
    log = [1]
    if len(log) == 1:
        handle = spawn(lambda: len(log))
    else:
        log.append(2)  # the other branch: never runs after the spawn
    log = ["a new list"]  # a new value: the old one is not used again
    log.append("fine")
    assert handle.join(timeout=10) == 1


def test_a_loop_that_binds_the_name_anew_moves_a_new_value_each_turn():
    shared = [1, 2]
    handles = []
    for chunk in [shared, shared]:  # the same list twice, as `[xs] * 2` would give
        handles.append(spawn(lambda: sum(chunk)))
    assert [h.join(timeout=10) for h in handles] == [3, 3]


def test_a_list_moved_in_a_loop_is_e0382_with_rustcs_loop_labels():
    log = [1, 2]
    handles = []
    with pytest.raises(UseAfterMove) as err:
        for _ in range(2):  # loop
            handles.append(spawn(lambda: print(log) or len(log)))  # spawn
    assert [h.join(timeout=10) for h in handles] == [2]
    found = labels(err.value)
    assert found["inside of this loop"] == line_of("loop")
    assert found["value moved into closure here, in previous iteration of loop"] == line_of("spawn")
    assert found["use occurs due to use in closure"] == line_of("spawn")
    assert [s.text for s in err.value.diagnostic.suggestions] == [
        "consider cloning the value before moving it into the closure"]


def test_a_value_returned_through_join_belongs_to_the_joiner_again():
    log = [1]

    def grow():
        log.append(2)
        return log

    log = spawn(grow).join(timeout=10)
    assert spawn(lambda: len(log)).join(timeout=10) == 2
    counter = Mutex(0)
    back = spawn(lambda: counter).join(timeout=10)
    with back.lock() as num:  # the Mutex came back with its ownership
        num.value += 1
    arc = Arc(0)
    clone = Arc.clone(arc)
    returned = spawn(lambda: clone).join(timeout=10)
    assert Arc.strong_count(arc) == 2, "a returned Arc is not dropped by the thread"
    assert returned.ptr_eq(arc)


def test_a_racy_cell_is_reached_by_every_thread_without_moving():
    def program():
        counter = RacyCell(0)
        handles = [spawn(lambda: counter.set(counter.get() + 1)) for _ in range(2)]
        for handle in handles:
            handle.join()
        return counter.peek()

    assert set(explore(program).outcomes) == {1, 2}


def test_the_rule_holds_under_the_scheduler_too():
    def program():
        log = []
        first = spawn(lambda: log.append(1))
        second = spawn(lambda: log.append(2))
        first.join()
        second.join()
        return len(log)

    result = run(program, seed=0)
    assert "UseAfterMove" in str(result.outcome) and "use of moved value: `log`" in str(result.outcome)


# --- a value a thread consumed, printed, or handed back under a new name ----------------------------------

from rustsync import RefCell  # noqa: E402


def test_a_value_its_thread_consumed_is_reported_as_moved_into_the_closure():
    log = RefCell([1])  # log-created

    def work():
        log.borrow_mut().value.append(2)  # log-captured
        return log.into_inner()

    handle = spawn(work)  # log-moved
    assert handle.join(timeout=10) == [1, 2]
    with pytest.raises(UseAfterMove) as err:
        log.borrow()  # log-borrowed
    found = labels(err.value)
    assert found == {
        "move occurs because `log` has type `RefCell<list[int]>`, which does not implement the `Copy` trait":
            line_of("log-created"),
        "value moved into closure here": line_of("log-moved"),
        "variable moved due to use in closure": line_of("log-captured"),
        "value borrowed here after move": line_of("log-borrowed"),
    }
    assert "moved due to this method call" not in str(err.value)
    assert "help: consider cloning the value before moving it into the closure" in str(err.value)
    assert "value = log.clone()" in str(err.value)


def test_a_spawn_joined_in_the_same_expression_underlines_the_closure_not_the_join():
    jar = Mutex(1)

    def work():
        return jar.into_inner()

    assert spawn(work).join(timeout=10) == 1  # joined-at-once
    with pytest.raises(UseAfterMove) as err:
        jar.lock()
    moved = [lab.span for lab in err.value.diagnostic.labels if lab.text == "value moved into closure here"]
    assert [(span.line, span.end_col - span.col) for span in moved] == [(line_of("joined-at-once"), len("work"))]


def test_inside_the_thread_that_consumed_it_a_later_use_still_names_the_method():
    jar = Mutex(5)

    def work():
        jar.into_inner()  # consumed-in-thread
        jar.lock()

    with pytest.raises(ThreadPanicked) as err:
        spawn(work).join(timeout=10)
    cause = err.value.__cause__
    assert isinstance(cause, UseAfterMove)
    assert labels(cause)["`jar` moved due to this method call"] == line_of("consumed-in-thread")


def test_a_value_dropped_by_its_thread_is_reported_as_moved_into_the_closure():
    hits = AtomicUsize(0)
    spawn(lambda: drop(hits)).join(timeout=10)
    with pytest.raises(UseAfterMove) as err:
        hits.load(Ordering.SeqCst)
    assert "value moved into closure here" in labels(err.value)
    assert "value moved here" not in labels(err.value)


def test_refcell_clone_copies_the_value_and_refuses_while_mutably_borrowed():
    cell = RefCell([1, [2]])
    twin = cell.clone()
    twin.borrow_mut().value[1].append(3)
    assert cell.borrow().value == [1, [2]] and twin.borrow().value == [1, [2, 3]]
    guard = cell.borrow_mut()
    with pytest.raises(BorrowError, match="already mutably borrowed"):
        cell.clone()
    drop(guard)
    assert RefCell(Mutex(0))._clone_expression("c") is None, "a RefCell<Mutex> is not Clone"


def _moved_into_a_thread(make):
    value = make()
    spawn(lambda: value and None).join(timeout=10)
    return value


MOVABLE = {
    "Mutex": lambda: Mutex([1]),
    "RefCell": lambda: RefCell([1]),
    "Arc": lambda: Arc(Mutex(0)),
    "AtomicUsize": lambda: AtomicUsize(3),
}
PRINTS = {
    "print": lambda v: print(v),  # printed-print
    "str": lambda v: str(v),  # printed-str
    "repr": lambda v: repr(v),  # printed-repr
    "f-string": lambda v: f"{v}",  # printed-f-string
    "f-string !r": lambda v: f"{v!r}",  # printed-f-string !r
}


@pytest.mark.parametrize("kind", MOVABLE)
@pytest.mark.parametrize("show", PRINTS)
def test_printing_a_value_moved_into_a_thread_is_e0382_borrow_of_moved_value(kind, show, capsys):
    value = _moved_into_a_thread(MOVABLE[kind])
    with pytest.raises(UseAfterMove) as err:
        PRINTS[show](value)
    assert str(err.value).startswith("error[E0382]: borrow of moved value: `value`")
    assert labels(err.value)["value borrowed here after move"] == line_of(f"printed-{show}")
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("make", [lambda: Rc(1), lambda: Arc(1), lambda: Mutex(0), lambda: RefCell(0)])
def test_printing_a_dropped_value_is_e0382_with_value_moved_here(make):
    value = make()
    drop(value)  # value-dropped
    with pytest.raises(UseAfterMove) as err:
        print(value)
    assert labels(err.value)["value moved here"] == line_of("value-dropped")


def test_a_value_not_moved_or_owned_by_this_thread_prints_as_rusts_debug():
    kept = Mutex(6)
    assert repr(kept) == "Mutex { data: 6, poisoned: false, .. }"
    cell = RefCell([1])
    assert spawn(lambda: repr(cell)).join(timeout=10) == "RefCell { value: [1] }", "its thread owns it"
    log = RefCell([1])
    log = spawn(lambda: log).join(timeout=10)
    assert str(log) == "RefCell { value: [1] }", "handed back to its name"


def test_library_and_package_code_may_still_show_a_moved_value():
    import pprint
    import reprlib

    from rustsync.debug_format import rust_debug

    moved = _moved_into_a_thread(lambda: Mutex(2))
    shown = reprlib.Repr()
    shown.maxother = 100
    assert shown.repr(moved) == pprint.pformat(moved) == "Mutex { data: 2, poisoned: false, .. }"
    assert rust_debug([moved]) == "[Mutex { data: 2, poisoned: false, .. }]"


def test_the_name_a_value_left_stays_moved_when_join_hands_it_to_a_new_name():
    log = RefCell([1])  # old-created

    def work():
        log.borrow_mut().value.append(2)
        return log

    handle = spawn(work)  # old-moved
    back = handle.join(timeout=10)
    assert back.borrow().value == [1, 2]
    with pytest.raises(UseAfterMove) as err:
        log.borrow()  # old-used
    found = labels(err.value)
    assert found["value moved into closure here"] == line_of("old-moved")
    assert found["value borrowed here after move"] == line_of("old-used")
    with pytest.raises(UseAfterMove):
        print(log)

    def length(cell):
        return len(cell.borrow().value)

    assert length(back) == 2, "the new owner may lend it to a function"
    with pytest.raises(UseAfterMove, match="use of moved value: `log`"):
        spawn(lambda: log.borrow())
    back.borrow_mut().value.append(3)
    assert spawn(lambda: back.into_inner()).join(timeout=10) == [1, 2, 3], "and move it on"


def test_a_value_handed_back_without_a_name_leaves_the_old_name_moved():
    counter = Mutex(0)
    spawn(lambda: counter).join(timeout=10).lock()
    with pytest.raises(UseAfterMove, match="moved value: `counter`"):
        counter.lock()


def test_printing_after_a_move_and_the_old_name_after_join_hold_under_the_scheduler():
    def printed():
        jar = Mutex(0)
        spawn(lambda: jar.lock() and None).join()
        return repr(jar)

    def old_name():
        log = RefCell([1])
        back = spawn(lambda: log).join()
        back.borrow_mut().value.append(2)
        log.borrow()

    def same_name():
        log = RefCell([1])
        log = spawn(lambda: log).join()
        return repr(log)

    for program, name in ((printed, "jar"), (old_name, "log")):
        outcome = str(run(program, seed=0).outcome)
        assert "UseAfterMove" in outcome and f"borrow of moved value: `{name}`" in outcome, outcome
    assert run(same_name, seed=0).outcome == "RefCell { value: [1] }"


# --- the ownership package: one idea per module, rustc's wording in one place, no import circle ----------

import ast as _ast  # noqa: E402
from pathlib import Path as _Path  # noqa: E402

_PACKAGE = _Path(__file__).resolve().parents[1] / "rustsync"


def _imports(path):
    """The rustsync modules `path` imports at its top level (relative imports resolved)."""
    package = "rustsync." + ".".join(path.relative_to(_PACKAGE).with_suffix("").parts)
    if path.name == "__init__.py":
        package = package.rsplit(".", 1)[0] + "._"
    found = set()
    for node in _ast.parse(path.read_text()).body:
        if isinstance(node, _ast.ImportFrom) and node.level:
            base = package.rsplit(".", node.level)[0]
            target = f"{base}.{node.module}" if node.module else base
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)  # `from . import messages`
        elif isinstance(node, _ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("rustsync"))
    return {m for m in found if _module_file(m)}


def _module_file(name):
    parts = name.split(".")[1:]
    file = _PACKAGE.joinpath(*parts).with_suffix(".py") if parts else None
    return file if file is not None and file.exists() else None


def test_the_core_modules_import_each_other_without_a_circle():
    core = {p for p in _PACKAGE.glob("*.py")} | set((_PACKAGE / "ownership").glob("*.py"))
    graph = {}
    for path in core:
        name = "rustsync." + ".".join(path.relative_to(_PACKAGE).with_suffix("").parts)
        if path.name == "__init__.py":
            continue
        graph[name] = {m for m in _imports(path) if not m.endswith("__init__")}

    def visit(node, trail):
        assert node not in trail, f"import circle: {' -> '.join([*trail, node])}"
        for nxt in graph.get(node, ()):
            visit(nxt, [*trail, node])

    for name in graph:
        visit(name, [])
    assert "rustsync.rc" not in graph["rustsync.ownership.moves"], "ownership no longer reaches back into rc"


def test_the_ownership_package_has_one_module_per_idea_and_one_entry_for_spawn():
    import rustsync.ownership as ownership
    import rustsync.thread as thread

    modules = {p.stem for p in (_PACKAGE / "ownership").glob("*.py")} - {"__init__"}
    assert modules == {"moves", "capture", "source", "messages", "checks"}
    thread_imports = {n.module for n in _ast.walk(_ast.parse((_PACKAGE / "thread.py").read_text()))
                      if isinstance(n, _ast.ImportFrom) and n.module and "ownership" in n.module}
    assert thread_imports == {"ownership"}, "spawn reaches ownership through its one entry"
    assert thread.check_spawn is ownership.check_spawn


RUSTC_WORDS = ["value moved into closure here", "between threads safely", "may outlive borrowed value",
               "borrow later used here",
               "cannot borrow as mutable", "required by a bound introduced by this call",
               "atomic loads cannot have", "which does not implement the `Copy` trait",
               "consider cloning the value before moving it into the closure"]


@pytest.mark.parametrize("words", RUSTC_WORDS)
def test_each_of_rustcs_labels_is_written_in_the_messages_module_only(words):
    holders = [str(p.relative_to(_PACKAGE)) for p in _PACKAGE.rglob("*.py") if words in p.read_text()]
    assert holders == ["ownership/messages.py"], f"{words!r} is written in {holders}"
