"""Seconds per graded notebook: the course's grading against other designs, in one run.

Copies of the course grade the same submissions, each notebook by every design in turn,
so all see the same load:

- *grader decides*: this checkout (`rustsync.grading.hooks`): a grader process per part
  runs the instructor's code and the scheduler, the student's code runs in a process of
  its own beside it, and the kernel only shows;
- *kernel decides*: the student's sandboxed kernel runs the hidden tests itself
  (`rustsync.sandbox.SandboxedExecute`);
- *plain nbgrader*: nbgrader's own `Execute`, no sandbox, no grader (trivial notebook only);
- *baseline*, with `--baseline-python PY`: the same course graded by another checkout's
  package, installed for the interpreter PY (for instance an earlier commit in a venv made
  with `--system-site-packages` and `pip install --no-deps -e <clone>`).

A trivial notebook (one answer cell, one `assert True` test) measures what every graded
notebook costs whatever it holds. Run from the repository's root:

    python bench/bench_grading.py [--repeat 3] [--baseline-python /tmp/oldenv/bin/python]

Each notebook is autograded on its own (`nbgrader autograde <assignment> --student <id>`)
in a fresh `python -m nbgrader` process, and the interpreter's start-up with nbgrader
imported (measured here too) is subtracted; the figures are medians over the notebooks of
a group and over the repeats, and their ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
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


def setup(course, extra="", root=ROOT):
    """A course with the seven assignments, a trivial one, and the submissions to grade.

    Its config is `root`'s nbgrader_config.py (the checkout whose package grades it), then `extra`.
    """
    course.mkdir(parents=True)
    shutil.copy(root / "nbgrader_config.py", course)
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.SandboxedKernelManager.hide = [{str(ROOT)!r}]\n")
        config.write(extra)
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


PLAIN = """
from nbgrader.converters import Autograde as _Autograde
c.Autograde.autograde_preprocessors = _Autograde.class_traits()["autograde_preprocessors"].default()
c.Autograde.sanitize_preprocessors = _Autograde.class_traits()["sanitize_preprocessors"].default()
"""


def autograde(python, course, assignment, student, env):
    """Seconds for one `python -m nbgrader autograde`, in a process of its own."""
    start = time.perf_counter()
    subprocess.run([python, "-m", "nbgrader", "autograde", assignment, f"--student={student}", "--force"],
                   cwd=course, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def startup(python, env, times=5):
    """Median seconds for the interpreter to start and import nbgrader's autograde app."""
    runs = []
    for _ in range(times):
        start = time.perf_counter()
        subprocess.run([python, "-c", "import nbgrader.apps.autogradeapp"], env=env, check=True)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="autograde everything this many times")
    parser.add_argument("--baseline-python", help="an interpreter whose rustsync is another checkout's")
    args = parser.parse_args()
    designs = {"grader decides": (sys.executable, ""), "kernel decides": (sys.executable, KERNEL_DECIDES)}
    roots = {}
    if args.baseline_python:
        designs["baseline"] = (args.baseline_python, "")
        found = subprocess.run([args.baseline_python, "-c", "import os, rustsync; "
                                "print(os.path.dirname(os.path.dirname(rustsync.__file__)))"],
                               capture_output=True, text=True, check=True).stdout.strip()
        roots["baseline"] = Path(found)
    designs["plain nbgrader"] = (sys.executable, PLAIN)
    with tempfile.TemporaryDirectory() as tmp:
        seconds = {}
        env = {**os.environ, "HOME": tmp, "JUPYTER_CONFIG_DIR": str(Path(tmp) / ".jupyter")}
        courses = {name: Path(tmp) / name.replace(" ", "-") for name in designs}
        with quiet():
            for name, (_, extra) in designs.items():
                groups = setup(courses[name], extra, roots.get(name, ROOT))
        base = {python: startup(python, env) for python, _ in designs.values()}
        for _ in range(args.repeat):
            for group, members in groups.items():
                for student, assignment in members:
                    for name, (python, _) in designs.items():
                        if name == "plain nbgrader" and group != "trivial notebook":
                            continue  # plain nbgrader cannot grade the course's hidden tests
                        spent = autograde(python, courses[name], assignment, student, env) - base[python]
                        seconds.setdefault((name, student), []).append(spent)

    print(f"nbgrader autograde, seconds per notebook (median of {args.repeat} run(s) each, start-up of "
          f"{statistics.median(base.values()):.2f} s subtracted), every design graded in turn")
    for group, members in groups.items():
        medians = {}
        for name in designs:
            per = [statistics.median(seconds[(name, s)]) for s, _ in members if (name, s) in seconds]
            if per:
                medians[name] = statistics.median(per)
        ours = medians["grader decides"]
        others = ", ".join(f"{name} {value:5.2f} s (ratio {ours / value:.2f})" for name, value in medians.items()
                           if name != "grader decides")
        print(f"  {group:<40} grader decides {ours:5.2f} s; {others}  ({len(members)} notebooks)")
    print("  each sample submission: " + " / ".join(n for n in designs if n != "plain nbgrader"))
    for student, _ in groups["the sample submissions"]:
        row = " ".join(f"{statistics.median(seconds[(n, student)]):6.2f} s" for n in designs
                       if n != "plain nbgrader")
        print(f"    {student:<30} {row}")


if __name__ == "__main__":
    main()
