"""Check that every correct submission of the corpus gets full marks from today's grading.

    python -m tests.corpus.check_correct                 # every correct submission
    python -m tests.corpus.check_correct NAME ...        # only these (correct or hostile) submissions
    python -m tests.corpus.check_correct --at REV [NAME ...]   # graded by rustsync and source/ of commit REV

Each submission is written to a temporary folder (`build.write`), graded the way
`nbgrader autograde` does it today, without nbgrader: locked cells and test cells are put
back from source/ by grade_id (hidden tests included), a test cell missing from the
submission is added back after the cell before it in source/, the notebook runs in one
kernel in that folder (nbclient, errors allowed), and each test cell is scored by nbgrader's
own rule (`nbgrader.utils.determine_grade`: an error or anything on stderr scores 0).

By default the kernel imports the installed rustsync and the tests come from source/ as
they are; `--at REV` takes both from a commit instead (`git archive`, read only): the
kernel finds that rustsync first (right after its own folder, as it finds the installed
one), so a submission can be graded the way it was at that commit.

Prints one line per submission, then "N passed, M failed". A correct submission passes when
every autograded part gets full marks. A hostile one named on the command line is run only
if its class touches nothing outside its kernel (see SAFE_TO_RUN); it "passes" when today's
marks equal what it deserves, and the line says which parts it wins that it does not deserve.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbgrader.utils import determine_grade

from .build import FULL, ROOT, autograded_tests, grade_id, source_notebook, write
from .correct import CORRECT
from .hostile import HOSTILE

# Hostile classes whose code changes only the kernel it runs in (no files outside the folder,
# no processes, no memory or disk to speak of): these may run here, unsandboxed.
SAFE_TO_RUN = {"patch-grading", "ipython-hooks", "rebind", "odd-eq", "shadow-package"}
CELL_TIMEOUT = 120


class Grading:
    """Where the tests and the kernel's rustsync come from: the working tree, or commit `at`."""

    def __init__(self, at=None):
        self.at = at
        self.folder = None
        self.startup = None
        if at is not None:
            self.folder = tempfile.mkdtemp(prefix=f"corpus-at-{at}-")
            archive = subprocess.run(["git", "archive", at, "rustsync", "source"], cwd=ROOT, check=True,
                                     capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", self.folder], input=archive, check=True)
            self.startup = os.path.join(self.folder, "startup.py")
            with open(self.startup, "w") as f:  # run by the kernel's IPython after it put its folder ('')
                f.write("import sys as _corpus_sys\n"
                        "_corpus_path = _corpus_sys.path\n"
                        "_corpus_at = _corpus_path.index('') + 1 if '' in _corpus_path else 0\n"
                        f"_corpus_path.insert(_corpus_at, {self.folder!r})\n"
                        "del _corpus_sys, _corpus_path, _corpus_at\n")

    def close(self):
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def source(self, assignment):
        if self.folder is None:
            return source_notebook(assignment)
        return nbformat.read(os.path.join(self.folder, "source", assignment, f"{assignment}.ipynb"), as_version=4)

    def kernel_env(self):
        if self.startup is None:
            return None
        return {**os.environ, "PYTHONSTARTUP": self.startup}


def graded_like_today(nb, assignment, grading=None):
    """What nbgrader's OverwriteCells (with add_missing_cells) makes of a submitted notebook."""
    nb = copy.deepcopy(nb)
    source = (grading or Grading()).source(assignment)
    originals = {grade_id(c): c for c in source.cells if grade_id(c)}
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid is None:
            continue
        if gid not in originals:
            del cell.metadata.nbgrader["grade_id"]
            continue
        original = originals[gid]
        if cell.cell_type != original.cell_type:
            cell.cell_type = original.cell_type
        if original.metadata.nbgrader.get("locked"):
            cell.source = original.source  # what the gradebook holds: hidden tests included
            cell.metadata.nbgrader = copy.deepcopy(original.metadata.nbgrader)
    present = {grade_id(c) for c in nb.cells}
    order = [grade_id(c) for c in source.cells]
    for index, cell in enumerate(source.cells):
        gid = grade_id(cell)
        if gid is None or gid in present or not cell.metadata.nbgrader.get("grade"):
            continue
        previous = [g for g in order[:index] if g in present]
        where = 0
        if previous:
            where = 1 + max(i for i, c in enumerate(nb.cells) if grade_id(c) == previous[-1])
        restored = copy.deepcopy(cell)
        if restored.cell_type == "code":
            restored.source = f"# This cell (id:{gid}) was missing from the submission.\n" + restored.source
        nb.cells.insert(where, restored)
        present.add(gid)
    return nb


def run(sub, folder, grading):
    """Grade `sub` like today in `folder`; returns ({test grade_id: score}, {grade_id: points}, error)."""
    notebook = write(sub, folder)
    nb = graded_like_today(nbformat.read(notebook, as_version=4), sub.assignment, grading)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(folder)}})
    error = None
    env = grading.kernel_env()
    try:
        client.execute(**({"env": env} if env else {}))
    except Exception as exc:  # a dead kernel, a timeout: the cells that did not run score like today
        error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    points = autograded_tests(grading.source(sub.assignment))
    got = {}
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid in points:
            ran = cell.get("execution_count") is not None or cell.get("outputs")
            score, _ = determine_grade(cell)
            got[gid] = score if ran else 0
    return got, points, error


def describe(sub, got, points):
    parts = []
    for gid, max_points in points.items():
        score = got.get(gid, 0)
        want = max_points if sub.expect.get(gid) == FULL else 0
        flag = "" if score == want else ("  <- undeserved" if score > want else "  <- lost")
        parts.append(f"{gid}={score:g}/{max_points:g}{flag}")
    return ", ".join(parts)


def check(sub, grading):
    with tempfile.TemporaryDirectory(prefix="corpus-") as tmp:
        folder = Path(tmp) / "student" / sub.assignment
        start = time.perf_counter()
        got, points, error = run(sub, folder, grading)
        seconds = time.perf_counter() - start
    deserved = {gid: (points[gid] if sub.expect[gid] == FULL else 0) for gid in points}
    ok = got == deserved and error is None
    if sub.klass is None:
        ok = ok and all(got[gid] == points[gid] for gid in points)
    undeserved = [gid for gid in points if got.get(gid, 0) > deserved[gid]]
    tail = f"  [{error}]" if error else ""
    if sub.klass is not None:
        tail += f"  beats this grading on {undeserved}" if undeserved else "  this grading holds"
    status = "PASS" if ok else "FAIL"
    print(f"{status} {sub.assignment}/{sub.name} ({seconds:.1f} s): {describe(sub, got, points)}{tail}",
          flush=True)
    return ok


def main(argv):
    at = None
    if argv[:1] == ["--at"]:
        if len(argv) < 2:
            raise SystemExit("--at needs a commit")
        at, argv = argv[1], argv[2:]
    everyone = {s.name: s for s in CORRECT + HOSTILE}
    if argv:
        unknown = [name for name in argv if name not in everyone]
        if unknown:
            raise SystemExit(f"no such submission: {', '.join(unknown)}")
        chosen = [everyone[name] for name in argv]
        unsafe = [s.name for s in chosen if s.klass is not None and s.klass not in SAFE_TO_RUN]
        if unsafe:
            raise SystemExit(f"not run outside a sandbox (class not in {sorted(SAFE_TO_RUN)}): {', '.join(unsafe)}")
    else:
        chosen = CORRECT
    grading = Grading(at)
    if at is not None:
        print(f"graded with rustsync and source/ of {at}")
    try:
        results = [check(sub, grading) for sub in chosen]
    finally:
        grading.close()
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
