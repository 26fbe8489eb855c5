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


class PoisonError(Exception):
    """A thread panicked (raised) while it held the lock; the data may be half-updated.

    The data is still reachable: `err.into_inner()` returns what the failed call would
    have returned (a guard for `lock()`, the value for `Mutex.into_inner()`).
    """

    def __init__(self, message, recover):
        super().__init__(message)
        self._recover = recover

    def into_inner(self):
        return self._recover()

    def get_ref(self):
        return self._recover()


class WouldBlock(Exception):
    """`try_lock()` found the mutex held by another thread (Rust's `TryLockError::WouldBlock`)."""


class DeadlockError(RuntimeError):
    """Locking a mutex that the same thread already holds: it would wait for itself forever."""


class BorrowError(RuntimeError):
    """`RefCell.borrow()` while a `borrow_mut()` guard is live (Rust panics: "RefCell already mutably borrowed")."""


class BorrowMutError(RuntimeError):
    """`RefCell.borrow_mut()` while any other guard is live (Rust panics: "RefCell already borrowed")."""


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
