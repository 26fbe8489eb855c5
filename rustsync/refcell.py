"""`RefCell<T>`: one thread's interior mutability, its borrow rules checked when the code runs.

`borrow()` gives a read-only guard, `borrow_mut()` a read-write one; use them in a
`with` block, whose end is the guard's drop. Any number of `borrow()` guards may
live at once, or one `borrow_mut()` guard and nothing else; breaking that rule
raises `BorrowError` or `BorrowMutError`, whose first line is Rust's panic message.
A `RefCell` counts its borrows without atomics, so one thread at a time may use it:
it may move into a thread (`Send`), but not be shared by several (`Sync`, E0277).
"""

from __future__ import annotations

import copy
import sys

from .debug_format import rust_debug, type_name
from .diagnostics import display_name
from .errors import BorrowError, BorrowMutError, GuardDropped
from .ownership import Owned, not_send
from .ownership.moves import clone_expression


def _site():
    """Where the student's code asked for the borrow: (file, line)."""
    frame = sys._getframe(2)
    return frame.f_code.co_filename, frame.f_lineno


def _where(site):
    return f"{display_name(site[0])}, line {site[1]}"


class RefCell(Owned):
    """A value whose borrows are checked at run time: `RefCell(5)` is Rust's `RefCell::new(5)`.

    As in Rust, a `RefCell` is `Send` but not `Sync`: it may move into one other thread
    (`spawn(lambda: cell.borrow_mut()...)`, with nobody else keeping it), but threads may
    not share one: an `Arc<RefCell<T>>` sent to a thread, or a `RefCell` borrowed by a
    scoped thread, is E0277 (a `RefCell` is not `Sync`).
    """

    def __init__(self, value, *, name=None):
        self._value = value
        self._readers = []  # the sites of the live borrow() guards
        self._writer = None  # the site of the live borrow_mut() guard
        self.name = name or "cell"

    # -- the API of RefCell<T> ------------------------------------------------

    def borrow(self):
        """A read-only guard (`Ref`); raise `BorrowError` if a `borrow_mut()` guard is live."""
        __tracebackhide__ = True
        self._use()
        if self._writer is not None:
            raise BorrowError(
                f"RefCell already mutably borrowed\n`{self.name}` is mutably borrowed by the "
                f"`borrow_mut()` at {_where(self._writer)}, and that guard is still live.\n"
                "help: end the `borrow_mut()` guard's `with` block (or `drop` it) before borrowing again"
            )
        return Ref(self, _site())

    def borrow_mut(self):
        """A read-write guard (`RefMut`); raise `BorrowMutError` if any other guard is live."""
        __tracebackhide__ = True
        self._use()
        if self._writer is not None or self._readers:
            site = self._writer or self._readers[-1]
            kind = "borrow_mut()" if self._writer is not None else "borrow()"
            raise BorrowMutError(
                f"RefCell already borrowed\n`{self.name}` is already borrowed by the `{kind}` "
                f"at {_where(site)}, and that guard is still live.\n"
                "help: end the other guard's `with` block (or `drop` it) before `borrow_mut()`"
            )
        return RefMut(self, _site())

    def into_inner(self):
        """Consume the cell and return its value."""
        __tracebackhide__ = True
        self._use()
        if self._writer is not None or self._readers:
            raise BorrowMutError(f"cannot move out of `{self.name}` while a guard borrows it; end the guard first")
        self._moved_by_method("into_inner")
        return self._value

    def clone(self):
        """A new `RefCell` holding a copy of the value (Rust's `RefCell: Clone` when `T: Clone`).

        Raise `BorrowError` while a `borrow_mut()` guard is live, as Rust's `clone` panics then.
        """
        __tracebackhide__ = True
        self._use()
        if self._writer is not None:
            raise BorrowError(
                f"RefCell already mutably borrowed\n`{self.name}` is mutably borrowed by the "
                f"`borrow_mut()` at {_where(self._writer)}, so it cannot be cloned now.\n"
                "help: end the `borrow_mut()` guard's `with` block (or `drop` it) before `clone()`"
            )
        return RefCell(copy.deepcopy(self._value), name=self.name)

    def _clone_expression(self, name):
        """How rustc's "consider cloning" help reads in Python: only a value that can be copied can be cloned."""
        return f"{name}.clone()" if clone_expression(name, self._value) is not None else None

    # -- Debug and the ownership checks --------------------------------------------

    def __repr__(self):
        data = "<borrowed>" if self._writer is not None else rust_debug(self._value)
        return f"RefCell {{ value: {data} }}"

    def _rust_type(self):
        return f"RefCell<{type_name(self._value)}>"

    def _not_send(self):
        return not_send(self._value)

    def _not_sync(self):
        return self._rust_type()


class _Guard:
    """What `Ref` and `RefMut` share: a live borrow that ends with its `with` block."""

    __slots__ = ("_cell", "_site", "_live", "_dropped_at", "__weakref__")
    _method = ""

    def __init__(self, cell, site):
        self._cell = cell
        self._site = site
        self._live = True
        self._take()

    def __enter__(self):
        if not self._live:
            self._dropped()
        return self

    def __exit__(self, exc_type, exc, tb):
        self._drop_now()
        return False

    def _drop_now(self):
        if self._live:
            self._live = False
            self._give_back()

    def _check(self):
        if not self._live:
            self._dropped()

    def _moved_by_drop(self, move):
        """`drop(guard)` moved this guard (`move` says where): a later use is E0382."""
        self._dropped_at = move

    def _dropped(self):
        __tracebackhide__ = True
        moved = getattr(self, "_dropped_at", None)
        if moved is not None:  # `drop(guard)` moved it: Rust refuses the use at compile time
            from .errors import UseAfterMove
            from .ownership import messages

            raise UseAfterMove(messages.guard_used_after_drop(moved, type_name(self._cell._value)))
        raise GuardDropped(
            f"this `{self._method}` guard of `{self._cell.name}` was dropped when its `with` block ended, "
            f"so the borrow is over.\nhelp: borrow again: `with {self._cell.name}.{self._method} as v: ...`"
        )

    def __del__(self):
        # a guard never used in `with` nor dropped: end the borrow as Rust's drop would
        if getattr(self, "_live", False):
            try:
                self._drop_now()
            except Exception:  # pragma: no cover - interpreter shutdown
                pass

    def __repr__(self):
        if not self._live:
            return f"{type(self).__name__} {{ <dropped> }}"
        return rust_debug(self._cell._value)


class Ref(_Guard):
    """A shared borrow from `RefCell.borrow()`: read `guard.value`."""

    __slots__ = ()
    _method = "borrow()"

    def _take(self):
        self._cell._readers.append(self._site)

    def _give_back(self):
        self._cell._readers.remove(self._site)

    @property
    def value(self):
        self._check()
        return self._cell._value

    @value.setter
    def value(self, new):
        __tracebackhide__ = True
        self._check()
        raise AttributeError(
            f"cannot assign through a `borrow()` guard of `{self._cell.name}`: it only reads.\n"
            f"help: use `with {self._cell.name}.borrow_mut() as v: v.value = ...`"
        )


class RefMut(_Guard):
    """An exclusive borrow from `RefCell.borrow_mut()`: read and write `guard.value`."""

    __slots__ = ()
    _method = "borrow_mut()"

    def _take(self):
        self._cell._writer = self._site

    def _give_back(self):
        self._cell._writer = None

    @property
    def value(self):
        self._check()
        return self._cell._value

    @value.setter
    def value(self, new):
        self._check()
        self._cell._value = new
