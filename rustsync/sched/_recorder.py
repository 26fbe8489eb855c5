"""The recorder of a real run: it learns each piece into the model and checks the run against the model."""

from __future__ import annotations

import types

from ._engine import (
    FINISHED,
    Deadlock,
    Panic,
    RacyCell,
    SimJoinHandle,
    StepLimit,
    _try_order,
    freeze,
)
from ._model import (
    _READ_ONLY,
    BOOL,
    BYTES,
    DELTA,
    DICT,
    EMPTY,
    ERR,
    FINISH,
    FLOAT,
    FSET,
    FUNC,
    GUARD,
    HANDLE,
    ID,
    INST,
    JOIN,
    JOINH,
    LIST,
    LOCK,
    NOTYET,
    OBJ,
    OBSERVE,
    PAUSE,
    SET,
    SOLO,
    SPAWN,
    SPAWNED,
    STEP,
    TIMEOUT,
    TJOIN,
    TUPLE,
    UNLOCK,
    VAL,
    WRITE,
    Unknown,
    _strip,
    observe,
)

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

    def live_contents(self):
        """The contents of every primitive this run has met, by index, as the model keeps them."""
        out = [()] * len(self.model.objects)
        for obj in self.keep:
            idx = self.ids[id(obj)]
            self.resuming = True
            try:
                out[idx] = self.content(obj)
            finally:
                self.resuming = False
        return _strip(out)

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
            if kind == "join" and all(u is t or u.state == FINISHED for u in self.execution.threads):
                value = (SOLO, value, self.live_contents())  # as a join that waited would see it
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
    if len(before) != len(now):
        return f"it wrote {len(before)} value(s) in one run and {len(now)} in another"
    return "it wrote other values in one run than in another"


def _ending(end):
    if end[0] == PAUSE:
        return f"a `{end[1]}` step"
    return {OBSERVE: "a read", SPAWN: "a spawn", FINISH: "its end"}[end[0]]
