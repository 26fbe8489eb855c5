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

Points with the same future are one node where the model can tell without running:
after a join that waited and one that did not (`Model.node`), after joins made alone
(the same), and a thread's end, one per result in the counted states (`merged`). The
counted states also merge threads alike (`canonical`, used by `_searches`): a node's
class-level name (`hid`) says where a thread is whichever thread alike it is, and
`node_of` gives another thread alike's node at the same place. The learning runs of
this module's recorder (`_recorder`) and the counts of `_searches` use it.
"""

from __future__ import annotations

from ._engine import (
    Deadlock,
    Panic,
    StepLimit,
    _cycle,
)


class Inconsistent(Exception):
    """A real run did not do what the model predicted: the program breaks an assumption of the model explorer."""


class Budget(Exception):
    """The exploration reached its limit of runs or states."""


class Restart(Exception):
    """The program calls `try_lock`: the explorer starts again with a model that splits pieces at releases."""


class LongSchedule(Exception):
    """A schedule ran past `max_steps`, and the exploration is to stop at the first such schedule."""


class Asymmetric(Exception):
    """Threads alike cannot be counted as one in this program: the counts are made without symmetry."""


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


EXAMPLE_STATES = 20_000  # states the depth-first search for examples visits at most
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
        self.key_of = []  # node id -> its key
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
        # Class-level names of nodes, for symmetry: an hkey interned as an int (hid), and the
        # node each thread has at each hid, so that a state's threads alike can be permuted.
        self.hid = []  # node -> hid, or -1 when the node is the thread's own (hkey None)
        self.hkeys = []  # hid -> hkey
        self.hids = {}  # hkey -> hid
        self.hnode = {}  # (origin, hid) -> node
        # A finished thread has no future: only what join() gives matters. Its nodes are
        # merged into one per (origin, result) in the counted states.
        self.final = {}  # (origin, fin) -> the node that stands for every end of `origin` with `fin`
        self.fin_ids = {}  # (class, fin) -> a small int, the order of ends of threads alike
        self.asymmetric = None  # why threads alike could not be counted as one, once seen
        self.sym_key = {}  # node -> (class number, sort key, origin) or None: see `_sym_key`
        self.cls_ids = {}  # class -> its number
        self.movable_hid = {}  # hid -> whether a thread alike can be moved there (its piece is portable)
        self.fin_hid = {}  # fin key (see `fin_key`) -> hid of an end with that result
        self.sym_final = {}  # (origin, fin key) -> the node standing for that end

    # -- naming --------------------------------------------------------------------------

    def node(self, key, origin):
        n = self.keys.get(key)
        if n is None:
            if key[0] != "root":
                before = self.key_of[key[0]]
                if (before[0] != "root" and before[1] is NOTYET and self.wait[key[0]] == JOIN
                        and self.kind[key[0]] == PAUSE):
                    # A join that waited goes on as one that found the thread ended: join()
                    # returns the same, so the thread's future is the same (one node for both).
                    n = self.keys[key] = self.child(before[0], key[1])
                    return n
                obs = key[1]
                if _made_alone(obs) and before[0] != "root" and _made_alone(before[1]) and before[1][2] == obs[2]:
                    # Two joins in a row, both while this thread was the only one running, with nothing
                    # written between them: the first need not say so (the second says it, with the
                    # same contents), so the history is the one where only the second was alone.
                    mine, theirs = self.piece[key[0]], self.piece[before[0]]
                    if (mine is not None and not mine[0] and mine[1][0] == OBSERVE and mine[1][1] == "join"
                            and theirs is not None and theirs[1][0] == OBSERVE and theirs[1][1] == "join"):
                        n = self.keys[key] = self.child(self.child(before[0], before[1][1]), obs)
                        return n
            n = self.keys[key] = len(self.piece)
            self.key_of.append(key)
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
            hk = self.hkey[n]
            if hk is None:
                self.hid.append(-1)
            else:
                h = self.hids.get(hk)
                if h is None:
                    h = self.hids[hk] = len(self.hkeys)
                    self.hkeys.append(hk)
                self.hid.append(h)
                self.hnode.setdefault((origin, h), n)
        return n

    def node_of(self, origin, h):
        """The node of thread `origin` at the class-level point `h` (an hid), with its piece; None if there is none."""
        n = self._node_at(origin, h)
        if n is None or self.piece[n] is None and not self.translate(n):
            return None
        return n

    def _node_at(self, origin, h):
        n = self.hnode.get((origin, h))
        if n is not None:
            return n
        hk = self.hkeys[h]
        if hk[0] == "root":
            if self.cls.get(origin) != hk[1]:
                return None
            n = self.root(origin)
        else:
            parent = self._node_at(origin, self.hids[hk[0]])
            if parent is None:
                return None
            n = self.child(parent, hk[1])
        return n if self.hid[n] == h else None

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
            return self._unalone(node)
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

    def _unalone(self, node):
        """Learn the piece after a join that found its thread alone from the same join made in company.

        join() returns the same value either way, and the thread runs the same code; only a
        read outside a step could tell, and the model follows those only where the thread is
        alone in every schedule (see `rustsync.sched`). False when that join has no piece yet.
        """
        key = self.key_of[node]
        if key[0] == "root" or not _made_alone(key[1]):
            return False
        parent = self.piece[key[0]]
        if parent is None or not (parent[1][0] == OBSERVE and parent[1][1] == "join"
                                  or parent[1][0] == PAUSE and parent[1][3] == JOIN):
            return False
        other = self.keys.get((key[0], key[1][1]))
        if other is None or self.piece[other] is None:
            return False
        self.learned(node, self.piece[other])
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

    # -- counted states: finished threads merged, threads alike permuted -------------------------

    def merged(self, state):
        """`state` with each finished thread at the one node that stands for its end with its result."""
        threads, contents = state
        is_fin, final, origin_of, fin_of = self.is_fin, self.final, self.origin_of, self.fin_of
        out = None
        for p, n in enumerate(threads):
            if is_fin[n]:
                c = final.setdefault((origin_of[n], fin_of[n]), n)
                if c != n:
                    if out is None:
                        out = list(threads)
                    out[p] = c
        return state if out is None else (tuple(out), contents)

    def canonical(self, state, ended=True):
        """The representative of `state` among the states equal to it but for a permutation of threads alike.

        Threads alike run equal closures with equal captured values (`cls`); those that no
        other thread's node refers to (a join waits for one) and whose point is portable are
        sorted by their class-level point, and the holders of mutexes renamed to match.
        Returns (state, perm), perm[i] the position of `state` whose thread position i now
        plays, or None when nothing moved. Raises `Asymmetric` where the count of schedules
        could depend on which of the threads alike is which (see `Explorer.count`).
        """
        threads, contents = state
        waits_on, sym_key = self.waits_on, self.sym_key
        refs = None
        for n in threads:
            w = waits_on[n]
            if w >= 0:
                if refs is None:
                    refs = set()
                refs.add(w)
                if self.code[n] == TIMED and self.cls.get(w) is not None:
                    raise Asymmetric("a join with a timeout waits for one of several threads alike")
        groups = None
        for p in range(1, len(threads)):
            n = threads[p]
            sk = sym_key.get(n, False)
            if sk is False:
                sk = self._sym_key(n)
            if sk is None or refs is not None and sk[2] in refs:
                continue
            if groups is None:
                groups = {sk[0]: [(p, sk[1])]}
            else:
                g = groups.get(sk[0])
                if g is None:
                    groups[sk[0]] = [(p, sk[1])]
                else:
                    g.append((p, sk[1]))
        if groups is None:
            return self.merged(state) if ended else state, None
        out = None
        sigma = None
        perm = None
        for c, members in groups.items():
            if len(members) < 2:
                continue
            keys = [k for _, k in members]
            ordered = sorted(keys)
            if ordered[0] < 0 <= ordered[-1]:  # some have ended, some not
                self._check_joiners(threads, members)
            if ordered == keys:
                continue
            order = sorted(range(len(members)), key=keys.__getitem__)
            origin_of = self.origin_of
            if out is None:
                out = list(threads)
                sigma = {}
                perm = list(range(len(threads)))
            for i, j in enumerate(order):
                p_new, p_old = members[i][0], members[j][0]
                if i == j:
                    continue
                o_new = origin_of[threads[p_new]]
                key = members[j][1]
                target = self.final_of(o_new, c, key) if key < 0 else self.node_of(o_new, key)
                if target is None:
                    raise Asymmetric("a thread alike could not be moved to another's point")
                out[p_new] = target
                sigma[origin_of[threads[p_old]]] = o_new
                perm[p_new] = p_old
        if out is None:
            return self.merged(state) if ended else state, None
        if sigma:
            is_mutex = self.is_mutex
            moved = None
            for idx, content in enumerate(contents):
                if content != () and is_mutex[idx] and content[0] in sigma:
                    if moved is None:
                        moved = list(contents)
                    moved[idx] = (sigma[content[0]],) + content[1:]
            if moved is not None:
                contents = tuple(moved)
        return self.merged((tuple(out), contents)), tuple(perm)

    def _sym_key(self, n):
        """(class number, sort key, origin) of node `n` of a thread alike that can be moved, else None (cached)."""
        o = self.origin_of[n]
        c = self.cls.get(o)
        sk = None
        if c is not None:
            c = (c, self.parent_of.get(o))  # alike: the same closure and captures, spawned by the same thread
            ci = self.cls_ids.get(c)
            if ci is None:
                ci = self.cls_ids[c] = len(self.cls_ids)
            if self.is_fin[n]:
                key = self.fin_key(ci, n)
            else:
                h = self.hid[n]
                key = h if h >= 0 and self.movable(h) else None
            if key is not None:
                sk = (ci, key, o)
        if self.piece[n] is not None:
            self.sym_key[n] = sk
        return sk

    def movable(self, h):
        m = self.movable_hid.get(h)
        if m is None:
            m = self.movable_hid[h] = self.rep.get(self.hkeys[h]) is not None
        return m

    def fin_key(self, c, n):
        """A negative int naming the end of thread alike `n` by its result; None if it cannot be moved."""
        fin = self.fin_of[n]
        key = self.fin_ids.get((c, fin))
        if key is None:
            if self.hid[n] < 0 or not self.portable(fin, self.origin_of[n]):
                return None
            if any(k[0] == c for k in self.fin_ids):
                raise Asymmetric("threads alike ended with different results")
            key = self.fin_ids[(c, fin)] = -1 - len(self.fin_ids)
            self.fin_hid[key] = (self.hid[n], fin)
        return key

    def final_of(self, origin, c, key):
        n = self.sym_final.get((origin, key))
        if n is None:
            h, fin = self.fin_hid[key]
            n = self.final.get((origin, fin))
            if n is None:
                n = self.node_of(origin, h)
                if n is None:
                    return None
                self.final[(origin, fin)] = n
            self.sym_final[(origin, key)] = n
        return n

    def _check_joiners(self, threads, members):
        """Threads alike, some ended and some not: whoever spawned them must not take a step now.

        It may have joined some of them already, and a step between two of those joins
        would see which ones had ended: the count would depend on which thread is which.
        """
        code, origin_of = self.code, self.origin_of
        parents = {self.parent_of.get(origin_of[threads[members[0][0]]])}  # threads alike share their spawner
        for n in threads:
            c = code[n]
            if (c == STEPS or c == LOCKS or c == UNLOCKS or c == TIMED) and origin_of[n] in parents:
                raise Asymmetric("the thread that spawned threads alike takes a step while some of them have "
                                 "ended and others not")

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
                obs = self._observed(threads, contents, end, self.origin_of[node])
                if end[1] == "join" and self._solo(threads, t):
                    obs = (SOLO, obs, _strip(contents))
                node = self.child(node, obs)
            else:  # SPAWN: the child runs its first piece at once, then this thread goes on
                threads[t] = node
                threads.append(None)
                ended = self._chain(threads, contents, len(threads) - 1, self.root(end[1])) or ended
                node = self.child(node, SPAWNED)

    def _observed(self, threads, contents, end, who=None):
        kind, ref = end[1], end[2]
        if kind == "peek":
            content = contents[ref] if ref < len(contents) else ()
            if content != () and self.is_mutex[ref] and content[0] is not None and self.cls.get(content[0]):
                self.asymmetric = "a read of a mutex names the thread alike that holds it"
            return content
        if self.cls.get(ref) is not None and (kind == "finished" or self.parent_of.get(ref) != who):
            self.asymmetric = ("a thread looks whether a thread alike has ended without waiting for it"
                               if kind == "finished" else "a thread alike is joined by a thread that did not spawn it")
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


def _made_alone(obs):
    """Whether an observation was made while its thread was the only one running (it carries the contents)."""
    return type(obs) is tuple and len(obs) == 3 and obs[0] is SOLO


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
