"""Ownership: the checks rustc makes at compile time, made when the code runs.

Every value a spawned closure uses moves into that thread, as with Rust's `move`,
unless it is `Copy` (`moves.is_copy`): `None`, `bool`, `int`, `float`, `complex`, `str`,
`bytes`, enum members, and tuples and frozensets of those. Functions, classes and
modules are names of items, not values, and are not captured. Everything else moves:
lists, dicts, sets, instances, and the course's types (`Mutex`, `Arc`, ...). A value used
again after its move raises `UseAfterMove` (E0382); handing a thread a value that is not
`Send`, or sharing one that is not `Sync`, raises `NotSend` (E0277); a closure without
`move` that may outlive what it borrows raises `BorrowMayOutlive` (E0373); moving a mutex
while a guard borrows it raises `MovedWhileBorrowed` (E0505). Every error points at the
student's own source lines, as rustc would.

Printing a moved value (`print(log)`, `repr`, an f-string: Rust's `{:?}`) is a use too, when
the student's own code does it; the scheduler, the plots, the grader, a debugger and IPython's
display still show it. A value a thread moved in and handed back through `join()` belongs to
the name it is bound to then (`back = handle.join()`); the name it left stays moved. To the
code that spawned the thread, a value moved into a closure stays "moved into closure here",
whatever the thread did with it next (`into_inner()`, `drop`).

The modules, one idea each:
- `moves`: which values move, the record of each move, `drop`, ownership handed back by `join`;
- `capture`: what a closure captures, bound as of the spawn; `Send` and `Sync`;
- `source`: where, in the student's file or cell, a spawn, a binding or a later use is;
- `messages`: rustc's wording, every headline, label, help and note, one function per error;
- `checks`: `check_spawn`, the one entry `spawn` calls.

Two kinds of closure are not held to the move rule: those written inside this package
(`rustsync.lab` races plain lists on purpose, to show what Rust forbids), and a
`rustsync.sched.RacyCell`, the course's unprotected cell, which every thread reaches
as through a shared reference.
"""

from .capture import Unsafe, bind_at_spawn, captures, not_send, not_sync, shared_by_arc
from .checks import SpawnPlan, check_spawn
from .moves import MoveRecord, Owned, claim, drop, hand_over, is_copy, is_item, moves

__all__ = [
    "MoveRecord",
    "Owned",
    "SpawnPlan",
    "Unsafe",
    "bind_at_spawn",
    "captures",
    "check_spawn",
    "claim",
    "drop",
    "hand_over",
    "is_copy",
    "is_item",
    "moves",
    "not_send",
    "not_sync",
    "shared_by_arc",
]
