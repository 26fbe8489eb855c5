"""The lessons' quizzes (rustsync.quiz): their shape, their explanations, and every Rust answer held against rustc."""

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from rustsync.quiz import load, quiz, render_html, render_text
from rustsync.quiz.questions import QuizError, _question

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = ROOT / "tests" / "rustc" / "programs"
LESSONS = sorted(p.name[:2] for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def rustc_said(text):
    """What a stored output says: ("error", "E0382") when rustc refused the program, else ("prints", stdout)."""
    if "error: aborting due to" in text or text.startswith("error"):
        return "error", re.search(r"^error\[(E\d{4})\]", text, re.MULTILINE)[1]
    return "prints", text


def claim_holds(claim, text):
    (kind, value), = claim.items()
    said_kind, said = rustc_said(text)
    return kind == said_kind and value == said


def rust_questions():
    return [(lesson, n, q) for lesson in LESSONS for n, q in enumerate(load(lesson).questions, 1) if q.kind == "rust"]


def test_every_lesson_has_a_quiz_of_four_to_eight_questions():
    assert LESSONS == ["00", "01", "02", "03", "04", "05", "06"]
    for lesson in LESSONS:
        assert 4 <= len(quiz(lesson).questions) <= 8, lesson
        kinds = {q.kind for q in quiz(lesson).questions}
        assert "rust" in kinds and kinds & {"choice", "short"}, f"{lesson}: Rust programs and other questions"


def test_every_answer_right_or_wrong_has_its_own_explanation():
    for lesson in LESSONS:
        for number, question in enumerate(load(lesson).questions, 1):
            where = f"quiz {lesson}, question {number}"
            if question.kind == "short":
                whys = [question.why] + [m.why for m in question.mistakes]
                assert question.mistakes, f"{where}: a usual wrong answer is explained"
            else:
                whys = [o.why for o in question.options]
                assert sum(o.correct for o in question.options) == 1, where
                assert len(question.options) >= 3, f"{where}: at least two wrong options"
            assert all(len(why.split()) >= 8 for why in whys), f"{where}: an explanation, not a verdict"
            assert len(set(whys)) == len(whys), f"{where}: each answer explained on its own"


@pytest.mark.parametrize("lesson, number, question", rust_questions(), ids=lambda v: getattr(v, "program", str(v)))
def test_a_rust_answer_is_what_rustc_said(lesson, number, question):
    """The right option's claim matches rustc's stored output; no wrong option's claim does."""
    assert question.program.startswith(f"quiz_{lesson}_"), f"quiz {lesson} asks about its own lesson's programs"
    assert question.source == (PROGRAMS / f"{question.program}.rs").read_text(), "the quiz shows the program as kept"
    stored = (PROGRAMS / f"{question.program}.txt").read_text()
    for option in question.options:
        assert claim_holds(option.claim, stored) == option.correct, (
            f"quiz {lesson}, question {number}, {option.text!r}: rustc said {rustc_said(stored)}")


def test_every_quiz_program_is_asked_about_and_has_rustcs_output():
    asked = {q.program for _, _, q in rust_questions()}
    kept = {p.stem for p in PROGRAMS.glob("quiz_*.rs")}
    assert asked == kept
    assert all((PROGRAMS / f"{name}.txt").is_file() for name in kept), "run tests/rustc/regenerate.sh"


@pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc is not installed: the stored outputs count")
@pytest.mark.timeout(120)
def test_the_stored_outputs_of_the_quiz_programs_are_what_this_rustc_says(tmp_path):
    version = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout
    if version != (PROGRAMS / "rustc-version.txt").read_text():
        pytest.skip(f"another rustc ({version.strip()}): its messages may differ")
    for program in sorted(PROGRAMS.glob("quiz_*.rs")):
        binary = tmp_path / program.stem
        compiled = subprocess.run(["rustc", "--edition", "2024", "--color", "never", "-o", binary, program.name],
                                  cwd=PROGRAMS, capture_output=True, text=True, timeout=60)
        if compiled.returncode == 0:
            said = subprocess.run([binary], capture_output=True, text=True, timeout=10).stdout
        else:
            said = compiled.stderr
        assert said == program.with_suffix(".txt").read_text(), f"{program.name}: run tests/rustc/regenerate.sh"


def test_the_html_quiz_needs_no_script_and_is_the_same_on_every_run():
    for lesson in LESSONS:
        page = quiz(lesson)._repr_html_()
        assert page == render_html(load(lesson))
        assert "<script" not in page.lower()
        assert not re.search(r"<[^>]+\son\w+=", page), "no event handlers"
        for question in quiz(lesson).questions:
            whys = [question.why] + [m.why for m in question.mistakes] + [o.why for o in question.options]
            for why in filter(None, whys):
                shown = re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(why, quote=False))
                assert shown in page, f"{lesson}: {why[:40]!r} is shown"
        summaries = page.count("<summary>")
        assert summaries == sum(len(q.options) or 1 for q in quiz(lesson).questions), "one click per answer"


def test_the_text_quiz_shows_every_question_then_every_explanation():
    text = render_text(quiz("03"))
    assert text == repr(quiz("03"))
    questions, answers = text.split("Answers and explanations")
    for number, question in enumerate(quiz("03").questions, 1):
        assert f"{number}. {question.prompt}" in questions
        assert all(o.why not in questions for o in question.options), "answers come after the questions"
        assert all(o.why in answers for o in question.options)
    assert "Result: {}" in questions, "the Rust programs are shown"


def test_a_question_without_an_explanation_is_refused_with_its_place():
    raw = {"kind": "choice", "prompt": "Which?", "options": [{"text": "a", "correct": True, "why": "because"},
                                                             {"text": "b", "why": ""}]}
    with pytest.raises(QuizError, match=r"question 2, option 2: every option, right or wrong, needs a why"):
        _question(raw, "question 2")
    raw = {"kind": "rust", "prompt": "Compiles?", "program": "quiz_00_x", "source": "fn main() {}",
           "options": [{"text": "yes", "correct": True, "why": "it does"}, {"text": "no", "why": "it does not"}]}
    with pytest.raises(QuizError, match="claims one of"):
        _question(raw, "question 1")


def test_an_unknown_lesson_names_the_lessons_that_have_a_quiz():
    with pytest.raises(QuizError, match="no quiz for lesson '09': the lessons with a quiz are 00, 01, 02"):
        quiz("09")
    assert quiz(3) == quiz("03")
