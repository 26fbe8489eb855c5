"""The grader's runner and worker (rustsync/grading/runner.py, worker.py), without nbgrader.

Jobs are built by hand here: student cells run in the student's process, the rest in the
grader's, whatever they contain.
"""

import json
import sys
import textwrap

import nbformat
import pytest

from rustsync.grading.runner import Cell, Runner, program, worker_command

SETUP = "from rustsync import Arc, Mutex, spawn\nfrom rustsync.sched import explore, replay"
COUNT = textwrap.dedent("""\
    def count_with_arc(n):
        counter = Arc(Mutex(0))
        handles = []
        for _ in range(n):
            mine = Arc.clone(counter)
            def work():
                with mine.lock() as num:
                    num.value += 1
            handles.append(spawn(work))
        for handle in handles:
            handle.join()
        with counter.lock() as num:
            return num.value
    """)
TEST = ("from rustsync.grading import check_always, answer\n"
        "check_always(lambda: count_with_arc(3), {3}, 'the final count', threads=3, uses=['lock'])")


def cells(*student, test=TEST):
    out = [Cell("locked", SETUP, "Cell In[1]", "setup", ["Arc", "Mutex", "spawn", "explore", "replay"])]
    out += [Cell("student", code, f"Cell In[{i + 2}]") for i, code in enumerate(student)]
    out.append(Cell("test", test, f"Cell In[{len(out) + 1}]", "test"))
    return out


@pytest.fixture(scope="module", params=["sandboxed", "plain"])
def command(request):
    return worker_command(None, sandboxed=request.param == "sandboxed")


def decide(command, job_cells, **limits):
    runner = Runner(command, limits=limits or None, parallel=2)
    return runner.run(job_cells, {"test": len(job_cells) - 1})["test"]


def test_a_right_answer_passes_and_a_racy_one_fails_with_its_schedule(command):
    assert decide(command, cells(COUNT)).passed
    racy = COUNT.replace("with mine.lock() as num:\n                num.value += 1",
                         "with mine.lock() as num:\n                seen = num.value\n"
                         "            with mine.lock() as num:\n                num.value = seen + 1")
    part = decide(command, cells(racy))
    assert not part.passed and "the final count can be" in part.message and "with the schedule" in part.message


def test_workers_that_never_lock_fail_even_if_the_main_thread_locks(command):
    lazy = textwrap.dedent("""\
        def count_with_arc(n):
            counter = Arc(Mutex(0))
            handles = [spawn(lambda: None) for _ in range(n)]
            for handle in handles:
                handle.join()
            with counter.lock() as num:
                num.value = n
                return num.value
        """)
    part = decide(command, cells(lazy))
    assert not part.passed and "never calls `lock`" in part.message


def test_a_cell_that_hangs_before_the_test_costs_only_itself(command):
    part = decide(command, cells(COUNT, "while True:\n    pass\n"), cell_seconds=1)
    assert part.passed, part.message


def test_a_cell_that_kills_the_worker_is_left_out_and_the_part_still_decided(command):
    burn = "while True:\n    pass\n"  # killed by its CPU limit (SIGXCPU) before its own time is up
    part = decide(command, cells(COUNT, burn), cpu_seconds=1, cell_seconds=60)
    assert part.passed and part.tries == 2 and part.skipped == ["Cell In[3]"], part


def test_a_test_that_hangs_is_stopped_and_scored_zero(command):
    part = decide(command, cells(COUNT, test="while True:\n    pass\n"), test_seconds=1)
    assert not part.passed and "stopped this test after 1 s" in part.message


def test_student_code_is_ordinary_python_in_a_process_of_its_own(command):
    probe = ("from rustsync.grading import check_equal\n"
             "check_equal(tried, ['worked'] * 7, 'what the probe met', reveal=True)")
    spy = textwrap.dedent("""\
        import random, re, sys, threading
        from dataclasses import dataclass
        tried = []

        @dataclass
        class Account:
            money: int

        def counter():
            n = 0
            def bump():
                nonlocal n
                n += 1
                return n
            return bump

        for attempt in (lambda: open('/etc/passwd').read(1), lambda: eval('1'), lambda: __import__('os').getpid(),
                        lambda: "{} {}".format(type(1).__name__, Account(3).money), lambda: counter()(),
                        lambda: random.Random(1).random(), lambda: re.sub("a", "b", "a")):
            try:
                attempt()
                tried.append('worked')
            except Exception as err:
                tried.append(repr(err))
        """)
    part = decide(command, cells(spy, test=probe))
    assert part.passed, part.message


def test_the_student_process_sees_and_signals_no_other_process(command):
    probe = ("from rustsync.grading import check_equal\n"
             "check_equal(reachable, [], 'the processes the student could signal', reveal=True)")
    spy = textwrap.dedent("""\
        import os
        reachable = []
        for name in os.listdir('/proc'):
            if name.isdigit() and int(name) != os.getpid():
                try:
                    os.kill(int(name), 0)  # 0: only asks whether a signal could be sent
                    reachable.append(int(name))
                except OSError:
                    pass
        """)
    part = decide(command, cells(spy, test=probe))
    assert part.passed, part.message


def test_a_cell_that_patches_the_package_changes_nothing_the_grader_uses(command):
    patch = textwrap.dedent("""\
        try:
            import rustsync.grading.checks as c
            c.check_always = lambda *a, **k: None
        except ImportError:
            pass
        try:
            Mutex.lock = lambda self: None
        except AttributeError:
            pass
        """)
    assert decide(command, cells(COUNT, patch)).passed  # the real lock() and check_always ran
    part = decide(command, cells("def count_with_arc(n):\n    return 3\n", patch))
    assert not part.passed and "started 0 thread(s)" in part.message


FAKE_WORKER = textwrap.dedent("""\
    import json, sys
    print(json.dumps({"event": "ready", "protocol": 1}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        if job.get("op") == "exit":
            break
        records = %s
        print(json.dumps({"id": job["id"], "event": "result", "status": "done", "records": records}), flush=True)
    """)


@pytest.mark.parametrize("records, message", [
    ("[]", "the test made no check"),
    ('[{"kind": "equal", "facts": {"what": "x", "reveal": True, "hint": "", "expected": ["int", 1], '
     '"actual": ["bool", True], "problem": None}}]', "x is True, but it should be 1"),
    ('[{"kind": "no such check", "facts": {}}]', "cannot decide a check"),
])
def test_the_grader_decides_from_the_facts_not_from_what_the_worker_claims(tmp_path, records, message):
    script = tmp_path / "fake_worker.py"
    script.write_text(FAKE_WORKER % records)
    part = Runner([sys.executable, str(script)]).run(cells(COUNT), {"test": 2})["test"]
    assert not part.passed and message in part.message


# --- the program a part runs -------------------------------------------------------------------------------


def notebook(*cells):
    nb = nbformat.v4.new_notebook()
    for source, meta in cells:
        cell = nbformat.v4.new_code_cell(source)
        if meta:
            cell.metadata["nbgrader"] = meta
        nb.cells.append(cell)
    return nb


LOCKED = {"grade_id": "helper", "locked": True, "grade": False, "solution": False}
ANSWER = {"grade_id": "answer", "locked": False, "grade": False, "solution": True}
GRADED = {"grade_id": "test_answer", "locked": True, "grade": True, "solution": False, "points": 1}


def test_locked_cells_and_tests_come_from_the_instructor_whatever_the_submission_holds():
    instructor = notebook(("def helper():\n    return 1", LOCKED), ("x = 0", ANSWER), ("assert x == 1", GRADED))
    submission = notebook(("print('my own first cell')", None), ("def helper():\n    return 2", None),
                          ("x = helper()", ANSWER), ("pass  # my test", GRADED))
    job, tests, notes = program(submission, instructor)
    kinds = [(c.kind, c.code) for c in job]
    assert ("locked", "def helper():\n    return 1") in kinds  # put back, although the student unlocked it
    assert ("test", "assert x == 1") in kinds and ("test", "pass  # my test") not in kinds
    assert {c.kind for c in job} == {"student", "locked", "test"}  # every student cell runs, in its own process
    assert list(notes.values()) and "defines `helper` again" in list(notes.values())[0][0]  # advice, not a refusal
    assert [c.name for c in job] == [f"Cell In[{i}]" for i in range(1, len(job) + 1)]
    assert tests == {"test_answer": [c.kind for c in job].index("test")}
    assert json.dumps([c.job() for c in job])


def test_advice_never_changes_what_a_part_runs_for_any_submission_of_the_corpora(monkeypatch, tmp_path):
    """Grading with RUSTSYNC_GATE=off runs exactly the jobs grading with advice runs: advice decides nothing."""
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.corpus.build import write
    from tests.corpus.correct import CORRECT
    from tests.corpus.hostile import HOSTILE
    from tests.corpus.subtle import CORRECT_OTHERWISE, SUBTLY_WRONG

    root = Path(__file__).resolve().parents[1]
    noted = 0
    for sub in HOSTILE + CORRECT + SUBTLY_WRONG + CORRECT_OTHERWISE:
        folder = tmp_path / sub.name
        write(sub, folder)
        nb = nbformat.read(folder / f"{sub.assignment}.ipynb", as_version=4)
        instructor = nbformat.read(root / "source" / sub.assignment / f"{sub.assignment}.ipynb", as_version=4)
        monkeypatch.setenv("RUSTSYNC_GATE", "on")
        on = program(nb, instructor)
        monkeypatch.setenv("RUSTSYNC_GATE", "off")
        off = program(nb, instructor)
        assert [c.job() for c in on[0]] == [c.job() for c in off[0]] and on[1] == off[1], sub.name
        assert off[2] == {}
        noted += bool(on[2])
    assert noted >= 10  # the advice has something to say about the hostile corpus


NEW_API = textwrap.dedent("""\
    def bump(hits):
        seen = hits.load()
        while True:
            result = hits.compare_exchange_weak(seen, seen + 1)
            if result.is_ok():
                return
            seen = result.unwrap_err()

    def count_with_scope(n):
        hits = AtomicUsize(0)
        with scope() as s:
            for _ in range(n):
                s.spawn(lambda: bump(hits))
        return hits.load()

    def unwrap_while_shared():
        a = Arc(Mutex(4))
        b = Arc.clone(a)
        back = Arc.try_unwrap(a).unwrap_err()
        alone = Arc.get_mut(back) is None
        first = Arc.into_inner(b)
        return [repr(Ok(1)), alone, first is None, Arc.try_unwrap(back).unwrap().into_inner()]
    """)
NEW_API_TEST = ("from rustsync.grading import check_always, check_equal\n"
                "check_always(lambda: count_with_scope(2), {2}, 'the final count', threads=2, "
                "uses=['compare_exchange_weak'])\n"
                "check_equal(unwrap_while_shared(), ['Ok(1)', True, True, 4], 'the values', reveal=True)")


def test_scope_compare_exchange_and_arcs_exclusive_access_cross_the_boundary(command):
    job = cells(NEW_API, test=NEW_API_TEST)
    job[0] = Cell("locked", "from rustsync import Arc, AtomicUsize, Mutex, Ok, scope", "Cell In[1]", "setup",
                  ["Arc", "AtomicUsize", "Mutex", "Ok", "scope"])
    part = decide(command, job)
    assert part.passed, part.message


def test_an_arc_moved_into_a_thread_is_dropped_when_the_thread_ends(command):
    """As in the student's kernel: each thread's clone goes when its thread ends, so the count is 1 after the joins."""
    owners = textwrap.dedent("""\
        def owners():
            counter = Arc(Mutex(0))
            handles = []
            for _ in range(3):
                mine = Arc.clone(counter)
                def work():
                    with mine.lock() as num:
                        num.value += 1
                handles.append(spawn(work))
            for handle in handles:
                handle.join()
            return Arc.strong_count(counter)
        """)
    test = ("from rustsync.grading import call, check_equal\n"
            "check_equal(call(owners), 1, 'the strong count after the joins', reveal=True)")
    part = decide(command, cells(owners, test=test))
    assert part.passed, part.message


def test_a_thread_that_panics_holding_a_guard_outside_a_with_poisons_the_mutex(command):
    """The guard is dropped while the student's function unwinds: Rust poisons the mutex, and so does the grader."""
    poisoned = textwrap.dedent("""\
        def poisoned():
            m = Arc(Mutex(0))
            mine = Arc.clone(m)
            def work():
                guard = mine.lock()
                guard.value += 1
                raise ValueError("gave up halfway")
            try:
                spawn(work).join()
            except Exception:
                pass
            return m.is_poisoned()
        """)
    test = ("from rustsync.grading import call, check_equal\n"
            "check_equal(call(poisoned), True, 'whether the mutex is poisoned', reveal=True)")
    part = decide(command, cells(poisoned, test=test))
    assert part.passed, part.message
