"""The one entry `spawn` calls: every check rustc makes of a closure handed to a thread.

`check_spawn` refuses what rustc refuses (E0373 for a closure that borrows and may
outlive its function, E0277 for a value that is not `Send` or not `Sync`, E0382 for a
value that moved already or that the lines after the spawn use again) before the thread
starts, and returns a `SpawnPlan`: what moves into the thread, and how to hand it over.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import _sim
from . import messages
from .capture import Unsafe, captures, not_send, not_sync
from .moves import (
    Owned,
    checked_closure,
    closure_move,
    is_item,
    moves,
    plain_move,
    record_plain_move,
)
from .source import later_use, rebound_in_loop, spawn_site


@dataclass
class SpawnPlan:
    """What a spawn moves: the course's values (`movable`) and plain ones (`plain`), as (name, value)."""

    frame: object
    closure_code: object
    site: object = None
    movable: list = field(default_factory=list)
    plain: list = field(default_factory=list)

    @property
    def moves_anything(self):
        return bool(self.movable or self.plain)

    def where(self):
        if self.site is None:
            self.site = spawn_site(self.frame, self.closure_code)
        return self.site

    def take(self, owner):
        """Record that `owner` (the new thread) owns every moved value now."""
        if not self.moves_anything:
            return
        here = self.where()
        for var, value in self.movable:
            value._move = closure_move(var, value, here, owner)
        for var, value in self.plain:
            record_plain_move(value, closure_move(var, value, here, owner))


def check_spawn(closure, frame, spawn_location, *, move=True, scoped=False, callee="spawn"):
    """Check a closure handed to `spawn` as rustc would; return the `SpawnPlan`, or raise the error.

    `move=False` is a closure without Rust's `move`: it borrows what it uses. Outside a
    scope, that is E0373 (the thread may outlive what it borrows); in a scope
    (`scoped=True`) the borrows are fine, and what they reach must be `Sync`.
    """
    __tracebackhide__ = True
    plan = SpawnPlan(frame, getattr(closure, "__code__", None))
    captured = captures(closure)
    checked = checked_closure(closure)
    if not move:
        borrowed = [(var, value) for var, value in captured if not is_item(value)]
        if not scoped and borrowed and checked:
            var = borrowed[0][0]
            raise messages.may_outlive(var, plan.where())
        for var, value in borrowed:
            if isinstance(value, Owned):
                value._use()  # a borrow of a value that moved away: E0382
            bad = not_sync(value)
            if bad:
                bad = Unsafe(bad.bad, "Sync", bad.via or f"&{_type(value)}")
                raise messages.cannot_send(bad, var, plan.where(), spawn_location, callee)
        return plan
    for var, value in captured:
        bad = not_send(value)
        if bad:
            raise messages.cannot_send(bad, var, plan.where(), spawn_location, callee)
    me = _sim.owner_token()
    for var, value in captured:
        if any(value is v for _, v in plan.movable) or any(value is v for _, v in plan.plain):
            continue
        if isinstance(value, Owned):
            plan.movable.append((var, value))
        elif checked and moves(value):
            plan.plain.append((var, value))
    for var, value in plan.movable:
        move_record = value._move
        if move_record is not None and move_record.extra.get("renamed") and var == move_record.name:
            raise messages.moved_again(move_record, plan.where(), frame)  # `join()` gave it to another name
        if move_record is not None and move_record.owner is not me:
            if move_record.kind == "closure":
                raise messages.moved_again(move_record, plan.where(), frame)
            value._use()
    for var, value in plan.plain:
        move_record = plain_move(value)
        if move_record is not None and move_record.extra.get("renamed") and var == move_record.name:
            raise messages.moved_again(move_record, plan.where(), frame)  # `join()` gave it to another name
        if move_record is not None and move_record.owner is not me:
            site = plan.where()
            if move_record.site == site.moved_at and move_record.name == var and rebound_in_loop(site, var):
                continue  # a new binding on every turn of the loop: `for chunk in chunks`
            raise messages.moved_again(move_record, site, frame)
    if plan.plain:
        site = plan.where()
        for var, value in plan.plain:
            if site.loop_node is not None and not rebound_in_loop(site, var):
                continue  # the loop's second spawn reports it, with the loop's labels
            later = later_use(site, var)
            if later is not None:
                raise messages.used_after_spawn(closure_move(var, value, site, None), site, later)
    return plan


def _type(value):
    from ..debug_format import type_name

    return type_name(value)
