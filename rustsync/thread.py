"""`spawn` and `JoinHandle`: threads whose closures take ownership of what they use.

`spawn(closure)` checks the closure as rustc would (E0277 for a value that is not
`Send`, E0382 for a value that already moved), moves the course's values it
captures into the new thread, captures every outside name's value as of now, and
starts the thread. `join()` returns the closure's result or raises
`ThreadPanicked` with the thread's exception as its cause.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time

from . import _sim
from .debug import type_name
from .diagnostics import display_name, user_frame
from .errors import JoinTimeout, ThreadPanicked
from .mutex import held_guards
from .ownership import (
    MoveRecord,
    Owned,
    _binding_site,
    bind_at_spawn,
    cannot_send,
    captures,
    moved_again,
    not_send,
    spawn_site,
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
        return self._result

    def is_finished(self):
        return not self._thread.is_alive()

    def __repr__(self):
        state = "finished" if self.is_finished() else "running"
        return f"JoinHandle {{ thread: '{self.name}', {state} }}"


def spawn(closure, *, name=None):
    """Run `closure()` in a new thread and return its `JoinHandle` (Rust's `thread::spawn(move || ...)`)."""
    __tracebackhide__ = True
    if not callable(closure):
        raise TypeError(
            f"spawn() takes a closure, a function called with no arguments; got {type(closure).__name__}. "
            "help: `spawn(work)` or `spawn(lambda: work(x))`"
        )
    frame = user_frame(1)
    captured = captures(closure)
    site = None
    for var, value in captured:
        bad = not_send(value)
        if bad:
            site = spawn_site(frame, getattr(closure, "__code__", None))
            raise cannot_send(bad, var, site, f"{display_name(__file__)}:{spawn.__code__.co_firstlineno}")
    me = _sim.owner_token()
    movable = []
    for var, value in captured:
        if isinstance(value, Owned) and all(value is not v for _, v in movable):
            movable.append((var, value))
    for _var, value in movable:
        move = value._move
        if move is not None and move.owner is not me:
            site = site or spawn_site(frame, getattr(closure, "__code__", None))
            if move.kind == "closure":
                raise moved_again(move, site, frame)
            value._use()
    closure_code = getattr(closure, "__code__", None)

    def take(owner):
        if not movable:
            return
        here = site or spawn_site(frame, closure_code)
        for var, value in movable:
            before = here.loop.line if here.loop is not None else (here.arg or here.call).line + 1
            value._move = MoveRecord(
                name=var,
                type_name=type_name(value),
                kind="closure",
                owner=owner,
                site=here.arg or here.call,
                loop=here.loop,
                created=_binding_site(here.filename, var, before),
                closure=here.closure,
            )

    sim = _sim.current()
    if sim is not None:
        return sim.spawn(closure, name, [v for _, v in movable], take)
    name = name or f"thread-{next(_numbers)}"
    handle = JoinHandle(None, name)
    payload = []
    thread = threading.Thread(target=lambda: _run(*payload), name=name, daemon=True)
    handle._thread = thread
    take(thread)
    payload.extend((bind_at_spawn(closure), handle, [v for _, v in movable]))
    thread.start()
    return handle


def _run(closure, handle, moved):
    try:
        handle._result = closure()
    except BaseException as exc:  # a panic: keep it for join(), poison held locks
        handle._error = exc
        for guard in reversed(list(held_guards())):
            guard._release(poison=True)
        _report_panic(handle, exc)
    finally:
        for guard in reversed(list(held_guards())):
            guard._release(poison=False)
        for value in moved:
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
