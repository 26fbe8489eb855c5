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

from rustsync.grading.checks import MESSAGE_WIDTH

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
        "drawn_counts": "drawn_counts = (2, 2, 3)",
        "lost_update_schedule": "lost_update_schedule = [1, 1, 2, 2]",
        "lowest_count_schedule": "lowest_count_schedule = [1, 2, 1, 2]",
    },
    "a01_mutexes": {
        "drawn_counts": "drawn_counts = (4, 4, 4)",
        "fixed_worker": "def fixed_worker(counter, times):\n    unlocked_between_worker(counter, times)",
        "lost_update_schedule": "lost_update_schedule = [1, 1, 2, 2]",
    },
    "a02_mutex_api": {
        "predicted_debug": 'debug_after_panic = "Mutex { data: 1, poisoned: true, .. }"\n'
                           'debug_after_clear = "Mutex { data: 11, poisoned: true, .. }"',
        "add_item": "add_item = add_item_broken",
        "read_even_if_poisoned": "def read_even_if_poisoned(m):\n    with m.lock() as guard:\n"
                                 "        return guard.value",
        "try_add": "def try_add(m, n):\n    with m.lock() as guard:\n        guard.value += n\n    return True",
    },
    "a03_sharing_a_mutex": {
        "prediction": 'threads_started = 1\nerror_code = "E0382"',  # what the Python twin does, not rustc
        "count_with_arc": "def count_with_arc(n):\n    return n",
        "second_first_schedule": "second_first_schedule = [1, 2]",
    },
    "a04_multiple_ownership": {
        "prediction": 'rustc_says = ("E0277", "E0382", "E0382", "E0277")',  # R copies its values
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
        "drawn_outcomes": 'drawn_outcomes = ("deadlock", "deadlock", (120, 90, 90))',
        "deadlock_schedule": "deadlock_schedule = [1, 1, 2]",
        "transfer": "transfer = transfer_unordered",
        "debug_in_use": 'debug_while_locked = "Mutex { data: <locked>, poisoned: false, .. }"\n'
                        'debug_while_borrowed = "RefCell { value: <borrowed> }"',
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
        shown = f"{failure[0].ename}: {failure[0].evalue}".splitlines()
        assert max(map(len, shown)) <= MESSAGE_WIDTH, (nbgrader_meta(cell)["grade_id"], shown)


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
    # write or fix (every schedule), give a schedule, give a deadlock
    for check in ("check_always(", "check_schedule(", "check_deadlock_schedule("):
        assert hidden.count(check) >= 1, check
    assert hidden.count("check_schedule(") >= 4


# --- predictions that running the notebook cannot answer ----------------------------------------------------------

PROGRAMS = ROOT / "tests" / "rustc" / "programs"
# The predict parts whose program is a Rust program shown on the page (the kernel cannot run it):
# (assignment, part, the stored program in tests/rustc/programs/).
def _printed(said):
    """The lines a program printed, by what comes before their first ": "."""
    return dict(line.split(": ", 1) for line in said.splitlines() if ": " in line)


def _verdict(said):
    """rustc's error code for a refused program, "compiles" for one it built."""
    refused = re.match(r"error\[(E\d{4})\]", said)
    return refused.group(1) if refused else "compiles"


RUST_PREDICTIONS = {  # (assignment, part): (the programs shown, in order; the answer from their outputs)
    ("a02_mutex_api", "A"): (["poisoned_lock_keeps_its_guard"], lambda said: {
        "debug_after_panic": said[0].splitlines()[1], "debug_after_clear": said[0].splitlines()[-1]}),
    ("a03_sharing_a_mutex", "A"): (["e0382_mutex_in_a_loop"], lambda said: {
        "threads_started": 0 if _verdict(said[0]) != "compiles" else None, "error_code": _verdict(said[0])}),
    ("a04_multiple_ownership", "A"): (
        ["e0277_rc_refcell", "e0382_arc_in_a_loop", "copy_values_in_a_loop", "e0277_guard_to_thread"],
        lambda said: {"rustc_says": tuple(map(_verdict, said))}),
    ("a05_arc", "A"): (["strong_count"], lambda said: {
        "owner_counts": tuple(int(_printed(said[0])[k]) for k in ("before", "during", "after"))}),
    ("a06_refcell_vs_mutex", "D"): (["debug_output"], lambda said: {
        "debug_while_locked": _printed(said[0])["while locked"],
        "debug_while_borrowed": _printed(said[0])["refcell while borrowed"]}),
}


def part_cells(name, letter):
    return next(cells for found, _, cells in parts(source_nb(name)) if found == letter)


def solution_values(cells):
    """The names the part's solution cell binds, run in a namespace of their own."""
    namespace = {}
    for cell in cells:
        if cell.cell_type == "code" and nbgrader_meta(cell).get("solution"):
            exec(cell.source, namespace)
    return {k: v for k, v in namespace.items() if not k.startswith("__")}


@pytest.mark.parametrize("name, letter", sorted(RUST_PREDICTIONS))
def test_a_rust_prediction_shows_the_stored_programs_and_its_answer_is_what_rustc_said(name, letter):
    """The part shows tests/rustc/programs/NAME.rs as stored (its first comment line aside), and the
    reference answer is what rustc printed for it (NAME.txt): a wrong answer key fails here."""
    programs, answer_from = RUST_PREDICTIONS[name, letter]
    cells = part_cells(name, letter)
    shown = re.findall(r"```rust\n(.*?)\n```", cells[0].source, re.S)
    assert len(shown) == len(programs), f"{name} Part {letter}"
    for text, program in zip(shown, programs):
        stored = (PROGRAMS / f"{program}.rs").read_text().splitlines()
        assert stored[0].startswith("//")
        assert text.strip("\n") == "\n".join(stored[1:]).strip("\n"), program
    said = [(PROGRAMS / f"{program}.txt").read_text() for program in programs]
    assert solution_values(cells) == answer_from(said)


@pytest.mark.parametrize("name, letter", sorted(RUST_PREDICTIONS))
def test_no_python_twin_of_a_rust_prediction_is_in_the_notebook(name, letter):
    """The kernel has nothing to run for the answer: no code cell before the part's answer defines a function
    that prints what the Rust program prints."""
    gone = {"a02_mutex_api": "listing_16_12", "a05_arc": "owners_over_time", "a06_refcell_vs_mutex": "borrow_twice"}
    code = "\n".join(c.source for c in source_nb(name).cells if c.cell_type == "code")
    if name in gone:
        assert f"def {gone[name]}" not in code


# --- an honest Validate --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_visible_tests_of_threaded_code_explore_more_than_one_schedule(name):
    """A visible check of a function that starts threads explores its schedules with preemptions:
    `preemption_bound=0` passed a worker that releases its lock between its read and its write."""
    for cell in (c for c in source_nb(name).cells if is_test_cell(c)):
        visible, hidden = cell.source.split(HIDDEN)
        assert "preemption_bound=0" not in visible, nbgrader_meta(cell)["grade_id"]
        if "check_always(" in hidden:
            assert "check_always(" in visible, nbgrader_meta(cell)["grade_id"]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_each_part_says_what_is_checked_and_that_hidden_tests_decide(name):
    for letter, _, cells in parts(source_nb(name)):
        said = "\n".join(c.source for c in cells if c.cell_type == "markdown")
        checked = re.search(r"\*\*Checked:\*\* (.*?)\n\n", said, re.S)
        assert checked, f"{name} Part {letter}"
        graded_by_hand = any(c.cell_type == "markdown" and nbgrader_meta(c).get("grade") for c in cells)
        if graded_by_hand:
            assert "graded by hand" in checked.group(1), f"{name} Part {letter}"
        else:
            text = " ".join(checked.group(1).split())
            assert "visible test" in text and "hidden test" in text and "decide" in text, f"{name} Part {letter}"


# The predict parts whose schedules are drawn on the page, with the values left out: the
# drawing is made from these schedules, and the answer is what replaying them gives.
def _racy_worker(counter):
    seen = counter.get()
    counter.set(seen + 1)


def _three_racy_increments():
    from rustsync import spawn
    from rustsync.sched import RacyCell

    counter = RacyCell(0)
    handles = [spawn(lambda: _racy_worker(counter)) for _ in range(3)]
    for handle in handles:
        handle.join()
    return counter.peek()


def _locked_and_split():
    """Thread 1: two increments, each under one lock; thread 2: a read and a write under two locks."""
    from rustsync import Arc, Mutex, spawn

    counter = Arc(Mutex(0))

    def locked(mine):
        for _ in range(2):
            with mine.lock() as count:
                count.value += 1

    def split(mine):
        with mine.lock() as count:
            seen = count.value
        with mine.lock() as count:
            count.value = seen + 1

    first, second = Arc.clone(counter), Arc.clone(counter)
    handles = [spawn(lambda: locked(first)), spawn(lambda: split(second))]
    for handle in handles:
        handle.join()
    with counter.lock() as count:
        return count.value


def _three_transfers():
    """a06's three transfers in a cycle, each locking its source first (`transfer_unordered`)."""
    from rustsync import Arc, Mutex, spawn

    bank = [Arc(Mutex(100, name=name)) for name in ("alice", "bob", "carol")]

    def transfer(accounts, source, target, amount):
        with accounts[source].lock() as money_out:
            with accounts[target].lock() as money_in:
                money_out.value -= amount
                money_in.value += amount

    handles = []
    for source, target, amount in [(0, 1, 10), (1, 2, 20), (2, 0, 30)]:
        mine = [Arc.clone(account) for account in bank]
        handles.append(spawn(lambda: transfer(mine, source, target, amount)))
    for handle in handles:
        handle.join()
    balances = []
    for account in bank:
        with account.lock() as money:
            balances.append(money.value)
    return tuple(balances)


DRAWN = {  # assignment: (the program, each thread's steps, the schedules drawn, the answer's name)
    "a00_shared_state": (_three_racy_increments, {t: ["seen = get()", "set(seen + 1)"] for t in (1, 2, 3)},
                         {"X": [1, 2, 1, 3, 2, 3], "Y": [1, 2, 2, 3, 3, 1], "Z": [2, 2, 3, 3, 1, 1]},
                         "drawn_counts"),
    "a01_mutexes": (_locked_and_split, {1: ["lock, add 1", "lock, add 1"], 2: ["lock, read", "lock, write"]},
                    {"X": [2, 1, 1, 2], "Y": [1, 2, 1, 2], "Z": [1, 1, 2, 2]}, "drawn_counts"),
    # only the first steps are drawn: the part says how the threads go on, as `replay` does
    "a06_refcell_vs_mutex": (_three_transfers, {1: ["lock alice", "lock bob"], 2: ["lock bob", "lock carol"],
                                                3: ["lock carol", "lock alice"]},
                             {"X": [1, 2], "Y": [1, 2, 3], "Z": [2, 1, 2]}, "drawn_outcomes"),
}


def draw(schedule, steps):
    """A schedule as text: one row per step, one column per thread; `steps[t]`: thread t's steps in order."""
    threads = sorted(steps)
    width = max(len(s) for t in threads for s in steps[t]) + 4
    rows = [(" " * 10 + "".join(f"{'thread ' + str(t):<{width}}" for t in threads)).rstrip()]
    taken = dict.fromkeys(threads, 0)
    for number, thread in enumerate(schedule, 1):
        text = steps[thread][taken[thread]]
        taken[thread] += 1
        rows.append((f"step {number:<5}" + "".join(f"{text if t == thread else '':<{width}}" for t in threads)).rstrip())
    return "\n".join(rows)


@pytest.mark.parametrize("name", sorted(DRAWN))
def test_drawn_schedules_are_on_the_page_and_the_answer_is_what_they_replay_to(name):
    from rustsync.sched import Deadlock, replay

    program, steps, schedules, answer = DRAWN[name]
    cells = part_cells(name, "A")
    for label, schedule in schedules.items():
        assert f"Schedule {label}:\n\n```text\n{draw(schedule, steps)}\n```" in cells[0].source, label
    replayed = tuple(replay(program, schedule).outcome for schedule in schedules.values())
    replayed = tuple("deadlock" if isinstance(o, Deadlock) else o for o in replayed)
    assert solution_values(cells) == {answer: replayed}
    assert len(set(replayed)) > 1, "schedules that all end alike teach nothing"


def test_the_rust_program_drawn_in_a01_compiles(tmp_path):
    """The program of a01's Part A builds with the rustc on this machine (it runs: its output varies)."""
    rustc = shutil.which("rustc")
    if rustc is None:
        pytest.skip("rustc is not installed")
    shown = re.search(r"```rust\n(.*?)\n```", part_cells("a01_mutexes", "A")[0].source, re.S).group(1)
    (tmp_path / "main.rs").write_text(shown + "\n")
    built = subprocess.run([rustc, "--edition", "2024", "--color", "never", "-o", str(tmp_path / "main"),
                            str(tmp_path / "main.rs")], capture_output=True, text=True, timeout=120)
    assert built.returncode == 0 and built.stderr == "", built.stderr


def test_check_messages_are_wrapped_to_the_width_the_validate_dialog_shows():
    """A long message is broken at spaces to MESSAGE_WIDTH, its first line counting "AssertionError: ";
    an indented line (a trace) keeps its indent when broken; a word longer than a line stays whole."""
    from rustsync.grading.checks import decide, wrap

    long = "the final count can be 3 instead of 4 " * 6
    ok, message = decide("failed", {"message": long.strip() + "\n    " + "T1 lock counter " * 10 + "\n" + "x" * 130})
    assert not ok
    lines = message.splitlines()
    assert len("AssertionError: " + lines[0]) <= MESSAGE_WIDTH and len(lines[0]) > MESSAGE_WIDTH - 30
    assert all(len(line) <= MESSAGE_WIDTH for line in lines[1:-1])
    assert lines[-1] == "x" * 130
    trace = [line for line in lines if "T1 lock" in line]
    assert len(trace) == 2 and all(line.startswith("    T1 lock") for line in trace)
    assert " ".join(message.split()) == " ".join((long + " " + "T1 lock counter " * 10 + " " + "x" * 130).split())
    assert wrap("short\n    kept as is") == "short\n    kept as is"
