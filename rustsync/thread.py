"""`spawn` and `JoinHandle`: threads whose closures take ownership of what they use.

`spawn(closure)` checks the closure as rustc would (E0277 for a value that is not
`Send`, E0382 for a value that already moved or that the lines after the spawn use
again), moves every non-`Copy` value it captures into the new thread, captures every
outside name's value as of now, and starts the thread. `join()` returns the
closure's result (handing back ownership of what it returns) or raises
`ThreadPanicked` with the thread's exception as its cause.
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
from .ownership import (
    Owned,
    bind_at_spawn,
    cannot_send,
    captures,
    checked_closure,
    claim,
    closure_move,
    hand_over,
    later_use,
    moved_again,
    moves,
    not_send,
    plain_move,
    rebound_in_loop,
    record_plain_move,
    spawn_site,
    used_after_spawn,
)

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


def spawn(closure, *, name=None):
    """Run `closure()` in a new thread and return its `JoinHandle` (Rust's `thread::spawn(move || ...)`).

    Every value the closure uses from outside moves into the thread unless it is `Copy`
    (`rustsync.ownership.is_copy`: ints, floats, bools, strs, None, and tuples of those).
    """
    __tracebackhide__ = True
    if not callable(closure):
        raise TypeError(
            f"spawn() takes a closure, a function called with no arguments; got {type(closure).__name__}. "
            "help: `spawn(work)` or `spawn(lambda: work(x))`"
        )
    frame = user_frame(1)
    captured = captures(closure)
    closure_code = getattr(closure, "__code__", None)
    site = None
    for var, value in captured:
        bad = not_send(value)
        if bad:
            site = spawn_site(frame, closure_code)
            raise cannot_send(bad, var, site, f"{display_name(__file__)}:{spawn.__code__.co_firstlineno}")
    me = _sim.owner_token()
    movable, plain = [], []
    checked = checked_closure(closure)
    for var, value in captured:
        if any(value is v for _, v in movable) or any(value is v for _, v in plain):
            continue
        if isinstance(value, Owned):
            movable.append((var, value))
        elif checked and moves(value):
            plain.append((var, value))
    for _var, value in movable:
        move = value._move
        if move is not None and move.owner is not me:
            site = site or spawn_site(frame, closure_code)
            if move.kind == "closure":
                raise moved_again(move, site, frame)
            value._use()
    for var, value in plain:
        move = plain_move(value)
        if move is not None and move.owner is not me:
            site = site or spawn_site(frame, closure_code)
            if move.site == site.moved_at and move.name == var and rebound_in_loop(site, var):
                continue  # a new binding on every turn of the loop: `for chunk in chunks`
            raise moved_again(move, site, frame)
    if plain:
        site = site or spawn_site(frame, closure_code)
        for var, value in plain:
            if site.loop_node is not None and not rebound_in_loop(site, var):
                continue  # the loop's second spawn reports it, with the loop's labels
            later = later_use(site, var)
            if later is not None:
                raise used_after_spawn(closure_move(var, value, site, None), site, later)

    def take(owner):
        if not movable and not plain:
            return
        here = site or spawn_site(frame, closure_code)
        for var, value in movable:
            value._move = closure_move(var, value, here, owner)
        for var, value in plain:
            record_plain_move(value, closure_move(var, value, here, owner))

    moved = [v for _, v in movable]
    sim = _sim._local.__dict__.get("thread")
    if sim is not None:
        bound = bind_at_spawn(closure)

        handle = _SimHandle()

        def run_and_hand_over():
            result = bound()
            if movable or plain:
                kept = hand_over(result, _sim.owner_token(), handle)
                moved[:] = [v for v in moved if id(v) not in kept]  # the scheduler drops the rest
            return result

        handle._inner = sim.spawn(run_and_hand_over, name, moved, take)
        return handle
    name = name or f"thread-{next(_numbers)}"
    handle = JoinHandle(None, name)
    payload = []
    thread = threading.Thread(target=lambda: _run(*payload), name=name, daemon=True)
    handle._thread = thread
    take(thread)
    payload.extend((bind_at_spawn(closure), handle, moved, bool(movable or plain)))
    thread.start()
    return handle


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
    sim = _sim._local.__dict__.get("thread")
    if sim is not None:
        sim.point("sleep", None)
        sim.done(seconds)
        return
    time.sleep(seconds)
