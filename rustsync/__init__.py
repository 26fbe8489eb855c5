"""Rust's shared-state concurrency in Python: `Mutex`, `Arc`, `Rc`, `spawn`, atomics.

The names and behaviour follow Rust's `std::sync` and `std::thread` closely enough
that each listing of the Rust Book's section 16.3 has a Python analogue that reads
line for line, with rustc-style errors (E0382, E0277, E0596, E0507) where Rust would
refuse to compile. `rustsync.sched` runs the same code under a deterministic scheduler.
"""

from . import _ipython
from .atomic import AtomicUsize, Ordering
from .errors import (
    BorrowError,
    BorrowMutError,
    CannotBorrowMut,
    CannotMoveOut,
    CompileError,
    DeadlockError,
    GuardDropped,
    InvalidOrdering,
    JoinTimeout,
    NotSend,
    PoisonError,
    ThreadPanicked,
    UseAfterMove,
    WouldBlock,
)
from .mutex import Mutex, MutexGuard
from .ownership import drop
from .rc import Arc, Rc
from .refcell import RefCell
from .thread import JoinHandle, sleep, spawn

_ipython.install()

__all__ = [
    "Arc",
    "AtomicUsize",
    "BorrowError",
    "BorrowMutError",
    "CannotBorrowMut",
    "CannotMoveOut",
    "CompileError",
    "DeadlockError",
    "GuardDropped",
    "InvalidOrdering",
    "JoinHandle",
    "JoinTimeout",
    "Mutex",
    "MutexGuard",
    "NotSend",
    "Ordering",
    "PoisonError",
    "Rc",
    "RefCell",
    "ThreadPanicked",
    "UseAfterMove",
    "WouldBlock",
    "drop",
    "sleep",
    "spawn",
]
