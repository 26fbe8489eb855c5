"""`spawn`, `JoinHandle` and `scope`: threads whose closures take ownership of what they use, or borrow it.

`spawn(closure)` checks the closure as rustc would (E0277 for a value that is not
`Send`, E0382 for a value that already moved or that the lines after the spawn use
again), moves every non-`Copy` value it captures into the new thread, captures every
outside name's value as of now, and starts the thread. `join()` returns the
closure's result (handing back ownership of what it returns) or raises
`ThreadPanicked` with the thread's exception as its cause. `scope()` is Rust's
`thread::scope`: its threads end with it, so they may borrow without an `Arc`.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time

from . import _sim
from .diagnostics import display_name, user_frame
from .errors import JoinTimeout, ThreadPanicked
from .mutex import live_guards
from .ownership import bind_at_spawn, check_spawn, claim, hand_over

_numbers = itertools.count(1)


class JoinHandle:
    """The handle `spawn` returns: `join()` waits for the thread and hands back its result."""

    def __init__(self, thread, name):
        self._thread = thread
        self.name = name
        self._result = None
        self._error = None
        self._joined = False

    def join(self, timeout=None):
        """Wait for the thread; return its result or raise `ThreadPanicked`.

        With `timeout` (seconds), raise `TimeoutError` if the thread is still running,
        which usually means it is deadlocked or loops forever.
        """
        __tracebackhide__ = True
        if self._joined:
            raise RuntimeError(f"thread '{self.name}' was already joined: join() consumes its handle")
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise JoinTimeout(
                f"thread '{self.name}' did not finish within {timeout} s: it may be deadlocked "
                "(waiting for a lock that is never released) or looping forever"
            )
        self._joined = True
        if self._error is not None:
            raise ThreadPanicked(self.name, self._error) from self._error
        claim(self._result, self)
        return self._result

    def is_finished(self):
        return not self._thread.is_alive()

    def __repr__(self):
        state = "finished" if self.is_finished() else "running"
        return f"JoinHandle {{ thread: '{self.name}', {state} }}"


class _SimHandle:
    """The scheduler's join handle, which also hands the thread's result over to the thread that joins."""

    _inner = None

    def join(self, timeout=None):
        __tracebackhide__ = True
        result = self._inner.join(timeout)
        claim(result, self)
        return result

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(self._inner, attr)

    def __repr__(self):
        return repr(self._inner)


def spawn(closure, *, name=None, move=True):
    """Run `closure()` in a new thread and return its `JoinHandle` (Rust's `thread::spawn(move || ...)`).

    Every value the closure uses from outside moves into the thread unless it is `Copy`
    (`rustsync.ownership.is_copy`: ints, floats, bools, strs, None, and tuples of those).
    `move=False` spells a closure without Rust's `move`, which borrows what it uses:
    `spawn` refuses it (E0373), since the thread may outlive what it borrows; borrow
    inside `with scope() as s:` instead, whose threads end with the block.
    """
    __tracebackhide__ = True
    _check_callable(closure)
    plan = check_spawn(closure, user_frame(1), _SPAWN_LOCATION, move=move)
    return _start(closure, name, plan)


def _check_callable(closure):
    if not callable(closure):
        __tracebackhide__ = True
        raise TypeError(
            f"spawn() takes a closure, a function called with no arguments; got {type(closure).__name__}. "
            "help: `spawn(work)` or `spawn(lambda: work(x))`"
        )


def _start(closure, name, plan):
    """Start the thread of a checked closure: under the scheduler if one runs, as a real thread otherwise."""
    movable, plain = plan.movable, plan.plain
    moved = [v for _, v in movable]
    sim = _sim.current()
    if sim is not None:
        bound = bind_at_spawn(closure)

        handle = _SimHandle()

        def run_and_hand_over():
            result = bound()
            if movable or plain:
                kept = hand_over(result, _sim.owner_token(), handle)
                moved[:] = [v for v in moved if id(v) not in kept]  # the scheduler drops the rest
            return result

        handle._inner = sim.spawn(run_and_hand_over, name, moved, plan.take)
        return handle
    name = name or f"thread-{next(_numbers)}"
    handle = JoinHandle(None, name)
    payload = []
    thread = threading.Thread(target=lambda: _run(*payload), name=name, daemon=True)
    handle._thread = thread
    plan.take(thread)
    payload.extend((bind_at_spawn(closure), handle, moved, plan.moves_anything))
    thread.start()
    return handle


_SPAWN_LOCATION = f"{display_name(__file__)}:{spawn.__code__.co_firstlineno}"


class Scope:
    """Rust's `thread::Scope`: `s.spawn(closure)` starts a thread that ends before the scope does.

    Made by `scope()`. A scoped closure borrows what it uses (Rust's `s.spawn(|| ...)`),
    so the values stay with their owner and need no `Arc`: they must only be `Sync`
    (a `Mutex` is, a `RefCell` is not: E0277). `s.spawn(closure, move=True)` moves
    them instead, as `s.spawn(move || ...)`.
    """

    def __init__(self):
        self._handles = []
        self._open = True

    def spawn(self, closure, *, name=None, move=False):
        """Start a scoped thread; its handle's `join()` returns the closure's result early, if wanted."""
        __tracebackhide__ = True
        if not self._open:
            raise RuntimeError("this scope has ended: its threads were joined; spawn inside the `with` block")
        _check_callable(closure)
        plan = check_spawn(closure, user_frame(1), _SCOPE_SPAWN_LOCATION, move=move, scoped=True,
                           callee="Scope::<'scope, 'env>::spawn")
        handle = _start(closure, name, plan)
        self._handles.append(handle)
        return handle

    def _join_all(self):
        """Join every thread not joined yet; the first panic is raised once all have ended."""
        __tracebackhide__ = True
        self._open = False
        panicked = None
        for handle in self._handles:
            if _joined(handle):
                continue
            try:
                handle.join()
            except ThreadPanicked as exc:
                panicked = panicked or exc
        if panicked is not None:
            raise ThreadPanicked(panicked.thread_name, panicked.exception) from panicked.exception

    def __repr__(self):
        return f"Scope {{ threads: {len(self._handles)} }}"


def _joined(handle):
    inner = getattr(handle, "_inner", handle)
    return getattr(inner, "_joined", False)


_SCOPE_SPAWN_LOCATION = f"{display_name(__file__)}:{Scope.spawn.__code__.co_firstlineno}"


class ScopeBlock:
    """`with scope() as s:`: the block is the scope; its threads are joined when it ends."""

    def __enter__(self):
        self._scope = Scope()
        return self._scope

    def __exit__(self, exc_type, exc, tb):
        __tracebackhide__ = True
        self._scope._join_all()
        return False


def scope(body=None):
    """Rust's `thread::scope`: threads that may borrow, because they end before the scope does.

    Two spellings, one meaning: `with scope() as s: s.spawn(...)`, or `scope(lambda s: ...)`
    (Rust's `thread::scope(|s| { ... })`), which returns what the function returns. When the
    block or function ends, every thread spawned in it is joined; if one panicked, `scope`
    raises `ThreadPanicked` after all have ended, as Rust's `scope` panics.
    """
    __tracebackhide__ = True
    if body is None:
        return ScopeBlock()
    s = Scope()
    try:
        result = body(s)
    finally:
        s._join_all()
    return result


def _run(closure, handle, moved, moves_back):
    kept = ()
    try:
        handle._result = closure()
        if moves_back:
            kept = hand_over(handle._result, threading.current_thread(), handle)
    except BaseException as exc:  # a panic: keep it for join(), poison held locks
        handle._error = exc
        for guard in live_guards():
            guard._release(poison=True)
        _report_panic(handle, exc)
    finally:
        for guard in live_guards():
            guard._release(poison=False)
        for value in moved:
            if id(value) not in kept:
                value._drop()


def _report_panic(handle, exc):
    tb = exc.__traceback__
    where = ""
    while tb is not None:
        where = f" at {display_name(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno}"
        tb = tb.tb_next
    print(f"thread '{handle.name}' panicked{where}:\n{type(exc).__name__}: {exc}\n"
          "note: join() on its handle raises ThreadPanicked", file=sys.stderr)


def sleep(seconds):
    """`thread::sleep`: real threads sleep; under the scheduler it is a point where others may run."""
    sim = _sim.current()
    if sim is not None:
        sim.point("sleep", None)
        sim.done(seconds)
        return
    time.sleep(seconds)
