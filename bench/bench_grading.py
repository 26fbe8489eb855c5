"""Seconds per graded notebook: the course's grading against the kernel-decides design, in one run.

Two copies of the course grade the same submissions: one with the course's grading (the
grader decides every part in sandboxed workers while the kernel only shows;
`rustsync.grading.hooks`), one with the earlier design in which the student's kernel ran
the hidden tests itself (`rustsync.sandbox.SandboxedExecute`, still sandboxed). Each
notebook is graded by both in turn, so both see the same load. A trivial notebook (one
answer cell, one `assert True` test) measures what every graded notebook costs whatever
it holds: nbgrader's own work and a kernel start. Run from the repository's root:

    python bench/bench_grading.py [--repeat 3]

Each notebook is autograded on its own (`nbgrader autograde <assignment> --student <id>`,
run in this process so that Python's start-up is not counted) and timed; the figures are
medians over the notebooks of a group and over the repeats, and the ratio of the two.
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


KERNEL_DECIDES = """
from rustsync import sandbox as _sandbox
c.Autograde.autograde_preprocessors = _sandbox.autograde_preprocessors()
"""


def setup(course, kernel_decides=False):
    """A course with the seven assignments, a trivial one, and the submissions to grade."""
    course.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.SandboxedKernelManager.hide = [{str(ROOT)!r}]\n")
        if kernel_decides:
            config.write(KERNEL_DECIDES)
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
    designs = {"grader decides": False, "kernel decides": True}
    with tempfile.TemporaryDirectory() as tmp:
        seconds = {}
        with quiet():
            courses = {name: Path(tmp) / name.replace(" ", "-") for name in designs}
            for name, flag in designs.items():
                groups = setup(courses[name], kernel_decides=flag)
            env = {**os.environ, "HOME": tmp, "JUPYTER_CONFIG_DIR": str(Path(tmp) / ".jupyter")}
            for _ in range(args.repeat):
                for members in groups.values():
                    for student, assignment in members:
                        for name in designs:
                            start = time.perf_counter()
                            run_nbgrader("autograde", assignment, f"--student={student}", "--force",
                                         cwd=courses[name], env=env)
                            seconds.setdefault((name, student), []).append(time.perf_counter() - start)

    print(f"nbgrader autograde, seconds per notebook (median of {args.repeat} run(s) each), "
          "both designs graded in turn")
    for group, members in groups.items():
        medians = {}
        for name in designs:
            per = [statistics.median(seconds[(name, s)]) for s, _ in members]
            medians[name] = statistics.median(per)
        print(f"  {group:<40} grader decides {medians['grader decides']:5.2f} s, kernel decides "
              f"{medians['kernel decides']:5.2f} s: ratio {medians['grader decides'] / medians['kernel decides']:.2f}"
              f"  ({len(members)} notebooks)")
    total = {name: sum(statistics.median(seconds[(name, s)]) for m in groups.values() for s, _ in m)
             for name in designs}
    print(f"  all notebooks: grader decides {total['grader decides']:.1f} s, kernel decides "
          f"{total['kernel decides']:.1f} s: ratio {total['grader decides'] / total['kernel decides']:.2f}")
    print("  each sample submission (grader decides / kernel decides):")
    for student, _ in groups["the sample submissions"]:
        print(f"    {student:<30} {statistics.median(seconds[('grader decides', student)]):6.2f} s "
              f"{statistics.median(seconds[('kernel decides', student)]):6.2f} s")


if __name__ == "__main__":
    main()
