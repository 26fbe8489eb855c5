"""`AtomicUsize`: an integer whose read-modify-write operations are single, indivisible steps."""

from __future__ import annotations

import enum
import threading

from . import _sim
from .ownership import Owned


class Ordering(enum.Enum):
    """Rust's memory orderings; accepted for fidelity, all behave as `SeqCst` here."""

    Relaxed = "Relaxed"
    Release = "Release"
    Acquire = "Acquire"
    AcqRel = "AcqRel"
    SeqCst = "SeqCst"


class AtomicUsize(Owned):
    """A counter that needs no mutex: `fetch_add` reads and writes in one step."""

    def __init__(self, value=0, *, name=None):
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"AtomicUsize holds a non-negative int, got {value!r}")
        self._value = value
        self._lock = threading.Lock()
        self.name = name or "atomic"

    def _step(self, op, change):
        __tracebackhide__ = True
        if self._move is not None:
            self._use()
        sim = _sim.current()
        if sim is not None:
            sim.point(op, self)
            old = self._value
            self._value = change(old)
            sim.done(self._value)
            return old
        with self._lock:
            old = self._value
            self._value = change(old)
            return old

    def fetch_add(self, n=1, ordering=Ordering.SeqCst):
        """Add `n` and return the value before."""
        return self._step("fetch_add", lambda v: v + n)

    def fetch_sub(self, n=1, ordering=Ordering.SeqCst):
        """Subtract `n` and return the value before (ValueError below zero, where Rust would wrap)."""
        def sub(v):
            if v - n < 0:
                raise ValueError(f"AtomicUsize would go below zero ({v} - {n})")
            return v - n
        return self._step("fetch_sub", sub)

    def load(self, ordering=Ordering.SeqCst):
        return self._step("load", lambda v: v)

    def store(self, value, ordering=Ordering.SeqCst):
        self._step("store", lambda v: value)

    def swap(self, value, ordering=Ordering.SeqCst):
        return self._step("swap", lambda v: value)

    def compare_exchange(self, current, new, success=Ordering.SeqCst, failure=Ordering.SeqCst):
        """Store `new` if the value is `current`; return the value seen (equal to `current` on success)."""
        return self._step("compare_exchange", lambda v: new if v == current else v)

    def into_inner(self):
        self._use()
        self._moved_by_method("into_inner")
        return self._value

    def __repr__(self):
        return str(self._value)

    def _rust_type(self):
        return "AtomicUsize"
