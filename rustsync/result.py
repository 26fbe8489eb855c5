"""Rust's `Result`: `Ok(value)` or `Err(value)`, as `compare_exchange` and `Arc.try_unwrap` return it.

`repr` is Rust's `{:?}` (`Ok(5)`, `Err([1, 2])`). Test it with `is_ok()`/`is_err()`, take the
value with `unwrap()`/`unwrap_err()` (an `UnwrapFailed` with Rust's panic message on the wrong
one), or match it, as in Rust:

    match counter.compare_exchange(5, 6):
        case Ok(previous): ...
        case Err(current): ...
"""

from __future__ import annotations

from .debug_format import rust_debug
from .errors import UnwrapFailed


class Result:
    """What `Ok` and `Err` share; not made directly."""

    __slots__ = ("value",)
    __match_args__ = ("value",)

    def __init__(self, value):
        self.value = value

    def is_ok(self):
        return isinstance(self, Ok)

    def is_err(self):
        return isinstance(self, Err)

    def ok(self):
        """The `Ok` value, or None (Rust's `Option`)."""
        return self.value if isinstance(self, Ok) else None

    def err(self):
        """The `Err` value, or None."""
        return self.value if isinstance(self, Err) else None

    def unwrap(self):
        __tracebackhide__ = True
        if isinstance(self, Err):
            raise UnwrapFailed(f"called `Result::unwrap()` on an `Err` value: {rust_debug(self.value)}")
        return self.value

    def unwrap_err(self):
        __tracebackhide__ = True
        if isinstance(self, Ok):
            raise UnwrapFailed(f"called `Result::unwrap_err()` on an `Ok` value: {rust_debug(self.value)}")
        return self.value

    def unwrap_or_else(self, op):
        return self.value if isinstance(self, Ok) else op(self.value)

    def __eq__(self, other):
        return type(other) is type(self) and other.value == self.value

    def __hash__(self):
        return hash((type(self).__name__, self.value))

    def __bool__(self):
        raise TypeError(f"a `Result` is not a bool: ask `{self!r}.is_ok()`, or match it with `case Ok(v):`")

    def __repr__(self):
        return f"{type(self).__name__}({rust_debug(self.value)})"


class Ok(Result):
    """The operation did what was asked; `value` is its result."""

    __slots__ = ()


class Err(Result):
    """The operation did not; `value` says why (or gives back what it was handed)."""

    __slots__ = ()
