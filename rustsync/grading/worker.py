"""The grader's worker: a zygote that forks one grader process per part, in the sandbox.

`python -I -m rustsync.grading.worker` starts the zygote: it imports the course's
package, the scheduler and the grader, then waits for jobs on standard input (one JSON
object a line). For each job it forks a child that runs `grader.run_part`: the child
starts the student's process first (`student.py`, in namespaces of its own), then runs
the instructor's cells itself and the student's cells there, and writes the part's
facts back. The zygote relays what its children write, one JSON object a line on
standard output, and kills a child (and with it the student's process) that runs past
its time. No student code ever runs in the zygote or in a grader child.

The zygote itself runs inside the sandbox (rustsync/sandbox.py) with a cleared
environment and no network.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time

# loaded before any job, in the zygote
import greenlet  # noqa: F401

import rustsync  # noqa: F401
import rustsync.sched  # noqa: F401
from rustsync.grading import checks, grader, student  # noqa: F401
from rustsync.limits import PART

PROTOCOL = 2


def _send(fd, message):
    data = (json.dumps(message) + "\n").encode()
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _child(job, out):
    """Run one part in this fresh process; write `cell` events and one `result` to `out`; never return."""
    try:
        os.setsid()
    except OSError:
        pass
    libc = grader._libc()
    if libc is not None:  # a part ends with the worker that started it
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.closerange(3, out)
    os.closerange(out + 1, 1024)

    def send(message):
        try:
            _send(out, json.loads(json.dumps(message, default=repr)))
        except (TypeError, ValueError) as exc:
            _send(out, {"event": "result", "status": "error", "message": f"the facts could not be sent: {exc}",
                        "records": [], "errors": {}})

    try:
        grader.run_part(job, send)
    except BaseException as exc:  # noqa: BLE001 - the part fails, and says why
        send({"event": "result", "status": "error", "records": [], "errors": {},
              "message": f"the grader could not run this part: {type(exc).__name__}: {str(exc)[:300]}"})
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
                    seconds = float(job.get("limits", {}).get("part_seconds", PART["part_seconds"]))
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
                    if message.get("event") in ("result", "died"):
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
