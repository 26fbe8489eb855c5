"""Honest submissions that the checks must get exactly right: subtly wrong work, and correct work written otherwise.

`SUBTLY_WRONG` solve every part but one in a way that looks right and is not (a `try_lock`
that gives up, threads never joined, `fetch_add` only in the main thread, duplicates
dropped with `set`, a guard kept alive past the return); each loses exactly that part.
`CORRECT_OTHERWISE` are right in ways the first checks refused (a guard released with
`del`, a `try_lock` retry loop, locks taken in descending order or behind one bank-wide
lock, a `try_lock` back-off); each gets full marks.
"""

from __future__ import annotations

from textwrap import dedent

from .build import FULL, Submission
from .hostile import HONEST, PARTS


def _c(text):
    return dedent(text).strip("\n")


def _answers(assignment, **own):
    out = {cell: HONEST[assignment][cell] for cells in PARTS[assignment].values() for cell in cells}
    out.update(own)
    return out


def _changed(assignment, cell, old, new):
    """The honest answer of `cell` with `old` replaced by `new` (once, and it must be there)."""
    honest = HONEST[assignment][cell]
    assert honest.count(old) == 1, (cell, old)
    return honest.replace(old, new)


def _all_but(assignment, *wrong):
    return {test: (0 if test in wrong else FULL) for test in PARTS[assignment]}


A01, A02, A03 = "a01_mutexes", "a02_mutex_api", "a03_sharing_a_mutex"
A04, A05, A06 = "a04_multiple_ownership", "a05_arc", "a06_refcell_vs_mutex"

SUBTLY_WRONG = [
    Submission(
        assignment=A01, name="a01-try-lock-gives-up", expect=_all_but(A01, "test_fixed_worker"),
        notes="an increment under try_lock that is skipped when the lock is held: real threads lose updates",
        answers=_answers(A01, fixed_worker=_c("""
            from rustsync import WouldBlock


            def fixed_worker(counter, times):
                for _ in range(times):
                    try:
                        with counter.try_lock() as count:
                            count.value += 1
                    except WouldBlock:
                        pass
        """)),
    ),
    Submission(
        assignment=A03, name="a03-never-joins", expect=_all_but(A03, "test_count_with_arc"),
        notes="spawns every thread and reads the count without joining them",
        answers=_answers(A03, count_with_arc=_c("""
            def count_with_arc(n):
                counter = Arc(Mutex(0))
                for _ in range(n):
                    mine = Arc.clone(counter)

                    def work():
                        with mine.lock() as num:
                            num.value += 1

                    spawn(work)
                return n
        """)),
    ),
    Submission(
        assignment=A04, name="a04-set-of-words", expect=_all_but(A04, "test_total_length"),
        notes="one thread per distinct word: a word given twice is counted once",
        answers=_answers(A04, total_length=_changed(A04, "total_length", "for word in words:",
                                                    "for word in set(words):")),
    ),
    Submission(
        assignment=A05, name="a05-fetch-add-in-main", expect=_all_but(A05, "test_atomic_sum"),
        notes="the threads compute their sums; only the main thread calls fetch_add, after joining",
        answers=_answers(A05, atomic_sum=_c("""
            def atomic_sum(chunks):
                total = Arc(AtomicUsize(0))
                handles = [spawn(lambda: sum(chunk)) for chunk in chunks]
                for handle in handles:
                    total.fetch_add(handle.join())
                return total.load()
        """)),
    ),
    Submission(
        assignment=A05, name="a05-sum-of-set", expect=_all_but(A05, "test_parallel_sum"),
        notes="each thread adds the distinct values of its chunk only",
        answers=_answers(A05, parallel_sum=_changed(A05, "parallel_sum", "part = sum(chunk)",
                                                    "part = sum(set(chunk))")),
    ),
    Submission(
        assignment=A02, name="a02-guard-kept-in-a-list", expect=_all_but(A02, "test_add_item"),
        notes="add_item keeps its guard alive in a list after it returns: the lock is never released",
        answers=_answers(A02, add_item=_c("""
            kept = []


            def add_item(shopping, item):
                guard = shopping.lock()
                guard.value.append(item)
                kept.append(guard)
                return len(guard.value)
        """)),
    ),
]

SUBTLY_WRONG += [
    Submission(
        assignment=A06, name="a06-one-lock-at-a-time", expect=_all_but(A06, "test_transfer"),
        notes="never holds two locks, so it cannot deadlock, but between its two updates the money is nowhere",
        answers=_answers(A06, transfer=_c("""
            def transfer(accounts, source, target, amount):
                with accounts[source].lock() as money_out:
                    money_out.value -= amount
                with accounts[target].lock() as money_in:
                    money_in.value += amount
        """)),
    ),
]

CORRECT_OTHERWISE = [
    Submission(
        assignment=A01, name="a01-del-guard", expect=_all_but(A01),
        notes="each guard released with `del` once the increment is written",
        answers=_answers(A01, fixed_worker=_c("""
            def fixed_worker(counter, times):
                for _ in range(times):
                    guard = counter.lock()
                    guard.value += 1
                    del guard
        """)),
    ),
    Submission(
        assignment=A03, name="a03-try-lock-retry", expect=_all_but(A03),
        notes="every increment retries try_lock, yielding with sleep, until it gets the lock",
        answers=_answers(A03, count_with_arc=_c("""
            from rustsync import WouldBlock, sleep


            def count_with_arc(n):
                counter = Arc(Mutex(0))
                handles = []
                for _ in range(n):
                    mine = Arc.clone(counter)

                    def work():
                        while True:
                            try:
                                with mine.try_lock() as num:
                                    num.value += 1
                                return
                            except WouldBlock:
                                sleep(0)

                    handles.append(spawn(work))
                for handle in handles:
                    handle.join()
                with counter.lock() as num:
                    return num.value
        """)),
    ),
    Submission(
        assignment=A06, name="a06-bank-lock-first", expect=_all_but(A06),
        notes="one bank-wide lock of the student's own is taken first: only one transfer at a time",
        answers=_answers(A06, transfer=_c("""
            BANK = Mutex(None, name="bank")


            def transfer(accounts, source, target, amount):
                with BANK.lock():
                    with accounts[source].lock() as money_out, accounts[target].lock() as money_in:
                        money_out.value -= amount
                        money_in.value += amount
        """)),
    ),
    Submission(
        assignment=A06, name="a06-try-lock-back-off", expect=_all_but(A06),
        notes="takes the source, then only tries the target; on WouldBlock it puts the source down and backs off",
        answers=_answers(A06, transfer=_c("""
            from rustsync import WouldBlock, sleep


            def transfer(accounts, source, target, amount):
                while True:
                    with accounts[source].lock() as money_out:
                        try:
                            with accounts[target].try_lock() as money_in:
                                money_out.value -= amount
                                money_in.value += amount
                                return
                        except WouldBlock:
                            pass
                    sleep(0)
        """)),
    ),
    Submission(
        assignment=A06, name="a06-descending-order", expect=_all_but(A06),
        notes="every transfer locks the higher account number first: one global order, descending",
        answers=_answers(A06, transfer=_c("""
            def transfer(accounts, source, target, amount):
                first, second = max(source, target), min(source, target)
                with accounts[first].lock() as a, accounts[second].lock() as b:
                    held = {first: a, second: b}
                    held[source].value -= amount
                    held[target].value += amount
        """)),
    ),
]
