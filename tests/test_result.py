"""`Ok`/`Err` (rustsync/result.py) and the atomics that return them: `compare_exchange`, `compare_exchange_weak`."""
import pytest

from rustsync import Arc, AtomicUsize, Err, Ok, Ordering, Result, UnwrapFailed, scope, spawn
from rustsync.sched import explore, replay, run


def test_repr_is_rusts_debug_output():
    assert repr(Ok(5)) == "Ok(5)"
    assert repr(Err([1, 2])) == "Err([1, 2])"
    assert repr(Ok("hi")) == 'Ok("hi")'
    assert repr(Err(True)) == "Err(true)"


def test_ok_and_err_are_told_apart_by_match_and_by_their_methods():
    def which(result):
        match result:
            case Ok(value):
                return ("ok", value)
            case Err(value):
                return ("err", value)

    assert which(Ok(3)) == ("ok", 3) and which(Err(4)) == ("err", 4)
    assert Ok(3).is_ok() and not Ok(3).is_err() and Err(3).is_err()
    assert (Ok(3).ok(), Ok(3).err(), Err(4).ok(), Err(4).err()) == (3, None, None, 4)
    assert Ok(3) == Ok(3) and Ok(3) != Err(3) and isinstance(Ok(3), Result)


def test_unwrap_on_the_wrong_side_fails_with_rusts_panic_message():
    assert Ok(1).unwrap() == 1 and Err(2).unwrap_err() == 2
    with pytest.raises(UnwrapFailed, match=r"^called `Result::unwrap\(\)` on an `Err` value: 6$"):
        Err(6).unwrap()
    with pytest.raises(UnwrapFailed, match=r"^called `Result::unwrap_err\(\)` on an `Ok` value: 5$"):
        Ok(5).unwrap_err()


def test_a_result_is_not_a_bool():
    with pytest.raises(TypeError, match=r"is_ok\(\)"):
        if Err(0):
            pass


@pytest.mark.parametrize("method", ["compare_exchange", "compare_exchange_weak"])
def test_compare_exchange_returns_ok_previous_or_err_current(method):
    flag = AtomicUsize(5)
    exchange = getattr(flag, method)
    assert exchange(5, 6, Ordering.AcqRel, Ordering.Acquire) == Ok(5)
    assert flag.load() == 6
    assert exchange(5, 7) == Err(6), "nothing stored: Err carries the value found"
    assert flag.load() == 6


def test_the_weak_form_has_rusts_ordering_check_under_its_own_name():
    flag = AtomicUsize(0)
    with pytest.raises(Exception, match="`compare_exchange_weak`'s failure ordering may not be `Release`"):
        flag.compare_exchange_weak(0, 1, Ordering.SeqCst, Ordering.Release)


def cas_increments(atomic, times):
    """The classic compare-exchange loop: read, try to store one more, retry with what was found."""
    for _ in range(times):
        seen = atomic.load()
        while True:
            match atomic.compare_exchange_weak(seen, seen + 1):
                case Ok(_):
                    break
                case Err(current):
                    seen = current


def test_a_compare_exchange_loop_loses_no_update_under_real_threads():
    hits = Arc(AtomicUsize(0))
    handles = []
    for _ in range(4):
        mine = Arc.clone(hits)
        handles.append(spawn(lambda: cas_increments(mine, 2000)))
    for h in handles:
        h.join()
    assert hits.load() == 8000


def cas_program(threads, times):
    """Threads that share one atomic by borrowing it in a scope, each adding `times` with the loop."""

    def program():
        hits = AtomicUsize(0)
        with scope() as s:
            for _ in range(threads):
                s.spawn(lambda: cas_increments(hits, times))
        return hits.peek()

    return program


def test_a_compare_exchange_loop_loses_no_update_in_any_schedule():
    exploration = explore(cas_program(2, 2), mode="every")
    assert exploration.complete
    assert list(exploration.outcomes) == [4]
    assert exploration.schedules > 1


def test_a_failed_compare_exchange_is_a_step_the_scheduler_records_and_replays():
    # both threads load 0; thread 2 stores 1; thread 1's exchange finds 1 (Err), retries and stores 2
    result = replay(cas_program(2, 1), [1, 2, 2, 1, 1], strict=True)
    steps = [(step.thread, step.op) for step in result.trace if step.op != "join"]
    assert steps == [(1, "load"), (2, "load"), (2, "compare_exchange_weak"), (1, "compare_exchange_weak"),
                     (1, "compare_exchange_weak")]
    assert result.outcome == 2
    assert run(cas_program(2, 1), seed=3).outcome == 2
