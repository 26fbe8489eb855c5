"""`rustsync.quiz.questions`: reading a lesson's quiz and the shape every question must have.

The lessons' quizzes as shipped (one answer, distinct from every wrong one, each wrong
one explained), a question of each kind read into its fields, every rule of the shape
refused with the question's place, and `load` on quiz files of a temporary data folder.
"""

import json
import types

import pytest

from rustsync.quiz import questions
from rustsync.quiz.questions import Option, Question, QuizError, _question, load

LESSONS = ["00", "01", "02", "03", "04", "05", "06"]


@pytest.mark.parametrize("lesson", LESSONS)
def test_each_question_has_one_answer_that_no_wrong_option_repeats_and_each_wrong_one_explained(lesson):
    for number, question in enumerate(load(lesson).questions, 1):
        where = f"quiz {lesson}, question {number}"
        if question.kind == "short":
            wrong = [m.answer for m in question.mistakes]
            assert question.answer and question.answer not in wrong, where
            assert all(m.why.strip() for m in question.mistakes), where
        else:
            (right,) = [o for o in question.options if o.correct]
            wrong = [o for o in question.options if not o.correct]
            assert right.text not in [o.text for o in wrong], where
            assert len({o.text for o in question.options}) == len(question.options), where
            assert all(o.why.strip() and o.why != right.why for o in wrong), where


def option(text, correct=False, why="because it is so", **extra):
    return {"text": text, "correct": correct, "why": why, **extra}


def test_a_choice_question_is_read_into_its_options():
    raw = {"kind": "choice", "prompt": "Which?", "options": [option("a", True, "right"), option("b", 0, "wrong")]}
    assert _question(raw, "q") == Question("choice", "Which?", options=(
        Option("a", True, "right"), Option("b", False, "wrong")))


def test_a_rust_question_keeps_its_program_its_source_and_each_options_claim():
    raw = {"kind": "rust", "prompt": "Compiles?", "program": "quiz_03_x", "source": "fn main() {}\n",
           "options": [option("E0382", claim={"error": "E0382"}), option("prints", True, claim={"prints": "1\n"})]}
    question = _question(raw, "q")
    assert (question.program, question.source) == ("quiz_03_x", "fn main() {}\n")
    assert [o.claim for o in question.options] == [{"error": "E0382"}, {"prints": "1\n"}]
    assert [o.correct for o in question.options] == [False, True]


def test_a_short_question_keeps_its_answer_and_the_usual_wrong_answers():
    raw = {"kind": "short", "prompt": "How many?", "answer": "70", "why": "C(8, 4)",
           "mistakes": [{"answer": "16", "why": "that counts something else"}]}
    question = _question(raw, "q")
    assert (question.answer, question.why, question.options) == ("70", "C(8, 4)", ())
    assert [(m.answer, m.why) for m in question.mistakes] == [("16", "that counts something else")]


CHOICE = {"kind": "choice", "prompt": "Which?", "options": [option("a", True), option("b")]}
RUST = {**CHOICE, "kind": "rust", "program": "quiz_00_p", "source": "fn main() {}",
        "options": [option("a", True, claim={"prints": ""}), option("b", claim={"error": "E0382"})]}
SHORT = {"kind": "short", "prompt": "How many?", "answer": "70", "why": "C(8, 4)",
         "mistakes": [{"answer": "16", "why": "no"}]}


@pytest.mark.parametrize(("raw", "message"), [
    ({**CHOICE, "kind": "essay"}, "question 4: kind must be one of ('choice', 'short', 'rust'), not 'essay'"),
    ({**CHOICE, "prompt": "  "}, "question 4: a question needs a prompt"),
    ({**CHOICE, "options": [option("a", True)]}, "question 4: a multiple-choice question needs at least two"),
    ({**CHOICE, "options": [option("a"), option("b")]}, "question 4: exactly one option is correct"),
    ({**CHOICE, "options": [option("a", True), option("b", True)]}, "question 4: exactly one option is correct"),
    ({**CHOICE, "options": [option("a", True), option("")]}, "question 4, option 2: an option needs a text"),
    ({**RUST, "program": "listing_16_13"}, "question 4: a rust question names its program (quiz_NN_name)"),
    ({**RUST, "source": ""}, "question 4: a rust question names its program (quiz_NN_name) and shows its source"),
    ({**RUST, "options": [option("a", True, claim={"compiles": True}), option("b", claim={"error": "E1"})]},
     "question 4, option 1: an option of a rust question claims one of"),
    ({**SHORT, "why": ""}, "question 4: a short answer needs an answer and a why"),
    ({**SHORT, "mistakes": []}, "question 4: a short answer explains at least one usual wrong answer"),
    ({**SHORT, "mistakes": [{"answer": "16", "why": " "}]}, "question 4: a short answer explains at least one"),
], ids=["kind", "prompt", "one option", "none correct", "two correct", "option text", "program name",
        "program source", "claim", "short why", "no mistakes", "mistake why"])
def test_a_question_of_the_wrong_shape_is_refused_with_its_place(raw, message):
    with pytest.raises(QuizError) as err:
        _question(raw, "question 4")
    assert str(err.value).startswith(message), str(err.value)


@pytest.fixture
def data(tmp_path, monkeypatch):
    """A data folder of quiz files in place of the package's."""
    (tmp_path / "data").mkdir()
    monkeypatch.setattr(questions, "resources", types.SimpleNamespace(files=lambda package: tmp_path))
    return tmp_path / "data"


def test_a_lesson_is_read_from_its_file_whatever_way_it_is_written(data):
    (data / "07.json").write_text(json.dumps({"lesson": "07", "title": "Quiz: more", "questions": [CHOICE]}))
    quiz = load(7)
    assert (quiz.lesson, quiz.title, len(quiz.questions)) == ("07", "Quiz: more", 1)
    assert load("7") == load("07") == quiz
    (data / "08.json").write_text(json.dumps({"lesson": "08", "questions": []}))
    assert load("08").title == "Quiz 08", "a quiz without a title is named after its lesson"


def test_a_file_that_says_another_lesson_or_holds_a_wrong_question_is_refused(data):
    (data / "07.json").write_text(json.dumps({"lesson": "06", "questions": []}))
    with pytest.raises(QuizError, match=r"^rustsync/quiz/data/07.json: the file says it is lesson '06'$"):
        load("07")
    (data / "07.json").write_text(json.dumps({"lesson": "07", "questions": [CHOICE, {**CHOICE, "prompt": ""}]}))
    with pytest.raises(QuizError, match=r"^rustsync/quiz/data/07.json, question 2: a question needs a prompt$"):
        load("07")


def test_a_lesson_without_a_file_names_the_lessons_that_have_one(data):
    for lesson in ("01", "00"):
        (data / f"{lesson}.json").write_text(json.dumps({"lesson": lesson, "questions": []}))
    (data / "notes.txt").write_text("not a quiz")
    with pytest.raises(QuizError, match=r"^no quiz for lesson '02': the lessons with a quiz are 00, 01$"):
        load(2)
