"""The corpus of submissions in tests/corpus/, checked as data: nothing here runs a submission.

Every submission builds from the current release; its `expect` names exactly the
autograded test cells of its assignment; the correct ones cover every assignment and
keep to the Python this course teaches (checked on their text); the hostile ones cover
every attack class, and reach outside their folder only where the corpus says they may.
"""

from __future__ import annotations

import ast
import functools
import os
import re
import sys
from collections import Counter
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `pytest` run from elsewhere: tests.corpus lives in this repository
    sys.path.insert(0, str(ROOT))

from tests.corpus.build import (  # noqa: E402
    ASSIGNMENTS,
    FULL,
    KLASSES,
    Submission,
    build,
    grade_id,
    release_notebook,
    source_notebook,
    write,
)
from tests.corpus.correct import CORRECT  # noqa: E402
from tests.corpus.hostile import HOSTILE  # noqa: E402

EVERYONE = CORRECT + HOSTILE
SCORING_ATTACKS = {"patch-grading", "ipython-hooks", "rebind", "odd-eq", "shadow-package"}
# The only absolute paths a hostile submission may name: files it reads, sockets it knocks on.
ALLOWED_ABSOLUTE = {"/etc/passwd", "/var/run/docker.sock", "/run/dbus/system_bus_socket"}


@functools.cache
def release(assignment):
    return release_notebook(assignment)


@functools.cache
def source(assignment):
    return source_notebook(assignment)


def autograded_parts(assignment):
    """The grade_ids of the cells nbgrader scores automatically: grade=True and solution=False."""
    return {grade_id(c) for c in source(assignment).cells
            if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata.nbgrader.get("solution")}


def solution_cells_of(assignment):
    """{test grade_id: the solution code cells between the previous test cell and it}."""
    out, pending = {}, []
    for cell in source(assignment).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            pending.append(grade_id(cell))
        elif meta.get("grade") and not meta.get("solution"):
            out[grade_id(cell)], pending = pending, []
    return out


@functools.cache
def built(name):
    sub = next(s for s in EVERYONE if s.name == name)
    return build(sub, release(sub.assignment))


def ids(subs):
    return [s.name for s in subs]


# --- the corpus as a whole -----------------------------------------------------------------------------


def test_names_are_unique_and_every_entry_is_a_submission():
    counts = Counter(s.name for s in EVERYONE)
    assert [name for name, n in counts.items() if n > 1] == []
    assert all(isinstance(s, Submission) for s in EVERYONE)
    assert all(s.assignment in ASSIGNMENTS for s in EVERYONE)


def test_every_assignment_has_at_least_two_correct_variants():
    per = Counter(s.assignment for s in CORRECT)
    assert {a: per[a] for a in ASSIGNMENTS if per[a] < 2} == {}


def test_correct_submissions_have_no_class_and_deserve_everything():
    assert [s.name for s in CORRECT if s.klass is not None or set(s.expect.values()) != {FULL}] == []


def test_hostile_submissions_cover_every_class_on_several_assignments():
    assert {s.klass for s in HOSTILE} == set(KLASSES)
    per_class = Counter(s.klass for s in HOSTILE)
    assert {k: n for k, n in per_class.items() if n < 5} == {}
    assignments = {k: {s.assignment for s in HOSTILE if s.klass == k} for k in KLASSES}
    assert {k: a for k, a in assignments.items() if len(a) < 3} == {}
    # the three assignments the grader's tests use most face every class
    for assignment in ("a02_mutex_api", "a03_sharing_a_mutex", "a06_refcell_vs_mutex"):
        assert {s.klass for s in HOSTILE if s.assignment == assignment} == set(KLASSES), assignment


# --- each submission ------------------------------------------------------------------------------------


@pytest.mark.parametrize("sub", EVERYONE, ids=ids(EVERYONE))
def test_submission_builds_from_the_current_release_and_expects_every_autograded_part(sub):
    # `expect` names exactly the autograded test cells, each "full" or 0
    assert set(sub.expect) == autograded_parts(sub.assignment)
    assert set(sub.expect.values()) <= {FULL, 0}
    # the notebook builds from the current release, with valid and unique cell ids
    nb = built(sub.name)  # build() validates it against nbformat's schema
    cell_ids = [c.id for c in nb.cells]
    assert len(cell_ids) == len(set(cell_ids))
    assert all(re.fullmatch(r"[a-zA-Z0-9-_]{1,64}", i) for i in cell_ids)
    by_id = {grade_id(c): c for c in nb.cells if grade_id(c)}
    for gid, text in {**sub.answers, **sub.edit_cells}.items():
        if gid not in sub.delete_cells | sub.strip_metadata:
            assert by_id[gid].source == text, gid
    for gid in sub.strip_metadata | sub.delete_cells:
        assert gid not in by_id
    plain = [c.source for c in nb.cells if "nbgrader" not in c.metadata]
    assert all(text in plain for _, text in sub.extra_cells)
    original = release(sub.assignment)
    assert len(nb.cells) == (len(original.cells) + len(sub.extra_cells) - len(sub.delete_cells))
    # a part expected "full" has its solution cells answered, not left as released
    released = {grade_id(c): c.source for c in release(sub.assignment).cells if grade_id(c)}
    for test, cells in solution_cells_of(sub.assignment).items():
        if sub.expect[test] != FULL:
            continue
        for cell in cells:
            assert cell in sub.answers, (test, cell)
            assert sub.answers[cell] != released[cell]


def test_write_makes_the_folder_a_student_submits(tmp_path):
    sub = next(s for s in HOSTILE if s.symlinks and s.files)
    notebook = write(sub, tmp_path / "work")
    assert notebook == tmp_path / "work" / f"{sub.assignment}.ipynb"
    assert nbformat.read(notebook, as_version=4).cells
    for relative in sub.files:
        assert (tmp_path / "work" / relative).is_file()
    for relative, target in sub.symlinks.items():
        link = tmp_path / "work" / relative
        assert link.is_symlink() and os.readlink(link) == target
    escaping = Submission(assignment=sub.assignment, name="escape", expect={}, files={"../outside.txt": "x"})
    with pytest.raises(ValueError, match="inside the submission folder"):
        write(escaping, tmp_path / "other")
    assert not (tmp_path / "outside.txt").exists()


# --- the correct submissions keep to the course's Python ----------------------------------------------


def code_cells(sub):
    kinds = {grade_id(c): c.cell_type for c in release(sub.assignment).cells if grade_id(c)}
    cells = [(gid, text) for gid, text in sub.answers.items() if kinds[gid] == "code"]
    return cells + [(f"extra after {anchor}", text) for anchor, text in sub.extra_cells]


@pytest.mark.parametrize("sub", CORRECT, ids=ids(CORRECT))
def test_correct_variants_are_submissions_a_student_writes(sub):
    assert not (sub.files or sub.symlinks or sub.edit_cells or sub.strip_metadata or sub.delete_cells)
    for _, text in code_cells(sub):  # any Python IPython runs, magics included
        from IPython.core.inputtransformer2 import TransformerManager

        compile(TransformerManager().transform_cell(text), "<cell>", "exec")


@pytest.mark.parametrize("sub", CORRECT, ids=ids(CORRECT))
def test_correct_variants_import_only_what_the_package_exports(sub):
    """Names taken `from rustsync...` are in that module's `__all__`, read from the package itself."""
    import importlib

    from IPython.core.inputtransformer2 import TransformerManager

    for _, text in code_cells(sub):
        for node in ast.walk(ast.parse(TransformerManager().transform_cell(text))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "rustsync":
                exported = set(importlib.import_module(node.module).__all__)
                names = {alias.name for alias in node.names} - {"*"}
                assert names <= exported, f"{sub.name}: {sorted(names - exported)} not in {node.module}.__all__"


def test_ordinary_python_is_in_the_correct_corpus_on_three_assignments():
    ordinary = [s for s in CORRECT if s.name.endswith("ordinary-python")]
    text = "\n".join(t for s in ordinary for _, t in code_cells(s))
    assert len({s.assignment for s in ordinary}) >= 3
    for habit in ("class ", ".format(", "type(", "__class__.__name__", "getattr(err", "nonlocal", "%%time",
                  "import random", "threading", "from rustsync import *", "from typing import Any",
                  "from dataclasses import dataclass", "from operator import add", "spawn_unchecked, StepLimit"):
        assert habit in text, habit


def reference_solution(cell):
    lines = [line for line in cell.source.splitlines() if "### BEGIN SOLUTION" not in line
             and "### END SOLUTION" not in line]
    return " ".join(" ".join(lines).split())


@pytest.mark.parametrize("sub", CORRECT, ids=ids(CORRECT))
def test_correct_variants_differ_from_the_reference_solutions(sub):
    reference = {grade_id(c): reference_solution(c) for c in source(sub.assignment).cells
                 if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}
    same = [gid for gid, text in sub.answers.items() if gid in reference and " ".join(text.split()) == reference[gid]]
    assert same == []
    assert set(reference) <= set(sub.answers)  # every code part answered


# --- the hostile submissions stay within bounds -------------------------------------------------------


def hostile_texts(sub):
    texts = [text for _, text in code_cells(sub)] + list(sub.edit_cells.values())
    texts += [c if isinstance(c, str) else c.decode() for p, c in sub.files.items() if p.endswith(".py")]
    return texts


def string_constants(text):
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


@pytest.mark.parametrize("sub", HOSTILE, ids=ids(HOSTILE))
def test_hostile_submission_is_described_and_bounded(sub):
    assert sub.klass in KLASSES
    assert len(sub.notes) > 20
    if sub.klass in SCORING_ATTACKS:  # an attack on the scores attacks at least one part
        assert 0 in sub.expect.values()
    # its code parses, and names no absolute path but the allowed ones
    for text in hostile_texts(sub):
        ast.parse(text)
    absolute = {s for text in hostile_texts(sub) for s in string_constants(text) if s.startswith("/")}
    absolute |= {t for t in sub.symlinks.values() if t.startswith("/")}
    assert absolute <= ALLOWED_ABSOLUTE
    # what could run away is bounded
    text = "\n".join(hostile_texts(sub))
    if "os.fork" in text:  # a bounded fork bomb: every loop around it has at most 200 turns
        turns = [int(n) for n in re.findall(r"range\(([\d_]+)\)", text)]
        assert turns and max(turns) <= 200
    if "truncate" in text:
        assert "500 * 2**20" in text
    for loop in re.findall(r"for \w+ in range\(([\d_]+)\):", text):
        assert int(loop) <= 600_000


def test_leaks_mark_what_they_print():
    leaks = [sub for sub in HOSTILE if sub.klass == "leak"]
    assert leaks, "the hostile corpus has no submission of the class `leak`"
    for sub in leaks:
        assert "LEAK:" in "\n".join(hostile_texts(sub)), sub.name


def test_lose_grading_submissions_solve_parts_before_and_after_the_hostile_cell():
    for sub in (s for s in HOSTILE if s.klass == "lose-grading"):
        if not sub.extra_cells:  # the attack is an answer of its own: the other parts are solved
            assert FULL in sub.expect.values() and 0 in sub.expect.values(), sub.name
            continue
        nb = built(sub.name)
        extra = [i for i, c in enumerate(nb.cells) if "nbgrader" not in c.metadata and c.cell_type == "code"
                 and c.source in [t for _, t in sub.extra_cells]]
        tests = {grade_id(c): i for i, c in enumerate(nb.cells) if grade_id(c) in sub.expect}
        before = [t for t, i in tests.items() if i < min(extra) and sub.expect[t] == FULL]
        after = [t for t, i in tests.items() if i > max(extra) and sub.expect[t] == FULL]
        assert before and after, sub.name
