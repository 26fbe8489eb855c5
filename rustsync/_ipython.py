"""Show the course's errors like a compiler would: the student's lines, not the package's.

IPython always prints the frame that raised, which for `spawn` or `lock` is inside this
package. A custom exception handler drops the package's frames from the traceback of
the package's own errors, so a student sees their cell, the arrow at their line, and
the rustc-style message.
"""

import os
import sys
import types

from .diagnostics import _INTERNAL
from .errors import (
    BorrowError,
    BorrowMutError,
    CompileError,
    DeadlockError,
    GuardDropped,
    JoinTimeout,
    PoisonError,
    WouldBlock,
)

_PACKAGE = os.path.dirname(os.path.abspath(__file__))
SHOWN_CLEAN = (BorrowError, BorrowMutError, CompileError, DeadlockError, GuardDropped, JoinTimeout, PoisonError,
               WouldBlock, AssertionError)  # a failed check of rustsync.grading is an AssertionError
_HIDDEN = _INTERNAL | {"grading"}  # other AssertionErrors have no frames here: they show as usual


def _internal(frame):
    path = frame.f_code.co_filename
    if not path.startswith(_PACKAGE + os.sep):
        return False
    parts = path[len(_PACKAGE) + 1:].split(os.sep)
    # a module counts as its name; a sub-package (rustsync/sched/, rustsync/grading/checks/) as its top folder's
    name = os.path.splitext(parts[0])[0] if len(parts) == 1 else parts[0]
    return name in _HIDDEN


def strip_package_frames(tb):
    """A copy of a traceback without the frames of the package's core modules."""
    kept = []
    while tb is not None:
        if not _internal(tb.tb_frame):
            kept.append((tb.tb_frame, tb.tb_lasti, tb.tb_lineno))
        tb = tb.tb_next
    new = None
    for frame, lasti, lineno in reversed(kept):
        new = types.TracebackType(new, frame, lasti, lineno)
    return new


def _handler(shell, etype, value, tb, tb_offset=None):
    shell.showtraceback((etype, value, strip_package_frames(tb)), tb_offset=tb_offset)


def _excepthook(previous):
    def hook(etype, value, tb):
        if issubclass(etype, SHOWN_CLEAN):
            tb = strip_package_frames(tb)
            value = value.with_traceback(tb)  # the default hook prints value.__traceback__
        previous(etype, value, tb)
    hook.rustsync = True
    return hook


def install():
    """Register the handler in the running IPython shell; in a script, wrap `sys.excepthook`."""
    # only a shell that already runs: importing IPython costs 0.4 s, too much for a script or a worker
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    if shell is not None and hasattr(shell, "register_magic_function"):
        register_magics(shell)
    if shell is None or not hasattr(shell, "set_custom_exc"):
        if not getattr(sys.excepthook, "rustsync", False):
            sys.excepthook = _excepthook(sys.excepthook)
        return False
    if getattr(shell, "custom_exceptions", ()) and shell.custom_exceptions != SHOWN_CLEAN:
        return False  # someone else's handler: leave it alone
    shell.set_custom_exc(SHOWN_CLEAN, _handler)
    return True


def register_magics(shell):
    """The course's cell magics (`%%rust`), available once `rustsync` is imported in a notebook."""
    from . import rust_cell

    rust_cell.register(shell)


def load_ipython_extension(shell):
    """`%load_ext rustsync`: the magics and the clean tracebacks, in a shell that has not imported rustsync."""
    register_magics(shell)
    install()
