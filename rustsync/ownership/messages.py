"""rustc's messages: every headline, label, help and note the package's compile-time checks print.

One function per diagnostic, named after what it reports; each returns the exception to
raise, and nothing else in the package writes rustc's words. To change a label's wording,
find it here by its error:

| error | function |
| --- | --- |
| E0382 use of a moved value | `use_after_move`, `moved_again`, `used_after_spawn`, `used_after_join` |
| (its labels, help and clone) | `_move_labels`, `_help`, `clone_suggestion` |
| E0277 not `Send` / not `Sync` | `cannot_send` |
| E0373 a closure that may outlive what it borrows | `may_outlive` |
| E0505 a move while a guard borrows | `moved_while_borrowed` |
| E0596 / E0507 through an `Arc` | `through_shared` |
| `invalid_atomic_ordering` | `invalid_ordering` (texts in `_ORDERINGS`) |
"""

from __future__ import annotations

import ast

from ..debug_format import type_name
from ..diagnostics import (
    Diagnostic,
    Label,
    Note,
    Span,
    Suggestion,
    display_name,
    location,
    node_span,
    source_line,
    user_frame,
)
from ..errors import (
    BorrowMayOutlive,
    CannotBorrowMut,
    CannotMoveOut,
    InvalidOrdering,
    MovedWhileBorrowed,
    NotSend,
    UseAfterMove,
)
from .source import (
    SpawnSite,
    _binding_site,
    _call_at,
    _parents,
    _receiver,
    _statement_of,
    first_use_in_closure,
    later_use,
    use_site,
)


def clone_suggestion(site, name, expression):
    """rustc's "consider cloning the value before moving it into the closure", in Python.

    The clone goes on a new line before the statement that makes the closure, and the
    closure uses the clone: the rows shown run from the new line to the changed use.
    """
    use = first_use_in_closure(site, name)
    node = site.closure_node
    if use is None or node is None or expression is None or site.tree is None:
        return None
    parents = _parents(site.tree)
    stmt = node if isinstance(node, ast.FunctionDef) else _statement_of(node, parents)
    if stmt is None:
        return None
    indent = " " * stmt.col_offset
    rows = [(stmt.lineno, f"{indent}value = {expression}")]
    for line in range(stmt.lineno, use.line + 1):
        text = source_line(site.filename, line)
        if line == use.line:
            text = text[: use.col] + "value" + text[use.end_col :]
        rows.append((line + 1, text))
    return Suggestion("consider cloning the value before moving it into the closure", rows)


# --- the diagnostics ----------------------------------------------------------------


def _copy_label(move):
    return (f"move occurs because `{move.name}` has type `{move.type_name}`, "
            "which does not implement the `Copy` trait")


def _move_labels(move, in_previous_iteration=False, primary=False, closure_use=None):
    """The labels that say where the value was made and where it moved.

    `closure_use` is the text for the closure's own use of the value (rustc's "variable
    moved due to use in closure"), or None where rustc leaves it out.
    """
    move.resolve()
    labels = []
    if move.created is not None:
        labels.append(Label(move.created, _copy_label(move)))
    if move.kind == "closure":
        if in_previous_iteration and move.loop is not None:
            labels.append(Label(move.loop, "inside of this loop"))
            text = "value moved into closure here, in previous iteration of loop"
        else:
            text = "value moved into closure here"
    elif move.kind == "method":
        text = f"`{move.name}` moved due to this method call"
    else:
        text = "value moved here"
    site = move.site
    if move.kind == "method" and site is not None and site.filename:
        # rustc marks the call, `into_inner()`, not the receiver before it
        site = _method_call_span(site, move.extra.get("method", "")) or site
    if site is not None:
        labels.append(Label(site, text, primary=primary))
    if closure_use and move.kind == "closure" and move.use is not None:
        labels.append(Label(move.use, closure_use))
    return labels


def _help(move):
    move.resolve()
    if move.kind == "closure":
        if move.suggestion is not None:
            return None  # rustc's own help, the clone, says it
        return ("to share one value between threads, wrap it in an `Arc` and move an "
                f"`Arc.clone({move.name})` into each closure instead of `{move.name}` itself")
    if move.kind == "method":
        return None  # rustc's note says that the method takes `self` (`_method_note`)
    return f"`drop({move.name})` gives the value up; use `{move.name}` before dropping it"


def _method_note(move):
    """rustc's note under a move by a method call: the method takes its receiver by value."""
    owner, method, location = (move.extra.get(k) for k in ("owner", "method", "location"))
    if move.kind != "method" or not owner or not method:
        return []
    return [Note(f"`{owner}.{method}` takes ownership of the receiver `self`, which moves `{move.name}`",
                 location=location)]


def _diagnostic(head, move, labels, notes=()):
    notes = list(notes) + _method_note(move)
    helps = [h for h in [_help(move)] if h]
    suggestions = [move.suggestion] if move.suggestion is not None else []
    return Diagnostic("E0382", f"{head} of moved value: `{move.name}`", labels, helps=helps, notes=list(notes),
                      suggestions=suggestions)


def use_after_move(move, borrowed=None):
    """E0382 for a use of a moved value by code that no longer owns it.

    `borrowed=True` for a use that only borrows whatever its spelling (printing it: Rust's
    `println!("{x:?}")`); otherwise a method call on the value borrows it, and anything else uses it.
    """
    frame = user_frame(2)
    span = use_site(frame, move.name)
    if borrowed is None:
        borrowed = span is not None and span.filename and _is_method_receiver(span)
    verb = "borrowed" if borrowed else "used"
    labels = _move_labels(move, closure_use="variable moved due to use in closure")
    if span is not None:
        labels.append(Label(span, f"value {verb} here after move", primary=True))
    return _diagnostic("borrow" if borrowed else "use", move, labels)


def guard_used_after_drop(move, target_type):
    """E0382 for a guard used after `drop(guard)` moved it: reading `.value` derefs it, as `*guard` does."""
    diagnostic = use_after_move(move)
    if diagnostic.message.startswith("borrow"):
        diagnostic.footnotes.append(f"borrow occurs due to deref coercion to `{target_type}`")
    return diagnostic


def _is_method_receiver(span):
    rest = source_line(span.filename, span.line)[span.end_col :]
    return rest.startswith(".")


def moved_again(move, site, spawn_frame):
    """E0382 for a second spawn of a value that already moved into a thread.

    When the second spawn is the same call in a loop, rustc blames the first use of
    the value after the loop (`value borrowed here after move`) if there is one, and
    otherwise the move itself (`value moved into closure here, in previous iteration
    of loop`), with the closure's use of the value. A different closure is blamed
    itself (`value used here after move`), with its use of the value.
    """
    same_site = move.site is not None and move.site == site.moved_at
    notes = []
    if same_site:
        later = later_use(site, move.name, after=site.loop_stmt) if site.loop_stmt is not None else None
        if later is not None:
            node, borrowed = later
            labels = _move_labels(move, in_previous_iteration=True)
            verb = "borrowed" if borrowed else "used"
            labels.append(Label(node_span(site.filename, node), f"value {verb} here after move", primary=True))
            head = "borrow" if borrowed else "use"
            notes.append(Note("found when the loop spawned the closure a second time; "
                              "no thread was started for that spawn"))
        else:
            labels = _move_labels(move, in_previous_iteration=True, primary=True,
                                  closure_use="use occurs due to use in closure")
            head = "use"
    else:
        labels = _move_labels(move, closure_use="variable moved due to use in closure")
        labels.append(Label(site.moved_at, "value used here after move", primary=True))
        use = first_use_in_closure(site, move.name)
        if use is not None:
            labels.append(Label(use, "use occurs due to use in closure"))
        head = "use"
    return UseAfterMove(_diagnostic(head, move, labels, notes))


def used_after_spawn(move, site, later):
    """E0382 for a plain value that the lines after its spawn use again: raised before the thread starts."""
    node, borrowed = later
    labels = _move_labels(move, closure_use="variable moved due to use in closure")
    verb = "borrowed" if borrowed else "used"
    labels.append(Label(node_span(site.filename, node), f"value {verb} here after move", primary=True))
    notes = [Note("found in the lines after the spawn, before the thread started: "
                  "a plain Python value cannot notice its own use, so `spawn` looks ahead, as rustc does")]
    return UseAfterMove(_diagnostic("borrow" if borrowed else "use", move, labels, notes))


def used_after_join(move, filename, node, borrowed):
    """E0382 for a plain value handed back through `join()` to a new name, which the old name uses again later."""
    labels = _move_labels(move, closure_use="variable moved due to use in closure")
    verb = "borrowed" if borrowed else "used"
    labels.append(Label(node_span(filename, node), f"value {verb} here after move", primary=True))
    notes = [Note("found in the lines after the `join()`, which gave the value to a new name: "
                  "a plain Python value cannot notice its own use, so `join` looks ahead, as rustc does")]
    return UseAfterMove(_diagnostic("borrow" if borrowed else "use", move, labels, notes))


def cannot_send(problem, name, site, spawn_location, callee="spawn"):
    """E0277 for a closure that captures a value which may not go to another thread.

    `problem` is a `capture.Unsafe`: a value that is not `Send` ("cannot be sent between
    threads safely"), or one that is not `Sync` reached through an `Arc` or a borrow
    ("cannot be shared between threads safely", and the type whose `Send` needed it).
    """
    bad_type = problem.bad
    closure = site.closure or site.arg
    closure_name = f"{{closure@{_short(closure)}}}" if closure else "the closure"
    verb = "sent" if problem.trait == "Send" else "shared"
    headline = f"`{bad_type}` cannot be {verb} between threads safely"
    labels = []
    if site.func is not None:
        labels.append(Label(site.func, "required by a bound introduced by this call"))
    target = site.arg or site.call
    if target is not None:
        labels.append(Label(target, headline, primary=True))
    if problem.trait == "Send" and closure is not None and closure != target:
        labels.append(Label(closure, f"within this `{closure_name}`"))
    notes = []
    if closure is not None:
        notes.append(Note("required because it's used within this closure", [Label(closure, "", primary=True)]))
    notes.append(Note(f"required by a bound in `{callee}`", location=spawn_location))
    footnotes = []
    if problem.trait == "Send":
        helps = [f"within `{closure_name}`, the trait `Send` is not implemented for `{bad_type}`"]
    else:
        helps = [f"the trait `Sync` is not implemented for `{bad_type}`"]
        if bad_type.startswith("RefCell<"):
            footnotes.append("if you want to do aliasing and mutation between multiple threads, "
                             "use `Mutex` instead (Rust's `std::sync::RwLock` is not in this course)")
        if problem.via:
            footnotes.append(f"required for `{problem.via}` to implement `Send`")
    if bad_type.startswith("Rc<"):
        helps.append(f"`Rc` counts its owners without atomic operations; use `Arc` to share `{name}` between threads")
    elif bad_type.startswith("MutexGuard"):
        helps.append("a guard must be released by the thread that locked; "
                     "send the `Arc<Mutex<..>>` and lock it in the thread")
    elif bad_type.startswith("RefCell<"):
        instead = "borrow a `Mutex`" if (problem.via or "").startswith("&") else "share an `Arc<Mutex<..>>`"
        helps.append(f"a `RefCell` may move into one thread, but threads may not share one: {instead} instead")
    return NotSend(Diagnostic("E0277", headline, labels, helps=helps, notes=notes, footnotes=footnotes))


def through_shared(handle, method, needs, frame):
    """E0596 (`get_mut`, `needs` `&mut self`) or E0507 (`into_inner`, `self`): a method that needs the value
    to itself, called through an `Arc` or an `Rc`."""
    kind = type(handle).__name__
    shared_type = handle._rust_type()
    name, span = _receiver(frame)
    if needs == "&mut self":
        labels = [Label(span, "cannot borrow as mutable", primary=True)] if span else []
        helps = [f"trait `DerefMut` is required to modify through a dereference, but it is not implemented for "
                 f"`{shared_type}`"]
        if kind == "Arc":
            helps.append(f"an `Arc` is shared, so nothing reached through it is yours alone: lock it "
                         f"(`with {name or 'arc'}.lock() as guard: ...`)")
        return CannotBorrowMut(Diagnostic("E0596", f"cannot borrow data in an `{kind}` as mutable", labels,
                                          helps=helps))
    inner = handle._shared.value
    inner_type = type_name(inner)
    labels = []
    if span is not None:
        labels.append(Label(span, f"move occurs because value has type `{inner_type}`, which does not "
                                  "implement the `Copy` trait", primary=True))
        call = _method_call_span(span, method)
        if call is not None:
            labels.append(Label(call, "value moved due to this method call"))
    method_fn = getattr(type(inner), method)
    code = method_fn.__code__
    note = Note(f"`{type(inner).__name__}.{method}` takes ownership of the receiver `self`, which moves value",
                location=f"{display_name(code.co_filename)}:{code.co_firstlineno}")
    return CannotMoveOut(Diagnostic("E0507", f"cannot move out of an `{kind}`", labels, notes=[note]))


def _method_call_span(receiver, method):
    """The span of `method(...)` right after `receiver.` on the same line."""
    text = source_line(receiver.filename, receiver.line)
    start = receiver.end_col + 1
    if not text.startswith(method, start):
        return None
    depth, end = 0, start + len(method)
    for i in range(end, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return Span(receiver.filename, receiver.line, start, i + 1)
    return Span(receiver.filename, receiver.line, start, end)


def moved_while_borrowed(name, moved_at, frame, borrow):
    """E0505: `name` moves (at the span `moved_at`, in the call `frame` makes) while a guard borrows it.

    `borrow` is (code, instruction) of the `lock()` that made the guard, or None when unknown.
    Labels as rustc's: where `name` was bound, where the borrow began, the move, and the
    guard's next use after the move.
    """
    filename = frame.f_code.co_filename if frame is not None else None
    labels = []
    if moved_at is not None:
        created = _binding_site(filename, name, moved_at.line)
        if created is not None:
            labels.append(Label(created, f"binding `{name}` declared here"))
    guard = None
    if borrow is not None:
        borrow_span, guard = _borrow_site(*borrow, name)
        if borrow_span is not None:
            labels.append(Label(borrow_span, f"borrow of `{name}` occurs here"))
    if moved_at is not None:
        labels.append(Label(moved_at, f"move out of `{name}` occurs here", primary=True))
    if guard is not None and frame is not None:
        call, _, _ = _call_at(frame)
        tree = source_tree_of(filename)
        stmt = _statement_of(call, _parents(tree)) if call is not None and tree is not None else None
        if stmt is not None:
            site = SpawnSite(filename, None, None, None, None, None, None, tree=tree, stmt=stmt)
            later = later_use(site, guard, in_function=True)
            if later is not None:
                labels.append(Label(node_span(filename, later[0]), "borrow later used here"))
    helps = [f"a guard borrows `{name}` until it is dropped: end the guard's `with` block, or "
             f"`drop({guard or 'guard'})`, before moving `{name}`"]
    return MovedWhileBorrowed(Diagnostic("E0505", f"cannot move out of `{name}` because it is borrowed", labels,
                                         helps=helps))


def _borrow_site(code, lasti, name):
    """The span of `name` in the `name.lock()` at (code, lasti), and the name the guard was bound to."""
    from ..diagnostics import _position

    found = _position(code, lasti)
    filename = code.co_filename
    tree = source_tree_of(filename)
    if found is None or tree is None:
        return None, None
    line, _, col, _ = found
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.lineno == line and node.col_offset == col:
            receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
            span = node_span(filename, receiver) if isinstance(receiver, ast.Name) and receiver.id == name else None
            parents = _parents(tree)
            holder = parents.get(node)
            while holder is not None and isinstance(holder, (ast.Call, ast.Attribute)):
                holder = parents.get(holder)  # `m.lock().unwrap()`-like chains
            guard = None
            if isinstance(holder, ast.Assign) and isinstance(holder.targets[0], ast.Name):
                guard = holder.targets[0].id
            elif isinstance(holder, ast.withitem) and isinstance(holder.optional_vars, ast.Name):
                guard = holder.optional_vars.id
            return span, guard
    return None, None


def source_tree_of(filename):
    from ..diagnostics import source_tree

    return source_tree(filename) if filename else None


def may_outlive(name, site):
    """E0373: a closure without `move` borrows `name`, and `spawn`'s thread may outlive it.

    The Python spelling of a closure without `move` is `spawn(f, move=False)`; the fix
    rustc suggests, adding `move`, is the same call without `move=False`.
    """
    head = site.closure or site.head or site.arg or site.call
    labels = [Label(head, f"may outlive borrowed value `{name}`", primary=True)]
    use = first_use_in_closure(site, name)
    if use is not None:
        labels.append(Label(use, f"`{name}` is borrowed here"))
    notes = []
    if site.call is not None:
        notes.append(Note("function requires argument type to outlive `'static`", [Label(site.call, "", primary=True)]))
    suggestions = []
    call = site.call
    if call is not None:
        text = source_line(call.filename, call.line)
        fixed = _without_move_false(text)
        if fixed != text:
            suggestions.append(Suggestion(f"to force the closure to take ownership of `{name}` (and any other "
                                          "referenced variables), use the `move` keyword", [(call.line, fixed)]))
    helps = [] if suggestions else [f"to force the closure to take ownership of `{name}` (and any other "
                                    "referenced variables), use the `move` keyword: `spawn(f)`, not "
                                    "`spawn(f, move=False)`"]
    helps.append("or borrow inside `with scope() as s:`, whose threads end before the values they borrow")
    return BorrowMayOutlive(Diagnostic(
        "E0373", f"closure may outlive the current function, but it borrows `{name}`, which is owned by the "
        "current function", labels, helps=helps, notes=notes, suggestions=suggestions))


def _without_move_false(text):
    import re

    return re.sub(r",\s*move\s*=\s*False\s*(?=[,)])", "", text, count=1)


# rustc's `invalid_atomic_ordering` lint: (headline, label, help) by kind of operation
_ORDERINGS = {
    "load": ("atomic loads cannot have `Release` or `AcqRel` ordering", "",
             "consider using ordering modes `Acquire`, `SeqCst` or `Relaxed`"),
    "store": ("atomic stores cannot have `Acquire` or `AcqRel` ordering", "",
              "consider using ordering modes `Release`, `SeqCst` or `Relaxed`"),
    "failure": ("`{op}`'s failure ordering may not be `Release` or `AcqRel`, since a failed `{op}` does not "
                "result in a write", "invalid failure ordering",
                "consider using `Acquire` or `Relaxed` failure ordering instead"),
}


def invalid_ordering(kind, span, op=None):
    """rustc's error for an ordering an atomic operation cannot have (`kind`: "load", "store" or "failure")."""
    message, label, help_text = (text.format(op=op) for text in _ORDERINGS[kind])
    labels = [Label(span, label, primary=True)] if span is not None else []
    return InvalidOrdering(Diagnostic("", message, labels, helps=[help_text],
                                      footnotes=["`#[deny(invalid_atomic_ordering)]` on by default"]))


def _short(span):
    return location(span)


