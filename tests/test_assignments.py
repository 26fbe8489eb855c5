"""The seven nbgrader assignments: release/ is generated from source/, and both directions hold.

- release/ is exactly what `nbgrader generate_assignment` makes from source/ now;
- every source notebook, run as is, passes every test cell, silently (nbgrader scores a
  test cell that writes to stderr 0);
- every release notebook, run as is (unsolved), fails every autograded test cell;
- the notebooks follow the course's conventions (parts, points, docstrings, hints, slugs).

The execution tests start one kernel per notebook: about half a minute in all.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = [
    "a00_shared_state",
    "a01_mutexes",
    "a02_mutex_api",
    "a03_sharing_a_mutex",
    "a04_multiple_ownership",
    "a05_arc",
    "a06_refcell_vs_mutex",
]
BOOK = "https://doc.rust-lang.org/book/ch16-03-shared-state.html"
HIDDEN = "### BEGIN HIDDEN TESTS"
# The cells that fail on purpose to show an error, and the error each one shows.
EXPECTED_ERRORS = {
    "a02_mutex_api": ["GuardDropped"],
    "a03_sharing_a_mutex": ["UseAfterMove"],
    "a04_multiple_ownership": ["NotSend", "NotSend"],
}


def source_nb(name):
    return nbformat.read(ROOT / "source" / name / f"{name}.ipynb", as_version=4)


def release_nb(name):
    return nbformat.read(ROOT / "release" / name / f"{name}.ipynb", as_version=4)


def nbgrader_meta(cell):
    return cell.metadata.get("nbgrader", {})


def is_test_cell(cell):
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def execute(nb):
    """Run a notebook in a fresh kernel from this environment; errors are kept as outputs."""
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    return nb


def errors(cell):
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


def stderr(cell):
    return "".join(o.text for o in cell.get("outputs", []) if o.output_type == "stream" and o.name == "stderr")


# --- release/ is generated from source/ --------------------------------------------------------------


def test_each_assignment_is_one_notebook_of_its_name_in_source_and_release():
    for folder in ("source", "release"):
        found = sorted(p.name for p in (ROOT / folder).iterdir() if p.is_dir())
        assert found == ASSIGNMENTS, folder
        for name in ASSIGNMENTS:
            assert sorted(p.name for p in (ROOT / folder / name).iterdir()) == [f"{name}.ipynb"]


def test_release_is_what_generate_assignment_makes_from_source(tmp_path):
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    shutil.copytree(ROOT / "source", tmp_path / "source")
    done = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "*", "--force"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ASSIGNMENTS:
        made = json.loads((tmp_path / "release" / name / f"{name}.ipynb").read_text())
        kept = json.loads((ROOT / "release" / name / f"{name}.ipynb").read_text())
        assert kept == made, (f"release/{name} differs from what `nbgrader generate_assignment "
                              f"{name} --force` makes from source/: run it and commit the result")


# --- both directions ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_solution_passes_its_tests_silently(name):
    nb = execute(source_nb(name))
    tests = [c for c in nb.cells if is_test_cell(c)]
    assert len(tests) >= 3
    for cell in tests:
        grade_id = nbgrader_meta(cell)["grade_id"]
        assert not errors(cell), f"{grade_id}: {[e.evalue for e in errors(cell)]}"
        assert stderr(cell) == "", f"{grade_id} wrote to stderr: {stderr(cell)!r}"
        assert [o for o in cell.outputs if o.output_type == "execute_result"] == [], grade_id
    shown = [errors(c)[0].ename for c in nb.cells if c.cell_type == "code" and errors(c)]
    assert shown == EXPECTED_ERRORS.get(name, [])
    tagged = [c for c in nb.cells if "raises-exception" in c.metadata.get("tags", [])]
    assert len(tagged) == len(shown)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_unsolved_release_fails_every_autograded_test(name):
    nb = execute(release_nb(name))
    for cell in (c for c in nb.cells if is_test_cell(c)):
        failure = errors(cell)
        assert failure, f"{nbgrader_meta(cell)['grade_id']} passes without an answer"
        assert failure[0].ename == "AssertionError", failure[0].ename
        assert "not written yet" in failure[0].evalue or "is not defined" in failure[0].evalue


# Wrong answers, one per autograded part: the part's test cell must fail on each. The
# functions are the mistakes the lessons warn about: no threads, a lock released between
# read and write, `lock` instead of `try_lock`, locks taken in opposite orders.
WRONG = {
    "a00_shared_state": {
        "possible_counts": "possible_counts = {3, 4}",
        "lost_update_schedule": "lost_update_schedule = [1, 1, 2, 2]",
        "lowest_count_schedule": "lowest_count_schedule = [1, 2, 1, 2]",
    },
    "a01_mutexes": {
        "locked_counts": "locked_counts = {2, 3, 4}",
        "fixed_worker": "def fixed_worker(counter, times):\n    unlocked_between_worker(counter, times)",
        "lost_update_schedule": "lost_update_schedule = [1, 1, 2, 2]",
    },
    "a02_mutex_api": {
        "predicted_reprs": 'repr_after_listing = "Mutex { data: 6, poisoned: false, .. }"\n'
                           'repr_after_panic = "Mutex { data: [1, 2], poisoned: false, .. }"',
        "add_item": "add_item = add_item_broken",
        "read_even_if_poisoned": "def read_even_if_poisoned(m):\n    with m.lock() as guard:\n"
                                 "        return guard.value",
        "try_add": "def try_add(m, n):\n    with m.lock() as guard:\n        guard.value += n\n    return True",
    },
    "a03_sharing_a_mutex": {
        "prediction": 'threads_started = 10\nerror_code = "E0382"',
        "count_with_arc": "def count_with_arc(n):\n    return n",
        "second_first_schedule": "second_first_schedule = [1, 2]",
    },
    "a04_multiple_ownership": {
        "prediction": 'threads_started = 1\nerror_code = "E0277"',
        "lost_count_schedule": "lost_count_schedule = [1, 1, 2, 2]",
        "total_length": "def total_length(words):\n    return total_length_rc(words)",
    },
    "a05_arc": {
        "owner_counts": "owner_counts = (1, 4, 4)",
        "parallel_sum": "def parallel_sum(chunks):\n    return sum(map(sum, chunks))",
        "atomic_sum": "def atomic_sum(chunks):\n"
                      "    total = Arc(AtomicUsize(0))\n"
                      "    handles = []\n"
                      "    for chunk in chunks:\n"
                      "        mine = Arc.clone(total)\n"
                      "        handles.append(spawn(lambda: mine.store(mine.load() + sum(chunk))))\n"
                      "    for handle in handles:\n"
                      "        handle.join()\n"
                      "    return total.load()",
    },
    "a06_refcell_vs_mutex": {
        "unordered_outcomes": "unordered_outcomes = {(110, 90)}",
        "deadlock_schedule": "deadlock_schedule = [1, 1, 2]",
        "transfer": "transfer = transfer_unordered",
        "twice_errors": 'borrow_twice_error = "BorrowMutError"\nlock_twice_error = "PoisonError"',
    },
}


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_each_autograded_part_fails_on_a_wrong_answer(name):
    nb = source_nb(name)
    answered = {nbgrader_meta(c)["grade_id"]: c for c in nb.cells if nbgrader_meta(c).get("solution")}
    for grade_id, wrong in WRONG[name].items():
        answered[grade_id].source = wrong
    nb = execute(nb)
    tests = [c for c in nb.cells if is_test_cell(c)]
    assert len(tests) == len(WRONG[name])
    for cell in tests:
        failure = errors(cell)
        assert failure and failure[0].ename == "AssertionError", nbgrader_meta(cell)["grade_id"]
        assert stderr(cell) == ""


# --- conventions -------------------------------------------------------------------------------------------


def parts(nb):
    """[(letter, points in the heading, [cells of the part])], split at `## Part X (N points)`."""
    out = []
    for cell in nb.cells:
        heading = cell.cell_type == "markdown" and re.match(r"## Part ([A-Z]) \((\d+) points?\)\n", cell.source)
        if heading:
            out.append((heading.group(1), int(heading.group(2)), [cell]))
        elif out:
            out[-1][2].append(cell)
    return out


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_parts_are_lettered_in_order_and_their_points_add_up(name):
    nb = source_nb(name)
    found = parts(nb)
    assert [letter for letter, _, _ in found] == [chr(ord("A") + i) for i in range(len(found))]
    assert len(found) >= 4
    for letter, points, cells in found:
        graded = sum(nbgrader_meta(c).get("points", 0) for c in cells if nbgrader_meta(c).get("grade"))
        assert graded == points, f"Part {letter} says {points} points, its grade cells give {graded}"
    # a `---` cell follows the graded cells of every part but the last
    for letter, _, cells in found[:-1]:
        last_graded = max(i for i, c in enumerate(cells) if nbgrader_meta(c).get("grade"))
        assert any(c.source == "---" for c in cells[last_graded + 1:]), f"Part {letter}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_each_part_has_a_hint_that_ends_with_a_link_to_the_book(name):
    link = re.compile(r"\]\(" + re.escape(BOOK) + r"(#[a-z0-9-]+)?\)\.$")
    for letter, _, cells in parts(source_nb(name)):
        hints = [c.source.strip().splitlines()[-1] for c in cells if c.cell_type == "markdown"
                 and c.source.strip().splitlines()[-1].startswith("*Hint:*")]
        assert len(hints) == 1, f"Part {letter}"
        assert link.search(hints[0]), f"Part {letter}: {hints[0]}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_cells_carry_nbgrader_metadata_with_slug_ids(name):
    nb = source_nb(name)
    ids = [nbgrader_meta(c)["grade_id"] for c in nb.cells if nbgrader_meta(c)]
    assert len(ids) == len(set(ids))
    for cell in (c for c in nb.cells if nbgrader_meta(c)):
        meta = nbgrader_meta(cell)
        assert re.fullmatch(r"[a-z][a-z0-9_]*", meta["grade_id"]), meta["grade_id"]
        assert meta["schema_version"] == 3
        assert {"grade", "solution", "locked"} <= set(meta)
        if meta["grade"]:
            assert meta["points"] > 0
        if meta["solution"]:
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
    assert nb.cells[1].metadata["nbgrader"]["grade_id"] == "setup"  # the imports, read-only


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_test_cells_open_with_a_docstring_and_hide_a_short_test(name):
    for cell in (c for c in source_nb(name).cells if is_test_cell(c)):
        first = cell.source.splitlines()[0]
        assert re.fullmatch(r'"""Part [A-Z]: [^"]+\."""', first), first
        hidden = cell.source.split(HIDDEN)
        assert len(hidden) == 2, nbgrader_meta(cell)["grade_id"]
        body = [line for line in hidden[1].split("### END HIDDEN TESTS")[0].splitlines() if line.strip()]
        assert 1 <= len(body) <= 6
        assert "print(" not in cell.source


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_each_assignment_has_a_written_answer_graded_by_hand(name):
    written = [c for c in source_nb(name).cells
               if c.cell_type == "markdown" and nbgrader_meta(c).get("grade") and nbgrader_meta(c).get("solution")]
    assert written and all(nbgrader_meta(c)["points"] >= 1 for c in written)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_source_notebooks_are_saved_without_outputs_and_without_widgets_in_graded_cells(name):
    nb = source_nb(name)
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        assert cell.outputs == [] and cell.execution_count is None
        if nbgrader_meta(cell).get("grade") or nbgrader_meta(cell).get("solution"):
            assert "widget" not in cell.source and "interact" not in cell.source


def test_the_seven_assignments_cover_every_kind_of_exercise():
    hidden = "\n".join(c.source.split(HIDDEN)[1] for name in ASSIGNMENTS for c in source_nb(name).cells
                       if HIDDEN in c.source)
    # predict (graded exactly), write or fix (every schedule), give a schedule, give a deadlock
    for check in ("check_prediction(", "check_always(", "check_schedule(", "check_deadlock_schedule("):
        assert hidden.count(check) >= 1, check
    assert hidden.count("check_prediction(") >= 3 and hidden.count("check_schedule(") >= 4
