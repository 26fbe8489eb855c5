"""Rust's shared-state concurrency in Python: `Mutex`, `Arc`, `Rc`, `spawn`, atomics.

The names and behaviour follow Rust's `std::sync` and `std::thread` closely enough
that each listing of the Rust Book's section 16.3 has a Python analogue that reads
line for line, with rustc-style errors (E0382, E0277, E0373, E0505, E0596, E0507) where
Rust would refuse to compile. `rustsync.sched` runs the same code under a deterministic scheduler.
"""

from . import _ipython
from ._ipython import load_ipython_extension  # noqa: F401 - `%load_ext rustsync`
from .atomic import AtomicUsize, Ordering
from .errors import (
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
    ThreadPanicked,
    UnwrapFailed,
    UseAfterMove,
    WouldBlock,
)
from .mutex import Mutex, MutexGuard
from .ownership import drop
from .rc import Arc, Rc
from .refcell import RefCell
from .result import Err, Ok, Result
from .thread import JoinHandle, Scope, scope, sleep, spawn

_ipython.install()

__all__ = [
    "Arc",
    "AtomicUsize",
    "BorrowError",
    "BorrowMayOutlive",
    "BorrowMutError",
    "CannotBorrowMut",
    "CannotMoveOut",
    "CompileError",
    "DeadlockError",
    "Err",
    "GuardDropped",
    "InvalidOrdering",
    "JoinHandle",
    "JoinTimeout",
    "MovedWhileBorrowed",
    "Mutex",
    "MutexGuard",
    "NotSend",
    "Ok",
    "Ordering",
    "PoisonError",
    "Rc",
    "RefCell",
    "Result",
    "Scope",
    "ThreadPanicked",
    "UnwrapFailed",
    "UseAfterMove",
    "WouldBlock",
    "drop",
    "scope",
    "sleep",
    "spawn",
]
