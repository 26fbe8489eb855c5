"""nbgrader's process: one job per graded part, run by the sandboxed worker, decided here.

`program(submission, instructor)` lines up the cells a part runs: the submission's
code cells in their order, where every cell the instructor locked (the helpers, the
setup, the tests) is replaced by the instructor's own text from `source/` (a locked
cell the student deleted or unlocked is put back where it belongs), and every other
cell is the student's, with IPython's magics turned into Python. `Runner` sends one
job per test cell to the worker (`worker.py`, which runs the instructor's cells in a
grader process and the student's in a process of their own, `grader.py`) and decides
each part here, from the plain facts the grader's checks recorded (`checks.decide`).

A part whose worker hangs or crashes in one of the student's cells before the test is
run again without that cell (at most `RETRIES` times), so a hostile cell costs the
parts that need it and nothing else.
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import subprocess
import threading
import zlib
from dataclasses import dataclass, field

from .. import limits, sandbox
from . import advice
from .checks import decide
from .checks.deadline import _undefined

RETRIES = 3

# a part's limits: the table is rustsync/limits.py (PART); a course changes them with c.TrustedExecute.limits
DEFAULT_LIMITS = limits.PART

WORKER_MODULE = ["-m", "rustsync.grading.worker"]  # how Python starts the grader's worker (worker.py)

__all__ = ["Cell", "Part", "Runner", "program", "seed_of", "stop_all", "worker_command"]


def worker_command(config=None, *, hide=(), keep=(), bwrap="bwrap", sandboxed=None):
    """The command that starts the grader's worker (worker.py) in the sandbox, under `limits.WORKER`.

    `config` names the course's folders to hide; with the sandbox off (RUSTSYNC_SANDBOX=off),
    the same worker without bwrap (see `rustsync.sandbox.python_command`).
    """
    return sandbox.python_command(WORKER_MODULE, config, limits=limits.WORKER, hide=hide, keep=keep, bwrap=bwrap,
                                  sandboxed=sandboxed)


def seed_of(student):
    """The number a student's drawn test inputs come from: fixed for a student id, other for others."""
    return zlib.crc32(str(student).encode())


@dataclass
class Cell:
    """One cell of a part's program."""

    kind: str  # "locked", "student" or "test"
    code: str
    name: str  # `Cell In[7]`: the execution count the kernel gives it
    grade_id: str | None = None
    defines: list = field(default_factory=list)
    index: int | None = None  # its index in the graded notebook

    def job(self):
        return {"kind": self.kind, "code": self.code, "name": self.name, "defines": self.defines}


@dataclass
class Part:
    """The grader's decision on one test cell."""

    grade_id: str
    passed: bool
    message: str
    status: str = ""
    tries: int = 1
    skipped: list = field(default_factory=list)  # cells left out after they hung or crashed the worker


def _meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def _names(code):
    import ast

    try:
        return sorted(advice.defined_names(ast.parse(advice.without_magics(code)[0])))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []


def python_of(source):
    """A cell's source as plain Python: IPython's magics become the calls IPython makes for them."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - a cell IPython cannot read either: the grader's run says why
        return source


def program(submission, instructor):
    """The cells every part runs, in order, and {grade_id of a test cell: its index}.

    `submission` is the notebook being graded (after nbgrader put back its locked cells),
    `instructor` the instructor's version from source/. Returns (cells, tests, notes),
    where `notes` maps the index of a student cell in `submission` to advice on it
    (`advice.advise`; none with RUSTSYNC_GATE=off). Notes decide nothing.
    """
    advise = advice.enabled()
    theirs = {}
    for index, cell in enumerate(instructor.cells):
        grade_id = _meta(cell).get("grade_id")
        if grade_id and cell.cell_type == "code":
            theirs[grade_id] = (index, cell)
    locked_names = set()
    for cell in instructor.cells:
        meta = _meta(cell)
        if cell.cell_type == "code" and meta.get("grade_id") and not meta.get("solution") and not meta.get("grade"):
            locked_names.update(_names(cell.source))

    def instructor_cell(grade_id):
        _, cell = theirs[grade_id]
        meta = _meta(cell)
        kind = "test" if meta.get("grade") else "locked"
        return Cell(kind, cell.source, "", grade_id, _names(cell.source) if kind == "locked" else [])

    cells, notes, seen = [], {}, set()
    for index, cell in enumerate(submission.cells):
        if cell.cell_type != "code":
            continue
        grade_id = _meta(cell).get("grade_id")
        known = theirs.get(grade_id)
        if known is not None and grade_id not in seen and not _meta(known[1]).get("solution"):
            # a locked cell or a test: the instructor's text, whatever the submission holds
            # (missing locked cells that came before it in the instructor's order come first)
            for earlier_id, (position, earlier) in theirs.items():
                if position < known[0] and earlier_id not in seen and not _meta(earlier).get("solution"):
                    seen.add(earlier_id)
                    cells.append(instructor_cell(earlier_id))
            seen.add(grade_id)
            new = instructor_cell(grade_id)
            new.index = index
            cells.append(new)
            continue
        if known is not None:
            seen.add(grade_id)
        if advise:
            said = advice.advise(cell.source, locked_names)
            if said:
                notes[index] = said
        cells.append(Cell("student", python_of(cell.source), "", grade_id, _names(cell.source), index=index))
    for grade_id, (_, cell) in theirs.items():  # locked cells and tests the submission lost
        if grade_id not in seen and not _meta(cell).get("solution"):
            cells.append(instructor_cell(grade_id))
    for count, cell in enumerate(cells, 1):
        cell.name = f"Cell In[{count}]"
    tests = {cell.grade_id: i for i, cell in enumerate(cells) if cell.kind == "test"}
    return cells, tests, notes


class WorkerError(RuntimeError):
    """The worker could not be started or stopped talking; the message says why."""


class _Zygote:
    """One running worker process: its pipes, and the text it wrote to stderr."""

    def __init__(self, command, env):
        try:
            self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, env=env, close_fds=True)
        except OSError as err:
            raise WorkerError(f"the grader's worker could not start ({err}): {' '.join(command[:3])} ...") \
                from None
        line = self.proc.stdout.readline()
        try:
            hello = json.loads(line)
        except ValueError:
            hello = {}
        if hello.get("event") != "ready":
            self.proc.kill()
            err = self.proc.stderr.read().decode(errors="replace").strip().splitlines()[-5:]
            raise WorkerError("the grader's worker did not start: " + (" / ".join(err) or line.decode()[:200]))
        self.stderr = []
        threading.Thread(target=lambda: self.stderr.append(self.proc.stderr.read()), daemon=True).start()

    def alive(self):
        return self.proc.poll() is None

    def send(self, message):
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        self.proc.stdin.flush()

    def receive(self):
        line = self.proc.stdout.readline()
        if not line:
            raise WorkerError("the grader's worker stopped: " + b"".join(self.stderr).decode(errors="replace")[-500:])
        return json.loads(line)

    def close(self):
        try:
            self.send({"op": "exit"})
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


_zygotes = {}  # (command, env) -> a zygote kept for the next notebook graded by this process
_zygote_lock = threading.Lock()
_jobs = itertools.count()


def _zygote(command, env):
    """A running zygote for this command: the one started for an earlier notebook, or a new one.

    The zygote never runs student code (each job runs in a child it forks), so one zygote
    serves every notebook an autograde run grades, and its start-up is paid once.
    """
    key = (tuple(command), tuple(sorted((env or {}).items())))
    with _zygote_lock:
        zygote = _zygotes.get(key)
        if zygote is not None and zygote.alive():
            return zygote
        while len(_zygotes) >= 4:  # an old course's sandbox, from tests that grade many courses
            _zygotes.pop(next(iter(_zygotes))).close()
        zygote = _zygotes[key] = _Zygote(command, env)
        return zygote


def _discard(zygote):
    with _zygote_lock:
        for key, value in list(_zygotes.items()):
            if value is zygote:
                del _zygotes[key]
    zygote.close()


def stop_all():
    """End every worker (and the parts they run): a notebook ran past its bound."""
    with _zygote_lock:
        zygotes = list(_zygotes.values())
        _zygotes.clear()
    for zygote in zygotes:
        zygote.proc.kill()


@atexit.register
def _close_all():
    for zygote in list(_zygotes.values()):
        zygote.close()
    _zygotes.clear()


class Runner:
    """Runs jobs in a worker process (a zygote that forks a child per job) and decides them."""

    def __init__(self, command, *, limits=None, parallel=None, env=None, log=None):
        self.command = list(command)
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        self.parallel = parallel or max(1, min(4, os.cpu_count() or 1))
        self.env = env
        self.log = log

    def run(self, cells, tests, seed=0):
        """{grade_id: Part} for every test of `tests` ({grade_id: index of its cell in `cells`}).

        `seed`: a number fixed for the student, from which `checks.drawn` draws test inputs.
        """
        zygote = _zygote(self.command, self.env)
        skip = set()
        pending = list(tests.items())
        running, tries, parts, ids = {}, {}, {}, {}
        try:
            while pending or running:
                while pending and len(running) < self.parallel:
                    grade_id, index = pending.pop(0)
                    tries[grade_id] = tries.get(grade_id, 0) + 1
                    job_id = f"{next(_jobs)}:{grade_id}"
                    ids[job_id] = grade_id
                    zygote.send({"op": "run", "id": job_id, "test": index, "limits": self.limits, "seed": seed,
                                 "cells": [c.job() for c in cells], "skip": sorted(skip)})
                    running[grade_id] = index
                message = zygote.receive()
                grade_id = ids.get(message.get("id"))
                if grade_id not in running:
                    continue
                if message["event"] == "result":
                    del running[grade_id]
                    parts[grade_id] = self._decide(grade_id, message, tries[grade_id], skip, cells)
                elif message["event"] == "died":
                    del running[grade_id]
                    last = message.get("last")
                    what = "ran past its time" if message.get("killed") else (
                        f"crashed the process (signal {message['signal']})" if message.get("signal")
                        else f"ended the process (exit status {message.get('code')})")
                    if last is not None and last != tests[grade_id] and cells[last].kind == "student" \
                            and tries[grade_id] < RETRIES:
                        skip.add(last)
                        pending.insert(0, (grade_id, tests[grade_id]))
                        if self.log:
                            self.log.warning("%s %s; grading %s again without it", cells[last].name, what, grade_id)
                        continue
                    where = "this test" if last == tests[grade_id] or last is None else cells[last].name
                    parts[grade_id] = Part(grade_id, False, f"the grader stopped: {where} {what}", "died",
                                           tries[grade_id], sorted(cells[i].name for i in skip))
        except BaseException:
            _discard(zygote)  # its children may still run: start the next notebook afresh
            raise
        return parts

    def _decide(self, grade_id, message, tries, skip, cells):
        skipped = sorted(cells[i].name for i in skip)
        records = message.get("records") or []
        for record in records:
            ok, text = decide(record.get("kind"), record.get("facts"))
            if not ok:
                return Part(grade_id, False, text, message.get("status", ""), tries, skipped)
        status = message.get("status")
        if status == "done" and records:
            return Part(grade_id, True, "", status, tries, skipped)
        if status == "done":
            return Part(grade_id, False, "the test made no check", status, tries, skipped)
        text = str(message.get("message") or "the test did not finish")
        if text.startswith("NameError: name '"):
            text = _undefined(text.split("'")[1])
        return Part(grade_id, False, text, status or "error", tries, skipped)
