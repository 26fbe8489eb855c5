"""The game's levels: the chapter's programs and the assignments' schedule parts, each with a goal.

A level's program is an ordinary program for `rustsync.sched` (thread 0 spawns the
others and joins them) that takes one extra argument, `watch`: it puts a shared object
on the game's board, where the page shows its contents between two steps, and returns
it unchanged. Each thread's code on the page is the source of the function it runs;
`ThreadCode.steps` names, in order, the steps that function takes (the operation and
the object, as the scheduler's trace names them) and the line each one is on. The game
checks every step the scheduler reports against that list, so a page whose code and
whose run disagreed would raise instead of showing a wrong line.
"""

from __future__ import annotations

import inspect
import textwrap
from dataclasses import dataclass
from functools import cached_property

from ..mutex import Mutex
from ..ownership import drop
from ..rc import Arc, Rc
from ..sched import Deadlock, RacyCell, spawn_unchecked
from ..thread import spawn

# --- the programs (what runs, and what the page shows) ------------------------------------


def racy_worker(counter, times):
    for _ in range(times):
        seen = counter.get()
        counter.set(seen + 1)


def racy_workers(watch, threads, times):
    counter = watch(RacyCell(0, name="counter"))
    handles = [spawn(lambda: racy_worker(counter, times)) for _ in range(threads)]
    for handle in handles:
        handle.join()
    return counter.peek()


def locked_worker(counter, times):
    for _ in range(times):
        with counter.lock() as count:
            count.value += 1


def unlocked_between_worker(counter, times):
    for _ in range(times):
        with counter.lock() as count:
            seen = count.value
        with counter.lock() as count:
            count.value = seen + 1


def workers_share_a_mutex(watch, worker, threads, times):
    counter = watch(Arc(Mutex(0, name="counter")))
    handles = []
    for _ in range(threads):
        mine = Arc.clone(counter)
        handles.append(spawn(lambda: worker(mine, times)))
    for handle in handles:
        handle.join()
    with counter.lock() as count:
        return count.value


def borrow_and_return(shared):
    mine = Rc.clone(shared)  # count + 1: a read, then a write
    drop(mine)               # count - 1: a read, then a write


def two_threads_share_an_rc(watch):
    shared = watch(Rc(Mutex(0), name="rc"))
    handles = [spawn_unchecked(lambda: borrow_and_return(shared)) for _ in range(2)]
    for handle in handles:
        handle.join()
    return Rc.strong_count(shared)


def borrow_count_and_return(shared):
    mine = Arc.clone(shared)         # count + 1, atomically
    owners = Arc.strong_count(mine)  # a step: another thread can act before it
    drop(mine)                       # count - 1, atomically
    return owners


def two_threads_share_an_arc(watch):
    shared = watch(Arc(Mutex(0), name="arc"))
    handles = [spawn_unchecked(lambda: borrow_count_and_return(shared)) for _ in range(2)]
    for handle in handles:
        handle.join()
    return Arc.strong_count(shared)


def dine(first, second):
    def work():
        with first.lock() as one:
            with second.lock() as other:
                one.value += 1
                other.value += 1
    return work


def two_diners(watch, same_order):
    fork = watch(Arc(Mutex(0, name="fork")))
    knife = watch(Arc(Mutex(0, name="knife")))
    diner_1 = spawn(dine(Arc.clone(fork), Arc.clone(knife)))
    if same_order:
        diner_2 = spawn(dine(Arc.clone(fork), Arc.clone(knife)))
    else:
        diner_2 = spawn(dine(Arc.clone(knife), Arc.clone(fork)))
    diner_1.join()
    diner_2.join()
    return "both ate"


# --- what a level is ------------------------------------------------------------------------


class LevelError(RuntimeError):
    """The code a level shows does not match what the scheduler reports for it (a fault of the level)."""


@dataclass(frozen=True)
class ThreadCode:
    """One thread as the page shows it: its title, the function whose source is shown, its steps.

    `steps` lists (operation, object, text of the line) for each step the function takes,
    in order, each line searched after the one before ("" for the same line again); with
    `repeat`, the list is one round of a loop and starts again. `joins` maps
    the thread a `join` waits for (`"thread-1"`, or `"*"` for any) to the text of its line.
    """

    tid: int
    title: str
    func: object
    steps: tuple = ()
    repeat: bool = False
    joins: tuple = ()

    @cached_property
    def lines(self):
        return textwrap.dedent(inspect.getsource(self.func)).rstrip("\n").split("\n")

    def _find(self, text, after=-1):
        for i, line in enumerate(self.lines):
            if i > after and text in line:
                return i
        raise LevelError(f"thread {self.tid}: no line of {self.func.__name__} after line {after + 1} holds {text!r}")

    @cached_property
    def step_lines(self):
        """The line of each entry of `steps`: each searched after the line of the one before (a loop's order)."""
        found, after = [], -1
        for _op, _obj, text in self.steps:
            if text or not found:  # "" is the line of the step before (a read and a write on one line)
                after = self._find(text, after)
            found.append(after)
        return found

    def line_of_step(self, k, op, obj):
        """The line of this thread's step number `k` (from 0), checked against what the scheduler reports."""
        if not self.steps:
            raise LevelError(f"thread {self.tid} takes a step ({op} `{obj}`) but its level lists none")
        index = k % len(self.steps) if self.repeat else k
        if index >= len(self.steps):
            raise LevelError(f"thread {self.tid} takes a step number {k} ({op} `{obj}`); its level lists "
                             f"{len(self.steps)}")
        want_op, want_obj, _text = self.steps[index]
        if (want_op, want_obj) != (op, obj):
            raise LevelError(f"thread {self.tid}, step {k}: the scheduler reports {op} `{obj}`, the page shows "
                             f"{want_op} `{want_obj}` on line {self.step_lines[index] + 1}")
        return self.step_lines[index]

    def line_of_join(self, obj):
        texts = dict(self.joins)
        text = texts.get(obj, texts.get("*"))
        if text is None:
            raise LevelError(f"thread {self.tid} waits to join {obj} but its level shows no such join")
        return self._find(text)


@dataclass(frozen=True)
class Level:
    """A program, its threads as shown, a goal, and the test of a finished run that says it was reached."""

    key: str
    lesson: str
    title: str
    goal: str
    build: object  # build(watch) -> the program's result: the level's program, given `watch`
    threads: tuple
    won: object  # won(run) -> bool, for a run that has ended
    shows: str = "value"  # what the board shows of an Arc/Rc: "value" (the mutex inside) or "count"
    twin_of: str | None = None
    same_as: str = ""  # the same program elsewhere in the course, in words
    won_text: str = ""  # what the page says when the goal is reached
    locked_text: str = ""  # for a locked twin: why no schedule reaches the goal

    @property
    def locked(self):
        return self.twin_of is not None

    def make(self):
        """A fresh program for the scheduler, and the list `watch` fills with its shared objects when it runs."""
        board = []

        def watch(thing):
            board.append(thing)
            return thing

        def program():
            board.clear()
            return self.build(watch)

        program.__name__ = self.key.replace("-", "_")
        return program, board

    @property
    def program(self):
        """The level's program alone (for `replay`, `explore`)."""
        return self.make()[0]

    def thread(self, tid):
        for code in self.threads:
            if code.tid == tid:
                return code
        raise LevelError(f"level {self.key!r} shows no thread {tid}")


def _count_of(run):
    return run.outcome if run.deadlock is None else None


def _main(func, steps=(), joins=(("*", "handle.join()"),), title="thread 0 (main)"):
    return ThreadCode(0, title, func, steps, False, joins)


def _racy(threads, times):
    workers = tuple(ThreadCode(t, f"thread {t}", racy_worker,
                               (("read", "counter", "counter.get()"), ("write", "counter", "counter.set(")), True)
                    for t in range(1, threads + 1))
    return (_main(racy_workers),) + workers


def _mutexed(worker, threads):
    if worker is locked_worker:
        steps = (("lock", "counter", "counter.lock()"),)
    else:
        steps = (("lock", "counter", "counter.lock()"), ("lock", "counter", "counter.lock()"))
    workers = tuple(ThreadCode(t, f"thread {t}", worker, steps, True) for t in range(1, threads + 1))
    return (_main(workers_share_a_mutex, (("lock", "counter", "counter.lock()"),)),) + workers


def _counted(kind):
    if kind == "rc":
        main, worker = two_threads_share_an_rc, borrow_and_return
        steps = (("clone:read", "rc", "Rc.clone"), ("clone:write", "rc", ""),
                 ("drop:read", "rc", "drop(mine)"), ("drop:write", "rc", ""))
        last = ("count", "rc", "Rc.strong_count(shared)")
    else:
        main, worker = two_threads_share_an_arc, borrow_count_and_return
        steps = (("count", "arc", "Arc.strong_count(mine)"),)
        last = ("count", "arc", "Arc.strong_count(shared)")
    return (_main(main, (last,)),) + tuple(ThreadCode(t, f"thread {t}", worker, steps) for t in (1, 2))


def _diners(same_order):
    second = ("fork", "knife") if same_order else ("knife", "fork")
    joins = (("thread-1", "diner_1.join()"), ("thread-2", "diner_2.join()"))
    return (_main(two_diners, joins=joins),
            ThreadCode(1, "thread 1: dine(fork, knife)", dine,
                       (("lock", "fork", "first.lock()"), ("lock", "knife", "second.lock()"))),
            ThreadCode(2, f"thread 2: dine({second[0]}, {second[1]})", dine,
                       (("lock", second[0], "first.lock()"), ("lock", second[1], "second.lock()"))))


LOCK_HOLDS = ("The read and the write of each increment happen while one guard is alive: no other thread can "
              "read between them, so no write can land on a stale value.")

LEVELS = (
    Level("lost-update", "00", "Lose an update",
          "Two threads each add 1 to a counter with no lock. End with the count at 1.",
          lambda watch: racy_workers(watch, 2, 1), _racy(2, 1), lambda run: _count_of(run) == 1,
          same_as="racy_counter(2, 1) in rustsync.lab, two_racy_workers(1) in assignment 00",
          won_text="Both threads read 0 before either wrote, so both wrote 1: one update is lost."),
    Level("two-lost", "00", "Lose two updates",
          "Each thread adds 1 twice: four updates. End with the count at 2.",
          lambda watch: racy_workers(watch, 2, 2), _racy(2, 2), lambda run: _count_of(run) == 2,
          same_as="racy_counter(2, 2) in rustsync.lab, two_racy_workers(2) in assignment 00",
          won_text="Each thread's last write was computed from a value read before the other thread's writes: "
                   "two updates are lost."),
    Level("locked-counter", "01", "Lose an update, with the lock",
          "The same two threads, each increment inside `with counter.lock()`. End with the count below 2.",
          lambda watch: workers_share_a_mutex(watch, locked_worker, 2, 1), _mutexed(locked_worker, 2),
          lambda run: _count_of(run) is not None and _count_of(run) < 2, twin_of="lost-update",
          same_as="mutex_counter(2, 1) in rustsync.lab, two_workers(locked_worker, 1) in assignment 01",
          locked_text=LOCK_HOLDS),
    Level("released-between", "01", "A lock for the read, another for the write",
          "Every access is locked, but the lock is given back between the read and the write. "
          "End with the count at 1.",
          lambda watch: workers_share_a_mutex(watch, unlocked_between_worker, 2, 1),
          _mutexed(unlocked_between_worker, 2), lambda run: _count_of(run) == 1,
          same_as="two_workers(unlocked_between_worker, 1) in assignment 01 (Part C)",
          won_text="Both threads read 0 under the lock, gave it back, and wrote 1 under the lock: every access "
                   "was locked and an update is still lost."),
    Level("three-to-one", "03", "Three threads, count at 1",
          "Three threads each add 1, with no lock. End with the count at 1.",
          lambda watch: racy_workers(watch, 3, 1), _racy(3, 1), lambda run: _count_of(run) == 1,
          same_as="racy_counter(3, 1) in rustsync.lab",
          won_text="The last write decides the count: it came from a thread that read 0, so it wrote 1, "
                   "whatever the others did before."),
    Level("three-locked", "03", "Three threads with the lock",
          "The same three threads, each increment inside `with counter.lock()`. End with the count below 3.",
          lambda watch: workers_share_a_mutex(watch, locked_worker, 3, 1), _mutexed(locked_worker, 3),
          lambda run: _count_of(run) is not None and _count_of(run) < 3, twin_of="three-to-one",
          same_as="mutex_counter(3, 1) in rustsync.lab", locked_text=LOCK_HOLDS),
    Level("rc-count", "04", "Make the Rc count wrong",
          "Two threads each clone one `Rc` and drop the clone, so the count should end at 1. Make it end "
          "anywhere else.",
          two_threads_share_an_rc, _counted("rc"), lambda run: _count_of(run) not in (None, 1), shows="count",
          same_as="two_threads_share_an_rc in lesson 04",
          won_text="A count change is a read and a write: a write from a stale read erased the other thread's "
                   "change. Rust refuses to send an `Rc` to another thread for this reason (E0277)."),
    Level("arc-count", "04", "Make the Arc count wrong",
          "The same program with `Arc`, whose count changes are atomic. Make the count end anywhere but 1.",
          two_threads_share_an_arc, _counted("arc"), lambda run: _count_of(run) not in (None, 1), shows="count",
          twin_of="rc-count",
          locked_text="Each change of an `Arc`'s count is one indivisible step: no thread can act between its "
                      "read and its write, so no change is lost."),
    Level("opposite-diners", "06", "Make the two diners deadlock",
          "Diner 1 takes the fork then the knife; diner 2 the knife then the fork. Make them deadlock.",
          lambda watch: two_diners(watch, same_order=False), _diners(False),
          lambda run: isinstance(run.outcome, Deadlock),
          same_as="two_diners(dine) in lesson 06, opposite_diners in rustsync.lab",
          won_text="Each diner holds one utensil and waits for the other's: a cycle of waits, a deadlock."),
    Level("same-order-diners", "06", "Deadlock diners who agree on the order",
          "Both diners take the fork first, then the knife. Make them deadlock.",
          lambda watch: two_diners(watch, same_order=True), _diners(True),
          lambda run: isinstance(run.outcome, Deadlock), twin_of="opposite-diners",
          same_as="two_diners(dine, same_order=True) in lesson 06",
          locked_text="Whoever holds the fork can always get the knife: nobody holds the knife while waiting for "
                      "the fork, so no cycle of waits can form."),
)

_BY_KEY = {level.key: level for level in LEVELS}


def level(key):
    """The level named `key` ("lost-update", "opposite-diners", ...)."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise KeyError(f"no level {key!r}; the levels are {', '.join(_BY_KEY)}") from None


def levels_for(lesson):
    """The levels of a lesson ("00", "01", "03", "04", "06"), in the order the lesson plays them."""
    lesson = f"{int(lesson):02d}" if str(lesson).isdigit() else str(lesson)
    found = [lv for lv in LEVELS if lv.lesson == lesson]
    if not found:
        raise KeyError(f"no level for lesson {lesson!r}; lessons with levels: "
                       f"{', '.join(sorted({lv.lesson for lv in LEVELS}))}")
    return found


__all__ = ["LEVELS", "Level", "LevelError", "ThreadCode", "level", "levels_for"]
