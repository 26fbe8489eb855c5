"""Drawing a quiz: HTML whose answers open on a click (`<details>`), and plain text with the answers at the end."""

import html
import re
import string

_CODE = re.compile(r"`([^`]+)`")
_RIGHT, _WRONG = "#1a7f37", "#b42318"
_INTRO = ("Not graded. Decide on your answer first, then click it to see whether it is right and why; "
          "every answer has its explanation, the wrong ones too.")


def _inline(text):
    """Escape text for HTML; `code` in backticks becomes <code>."""
    return _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", html.escape(text, quote=False))


def _explained(correct, why):
    colour, verdict = (_RIGHT, "Right.") if correct else (_WRONG, "Not this one.")
    return (f'<div style="border-left: 3px solid {colour}; padding-left: 0.6em; margin: 0.2em 0 0.6em 1.4em">'
            f'<strong style="color: {colour}">{verdict}</strong> {_inline(why)}</div>')


def _question_html(number, question):
    parts = [f'<p style="margin-bottom: 0.3em"><strong>{number}.</strong> {_inline(question.prompt)}</p>']
    if question.source:
        parts.append(f'<pre style="margin-left: 1.4em"><code>{html.escape(question.source.rstrip())}</code></pre>')
    if question.kind == "short":
        mistakes = "".join(
            f'<div style="margin: 0.2em 0 0.2em 1.4em"><em>If you answered {_inline(m.answer)}:</em> '
            f"{_inline(m.why)}</div>" for m in question.mistakes)
        parts.append(f'<details style="margin-left: 1.4em"><summary>Show the answer</summary>'
                     f"{_explained(True, question.answer + '. ' + question.why)}{mistakes}</details>")
    else:
        for letter, option in zip(string.ascii_uppercase, question.options, strict=False):
            parts.append(f'<details style="margin-left: 1.4em"><summary>{letter}. {_inline(option.text)}</summary>'
                         f"{_explained(option.correct, option.why)}</details>")
    return f'<div class="rustsync-quiz-question" style="margin-bottom: 1em">{"".join(parts)}</div>'


def render_html(quiz):
    """The quiz as HTML, with no script: it shows the same in a notebook that was never run here."""
    questions = "".join(_question_html(n, q) for n, q in enumerate(quiz.questions, 1))
    return (f'<div class="rustsync-quiz" data-lesson="{quiz.lesson}">'
            f"<h3>{_inline(quiz.title)}</h3><p><em>{_INTRO}</em></p>{questions}</div>")


def _indent(text, prefix="   "):
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def render_text(quiz):
    """The quiz as plain text: the questions first, then every answer with its explanation."""
    lines = [quiz.title, "", _INTRO, ""]
    answers = ["Answers and explanations", ""]
    for number, question in enumerate(quiz.questions, 1):
        lines.append(f"{number}. {question.prompt}")
        if question.source:
            lines += ["", _indent(question.source.rstrip(), "       "), ""]
        if question.kind == "short":
            answers.append(f"{number}. {question.answer}. {question.why}")
            answers += [f"   If you answered {m.answer}: {m.why}" for m in question.mistakes]
        else:
            for letter, option in zip(string.ascii_uppercase, question.options, strict=False):
                lines.append(f"   {letter}. {option.text}")
                verdict = "Right." if option.correct else "Not this one."
                answers.append(f"{number}{letter}. {verdict} {option.why}")
        lines.append("")
        answers.append("")
    return "\n".join(lines + answers).rstrip() + "\n"
