"""The grader's worker, the zygote (rustsync/grading/worker.py), with a stand-in for the part it runs.

The worker is started as a process of its own, without the sandbox, with `grader.run_part`
replaced by a stand-in that behaves as a job asks (reports cells, hangs, crashes, raises,
sends facts JSON cannot carry). What is checked is the zygote's own contract: it says it is
ready, relays each child's messages tagged with the job's id, kills a child past its
`part_seconds` and says so, reports a child that died without a result, turns a part that
raised into a failed result, and says bye once its input ends and its children are done.
Whole parts run by the real grader are tests/test_runner.py's.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

from rustsync.grading import worker

STAND_IN = """
import os, sys, time
from rustsync.grading import worker

def run_part(job, send):
    how = job["how"]
    for index in job.get("cells", []):
        send({"event": "cell", "index": index})
    if how == "result":
        send({"event": "result", "status": "done", "records": [{"kind": "equal", "value": job["cells"]}]})
    elif how == "hang":
        time.sleep(600)
    elif how == "crash":
        os._exit(7)
    elif how == "raise":
        raise ValueError("boom " * 100)
    elif how == "circular":
        facts = {}
        facts["self"] = facts
        send({"event": "result", "status": "done", "records": [facts]})
    elif how == "object":
        send({"event": "result", "status": "done", "records": [object()]})

worker.grader.run_part = run_part
worker.serve()
"""


class Zygote:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", STAND_IN], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))
        self.lines.put(None)

    def send(self, **job):
        self.proc.stdin.write((json.dumps(job) + "\n").encode())
        self.proc.stdin.flush()

    def next(self, seconds=20):
        return self.lines.get(timeout=seconds)

    def until_end(self, job_ids, seconds=30):
        """Every message up to a result or a death of each of `job_ids`, by job id."""
        got = {job_id: [] for job_id in job_ids}
        ended = set()
        deadline = time.monotonic() + seconds
        while ended != set(job_ids):
            message = self.next(max(0.1, deadline - time.monotonic()))
            assert message is not None, f"the worker ended first: {got}"
            got[message["id"]].append(message)
            if message["event"] in ("result", "died"):
                ended.add(message["id"])
        return got

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()


@pytest.fixture
def zygote():
    z = Zygote()
    assert z.next() == {"event": "ready", "protocol": worker.PROTOCOL, "pid": z.proc.pid}
    yield z
    z.close()


def test_it_says_ready_first_and_bye_when_its_input_ends(zygote):
    zygote.proc.stdin.close()
    assert zygote.next() == {"event": "bye"}
    assert zygote.next() is None and zygote.proc.wait(10) == 0


def test_each_childs_messages_are_relayed_in_order_with_its_jobs_id(zygote):
    zygote.send(id="a", how="result", cells=[0, 1, 2])
    zygote.send(id="b", how="result", cells=[5])
    got = zygote.until_end(["a", "b"])
    assert got["a"] == [{"event": "cell", "index": i, "id": "a"} for i in (0, 1, 2)] + [
        {"event": "result", "status": "done", "records": [{"kind": "equal", "value": [0, 1, 2]}], "id": "a"}]
    assert [m["event"] for m in got["b"]] == ["cell", "result"] and got["b"][0]["index"] == 5


def test_a_child_past_its_time_is_killed_and_the_last_cell_it_began_is_named(zygote):
    zygote.send(id="slow", how="hang", cells=[0, 3], limits={"part_seconds": 0.5})
    zygote.send(id="quick", how="result", cells=[0])
    got = zygote.until_end(["slow", "quick"])
    assert got["slow"][-1] == {"event": "died", "id": "slow", "last": 3, "killed": True, "signal": signal.SIGKILL,
                               "code": None}
    assert got["quick"][-1]["event"] == "result"  # the other part is not disturbed


def test_a_child_that_dies_without_a_result_is_reported_with_how_it_ended(zygote):
    zygote.send(id="x", how="crash", cells=[0])
    assert zygote.until_end(["x"])["x"][-1] == {"event": "died", "id": "x", "last": 0, "killed": False,
                                                "signal": None, "code": 7}


def test_a_part_that_raises_is_a_result_with_the_reason_cut_short(zygote):
    zygote.send(id="r", how="raise")
    [result] = zygote.until_end(["r"])["r"]
    assert result["status"] == "error" and result["records"] == [] and result["errors"] == {}
    assert result["message"].startswith("the grader could not run this part: ValueError: boom boom")
    assert len(result["message"]) == len("the grader could not run this part: ValueError: ") + 300


def test_facts_json_cannot_carry_fail_the_part_and_other_objects_are_sent_as_their_repr(zygote):
    zygote.send(id="c", how="circular")
    zygote.send(id="o", how="object")
    got = zygote.until_end(["c", "o"])
    assert got["c"][-1]["status"] == "error"
    assert got["c"][-1]["message"].startswith("the facts could not be sent: Circular reference")
    assert got["o"][-1]["status"] == "done" and got["o"][-1]["records"][0].startswith("<object object at ")


def test_after_exit_it_reads_no_more_jobs_and_says_bye_once_its_children_end(zygote):
    zygote.send(id="last", how="hang", cells=[1], limits={"part_seconds": 0.5})
    zygote.proc.stdin.write(b'{"op": "exit"}\n{"id": "ignored", "how": "result"}\n')
    zygote.proc.stdin.flush()
    seen = []
    while (message := zygote.next()) is not None:
        seen.append((message.get("id"), message["event"]))
    assert seen == [("last", "cell"), ("last", "died"), (None, "bye")]
    assert zygote.proc.wait(10) == 0
