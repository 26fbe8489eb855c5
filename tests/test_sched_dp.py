"""An independent count of interleavings: a dynamic program over abstract states, no scheduler.

The tests and `bench/bench_sched.py` hold `explore` against it. A program is a list of
threads, each a list of operations on a few shared variables and one register of its
own; variable i is a racy cell and a mutex's data, both starting at 0. The main thread
spawns the threads, joins them all, and reads each variable, cell plus mutex (which
takes no step). Operations, each one step of the scheduler:

- ("read", v): the register takes the value of variable v (a `RacyCell.get`);
- ("write", v, k): variable v takes the register plus k (a `RacyCell.set`);
- ("locked_add", v, k): under the lock of variable v (a `Mutex`), add k: `lock` is the
  step, the addition and the release are inside it, as no other thread can see them
  (a program without `try_lock`).

`count(threads)` returns a Counter: final values (a tuple, one per variable) -> number of
interleavings; `count(threads, alike=True)` merges threads that run the same operations
(sorting the threads' states) and gives the same Counter, faster; `states` is how many
states the last count kept.
"""

from collections import Counter


def count(threads, variables=None, alike=False, final_step=False):
    """Final values -> interleavings, counted by memoising the completions of each state.

    `final_step`: the main thread takes one step after the joins (Listing 16-15 locks to
    read the result), which comes after every other step and so does not change the counts.
    """
    threads = [tuple(t) for t in threads]
    if variables is None:
        variables = 1 + max((op[1] for t in threads for op in t), default=0)
    start = tuple((0, 0) for _ in threads)
    groups = _groups(threads) if alike else None
    memo = {}

    def canonical(locals_):
        if groups is None:
            return locals_, threads
        out = list(locals_)
        for members in groups:
            part = sorted(locals_[i] for i in members)
            for i, x in zip(members, part, strict=True):
                out[i] = x
        return tuple(out), threads

    def go(locals_, values):
        key = (locals_, values)
        hit = memo.get(key)
        if hit is not None:
            return hit
        total = Counter()
        moved = False
        seen = set()
        for i, ops in enumerate(threads):
            pc, reg = locals_[i]
            if pc == len(ops):
                continue
            moved = True
            if groups is not None:  # threads alike at the same point: one of them, counted as many times
                mark = (ops, pc, reg)
                if mark in seen:
                    continue
                seen.add(mark)
                times = sum(1 for j, other in enumerate(threads) if other == ops and locals_[j] == (pc, reg))
            else:
                times = 1
            op = ops[pc]
            vals = list(values)
            if op[0] == "read":
                reg = values[op[1]]
            elif op[0] == "write":
                vals[op[1]] = reg + op[2]
            else:  # locked_add: the mutex's data, apart from the racy cell of the same number
                vals[variables + op[1]] = values[variables + op[1]] + op[2]
            nxt = list(locals_)
            nxt[i] = (pc + 1, reg)
            child = canonical(tuple(nxt))[0]
            for outcome, n in go(child, tuple(vals)).items():
                total[outcome] += n * times
        if not moved:  # the main thread reads each variable: its cell plus its mutex's data
            total[tuple(values[i] + values[variables + i] for i in range(variables))] = 1
        memo[key] = total
        return total

    result = go(canonical(start)[0], (0,) * (2 * variables))
    count.states = len(memo)
    return result


def _groups(threads):
    by_ops = {}
    for i, ops in enumerate(threads):
        by_ops.setdefault(ops, []).append(i)
    return [members for members in by_ops.values() if len(members) > 1]


def racy(threads, increments):
    """The racy counter: each thread reads and writes read+1, `increments` times."""
    return [[("read", 0), ("write", 0, 1)] * increments for _ in range(threads)]


def locked(threads, increments):
    """Listing 16-15's counter: each thread locks and adds 1, `increments` times."""
    return [[("locked_add", 0, 1)] * increments for _ in range(threads)]


# --- the dynamic program checked on its own: totals and a histogram counted by hand ---------------


def test_its_totals_are_the_multinomial_counts_of_interleavings():
    from math import comb

    for threads, increments in [(2, 1), (2, 3), (3, 2), (4, 1)]:
        steps = 2 * increments
        total, expected = 0, 1
        for _ in range(threads):
            total += steps
            expected *= comb(total, steps)
        assert sum(count(racy(threads, increments)).values()) == expected
        assert count(racy(threads, increments), alike=True) == count(racy(threads, increments))


def test_two_racy_threads_of_one_increment_lose_one_in_four_of_six():
    # r1 w1 r2 w2 and r2 w2 r1 w1 keep both; the four that read before either writes end at 1
    assert count(racy(2, 1)) == {(1,): 4, (2,): 2}
    assert count(locked(3, 1)) == {(3,): 6}
