"""The game's logic: a schedule grows one click at a time, and each position is what `replay` reports for it.

There is no step-wise API in `rustsync.sched`: a position is computed by replaying its
schedule from the start. For a schedule `s` of n steps that is one `replay(program, s)`
(with an invariant that records the shared objects between steps, the board) and one
`replay(program, s + [t])` for each thread `t`, which either takes a step (the thread can
move, and its step names the operation and the object it is about to use) or raises
`ScheduleError` (it cannot). A level's threads are at most four, its runs a few dozen
steps, and one replay takes about a millisecond: a click costs a few milliseconds
(`Game.replays` counts the replays made). Positions are kept, so undo and coming back
cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..mutex import Mutex
from ..rc import Arc, Rc
from ..sched import RacyCell, ScheduleError, explore, replay
from .levels import Level, LevelError
from .levels import level as level_named

READY, BLOCKED, WAITING, FINISHED = "ready", "blocked", "waiting", "finished"


@dataclass
class ThreadView:
    """One thread at a position: whether it can step, what its next step is, the line it is on, in words."""

    tid: int
    title: str
    status: str  # READY, BLOCKED (on a lock), WAITING (to join), FINISHED
    op: str | None
    obj: str | None
    line: int | None  # index into the level's `ThreadCode.lines`
    steps: int  # steps it has taken so far
    note: str  # the status in words


@dataclass
class Position:
    """What the page shows after a schedule: each thread, the board, the last step, and the end if it came."""

    schedule: list
    threads: list
    board: list  # (name, what it is, its content, who holds it or None)
    last: list  # the trace's events of the last step, in words
    over: bool
    outcome: object
    won: bool
    run: object = field(repr=False)  # the replay of `schedule`, continued by the default choice to its end

    def thread(self, tid):
        return next(t for t in self.threads if t.tid == tid)

    @property
    def moves(self):
        return [t.tid for t in self.threads if t.status == READY]


def _holders(events):
    """Who holds each mutex after `events`: a `lock` (or a `try_lock` that got it) takes it; an `unlock` frees it."""
    held = {}
    for ev in events:
        if ev.op in ("lock", "try_lock") and ev.step is not None and ev.value != "WouldBlock":
            held[ev.obj] = ev.thread
        elif ev.op == "unlock" and held.get(ev.obj) == ev.thread:
            del held[ev.obj]
    return held


def describe(ev):
    """One trace event in words: "thread 1 reads `counter` (0)"."""
    verbs = {"read": "reads", "write": "writes", "lock": "locks", "try_lock": "tries to lock", "unlock": "unlocks",
             "count": "reads the strong count of", "join": "joins", "clone": "clones", "drop": "drops",
             "sleep": "sleeps", "fetch_add": "adds to"}
    head, _, kind = ev.op.partition(":")
    if kind:  # an `Rc` count change, `clone:read`: the read or the write of the count, for a clone
        what = f"{verbs.get(kind, kind)} the count of `{ev.obj}` for a {head}"
    else:
        what = f"{verbs.get(head, head)} `{ev.obj}`" if ev.obj else verbs.get(head, head)
    value = f" ({ev.value!r})" if ev.value is not None and head != "join" else ""
    if head in ("clone", "drop") and not kind and ev.value is not None:
        value = f" (count now {ev.value})"
    return f"thread {ev.thread} {what}{value}"


class Game:
    """One level being played: the schedule so far, undo, reset, and the position `replay` gives for it."""

    def __init__(self, level: Level | str):
        self.level = level_named(level) if isinstance(level, str) else level
        self.schedule = []
        self.finished = {}  # schedule (tuple) -> outcome, every run played to its end so far
        self._positions = {}
        self._total = None
        self.replays = 0  # how many replays the positions took (the cost of having no step-wise API)

    # -- moves --------------------------------------------------------------------------------

    def step(self, tid):
        """Thread `tid` takes the next step; a ValueError says why it cannot."""
        here = self.position()
        if here.over:
            raise ValueError("the run is over: undo a step or reset to play again")
        view = next((t for t in here.threads if t.tid == tid), None)
        if view is None:
            raise ValueError(f"there is no thread {tid} in this level; its threads are "
                             f"{', '.join(str(t.tid) for t in here.threads)}")
        if view.status != READY:
            raise ValueError(f"thread {tid} cannot step: {view.note}")
        self.schedule.append(tid)
        after = self.position()
        if after.over:
            self.finished[tuple(self.schedule)] = after.outcome
        return after

    def play(self, schedule):
        """Click the threads of `schedule` in turn; the position at the end."""
        for tid in schedule:
            self.step(tid)
        return self.position()

    def undo(self):
        if self.schedule:
            self.schedule.pop()
        return self.position()

    def reset(self):
        self.schedule = []
        return self.position()

    # -- what the page shows --------------------------------------------------------------------

    def position(self, schedule=None):
        schedule = list(self.schedule if schedule is None else schedule)
        key = tuple(schedule)
        if key not in self._positions:
            self._positions[key] = self._compute(schedule)
        return self._positions[key]

    def _compute(self, schedule):
        cut = len(schedule)
        program, board = self.level.make()
        seen = []  # the board, read by the invariant when the run reaches the cut
        calls = [0]

        def read_board():  # called by the scheduler between two steps (and before the first)
            if calls[0] == cut:
                seen.append(_board_values(board, self.level.shows))
            calls[0] += 1
            return None

        self.replays += 1
        run = replay(program, schedule, invariant=read_board)
        prefix = _prefix(run.trace, cut)
        holders = _holders(prefix)
        values = seen[0] if seen else _board_values(board, self.level.shows)
        board_rows = _with_holders(values, holders)
        over = len(run.schedule) == cut
        threads = [self._thread_view(code, schedule, prefix, run, holders, over) for code in self.level.threads]
        last = []
        if cut:
            start = next(i for i, ev in enumerate(prefix) if ev.step == cut - 1)
            last = [describe(ev) for ev in prefix[start:]]
        won = over and bool(self.level.won(run))
        return Position(schedule, threads, board_rows, last, over, run.outcome if over else None, won, run)

    def _thread_view(self, code, schedule, prefix, run, holders, over):
        tid, cut = code.tid, len(schedule)
        taken = sum(1 for ev in prefix if ev.step is not None and ev.thread == tid)
        if not over:
            try:
                self.replays += 1
                ahead = replay(self.level.program, schedule + [tid])
            except ScheduleError:
                ahead = None
            if ahead is not None:
                ev = next(e for e in ahead.trace if e.step == cut)
                line = code.line_of_step(taken, ev.op, ev.obj)
                return ThreadView(tid, code.title, READY, ev.op, ev.obj, line, taken,
                                  f"next: {_next_words(ev.op, ev.obj)}")
        waits = {t: (what, holder) for t, what, holder in run.deadlock.waits} if over and run.deadlock else {}
        if tid in waits:
            what, holder = waits[tid]
            if what.startswith("join "):
                name = what.removeprefix("join ")
                return ThreadView(tid, code.title, WAITING, "join", name, code.line_of_join(name), taken,
                                  f"waits to join {name}, which never ends")
            line = code.line_of_step(taken, "lock", what)
            return ThreadView(tid, code.title, BLOCKED, "lock", what, line, taken,
                              f"blocked: waits for `{what}`, held by thread {holder}")
        later = next((e for e in _after(run.trace, cut) if e.thread == tid), None)
        if later is None or over:
            return ThreadView(tid, code.title, FINISHED, None, None, None, taken, "finished")
        if later.op == "join":
            return ThreadView(tid, code.title, WAITING, "join", later.obj, code.line_of_join(later.obj), taken,
                              f"waits to join {later.obj}")
        holder = holders.get(later.obj)
        line = code.line_of_step(taken, later.op, later.obj)
        who = f", held by thread {holder}" if holder is not None else ""
        return ThreadView(tid, code.title, BLOCKED, later.op, later.obj, line, taken,
                          f"blocked: waits for `{later.obj}`{who}")

    # -- every schedule -------------------------------------------------------------------------

    @property
    def total(self):
        """How many complete schedules the level has (`explore(program).schedules`)."""
        if self._total is None:
            self._total = explore(self.level.program).schedules
        return self._total

    @property
    def everything_tried(self):
        """Every complete schedule has been played to its end."""
        return len(self.finished) >= self.total

    @property
    def ever_won(self):
        return any(self.level.won(self.position(list(s)).run) for s in self.finished)


def _board_values(board, shows):
    """(name, what it is, its content, the mutex or None) for each watched object, read without a step."""
    out = []
    for thing in board:
        if isinstance(thing, RacyCell):
            out.append((thing.name, "RacyCell, no lock", thing.peek(), None))
            continue
        if isinstance(thing, (Arc, Rc)):
            kind = type(thing).__name__
            if shows == "count":
                # the count as it is: `strong_count` is a step, which a read between two steps may not take
                out.append((thing.name, f"{kind} strong count", thing._shared.strong, None))
                continue
            thing = thing._shared.value
        if isinstance(thing, Mutex):
            out.append((thing.name, "Mutex", thing.peek(), thing.is_locked()))
    return out


def _with_holders(values, holders):
    rows = []
    for name, kind, content, locked in values:
        holder = holders.get(name) if locked is not None else None
        if locked is not None and bool(locked) != (holder is not None):
            raise LevelError(f"the trace says `{name}` is held by thread {holder}, the mutex says locked={locked}")
        rows.append((name, kind, content, holder))
    return rows


def _prefix(trace, cut):
    """The events recorded before step `cut` was chosen: the state of the run after `cut` steps."""
    for i, ev in enumerate(trace):
        if ev.step is not None and ev.step >= cut:
            return trace[:i]
    return list(trace)


def _after(trace, cut):
    return trace[len(_prefix(trace, cut)):]


def _next_words(op, obj):
    head, _, kind = op.partition(":")
    if kind:
        return f"{kind} the count of `{obj}` ({head})"
    words = {"read": "read", "write": "write", "lock": "lock", "count": "read the strong count of"}
    return f"{words.get(head, head)} `{obj}`"


__all__ = ["BLOCKED", "FINISHED", "READY", "WAITING", "Game", "Position", "ThreadView", "describe"]
