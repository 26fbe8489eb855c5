"""`explore`'s exact counts against an independent dynamic program (tests/test_sched_dp.py), threads alike included."""

import pytest
import test_sched_dp as dp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rustsync import Arc, Mutex, spawn
from rustsync.lab import listing_16_15, racy_counter
from rustsync.sched import RacyCell, _searches, explore, replay, spawn_unchecked


def from_ops(threads):
    """A program for the scheduler made of the dynamic program's operations (see sched_dp)."""
    variables = 1 + max((op[1] for t in threads for op in t), default=0)

    def program():
        cells = [RacyCell(0, name=f"v{i}") for i in range(variables)]
        locks = [Arc(Mutex(0, name=f"m{i}")) for i in range(variables)]

        def worker(ops):
            def work():
                reg = 0
                for op in ops:
                    if op[0] == "read":
                        reg = cells[op[1]].get()
                    elif op[0] == "write":
                        cells[op[1]].set(reg + op[2])
                    else:
                        with locks[op[1]].lock() as value:
                            value.value += op[2]
            return work

        handles = [spawn_unchecked(worker(tuple(ops))) for ops in threads]  # the cells are shared on purpose
        for handle in handles:
            handle.join()
        return tuple(cells[i].peek() + locks[i].peek() for i in range(variables))

    return program


def outcomes_as_tuples(exploration):
    return {(o,) if not isinstance(o, tuple) else o: n for o, n in exploration.outcomes.items()}


@pytest.mark.parametrize("threads, increments", [(3, 3), (4, 2), (5, 2), (10, 1)])
def test_racy_counter_counts_equal_the_dynamic_program(threads, increments):
    exploration = explore(racy_counter(threads, increments))
    assert exploration.complete and exploration.mode == "model"
    assert outcomes_as_tuples(exploration) == dict(dp.count(dp.racy(threads, increments), alike=True))


def test_listing_16_15_as_written_has_ten_factorial_interleavings_all_ending_at_ten():
    exploration = explore(listing_16_15(10))
    assert exploration.complete and exploration.symmetric
    assert dict(exploration.outcomes) == {10: 3_628_800}
    assert {(10,): 3_628_800} == dict(dp.count(dp.locked(10, 1)))
    assert replay(listing_16_15(10), exploration.examples[10]).outcome == 10


def test_threads_alike_counted_once_give_the_plain_counts():
    program = racy_counter(3, 2)
    alike = _searches.Explorer(program, bound=None, max_steps=10_000, max_runs=1000, max_states=10**6, clock=[0, 0, 0],
                            state={})
    plain = _searches.Explorer(program, bound=None, max_steps=10_000, max_runs=1000, max_states=10**6, clock=[0, 0, 0],
                            state={}, symmetry=False)
    counted, _ = alike.count()
    assert alike.symmetric and not plain.symmetric
    assert counted == plain.count()[0]
    assert alike.states < plain.states


def test_examples_of_a_symmetric_count_are_real_schedules_that_replay():
    exploration = explore(racy_counter(6, 1))
    assert exploration.symmetric and len(exploration.examples) == 6
    for outcome, schedule in exploration.examples.items():
        assert replay(racy_counter(6, 1), schedule, strict=True).outcome == outcome


def test_a_program_that_tells_threads_alike_apart_is_counted_without_symmetry():
    """Workers alike that return what they read, joined in order: the result names who read what."""

    def program():
        cell = RacyCell(0, name="cell")

        def work():
            seen = cell.get()
            cell.set(seen + 1)
            return seen

        handles = [spawn(work) for _ in range(3)]
        return tuple(h.join() for h in handles)

    fast = explore(program)
    every = explore(program, mode="every")
    assert not fast.symmetric
    assert fast.outcomes == every.outcomes


_op = st.one_of(
    st.tuples(st.just("read"), st.integers(0, 1)),
    st.tuples(st.just("write"), st.integers(0, 1), st.integers(0, 2)),
    st.tuples(st.just("locked_add"), st.integers(0, 1), st.integers(1, 2)),
)
_thread = st.lists(_op, min_size=1, max_size=3).map(tuple)
# some threads repeated, so that threads alike meet
_threads = st.lists(_thread, min_size=1, max_size=3).flatmap(
    lambda kinds: st.lists(st.sampled_from(kinds), min_size=1, max_size=4))


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(threads=_threads)
def test_generated_programs_count_as_the_dynamic_program(threads):
    exploration = explore(from_ops(threads))
    assert exploration.complete
    expected = dp.count(threads)
    assert outcomes_as_tuples(exploration) == dict(expected)
    assert dict(dp.count(threads, alike=True)) == dict(expected)
    plain = _searches.Explorer(from_ops(threads), bound=None, max_steps=10_000, max_runs=10_000, max_states=10**6,
                            clock=[0, 0, 0], state={}, symmetry=False)
    assert dict(plain.count()[0]) == dict(exploration.outcomes)


def test_the_simplest_schedule_search_skips_states_alike_and_finds_the_same_schedule():
    program = racy_counter(6, 1)

    def explorer(symmetry):
        return _searches.Explorer(program, bound=None, max_steps=10_000, max_runs=1000, max_states=10**6,
                                  clock=[0, 0, 0], state={}, symmetry=symmetry)

    alike, plain = explorer(True), explorer(False)
    found = alike.simplest(lambda count: count < 6)
    assert found == plain.simplest(lambda count: count < 6)
    assert found[1] == 1  # one preemption loses an update
    assert alike.states < plain.states / 3
    assert replay(program, found[0], strict=True).outcome == found[2]
