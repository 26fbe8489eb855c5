"""`rustsync.ownership.moves`: what moves, what is copied or never captured, how a value is cloned, and `drop`.

The E0382 a second `drop` and a use after `into_inner()` raise are held against what
rustc says for the same Rust program (its labels, by line; for `drop`, by token too);
the texts expected here are rustc's, and where rustc is installed, a test compiles the
program and checks them.
"""

import enum
import functools
import io
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from rustsync import AtomicUsize, MovedWhileBorrowed, Mutex, RefCell, UseAfterMove, WouldBlock, drop, lab
from rustsync.ownership import is_copy, is_item, moves
from rustsync.ownership.moves import checked_closure, clone_expression
from rustsync.sched import RacyCell

HERE = Path(__file__)

RUST = """\
use std::sync::Mutex;

fn main() {
    let m = Mutex::new(0); // made
    drop(m); // moved
    drop(m); // used
    let j = Mutex::new(5); // made
    let v = j.into_inner().unwrap(); // consumed
    let _g = j.lock(); // used
    println!("{v}");
}
"""
NOT_COPY = "move occurs because `{}` has type `Mutex<int>`, which does not implement the `Copy` trait"
# what rustc says, each label: (the marker of its line, the token it underlines)
DROPPED_TWICE = ("use of moved value: `m`", {
    NOT_COPY.format("m"): ("made", "m"),
    "value moved here": ("moved", "m"),
    "value used here after move": ("used", "m"),
})
USED_AFTER_INTO_INNER = ("borrow of moved value: `j`", {
    NOT_COPY.format("j"): ("made", "j"),
    "`j` moved due to this method call": ("consumed", "into_inner()"),
    "value borrowed here after move": ("used", "j"),
})


def rustc_errors(text, source):
    """{headline: {label text: (marker of its line, token)}} read from rustc's output for `source`."""
    markers = {n: line.rsplit("// ", 1)[1] for n, line in enumerate(source.splitlines(), 1) if "// " in line}
    found, labels, code = {}, None, ""
    for row in text.splitlines():
        if head := re.match(r"error\[E\d{4}\]: (.*)", row):
            labels = found[head[1]] = {}
        elif labels is not None and (numbered := re.match(r"\s*(\d+) \| (.*)", row)):
            line, code = int(numbered[1]), numbered[2]
        elif labels is not None and (mark := re.match(r"\s*\| ( *)([-^]+) (.+)", row)):
            start, width = len(mark[1]), len(mark[2])
            text_ = mark[3].replace("std::sync::", "").replace("i32", "int")
            labels[text_] = (markers[line], code[start:start + width])
    return found


def python_labels(err):
    """{label text: (marker of its line in this file, token)} of a diagnostic raised by the code of this file."""
    lines = HERE.read_text().splitlines()
    return {lab.text: (lines[lab.span.line - 1].rsplit("# ", 1)[1], lab.span.text)
            for lab in err.diagnostic.labels}


@pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc is not installed: the texts above stand")
@pytest.mark.timeout(120)
def test_rustc_says_what_the_expected_labels_say(tmp_path):
    (tmp_path / "moves.rs").write_text(RUST)
    done = subprocess.run(["rustc", "--edition", "2024", "--color", "never", "moves.rs"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=100)
    assert done.returncode != 0
    said = rustc_errors(done.stderr, RUST)
    assert said == dict([DROPPED_TWICE, USED_AFTER_INTO_INNER]), done.stderr


def test_dropping_a_value_twice_is_e0382_with_rustcs_labels_on_rustcs_tokens():
    m = Mutex(0)  # made
    drop(m)  # moved
    with pytest.raises(UseAfterMove) as err:
        drop(m)  # used
    headline, labels = DROPPED_TWICE
    assert err.value.diagnostic.message == headline
    assert python_labels(err.value) == labels


def test_a_use_after_into_inner_is_e0382_with_rustcs_labels_on_rustcs_lines():
    j = Mutex(5)  # made
    assert j.into_inner() == 5  # consumed
    with pytest.raises(UseAfterMove) as err:
        j.lock()  # used
    headline, labels = USED_AFTER_INTO_INNER
    assert err.value.diagnostic.message == headline
    assert {text: line for text, (line, _token) in python_labels(err.value).items()} == {
        text: line for text, (line, _token) in labels.items()}


class Colour(enum.Enum):
    RED = 1


@pytest.mark.parametrize("value", [..., Colour.RED, frozenset({(1, "a")}), ((1, (b"x", None)), 2.5), ()],
                         ids=repr)
def test_enum_members_ellipsis_and_nested_tuples_of_copy_values_are_copy(value):
    assert is_copy(value) and not moves(value)


@pytest.mark.parametrize("value", [(1, {2}), (1, (2, [3])), frozenset({(1, RefCell(0))})], ids=repr)
def test_a_tuple_holding_a_value_that_moves_is_not_copy(value):
    assert not is_copy(value)


class Handle:
    """A function that lives in another process: the class says it is an item."""

    @staticmethod
    def _rustsync_item(value):
        return True


@pytest.mark.parametrize("value", [len, print, [].append, Mutex.lock, sys, functools.partial(max, 1),
                                   staticmethod(len), sys.stderr, io.StringIO(), Handle()],
                         ids=["builtin", "print", "bound builtin", "function", "module", "partial", "staticmethod",
                              "stderr", "stream", "remote function"])
def test_functions_modules_and_streams_are_items_never_moved(value):
    assert is_item(value) and not moves(value)


def test_the_course_types_and_racy_cells_are_not_kept_as_plain_moves():
    assert not moves(Mutex(0)) and not moves(AtomicUsize(0)), "they keep their own record of the move"
    assert not moves(RacyCell(0)), "the unprotected cell is reached by every thread"
    assert moves(object()) and moves(x for x in ()) and moves(threading.Lock())


@pytest.mark.parametrize(("value", "expression"), [
    ([1, "a"], "c.copy()"),
    ({"a": 1}, "c.copy()"),
    ({1, 2}, "c.copy()"),
    ([[1]], "copy.deepcopy(c)"),
    (object(), "copy.deepcopy(c)"),
    (RefCell([1]), "c.clone()"),
    (RefCell(Mutex(0)), None),
    (Mutex(0), None),
    (AtomicUsize(0), None),
    (threading.Lock(), None),
    ((x for x in ()), None),
], ids=lambda v: v if isinstance(v, str) or v is None else type(v).__name__)
def test_rustcs_consider_cloning_help_names_a_python_clone_or_none(value, expression):
    assert clone_expression("c", value) == expression


def test_drop_of_a_guard_releases_its_lock():
    m = Mutex(1)
    guard = m.lock()
    with pytest.raises(WouldBlock):
        m.try_lock()
    drop(guard)
    with m.try_lock() as again:
        assert again.value == 1


def test_drop_of_a_mutex_its_guard_borrows_is_e0505_and_moves_nothing():
    jar = Mutex(5)
    guard = jar.lock()
    with pytest.raises(MovedWhileBorrowed) as err:
        drop(jar)
    assert err.value.diagnostic.message == "cannot move out of `jar` because it is borrowed"
    drop(guard)
    with jar.lock() as num:
        assert num.value == 5, "the refused drop left the mutex where it was"


def test_closures_written_inside_the_package_are_not_held_to_the_move_rule():
    assert not checked_closure(lab.racy_counter(2, 1))
    assert checked_closure(lambda: None)
    assert checked_closure(len), "a callable without code of its own is checked"


def test_a_value_back_from_join_may_take_its_old_name_again():
    from rustsync import RefCell, spawn

    log = RefCell([1])

    def work():
        log.borrow_mut().value.append(2)
        return log

    back = spawn(work).join()
    log = back  # Rust's `let log = back;`: a new binding, not a use of the moved one
    log.borrow_mut().value.append(3)
    assert log.borrow().value == [1, 2, 3]


CELLS = r'''
import json
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()
cells = [
    "from rustsync import RefCell, spawn\nlog = RefCell([1])\ndef work():\n    log.borrow_mut().value.append(2)\n"
    "    return log\nback = spawn(work).join()",
    "log = back",
    "print(log.borrow().value)",
    "kept = RefCell([5])\ndef work2():\n    kept.borrow_mut().value.append(6)\n    return kept\n"
    "back2 = spawn(work2).join()",
    "x = 1",
    "print(kept.borrow().value)",
]
print(json.dumps([type(r.error_in_exec).__name__ if r.error_in_exec else None
                  for r in (shell.run_cell(c, store_history=True) for c in cells)]))
'''


def test_in_a_notebook_the_old_name_may_be_bound_again_in_a_cell_of_its_own(tmp_path):
    import json
    import os

    done = subprocess.run([sys.executable, "-c", CELLS], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={**os.environ, "IPYTHONDIR": str(tmp_path), "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    # `log = back` in a cell between the join's and the use's: accepted; `kept` never bound again: E0382
    assert json.loads(done.stdout.splitlines()[-1]) == [None, None, None, None, None, "UseAfterMove"]
