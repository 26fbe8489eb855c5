"""Plain data: the only form in which a student's values reach a grading decision.

A value is plain when it is built of exact `bool`, `int`, `float`, `str`, `None`, and
`tuple`, `list`, `set`, `frozenset`, `dict` of those (subclasses are not plain), within
a size limit. `tagged` turns a plain value into a form in which equality is exact:
`True` and `1`, `(1,)` and `[1]`, `{1}` and `{True}` all differ. `encode`/`decode` carry
a plain value as JSON between the worker that ran the student's code and the grader.
A scheduler's `Deadlock` or `Panic` outcome travels as the string "deadlock" or as the
panic's text, so that outcome sets stay plain.
"""

from __future__ import annotations

import math

MAX_ITEMS = 20_000  # values in one answer, nested ones included
MAX_DEPTH = 30

__all__ = ["NotPlain", "decode", "describe", "encode", "is_plain", "plain", "same", "tagged"]

_SCALARS = (bool, int, float, str, type(None))
_NAMES = {bool: "bool", int: "int", float: "float", str: "str", type(None): "None", tuple: "tuple",
          list: "list", set: "set", frozenset: "frozenset", dict: "dict"}


class NotPlain(ValueError):
    """A value that is not plain data; the message says what was found and where."""


def _walk(value, path, budget, depth):
    """Check `value` (exact types only) and return a fresh copy of it."""
    budget[0] -= 1
    if budget[0] < 0:
        raise NotPlain(f"it holds more than {MAX_ITEMS} values")
    if depth > MAX_DEPTH:
        raise NotPlain(f"it is nested more than {MAX_DEPTH} levels deep")
    kind = type(value)
    if kind in _SCALARS:
        if kind is float and not math.isfinite(value):
            raise NotPlain(f"{path} is the float {value!r}, which equals nothing reliably")
        return value
    if kind is tuple or kind is list:
        items = [_walk(v, f"{path}[{i}]", budget, depth + 1) for i, v in enumerate(value)]
        return kind(items)
    if kind is set or kind is frozenset:
        items = [_walk(v, f"an element of {path}", budget, depth + 1) for v in list(value)]
        return kind(items)
    if kind is dict:
        out = {}
        for k, v in list(value.items()):
            out[_walk(k, f"a key of {path}", budget, depth + 1)] = _walk(v, f"{path}[{k!r}]", budget, depth + 1)
        return out
    raise NotPlain(f"{path} is {_article(kind, value)}, not a plain value (a number, a string, True/False, None, "
                   "or a tuple, list, set or dict of those)")


def _article(kind, value=None):
    name = getattr(value, "student_type", None) if value is not None else None  # an object of the student's
    name = name if type(name) is str else getattr(kind, "__name__", "object")
    return f"an object of type `{name}`"


def plain(value, what="the value"):
    """A fresh copy of `value` made of exact built-in types; raises NotPlain otherwise.

    The copy shares nothing with the original, so no object of the student's (and none of
    its methods, `__eq__` included) takes part in a decision.
    """
    return _walk(value, what, [MAX_ITEMS], 0)


def is_plain(value):
    try:
        plain(value)
    except NotPlain:
        return False
    return True


def tagged(value):
    """A hashable form of a plain value in which equality is exact (types included)."""
    kind = type(value)
    if kind in _SCALARS:
        return (_NAMES[kind], value)
    if kind is tuple or kind is list:
        return (_NAMES[kind], tuple(tagged(v) for v in value))
    if kind is set or kind is frozenset:
        return (_NAMES[kind], frozenset(tagged(v) for v in value))
    if kind is dict:
        return ("dict", frozenset((tagged(k), tagged(v)) for k, v in value.items()))
    raise NotPlain(f"{_article(kind)} is not plain")


def same(a, b):
    """Exact equality of two plain values: same types all the way down, same contents."""
    return tagged(a) == tagged(b)


def describe(value):
    """`repr` of a plain value, shortened for a message."""
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


# --- JSON -------------------------------------------------------------------------------------


def encode(value):
    """A JSON-able form of a plain value that keeps its exact types (the wire's form, `wire.py`)."""
    from .wire import encode as wire_encode

    def other(found):
        raise NotPlain(f"{_article(type(found))} cannot be encoded")

    return wire_encode(value, other)


def decode(data):
    """The plain value `encode` made `data` from; raises NotPlain on anything else."""
    from .wire import ProtocolError
    from .wire import decode as wire_decode

    def refuse(ident, info):
        raise NotPlain(f"not an encoded value: {data!r:.80}")

    try:
        return wire_decode(data, refuse, refuse)
    except ProtocolError:
        raise NotPlain(f"not an encoded value: {data!r:.80}") from None
