"""A class at once: N students through one JupyterHub (deploy/hub/) at the same deadline, measured.

With N accounts made for it (removed afterwards, also on failure or Ctrl-C) and the course's
deploy/hub/ settings on 127.0.0.1 (tests/hub_harness.py, which the hub's test shares), every
student at once, each in a thread of their own, as their browser would:

  logs in; starts their server; fetches a03 through their server's nbgrader API (as the
  Assignment List does); writes a submission (a mix of correct, wrong and hostile ones:
  tests/submissions/, tests/corpus/); submits it; all within the same minute.

Then the instructor collects through the course's formgrader and grades three copies of the
course, as the grading account: `python -m rustsync.grading.parallel a03 -j 1`, `-j 2`, and
sequential `nbgrader autograde a03`; the scores of the three gradebooks must be identical.
Feedback is generated and released, and every student fetches theirs. Run as root:

    python bench/bench_class.py [--students 50] [--faults] [--no-grading] [--keep-log FILE]

It prints: the time to the last server started and to the last submission accepted; the
failed and retried requests, by kind; the submissions collected against those sent; the
grading times and whether the scores agree; the hub's and each server's memory; and the peak
of each resource (CPU, memory, processes, file descriptors) against its limit, the one
nearest to its limit first, with the machine's load average, since the machine may be shared.

--faults: while the class works, one student's server is killed in the middle of their
submit (their folder holds a data file too, so the copy takes a while; killed as the copy
appears in the exchange: the course's submit assembles it under a hidden name,
rustsync/grading/exchange.py), and the hub is restarted (SIGTERM, then started again
on the same state) while every other student is between fetch and submit: each is held
after fetching and saving until the restart has begun, then submits, a third of them each
time: as the hub is sent SIGTERM (it then stops every server), once it has exited (nothing
answers), and once it answers again (their server is gone). A student whose request failed
is told so (the error their Assignment List shows) and does what it says: waits until the
hub answers again, starts their server again and submits again. It prints what each fault
did, for each student held through the restart what they saw and whether what was
collected is what they saved, and whether every submission in the exchange that collect
could take is whole.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from tornado.httpclient import HTTPClientError

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from bench_parallel_grading import notebooks as sample_notebooks  # noqa: E402
from hub_harness import A03, COURSE, Hub, listening, missing, wait_for  # noqa: E402

from tests.corpus import hostile  # noqa: E402
from tests.corpus.build import build_from_release  # noqa: E402

HOSTILE = ["a03-patch-check-functions", "a03-input-transformer", "a03-redefine-who-goes-first",
           "a03-always-equal-int-str", "a03-shadow-package-sys-modules", "a03-symlink-notebook-to-gradebook"]
# what a student runs after submitting, as lesson 05's first cells do: the package, Listing 16-15's counter
# (Arc and Mutex, ten threads) and a plot
WORK = ("import matplotlib\nmatplotlib.use('agg')\nimport matplotlib.pyplot as plt\nimport rustsync\n"
        "from rustsync import Arc, Mutex, spawn\ncounter = Arc(Mutex(0))\n"
        "def work(c):\n    with c.lock() as guard:\n        guard.value += 1\n"
        "handles = [spawn(lambda c=Arc.clone(counter): work(c)) for _ in range(10)]\n"
        "[h.join() for h in handles]\nassert counter.lock().value == 10, counter\n"
        "plt.plot(range(10)); plt.savefig('/dev/null', format='png')\n")
ATTEMPTS = 8  # a student tries a step this many times before giving up


def kinds():
    """[(kind, notebook)]: the samples and corpus variants the parallel-grading bench uses, and hostile ones."""
    found = {sub.name: sub for name in dir(hostile) for sub in (getattr(hostile, name)
                                                               if isinstance(getattr(hostile, name), list) else [])
             if getattr(sub, "assignment", None) == A03}
    return sample_notebooks() + [(name, build_from_release(found[name])) for name in HOSTILE if name in found]


# --- what the machine has and uses ---------------------------------------------------------------------------


def processes():
    """{pid: (uid, resident memory in bytes)} of every process."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                status = dict(line.split(":", 1) for line in f if ":" in line)
            uid = int(status["Uid"].split()[0])
            rss = int(status.get("VmRSS", "0 kB").split()[0]) * 1024
        except (OSError, KeyError, ValueError):
            continue
        found[int(entry)] = (uid, rss)
    return found


def open_files(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def fd_limit(pid):
    try:
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
            if line.startswith("Max open files"):
                return int(line.split()[3])
    except (OSError, ValueError, IndexError):
        pass
    return None


def cpu_times():
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields), fields[3] + fields[4]  # total, idle + iowait


def meminfo():
    return {k: int(v.split()[0]) * 1024 for k, v in
            (line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())}


class Monitor:
    """Samples the machine every second: CPU busy, memory used, processes, the hub's descriptors."""

    def __init__(self, hub):
        self.hub = hub
        self.peak = collections.defaultdict(float)
        self.samples = 0
        self.busy_seconds = 0  # seconds with every core busy
        self.loads = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name="monitor", daemon=True)

    def run(self):
        last = cpu_times()
        while not self._stop.wait(1):
            now = cpu_times()
            total, idle = now[0] - last[0], now[1] - last[1]
            last = now
            busy = 1 - idle / total if total else 0
            mem = meminfo()
            procs = len([e for e in os.listdir("/proc") if e.isdigit()])
            hub_pid = self.hub.proc.pid if self.hub.proc is not None and self.hub.proc.poll() is None else None
            fds = open_files(hub_pid) if hub_pid else 0
            self.peak["cpu"] = max(self.peak["cpu"], busy)
            self.peak["memory"] = max(self.peak["memory"], mem["MemTotal"] - mem["MemAvailable"])
            self.peak["processes"] = max(self.peak["processes"], procs)
            self.peak["hub fds"] = max(self.peak["hub fds"], fds)
            self.busy_seconds += busy > 0.95
            self.samples += 1
            self.loads.append(os.getloadavg()[0])

    def stop(self):
        self._stop.set()
        self.thread.join()


# --- one student -------------------------------------------------------------------------------------------


class Throttled(RuntimeError):
    """The hub said to try again later (HTTP 429, concurrent_spawn_limit or active_server_limit)."""

    def __init__(self, seconds, text):
        super().__init__(f"HTTP 429, try again in {seconds:.0f} s: {text}")
        self.seconds = seconds


class Tally:
    """Requests that failed, and were tried again, by kind; thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.failed = collections.Counter()
        self.why = collections.defaultdict(collections.Counter)

    def add(self, kind, why):
        with self.lock:
            self.failed[kind] += 1
            self.why[kind][why[:80]] += 1


def answer(response):
    """nbgrader's server API answer: its value, or raise with what the Assignment List would show."""
    if response.status_code != 200:
        raise RuntimeError(f"HTTP {response.status_code}")
    body = response.json()
    if not body.get("success"):  # nbgrader's traceback, whose last line says what went wrong
        lines = str(body.get("value") or body.get("error") or "").strip().splitlines() or [""]
        raise RuntimeError(f"nbgrader: {lines[-1][:300]}")
    return body["value"]


class Student:
    def __init__(self, hub, name, kind, notebook, tally):
        self.hub, self.name, self.kind, self.notebook, self.tally = hub, name, kind, notebook, tally
        self.base = f"/user/{name}"
        self.times = {}
        self.told = []  # what went wrong, as the student saw it
        self.work_too = True
        self.servers_restarted = 0  # times they started their server again after it was gone
        self.gave_up = False
        self.finished = False

    def step(self, kind, action):
        """Do `action` until it works, up to ATTEMPTS times; a failure is counted and the server checked."""
        attempt, waited = 0, 0.0
        while True:
            try:
                return action()
            except Throttled as err:  # as the spawn page says: wait, then try again; it is no failure
                self.tally.add(f"{kind} (asked to wait)", str(err).split(":")[0])
                if waited > 300:
                    raise RuntimeError(f"{self.name}: {kind} refused for {waited:.0f} s: {err}") from None
                time.sleep(err.seconds)
                waited += err.seconds
                continue
            except (requests.RequestException, RuntimeError, AssertionError, ValueError, OSError,
                    HTTPClientError) as err:  # OSError: TimeoutError too
                attempt += 1
                why = f"{type(err).__name__}: {err}"
                if isinstance(err, requests.ConnectionError):  # urllib3's long story: nothing answered
                    why = f"{type(err).__name__}: nothing answered at the hub's address"
                self.tally.add(kind, why.split("\n")[0])
                self.told.append((kind, why.split("\n")[0][:160]))
                if attempt == ATTEMPTS:
                    self.gave_up = True
                    raise RuntimeError(f"{self.name}: {kind} failed {ATTEMPTS} times: {why[:500]}") from None
                time.sleep(min(2 ** (attempt - 1), 20))
                if kind not in ("log in", "start server"):
                    self.ensure_server()

    def ensure_server(self):
        """What a student does when their page says the server is gone: reload until the hub answers (it may be
        restarting), then start their server again (and wait)."""
        t = time.monotonic()

        def hub_answers():
            done = self.hub.api(self.name, "GET", f"/hub/api/users/{self.name}", timeout=30)
            return done if done.status_code == 200 else None

        try:
            model = wait_for("the hub", hub_answers, 600, interval=2).json()
        except (AssertionError, ValueError):
            return
        if time.monotonic() - t > 5:
            self.told.append(("hub", f"the hub did not answer for {time.monotonic() - t:.0f} s"))
        server = model.get("servers", {}).get("")
        if server is None and not model.get("pending"):
            self.tally.add("server restarted by its student", "gone")
            self.servers_restarted += 1
            self.step("start server", self.start)

    def start(self):
        done = self.hub.api(self.name, "POST", f"/hub/api/users/{self.name}/server", timeout=120)
        if done.status_code == 429:
            raise Throttled(float(done.headers.get("Retry-After", 30)), done.text[:120])
        if done.status_code not in (201, 202, 400):  # 400: it is already running or starting
            raise RuntimeError(f"HTTP {done.status_code} {done.text[:120]}")
        self.hub.wait_server(self.name, timeout=300)

    def fetch(self):
        path = f"{self.base}/api/contents/{COURSE}/{A03}/{A03}.ipynb"
        if self.hub.api(self.name, "GET", path, params={"content": "0"}, timeout=60).status_code == 200:
            return  # fetched before a failure: the Assignment List shows it as fetched
        answer(self.hub.api(self.name, "POST", f"{self.base}/assignments/fetch",
                            data={"course_id": COURSE, "assignment_id": A03}, timeout=120))

    def write(self):
        path = f"{self.base}/api/contents/{COURSE}/{A03}/{A03}.ipynb"
        done = self.hub.api(self.name, "PUT", path, json={"type": "notebook", "format": "json",
                                                          "content": self.notebook}, timeout=120)
        if done.status_code != 200:
            raise RuntimeError(f"HTTP {done.status_code}")

    def submit(self):
        value = answer(self.hub.api(self.name, "POST", f"{self.base}/assignments/submit",
                                    data={"course_id": COURSE, "assignment_id": A03}, timeout=120))
        if not any(a["assignment_id"] == A03 and a["status"] == "submitted" for a in value):
            raise RuntimeError("the Assignment List does not show it submitted")

    def work(self, t0, before_submit=None):
        self.t0 = t0
        try:
            self.step("log in", lambda: self.hub.login(self.name, timeout=120))
            self.times["logged in"] = time.monotonic() - t0
            self.step("start server", self.start)
            self.times["server ready"] = time.monotonic() - t0
            self.step("fetch", self.fetch)
            self.step("save", self.write)
            if before_submit:
                before_submit(self)
            self.step("submit", self.submit)
            self.times["submitted"] = time.monotonic() - t0
            self.told_at_submit, self.restarts_at_submit = len(self.told), self.servers_restarted
            if self.work_too:
                self.step("run a lesson's cell", self.run_code)
                self.times["worked"] = time.monotonic() - t0
        finally:
            self.finished = True

    def run_code(self, code=WORK):
        """Start a kernel in their server and run `code` in it, as a lesson's first cell does; the kernel stays."""
        made = self.hub.api(self.name, "POST", f"{self.base}/api/kernels", json={"name": "python3"}, timeout=120)
        if made.status_code != 201:
            raise RuntimeError(f"HTTP {made.status_code}")
        kernel = made.json()["id"]
        url = f"ws://127.0.0.1:{self.hub.port}{self.base}/api/kernels/{kernel}/channels"
        token = self.hub.tokens[self.name]

        async def talk():
            from tornado.httpclient import HTTPRequest
            from tornado.websocket import websocket_connect

            ws = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {token}"},
                                                     connect_timeout=120, request_timeout=120))
            session = uuid.uuid4().hex

            def send(kind, content):
                msg_id = uuid.uuid4().hex
                ws.write_message(json.dumps({
                    "header": {"msg_id": msg_id, "msg_type": kind, "username": self.name, "session": session,
                               "version": "5.3", "date": ""},
                    "parent_header": {}, "metadata": {}, "channel": "shell", "content": content}))
                return msg_id

            async def reply_to(msg_id, kind, seconds):
                while True:
                    message = await asyncio.wait_for(ws.read_message(), seconds)
                    if message is None:
                        raise RuntimeError("the kernel's websocket closed")
                    reply = json.loads(message)
                    if reply.get("parent_header", {}).get("msg_id") == msg_id and reply["header"]["msg_type"] == kind:
                        return reply

            try:
                # as JupyterLab does: ask until the kernel answers, then run the cell
                for _ in range(30):
                    try:
                        await reply_to(send("kernel_info_request", {}), "kernel_info_reply", 10)
                        break
                    except TimeoutError:
                        continue
                else:
                    raise RuntimeError("the kernel did not answer in 300 s")
                reply = await reply_to(send("execute_request", {
                    "code": code, "silent": False, "store_history": True, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True}), "execute_reply", 300)
                if reply["content"]["status"] != "ok":
                    raise RuntimeError(f"the cell failed: {reply['content'].get('evalue')}")
            finally:
                ws.close()

        asyncio.run(talk())

    def feedback(self):
        answer(self.hub.api(self.name, "POST", f"{self.base}/assignments/fetch_feedback",
                            data={"course_id": COURSE, "assignment_id": A03}, timeout=120))
        folder = self.hub.api(self.name, "GET", f"{self.base}/api/contents/{COURSE}/{A03}/feedback").json()
        for stamp in folder.get("content") or []:
            inside = self.hub.api(self.name, "GET", f"{self.base}/api/contents/{stamp['path']}").json()
            if any(item["name"].endswith(".html") for item in inside.get("content") or []):
                return True
        raise RuntimeError("no feedback page")


# --- faults ----------------------------------------------------------------------------------------------------


def server_pids(hub, name):
    uid = pwd.getpwnam(name).pw_uid
    return [pid for pid, (owner, _) in processes().items() if owner == uid]


def whole(folder):
    """Whether a submission's folder in the exchange holds everything a submit writes, its notebook complete."""
    try:
        json.loads((folder / f"{A03}.ipynb").read_text())
    except (OSError, ValueError):
        return False
    return all((folder / name).is_file() for name in ("timestamp.txt", "submission_secret.txt"))


def inbound_folders(hub, name=None):
    """(the folders collect may take, the hidden ones it never reads) in the exchange's inbound/ (of `name`)."""
    inbound = hub.exchange / COURSE / "inbound"
    found = sorted(inbound.iterdir()) if inbound.is_dir() else []
    if name is not None:
        found = [p for p in found if p.name.lstrip(".").startswith(name + "+")]
    return [p for p in found if not p.name.startswith(".")], [p for p in found if p.name.startswith(".")]


DATA_MIB = 20  # the data file in the folder of the student whose server is killed mid-submit
# waits for a copy of STUDENT's in INBOUND (nbgrader's name or the hidden one), then SIGKILLs PIDS; prints the time
KILLER = """
import os, signal, sys, time
inbound, name, pids = sys.argv[1], sys.argv[2], [int(p) for p in sys.argv[3:]]
prefixes = (name + "+", "." + name + "+")
print("ready", flush=True)
t = time.monotonic()
while time.monotonic() - t < 30 and not any(n.startswith(prefixes) for n in os.listdir(inbound)):
    pass
for pid in pids:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
print(f"{time.monotonic() - t:.3f}")
"""
PHASES = ("the hub was sent SIGTERM", "the hub had exited", "the hub answered again")


class Faults:
    """Kill one student's server in the middle of their submit; restart the hub while the others are between
    fetch and submit (each held after saving until the restart has begun)."""

    def __init__(self, hub, victim):
        self.hub, self.victim = hub, victim
        self.report = []
        self.lock = threading.Lock()
        self.held = []  # the students held after saving, who submit once the restart has begun
        # when the held students submit, in turns: as the hub is sent SIGTERM (it is stopping their servers),
        # once it has exited (nothing answers), and once it answers again (their servers are gone)
        self.phases = {phase: threading.Event() for phase in PHASES}
        self.restart_at = None  # time.monotonic() when the hub was sent SIGTERM

    def before_submit(self, student):
        if student.name == self.victim:
            self.kill_mid_submit(student)
        else:
            self.hold(student)

    def hold(self, student):
        """Fetched and saved: wait, page open, until the hub's restart has begun (until their turn in it); then
        submit as usual."""
        with self.lock:
            student.phase = PHASES[len(self.held) % len(PHASES)]
            self.held.append(student)
        self.phases[student.phase].wait(timeout=1200)
        student.told_before_restart = len(student.told)

    def kill_mid_submit(self, student):
        # the submit request leaves; its server is killed as soon as its copy appears in the exchange (under
        # the hidden name the course's submit copies to, or nbgrader's own name), by a process of its own at a
        # high priority, so that neither this process's threads nor the load delay the kill past the copy
        inbound = str(self.hub.exchange / COURSE / "inbound")
        # their folder also holds a data file (a trace they recorded), so that the copy takes long enough to be cut
        account = pwd.getpwnam(student.name)
        data = Path(account.pw_dir) / COURSE / A03 / "trace.bin"
        data.write_bytes(os.urandom(DATA_MIB * 2**20))
        os.chown(data, account.pw_uid, account.pw_gid)
        pids = server_pids(self.hub, student.name)  # found before: scanning /proc takes longer than a small copy
        killer = subprocess.Popen(["nice", "-n", "-15", sys.executable, "-c", KILLER, inbound, student.name,
                                   *map(str, pids)], stdout=subprocess.PIPE, text=True)
        assert killer.stdout.readline().strip() == "ready", "the killer did not start"
        try:
            student.submit()
            told = f"{student.name}'s submit still answered: it had finished"
        except (requests.RequestException, RuntimeError) as err:
            told = f"{student.name} was told: {type(err).__name__}: {str(err)[:160]}"
        out, _ = killer.communicate(timeout=60)
        self.report.append(f"killed {student.name}'s server ({len(pids)} processes) {out.strip()} s into their "
                           f"submit (the notebook and a {DATA_MIB} MiB data file), as its copy appeared in the "
                           "exchange")
        self.report.append(told)
        seen, hidden = inbound_folders(self.hub, student.name)
        self.report.append(f"{student.name}'s copies in the exchange after the kill: {len(seen)} that collect may "
                           f"take ({sum(map(whole, seen))} whole), {len(hidden)} hidden (a copy cut short, never "
                           f"collected: {sum(not whole(h) for h in hidden)} incomplete); they submit again")

    def restart_hub(self, students, timeout=900):
        """Once every other student has fetched and saved (or given up), restart the hub and let them submit."""
        others = [s for s in students if s.name != self.victim]
        t0 = time.monotonic()
        try:
            while time.monotonic() - t0 < timeout:
                with self.lock:
                    if len(self.held) + sum(s.finished for s in others if s not in self.held) >= len(others):
                        break
                time.sleep(0.2)
            submitted = sum("submitted" in s.times for s in others)
            self.report.append(f"the hub's restart began {time.monotonic() - t0:.0f} s into the class, with "
                               f"{len(self.held)} students between fetch and submit ({submitted} of the others had "
                               "submitted)")
            self.restart_at = time.monotonic()
            self.hub.proc.send_signal(signal.SIGTERM)  # as Hub.stop_hub, but the held students go on meanwhile
            self.phases[PHASES[0]].set()
            self.hub.proc.wait(timeout=300)
            stopped = time.monotonic() - self.restart_at
            self.phases[PHASES[1]].set()
            deadline = time.monotonic() + 30
            while listening(self.hub.ports) and time.monotonic() < deadline:
                time.sleep(0.5)
            self.hub.start(timeout=300)
            self.report.append(f"the hub stopped after {stopped:.1f} s (it stops every server first) and answered "
                               f"again {time.monotonic() - self.restart_at:.1f} s after its restart began")
        finally:
            for event in self.phases.values():
                event.set()

    def held_report(self, collected_as_saved):
        """For each student held through the restart: what they saw, and whether their work was collected as saved."""
        lines = []
        counts = collections.Counter()
        for student in sorted(self.held, key=lambda s: s.name):
            seen = student.told[getattr(student, "told_before_restart", 0):getattr(student, "told_at_submit", None)]
            later = len(student.told) - getattr(student, "told_at_submit", len(student.told))
            after = student.times.get("submitted")
            when = (f"submitted {after - (self.restart_at - student.t0):.1f} s after the restart began"
                    if after is not None and self.restart_at else "never submitted")
            if not seen:
                saw = "no error"
            else:
                kinds = collections.Counter(f"{kind}: {why[:90]}" for kind, why in seen)
                saw = "; ".join(f"{n} x {what}" if n > 1 else what for what, n in kinds.items())
            restarts = getattr(student, "restarts_at_submit", student.servers_restarted)
            restarted = f", started their server again {restarts} x" if restarts else ""
            same = collected_as_saved.get(student.name)
            fate = ("collected, identical to what they saved" if same else
                    "NOT collected as saved" + (" (they gave up, told so)" if student.gave_up else ""))
            afterwards = f" (afterwards {later} errors running a lesson's cell, as their server stopped)" \
                if later else ""
            lines.append(f"{student.name} ({student.kind}), held until {student.phase}: saw {saw}{restarted}; "
                         f"{when}; {fate}{afterwards}")
            counts["held"] += 1
            counts["saw an error"] += bool(seen)
            counts["collected as saved"] += bool(same)
            counts["lost silently"] += (not same) and not seen and not student.gave_up
        return counts, lines


# --- grading --------------------------------------------------------------------------------------------------


def as_grader(hub, command, cwd, timeout=7200):
    started = time.monotonic()
    done = subprocess.run(["runuser", "-u", hub.grader, "--", "bash", "-lc", f"cd {cwd} && {command}"],
                          capture_output=True, text=True, timeout=timeout)
    return time.monotonic() - started, done


def scores(db):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{db}", COURSE) as gb:
        return {s.student_id: {(nb.name, g.name): (g.auto_score, g.manual_score, g.needs_manual_grade)
                               for nb in s.notebooks for g in nb.grades} for s in gb.assignment_submissions(A03)}


def grade_three_ways(hub):
    """Grade the collected course with the parallel grader (-j 2, in place: its feedback is handed back) and
    copies of it with -j 1 and with nbgrader autograde, each as the grading account."""
    results = {}
    commands = {f"parallel -j {j}": f"python -m rustsync.grading.parallel {A03} -j {j} --no-progress -q"
                for j in (2, 1)}
    commands["nbgrader autograde"] = f"nbgrader autograde {A03}"
    copies = {}
    try:
        for name in commands:  # every copy made before any grading: each grades the same collected course
            copies[name] = hub.course
            if name != "parallel -j 2":
                copies[name] = hub.course.parent / f"{COURSE}-{name.replace(' ', '').replace('-', '')}"
                subprocess.run(["cp", "-a", str(hub.course), str(copies[name])], check=True)
        for name, command in commands.items():
            copy = copies[name]
            load = os.getloadavg()[0]
            seconds, done = as_grader(hub, command, copy)
            graded = len(list(copy.glob(f"autograded/*/{A03}/{A03}.ipynb")))
            results[name] = {"seconds": seconds, "status": done.returncode, "load": load, "graded": graded,
                             "scores": scores(copy / "gradebook.db"), "tail": (done.stderr or done.stdout)[-600:]}
    finally:
        for copy in copies.values():
            if copy != hub.course:
                shutil.rmtree(copy, ignore_errors=True)
    return results


# --- the class ---------------------------------------------------------------------------------------------------


def run_class(args):
    mix = kinds()
    keys = [f"{mix[i % len(mix)][0]}#{i}" for i in range(args.students)]
    hub = Hub(students=keys)
    out = {"students": args.students, "load before": os.getloadavg()}
    monitor = Monitor(hub)
    tally = Tally()
    try:
        t = time.monotonic()
        hub.environment()
        hub.setup_accounts()
        out["accounts made in"] = time.monotonic() - t
        hub.start()
        hub.login(hub.instructor)
        wait_for("the course's formgrader", lambda: hub.service("/formgrader/api/status", "GET").ok, 300)
        hub.formgrader("release")
        monitor.thread.start()
        students = [Student(hub, hub.students[key], key.split("#")[0], mix[i % len(mix)][1], tally)
                    for i, key in enumerate(keys)]
        for student in students:
            student.work_too = not args.no_kernels
        faults = Faults(hub, students[len(students) // 2].name) if args.faults else None
        t0 = time.monotonic()
        failures = {}
        restarter = None
        if faults:
            restarter = threading.Thread(target=faults.restart_hub, args=(students,), daemon=True)
            restarter.start()
        with ThreadPoolExecutor(max_workers=len(students)) as pool:
            futures = {pool.submit(s.work, t0, faults.before_submit if faults else None): s for s in students}
            for future, student in futures.items():
                try:
                    future.result()
                except Exception as err:  # noqa: BLE001 - counted and printed
                    failures[student.name] = str(err)[:300]
        if restarter:
            restarter.join()
        out["class seconds"] = time.monotonic() - t0
        out["last server ready"] = max(s.times.get("server ready", float("nan")) for s in students)
        out["last submitted"] = max(s.times.get("submitted", float("nan")) for s in students)
        out["first submitted"] = min(s.times.get("submitted", float("inf")) for s in students)
        out["last worked"] = max((s.times["worked"] for s in students if "worked" in s.times), default=None)
        out["sent"] = sum("submitted" in s.times for s in students)
        out["failures"] = failures
        # memory while every server is up (before collecting and grading)
        procs = processes()
        uids = {pwd.getpwnam(s.name).pw_uid: s.name for s in students}
        per_server = collections.Counter()
        for uid, rss in procs.values():
            if uid in uids:
                per_server[uids[uid]] += rss
        proxy = [int(p) for p in subprocess.run(["pgrep", "-f", f"configurable-http-proxy.*{hub.ports[1]}"],
                                                capture_output=True, text=True).stdout.split()]
        out["hub rss"] = procs.get(hub.proc.pid, (0, 0))[1]
        out["hub and proxy rss"] = out["hub rss"] + sum(procs.get(p, (0, 0))[1] for p in proxy)
        out["server rss"] = sorted(per_server.values())
        out["hub fds"] = (open_files(hub.proc.pid), fd_limit(hub.proc.pid))
        # collect and grade
        t = time.monotonic()
        hub.formgrader("collect")
        out["collect seconds"] = time.monotonic() - t
        submitted = hub.course / "submitted"
        collected = {p.parent.parent.name for p in submitted.glob(f"*/{A03}/{A03}.ipynb")}
        out["collected"] = len(collected & {s.name for s in students})
        out["not collected"] = sorted({s.name for s in students} - collected)
        # nothing lost: what was collected is what each student saved, cell for cell
        as_saved = {s.name: _same_cells(submitted / s.name / A03 / f"{A03}.ipynb", s.notebook) for s in students}
        out["collected as saved"] = sum(as_saved.values())
        # nothing cut short where collect looks: every folder of inbound/ it may take is whole
        seen, hidden = inbound_folders(hub)
        out["inbound"] = {"visible": len(seen), "whole": sum(map(whole, seen)), "hidden": len(hidden)}
        if faults:
            out["held"] = faults.held_report(as_saved)
        if not args.no_grading:
            out["grading"] = grade_three_ways(hub)
            hub.formgrader("generate_feedback")
            hub.formgrader("release_feedback")
            got = {}
            with ThreadPoolExecutor(max_workers=len(students)) as pool:
                # a student whose server the restart stopped starts it again to read their feedback
                for student, ok in zip(students, pool.map(lambda s: _try(lambda: s.step("fetch feedback", s.feedback)),
                                                          students), strict=True):
                    got[student.name] = ok
            out["feedback fetched"] = sum(1 for ok in got.values() if ok is True)
        out["faults"] = faults.report if faults else None
        out["told"] = {s.name: s.told for s in students if s.told}
    finally:
        if monitor.thread.is_alive():
            monitor.stop()
        out["log tail"] = hub.tail(3000)
        if args.keep_log:
            shutil.copy(hub.log, args.keep_log)
        t = time.monotonic()
        out["left"] = hub.stop(timeout=60 + 3 * args.students)  # the hub stops every server before it exits
        out["stop seconds"] = time.monotonic() - t
    out["tally"] = tally
    out["monitor"] = monitor
    out["load after"] = os.getloadavg()
    return out


def _same_cells(path, notebook):
    def sources(nb):
        return [(c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"])
                for c in nb["cells"]]

    try:
        return sources(json.loads(path.read_text())) == sources(notebook)
    except (OSError, ValueError, KeyError):
        return False


def _try(action):
    try:
        return action()
    except Exception as err:  # noqa: BLE001
        return f"{type(err).__name__}: {err}"


def mib(n):
    return f"{n / 2**20:.0f} MiB"


def report(out, args):
    n = out["students"]
    print(f"\n== {n} students at once ({'with faults' if args.faults else 'no faults'}); load average before "
          f"{'/'.join(f'{x:.1f}' for x in out['load before'])}, after {'/'.join(f'{x:.1f}' for x in out['load after'])}"
          f", {os.cpu_count()} cores, {mib(meminfo()['MemTotal'])}")
    print(f"accounts made in {out['accounts made in']:.0f} s")
    print(f"last server started after {out['last server ready']:.1f} s; submissions accepted from "
          f"{out['first submitted']:.1f} s to {out['last submitted']:.1f} s (spread "
          f"{out['last submitted'] - out['first submitted']:.1f} s)")
    if out["last worked"] is not None:
        print(f"every student's kernel had run a lesson's first cell after {out['last worked']:.1f} s")
    tally = out["tally"]
    print("failed or retried requests: " + (", ".join(f"{kind}: {count}" for kind, count in tally.failed.items())
                                            or "none"))
    for kind, whys in tally.why.items():
        for why, count in whys.most_common(3):
            print(f"    {kind}: {count} x {why}")
    if out["failures"]:
        print(f"students who gave up: {len(out['failures'])}")
        for name, why in list(out["failures"].items())[:5]:
            print(f"    {name}: {why}")
    verdict = "equal" if out["collected"] == out["sent"] else "NOT EQUAL"
    print(f"submissions collected {out['collected']} of {out['sent']} sent ({n} students): {verdict}; collect took "
          f"{out['collect seconds']:.1f} s")
    print(f"collected notebooks identical, cell for cell, to what their student saved: {out['collected as saved']} "
          f"of {n}")
    if out["not collected"]:
        print(f"    not collected: {out['not collected'][:10]}")
    if "grading" in out:
        grading = out["grading"]
        reference = grading["nbgrader autograde"]["scores"]
        for name, result in grading.items():
            same = "identical to nbgrader autograde" if result["scores"] == reference else "DIFFERENT"
            print(f"grading, {name}: {result['seconds']:.0f} s ({result['seconds'] / max(1, n):.1f} s a submission, "
                  f"load {result['load']:.1f} at its start), exit status {result['status']}, "
                  f"{result['graded']} graded, scores {same}")
        print(f"feedback fetched by {out['feedback fetched']} of {n} students")
    servers = out["server rss"]
    if servers:
        print(f"memory: hub {mib(out['hub rss'])} (with its proxy {mib(out['hub and proxy rss'])}); each server "
              f"median {mib(servers[len(servers) // 2])}, max {mib(servers[-1])}, all {len(servers)} together "
              f"{mib(sum(servers))}")
    monitor = out["monitor"]
    mem = meminfo()
    try:
        pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
        threads_max = int(Path("/proc/sys/kernel/threads-max").read_text())
    except OSError:
        pid_max = threads_max = None
    fds, limit = out["hub fds"]
    shares = {
        "CPU": (monitor.peak["cpu"], f"peak {monitor.peak['cpu']:.0%} of {os.cpu_count()} cores busy, all busy for "
                                     f"{monitor.busy_seconds} of {monitor.samples} s"),
        "memory": (monitor.peak["memory"] / mem["MemTotal"],
                   f"peak {mib(monitor.peak['memory'])} used of {mib(mem['MemTotal'])}"),
        "processes": (monitor.peak["processes"] / min(pid_max or 1 << 22, threads_max or 1 << 22),
                      f"peak {monitor.peak['processes']:.0f} of {min(pid_max or 0, threads_max or 0)}"),
        "file descriptors (hub)": (monitor.peak["hub fds"] / (limit or 1024),
                                   f"peak {monitor.peak['hub fds']:.0f} of its limit {limit}"),
    }
    print("resources, nearest to running out first:")
    for name, (share, text) in sorted(shares.items(), key=lambda item: -item[1][0]):
        print(f"    {name}: {share:.0%} ({text})")
    if monitor.loads:
        print(f"    load average (1 min) during the class: max {max(monitor.loads):.1f}")
    if out["faults"] is not None:
        print("faults:")
        for line in out["faults"]:
            print(f"    {line}")
        told = out["told"]
        print(f"    students who saw an error and did what it said: {len(told)}")
        counts, lines = out["held"]
        print(f"    held between fetch and submit through the restart: {counts['held']}; saw an error "
              f"{counts['saw an error']}; collected as saved {counts['collected as saved']} of {counts['held']}; "
              f"lost without being told: {counts['lost silently']}")
        for line in lines:
            print(f"      {line}")
    inbound = out["inbound"]
    print(f"exchange: {inbound['visible']} submissions collect may take, {inbound['whole']} of them whole; "
          f"{inbound['hidden']} hidden copies cut short (never collected)")
    print(f"the hub, its servers and the accounts stopped and removed in {out['stop seconds']:.0f} s; left behind: "
          f"{out['left'] or 'nothing'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50, help="students in the class (default 50)")
    parser.add_argument("--faults", action="store_true",
                        help="kill a server mid-submit; restart the hub while students are between fetch and submit")
    parser.add_argument("--no-grading", action="store_true", help="stop after collecting")
    parser.add_argument("--no-kernels", action="store_true", help="students do not run a cell after submitting")
    parser.add_argument("--keep-log", metavar="FILE", help="copy the hub's log to FILE")
    args = parser.parse_args()
    problems = missing()
    if problems:
        sys.exit("bench_class needs: " + "; ".join(problems))
    # Ctrl-C and SIGTERM end the run through its clean-up (accounts removed, processes stopped)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    out = run_class(args)
    report(out, args)
    # every submission sent is collected as it was saved; a student the hub refused (its limits) sent none
    ok = out["collected"] == out["sent"] == out["collected as saved"] and not out["left"]
    ok = ok and out["inbound"]["whole"] == out["inbound"]["visible"]
    if "grading" in out:
        reference = out["grading"]["nbgrader autograde"]["scores"]
        ok = ok and all(r["scores"] == reference for r in out["grading"].values())
    print(json.dumps({"ok": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
