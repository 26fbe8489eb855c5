"""The facts of each check, and the pure function that decides them.

Every check gathers facts (plain data) and decides from them alone with `decide`. In
the grader's worker each check also appends its facts to `RECORDS`, and the grader
decides them again in its own process; the state the worker sets for one part (the
connection to the student's process, the cells that assign each name, the student's
seed) lives here too. Each module of checks adds its deciders to `DECIDERS`.
"""

import textwrap

from ...sched import Deadlock, Panic, StepLimit, Violation
from ..plain import NotPlain, decode, describe, encode, plain, tagged

# JupyterLab's nbgrader Validate dialog is at most 1000 px wide and shows a failed test's error in a
# <pre> that does not wrap: at 13 px monospace (7.8 px a character) about 118 characters fit, and a
# longer line is hidden behind a scroll bar. Messages are wrapped well inside that, counting the
# "AssertionError: " in front of their first line.
MESSAGE_WIDTH = 100

RECORDS = None  # a list in the grader's worker, where every check appends its facts; None elsewhere
STUDENT = None  # in the grader's worker: the connection to the student's process (grader.Student)
ASSIGNED = {}  # in the grader's worker: name -> [the student cell that assigns it, how that cell ended]
SEED = 0  # in the grader's worker: a number fixed for each student, for `drawn`


def drawn(kind, size=None):
    """Test inputs drawn from a seed fixed per student: the same on every run for one student, other for others.

    "words": a list of 3 or 4 short words, one of them twice; "chunks": a list of 3 or 4 lists
    of small numbers with a value repeated; `size` fixes how many. In the student's kernel the
    seed is 0, so the visible tests are the same for everyone.
    """
    import random

    rng = random.Random(f"{SEED}:{kind}:{size}")
    count = size or rng.choice((3, 4))
    if kind == "words":
        pool = ["mutex", "arc", "send", "sync", "guard", "lock", "rc", "cell", "join", "spawn", "atomic"]
        words = rng.sample(pool, count - 1)
        words.append(rng.choice(words))
        rng.shuffle(words)
        return words
    if kind == "chunks":
        chunks = [[rng.randint(1, 9) for _ in range(rng.choice((1, 2, 3)))] for _ in range(count)]
        chunks[-1].append(chunks[0][0])  # a value in two chunks
        chunks[0].append(chunks[0][0])  # and twice in one
        rng.shuffle(chunks)
        return chunks
    raise ValueError(f"no inputs of kind {kind!r}")


def _check(kind, facts):
    """Decide `facts` of a check of `kind`; record them for the grader; raise when it fails."""
    __tracebackhide__ = True
    if RECORDS is not None:
        RECORDS.append({"kind": kind, "facts": facts})
    ok, message = decide(kind, facts)
    if not ok:
        raise AssertionError(message) from None


def _fail(message):
    __tracebackhide__ = True
    _check("failed", {"message": message})


def decide(kind, facts):
    """(passed, message) for the facts of one check: a pure function of plain data.

    The message's lines are wrapped at `MESSAGE_WIDTH` (see `wrap`)."""
    decider = DECIDERS.get(kind)
    if decider is None or not isinstance(facts, dict):
        return False, f"the grader cannot decide a check of kind {kind!r}"
    try:
        ok, message = decider(facts)
    except (KeyError, TypeError, ValueError, NotPlain) as err:
        return False, f"the grader could not read the facts of this check ({type(err).__name__})"
    return ok, wrap(message)


def wrap(message, width=MESSAGE_WIDTH, first="AssertionError: "):
    """`message` with every line longer than `width` broken at spaces, the first line counting the
    `first` text shown before it; a broken line's continuation keeps the line's indentation.
    A word longer than a line (a long value) stays whole."""
    if type(message) is not str:
        return message
    lines = []
    for number, line in enumerate(message.split("\n")):
        room = width - (len(first) if number == 0 else 0)
        if len(line) <= room:
            lines.append(line)
            continue
        indent = line[:len(line) - len(line.lstrip(" "))]
        pieces = textwrap.wrap(line, width=room, subsequent_indent=indent, break_long_words=False,
                               break_on_hyphens=False, drop_whitespace=True)
        if pieces:
            pieces[1:] = textwrap.wrap(" ".join(piece.strip() for piece in pieces[1:]), width=width,
                                       initial_indent=indent, subsequent_indent=indent,
                                       break_long_words=False, break_on_hyphens=False)
        lines.extend(pieces or [line])
    return "\n".join(lines)


def _decide_failed(facts):
    return False, str(facts["message"])


def _key(value):
    """A plain, encoded form of an outcome: a Deadlock or a Panic by its text, else the value itself."""
    if isinstance(value, Deadlock):
        return ["Deadlock", str(value)]
    if isinstance(value, Panic):
        return ["Panic", [value.thread, value.error]]
    if isinstance(value, StepLimit):
        return ["StepLimit", [value.steps, list(value.running)]]
    if isinstance(value, Violation):
        return ["Violation", str(value.message)]
    try:
        return encode(plain(value, "the result"))
    except NotPlain as err:
        return ["NotPlain", str(err)]


def _is_special(key):
    return key[0] in ("Deadlock", "Panic", "StepLimit", "NotPlain", "Violation")


def _exact_in(key, choices):
    """True when the encoded outcome `key` is exactly one of the encoded `choices`."""
    if _is_special(key):
        return False
    wanted = {tagged(decode(c)) for c in choices}
    return tagged(decode(key)) in wanted


def _shown(key):
    if key[0] == "Deadlock":
        return "a deadlock"
    if key[0] == "Panic":
        return f"a panic in thread {key[1][0]}"
    if key[0] == "StepLimit":
        return "a schedule that never ends"
    if key[0] == "NotPlain":
        return "a value that is not plain data"
    if key[0] == "Violation":
        return f"a broken invariant ({key[1]})"
    return describe(decode(key))


DECIDERS = {"failed": _decide_failed}  # kind of check -> its decider; each module of checks adds its own
