"""Plain data (rustsync/grading/plain.py): the exact copies of a student's values that cross to the grader."""

import pytest

from rustsync.grading.plain import NotPlain, decode, encode, plain, same, tagged


def test_plain_copies_exact_builtins_and_refuses_everything_else():
    value = {"a": [1, (2, "x")], "b": {True, None}}
    copy = plain(value)
    assert copy == value and copy is not value and copy["a"] is not value["a"]

    class Sneaky(int):
        def __eq__(self, other):
            return True

    for bad in (Sneaky(1), [Sneaky(1)], {"k": object()}, float("nan")):
        with pytest.raises(NotPlain):
            plain(bad)


def test_exact_equality_tells_bools_ints_tuples_lists_and_sets_apart():
    assert same({(110, 90), "deadlock"}, {"deadlock", (110, 90)})
    assert not same(1, True) and not same({1}, {True}) and not same((1,), [1]) and not same(1, 1.0)
    assert tagged([1, {2}]) == tagged([1, {2}])


def test_plain_values_cross_as_json_with_their_types():
    import json

    for value in (True, 1, 2.5, "s", None, (1, [2, {3}]), frozenset({1}), {"k": (True, 0)}):
        back = decode(json.loads(json.dumps(encode(value))))
        assert same(back, value), value
    with pytest.raises(NotPlain):
        decode(["int", "1"])
    with pytest.raises(NotPlain):
        decode({"not": "encoded"})


def test_plain_refuses_values_too_big_to_decide_quickly():
    with pytest.raises(NotPlain, match="more than"):
        plain(list(range(100_000)))
