"""Seconds per graded notebook: `nbgrader autograde` of the course's notebooks next to a trivial one.

A trivial notebook (one answer cell, one `assert True` test) measures what every graded
notebook costs whatever it holds: nbgrader's own work and a kernel start. The rest is
ours: importing rustsync, running the tests, exploring schedules, and the deliberate
waits on code that hangs. Run from the repository's root:

    python bench/bench_grading.py [--repeat 3]

Each notebook is autograded on its own (`nbgrader autograde <assignment> --student <id>`,
run in this process so that Python's start-up is not counted) and timed; the figures are
medians over the notebooks of a group and over the repeats.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rustsync.grading import run_nbgrader  # noqa: E402 - after the path is set

SAMPLES = ROOT / "tests" / "submissions"


def trivial_notebook():
    def meta(**flags):
        base = {"grade": False, "solution": False, "locked": False, "schema_version": 3}
        return {"nbgrader": {**base, **flags}}

    nb = new_notebook(cells=[
        new_code_cell("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION",
                      metadata=meta(solution=True, grade_id="answer")),
        new_code_cell('"""The answer is defined."""\nassert answer == 42',
                      metadata=meta(grade=True, locked=True, points=1, grade_id="test_answer")),
    ])
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    return nb


@contextlib.contextmanager
def quiet():
    """Send nbgrader's log and the kernels' start-up messages (file descriptors 1 and 2) to /dev/null."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def setup(course):
    """A course with the seven assignments, a trivial one, and the submissions to grade."""
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source", course / "source")
    (course / "source" / "trivial").mkdir()
    nbformat.write(trivial_notebook(), course / "source" / "trivial" / "trivial.ipynb")
    run_nbgrader("generate_assignment", "*", "--force", cwd=course)

    groups = {"trivial notebook": [], "a correct solution of each assignment": [], "the sample submissions": []}

    def submit(group, student, assignment, notebook):
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        shutil.copy(notebook, folder / f"{assignment}.ipynb")
        groups[group].append((student, assignment))

    for i in range(5):
        submit("trivial notebook", f"trivial{i}", "trivial", course / "release" / "trivial" / "trivial.ipynb")
    for source in sorted((ROOT / "source").glob("*/*.ipynb")):
        submit("a correct solution of each assignment", f"solved-{source.stem[:3]}", source.stem, source)
    for sample in sorted(SAMPLES.glob("*/*.ipynb")):
        submit("the sample submissions", f"{sample.parent.name[:3]}-{sample.stem}", sample.parent.name, sample)
    return groups


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="autograde everything this many times")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp)
        env = {**os.environ, "HOME": str(course), "JUPYTER_CONFIG_DIR": str(course / ".jupyter")}
        seconds = {}
        with quiet():
            groups = setup(course)
            for _ in range(args.repeat):
                for members in groups.values():
                    for student, assignment in members:
                        start = time.perf_counter()
                        run_nbgrader("autograde", assignment, f"--student={student}", "--force",
                                     cwd=course, env=env)
                        seconds.setdefault(student, []).append(time.perf_counter() - start)

    print(f"nbgrader autograde, seconds per notebook (median of {args.repeat} run(s) each)")
    base = statistics.median(t for s, _ in groups["trivial notebook"] for t in seconds[s])
    for group, members in groups.items():
        per = [statistics.median(seconds[s]) for s, _ in members]
        median = statistics.median(per)
        print(f"  {group:<40} {median:6.2f} s   ({median - base:+.2f} s over the trivial notebook, "
              f"{len(members)} notebooks, {min(per):.2f}-{max(per):.2f} s)")
    print("  each sample submission:")
    for student, _ in groups["the sample submissions"]:
        print(f"    {student:<30} {statistics.median(seconds[student]):6.2f} s")


if __name__ == "__main__":
    main()
