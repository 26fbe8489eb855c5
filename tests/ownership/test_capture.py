"""`rustsync.ownership.capture`: what a closure captures and moves, bound as of the spawn, and `Send`/`Sync`.

Which names a function takes with it (closure cells, the globals it or a function
inside it reads, a bound method's object, a partial's arguments), which of those move,
`bind_at_spawn` keeping the values of the moment of the spawn, and the module's table of
`Send` and `Sync` for the course's types, with rustc's wording for the Arc case.
"""

import functools
import re
from pathlib import Path

import pytest

from rustsync import Arc, AtomicUsize, Mutex, Rc, RefCell
from rustsync.ownership import Unsafe, bind_at_spawn, captures, moves, not_send, not_sync, shared_by_arc

PROGRAMS = Path(__file__).resolve().parents[1] / "rustc" / "programs"


def module(source, **globals_):
    """The namespace left by running `source` as a module with the given globals."""
    namespace = dict(globals_)
    exec(compile(source, "<student>", "exec"), namespace)
    return namespace


def test_a_closure_captures_its_cells_then_the_globals_it_reads():
    space = module(
        "def make(limit):\n"
        "    def work():\n"
        "        return sorted(log)[:limit] + [step]\n"
        "    return work\n",
        log=[3, 1], step=2, unused=[9])
    work = space["make"](1)
    assert captures(work) == [("limit", 1), ("log", [3, 1]), ("step", 2)]


def test_a_global_read_by_a_function_or_comprehension_inside_is_captured():
    space = module(
        "def outer():\n"
        "    def inner():\n"
        "        return counter\n"
        "    return [x for x in items], inner\n",
        counter="c", items=[1])
    assert captures(space["outer"]) == [("items", [1]), ("counter", "c")]


def test_builtins_and_names_not_bound_yet_are_not_captured():
    space = module(
        "def work():\n"
        "    return len(later) + len(missing)\n"
        "def make():\n"
        "    def inner():\n"
        "        return late\n"
        "    return inner\n"
        "    late = 1\n",
        later=[1])
    assert captures(space["work"]) == [("later", [1])]
    assert captures(space["make"]()) == [], "a closure cell that was never filled"


def test_a_bound_method_takes_its_object_and_a_partial_its_arguments():
    class Worker:
        def run(self):
            return self

    worker = Worker()
    assert captures(worker.run) == [("self", worker)]
    log = [1]
    space = module("def add(items, item, *, times):\n    return items * times + [item] + extra\n", extra=[0])
    job = functools.partial(space["add"], log, 2, times=3)
    assert captures(job) == [("add's argument", log), ("add's argument", 2), ("add's argument", 3),
                             ("extra", [0])]


def test_a_function_run_elsewhere_says_what_it_captures():
    class Remote:
        _rustsync_remote_function = True

        def _rustsync_captures(self):
            return iter([("counter", 0)])

    assert captures(Remote()) == [("counter", 0)]
    assert captures(len) == [], "a builtin captures nothing"


def test_of_the_captured_names_those_that_are_not_copy_or_items_move():
    space = module(
        "import threading\n"
        "def helper():\n"
        "    return 1\n"
        "def work():\n"
        "    return helper(), threading, count, name, pair, log, table, lock, mutex\n",
        count=3, name="w", pair=(1, "a"), log=[1], table={"a": 1}, mutex=Mutex(0))
    space["lock"] = space["threading"].Lock()
    captured = captures(space["work"])
    assert [name for name, _ in captured] == ["helper", "threading", "count", "name", "pair", "log", "table",
                                              "lock", "mutex"]
    assert [name for name, value in captured if moves(value)] == ["log", "table", "lock"], (
        "a Mutex moves too, but keeps its own record of the move")


def test_bind_at_spawn_keeps_the_values_of_the_moment_of_the_spawn():
    late, bound = [], []
    for i in range(3):
        late.append(lambda: i)
        bound.append(bind_at_spawn(late[-1]))
    assert [f() for f in late] == [2, 2, 2]
    assert [f() for f in bound] == [0, 1, 2]
    space = module("def show():\n    return setting\n", setting="old")
    show = bind_at_spawn(space["show"])
    space["setting"] = "new"
    assert show() == "old" and space["show"]() == "new", "the globals it reads, as of the spawn"


def test_bind_at_spawn_keeps_the_functions_signature_and_leaves_other_callables_alone():
    def work(a, b=2, *, c=3):
        return a + b + c

    bound = bind_at_spawn(work)
    assert bound is not work and bound(1) == 6 and bound(1, c=0) == 3
    assert bound.__qualname__ == work.__qualname__ and bound.__name__ == "work"
    job = functools.partial(work, 1)
    assert bind_at_spawn(job) is job and bind_at_spawn(len) is len


def guard_of(value):
    return Mutex(value).lock()


@pytest.mark.parametrize(("make", "send", "sync"), [
    (lambda: Mutex(0), None, None),
    (lambda: Mutex(RefCell(0)), None, None),  # Sync when T is Send
    (lambda: Mutex(Rc(0)), Unsafe("Rc<int>", "Send"), Unsafe("Rc<int>", "Send")),
    (lambda: Rc(0), Unsafe("Rc<int>", "Send"), Unsafe("Rc<int>", "Sync")),
    (lambda: RefCell(0), None, Unsafe("RefCell<int>", "Sync")),
    (lambda: RefCell(Rc(0)), Unsafe("Rc<int>", "Send"), Unsafe("RefCell<Rc<int>>", "Sync")),
    (lambda: guard_of(0), Unsafe("MutexGuard<'_, int>", "Send"), None),
    (lambda: AtomicUsize(0), None, None),
    (lambda: Arc(Mutex(0)), None, None),
    (lambda: Arc(RefCell(0)), Unsafe("RefCell<int>", "Sync", "Arc<RefCell<int>>"),
     Unsafe("RefCell<int>", "Sync", "Arc<RefCell<int>>")),
    (lambda: [1, "a", (2,)], None, None),
    (lambda: {"k": [RefCell(0)]}, None, Unsafe("RefCell<int>", "Sync")),
    (lambda: (1, [Rc(0)]), Unsafe("Rc<int>", "Send"), Unsafe("Rc<int>", "Sync")),
], ids=["Mutex<int>", "Mutex<RefCell>", "Mutex<Rc>", "Rc", "RefCell", "RefCell<Rc>", "MutexGuard", "AtomicUsize",
        "Arc<Mutex>", "Arc<RefCell>", "plain", "dict of RefCell", "tuple with an Rc"])
def test_send_and_sync_follow_the_modules_table(make, send, sync):
    value = make()
    assert not_send(value) == send
    assert not_sync(value) == sync


def test_an_arc_needs_its_value_send_and_sync_and_names_itself_when_sync_is_missing():
    assert shared_by_arc("Arc<Mutex<int>>", Mutex(0)) is None
    assert shared_by_arc("Arc<RefCell<int>>", RefCell(0)) == Unsafe("RefCell<int>", "Sync", "Arc<RefCell<int>>")
    assert shared_by_arc("Arc<Rc<int>>", Rc(0)) == Unsafe("Rc<int>", "Send"), "not Send: the Arc is not the reason"


def test_the_arc_case_reads_as_rustc_says_it():
    said = (PROGRAMS / "e0277_arc_refcell_shared.txt").read_text()
    bad = re.search(r"^error\[E0277\]: `(.+)` cannot be shared between threads safely", said, re.M)[1]
    via = re.search(r"= note: required for `(.+)` to implement `Send`", said)[1]
    found = not_send(Arc(RefCell(0)))
    assert (found.bad, found.trait, found.via) == (bad.replace("i32", "int"), "Sync", via.replace("i32", "int"))


def test_a_part_that_is_not_send_is_found_at_any_depth_and_in_a_dicts_keys():
    assert not_send([[[[[[Rc(1)]]]]]]).bad == "Rc<int>"
    assert not_send({Rc(2): "a key"}).bad == "Rc<int>"
    assert not_send([[[[[[1]]]]]]) is None


def test_the_search_for_a_part_that_is_not_send_has_bounds():
    from rustsync.ownership import capture

    deep = Rc(1)
    for _ in range(capture.MAX_DEPTH + 1):
        deep = [deep]
    assert capture.not_send(deep) is None  # past MAX_DEPTH, not seen
    late = [0] * capture.MAX_ITEMS + [Rc(1)]
    assert capture.not_send(late) is None  # past MAX_ITEMS in all, not seen
    cycle = []
    cycle.append(cycle)
    assert capture.not_send(cycle) is None  # a list that holds itself ends the search too
