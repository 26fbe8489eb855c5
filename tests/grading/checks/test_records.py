"""`rustsync.grading.checks.records`: the facts of each check, kept for the grader, and `decide`, the pure
function of those facts that passes or fails a part (wrapped for nbgrader's Validate dialog)."""

from __future__ import annotations

import pytest

from rustsync.grading import checks
from rustsync.grading.checks import records
from rustsync.grading.checks.records import MESSAGE_WIDTH, _exact_in, _key, _shown, decide, drawn, wrap
from rustsync.sched import Deadlock


def test_every_kind_of_check_has_its_decider_and_an_unknown_kind_fails():
    assert set(records.DECIDERS) == {"failed", "answer", "equal", "prediction", "always", "schedule",
                                     "deadlock_schedule", "ops"}
    assert decide("no such kind", {}) == (False, "the grader cannot decide a check of kind 'no such kind'")
    assert decide("equal", ["not", "a", "dict"])[0] is False


def test_facts_the_grader_cannot_read_fail_the_check_with_a_reason():
    passed, message = decide("equal", {"what": "the count"})  # the values are missing
    assert not passed and message == "the grader could not read the facts of this check (KeyError)"


def test_a_failed_fact_fails_with_its_message_wrapped():
    long = "word " * 60
    passed, message = decide("failed", {"message": long.strip()})
    assert not passed
    assert all(len(line) <= MESSAGE_WIDTH for line in message.splitlines())
    assert len(message.splitlines()[0]) <= MESSAGE_WIDTH - len("AssertionError: ")
    assert " ".join(message.split()) == long.strip()


def test_wrap_keeps_indentation_and_a_word_longer_than_a_line():
    value = "x" * (MESSAGE_WIDTH + 20)
    text = "first line\n    " + "indented words " * 12 + "\n" + value
    lines = wrap(text).splitlines()
    assert lines[0] == "first line"
    assert all(line.startswith("    ") for line in lines[1:-1])
    assert lines[-1] == value  # a long value stays whole
    assert wrap(42) == 42  # not text: given back as it is


def test_check_records_its_facts_for_the_grader_and_raises_when_they_fail(monkeypatch):
    monkeypatch.setattr(records, "RECORDS", [])
    with pytest.raises(AssertionError, match="^no$"):
        records._check("failed", {"message": "no"})
    assert records.RECORDS == [{"kind": "failed", "facts": {"message": "no"}}]


def test_outside_the_grader_nothing_is_recorded():
    assert records.RECORDS is None
    with pytest.raises(AssertionError):
        records._fail("a message")
    assert records.RECORDS is None


def test_an_outcome_is_exactly_one_of_the_choices_by_type_too():
    assert _exact_in(_key(2), [_key(2), _key(3)])
    assert not _exact_in(_key(True), [_key(1)])  # True is not 1
    assert not _exact_in(_key(2.0), [_key(2)])  # nor 2.0 2
    deadlock = _key(Deadlock(((1, "lock a", 2), (2, "lock b", 1)), (1, 2)))
    assert deadlock[0] == "Deadlock" and not _exact_in(deadlock, [deadlock])  # a deadlock is never an answer
    assert _shown(deadlock) == "a deadlock"


def test_an_outcome_that_is_not_plain_data_is_named_so():
    class Lying:
        def __eq__(self, other):
            return True

    key = _key(Lying())
    assert key[0] == "NotPlain" and not _exact_in(key, [_key(2)])
    assert _shown(key) == "a value that is not plain data"


def test_drawn_inputs_are_fixed_per_student_and_differ_between_students(monkeypatch):
    first = drawn("words")
    assert drawn("words") == first  # the same on every run
    assert len(drawn("chunks", 4)) == 4
    monkeypatch.setattr(records, "SEED", 7)
    others = [drawn("words", 4)]
    for seed in range(8, 12):
        monkeypatch.setattr(records, "SEED", seed)
        others.append(drawn("words", 4))
    assert len({tuple(words) for words in others}) > 1
    with pytest.raises(ValueError, match="no inputs of kind 'pictures'"):
        drawn("pictures")


def test_the_package_exports_the_same_decide_and_wrap():
    assert checks.decide is decide and checks.wrap is wrap and checks.MESSAGE_WIDTH == MESSAGE_WIDTH
