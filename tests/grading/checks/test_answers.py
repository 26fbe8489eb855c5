"""`rustsync.grading.checks.answers`: the answers a student names (`answer`) and the exceptions their
functions raise (`raised_by`)."""

from __future__ import annotations

import pytest

from rustsync.grading import (
    answer,
    raised_by,
)


def test_answer_names_the_cell_to_fill_in():
    with pytest.raises(AssertionError, match=r"`no_such_answer` is not defined: write `no_such_answer = \.\.\.`"):
        answer("no_such_answer")
    globals()["some_answer"] = "1, 2"
    try:
        with pytest.raises(AssertionError, match=r"`some_answer` must be a list like \[1, 2, 1\], but it is str"):
            answer("some_answer", list)
    finally:
        del globals()["some_answer"]


def test_raised_by_names_the_exception_class():
    assert raised_by(lambda: [][1]) == "IndexError"
    assert raised_by(lambda: None) == "nothing"
