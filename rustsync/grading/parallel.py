"""Autograde every collected submission of an assignment with N workers at once.

    python -m rustsync.grading.parallel ASSIGNMENT [-j N] [--student ID ...] [--force]

run from the course's folder (where `nbgrader_config.py` is), grades what `nbgrader
autograde ASSIGNMENT` grades, with the same scores: each worker is a process that runs
nbgrader's own `autograde` command, one submission at a time, with the course's
`nbgrader_config.py` (so the course's sandboxed grader, `rustsync.grading.hooks`,
decides every part, as in a sequential run). `-j` defaults to the cores this process
may use; the workers are forked from this process, so that they start with nbgrader
imported (spawned instead if this process runs other threads). A progress bar (tqdm, on
standard error) shows the count and the time left; the warnings of each submission's
log (a refused cell, an edited locked cell) and each failure are printed above it,
prefixed with the student's id (`-q`: none; `--log FILE`: every submission's whole log).

The gradebook. nbgrader's gradebook is one SQLite file, and SQLite takes one writer at a
time: nbgrader opens it with SQLite's default wait of 5 s, after which a process that
waits for another's write fails with "database is locked". So no worker writes to it.
Before grading, this command records the assignment in the gradebook (the course's
`pre_convert_hook`, as autograde would) and gives each worker its own copy of that
gradebook, in a temporary folder; a worker grades into its copy, then reads back the
rows of the submission it graded (the student, the submitted assignment, its notebooks,
their grades and comments) and sends them to this process, the only writer of the
course's gradebook, which replaces that submission's rows with them in one transaction
as soon as they arrive. A submission's rows depend only on the gradebook's state before
grading and on that submission, so they are the rows a sequential autograde writes; an
interrupted run leaves the gradebook with every submission graded so far, and none
half-written. Grading by hand in formgrader while this runs on the same assignment is
not supported (the merge would replace what was entered for a submission graded
meanwhile).

Failures. A submission that nbgrader fails to grade (its log says why), a worker that
dies, or one that takes longer than `--timeout` seconds is reported, and the others
are graded regardless; the command then exits with status 1, naming them. A course
that cannot grade refuses before anyone is graded, with status 2: no `source/` for the
assignment, a gradebook that cannot record it (`release/` is not what `source/`
generates), a gradebook that is not SQLite, or a grader that cannot start (no working
bwrap, a package the sandbox hides; the check starts the grader's worker once).

Stopping. Ctrl-C (SIGINT), SIGTERM and SIGHUP (a closed terminal) stop the command: the
submissions being graded are dropped (their half-written output removed, nothing of them
merged), the workers are stopped, and the command exits with status 128 + the signal's
number, saying how many were graded. If the command is killed (SIGKILL), each worker dies
with it (the kernel's parent-death signal), and so do the processes grading under it.
Either way the gradebook holds every submission graded before the stop, whole, and
running the command again grades the rest.

Each graded notebook decides its parts on up to `c.TrustedExecute.parallel` processes
(by default the cores, at most 4); with N submissions graded at once that would make
N times as many, so each worker here decides one part at a time (`--parts 1`, the
default; `--parts 0` keeps the course's setting).
"""

from __future__ import annotations

import argparse
import fnmatch
import glob
import multiprocessing
import multiprocessing.connection
import os
import re
import shutil
import signal
import sqlite3
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field

__all__ = ["Outcome", "Refused", "Stopped", "grade", "main"]

EXIT_FAILED = 1
EXIT_REFUSED = 2
DEFAULT_TIMEOUT = 1800


class Refused(RuntimeError):
    """The course cannot grade this assignment; nothing was graded. The message says why."""


class Stopped(BaseException):
    """A signal (SIGTERM, SIGHUP) stopped the command; like KeyboardInterrupt, not an error to catch and go on."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum
        self.graded = 0  # submissions graded and merged before the stop

    def __str__(self):
        return signal.Signals(self.signum).name


STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


@dataclass
class Outcome:
    """What a parallel autograde did."""

    assignment: str
    jobs: int
    graded: list = field(default_factory=list)  # student ids graded now
    skipped: list = field(default_factory=list)  # already graded, and not newer (nbgrader's own rule)
    failed: dict = field(default_factory=dict)  # student id: why
    seconds: float = 0.0

    @property
    def ok(self):
        return not self.failed


def cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


# --- the gradebook's rows of one submission ------------------------------------------------------------


def _tables():
    from nbgrader.api import Comment, Grade, Student, SubmittedAssignment, SubmittedNotebook

    return Student.__table__, SubmittedAssignment.__table__, SubmittedNotebook.__table__, Grade.__table__, \
        Comment.__table__


def _assignment_id(conn, course_id, assignment):
    from nbgrader.api import Assignment
    from sqlalchemy import select

    table = Assignment.__table__
    return conn.execute(select(table.c.id).where(table.c.name == assignment, table.c.course_id == course_id)) \
        .scalar_one_or_none()


def export_submission(db_url, course_id, assignment, student):
    """The gradebook's rows of one submission: {table name: [row as a dict]}; None if it has none."""
    from sqlalchemy import create_engine, select

    students, submissions, notebooks, grades, comments = _tables()
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            assignment_id = _assignment_id(conn, course_id, assignment)
            sub = [dict(r._mapping) for r in conn.execute(select(submissions).where(
                submissions.c.assignment_id == assignment_id, submissions.c.student_id == student))]
            if not sub:
                return None
            nbs = [dict(r._mapping) for r in conn.execute(select(notebooks).where(
                notebooks.c.assignment_id.in_([s["id"] for s in sub])))]
            ids = [n["id"] for n in nbs]
            return {
                "assignment_id": assignment_id,
                students.name: [dict(r._mapping) for r in conn.execute(select(students).where(
                    students.c.id == student))],
                submissions.name: sub,
                notebooks.name: nbs,
                grades.name: [dict(r._mapping) for r in conn.execute(select(grades).where(
                    grades.c.notebook_id.in_(ids)))],
                comments.name: [dict(r._mapping) for r in conn.execute(select(comments).where(
                    comments.c.notebook_id.in_(ids)))],
            }
    finally:
        engine.dispose()


def import_submission(engine, course_id, assignment, student, rows):
    """Replace the submission's rows in the gradebook of `engine` by `rows` (from `export_submission`), at once."""
    from sqlalchemy import delete, select

    students, submissions, notebooks, grades, comments = _tables()
    with engine.begin() as conn:
        assignment_id = _assignment_id(conn, course_id, assignment)
        if assignment_id != rows["assignment_id"]:
            raise RuntimeError(f"the gradebook's record of {assignment} changed while grading; grade again")
        for row in rows[students.name]:
            known = conn.execute(select(students.c.id).where(students.c.id == row["id"])).first()
            if known:
                conn.execute(students.update().where(students.c.id == row["id"]).values(**row))
            else:
                conn.execute(students.insert().values(**row))
        old = [r.id for r in conn.execute(select(submissions.c.id).where(
            submissions.c.assignment_id == assignment_id, submissions.c.student_id == student))]
        old_nbs = [r.id for r in conn.execute(select(notebooks.c.id).where(notebooks.c.assignment_id.in_(old)))]
        conn.execute(delete(comments).where(comments.c.notebook_id.in_(old_nbs)))
        conn.execute(delete(grades).where(grades.c.notebook_id.in_(old_nbs)))
        conn.execute(delete(notebooks).where(notebooks.c.id.in_(old_nbs)))
        conn.execute(delete(submissions).where(submissions.c.id.in_(old)))
        for table in (submissions, notebooks, grades, comments):
            if rows[table.name]:
                conn.execute(table.insert(), rows[table.name])


# --- before grading: the course, the submissions, the grader -----------------------------------------------


@dataclass
class Course:
    root: str
    course_id: str
    db_url: str
    students: list
    trusted: bool  # the course's grader (TrustedExecute) decides the parts
    autograded: dict = field(default_factory=dict)  # student: the folder autograde writes


def _submitted_students(coursedir, assignment):
    pattern = coursedir.format_path(coursedir.submitted_directory, "*", assignment)
    regexp = re.compile(coursedir.format_path(coursedir.submitted_directory, "(?P<student_id>[^/]+)",
                                              re.escape(assignment), escape=True) + "$")
    found = []
    for path in sorted(glob.glob(pattern)):
        match = regexp.match(path)
        if match and os.path.isdir(path):
            found.append(match.group("student_id"))
    return found


def _check_grader(config, log):
    """Raise Refused unless the course's grader can start here: bwrap, the package, the grader's worker.

    Returns whether the course's own grader (`hooks.TrustedExecute`) decides the parts.
    The check starts the grader's worker as autograde does (`rustsync.grading.runner.worker_command`)
    and waits for the line by which it says it is ready.
    """
    import json
    import subprocess

    from .. import sandbox
    from . import hooks
    from .runner import worker_command

    preprocessors = [p for p in (config.Autograde.get("autograde_preprocessors") or []) if isinstance(p, type)]
    trusted = any(issubclass(p, hooks.TrustedExecute) for p in preprocessors)
    if not any(issubclass(p, sandbox.SandboxedExecute) for p in preprocessors):
        return False
    try:
        manager = sandbox.SandboxedKernelManager(config=config)
        if not sandbox.sandbox_enabled():
            log.warning("%s=off: the grader runs student code WITHOUT the sandbox", sandbox.ENV)
        elif not trusted:
            sandbox.check_bwrap(manager.bwrap)
        if not trusted:
            return False
        command = worker_command(config, hide=manager.hide, keep=manager.keep, bwrap=manager.bwrap)
    except sandbox.SandboxError as err:
        raise Refused(f"Not grading: {err}") from None
    try:
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as err:
        raise Refused(f"Not grading: the grader's worker could not start ({err})") from None
    try:
        line = proc.stdout.readline()
        try:
            ready = json.loads(line).get("event") == "ready"
        except (ValueError, AttributeError):
            ready = False
        if not ready:
            proc.kill()
            err = proc.stderr.read().decode(errors="replace").strip().splitlines()[-5:]
            raise Refused("Not grading: the grader's worker did not start: " + (" / ".join(err) or "no answer")
                          + ". Check that `python -c \"import rustsync\"` works for the grading user")
        proc.stdin.write(b'{"op": "exit"}\n')
        proc.stdin.close()
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            stream.close()
    return True


def prepare(assignment, course_dir=".", extra_args=()):
    """Check the course and record the assignment in its gradebook; a `Course`, or raise `Refused`."""
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.apps.autogradeapp import AutogradeApp

    from ..course import folder

    if not os.path.isfile(os.path.join(course_dir, "nbgrader_config.py")):
        found = folder.find_course(course_dir)
        where = (f"from the course's folder: cd {found} && python -m rustsync.grading.parallel {assignment}" if found
                 else "from the course's folder, where nbgrader_config.py and source/ are, or name it: --course-dir "
                 "FOLDER")
        raise Refused(f"Not grading: {os.path.abspath(course_dir)} is not the course's folder (it has no "
                      f"nbgrader_config.py). Run this command {where}")
    wrong = folder.unknown_assignment(course_dir, assignment, "autograde")
    if wrong:
        raise Refused(f"Not grading: {wrong.replace('nbgrader autograde', 'python -m rustsync.grading.parallel')}")
    saved_cwd = os.getcwd()
    os.chdir(course_dir)
    app = AutogradeApp.instance()
    try:
        try:
            app.initialize([assignment, *extra_args])
        except SystemExit as exc:
            raise Refused(f"Not grading: nbgrader could not read the course's settings (exit status {exc.code})") \
                from None
        config, coursedir, log = app.config, app.coursedir, app.log
        if not coursedir.db_url.startswith("sqlite:///"):
            raise Refused(f"Not grading: the gradebook is {coursedir.db_url.split(':')[0]}, and parallel grading "
                          "merges SQLite gradebooks only; grade with `nbgrader autograde`")
        source = coursedir.format_path(coursedir.source_directory, ".", assignment)
        if not glob.glob(os.path.join(source, "*.ipynb")):
            raise Refused(f"Not grading: {source} holds no notebook; grade from the course's folder, where source/ is")
        trusted = _check_grader(config, log)
        hook = config.Autograde.get("pre_convert_hook") or config.BaseConverter.get("pre_convert_hook")
        if callable(hook):
            hook(assignment=assignment, student="*", notebooks=[])
        with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
            try:
                known = gb.find_assignment(assignment).notebooks
            except MissingEntry:
                known = []
            names = [nb.name for nb in known]
        if not names:
            raise Refused(f"Not grading: the gradebook does not know {assignment} (see the messages above; `nbgrader "
                          f"generate_assignment {assignment}` records it)")
        for name in names:
            if not os.path.isfile(os.path.join(source, f"{name}.ipynb")):
                raise Refused(f"Not grading: the instructor's notebook {os.path.join(source, name)}.ipynb is missing")
        students = _submitted_students(coursedir, assignment)
        return Course(root=os.path.abspath(coursedir.root), course_id=coursedir.course_id, db_url=coursedir.db_url,
                      students=students, trusted=trusted,
                      autograded={s: coursedir.format_path(coursedir.autograded_directory, s, assignment)
                                  for s in students})
    finally:
        app.reset()
        os.chdir(saved_cwd)


# --- the workers ---------------------------------------------------------------------------------------------


def _die_with(parent):
    """End this process when `parent` ends, however it ends (SIGKILL included): Linux's parent-death signal.

    The processes grading under a worker end with it in turn (bwrap's --die-with-parent, the
    grader's own parent-death signal).
    """
    import ctypes

    for signum in STOP_SIGNALS:  # the command's handlers, inherited by a forked worker, are the command's only
        signal.signal(signum, signal.SIG_DFL)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # it ended before the signal was asked for
        os._exit(1)


def _worker_main(course, assignment, course_id, db_url, args, output, conn, parent=None):
    """A worker: grade the submissions it is sent, one at a time, into its own gradebook."""
    if parent is not None:
        _die_with(parent)
    from .commands import run_nbgrader

    # the temporary folders of what grades under it (kernels' folders) go in the command's scratch folder,
    # removed with it, even when the worker is killed in the middle
    tmp = os.path.join(os.path.dirname(output), f"t{os.getpid()}")  # short: kernels' sockets live there
    os.makedirs(tmp, exist_ok=True)
    os.environ["TMPDIR"] = tmp
    tempfile.tempdir = None
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)  # kernels' and bwrap's own messages; the progress bar keeps the terminal
    os.dup2(fd, 2)
    os.close(fd)
    while True:
        try:
            student = conn.recv()
        except EOFError:
            return
        if student is None:
            return
        start = time.perf_counter()
        ok = True
        try:
            log = run_nbgrader("autograde", assignment, f"--CourseDirectory.student_id={student}",
                               f"--CourseDirectory.db_url={db_url}", *args, cwd=course)
        except RuntimeError as err:
            ok, log = False, str(err)
        except BaseException:  # noqa: BLE001 - reported, and the worker grades the next one
            ok, log = False, traceback.format_exc()
        try:
            rows = export_submission(db_url, course_id, assignment, student)
        except Exception:  # noqa: BLE001
            rows, ok, log = None, False, log + "\n" + traceback.format_exc()
        conn.send({"student": student, "ok": ok, "log": log, "rows": rows, "seconds": time.perf_counter() - start})


def _entries(log):
    """The entries of an nbgrader log: (level, text), a traceback kept with the line that starts it."""
    entries = []
    for line in log.splitlines():
        match = re.match(r"\[\w+ \| (\w+)\] (.*)", line)
        if match:
            entries.append([match.group(1), match.group(2)])
        elif entries:
            entries[-1][1] += "\n" + line
    return entries


def _why(log):
    """What an nbgrader log says about why a submission failed, in a line."""
    generic = ("There was an error processing assignment", "Please see the", "Removing failed")
    reasons = []
    for level, text in _entries(log):
        if level not in ("ERROR", "CRITICAL") or text.startswith(generic):
            continue
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        reasons.append(lines[-1] if text.startswith("Traceback") else lines[0])
    if not reasons:
        tail = [line.strip() for line in log.splitlines() if line.strip()]
        reasons = tail[-1:] or ["nbgrader failed"]
    return " / ".join(dict.fromkeys(reasons))[:500]


def _journal(path):
    """The students a killed run was grading (first grading), from its journal; [] if it ended as it should."""
    try:
        with open(path) as f:
            return [line.strip() for line in f if line.strip()]
    except OSError:
        return []


def _context():
    """Fork when it is safe (this process runs no other thread): the workers then start with nbgrader imported."""
    import threading

    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


class _Worker:
    def __init__(self, ctx, index, course, assignment, course_id, db_url, args, output):
        self.index = index
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, name=f"autograde-{index}", daemon=True,
                                   args=(course, assignment, course_id, db_url, args, output, child,
                                         os.getpid()))
        self.process.start()
        child.close()
        self.student = None
        self.started = 0.0
        self.fresh = False  # the student's autograded folder did not exist when it was sent here

    def send(self, student, folder=None):
        self.student, self.started = student, time.monotonic()
        self.fresh = bool(folder) and not os.path.exists(folder)
        self.conn.send(student)

    def stop(self, kill=False):
        if kill:
            self.process.kill()
        else:
            try:
                self.conn.send(None)
            except OSError:
                pass
        self.process.join(timeout=None if kill else 60)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def grade(assignment, *, course_dir=".", jobs=None, students=None, force=False, parts=1, timeout=DEFAULT_TIMEOUT,
          extra_args=(), progress=True, quiet=False, log_file=None, stream=None):
    """Autograde the collected submissions of `assignment` with `jobs` workers; an `Outcome`.

    `students`: ids or shell patterns (default: everyone who submitted it); `force`: grade
    again what was graded; `parts`: parts of one notebook decided at once (0: the course's
    setting); `extra_args`: more options for each `nbgrader autograde`. Raises `Refused`,
    having graded no one, when the course cannot grade.
    """
    from sqlalchemy import create_engine
    from tqdm import tqdm

    stream = stream or sys.stderr
    jobs = jobs or cores()
    start = time.perf_counter()
    course = prepare(assignment, course_dir, extra_args)
    chosen = [s for s in course.students if not students or any(fnmatch.fnmatchcase(s, p) for p in students)]
    outcome = Outcome(assignment, jobs)
    if not chosen:
        from ..course.folder import no_submissions

        print(no_submissions(course.root, assignment, students) or f"No submission of {assignment} to grade in "
              f"{course.root}", file=stream)
        outcome.jobs, outcome.seconds = 0, time.perf_counter() - start
        return outcome
    args = list(extra_args) + (["--force"] if force else [])
    if course.trusted and parts:
        args.append(f"--TrustedExecute.parallel={int(parts)}")
    jobs = outcome.jobs = max(1, min(jobs, len(chosen)))
    main_db = course.db_url[len("sqlite:///"):]
    engine = create_engine(course.db_url)
    scratch = tempfile.mkdtemp(prefix="rustsync-autograde-")
    ctx = _context()
    pending = list(chosen)
    workers = {}
    logs = open(log_file, "a") if log_file else None  # noqa: SIM115 - closed below

    def note(text):
        if not quiet:
            tqdm.write(text, file=stream)

    def start_worker(index):
        db = os.path.join(scratch, f"gradebook-{index}.db")
        if not os.path.exists(db):
            with sqlite3.connect(main_db) as src, sqlite3.connect(db) as dst:
                src.backup(dst)
        sys.stdout.flush()
        sys.stderr.flush()
        workers[index] = _Worker(ctx, index, course.root, assignment, course.course_id, f"sqlite:///{db}", args,
                                 os.path.join(scratch, f"worker-{index}.out"))
        return workers[index]

    journal = os.path.join(course.root, f".rustsync-grading-{assignment}")

    def write_journal():
        busy = sorted(w.student for w in workers.values() if w.student is not None and w.fresh)
        with open(journal + ".new", "w") as f:
            f.write("".join(f"{student}\n" for student in busy))
        os.replace(journal + ".new", journal)

    def next_task(worker):
        if pending:
            student = pending.pop(0)
            worker.send(student, course.autograded.get(student))
            write_journal()
        else:
            worker.student = None

    def stop(signum, frame):
        raise Stopped(signum)

    handlers = {}
    if threading.current_thread() is threading.main_thread():
        for signum in STOP_SIGNALS:
            handlers[signum] = signal.signal(signum, stop)

    if os.geteuid() == 0 and not quiet:
        from ..course.folder import ROOT_WARNING

        print(f"WARNING: {ROOT_WARNING.format(root=course.root)}", file=stream)
    # a run that was killed (SIGKILL) left the output of the submissions it was grading: nbgrader would skip them
    for student in _journal(journal):
        if course.autograded.get(student) and os.path.isdir(course.autograded[student]):
            note(f"[{student}] graded again: the run that was grading it was killed")
            shutil.rmtree(course.autograded[student], ignore_errors=True)
    tqdm.monitor_interval = 0  # no monitor thread: a worker started later is still forked from one thread
    bar = tqdm(total=len(chosen), unit="submission", desc=assignment, file=stream, disable=not progress,
               dynamic_ncols=True)
    try:
        for index in range(jobs):
            next_task(start_worker(index))
        while any(w.student is not None for w in workers.values()):
            busy = [w for w in workers.values() if w.student is not None]
            ready = multiprocessing.connection.wait([w.conn for w in busy] + [w.process.sentinel for w in busy],
                                                    timeout=5)
            now = time.monotonic()
            for worker in busy:
                message, why = None, None
                if worker.conn in ready:
                    try:
                        message = worker.conn.recv()
                    except (EOFError, OSError):
                        why = f"its grading process stopped (exit status {worker.process.exitcode})"
                elif worker.process.sentinel in ready:
                    worker.process.join(timeout=5)
                    why = f"its grading process stopped (exit status {worker.process.exitcode})"
                elif timeout and now - worker.started > timeout:
                    why = f"it took longer than {timeout} s; its grading process was stopped"
                else:
                    continue
                student = worker.student
                if message is not None:
                    if logs:
                        logs.write(f"===== {student} ({message['seconds']:.1f} s)\n{message['log']}\n")
                        logs.flush()
                    for level, text in _entries(message["log"]):
                        if level == "WARNING" and not text.startswith("You are grading as root"):  # said once
                            note(f"[{student}] {text}")
                    if message["rows"] is not None and "Skipping existing assignment" not in message["log"]:
                        try:
                            import_submission(engine, course.course_id, assignment, student, message["rows"])
                        except Exception as err:  # noqa: BLE001 - reported with the others
                            message["ok"] = False
                            message["log"] += f"\n[parallel | ERROR] merging into the gradebook failed: {err}"
                    if not message["ok"]:
                        why = _why(message["log"])
                    elif "Skipping existing assignment" in message["log"]:
                        outcome.skipped.append(student)
                    else:
                        outcome.graded.append(student)
                    if why is None:
                        next_task(worker)
                if why is not None:
                    outcome.failed[student] = why
                    note(f"[{student}] FAILED: {why}")
                    if message is None:  # the worker is gone or stuck: a fresh one takes its place
                        worker.stop(kill=True)
                        # what it wrote is removed, as nbgrader removes the output of a submission that failed
                        if course.autograded.get(student):
                            shutil.rmtree(course.autograded[student], ignore_errors=True)
                        next_task(start_worker(worker.index))
                    else:
                        next_task(worker)
                bar.update(1)
                if outcome.failed:
                    bar.set_postfix(failed=len(outcome.failed))
    except (KeyboardInterrupt, Stopped) as stopped:
        for signum in handlers:  # a second signal must not cut the clean-up short
            signal.signal(signum, signal.SIG_IGN)
        # what the submissions being graded wrote is dropped: nothing of them reached the gradebook
        for worker in workers.values():
            if worker.student is not None:
                worker.stop(kill=True)
                if worker.fresh:
                    shutil.rmtree(course.autograded[worker.student], ignore_errors=True)
                worker.student = None
        if isinstance(stopped, Stopped):
            stopped.graded = len(outcome.graded)
        raise
    finally:
        try:
            bar.close()
        except OSError:  # the terminal is gone (SIGHUP)
            pass
        for worker in workers.values():
            worker.stop(kill=worker.student is not None)
        engine.dispose()
        if logs:
            logs.close()
        shutil.rmtree(scratch, ignore_errors=True)
        if not any(w.student is not None and w.fresh for w in workers.values()):
            for name in (journal, journal + ".new"):
                if os.path.exists(name):
                    os.unlink(name)
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    outcome.seconds = time.perf_counter() - start
    return outcome


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m rustsync.grading.parallel",
        description="Autograde every collected submission of an assignment with N workers, as `nbgrader autograde` "
                    "would one after another. Run it from the course's folder. Options it does not know go to each "
                    "`nbgrader autograde` (say, --Exchange.root=...).")
    parser.add_argument("assignment")
    parser.add_argument("-j", "--jobs", type=int, default=None, help=f"submissions graded at once (default: the "
                                                                     f"cores, here {cores()})")
    parser.add_argument("--student", action="append", metavar="ID", help="only this student (a shell pattern; "
                                                                          "repeat for more)")
    parser.add_argument("--force", action="store_true", help="grade again the submissions already graded")
    parser.add_argument("--parts", type=int, default=1, help="parts of one notebook decided at once "
                                                             "(c.TrustedExecute.parallel; 0: the course's setting)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds one submission may take "
                                                                                f"(default {DEFAULT_TIMEOUT})")
    parser.add_argument("--course-dir", default=".", help="the course's folder (default: this one)")
    parser.add_argument("--log", metavar="FILE", help="append each submission's whole nbgrader log to FILE")
    parser.add_argument("-q", "--quiet", action="store_true", help="no warnings above the progress bar")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args, extra = parser.parse_known_args(argv)
    try:
        outcome = grade(args.assignment, course_dir=args.course_dir, jobs=args.jobs, students=args.student,
                        force=args.force, parts=args.parts, timeout=args.timeout, extra_args=extra,
                        progress=not args.no_progress, quiet=args.quiet, log_file=args.log)
    except Refused as err:
        print(f"{err}. Nobody was graded.", file=sys.stderr)
        return EXIT_REFUSED
    except Stopped as stopped:
        try:
            print(f"\n{args.assignment}: stopped by {stopped} after {stopped.graded} graded; they are in the "
                  "gradebook. Run the same command again to grade the rest.", file=sys.stderr)
        except OSError:  # no terminal left to say it on
            pass
        return 128 + stopped.signum
    except KeyboardInterrupt:
        print(f"\n{args.assignment}: stopped by SIGINT; what was graded is in the gradebook. Run the same command "
              "again to grade the rest.", file=sys.stderr)
        return 128 + signal.SIGINT
    done = len(outcome.graded) + len(outcome.skipped)
    print(f"{args.assignment}: {len(outcome.graded)} graded, {len(outcome.skipped)} already graded (skipped), "
          f"{len(outcome.failed)} failed, of {done + len(outcome.failed)} submissions, in {outcome.seconds:.1f} s "
          f"with {outcome.jobs} worker(s)", file=sys.stderr)
    for student, why in sorted(outcome.failed.items()):
        print(f"  failed: {student}: {why}", file=sys.stderr)
    return 0 if outcome.ok else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
