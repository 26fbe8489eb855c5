"""Rust-style names and `{:?}` formatting for Python values."""

import math
import unicodedata


def rust_debug(value):
    """Format a value the way Rust's `{:?}` would print the matching Rust value."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "None"
    if isinstance(value, str):
        return '"' + "".join(_escaped(c, i == 0) for i, c in enumerate(value)) + '"'
    if isinstance(value, float):
        return _float_debug(value)
    if isinstance(value, list):
        return "[" + ", ".join(rust_debug(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(rust_debug(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(rust_debug(v) for v in value) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{rust_debug(k)}: {rust_debug(v)}" for k, v in value.items()) + "}"
    return repr(value)


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0"}


def _escaped(char, first):
    """One character of a string as Rust's `{:?}` writes it: the usual escapes, `\\u{..}` for what does not print.

    Rust escapes what its Unicode tables call not printable (controls, format characters,
    separators other than the space) and a combining mark at the start of the string.
    """
    escape = _ESCAPES.get(char)
    if escape is not None:
        return escape
    category = unicodedata.category(char)
    if (category[0] == "C" or category in ("Zl", "Zp") or category == "Zs" and char != " "
            or first and category in ("Mn", "Me")):
        return f"\\u{{{ord(char):x}}}"
    return char


def _float_debug(value):
    """A float as Rust's `{:?}` prints an f64: `1e20`, `1e-7`, `NaN`, `inf`, `1.0` (Python: `1e+20`, `1e-07`, `nan`)."""
    if math.isnan(value):
        return "NaN"
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = "-" if exponent.startswith("-") else ""
        text = f"{mantissa}e{sign}{int(exponent.lstrip('+-'))}"
    return text


def type_name(value):
    """The Rust-like type of a value, written the Python way: `Mutex<int>`, `Arc<Mutex<list[int]>>`.

    A list, set or dict whose items share one type names it (`list[int]`, `dict[str, int]`),
    as Rust's `Vec<i32>` and `HashMap<&str, i32>` do; otherwise the bare class name.
    """
    describe = getattr(type(value), "_rust_type", None)
    if describe is not None:
        return describe(value)
    if isinstance(value, bool):
        return "bool"
    if type(value) in (list, set, frozenset, tuple) and value and len(value) <= 100:
        names = {type_name(v) for v in value}
        if type(value) is tuple:
            return "tuple[" + ", ".join(type_name(v) for v in value) + "]" if len(value) <= 8 else "tuple"
        if len(names) == 1:
            return f"{type(value).__name__}[{names.pop()}]"
    if type(value) is dict and value and len(value) <= 100:
        keys, values = {type_name(k) for k in value}, {type_name(v) for v in value.values()}
        if len(keys) == 1 and len(values) == 1:
            return f"dict[{keys.pop()}, {values.pop()}]"
    return type(value).__name__
