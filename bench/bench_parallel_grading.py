"""Parallel autograding against nbgrader's sequential autograde, in one run, on the same 40 submissions.

Two copies of the course hold the same submissions of `a03_sharing_a_mutex`: the sample
submissions of tests/submissions/ that grade in their own time (correct, racy, tampered,
a deleted test cell, a cell that raises at import, one that prints to stderr, one that
snoops), the two correct variants of tests/corpus/correct.py and the unsolved release,
repeated to make 40 students (`-n`). The samples that wait on a deadline (deadlocks,
endless loops, a kernel that ignores Ctrl-C) are left out: their waits would flatter
the parallel run. Both copies have recorded the assignment (`nbgrader
generate_assignment`) before the clock starts. Then, each as the instructor types it:

    nbgrader autograde a03_sharing_a_mutex                        (sequential)
    python -m rustsync.grading.parallel a03_sharing_a_mutex -j N  (parallel; N: the cores)

and the scores of both gradebooks are compared, every part of every submission (auto
score, manual score, whether it waits for a human). Run from the repository's root:

    python bench/bench_parallel_grading.py [-n 40] [-j N] [--parts 1] [--parallel-first]

It prints both times and the seconds per notebook, the ratio, and whether the scores are
identical; with each command's CPU time and peak memory, everything it started included (a
control group of its own, when this runs as root), and the load average before and after
(the machine may be shared: the cores the parallel run got on average say how much of it
it had).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rustsync.grading import run_nbgrader  # noqa: E402 - after the path is set
from rustsync.grading.parallel import cores  # noqa: E402
from tests.corpus.build import build_from_release  # noqa: E402
from tests.corpus.correct import CORRECT  # noqa: E402

A03 = "a03_sharing_a_mutex"
COURSE = "rust-shared-state"
SAMPLES = ["correct", "racy", "tampered", "deleted_cell", "raises_at_import", "prints_to_stderr", "snoops"]


def notebooks():
    """[(kind, notebook)] of the kinds of submission, in the order students get them."""
    kinds = [(name, nbformat.read(ROOT / "tests" / "submissions" / A03 / f"{name}.ipynb", as_version=4))
             for name in SAMPLES]
    kinds += [(sub.name, build_from_release(sub)) for sub in CORRECT if sub.assignment == A03]
    kinds.append(("unsolved", nbformat.read(ROOT / "release" / A03 / f"{A03}.ipynb", as_version=4)))
    return kinds


def setup(course, count, env):
    course.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.SandboxedKernelManager.hide = [{str(ROOT)!r}]\n")
    shutil.copytree(ROOT / "source", course / "source")
    run_nbgrader("generate_assignment", A03, "--force", cwd=course, env=env)
    kinds = notebooks()
    for i in range(count):
        kind, nb = kinds[i % len(kinds)]
        folder = course / "submitted" / f"s{i:03d}-{kind}" / A03
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{A03}.ipynb")


def scores(course):
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE) as gb:
        for submission in gb.assignment_submissions(A03):
            out[submission.student_id] = {(nb.name, g.name): (g.auto_score, g.manual_score, g.needs_manual_grade)
                                          for nb in submission.notebooks for g in nb.grades}
    return out


class Accounting:
    """A control group of its own for one command: the CPU time and the peak memory of all it starts.

    cgroup v1 (cpuacct and memory hierarchies) or v2; None for both figures where neither can be
    made (not root, or no such hierarchy).
    """

    V1 = Path("/sys/fs/cgroup")
    V2 = Path("/sys/fs/cgroup/unified") if Path("/sys/fs/cgroup/unified/cgroup.procs").exists() else \
        Path("/sys/fs/cgroup")

    def __init__(self, name):
        self.folders = []
        if (self.V1 / "cpuacct" / "tasks").exists() and (self.V1 / "memory" / "tasks").exists():
            self.kind = "v1"
            candidates = [self.V1 / "cpuacct" / name, self.V1 / "memory" / name]
        elif (self.V2 / "cgroup.controllers").exists():
            self.kind = "v2"
            candidates = [self.V2 / name]
        else:
            self.kind, candidates = None, []
        try:
            for folder in candidates:
                folder.mkdir()
                self.folders.append(folder)
        except OSError:
            self.kind = None

    def join(self):
        """In the child, before it runs the command."""
        for folder in self.folders:
            (folder / ("tasks" if self.kind == "v1" else "cgroup.procs")).write_text(str(os.getpid()))

    def figures(self):
        """(CPU seconds, peak memory in bytes), or (None, None)."""
        try:
            if self.kind == "v1":
                return (int((self.folders[0] / "cpuacct.usage").read_text()) / 1e9,
                        int((self.folders[1] / "memory.max_usage_in_bytes").read_text()))
            if self.kind == "v2":
                usage = dict(line.split() for line in (self.folders[0] / "cpu.stat").read_text().splitlines())
                peak = self.folders[0] / "memory.peak"
                return int(usage["usage_usec"]) / 1e6, int(peak.read_text()) if peak.exists() else None
        except (OSError, ValueError, KeyError, IndexError):
            pass
        return None, None

    def remove(self):
        for folder in self.folders:
            try:
                folder.rmdir()
            except OSError:
                pass


def timed(command, course, env, log):
    """(wall-clock seconds, CPU seconds and peak memory of everything the command ran, exit status)."""
    accounting = Accounting(f"bench-parallel-{os.getpid()}-{time.monotonic_ns()}")
    try:
        start = time.perf_counter()
        with open(log, "w") as out:
            done = subprocess.run(command, cwd=course, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  preexec_fn=accounting.join if accounting.kind else None)
        wall = time.perf_counter() - start
        cpu, memory = accounting.figures()
    finally:
        accounting.remove()
    return wall, cpu, memory, done.returncode


def load():
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=40, help="submissions (default 40)")
    parser.add_argument("-j", "--jobs", type=int, default=cores(), help="parallel workers (default: the cores)")
    parser.add_argument("--parts", type=int, default=1, help="--parts of the parallel command (default 1)")
    parser.add_argument("--parallel-first", action="store_true", help="grade in parallel first")
    parser.add_argument("--keep", metavar="DIR", help="keep both courses and their logs in DIR")
    args = parser.parse_args()
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-parallel-"))
    tmp.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HOME": str(tmp), "JUPYTER_CONFIG_DIR": str(tmp / ".jupyter"),
           "NBGRADER_EXCHANGE": str(tmp / "exchange")}
    try:
        courses = {"sequential": tmp / "sequential", "parallel": tmp / "parallel"}
        with open(tmp / "setup.log", "w") as log:  # generate_assignment's own messages
            saved = os.dup(2)
            os.dup2(log.fileno(), 2)
            try:
                for course in courses.values():
                    setup(course, args.n, env)
            finally:
                os.dup2(saved, 2)
                os.close(saved)
        commands = {
            "sequential": ["nbgrader", "autograde", A03],
            "parallel": [sys.executable, "-m", "rustsync.grading.parallel", A03, "-j", str(args.jobs),
                         "--parts", str(args.parts), "--no-progress"],
        }
        order = ["parallel", "sequential"] if args.parallel_first else ["sequential", "parallel"]
        seconds, cpu, memory, codes, loads = {}, {}, {}, {}, {}
        for name in order:
            before = load()
            seconds[name], cpu[name], memory[name], codes[name] = timed(commands[name], courses[name], env,
                                                                        tmp / f"{name}.log")
            loads[name] = f"{before} -> {load()}"
        got = {name: scores(course) for name, course in courses.items()}
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    parts = sum(len(v) for v in got["sequential"].values())
    print(f"autograde of {args.n} submissions of {A03} ({cores()} cores; load average 1/5/15 min before -> after)")
    for name in order:
        label = "sequential (nbgrader autograde)" if name == "sequential" else \
            f"parallel (-j {args.jobs}, --parts {args.parts})"
        used = "" if cpu[name] is None else (f"; CPU {cpu[name]:.0f} s ({cpu[name] / args.n:.2f} s per notebook, "
                                             f"{cpu[name] / seconds[name]:.2f} cores on average)")
        peak = "" if memory[name] is None else f", peak memory {memory[name] / 2**20:.0f} MiB"
        print(f"  {label:<34} {seconds[name]:6.1f} s, {seconds[name] / args.n:5.2f} s per notebook{used}{peak}; "
              f"exit status {codes[name]}; load {loads[name]}")
    print(f"  ratio sequential / parallel: {seconds['sequential'] / seconds['parallel']:.2f}x")
    same = got["sequential"] == got["parallel"] and len(got["sequential"]) == args.n
    print(f"  scores identical: {'yes' if same else 'NO'} ({len(got['sequential'])} and {len(got['parallel'])} "
          f"submissions in the gradebooks, {parts} parts)")
    if not same:
        for student in sorted(set(got["sequential"]) | set(got["parallel"])):
            if got["sequential"].get(student) != got["parallel"].get(student):
                print(f"    {student}: {got['sequential'].get(student)} != {got['parallel'].get(student)}")
    return 0 if same and not any(codes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
