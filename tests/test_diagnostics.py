"""rustsync's E0382 and E0277 held against the real compiler, label by label.

listings/listing-16-13/rustc.txt and listing-16-14/rustc.txt are what rustc prints for the Rust
Book's Listings 16-13 and 16-14. Both files and the Python analogues' output are read
with the same parser; every label rustc prints must have its Python analogue, with the
same text (Rust types written the Python way), on the matching Python line, underlined
under the matching token, primary (`^`) or secondary (`-`) alike.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from rustsync import NotSend, Rc, spawn

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "rustc"


# --- reading a rustc-style diagnostic ------------------------------------------------------------


@dataclass
class Label:
    line: int
    col: int  # 0-based column on the source line
    end: int  # exclusive
    text: str
    primary: bool | None  # None when the underline mixes `^` and `-` (spans that overlap)
    token: str  # the source text under the underline
    multiline: bool = False


@dataclass
class Section:
    """The diagnostic itself or one of its `note:`s: a location and a snippet with labels."""

    title: str
    location: tuple | None = None  # (path, line, column or None), as printed after `-->`
    labels: list = field(default_factory=list)
    source: dict = field(default_factory=dict)  # line number -> source text


@dataclass
class Parsed:
    code: str  # "" for an error without a code (a lint, such as `invalid_atomic_ordering`)
    main: Section
    helps: list
    notes: list
    explain: str | None
    suggestions: list = field(default_factory=list)  # (title, [(line, new code), ...]) of each `help:` with `~`
    footnotes: list = field(default_factory=list)  # the `= note:` lines


HEAD = re.compile(r"(?:^|: )error(?:\[(E\d{4})\])?: (?!aborting due to)(.*)$")
ARROW = re.compile(r"^\s*--> (.*?):(\d+)(?::(\d+))?$")
HELP = re.compile(r"^\s*= help: (.*)$")
FOOTNOTE = re.compile(r"^\s*= note: (.*)$")
NOTE = re.compile(r"^note: (.*)$")
SUGGESTION = re.compile(r"^help: (.*)$")
CHANGED = re.compile(r"^ *(\d+) ~ ?(.*)$")
ROW = re.compile(r"^ *(\d*) \|(.*)$")
DRAWING = set(" |_^-")


def parse(output):
    """Read the first `error[...]` of rustc's (or rustsync's) output; anything before it is skipped."""
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if HEAD.search(line)), None)
    assert start is not None, f"no `error[Exxxx]` in:\n{output}"
    code, message = HEAD.search(lines[start]).groups()
    main = section = Section(message)
    helps, notes, rows, explain, suggestions, footnotes = [], [], [], None, [], []
    suggestion = None
    for line in lines[start + 1 :]:
        if suggestion is not None and (m := CHANGED.match(line)):
            suggestion[1].append((int(m[1]), m[2]))
        elif suggestion is not None and (m := ROW.match(line)) and m[1]:
            suggestion[1].append((int(m[1]), m[2][1:]))  # rustc's insertion style: the new line, then `+++`
        elif suggestion is not None and (m := ROW.match(line)) and set(m[2].strip()) == {"+"}:
            continue
        elif suggestion is not None and ROW.match(line) and not ROW.match(line)[1]:
            continue  # the bars around a suggestion's code
        elif m := ARROW.match(line):
            section.location = (m[1], int(m[2]), int(m[3]) if m[3] else None)
        elif m := HELP.match(line):
            helps.append(m[1])
        elif m := FOOTNOTE.match(line):
            footnotes.append(m[1])
        elif m := SUGGESTION.match(line):
            suggestion = (m[1], [])
            suggestions.append(suggestion)
        elif m := NOTE.match(line):
            _read_snippet(section, rows)
            rows = []
            section = Section(m[1])
            notes.append(section)
        elif m := ROW.match(line):
            content = m[2][1:] if m[2].startswith(" ") else m[2]
            rows.append((int(m[1]) if m[1] else None, content))
        elif line == "...":
            rows.append((None, None))
        elif line.startswith("For more information about this error"):
            explain = line
            break
        elif line.startswith("error: aborting due to"):
            continue  # rustc's count of errors, not part of the diagnostic
        elif line.strip():
            raise AssertionError(f"unexpected line in a diagnostic: {line!r}")
    _read_snippet(section, rows)
    return Parsed(code or "", main, helps, notes, explain, suggestions, footnotes)


def _read_snippet(section, rows):
    # Spans over several lines draw a margin of `| ` left of the code: measure it
    margin = max((len(re.match(r"(?:\| ?)*", c)[0]) for n, c in rows if n is not None and c), default=0)
    line, group = None, []
    for number, content in [*rows, (None, None)]:
        if number is not None or content is None:
            if line is not None and group:
                _read_labels(section, line, group, margin)
            line, group = None, []
            if number is not None:
                line = number
                section.source[number] = content[margin:]
        elif line is not None:
            group.append(content)


def _read_labels(section, line, group, margin):
    """The labels under one source line: `group` is the annotation rows below it."""
    underline = group[0]
    text_start = next((i for i, ch in enumerate(underline) if ch not in DRAWING), len(underline))
    underline = underline[:text_start]  # the drawing; a label's own text may contain `-`
    runs = [(m.start(), m.end()) for m in re.finditer(r"[\^\-]+", underline)]
    claimed = set()
    for index, row in enumerate(group):
        p = next((i for i, ch in enumerate(row) if ch not in DRAWING), None)
        if p is None:
            continue
        if index == 0:  # text on the underline row belongs to the underline just before it
            run = next((r for r in runs if r[1] == p - 1), None)
        else:  # text on a later row hangs from the underline that starts in its column
            run = next((r for r in runs if r[0] == p), None)
        assert run is not None, f"label {row[p:]!r} under line {line} is attached to no underline"
        claimed.add(run)
        section.labels.append(_label(section, line, underline, run, row[p:], margin))
    for run in runs:
        if run not in claimed:
            section.labels.append(_label(section, line, underline, run, "", margin))


def _label(section, line, underline, run, text, margin):
    start, end = run
    marks = set(underline[start:end])
    primary = True if marks == {"^"} else False if marks == {"-"} else None
    if start > 0 and underline[start - 1] == "_":  # the end of a span that began lines above
        assert primary, "a multi-line secondary span: not expected in these diagnostics"
        _, first_line, first_col = section.location
        source = section.source[first_line]
        return Label(first_line, first_col - 1, len(source), text, True, source[first_col - 1 :], multiline=True)
    source = section.source[line]
    col, end_col = start - margin, end - margin
    return Label(line, col, end_col, text, primary, source[col:end_col])


# --- Rust names, written the Python way ----------------------------------------------------------------

PYTHON_TYPES = {"i32": "int", "u32": "int", "String": "str"}


def pythonize(text, closure, types=None):
    """rustc's text with Python's types (`Mutex<int>` for `std::sync::Mutex<i32>`) and the Python closure.

    `types` maps whole Rust types to their Python names first (`Vec<i32>` to `list[int]`).
    """
    text = re.sub(r"\b(?:std|core|alloc)::(?:\w+::)+", "", text)
    for rust, python in (types or {}).items():
        text = text.replace(rust, python)
    text = re.sub(r"\b(?:i32|u32|String)\b", lambda m: PYTHON_TYPES[m[0]], text)
    if closure is not None:
        text = re.sub(r"\{closure@[^}]*\}", "{closure@" + closure + "}", text)
    return text


def closure_position(text):
    """(line, column) of the `{closure@path:line:column...}` a text names."""
    m = re.search(r"\{closure@.*?:(\d+):(\d+)", text)
    return (int(m[1]), int(m[2])) if m else None


# --- the analogues -----------------------------------------------------------------------------------


@dataclass
class Analogue:
    """A rustc label (found by a pattern), the Rust token it underlines, and where its Python twin must be."""

    pattern: str
    rust_token: str  # the start of the underlined Rust source
    python_code: str  # how the Python line starts (after its indentation)
    python_token: str  # the underlined Python source
    primary: bool


E0382_ANALOGUES = [
    Analogue(r"^move occurs because `counter` has type .* which does not implement the `Copy` trait$",
             "counter", "counter = Mutex(0)", "counter", primary=False),
    Analogue(r"^inside of this loop$", "for _ in 0..10", "for _ in range(10):", "for _ in range(10)", primary=False),
    Analogue(r"^value moved into closure here, in previous iteration of loop$",
             "move ||", "handle = spawn(work)", "work", primary=False),
    Analogue(r"^value borrowed here after move$", "counter", 'print(f"Result: {counter', "counter", primary=True),
]

E0277_ANALOGUES = [
    Analogue(r"^required by a bound introduced by this call$",
             "thread::spawn", "handle = spawn(work)", "spawn", primary=False),
    Analogue(r"^within this `\{closure@", "move ||", "def work():", "work", primary=False),
    Analogue(r"^`Rc<.*>` cannot be sent between threads safely$",
             "move ||", "handle = spawn(work)", "work", primary=True),
]

E0277_NOTE_ANALOGUES = {
    "required because it's used within this closure": [
        Analogue(r"^$", "move ||", "def work():", "work", primary=True),
    ],
}


def python_span(path, code, token):
    """(line, col, end) of `token` on the one line of `path` that starts with `code`."""
    lines = Path(path).read_text().splitlines()
    found = [i + 1 for i, text in enumerate(lines) if text.strip().startswith(code)]
    assert len(found) == 1, f"{len(found)} lines of {path} start with {code!r}"
    line = found[0]
    rest = lines[line - 1][lines[line - 1].index(code.split()[0]):]
    m = re.search(rf"(?<![\w.]){re.escape(token)}(?!\w)", rest) or re.search(re.escape(token), rest)
    col = lines[line - 1].index(code.split()[0]) + m.start()
    return line, col, col + len(token)


def check_labels(rust_labels, python_labels, analogues, python_file, closure, where, types=None):
    """Every rustc label has exactly one analogue, and its Python twin is where the analogue says."""
    used = []
    for rust in rust_labels:
        matches = [a for a in analogues if re.search(a.pattern, rust.text)]
        assert len(matches) == 1, f"{where}: rustc's label {rust.text!r} has {len(matches)} Python analogues"
        analogue = matches[0]
        used.append(analogue)
        assert rust.token.startswith(analogue.rust_token), (
            f"{where}: rustc underlines {rust.token!r} for {rust.text!r}, expected {analogue.rust_token!r}")
        if rust.primary is not None:
            assert rust.primary == analogue.primary, f"{where}: rustc's {rust.text!r} primary={rust.primary}"
        expected = pythonize(rust.text, closure, types)
        twins = [p for p in python_labels if p.text == expected]
        assert len(twins) == 1, (
            f"{where}: no Python label {expected!r} (rustc: {rust.text!r}); "
            f"Python has {[p.text for p in python_labels]}")
        twin = twins[0]
        line, col, end = python_span(python_file, analogue.python_code, analogue.python_token)
        assert (twin.line, twin.col, twin.end) == (line, col, end), (
            f"{where}: {expected!r} is under line {twin.line} columns {twin.col}..{twin.end} ({twin.token!r}); "
            f"expected line {line} columns {col}..{end} ({analogue.python_token!r})")
        drawn = "^" if analogue.primary else "-"
        if twin.primary is None:  # drawn over another label's underline, which rustc must do too
            assert rust.primary is None, f"{where}: {expected!r} must have an underline of its own"
        else:
            assert twin.primary == analogue.primary, f"{where}: {expected!r} must be drawn with {drawn}"
    assert sorted(map(id, used)) == sorted(map(id, analogues)), f"{where}: an analogue matched no rustc label"
    assert len(python_labels) == len(rust_labels), (
        f"{where}: Python prints labels rustc does not: {[p.text for p in python_labels]}")


def check_location(section, python_file, where):
    """The `-->` line names the student's file and the primary label's line and column."""
    primary = [lab for lab in section.labels if lab.primary] or [lab for lab in section.labels if lab.primary is None]
    assert len({(lab.line, lab.col) for lab in primary}) == 1, f"{where}: {len(primary)} primary labels"
    assert section.location == (python_file, primary[0].line, primary[0].col + 1), where


@pytest.fixture(scope="module")
def e0382(run_listing):
    result = run_listing("listing-16-13")
    assert result.returncode != 0
    return parse((ROOT / "listings" / "listing-16-13" / "rustc.txt").read_text()), parse(result.stderr)


@pytest.fixture(scope="module")
def e0277(run_listing):
    result = run_listing("listing-16-14")
    assert result.returncode != 0
    return parse((ROOT / "listings" / "listing-16-14" / "rustc.txt").read_text()), parse(result.stderr)


LISTING_13 = "listings/listing-16-13/main.py"
LISTING_14 = "listings/listing-16-14/main.py"


# --- Listing 16-13: E0382 ----------------------------------------------------------------------------


def test_listing_16_13_has_rustcs_code_headline_and_explanation(e0382):
    rust, python = e0382
    assert (rust.code, python.code) == ("E0382", "E0382")
    assert python.main.title == pythonize(rust.main.title, None) == "borrow of moved value: `counter`"
    assert python.explain == rust.explain == "For more information about this error, try `rustc --explain E0382`."


def test_listing_16_13_prints_each_rustc_label_under_the_matching_python_token(e0382):
    rust, python = e0382
    assert len(rust.main.labels) == len(E0382_ANALOGUES)
    check_labels(rust.main.labels, python.main.labels, E0382_ANALOGUES, ROOT / LISTING_13, None, "16-13")


def test_listing_16_13_types_are_written_the_python_way(e0382):
    _, python = e0382
    moved = next(lab for lab in python.main.labels if lab.text.startswith("move occurs"))
    assert "`counter` has type `Mutex<int>`" in moved.text


def test_listing_16_13_points_at_the_students_file_and_lines(e0382):
    rust, python = e0382
    assert rust.main.location == ("src/main.rs", 21, 29)
    check_location(rust.main, "src/main.rs", "rustc 16-13")
    check_location(python.main, LISTING_13, "16-13")
    source = (ROOT / LISTING_13).read_text().splitlines()
    for number, text in python.main.source.items():
        assert text == source[number - 1], f"gutter line {number} shows {text!r}, the file has {source[number - 1]!r}"


# What the course adds to rustc's E0382 for listing 16-13 (rustc itself gives no help and no note there).
E0382_OWN_HELPS = ["to share one value between threads, wrap it in an `Arc` and move an `Arc.clone(counter)` "
                   "into each closure instead of `counter` itself"]
E0382_OWN_NOTES = ["found when the loop spawned the closure a second time; no thread was started for that spawn"]


def test_listing_16_13_each_rustc_help_and_note_is_there(e0382):
    rust, python = e0382
    assert [pythonize(h, None) for h in rust.helps] + E0382_OWN_HELPS == python.helps
    assert [n.title for n in rust.notes] + E0382_OWN_NOTES == [n.title for n in python.notes]


# --- Listing 16-14: E0277 ----------------------------------------------------------------------------


def python_closure(path, code, token):
    line, col, _ = python_span(ROOT / path, code, token)
    return f"{path}:{line}:{col + 1}"


def test_listing_16_14_has_rustcs_code_headline_and_explanation(e0277):
    rust, python = e0277
    assert (rust.code, python.code) == ("E0277", "E0277")
    headline = "`Rc<Mutex<int>>` cannot be sent between threads safely"
    assert python.main.title == pythonize(rust.main.title, None) == headline
    assert python.explain == rust.explain == "For more information about this error, try `rustc --explain E0277`."


def test_listing_16_14_prints_each_rustc_label_under_the_matching_python_token(e0277):
    rust, python = e0277
    closure = python_closure(LISTING_14, "def work():", "work")
    assert len(rust.main.labels) == len(E0277_ANALOGUES)
    check_labels(rust.main.labels, python.main.labels, E0277_ANALOGUES, ROOT / LISTING_14, closure, "16-14")


def test_listing_16_14_the_closure_named_is_the_one_underlined(e0277):
    rust, python = e0277
    for parsed, where in [(rust, "rustc"), (python, "Python")]:
        within = next(lab for lab in parsed.main.labels if lab.text.startswith("within this"))
        assert closure_position(within.text) == (within.line, within.col + 1), where


def test_listing_16_14_the_help_says_send_is_not_implemented(e0277):
    rust, python = e0277
    closure = python_closure(LISTING_14, "def work():", "work")
    assert rust.helps, "rustc's file has a `= help:`"
    for help_text in rust.helps:
        assert pythonize(help_text, closure) in python.helps
    assert (f"within `{{closure@{closure}}}`, the trait `Send` is not implemented for `Rc<Mutex<int>>`"
            in python.helps)


def test_listing_16_14_each_rustc_note_has_its_analogue(e0277):
    rust, python = e0277
    python_notes = {note.title: note for note in python.notes}
    assert [n.title for n in rust.notes] == ["required because it's used within this closure",
                                              "required by a bound in `spawn`"]
    for note in rust.notes:
        assert note.title in python_notes, f"no Python note {note.title!r}"
        twin = python_notes[note.title]
        if note.title in E0277_NOTE_ANALOGUES:
            check_labels(note.labels, twin.labels, E0277_NOTE_ANALOGUES[note.title], ROOT / LISTING_14, None,
                         f"note {note.title!r}")
            check_location(twin, LISTING_14, f"note {note.title!r}")
        else:
            assert note.labels == twin.labels == []


def test_listing_16_14_the_bound_in_spawn_points_at_rustsyncs_spawn(e0277):
    rust, python = e0277
    rust_note = next(n for n in rust.notes if n.title == "required by a bound in `spawn`")
    assert rust_note.location[0].endswith("library/std/src/thread/functions.rs")
    note = next(n for n in python.notes if n.title == "required by a bound in `spawn`")
    path, line, _ = note.location
    assert (ROOT / path).resolve() == (ROOT / "rustsync" / "thread.py").resolve()
    assert (ROOT / path).read_text().splitlines()[line - 1].startswith("def spawn(")


def test_listing_16_14_points_at_the_students_file_and_lines(e0277):
    rust, python = e0277
    assert rust.main.location == ("src/main.rs", 11, 36)
    check_location(rust.main, "src/main.rs", "rustc 16-14")
    check_location(python.main, LISTING_14, "16-14")
    source = (ROOT / LISTING_14).read_text().splitlines()
    for number, text in python.main.source.items():
        assert text == source[number - 1]


# --- the student's own file ----------------------------------------------------------------------------


def test_the_diagnostic_names_the_students_own_file_and_line_numbers(tmp_path):
    student = tmp_path / "my_counter.py"
    lines = (ROOT / LISTING_13).read_text().splitlines()
    student.write_text("\n".join(["# my notes", "", *lines]) + "\n")  # two lines more than the listing
    result = subprocess.run([sys.executable, student.name], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    parsed = parse(result.stderr)
    assert parsed.main.location == ("my_counter.py", 24, 18)
    assert sorted(lab.line for lab in parsed.main.labels) == [10, 13, 18, 24]
    assert "listing-16-13" not in result.stderr.split("error[E0382]")[1]


def test_overlapping_labels_hang_from_connectors_as_rustc_draws_them():
    shared = Rc("hi")
    with pytest.raises(NotSend) as err:
        spawn(lambda: shared.upper())  # lambda-spawn
    parsed = parse(str(err.value))
    code = "spawn(lambda: shared.upper())  # lambda-spawn"
    line = next(n for n, text in parsed.main.source.items() if text.strip() == code)
    source = parsed.main.source[line]
    by_text = {lab.text.split(" `{")[0]: lab for lab in parsed.main.labels}
    assert by_text["required by a bound introduced by this call"].col == source.index("spawn")
    assert by_text["`Rc<str>` cannot be sent between threads safely"].col == source.index("lambda")
    assert by_text["within this"].col == source.index("lambda")
    rendered = str(err.value).splitlines()
    underline = rendered[rendered.index(next(r for r in rendered if r.endswith(code))) + 1]
    assert underline.rstrip().endswith("^"), f"no label text may sit on the underline row: {underline!r}"


# --- optional: the real compiler on our own programs --------------------------------------------------------

RUST_E0382 = """\
use std::sync::Mutex;
use std::thread;

fn bump(total: &Mutex<i32>) {
    *total.lock().unwrap() += 1;
}

fn main() {
    let total = Mutex::new(0);
    let mut workers = Vec::new();
    let mut left = 3;
    while left > 0 {
        workers.push(thread::spawn(move || bump(&total)));
        left -= 1;
    }
    for worker in workers {
        worker.join().unwrap();
    }
    println!("{}", total.lock().unwrap());
}
"""

PYTHON_E0382 = """\
from rustsync import Mutex, spawn


def bump(total):
    with total.lock() as guard: guard.value += 1


# the same lines as the Rust program
total = Mutex(0)
workers = []
left = 3
while left > 0:
    workers.append(spawn(lambda: bump(total)))
    left -= 1

for worker in workers:
    worker.join()

print(total.lock().value)
"""

RUST_E0277 = """\
use std::rc::Rc;
use std::thread;

fn main() {
    let shared = Rc::new(String::from("hi"));
    let reader = thread::spawn(move || shared.to_uppercase());
    println!("{}", reader.join().unwrap());
}
"""

PYTHON_E0277 = """\
from rustsync import Rc, spawn


def main():
    shared = Rc("hi")
    reader = spawn(lambda: shared.upper())
    print(reader.join())
main()
"""

# what rustc underlines -> what the Python twin on the same line underlines
SAME_TOKENS = {"total": "total", "while left > 0": "while left > 0", "move ||": "lambda", "thread::spawn": "spawn"}


@pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc is not installed")
@pytest.mark.parametrize(("rust_source", "python_source"), [(RUST_E0382, PYTHON_E0382), (RUST_E0277, PYTHON_E0277)],
                         ids=["E0382", "E0277"])
def test_real_rustc_and_rustsync_agree_on_a_program_of_our_own(tmp_path, rust_source, python_source):
    (tmp_path / "main.rs").write_text(rust_source)
    (tmp_path / "main.py").write_text(python_source)
    compiled = subprocess.run(["rustc", "--edition", "2021", "--color", "never", "-o", "main", "main.rs"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
    ran = subprocess.run([sys.executable, "main.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert compiled.returncode != 0 and ran.returncode != 0
    rust, python = parse(compiled.stderr), parse(ran.stderr)
    assert python.code == rust.code
    assert python.main.title == pythonize(rust.main.title, None)
    rust_closure = closure_position(" ".join(lab.text for lab in rust.main.labels))
    python_closure = closure_position(" ".join(lab.text for lab in python.main.labels))
    assert (rust_closure is None) == (python_closure is None)
    closure = f"main.py:{python_closure[0]}:{python_closure[1]}" if python_closure else None
    rust_labels = sorted((lab.line, pythonize(lab.text, closure)) for lab in rust.main.labels)
    python_labels = sorted((lab.line, lab.text) for lab in python.main.labels)
    assert python_labels == rust_labels, "the programs are written line for line: same labels on the same lines"
    for lab in rust.main.labels:
        twin = next(p for p in python.main.labels if (p.line, p.text) == (lab.line, pythonize(lab.text, closure)))
        rust_token = next(t for t in SAME_TOKENS if lab.token.startswith(t))
        assert python.main.source[twin.line][twin.col:].startswith(SAME_TOKENS[rust_token]), (
            f"{twin.text!r} starts under {python.main.source[twin.line][twin.col:]!r}")
    for help_text in rust.helps:
        assert pythonize(help_text, closure) in python.helps


# --- tests/rustc/programs: small programs of our own, each a rule, held against rustc's real output ----------
#
# Each NAME.rs is a Rust program; NAME.txt is what rustc 1.95 said about it (its diagnostics, or the
# program's output when it compiled), written by tests/rustc/regenerate.sh; NAME.py is the Python twin.

PROGRAMS = REFERENCE / "programs"


@dataclass
class Program:
    """A program that rustc refuses: the analogue of each of its labels, and how its Rust names read in Python."""

    name: str
    analogues: list
    types: dict = field(default_factory=dict)  # whole Rust types -> Python's
    notes: dict = field(default_factory=dict)  # pythonized rustc note titles -> the Python note's title
    clone: str | None = None  # the `value = ...` of rustc's "consider cloning" suggestion, in Python
    footnotes: dict = field(default_factory=dict)  # rustc's `= note:` -> the Python one, where they differ
    fixed: str | None = None  # the Python line of rustc's suggestion when it is not a clone (`move`)


def A(pattern, rust_token, python_code, python_token, primary=False):  # noqa: N802 - reads as a table row
    return Analogue(pattern, rust_token, python_code, python_token, primary)


MOVE_OCCURS = r"^move occurs because `{}` has type `.*`, which does not implement the `Copy` trait$"
REFUSED = [
    Program("e0382_vec_in_a_loop", [
        A(MOVE_OCCURS.format("log"), "log", "log = [1, 2, 3]", "log"),
        A(r"^inside of this loop$", "for i in 0..2", "for i in range(2):", "for i in range(2)"),
        A(r"^value moved into closure here, in previous iteration of loop$", "move ||", "handle = spawn(work)",
          "work", primary=True),
        A(r"^use occurs due to use in closure$", "log", 'print(f"thread {i} sees {log}")', "log"),
    ], types={"Vec<i32>": "list[int]"}, clone="log.copy()"),
    Program("e0382_vec_after_move", [
        A(MOVE_OCCURS.format("log"), "mut log", "log = [1, 2, 3]", "log"),
        A(r"^value moved into closure here$", "move ||", "handle = spawn(work)", "work"),
        A(r"^variable moved due to use in closure$", "log", "print(log)", "log"),
        A(r"^value borrowed here after move$", "log", "log.append(4)", "log", primary=True),
    ], types={"Vec<i32>": "list[int]"}, clone="log.copy()"),
    Program("e0382_map_two_closures", [
        A(MOVE_OCCURS.format("scores"), "mut scores", "scores = {}", "scores"),
        A(r"^value moved into closure here$", "move ||", "first = spawn(", "lambda:"),
        A(r"^variable moved due to use in closure$", "scores", "first = spawn(", "scores"),
        A(r"^value used here after move$", "move ||", "second = spawn(", "lambda:", primary=True),
        A(r"^use occurs due to use in closure$", "scores", "second = spawn(", "scores"),
    ], types={"HashMap<&str, i32>": "dict[str, int]"}, clone="scores.copy()"),
    Program("e0382_struct_two_threads", [
        A(MOVE_OCCURS.format("config"), "config", "config = Config(", "config"),
        A(r"^value moved into closure here$", "move ||", "first = spawn(", "lambda:"),
        A(r"^variable moved due to use in closure$", "config", "first = spawn(", "config"),
        A(r"^value used here after move$", "move ||", "second = spawn(", "lambda:", primary=True),
        A(r"^use occurs due to use in closure$", "config", "second = spawn(", "config"),
    ], clone="copy.deepcopy(config)"),
    Program("e0382_mutex_after_move", [
        A(MOVE_OCCURS.format("counter"), "counter", "counter = Mutex(0)", "counter"),
        A(r"^value moved into closure here$", "move ||", "handle = spawn(work)", "work"),
        A(r"^variable moved due to use in closure$", "counter", "with counter.lock() as num:", "counter"),
        A(r"^value borrowed here after move$", "counter", "print(counter.lock().value)", "counter", primary=True),
    ]),
    Program("e0382_refcell_consumed_in_thread", [
        A(MOVE_OCCURS.format("log"), "log", "log = RefCell([1])", "log"),
        A(r"^value moved into closure here$", "move ||", "handle = spawn(work)", "work"),
        A(r"^variable moved due to use in closure$", "log", "log.borrow_mut().value.append(2)", "log"),
        A(r"^value borrowed here after move$", "log", "print(log.borrow().value)", "log", primary=True),
    ], types={"Vec<i32>": "list[int]"}, clone="log.clone()"),
    Program("e0382_print_after_move", [
        A(MOVE_OCCURS.format("log"), "log", "log = RefCell([1])", "log"),
        A(r"^value moved into closure here$", "move ||", "handle = spawn(work)", "work"),
        A(r"^variable moved due to use in closure$", "log", "log.borrow_mut().value.append(2)", "log"),
        A(r"^value borrowed here after move$", "log", "print(log)", "log", primary=True),
    ], types={"Vec<i32>": "list[int]"}, clone="log.clone()"),
    Program("e0382_old_name_after_join", [
        A(MOVE_OCCURS.format("log"), "log", "log = RefCell([1])", "log"),
        A(r"^value moved into closure here$", "move ||", "handle = spawn(work)", "work"),
        A(r"^variable moved due to use in closure$", "log", "log.borrow_mut().value.append(2)", "log"),
        A(r"^value borrowed here after move$", "log", "print(log.borrow().value)", "log", primary=True),
    ], types={"Vec<i32>": "list[int]"}, clone="log.clone()"),
    Program("e0382_vec_old_name_after_join", [
        A(MOVE_OCCURS.format("log"), "log", "log = [1]", "log"),
        A(r"^value moved into closure here$", "move ||", "handle = spawn(work)", "work"),
        A(r"^variable moved due to use in closure$", "log", "log.append(2)", "log"),
        A(r"^value borrowed here after move$", "log", "print(len(log))", "log", primary=True),
    ], types={"Vec<i32>": "list[int]"}, clone="log.copy()"),
    Program("e0382_mutex_in_a_loop", [
        A(MOVE_OCCURS.format("counter"), "counter", "counter = Mutex(0)", "counter"),
        A(r"^inside of this loop$", "for _ in 0..10", "for _ in range(10):", "for _ in range(10)"),
        A(r"^value moved into closure here, in previous iteration of loop$", "move ||", "handle = spawn(work)",
          "work", primary=True),
        A(r"^use occurs due to use in closure$", "counter", "with counter.lock() as num:", "counter"),
    ]),
    Program("e0382_arc_in_a_loop", [
        A(MOVE_OCCURS.format("counter"), "counter", "counter = Arc(Mutex(0))", "counter"),
        A(r"^inside of this loop$", "for _ in 0..10", "for _ in range(10):", "for _ in range(10)"),
        A(r"^value moved into closure here, in previous iteration of loop$", "move ||", "handle = spawn(work)",
          "work", primary=True),
        A(r"^use occurs due to use in closure$", "counter", "with counter.lock() as num:", "counter"),
    ], clone="Arc.clone(counter)"),
    Program("e0277_guard_to_thread", [
        A(r"^required by a bound introduced by this call$", "thread::spawn", "handle = spawn(work)", "spawn"),
        A(r"^within this `\{closure@", "move ||", "def work():", "work"),
        A(r"^`(std::sync::)?MutexGuard<.*>` cannot be sent between threads safely$", "move ||",
          "handle = spawn(work)", "work", primary=True),
    ], notes={"required by a bound in `spawn`": "required by a bound in `spawn`"}),
    Program("e0277_rc_refcell", [
        A(r"^required by a bound introduced by this call$", "thread::spawn", "handle = spawn(", "spawn"),
        A(r"^within this `\{closure@", "move ||", "handle = spawn(", "lambda: writer.borrow_mut().value.append(1)"),
        A(r"^`Rc<.*>` cannot be sent between threads safely$", "move ||", "handle = spawn(",
          "lambda: writer.borrow_mut().value.append(1)", primary=True),
    ], types={"Rc<RefCell<Vec<i32>>>": "Rc<RefCell<list>>"}),
    Program("e0277_arc_refcell_shared", [
        A(r"^required by a bound introduced by this call$", "thread::spawn", "handle = spawn(", "spawn"),
        A(r"^`RefCell<.*>` cannot be shared between threads safely$", "move ||", "handle = spawn(",
          "lambda: writer.borrow_mut().value", primary=True),
    ], footnotes={"if you want to do aliasing and mutation between multiple threads, use `RwLock` instead":
                  "if you want to do aliasing and mutation between multiple threads, use `Mutex` instead "
                  "(Rust's `std::sync::RwLock` is not in this course)"}),
    Program("e0277_scope_borrows_refcell", [
        A(r"^required by a bound introduced by this call$", "spawn", "s.spawn(", "spawn"),
        A(r"^`RefCell<.*>` cannot be shared between threads safely$", "||", "s.spawn(",
          "lambda: cell.borrow_mut().value", primary=True),
    ], footnotes={"if you want to do aliasing and mutation between multiple threads, use `RwLock` instead":
                  "if you want to do aliasing and mutation between multiple threads, use `Mutex` instead "
                  "(Rust's `std::sync::RwLock` is not in this course)"}),
    Program("e0505_drop_mutex_while_locked", [
        A(r"^binding `jar` declared here$", "jar", "jar = Mutex(5)", "jar"),
        A(r"^borrow of `jar` occurs here$", "jar", "guard = jar.lock()", "jar"),
        A(r"^move out of `jar` occurs here$", "jar", "drop(jar)", "jar", primary=True),
        A(r"^borrow later used here$", "guard", "print(guard.value)", "guard"),
    ]),
    Program("e0373_spawn_without_move", [
        A(r"^may outlive borrowed value `v`$", "||", "handle = spawn(", "lambda:", primary=True),
        A(r"^`v` is borrowed here$", "v", "handle = spawn(", "v"),
    ], fixed="handle = spawn(lambda: print(v))"),
    Program("e0596_get_mut_through_arc", [
        A(r"^cannot borrow as mutable$", "counter", "counter.get_mut()", "counter", primary=True),
    ]),
    Program("e0382_mutex_after_into_inner", [
        A(MOVE_OCCURS.format("jar"), "jar", "jar = Mutex(5)", "jar"),
        A(r"^`jar` moved due to this method call$", "into_inner()", "inside = jar.into_inner()", "into_inner()"),
        A(r"^value borrowed here after move$", "jar", "again = jar.lock()", "jar", primary=True),
    ], notes={"`<T>::into_inner` takes ownership of the receiver `self`, which moves `jar`":
              "`Mutex.into_inner` takes ownership of the receiver `self`, which moves `jar`"}),
    Program("e0382_guard_after_drop", [
        A(MOVE_OCCURS.format("guard"), "guard", "guard = jar.lock()", "guard"),
        A(r"^value moved here$", "guard", "drop(guard)", "guard"),
        A(r"^value borrowed here after move$", "guard", "print(guard.value)", "guard", primary=True),
    ]),
    Program("e0507_into_inner_through_arc", [
        A(r"^move occurs because value has type `.*`, which does not implement the `Copy` trait$", "jar",
          "inside = jar.into_inner()", "jar", primary=True),
        A(r"^value moved due to this method call$", "into_inner()", "inside = jar.into_inner()", "into_inner()"),
    ], types={"Vec<i32>": "list[int]"},
        notes={"`<T>::into_inner` takes ownership of the receiver `self`, which moves value":
               "`Mutex.into_inner` takes ownership of the receiver `self`, which moves value"}),
    Program("invalid_ordering_load", [
        A(r"^$", "Ordering::Release", "print(hits.load(", "Ordering.Release", primary=True),
    ]),
]
RUNS = ["copy_values_in_a_loop", "value_back_through_join", "get_mut_sole_owner", "debug_output",
        "poisoned_lock_keeps_its_guard", "poisoned_get_mut_and_into_inner", "atomics", "strong_count",
        "try_lock_would_block", "refcell_moved_into_one_thread", "scoped_threads", "arc_exclusive_access",
        "compare_exchange", "value_back_under_its_old_name"]
QUIZ = "quiz_"  # the lessons' quiz programs: held against rustc by the quiz's own tests


@pytest.fixture(scope="module")
def twin():
    """Run `tests/rustc/programs/<name>.py` from that folder, as `python <name>.py`, once each."""
    done = {}

    def run(name):
        if name not in done:
            done[name] = subprocess.run([sys.executable, f"{name}.py"], cwd=PROGRAMS, capture_output=True,
                                        text=True, timeout=60)
        return done[name]

    return run


def test_every_program_has_its_rust_source_rustcs_output_and_a_python_twin_with_a_test():
    names = {p.stem for p in PROGRAMS.glob("*.rs") if not p.stem.startswith(QUIZ)}
    assert names == {p.stem for p in PROGRAMS.glob("*.py") if not p.stem.startswith(QUIZ)}
    assert names <= {p.stem for p in PROGRAMS.glob("*.txt")}
    assert names == {p.name for p in REFUSED} | set(RUNS), "each program is checked below"
    assert (PROGRAMS / "rustc-version.txt").read_text().startswith("rustc 1.95")


@pytest.mark.parametrize("name", RUNS)
def test_a_program_rustc_compiles_prints_what_its_python_twin_prints(twin, name):
    result = twin(name)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (PROGRAMS / f"{name}.txt").read_text()


@pytest.mark.parametrize("program", REFUSED, ids=lambda p: p.name)
def test_a_program_rustc_refuses_fails_in_python_with_the_same_error_label_for_label(twin, program):
    result = twin(program.name)
    assert result.returncode != 0
    check_refused(program, result.stderr, f"{program.name}.py")


def check_refused(program, python_output, shown_as):
    """rustc's diagnostic for `program` and ours (`python_output`, the student's file shown as `shown_as`) agree."""
    rust_text = (PROGRAMS / f"{program.name}.txt").read_text()
    rust, python = parse(rust_text), parse(python_output)
    python_file = PROGRAMS / f"{program.name}.py"
    closure = closure_position(" ".join(lab.text for lab in python.main.labels))
    closure = f"{shown_as}:{closure[0]}:{closure[1]}" if closure else None
    where = f"{program.name} ({shown_as})"
    assert python.code == rust.code, where
    assert python.main.title == pythonize(rust.main.title, closure, program.types), where
    assert python.explain == rust.explain, where
    assert len(rust.main.labels) == len(program.analogues), f"{where}: rustc has {len(rust.main.labels)} labels"
    check_labels(rust.main.labels, python.main.labels, program.analogues, python_file, closure, where,
                 program.types)
    check_location(python.main, shown_as, where)
    for help_text in rust.helps:
        assert pythonize(help_text, closure, program.types) in python.helps, f"{where}: no help {help_text!r}"
    rust_footnotes = [pythonize(f, closure, program.types) for f in rust.footnotes]
    assert python.footnotes == [program.footnotes.get(f, f) for f in rust_footnotes], where
    python_notes = {note.title: note for note in python.notes}
    for note in rust.notes:
        title = pythonize(note.title, closure, program.types)
        title = program.notes.get(title, title)
        assert title in python_notes, f"{where}: no note {title!r}; Python has {list(python_notes)}"
        assert len(note.labels) == len(python_notes[title].labels), f"{where}: the labels of note {title!r}"
        if note.location and note.location[0].startswith("/rustc/"):  # inside std: ours is inside rustsync
            path, line, _ = python_notes[title].location
            assert path.startswith("rustsync/") and (ROOT / path).exists(), f"{where}: note {title!r} at {path}"
            assert (ROOT / path).read_text().splitlines()[line - 1].lstrip().startswith("def "), where
    check_suggestions(rust, python, program, python_file)


def check_suggestions(rust, python, program, python_file):
    """rustc's "consider cloning" fix has a Python twin: a new line with the clone, then the closure using it."""
    where = program.name
    assert [title for title, _ in python.suggestions] == [title for title, _ in rust.suggestions], where
    if not rust.suggestions:
        assert program.clone is None and program.fixed is None, f"{where}: rustc suggests nothing here"
        return
    if program.fixed is not None:  # rustc's fix is a change to one line (`move`): the Python line, fixed
        (_, rust_rows), (_, rows) = rust.suggestions[0], python.suggestions[0]
        assert len(rows) == len(rust_rows) == 1, where
        line, col, _ = python_span(python_file, program.fixed.split("(")[0], program.fixed.split("(")[0])
        assert rows[0] == (line, program.fixed), f"{where}: {rows}"
        assert rust_rows[0][0] == rust.main.location[1], f"{where}: rustc's fix is on the line of its error"
        return
    (_, rust_rows), (_, rows) = rust.suggestions[0], python.suggestions[0]
    assert re.fullmatch(r"\s*let value = \w+\.clone\(\);", rust_rows[0][1]), rust_rows
    assert rows[0][1].strip() == f"value = {program.clone}", f"{where}: {rows[0]}"
    numbers = [n for n, _ in rows]
    assert numbers == list(range(numbers[0], numbers[0] + len(rows))), f"{where}: rows follow each other"
    source = python_file.read_text().splitlines()
    assert source[numbers[0] - 1].strip().startswith(("def ", rows[1][1].strip()[:8])), (
        f"{where}: the clone goes just before the statement that makes the closure")
    name = re.search(r"let value = (\w+)\.clone", rust_rows[0][1])[1]
    last, text = rows[-1]
    assert "value" in text and "value" in rust_rows[-1][1], f"{where}: the closure uses the clone"
    unchanged = re.sub(r"(?<![\w.])value(?!\w)", name, text)  # the clone's name, not an attribute `.value`
    assert unchanged == source[last - 2], f"{where}: only the use changes: {text!r}"


# --- the same programs as notebook cells: a student runs them in JupyterLab -----------------------------

CELL_RUNNER = """
import json, sys
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

shell = InteractiveShell.instance()
out = {}
for name in sys.argv[1:]:
    with open(name + ".py") as source, capture_output() as shown:
        result = shell.run_cell(source.read(), store_history=True)
    error = result.error_in_exec
    out[name] = {"stdout": shown.stdout, "error": str(error) if error is not None else None,
                 "cell": f"Cell In[{shell.execution_count - 1}]"}
print(json.dumps(out))
"""
NEW_IN_CELLS = ["e0277_arc_refcell_shared", "e0277_scope_borrows_refcell", "e0505_drop_mutex_while_locked",
                "e0373_spawn_without_move", "e0382_refcell_consumed_in_thread", "e0382_print_after_move",
                "e0382_old_name_after_join", "e0382_vec_old_name_after_join",
                "refcell_moved_into_one_thread", "scoped_threads", "arc_exclusive_access", "compare_exchange",
                "value_back_under_its_old_name"]


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    """Run each program as a cell of one IPython shell, in order, as a notebook runs them (one process in all)."""
    home = tmp_path_factory.mktemp("ipython")
    done = subprocess.run([sys.executable, "-c", CELL_RUNNER, *NEW_IN_CELLS], cwd=PROGRAMS, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "IPYTHONDIR": str(home), "HOME": str(home)})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("name", [n for n in NEW_IN_CELLS if n in RUNS])
def test_as_a_notebook_cell_a_program_rustc_compiles_prints_what_rust_prints(cells, name):
    assert cells[name]["error"] is None, cells[name]["error"]
    assert cells[name]["stdout"] == (PROGRAMS / f"{name}.txt").read_text()


@pytest.mark.parametrize("program", [p for p in REFUSED if p.name in NEW_IN_CELLS], ids=lambda p: p.name)
def test_as_a_notebook_cell_a_program_rustc_refuses_fails_label_for_label(cells, program):
    shown = cells[program.name]
    assert shown["error"] is not None, f"{program.name} ran in a cell"
    check_refused(program, shown["error"], shown["cell"])


@pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc is not installed")
@pytest.mark.timeout(300)
def test_the_stored_rustc_outputs_are_what_this_rustc_prints(tmp_path):
    """tests/rustc/regenerate.sh was run after the last change to a program (compiled again here)."""
    version = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout
    if version != (PROGRAMS / "rustc-version.txt").read_text():
        pytest.skip(f"another rustc ({version.strip()}): its messages may differ")
    shutil.copytree(PROGRAMS, tmp_path / "programs")
    shutil.copy(REFERENCE / "regenerate.sh", tmp_path / "regenerate.sh")
    subprocess.run(["bash", str(tmp_path / "regenerate.sh")], check=True, capture_output=True, timeout=280)
    for stored in sorted(PROGRAMS.glob("*.txt")):
        assert (tmp_path / "programs" / stored.name).read_text() == stored.read_text(), (
            f"{stored.name} is stale: run tests/rustc/regenerate.sh")
