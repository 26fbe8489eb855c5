"""Reading a lesson's quiz from `data/NN.json`, and the shape every question must have."""

import json
from dataclasses import dataclass, field
from importlib import resources

KINDS = ("choice", "short", "rust")
CLAIMS = ("error", "prints")  # what a "does it compile?" option says rustc does: an error code, or the output


class QuizError(ValueError):
    """A quiz file that does not have the expected shape; the message names the file and the question."""


@dataclass(frozen=True)
class Option:
    text: str
    correct: bool
    why: str
    claim: dict | None = None  # rust questions: {"error": "E0382"} or {"prints": "Result: 10\n"}


@dataclass(frozen=True)
class Mistake:
    answer: str
    why: str


@dataclass(frozen=True)
class Question:
    kind: str
    prompt: str
    options: tuple = ()
    answer: str = ""
    why: str = ""
    mistakes: tuple = ()
    program: str = ""  # rust questions: the name of tests/rustc/programs/<program>.rs
    source: str = ""  # rust questions: that program's text, shown in the question


@dataclass(frozen=True)
class Quiz:
    lesson: str
    title: str
    questions: tuple = field(default_factory=tuple)

    def _repr_html_(self):
        from .render import render_html
        return render_html(self)

    def __repr__(self):
        from .render import render_text
        return render_text(self)


def _need(condition, where, message):
    if not condition:
        raise QuizError(f"{where}: {message}")


def _question(raw, where):
    kind = raw.get("kind")
    _need(kind in KINDS, where, f"kind must be one of {KINDS}, not {kind!r}")
    _need(isinstance(raw.get("prompt"), str) and raw["prompt"].strip(), where, "a question needs a prompt")
    if kind == "short":
        _need(raw.get("answer") and raw.get("why"), where, "a short answer needs an answer and a why")
        mistakes = tuple(Mistake(m["answer"], m["why"]) for m in raw.get("mistakes", ()))
        _need(mistakes and all(m.why.strip() for m in mistakes), where,
              "a short answer explains at least one usual wrong answer (mistakes: [{answer, why}])")
        return Question(kind, raw["prompt"], answer=raw["answer"], why=raw["why"], mistakes=mistakes)
    options = []
    for number, option in enumerate(raw.get("options", ()), 1):
        here = f"{where}, option {number}"
        _need(isinstance(option.get("text"), str) and option["text"].strip(), here, "an option needs a text")
        _need(isinstance(option.get("why"), str) and option["why"].strip(), here,
              "every option, right or wrong, needs a why")
        claim = option.get("claim")
        if kind == "rust":
            _need(isinstance(claim, dict) and len(claim) == 1 and next(iter(claim)) in CLAIMS, here,
                  f"an option of a rust question claims one of {CLAIMS}: {{\"error\": \"E0382\"}}")
        options.append(Option(option["text"], bool(option.get("correct")), option["why"], claim))
    _need(len(options) >= 2, where, "a multiple-choice question needs at least two options")
    _need(sum(o.correct for o in options) == 1, where, "exactly one option is correct")
    if kind == "rust":
        _need(raw.get("program", "").startswith("quiz_") and raw.get("source"), where,
              "a rust question names its program (quiz_NN_name) and shows its source")
    return Question(kind, raw["prompt"], options=tuple(options), program=raw.get("program", ""),
                    source=raw.get("source", ""))


def load(lesson):
    """The quiz of lesson `lesson` ("00" to "06"), read from the package's data files."""
    lesson = f"{int(lesson):02d}" if str(lesson).isdigit() else str(lesson)
    path = resources.files(__package__) / "data" / f"{lesson}.json"
    if not path.is_file():
        known = sorted(p.name[:-5] for p in (resources.files(__package__) / "data").iterdir()
                       if p.name.endswith(".json"))
        raise QuizError(f"no quiz for lesson {lesson!r}: the lessons with a quiz are {', '.join(known)}")
    raw = json.loads(path.read_text(encoding="utf-8"))
    where = f"rustsync/quiz/data/{lesson}.json"
    _need(raw.get("lesson") == lesson, where, f"the file says it is lesson {raw.get('lesson')!r}")
    questions = tuple(_question(q, f"{where}, question {n}") for n, q in enumerate(raw.get("questions", ()), 1))
    return Quiz(lesson, raw.get("title", f"Quiz {lesson}"), questions)
