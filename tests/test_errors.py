"""`rustsync.errors`: one exception per thing that goes wrong, with rustc's code and Rust's messages.

Each compile error class carries the code rustc prints for its twin program in
`tests/rustc/programs/` and is the class that twin raises; a compile error's message is
its diagnostic, rendered; the runtime errors say what Rust's `Display` says; and the
classes sit where an `except` clause expects them.
"""

import re
import runpy
from pathlib import Path

import pytest

import rustsync.errors
from rustsync.diagnostics import Diagnostic
from rustsync.errors import (
    POISONED,
    WOULD_BLOCK,
    BorrowError,
    BorrowMayOutlive,
    BorrowMutError,
    CannotBorrowMut,
    CannotMoveOut,
    CompileError,
    DeadlockError,
    GuardDropped,
    InvalidOrdering,
    JoinTimeout,
    MovedWhileBorrowed,
    NotSend,
    PoisonError,
    ScheduleAborted,
    ThreadPanicked,
    UnwrapFailed,
    UseAfterMove,
    WouldBlock,
)

PROGRAMS = Path(__file__).resolve().parent / "rustc" / "programs"

TWINS = [
    (UseAfterMove, "e0382_mutex_after_move"),
    (UseAfterMove, "e0382_vec_after_move"),
    (NotSend, "e0277_rc_refcell"),
    (NotSend, "e0277_guard_to_thread"),
    (CannotBorrowMut, "e0596_get_mut_through_arc"),
    (CannotMoveOut, "e0507_into_inner_through_arc"),
    (MovedWhileBorrowed, "e0505_drop_mutex_while_locked"),
    (BorrowMayOutlive, "e0373_spawn_without_move"),
    (InvalidOrdering, "invalid_ordering_load"),
]


def rustc_code(program):
    """The code in the headline rustc printed for `program`: "E0382", or "" for an error without one."""
    headline = (PROGRAMS / f"{program}.txt").read_text().splitlines()[0]
    found = re.match(r"error(?:\[(E\d{4})\])?: ", headline)
    assert found, headline
    return found[1] or ""


@pytest.mark.parametrize(("cls", "program"), TWINS, ids=[p for _, p in TWINS])
def test_each_compile_error_is_raised_by_its_twin_with_rustcs_code(cls, program, monkeypatch, capsys):
    monkeypatch.chdir(PROGRAMS)
    with pytest.raises(cls) as caught:
        runpy.run_path(str(PROGRAMS / f"{program}.py"), run_name="__main__")
    code = rustc_code(program)
    assert cls.code == caught.value.code == code
    headline = str(caught.value).splitlines()[0]
    assert headline.startswith(f"error[{code}]: " if code else "error: "), headline


def test_every_compile_error_class_has_a_twin_program():
    classes = {cls for cls in vars(rustsync.errors).values()
               if isinstance(cls, type) and issubclass(cls, CompileError) and cls is not CompileError}
    assert classes == {cls for cls, _ in TWINS}


def test_a_compile_errors_message_is_its_diagnostic_rendered():
    diagnostic = Diagnostic("E0382", "borrow of moved value: `log`", [])
    err = UseAfterMove(diagnostic)
    assert err.diagnostic is diagnostic
    assert str(err) == diagnostic.render()
    assert str(err) == ("error[E0382]: borrow of moved value: `log`\n\n"
                        "For more information about this error, try `rustc --explain E0382`.")


def test_an_error_without_a_code_has_no_explain_line_as_rustcs_lints():
    err = InvalidOrdering(Diagnostic("", "atomic loads cannot have `Release` or `AcqRel` ordering", []))
    assert str(err).splitlines()[0] == (PROGRAMS / "invalid_ordering_load.txt").read_text().splitlines()[0]
    assert "rustc --explain" not in str(err)


class Guard:
    """What a `PoisonError` may hold: something released by `_drop_now` (or `_finalize`, from a finalizer)."""

    def __init__(self):
        self.released = []

    def _drop_now(self):
        self.released.append("drop")

    def _finalize(self):
        self.released.append("finalize")


def test_a_poison_error_says_rusts_display_and_keeps_the_detail_as_a_note():
    err = PoisonError("the mutex `counter` was poisoned by thread-1", inner=Guard())
    assert str(err) == POISONED == "poisoned lock: another task failed inside"
    assert err.__notes__ == ["the mutex `counter` was poisoned by thread-1"]
    assert repr(err) == "PoisonError { .. }"
    assert not hasattr(PoisonError(), "__notes__"), "no detail, no note"


def test_a_poison_errors_inner_value_is_handed_over_once():
    guard = Guard()
    err = PoisonError(inner=guard)
    assert err.get_ref() is guard and err.get_mut() is guard
    assert err.into_inner() is guard
    with pytest.raises(RuntimeError, match="consumes the PoisonError"):
        err.into_inner()
    err._drop_now()
    assert guard.released == [], "a guard taken out of the error is no longer the error's to release"


def test_a_poison_error_thrown_away_releases_the_guard_it_holds_once():
    dropped, finalized = Guard(), Guard()
    err = PoisonError(inner=dropped)
    err._drop_now()
    err._drop_now()
    assert dropped.released == ["drop"]
    PoisonError(inner=finalized).__del__()
    assert finalized.released == ["finalize"], "a finalizer only sets the guard's state"


def test_would_block_says_rusts_display_the_holder_is_a_note():
    err = WouldBlock("thread-2 holds the lock")
    assert str(err) == WOULD_BLOCK
    stored = (PROGRAMS / "debug_output.txt").read_text()
    assert f"try_lock: {WOULD_BLOCK}\n" in stored, "Rust's TryLockError::WouldBlock prints the same"
    assert err.__notes__ == ["thread-2 holds the lock"]


def test_thread_panicked_names_the_thread_and_its_exception():
    cause = ValueError("bad count")
    err = ThreadPanicked("worker-3", cause)
    assert str(err) == "thread 'worker-3' panicked: ValueError: bad count"
    assert err.thread_name == "worker-3" and err.exception is cause


def test_each_error_is_caught_where_a_python_programmer_expects_it():
    assert issubclass(JoinTimeout, TimeoutError)
    for cls in (DeadlockError, BorrowError, BorrowMutError, GuardDropped, UnwrapFailed):
        assert issubclass(cls, RuntimeError), cls
    assert issubclass(ScheduleAborted, BaseException) and not issubclass(ScheduleAborted, Exception), (
        "stopping a simulated thread must get through a student's `except Exception`")
    try:
        try:
            raise ScheduleAborted()
        except Exception:  # what a student's code may write
            pytest.fail("a student's `except Exception` caught the scheduler's stop")
    except ScheduleAborted:
        pass
