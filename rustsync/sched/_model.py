"""The model explorer: each thread run once per history, then every schedule counted without running it.

A thread is deterministic: what it does next depends only on what it has observed
(the values its steps read, the results of the threads it joined). So the explorer
learns each thread as a tree. A *node* is a point in a thread's life, named by the
observations that led there; its *piece* is what the thread does from there up to
its next observation: the writes it makes to the primitives (absolute contents, or
+1/-1 for an `Arc` count), and how the piece ends (a pause before a step, a read
without a step, a spawn, the end of the thread). Pieces are learned from real runs,
each piece once; a state of the model is the node of every thread plus the contents
of every primitive, and the next states of a state are computed from the pieces
alone. Outcomes are counted by walking the states in order of depth, adding up the
number of schedules that reach each state, so 63 million interleavings cost a few
hundred thousand states and a few hundred runs.

Every run the explorer makes is checked against the model as it goes (the same
observations, the same pieces, the same threads able to run, the same outcome), and
so are the example schedules and a few random ones at the end: a program that breaks
the model's assumptions (see `rustsync.sched`) makes `Inconsistent` raised, and the
caller runs every schedule instead.
"""

from __future__ import annotations

import heapq
import random
import time
import types
from collections import Counter

from ..errors import ScheduleAborted
from ._engine import (
    FINISHED,
    Deadlock,
    Panic,
    RacyCell,
    ScheduleError,
    SimJoinHandle,
    StepLimit,
    StopRun,
    _cycle,
    _Execution,
    _preempts,
    _replayer,
    _try_order,
    freeze,
)


class Inconsistent(Exception):
    """A real run did not do what the model predicted: the program breaks an assumption of the model explorer."""


class Budget(Exception):
    """The exploration reached its limit of runs or states."""


class Restart(Exception):
    """The program calls `try_lock`: the explorer starts again with a model that splits pieces at releases."""


class LongSchedule(Exception):
    """A schedule ran past `max_steps`, and the exploration is to stop at the first such schedule."""


class Unknown(Exception):
    """A state needs a piece no run has shown yet."""

    def __init__(self, node):
        super().__init__(node)
        self.node = node


class _Tag:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"<{self.name}>"


# tags of fingerprints (identity-hashed, so no value a program makes can look like one)
TUPLE, LIST, DICT, SET, FSET, BOOL, FLOAT, BYTES, OBJ, HANDLE, GUARD, JOINH, ERR, FUNC, INST, ID, VAL, EMPTY = (
    _Tag(n) for n in ("tuple", "list", "dict", "set", "frozenset", "bool", "float", "bytes", "obj", "handle",
                      "guard", "join", "err", "func", "inst", "id", "val", "empty"))
# special observations
SPAWNED, NOTYET, TIMEOUT, BUSY, SOLO = (_Tag(n) for n in ("spawned", "not yet", "timeout", "busy", "solo"))
# how a piece ends
PAUSE, OBSERVE, SPAWN, FINISH = 0, 1, 2, 3
# what a pause waits for (UNLOCK: a release another thread watches from a try_lock, see `Model.watched`)
STEP, LOCK, JOIN, TJOIN, UNLOCK = 0, 1, 2, 3, 4
# actions of a piece
WRITE, DELTA = 0, 1
# what a thread can do at a node (Model.code)
STEPS, LOCKS, WAITS, TIMED, ENDED, UNLOCKS = 1, 2, 3, 4, 5, 6

_NO_OBSERVATION = frozenset({"write", "sleep", "store", "clone:write", "drop:write", "unlock"})
_READ_ONLY = frozenset({"read", "load", "count", "sleep", "lock", "try_lock", "join"})


def observe(op, content):
    """What a step shows its thread, from the content of its object (same for a real run and the model)."""
    if op in _NO_OBSERVATION:
        return None
    if op == "lock":
        return content[1:]  # (poisoned, data): a lock step waits until the holder is None
    if op == "try_lock":
        return BUSY if content[0] is not None else content[1:]
    return content


# --- the model ------------------------------------------------------------------------------


SHARED_DEPTH = 256  # observations after which a thread's pieces are no longer shared with threads alike


class Model:
    """Nodes and pieces of every thread of one program, learned so far; states computed from them.

    With `split`, a thread's piece also ends where it releases a mutex (at the end of a
    `with` block, at `drop(guard)`): such a release is a step when another thread waits
    in a `try_lock` of that mutex, and goes on at once otherwise (`watched`). A program
    that never calls `try_lock` is learned without splitting (its releases are never
    steps); the explorer starts again with `split` at the first `try_lock` it meets.
    """

    def __init__(self, max_steps, split=False):
        self.max_steps = max_steps
        self.split = split
        self.keys = {}  # node key -> node id
        self.origin_of = []  # node id -> origin of its thread
        self.piece = []  # node id -> (actions, end) or None
        # the piece's end, unpacked for the inner loops: its kind (-1 while unknown), what a
        # pause waits for, the object (index) or thread (origin) it refers to, the step's op
        self.kind = []
        self.wait = []
        self.ref = []
        self.op = []
        self.is_fin = []  # node id -> its piece ends the thread
        # what a thread at the node can do, for the inner loop: STEPS can step, LOCKS waits for a
        # lock (ref), WAITS joins (a timed join: TIMED), ENDED has ended, 0 not learned yet
        self.code = []
        self.waits_on = []  # node -> origin of the thread it waits to join, or -1
        self.fin_of = []  # node -> what join() gets from a thread that ended there, else NOTYET
        self.rejoin = {}  # (joiner's node, what each thread's join gives, contents) -> (joiner's next node, contents)
        self.origins = {}  # (parent origin, k-th spawn) -> origin; main is 0
        self.given = {}  # origin -> the name given to spawn, or None
        self.objects = {}  # (node id, k-th object first seen there) -> index into a state's contents
        self.results = {}  # fingerprint of main's result -> the value
        self.keep = []  # objects fingerprinted by identity: kept alive so that ids stay unique
        self.pieces = 0
        self.fast = {}  # (node, observation) -> (next node, its actions, ends the thread)
        # Threads spawned with equal closures (same code, same captured values) behave alike:
        # a piece learned for one serves the others, with the holder of a mutex translated.
        self.cls = {0: ("main",)}  # origin -> what it was spawned with
        self.parent_of = {}  # origin -> the origin that spawned it
        self.creator = []  # object index -> origin of the thread that first showed it
        self.is_mutex = []
        self.hkey = []  # node -> (class, observations) when nothing in them is the thread's own, else None
        self.depth = []  # node -> how many observations led there (hkeys nest that deep)
        self.rep = {}  # hkey -> a node with that key whose piece is known and portable
        self.translated = 0

    # -- naming --------------------------------------------------------------------------

    def node(self, key, origin):
        n = self.keys.get(key)
        if n is None:
            n = self.keys[key] = len(self.piece)
            self.piece.append(None)
            self.origin_of.append(origin)
            self.kind.append(-1)
            self.wait.append(-1)
            self.ref.append(None)
            self.op.append(None)
            self.is_fin.append(False)
            self.code.append(0)
            self.waits_on.append(-1)
            self.fin_of.append(NOTYET)
            if key[0] == "root":
                cls = self.cls.get(origin)
                self.hkey.append(("root", cls) if cls is not None else None)
                self.depth.append(0)
            else:
                parent = self.hkey[key[0]]
                depth = self.depth[key[0]] + 1
                self.depth.append(depth)
                # past SHARED_DEPTH observations a node is not shared: comparing keys nested that deep
                # would exceed Python's recursion limit (a thread that retries for ever gets that far)
                shared = parent is not None and depth <= SHARED_DEPTH and self.portable(key[1], origin)
                self.hkey.append((parent, key[1]) if shared else None)
        return n

    def root(self, origin):
        return self.node(("root", origin), origin)

    def child(self, node, obs):
        n = self.keys.get((node, obs))
        return n if n is not None else self.node((node, obs), self.origin_of[node])

    def origin(self, parent, k):
        key = (parent, k)
        o = self.origins.get(key)
        if o is None:
            o = self.origins[key] = len(self.origins) + 1
        return o

    def object(self, cid, mutex=False):
        idx = self.objects.get(cid)
        if idx is None:
            idx = self.objects[cid] = len(self.objects)
            self.creator.append(self.origin_of[cid[0]])
            self.is_mutex.append(mutex)
        return idx

    def spawned(self, parent, k, cls):
        """The origin of the k-th thread `parent` spawns; `cls` is what it was spawned with."""
        origin = self.origin(parent, k)
        if origin not in self.cls:
            self.parent_of[origin] = parent
            self.cls[origin] = cls if self.portable(cls, origin) else None
        return origin

    def learned(self, node, piece):
        end = piece[1]
        self.piece[node] = piece
        self.kind[node] = end[0]
        self.is_fin[node] = end[0] == FINISH
        if end[0] == PAUSE:
            self.op[node], self.ref[node], self.wait[node] = end[1], end[2], end[3]
            self.code[node] = {STEP: STEPS, LOCK: LOCKS, JOIN: WAITS, TJOIN: TIMED, UNLOCK: UNLOCKS}[end[3]]
            if end[3] == JOIN or end[3] == TJOIN:
                self.waits_on[node] = end[2]
        elif end[0] == FINISH:
            self.code[node] = ENDED
            self.fin_of[node] = end[1]
        if end[0] == SPAWN:
            self.given.setdefault(end[1], end[2])
        self.pieces += 1
        hkey = self.hkey[node]
        if hkey is not None and hkey not in self.rep and self.portable_piece(piece, self.origin_of[node]):
            self.rep[hkey] = node

    # -- threads alike -----------------------------------------------------------------------

    def own(self, origin, me):
        """Whether `origin` is `me` or a thread `me` spawned (directly or not)."""
        while origin is not None:
            if origin == me:
                return True
            origin = self.parent_of.get(origin)
        return False

    def portable(self, x, me):
        """Whether `x` (an observation, a fingerprint) refers to nothing of thread `me`'s own."""
        t = type(x)
        if t is tuple:
            if x:
                head = x[0]
                if head is OBJ or head is GUARD:
                    return not self.own(self.creator[x[1]], me)
                if head is HANDLE:
                    return not self.own(self.creator[x[2]], me)
                if head is JOINH:
                    return not self.own(x[1], me)
                if head is SOLO:
                    return False
            return all(self.portable(y, me) for y in x)
        if t is frozenset:
            return all(self.portable(y, me) for y in x)
        return True

    def portable_piece(self, piece, me):
        actions, end = piece
        for kind, idx, value in actions:
            if self.own(self.creator[idx], me):
                return False
            if kind == WRITE:
                if self.is_mutex[idx]:
                    holder = value[0]
                    if holder is not None and holder != me and self.own(holder, me):
                        return False
                    value = value[1:]
                if not self.portable(value, me):
                    return False
        kind = end[0]
        if kind == SPAWN:
            return False
        if kind == FINISH:
            return self.portable(end[1], me)
        if kind == PAUSE and (end[3] == JOIN or end[3] == TJOIN) or kind == OBSERVE and end[1] != "peek":
            return not self.own(end[2], me)
        return end[2] is None or not self.own(self.creator[end[2]], me)

    def translate(self, node):
        """Learn `node`'s piece from a thread alike that has been there; False when none has."""
        hkey = self.hkey[node]
        rep = self.rep.get(hkey) if hkey is not None else None
        if rep is None:
            return False
        actions, end = self.piece[rep]
        theirs, mine = self.origin_of[rep], self.origin_of[node]
        moved = []
        for kind, idx, value in actions:
            if kind == WRITE and self.is_mutex[idx] and value[0] == theirs:
                value = (mine,) + value[1:]
            moved.append((kind, idx, value))
        self.learned(node, (tuple(moved), end))
        self.translated += 1
        return True

    # -- states ----------------------------------------------------------------------------
    # A state is (threads, contents): the node of each thread (its piece ended there, in a
    # pause or at its end), and the content of each primitive by index (() before it exists).

    def initial(self):
        """The state after the main thread's first piece, with the joins it unblocks."""
        threads, contents = self._initial_lists()
        self._advance(threads, contents)
        return (tuple(threads), _strip(contents))

    def initial_raw(self):
        threads, contents = self._initial_lists()
        return (tuple(threads), _strip(contents))

    def _initial_lists(self):
        threads = [None]
        contents = []
        self._chain(threads, contents, 0, self.root(0))
        return threads, contents

    def observation(self, state, t, how, alone=None):
        """What thread t sees when it resumes (`how`: "step", "join", "timeout") in `state`."""
        threads, contents = state
        node = threads[t]
        if how == "step":
            ref = self.ref[node]
            obs = observe(self.op[node], contents[ref] if ref is not None and ref < len(contents) else ())
        elif how == "join":
            obs = self._fin(threads, self.ref[node])
        else:
            obs = TIMEOUT
        if alone if alone is not None else self._solo(threads, t):
            obs = (SOLO, obs, contents if type(contents) is tuple else _strip(contents))
        return obs

    def resume(self, state, t, how, alone=None):
        """The state after thread `t` takes its step (`how`: "step", "timeout") and the joins it unblocks.

        `alone`: whether t is the only thread still running (computed when not given).
        Returns (state, slept): `slept` when the step was a sleep (the next choice lets the
        others go first).
        """
        threads, contents = state
        node = threads[t]
        obs = self.observation(state, t, how, alone)
        child = self.keys.get((node, obs))
        if child is None:
            child = self.node((node, obs), self.origin_of[node])
        kind = self.kind[child]
        slept = how == "step" and self.op[node] == "sleep"
        if self.split and (kind == PAUSE and self.wait[child] == UNLOCK or self.unlocking(threads)):
            kind = OBSERVE  # a release, or a thread paused at one: the general way, which resumes who goes on
        elif kind == PAUSE:  # the usual case: one piece, then the next step
            actions = self.piece[child][0]
            self.fast[(node, obs)] = (child, actions, False) + _one_write(actions)
            if actions:
                contents = _applied(contents, actions)
            return (threads[:t] + (child,) + threads[t + 1:], contents), slept
        if kind < 0:
            if not self.translate(child):
                raise Unknown(child)
            return self.resume(state, t, how, alone)
        if kind == FINISH:  # the thread's last piece: only the threads joining it need more
            actions = self.piece[child][0]
            self.fast[(node, obs)] = (child, actions, True) + _one_write(actions)
            return self.finish(threads, contents, t, child, actions, slept)
        threads = list(threads)
        contents = list(contents)
        finished = self._chain(threads, contents, t, child)
        if finished or self.split:
            rejoined = self._advance(threads, contents)
            if t in rejoined:
                slept = False
        return (tuple(threads), _strip(contents)), slept

    def unlocking(self, threads):
        """Whether a thread is paused at a release (which may go on without a step after this one)."""
        code = self.code
        for n in threads:
            if code[n] == UNLOCKS:
                return True
        return False

    def watched(self, threads, t, idx):
        """Whether a thread other than t is paused at a `try_lock` of the mutex `idx` (t's release of it is a step)."""
        op, ref, kind = self.op, self.ref, self.kind
        for u, n in enumerate(threads):
            if u != t and n is not None and kind[n] == PAUSE and ref[n] == idx and op[n] == "try_lock":
                return True
        return False

    def finish(self, threads, contents, t, child, actions, slept):
        """Thread t ends at node `child` (its last piece: `actions`); threads waiting to join it go on."""
        threads = threads[:t] + (child,) + threads[t + 1:]
        if actions:
            contents = _applied(contents, actions)
        origin = self.origin_of[child]
        waits_on = self.waits_on
        joiner = 0
        for n in threads:
            if waits_on[n] == origin:
                break
            joiner += 1
        else:
            return (threads, contents), slept
        # The joiner goes on. What it does depends only on its node, on what the join of each
        # thread would give, and on the contents: the same three, the same result.
        fin_of = self.fin_of
        key = (threads[joiner], tuple([fin_of[n] for n in threads]), contents)
        hit = self.rejoin.get(key) if not self.split else None  # (with split, who watches a release matters too)
        if hit is not None:
            return (threads[:joiner] + (hit[0],) + threads[joiner + 1:], hit[1]), slept
        before = threads
        threads = list(threads)
        contents = list(contents)
        rejoined = self._advance(threads, contents)
        if t in rejoined:
            slept = False
        state = (tuple(threads), _strip(contents))
        if not self.split and rejoined == {joiner} and len(threads) == len(before) and all(
                a == b for u, (a, b) in enumerate(zip(before, threads, strict=True)) if u != joiner):
            self.rejoin[key] = (state[0][joiner], state[1])
        return state, slept

    def resume_raw(self, state, t, how):
        threads = list(state[0])
        contents = list(state[1])
        self._resume(threads, contents, t, how)
        return (tuple(threads), _strip(contents))

    def _resume(self, threads, contents, t, how):
        """Apply thread t's step; True if some thread ended (joins may go on)."""
        obs = self.observation((threads, contents), t, how)
        return self._chain(threads, contents, t, self.child(threads[t], obs))

    def _chain(self, threads, contents, t, node):
        """Apply the pieces of thread t from `node` until it pauses or ends; True if a thread ended."""
        piece = self.piece
        ended = False
        while True:
            p = piece[node]
            if p is None:
                if not self.translate(node):
                    raise Unknown(node)
                p = piece[node]
            actions, end = p
            if actions:
                _apply(contents, actions)
            kind = end[0]
            if kind == PAUSE:
                if end[3] == UNLOCK and not self.watched(threads, t, end[2]):
                    node = self.child(node, None)  # nobody watches this release: it goes on at once
                    continue
                threads[t] = node
                return ended
            if kind == FINISH:
                threads[t] = node
                return True
            if kind == OBSERVE:
                node = self.child(node, self._observed(threads, contents, end))
            else:  # SPAWN: the child runs its first piece at once, then this thread goes on
                threads[t] = node
                threads.append(None)
                ended = self._chain(threads, contents, len(threads) - 1, self.root(end[1])) or ended
                node = self.child(node, SPAWNED)

    def _observed(self, threads, contents, end):
        kind, ref = end[1], end[2]
        if kind == "peek":
            return contents[ref] if ref < len(contents) else ()
        tid = self._tid(threads, ref)
        done = self.is_fin[threads[tid]]
        if kind == "finished":
            return done
        return self.piece[threads[tid]][1][1] if done else NOTYET  # "join": the result, if there is one

    def _fin(self, threads, origin):
        return self.piece[threads[self._tid(threads, origin)]][1][1]

    def _tid(self, threads, origin):
        origin_of = self.origin_of
        if origin < len(threads):  # the usual case: the threads were spawned in the order of their origins
            n = threads[origin]
            if n is not None and origin_of[n] == origin:
                return origin
        for tid, n in enumerate(threads):
            if n is not None and origin_of[n] == origin:
                return tid
        raise KeyError(origin)

    def _solo(self, threads, t):
        is_fin = self.is_fin
        for u, n in enumerate(threads):
            if u != t and not is_fin[n]:
                return False
        return True

    def _advance(self, threads, contents):
        """Resume every thread whose join can go on, or whose release nobody watches now, in the engine's order.

        Returns the threads resumed.
        """
        rejoined = set()
        code, ref, is_fin, piece, tid_of = self.code, self.ref, self.is_fin, self.piece, self._tid
        moved = True
        while moved:
            moved = False
            u = 0
            while u < len(threads):
                n = threads[u]
                c = code[n]
                if c == UNLOCKS and not self.watched(threads, u, ref[n]):
                    obs = None  # the release went on without a step: nothing observed
                    if self._solo(threads, u):
                        obs = (SOLO, obs, _strip(contents))
                    self._chain(threads, contents, u, self.child(n, obs))
                    rejoined.add(u)
                    moved = True
                elif c == WAITS or c == TIMED:
                    target = threads[tid_of(threads, ref[n])]
                    if is_fin[target]:
                        obs = piece[target][1][1]  # what join() returns: the result, or the panic
                        if self._solo(threads, u):
                            obs = (SOLO, obs, _strip(contents))
                        self._chain(threads, contents, u, self.child(n, obs))
                        rejoined.add(u)
                        moved = True
                u += 1
        return rejoined

    def terminal(self, state, depth):
        """(outcome or None, the threads to choose from, whether they are timed joins giving up, alone).

        `alone`: there is one thread still running (what `resume` needs to know).
        """
        threads, contents = state
        code, ref = self.code, self.ref
        enabled = []
        timed = None
        live = 0
        tid = 0
        for n in threads:
            c = code[n]
            if c == STEPS or c == UNLOCKS:
                enabled.append(tid)
                live += 1
            elif c != ENDED:
                live += 1
                if c == LOCKS:
                    if contents[ref[n]][0] is None:
                        enabled.append(tid)
                elif c == TIMED:
                    if timed is None:
                        timed = []
                    timed.append(tid)
            tid += 1
        if depth < self.max_steps:
            if enabled:
                return None, enabled, False, live == 1
            if timed:
                return None, timed, True, live == 1
        main = self.piece[threads[0]][1]
        if main[0] == FINISH and not main[1][0]:
            error = main[1][1]
            return Panic(0, f"{error[1]}: {error[2]}"), (), False, False
        if not live:
            return self.results[main[1][1]], (), False, False
        if not enabled and not timed:
            return self._deadlock(state), (), False, False
        running = tuple(t for t, n in enumerate(threads) if not self.is_fin[n])
        return StepLimit(self.max_steps, running), (), False, False

    def _deadlock(self, state):
        threads, contents = state
        waits = []
        for tid, n in enumerate(threads):
            end = self.piece[n][1]
            if end[0] != PAUSE or end[3] == STEP or end[3] == UNLOCK:
                continue
            if end[3] == LOCK:
                holder = contents[end[2]][0]
                waits.append((tid, end[4], self._tid(threads, holder) if holder is not None else None))
            else:
                target = self._tid(threads, end[2])
                waits.append((tid, f"join {self.thread_name(threads, target)}", target))
        return Deadlock(tuple(waits), _cycle(waits))

    def thread_name(self, threads, tid):
        if tid == 0:
            return "main"
        return self.given.get(self.origin_of[threads[tid]]) or f"thread-{tid}"


def _one_write(actions):
    """(index, value) when `actions` is a single write of a value that is not (), else (-1, None)."""
    if len(actions) == 1 and actions[0][0] == WRITE and actions[0][2] != ():
        return (actions[0][1], actions[0][2])
    return (-1, None)


def _applied(contents, actions):
    """A new contents tuple: `contents` with `actions` applied."""
    if len(actions) == 1:
        kind, idx, value = actions[0]
        if kind == WRITE and idx < len(contents) and value != ():
            return contents[:idx] + (value,) + contents[idx + 1:]
    out = list(contents)
    _apply(out, actions)
    return _strip(out)


def _apply(contents, actions):
    for kind, idx, value in actions:
        if idx >= len(contents):
            contents.extend([()] * (idx + 1 - len(contents)))
        if kind == WRITE:
            contents[idx] = value
        else:
            old = contents[idx]
            contents[idx] = (old[0] + value,) + old[1:]


def _strip(contents):
    n = len(contents)
    while n and contents[n - 1] == ():
        n -= 1
    return tuple(contents[:n])


# --- the recorder: a real run, watched -------------------------------------------------------


class Recorder:
    """Watches one real run: records each piece into the model, and checks the run against the model."""

    def __init__(self, model, expected=None):
        from ..atomic import AtomicUsize
        from ..mutex import Mutex, MutexGuard
        from ..rc import _Counted, _Shared

        self.model = model
        self.expected = expected  # the model's states after each step of the schedule, when it knows them
        self.ids = {}  # id(object) -> index
        self.keep = []
        self.broken = None
        self.shadow = None  # the model's state, moved along with the run
        self.resuming = False
        self.timed = False
        self.long = False
        self.split_needed = False  # a try_lock, met by a model that does not split pieces at releases
        self.execution = None
        self.kinds = {RacyCell: "cell", Mutex: "mutex", AtomicUsize: "atomic", _Shared: "shared"}
        self.Mutex, self.MutexGuard, self.Counted = Mutex, MutexGuard, _Counted

    def attach(self, execution):
        self.execution = execution

    def fail(self, why):
        if self.broken is None:
            self.broken = why
        self.shadow = None

    # -- fingerprints ----------------------------------------------------------------------

    def fp(self, v, depth=0):
        t = type(v)
        if t is int or t is str or v is None:
            return v
        if t is bool:
            return (BOOL, v)
        if t is float:
            return (FLOAT, v)
        if depth > 30:
            return self.opaque(v)
        d = depth + 1
        fp = self.fp
        if t is tuple:
            return (TUPLE,) + tuple([fp(x, d) for x in v])
        if t is list:
            return (LIST,) + tuple([fp(x, d) for x in v])
        if t is dict:
            return (DICT,) + tuple([(fp(k, d), fp(x, d)) for k, x in v.items()])
        if t is set or t is frozenset:
            return (SET if t is set else FSET, frozenset([fp(x, d) for x in v]))
        if t is bytes:
            return (BYTES, v)
        if t in self.kinds:
            return (OBJ, self.index(v))
        if isinstance(v, self.Counted):
            return (HANDLE, type(v).__name__, self.index(v._shared), v.__dict__.get("_alive"))
        if isinstance(v, self.MutexGuard):
            return (GUARD, self.index(v._mutex), v._live)
        if isinstance(v, SimJoinHandle):
            return (JOINH, v._thread.origin, v._joined)
        if isinstance(v, BaseException):
            return (ERR, type(v).__name__, str(v))
        if isinstance(v, (Deadlock, Panic, StepLimit)):
            return (VAL, v)
        if isinstance(v, types.FunctionType):
            cells = []
            for cell in v.__closure__ or ():
                try:
                    cells.append(fp(cell.cell_contents, d))
                except ValueError:
                    cells.append(EMPTY)
            return (FUNC, v.__code__, tuple(cells), fp(v.__defaults__, d))
        if isinstance(v, types.MethodType):
            return (FUNC, v.__func__.__code__, fp(v.__self__, d))
        if isinstance(v, (type, types.ModuleType, types.BuiltinFunctionType)):
            return (ID, v)
        fingerprint = getattr(t, "fingerprint", None) if t.__module__ == "rustsync.grading.grader" else None
        if fingerprint is not None:  # a student's function, run in the student's process while grading
            found = v.fingerprint(lambda x: fp(x, d))
            if found is not None:
                return (FUNC,) + found
        attrs = getattr(v, "__dict__", None)
        if type(attrs) is dict and not hasattr(type(v), "__slots__"):
            return (INST, t, fp(attrs, d))
        return self.opaque(v)

    def opaque(self, v):
        self.model.keep.append(v)
        return (ID, type(v).__qualname__, id(v))

    def content(self, obj):
        kind = self.kinds.get(type(obj))
        if kind == "cell":
            return self.fp(obj._value)
        if kind == "mutex":
            holder = obj._sim_holder
            return (holder.origin if holder is not None else None, obj._poisoned, self.fp(obj._value))
        if kind == "atomic":
            return obj._value
        if kind == "shared":
            return (obj.strong, self.fp(obj.value))
        self.fail(f"a step on an object the model does not know ({type(obj).__name__})")
        return ()

    def index(self, obj):
        idx = self.ids.get(id(obj))
        if idx is not None:
            return idx
        t = self.execution.running
        if type(obj) not in self.kinds or t is None or t.actions is None:
            self.fail(f"an object the model cannot follow ({type(obj).__name__})")
            return -1
        if self.resuming:
            self.fail(f"thread {t.tid} reached `{getattr(obj, 'name', '?')}` before any thread had handed it "
                      "over through spawn or a primitive (shared through a plain Python object?)")
        cid = (t.node, t.seq)
        t.seq += 1
        idx = self.model.object(cid, self.kinds[type(obj)] == "mutex")
        self.ids[id(obj)] = idx
        self.keep.append(obj)
        t.actions.append((WRITE, idx, self.content(obj)))
        return idx

    # -- pieces ----------------------------------------------------------------------------

    def _begin(self, t, node):
        t.node = node
        t.actions = []
        t.written = {}
        t.seq = 0

    def _flush(self, t):
        if t.written:
            for idx, obj in list(t.written.items()):
                t.actions.append((WRITE, idx, self.content(obj)))
            t.written = {}

    def _end(self, t, end):
        self._flush(t)
        piece = (tuple(t.actions), end)
        t.actions = None
        model = self.model
        old = model.piece[t.node]
        if old is None:
            model.learned(t.node, piece)
        elif old != piece:
            self.fail(f"thread {t.tid} did something else after the same observations ({_differ(old, piece)}): "
                      "it depends on data the scheduler cannot see")

    def _owner(self, thread):
        running = self.execution.running
        return running if running is not None else thread

    # -- called by the engine --------------------------------------------------------------

    def started(self, main):
        main.origin = 0
        self._begin(main, self.model.root(0))

    def initial_done(self):
        if self.broken:
            return
        self._shadow(lambda: self.model.initial_raw())

    def pause(self, thread, op, obj):
        if self.execution.aborting:
            return
        t = thread
        if op == "join":
            end = (PAUSE, "join", obj.origin, TJOIN if t.timed else JOIN, None)
        elif op == "lock":
            end = (PAUSE, "lock", self.index(obj), LOCK, obj.name)
        elif op == "unlock":
            end = (PAUSE, "unlock", self.index(obj), UNLOCK, None)
        else:
            if op == "try_lock" and not self.model.split:
                self.split_needed = True
                self.fail("a try_lock: the releases of locks must be learned as points of their own")
            end = (PAUSE, op, self.index(obj) if obj is not None else None, STEP, None)
        self._end(t, end)

    def resume(self, thread, op, obj):
        t = thread
        self.resuming = True
        try:
            if op == "join":
                obs = TIMEOUT if t.timed_out else obj.fin
            else:
                obs = observe(op, self.content(obj) if obj is not None else ())
        finally:
            self.resuming = False
        shadow = self.shadow
        if shadow is not None and self.model._solo(shadow[0], t.tid):
            obs = (SOLO, obs, shadow[1])
        t.step = (op, obj)
        self._begin(t, self.model.child(t.node, obs))

    def boundary(self, thread, mutex):
        """A release nobody watches: with `split`, the piece ends here all the same, and the next begins."""
        if not self.model.split or self.execution.aborting:
            return
        t = self._owner(thread)
        if t.actions is None:
            return
        self.pause(t, "unlock", mutex)
        self._begin(t, self.model.child(t.node, None))

    def done(self, thread):
        op, obj = getattr(thread, "step", (None, None))
        if obj is not None and op not in _READ_ONLY and not op.endswith(":read"):
            self.wrote(thread, obj)

    def wrote(self, thread, obj):
        if self.execution.aborting:
            return
        t = self._owner(thread)
        if t.actions is None:
            return
        t.written[self.index(obj)] = obj

    def event(self, thread, op, obj):
        if self.execution.aborting or op == "read":
            return
        t = self._owner(thread)
        if t.actions is None:
            return
        if op in ("clone", "drop") and self.kinds.get(type(obj)) == "shared":
            idx = self.ids.get(id(obj))
            if idx is None:
                self.index(obj)  # first seen now: its content already counts this change
            elif idx not in t.written:
                t.actions.append((DELTA, idx, 1 if op == "clone" else -1))
        elif type(obj) in self.kinds:
            self.wrote(t, obj)

    def observe(self, thread, kind, target):
        if self.execution.aborting:
            return
        t = thread
        if kind == "peek":
            ref = self.index(target)
            self.resuming = True
            try:
                value = self.content(target)
            finally:
                self.resuming = False
        else:
            ref = target.origin
            done = target.state == FINISHED
            value = done if kind == "finished" else (target.fin if done else NOTYET)
        self._end(t, (OBSERVE, kind, ref))
        self._begin(t, self.model.child(t.node, value))

    def spawn(self, parent, child, closure, moved):
        t = self._owner(parent)
        cls = (self.fp(closure), tuple(self.fp(value) for value in moved))  # names what the child can reach
        origin = self.model.spawned(t.origin, t.spawned, cls)
        t.spawned += 1
        child.origin = origin
        self._end(t, (SPAWN, origin, child.given_name))
        self._begin(t, self.model.child(t.node, SPAWNED))
        self._begin(child, self.model.root(origin))

    def finished(self, thread):
        t = thread
        if t.error is None:
            fin = (True, self.fp(t.result))
            if t.tid == 0:
                self.model.results.setdefault(fin[1], t.result)
        else:
            fin = (False, (ERR, type(t.error).__name__, str(t.error)))
        t.fin = fin
        self._end(t, (FINISH, fin))

    def choosing(self, enabled, timed):
        shadow = self.shadow
        if shadow is None:
            return
        depth = len(self.execution.schedule)
        expected = self.expected
        if expected is not None and depth < len(expected) and expected[depth] != shadow:
            self.fail(f"after {depth} steps the run is not in the state the model predicted")
            return
        outcome, choices, timed, _ = self.model.terminal(shadow, depth)
        self.timed = timed
        if list(choices) != list(enabled):
            self.fail(f"after {depth} steps threads {enabled} can run, the model said {list(choices)}")

    def unknown(self, enabled, prev, yielded, depth=0, lookahead=48):
        """A thread among `enabled` that leads to a piece the model has not learned, or None.

        First a thread whose very next piece is unknown; else the first step of the
        shortest way, through known pieces, to one that is (looking at `lookahead` states
        at most), so that a run goes on teaching the model instead of stopping.
        """
        shadow = self.shadow
        if shadow is None:
            return None
        model = self.model
        first = self._unknown_next(shadow, _try_order(enabled, prev, yielded), self.timed)
        if first is not None or not lookahead:
            return first
        frontier = []
        for tid in _try_order(enabled, prev, yielded):
            try:
                child, _ = model.resume(shadow, tid, "timeout" if self.timed else "step")
            except (Unknown, KeyError, IndexError):
                return tid
            frontier.append((child, tid))
        seen = 0
        while frontier and seen < lookahead:
            following = []
            for state, tid in frontier:
                seen += 1
                outcome, choices, timed, _ = model.terminal(state, depth)
                if outcome is not None:
                    continue
                if self._unknown_next(state, choices, timed) is not None:
                    return tid
                for nxt in choices:
                    try:
                        child, _ = model.resume(state, nxt, "timeout" if timed else "step")
                    except (Unknown, KeyError, IndexError):
                        return tid
                    following.append((child, tid))
            frontier = following
        return None

    def _unknown_next(self, state, order, timed):
        model = self.model
        how = "timeout" if timed else "step"
        for tid in order:
            try:
                node = model.child(state[0][tid], model.observation(state, tid, how))
            except (KeyError, IndexError):
                return tid
            if model.piece[node] is None and not model.translate(node):
                return tid
        return None

    def resumed(self, tid, how):
        if self.shadow is None or self.broken:
            return
        state = self.shadow
        self._shadow(lambda: self.model.resume_raw(state, tid, how))

    def _shadow(self, compute):
        try:
            state = compute()
        except (Unknown, KeyError, IndexError) as err:
            self.fail(f"the model could not follow the run ({type(err).__name__})")
            return
        real = tuple(t.node for t in self.execution.threads)
        if real != state[0]:
            self.fail("a thread reached a different point than the model predicted from the same observations")
            return
        self.shadow = state

    def ended(self, run):
        shadow = self.shadow
        if shadow is None or self.broken:
            return
        depth = len(run.schedule)
        expected = self.expected
        if expected is not None and depth < len(expected) and expected[depth] != shadow:
            self.fail("the run did not end in the state the model predicted")
            return
        try:
            outcome = self.model.terminal(shadow, depth)[0]
        except KeyError:
            outcome = None
        if outcome is None or freeze(outcome) != freeze(run.outcome):
            self.fail(f"the run ended with {run.outcome!r}, the model predicted {outcome!r}")


def _differ(old, new):
    """How two pieces of the same point of a thread differ, in words."""
    (before, end_before), (now, end_now) = old, new
    if end_before[0] != end_now[0] or (end_before[0] == PAUSE and end_before[1] != end_now[1]):
        return f"{_ending(end_before)} in one run, {_ending(end_now)} in another"
    if end_before != end_now:
        return f"{_ending(end_now)}, with a different result" if end_now[0] == FINISH else \
            f"{_ending(end_now)} of another object"
    return f"it wrote other values ({len(before)} writes in one run, {len(now)} in another)"


def _ending(end):
    if end[0] == PAUSE:
        return f"a `{end[1]}` step"
    return {OBSERVE: "a read", SPAWN: "a spawn", FINISH: "its end"}[end[0]]


# --- the searches ---------------------------------------------------------------------------------


class Explorer:
    """Explores one program with a model: counts, examples, checks, the simplest schedule to an outcome."""

    def __init__(self, program, *, bound, max_steps, max_runs, max_states, clock, state, seed=0,
                 stop_at_step_limit=False):
        self.program = program
        self.stop_at_step_limit = stop_at_step_limit
        self.bound = bound
        self.max_steps = max_steps
        self.max_runs = max_runs
        self.max_states = max_states
        self.clock = clock
        self.state = state
        self.model = Model(max_steps)
        self.runs = 0
        self.states = 0
        self.rng = random.Random(seed)

    # -- running the program ---------------------------------------------------------------

    def run(self, schedule, expected=None):
        """A real run following `schedule`, recorded into the model and checked against it.

        Past the schedule, the run takes the steps whose pieces are still unknown when it
        can (the default choice otherwise), so that each run teaches the model as much as it can.
        """
        if self.state.get("stop"):
            raise ScheduleAborted()
        if self.runs >= self.max_runs:
            raise Budget(f"{self.runs} runs")
        rec = Recorder(self.model, expected)
        long = LONG if self.stop_at_step_limit else None
        chooser = _learning(schedule, rec, self.bound, long) if expected is None else _replayer(schedule, strict=False)
        execution = _Execution(chooser, self.max_steps, self.clock, recorder=rec, stop=self.state)
        self.state["execution"] = execution
        self.runs += 1
        try:
            result = execution.run(self.program)
        except ScheduleError as err:
            rec.fail(f"a schedule the model predicted could not be followed ({err})")
            result = None
        if rec.split_needed:
            self.model = Model(self.max_steps, split=True)
            raise Restart()
        if rec.broken:
            raise Inconsistent(rec.broken)
        if self.stop_at_step_limit and (rec.long or result is not None and isinstance(result.outcome, StepLimit)):
            raise LongSchedule()
        return result

    def need(self, compute, path):
        """compute(), learning the pieces it needs by runs along path() until it can."""
        while True:
            try:
                return compute()
            except Unknown as missing:
                self.run(path())
                if self.model.piece[missing.node] is None:
                    raise Inconsistent("a run along the model's schedule did not reach the point it "
                                       "needed") from None

    def tick(self):
        self.states += 1
        if not self.states & 1023:
            self.heartbeat()

    def heartbeat(self):
        """Tell the watchdog the exploration is alive; stop at its word or at the budget."""
        self.clock[0] = time.monotonic()
        if self.state.get("stop"):
            raise ScheduleAborted()
        if self.states > self.max_states:
            raise Budget(f"{self.states} states")

    def states_along(self, schedule):
        """The model's states after each step of `schedule` (for checking a run against them)."""
        model = self.model
        state = model.initial()
        out = [state]
        for tid in schedule:
            _, choices, timed, alone = model.terminal(state, len(out) - 1)
            if tid not in choices:
                break
            state, _ = model.resume(state, tid, "timeout" if timed else "step", alone)
            out.append(state)
        return out

    def _step(self, state, tid, how, alone, path):
        model = self.model
        try:
            return model.resume(state, tid, how, alone)
        except Unknown:
            return self.need(lambda: model.resume(state, tid, how, alone), path)

    # -- counting --------------------------------------------------------------------------

    def count(self):
        """Every schedule, counted by outcome, depth by depth. (outcomes, complete).

        The inner loop does inline what `Model.terminal` and `Model.resume` do for the
        usual state (threads that can step, no timed join) and the usual step (a piece
        seen before that ends in a pause, or ends its thread with nobody waiting to join
        it); anything else goes through them.
        """
        model, bound = self.model, self.bound
        root = self.need(model.initial, list)
        first = root if bound is None else (root, None, False, 0)
        layer = {first: [1, None]}  # state -> [schedules reaching it, how one of them did: (tid, link)]
        outcomes = Counter()
        depth = 0
        terminal, resume, fast, finish = model.terminal, model.resume, model.fast, model.finish
        ops, refs, code, waits_on, origin_of = model.op, model.ref, model.code, model.waits_on, model.origin_of
        no_obs = _NO_OBSERVATION
        max_steps = self.max_steps
        states = self.states
        try:
            while layer:
                following = {}
                get = following.get
                for key, (count, link) in layer.items():
                    states += 1
                    if not states & 1023:
                        self.states = states
                        self.heartbeat()
                    if bound is None:
                        state = key
                    else:
                        state, prev, yielded, spent = key
                    threads, contents = state
                    # the threads that can take a step (Model.terminal, inline)
                    choices = []
                    live = 0
                    plain = True
                    unlocking = False
                    tid = 0
                    for n in threads:
                        c = code[n]
                        if c == STEPS:
                            choices.append(tid)
                            live += 1
                        elif c == UNLOCKS:  # a watched release: Model.resume's general way
                            choices.append(tid)
                            live += 1
                            unlocking = True
                        elif c != ENDED:
                            live += 1
                            if c == LOCKS:
                                if contents[refs[n]][0] is None:
                                    choices.append(tid)
                            elif c == TIMED:
                                plain = False
                        tid += 1
                    if not choices or not plain or depth >= max_steps:
                        outcome, choices, timed, alone = terminal(state, depth)
                        if outcome is not None:
                            if self.stop_at_step_limit and isinstance(outcome, StepLimit):
                                raise LongSchedule()
                            outcomes[freeze(outcome)] += count
                            continue
                    else:
                        timed, alone = False, live == 1
                    quick = not (timed or alone or unlocking)
                    how = "timeout" if timed else "step"
                    for tid in choices:
                        if bound is not None:
                            cost = spent + _preempts(choices, tid, prev, yielded)
                            if cost > bound:
                                continue
                        hit = None
                        if quick:  # the usual step (Model.resume, inline) for a piece seen before
                            node = threads[tid]
                            op = ops[node]
                            if op in no_obs:
                                obs = None
                            else:
                                ref = refs[node]
                                obs = contents[ref] if ref is not None and ref < len(contents) else ()
                                if op == "lock" or op == "try_lock":
                                    obs = observe(op, obs)
                            hit = fast.get((node, obs))
                        try:
                            if hit is None:
                                child, slept = resume(state, tid, how, alone)
                            else:
                                next_node, actions, ends, index, value = hit
                                slept = op == "sleep"
                                if index >= 0 and index < len(contents):  # one write: the usual piece
                                    written = contents[:index] + (value,) + contents[index + 1:]
                                elif actions:
                                    written = _applied(contents, actions)
                                else:
                                    written = contents
                                moved = threads[:tid] + (next_node,) + threads[tid + 1:]
                                child = (moved, written)
                                if ends:  # the thread ended: does anyone wait to join it?
                                    origin = origin_of[next_node]
                                    for n in moved:
                                        if waits_on[n] == origin:
                                            child, slept = finish(threads, contents, tid, next_node, actions, slept)
                                            break
                        except Unknown:
                            child, slept = self._step(state, tid, how, alone,
                                                      lambda tid=tid, link=link: _path(link) + [tid])
                        child_key = child if bound is None else (child, tid, slept, cost)
                        known = get(child_key)
                        if known is None:
                            following[child_key] = [count, (tid, link)]
                        else:
                            known[0] += count
                layer = following
                depth += 1
        except Budget:
            return outcomes, False
        finally:
            self.states = max(self.states, states)
        return outcomes, True

    # -- examples ----------------------------------------------------------------------------

    def examples(self, wanted):
        """The first schedule reaching each outcome, in the order `explore(mode="every")` runs them.

        Depth first, the default choice first; a state already visited is not visited again
        (its outcomes were all reached, earlier, from its first visit).
        """
        model, bound = self.model, self.bound
        found = {}
        visited = set()
        path = []
        stack = []

        def push(state, prev, yielded, spent):
            key = state if bound is None else (state, prev, yielded, spent)
            if key in visited:
                return False
            visited.add(key)
            self.tick()
            outcome, choices, timed, alone = model.terminal(state, len(path))
            if outcome is not None:
                found.setdefault(freeze(outcome), list(path))
                return False
            order = _try_order(choices, prev, yielded)
            stack.append([state, prev, yielded, spent, choices, order, 0, "timeout" if timed else "step", alone])
            return True

        push(self.need(model.initial, list), None, False, 0)
        try:
            while stack and len(found) < wanted:
                frame = stack[-1]
                state, prev, yielded, spent, choices, order, i, how, alone = frame
                if i == len(order):
                    stack.pop()
                    if path:
                        path.pop()
                    continue
                frame[6] = i + 1
                tid = order[i]
                cost = spent
                if bound is not None:
                    cost += _preempts(choices, tid, prev, yielded)
                    if cost > bound:
                        continue
                child, slept = self._step(state, tid, how, alone, lambda: path + [tid])
                path.append(tid)
                if not push(child, tid, slept, cost):
                    path.pop()
        except Budget:
            pass
        return found

    # -- checks --------------------------------------------------------------------------------

    def check(self, schedules, random_walks):
        """Run each schedule for real, checked step by step against the model; then a few random ones."""
        for schedule in schedules:
            self.run(schedule, expected=self.states_along(schedule))
        for _ in range(random_walks):
            schedule = self.random_schedule()
            self.run(schedule, expected=self.states_along(schedule))

    def random_schedule(self):
        model, bound = self.model, self.bound
        state = model.initial()
        prev, yielded, spent = None, False, 0
        schedule = []
        while True:
            _, choices, timed, alone = model.terminal(state, len(schedule))
            if not choices:
                return schedule
            allowed = choices
            if bound is not None:
                allowed = [t for t in choices if spent + _preempts(choices, t, prev, yielded) <= bound]
            tid = allowed[self.rng.randrange(len(allowed))]
            spent += _preempts(choices, tid, prev, yielded)
            state, yielded = self._step(state, tid, "timeout" if timed else "step", alone,
                                        lambda: schedule + [tid])
            schedule.append(tid)
            prev = tid

    # -- the simplest schedule -----------------------------------------------------------------

    def simplest(self, predicate, max_preemptions=None):
        """The schedule with the fewest preemptions, then the fewest steps, whose outcome satisfies predicate.

        (schedule, preemptions, outcome), or None when no schedule does. A search by cost
        (preemptions, steps), which finds what deepening the bound one preemption at a time
        would find, with each state visited once.
        """
        model = self.model
        root = self.need(model.initial, list)
        heap = [(0, 0, 0, root, None, False, None)]
        done = set()
        seq = 1
        while heap:
            cost, depth, _, state, prev, yielded, link = heapq.heappop(heap)
            key = (state, prev, yielded)
            if key in done:
                continue
            done.add(key)
            self.tick()
            outcome, choices, timed, alone = model.terminal(state, depth)
            if outcome is not None:
                if predicate(outcome):
                    return _path(link), cost, outcome
                continue
            how = "timeout" if timed else "step"
            for tid in choices:
                more = cost + _preempts(choices, tid, prev, yielded)
                if max_preemptions is not None and more > max_preemptions:
                    continue
                child, slept = self._step(state, tid, how, alone, lambda tid=tid, link=link: _path(link) + [tid])
                if (child, tid, slept) not in done:
                    heapq.heappush(heap, (more, depth + 1, seq, child, tid, slept, (tid, link)))
                    seq += 1
        return None


LONG = 1000  # steps past its schedule after which a learning run is taken for one that may never end


def _learning(schedule, rec, bound, long=None):
    """Follow `schedule`; then take a step whose piece the model does not know yet, while there is one.

    Past the schedule the run stays within the preemption bound, and ends as soon as no
    thread that can run has an unknown next piece: its later steps would teach nothing.
    With `long`, a run that goes on for that many steps past the schedule ends too, and
    says so (`rec.long`): a thread may spin forever.
    """
    follow = _replayer(schedule, strict=False)
    spent = [0, 0]  # preemptions so far, over the first spent[1] choices

    def choose(i, enabled, prev, execution):
        if i < len(schedule):
            return follow(i, enabled, prev, execution)
        if long is not None and i - len(schedule) >= long:
            rec.long = True
            raise StopRun()
        choices = execution.choices
        while spent[1] < len(choices):
            spent[0] += _preempts(*choices[spent[1]])
            spent[1] += 1
        yielded = execution.yielded
        allowed = enabled
        if bound is not None:
            allowed = [t for t in enabled if spent[0] + _preempts(enabled, t, prev, yielded) <= bound]
        tid = rec.unknown(allowed, prev, yielded) if allowed else None
        if tid is None:
            raise StopRun()
        return tid
    return choose


def _path(link):
    out = []
    while link is not None:
        out.append(link[0])
        link = link[1]
    out.reverse()
    return out
