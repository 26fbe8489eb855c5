"""The exceptions of the package, one per thing that can go wrong in the chapter."""


class CompileError(Exception):
    """What rustc would refuse to compile; the message is rustc-style.

    `code` is the rustc error code (`E0382`, `E0277`), `diagnostic` the structured
    `rustsync.diagnostics.Diagnostic` behind the message.
    """

    code = ""

    def __init__(self, diagnostic):
        super().__init__(diagnostic.render())
        self.diagnostic = diagnostic


class UseAfterMove(CompileError):
    """E0382: a value was used after it moved (into a thread's closure, `into_inner`, `drop`)."""

    code = "E0382"


class NotSend(CompileError):
    """E0277: a value that is not `Send` (an `Rc`, a `MutexGuard`) was handed to another thread."""

    code = "E0277"


class CannotBorrowMut(CompileError):
    """E0596: a method that needs `&mut self` (`get_mut`) called through an `Arc` or an `Rc`."""

    code = "E0596"


class CannotMoveOut(CompileError):
    """E0507: a method that takes `self` (`into_inner`) called through an `Arc` or an `Rc`."""

    code = "E0507"


class MovedWhileBorrowed(CompileError):
    """E0505: a value moved (`drop(m)`, `m.into_inner()`) while a borrow of it lives: a guard of a mutex."""

    code = "E0505"


class BorrowMayOutlive(CompileError):
    """E0373: a closure without `move` (`spawn(f, move=False)`) borrows a value the thread may outlive."""

    code = "E0373"


class InvalidOrdering(CompileError):
    """rustc's `invalid_atomic_ordering` error: a load with `Release`, a store with `Acquire`..."""

    code = ""


POISONED = "poisoned lock: another task failed inside"


class PoisonError(Exception):
    """A thread panicked (raised) while it held the lock; the data may be half-updated.

    As Rust's `PoisonError<MutexGuard>`, the error *holds the guard*: the lock stays taken
    until the guard is released. `err.into_inner()` hands that guard over (it does not lock
    again); an error that is caught and thrown away releases its guard, as Rust drops it.
    For `Mutex.into_inner()` and `get_mut()` the error holds the data instead.
    The message is Rust's `Display`, `poisoned lock: another task failed inside`; a note says
    which mutex, and how to recover.
    """

    def __init__(self, detail="", inner=None):
        super().__init__(POISONED)  # exactly Rust's Display; what happened, and the way out, is a note
        if detail:
            self.add_note(detail)
        self._inner = inner
        self._taken = False

    def into_inner(self):
        """The guard (or the data) the failed call would have returned; once, as it consumes the error."""
        if self._taken:
            raise RuntimeError("`into_inner()` consumes the PoisonError: it was already called on this one")
        self._taken = True
        return self._inner

    def get_ref(self):
        """The guard (or the data), leaving it in the error."""
        return self._inner

    def get_mut(self):
        return self._inner

    def _drop_now(self, finalizing=False):
        """`drop(err)`: release a guard that was never taken out of the error.

        From the finalizer (`finalizing`), the guard is released as a finalizer must: only
        its state is set.
        """
        inner = self._inner
        if not self._taken and hasattr(inner, "_drop_now"):
            self._taken = True
            release = getattr(inner, "_finalize", None) if finalizing else None
            (release or inner._drop_now)()

    def __del__(self):
        try:
            self._drop_now(finalizing=True)
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def __repr__(self):
        return "PoisonError { .. }"


WOULD_BLOCK = "try_lock failed because the operation would block"


class WouldBlock(Exception):
    """`try_lock()` found the mutex held by another thread (Rust's `TryLockError::WouldBlock`).

    The message is Rust's `Display`; who holds the lock is a note.
    """

    def __init__(self, detail=""):
        super().__init__(WOULD_BLOCK)
        if detail:
            self.add_note(detail)


class DeadlockError(RuntimeError):
    """Locking a mutex that the same thread already holds: it would wait for itself forever."""


class BorrowError(RuntimeError):
    """`RefCell.borrow()` while a `borrow_mut()` guard is live (Rust panics: "RefCell already mutably borrowed")."""


class BorrowMutError(RuntimeError):
    """`RefCell.borrow_mut()` while any other guard is live (Rust panics: "RefCell already borrowed")."""


class UnwrapFailed(RuntimeError):
    """`unwrap()` on an `Err` (or `unwrap_err()` on an `Ok`): Rust panics with this message."""


class GuardDropped(RuntimeError):
    """A `MutexGuard` was used after its lock was released."""


class JoinTimeout(TimeoutError):
    """`join(timeout=...)` gave up: the thread is still running (deadlocked, or looping)."""


class ScheduleAborted(BaseException):
    """Raised inside threads simulated by `rustsync.sched` to stop them (a deadlock, a stuck thread).

    Not a panic: a guard released by it does not poison its mutex.
    """


class ThreadPanicked(Exception):
    """`join()` on a thread that died of an exception (Rust's `Err` from `JoinHandle::join`).

    The exception the thread raised is `__cause__` and `.exception`.
    """

    def __init__(self, name, exception):
        super().__init__(
            f"thread '{name}' panicked: {type(exception).__name__}: {exception}"
        )
        self.thread_name = name
        self.exception = exception
