"""The grader's worker: runs one part of a submission in a fresh process and reports plain facts.

`python -I -m rustsync.grading.worker` starts a zygote: it imports the course's package
and the checks, then waits for jobs on standard input (one JSON object a line). For
each job it forks a child, so every part starts from a process in which no student
code has run and the checks were loaded first. The child runs the notebook's cells in
order (the instructor's locked cells and tests as the grader sent them, the student's
cells as the gate let them through), then the part's test cell with `checks.RECORDS`
collecting the facts of every check, and writes them back; the grader decides from
those facts. The zygote relays what its children write, one JSON object a line on
standard output, and kills a child that runs past its time.

Each child has limits (address space, CPU time, file size, open files), its standard
streams closed, no way back to the zygote's pipes, and a namespace whose builtins have
no `open`, `eval`, `exec`, `getattr`, `globals`, `type`, and an `__import__` that only
imports the course's package and a few harmless modules. The zygote itself runs inside
the sandbox (rustsync/sandbox.py) with a cleared environment and no network.
"""

from __future__ import annotations

import io
import json
import os
import resource
import select
import signal
import sys
import time

# loaded before any student code can run, in the zygote
import rustsync  # noqa: F401
import rustsync.sched  # noqa: F401
from rustsync.grading import checks, gate

PROTOCOL = 1
ALLOWED_IMPORTS = ("rustsync", "math", "itertools", "functools", "collections", "time", "sys")


class CellStopped(BaseException):
    """A cell ran past its time in the grader's worker."""


def _alarm(signum, frame):
    raise CellStopped("the cell ran past its time")


def _snapshot():
    """What the course's modules and classes hold, to put back whatever a student's cell changed."""
    state = {}
    for name, module in list(sys.modules.items()):
        if name == "rustsync" or name.startswith("rustsync."):
            state[module] = dict(vars(module))
            for value in list(vars(module).values()):
                if isinstance(value, type) and getattr(value, "__module__", "").startswith("rustsync"):
                    state.setdefault(value, dict(vars(value)))
    return state


def _restore(state):
    """Put back every attribute of the snapshot a cell changed; True when something was changed."""
    changed = False
    for owner, saved in state.items():
        current = vars(owner)
        for key in set(current) | set(saved):
            if key.startswith("_"):
                continue  # private state changes as the package runs; the gate keeps students off it
            if current.get(key, _MISSING) is not saved.get(key, _MISSING):
                changed = True
                if key in saved:
                    setattr(owner, key, saved[key])
                else:
                    try:
                        delattr(owner, key)
                    except (AttributeError, TypeError):
                        pass
    return changed


_MISSING = object()


def _restricted_import(name, globals=None, locals=None, fromlist=(), level=0):
    if level != 0 or not any(name == m or name.startswith(m + ".") for m in ALLOWED_IMPORTS):
        raise ImportError(f"the grader does not import {name!r}")
    if name == "sys" and (not fromlist or not set(fromlist) <= {"stderr", "stdout"}):
        raise ImportError("the grader imports only `stderr` and `stdout` from sys")
    return __import__(name, globals, locals, fromlist, level)


def _namespace():
    names = gate.builtins_for_students()
    names["__import__"] = _restricted_import
    names["__build_class__"] = __builtins__["__build_class__"] if isinstance(__builtins__, dict) \
        else __builtins__.__build_class__
    return {"__name__": "__main__", "__builtins__": names}


class _Sink(io.TextIOBase):
    """sys.stdout/sys.stderr of a child: counts what student code prints, and keeps none of it."""

    def __init__(self):
        super().__init__()
        self.size = 0

    def write(self, text):
        self.size += len(text)
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False


def _limits(job):
    limits = job.get("limits", {})
    pairs = {
        resource.RLIMIT_AS: limits.get("memory", 2 * 2**30),
        resource.RLIMIT_CPU: limits.get("cpu_seconds", 120),
        resource.RLIMIT_FSIZE: limits.get("file_size", 16 * 2**20),
        resource.RLIMIT_NOFILE: limits.get("open_files", 256),
        resource.RLIMIT_CORE: 0,
    }
    if os.getuid() != 0 and "processes" in limits:
        pairs[resource.RLIMIT_NPROC] = limits["processes"]
    for which, value in pairs.items():
        try:
            soft, hard = resource.getrlimit(which)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (value, value if which != resource.RLIMIT_CPU else value + 5))
        except (ValueError, OSError):
            pass


def _send(fd, message):
    data = (json.dumps(message) + "\n").encode()
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _first_line(exc):
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def _child(job, out):
    """Run the job's cells; write `cell` events and one `result` to `out`; never return."""
    try:
        os.setsid()
    except OSError:
        pass
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.closerange(3, out)
    os.closerange(out + 1, 1024)
    sys.stdout = sys.stderr = _Sink()
    sys.stdin = None
    _limits(job)
    signal.signal(signal.SIGALRM, _alarm)
    cell_seconds = float(job.get("limits", {}).get("cell_seconds", 10))
    test_seconds = float(job.get("limits", {}).get("test_seconds", 120))
    import linecache

    ns = _namespace()
    pristine = _snapshot()
    locked = {}
    cells, target = job["cells"], job["test"]
    errors = {}
    result = {"event": "result", "status": "error", "message": "the test cell did not run", "records": []}
    for index, cell in enumerate(cells[: target + 1]):
        kind = cell["kind"]
        if kind == "test" and index != target:
            continue
        if kind == "refused" or index in job.get("skip", ()):
            reason = cell.get("reason") or "the grader stopped it in an earlier try (it hung or crashed)"
            for name in cell.get("defines", ()):
                if name not in locked:
                    ns[name] = checks.Refused(name, cell["name"], reason)
            continue
        _send(out, {"event": "cell", "index": index})
        filename = cell["name"]
        if kind != "test":  # tracebacks and diagnostics may show these lines; never the test's
            lines = cell["code"].splitlines(True)
            linecache.cache[filename] = (len(cell["code"]), None, lines, filename)
        try:
            code = compile(cell["code"], filename if kind != "test" else "<test>", "exec")
        except (SyntaxError, ValueError) as exc:
            errors[index] = _first_line(exc)
            continue
        if kind == "test":
            checks.RECORDS = []
        signal.setitimer(signal.ITIMER_REAL, test_seconds if kind == "test" else cell_seconds)
        try:
            exec(code, ns)
            if kind == "test":
                result = {"event": "result", "status": "done", "message": "", "records": checks.RECORDS}
        except CellStopped:
            signal.setitimer(signal.ITIMER_REAL, 0)
            errors[index] = f"{filename} ran for more than {cell_seconds if kind != 'test' else test_seconds:g} s"
            if kind == "test":
                result = {"event": "result", "status": "timeout", "records": checks.RECORDS,
                          "message": f"the grader stopped this test after {test_seconds:g} s"}
        except AssertionError as exc:
            errors[index] = _first_line(exc)
            if kind == "test":
                result = {"event": "result", "status": "failed", "message": str(exc)[:4000],
                          "records": checks.RECORDS}
        except BaseException as exc:  # noqa: BLE001 - a student's error costs its cell only
            errors[index] = _first_line(exc)
            if kind == "test":
                result = {"event": "result", "status": "error", "message": _first_line(exc),
                          "records": checks.RECORDS}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if kind == "locked":
            for name in cell.get("defines", ()):
                if name in ns:
                    locked[name] = ns[name]
        elif kind == "student":
            for name, value in locked.items():  # a student cell cannot replace what a locked cell defined
                if ns.get(name) is not value:
                    ns[name] = value
            if _restore(pristine):
                errors[index] = f"{filename} changed the course's package; the grader undid it"
                pristine = _snapshot()
    result["errors"] = {str(k): v for k, v in errors.items()}
    try:
        _send(out, json.loads(json.dumps(result, default=repr)))
    except (TypeError, ValueError) as exc:
        _send(out, {"event": "result", "status": "error", "message": f"the facts could not be sent: {exc}",
                    "records": [], "errors": {}})
    os._exit(0)


def serve(stdin=None, stdout=None):
    """The zygote's loop: fork a child per job, relay its messages, kill it past its deadline."""
    stdin = stdin if stdin is not None else sys.stdin.buffer
    out = stdout if stdout is not None else sys.stdout.buffer
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)

    def emit(message):
        out.write((json.dumps(message) + "\n").encode())
        out.flush()

    emit({"event": "ready", "protocol": PROTOCOL, "pid": os.getpid()})
    children = {}  # read fd -> {"pid", "id", "deadline", "buffer", "last"}
    inbuf = b""
    stdin_fd = stdin.fileno()
    open_input = True
    while open_input or children:
        now = time.monotonic()
        timeout = min([c["deadline"] for c in children.values()], default=now + 1) - now
        fds = [stdin_fd] if open_input else []
        ready, _, _ = select.select(fds + list(children), [], [], max(0.0, min(timeout, 1.0)))
        for fd in ready:
            if fd == stdin_fd:
                chunk = os.read(stdin_fd, 65536)
                if not chunk:
                    open_input = False
                    continue
                inbuf += chunk
                while b"\n" in inbuf:
                    line, inbuf = inbuf.split(b"\n", 1)
                    job = json.loads(line)
                    if job.get("op") == "exit":
                        open_input = False
                        break
                    read_fd, write_fd = os.pipe()
                    pid = os.fork()
                    if pid == 0:
                        os.close(read_fd)
                        try:
                            _child(job, write_fd)
                        finally:
                            os._exit(3)
                    os.close(write_fd)
                    seconds = float(job.get("limits", {}).get("part_seconds", 180))
                    children[read_fd] = {"pid": pid, "id": job["id"], "deadline": time.monotonic() + seconds,
                                         "buffer": b"", "last": None, "result": False, "killed": False}
                continue
            child = children[fd]
            chunk = os.read(fd, 65536)
            if chunk:
                child["buffer"] += chunk
                while b"\n" in child["buffer"]:
                    line, child["buffer"] = child["buffer"].split(b"\n", 1)
                    message = json.loads(line)
                    if message.get("event") == "cell":
                        child["last"] = message["index"]
                    if message.get("event") == "result":
                        child["result"] = True
                    message["id"] = child["id"]
                    emit(message)
                continue
            os.close(fd)
            del children[fd]
            _, status = os.waitpid(child["pid"], 0)
            if not child["result"]:
                emit({"id": child["id"], "event": "died", "last": child["last"], "killed": child["killed"],
                      "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                      "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None})
        now = time.monotonic()
        for child in children.values():
            if now >= child["deadline"] and not child["killed"]:
                child["killed"] = True
                for kill in (lambda: os.killpg(child["pid"], signal.SIGKILL),
                             lambda: os.kill(child["pid"], signal.SIGKILL)):
                    try:
                        kill()
                    except OSError:
                        pass
    emit({"event": "bye"})


if __name__ == "__main__":
    serve()
