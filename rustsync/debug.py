"""Rust-style names and `{:?}` formatting for Python values."""


def rust_debug(value):
    """Format a value the way Rust's `{:?}` would print the matching Rust value."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "None"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        inner = ", ".join(rust_debug(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{rust_debug(k)}: {rust_debug(v)}" for k, v in value.items()) + "}"
    return repr(value)


def type_name(value):
    """The Rust-like type of a value: `Mutex<int>`, `Arc<Mutex<int>>`, `Rc<...>`."""
    describe = getattr(type(value), "_rust_type", None)
    if describe is not None:
        return describe(value)
    if isinstance(value, bool):
        return "bool"
    return type(value).__name__
