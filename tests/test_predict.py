"""Predict, then reveal (`rustsync.predict`): nothing is shown before an answer is committed."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from rustsync.lab import racy_counter  # noqa: E402
from rustsync.predict import Prediction  # noqa: E402
from rustsync.sched import explore, replay  # noqa: E402


def _smallest_of_two_by_three():
    exploration = explore(racy_counter(2, 3))
    smallest = min(exploration.outcomes)
    return smallest, replay(racy_counter(2, 3), exploration.example(smallest))


def test_reveal_stays_disabled_and_refuses_until_an_answer_is_given():
    smallest, proof = _smallest_of_two_by_three()
    asked = Prediction("How low can the count go?", smallest, choices=range(7), proof=proof)
    assert asked.button.disabled
    asked.reveal()  # as if the button were pressed anyway
    assert not asked.revealed and "Answer first" in asked.message.value
    assert asked.result.value == ""
    asked.answer_with(3)
    assert not asked.button.disabled and not asked.revealed


def test_a_wrong_answer_is_answered_with_the_finding_the_why_and_the_proving_schedule():
    smallest, proof = _smallest_of_two_by_three()
    asked = Prediction("How low?", smallest, choices=range(7), found="explore found it",
                       explain="a late write erases every increment in between", proof=proof)
    asked.answer_with(3).reveal()
    assert asked.revealed and not asked.correct
    assert "Not quite" in asked.message.value and f"found {smallest}" in asked.message.value
    shown = asked.result.value
    assert shown == asked.revelation_html()
    assert "explore found it" in shown and "a late write erases" in shown
    assert str(proof.schedule) in shown and "data:image/png;base64," in shown
    assert replay(racy_counter(2, 3), proof.schedule).outcome == smallest  # the schedule shown proves it
    assert asked.input.disabled and asked.button.disabled  # committed: no second try on the same widget


def test_a_right_answer_is_told_right_and_the_answer_cannot_change_after_the_reveal():
    asked = Prediction("Does it deadlock?", "sometimes", choices=["always", "sometimes", "never"])
    asked.answer_with("sometimes").reveal()
    assert asked.correct and "Right" in asked.message.value
    asked.input.value = "never"  # a disabled widget's value set from code: the verdict stays
    asked.reveal()
    assert asked.given == "sometimes"


def test_a_typed_answer_is_read_as_a_number_and_a_bad_one_is_explained():
    asked = Prediction("How many schedules?", 70)
    asked.answer_with("seventy")
    assert asked.button.disabled and "a whole number expected" in asked.message.value
    asked.answer_with(" 70 ")
    assert not asked.button.disabled and asked.message.value == ""
    asked.reveal()
    assert asked.correct


def test_the_saved_output_never_holds_the_answer_and_is_the_same_on_every_run():
    smallest, proof = _smallest_of_two_by_three()
    bundles = [Prediction("How <i>low</i> can it go?", smallest, choices=range(7), proof=proof,
                          explain="the reason")._repr_mimebundle_() for _ in range(2)]
    first, second = bundles
    assert first["text/plain"] == second["text/plain"] and first["text/html"] == second["text/html"]
    assert first["text/plain"].startswith("Predict: How low can it go? (0, 1, 2, 3, 4, 5, 6)")
    assert "Run this cell" in first["text/plain"] and "Run this cell" in first["text/html"]
    assert "the reason" not in first["text/html"] and str(proof.schedule) not in first["text/html"]
    assert "application/vnd.jupyter.widget-view+json" in first


def test_choices_without_the_answer_are_refused():
    with pytest.raises(ValueError, match="not one of the choices"):
        Prediction("?", 9, choices=range(7))
