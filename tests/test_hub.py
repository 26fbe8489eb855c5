"""A class on one JupyterHub (deploy/hub/), end to end, with real accounts on this machine.

The hub runs deploy/hub/jupyterhub_config.py as it is, as root, on 127.0.0.1 and free
ports, with its state, the exchange and a Python environment in a temporary folder. That
environment is /opt/rustsync-hub (made by `deploy/hub/setup.sh env`, which .ci/run runs)
seen through a small virtual environment whose path puts this checkout's `rustsync` first,
so the test grades with the code under test, and readable by the test's accounts (a Python
under /root, mode 700, is not). The accounts are made for the test and removed after it,
also when it fails: a grading account (its home holds a copy of the course: nbgrader_config.py,
source/, release/), an instructor and two students, made by deploy/hub/add-user.sh in Unix
groups of the test's own.

Then, through the hub's REST API and each user's own server, as their browsers would: each
logs in with their password; the instructor releases a03 through the course's service (its
formgrader); each student's server fetches it, writes an answer (the sample `correct`, the
sample `racy`) and submits it; a student is refused the formgrader (403), another student's
server (403) and files (permission denied); the instructor collects, autogrades in parallel
in a terminal of the course's service (`python -m rustsync.grading.parallel`), generates and
releases the feedback; each student's server fetches their own feedback, with their score.
One written answer carries script and event handlers: formgrader's grading view of it, served
by the course's service, and its feedback page show them as text, never as markup.
Everything the test started is stopped, and its accounts removed, before the tests look at
what it saw.

SLOW: about two minutes (the hub, three servers and the grader start; grading two notebooks).
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests
from test_sanitize import MARK, TEMPLATE_HANDLERS, Page, problems

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy" / "hub"
HUB_ENV = Path(os.environ.get("RUSTSYNC_HUB_ENV", "/opt/rustsync-hub"))
COURSE = "rust-shared-state"
A03 = "a03_sharing_a_mutex"
SERVICE = f"/services/{COURSE}"
SCORES = {"correct": "7.0 / 9.0", "racy": "4.0 / 9.0"}  # the written answer waits for a human
# appended to the written answer of the `racy` sample (`why_moved`), which waits for a human
HOSTILE_ANSWER = (f"\n\n<script>document.title = '{MARK}'</script>\n\n"
                  f"<img src=\"x\" onerror=\"document.title = '{MARK}'\">\n\n"
                  f"[see also](javascript:document.title='{MARK}')\n")

pytestmark = pytest.mark.timeout(600)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*command, **kw):
    return subprocess.run(list(command), capture_output=True, text=True, timeout=120, **kw)


def check(*command, **kw):
    done = run(*command, **kw)
    assert done.returncode == 0, f"{' '.join(map(str, command))}: {done.stderr or done.stdout}"
    return done.stdout


def wait_for(what, probe, timeout, interval=0.5):
    """Poll `probe` until it returns something true; fail after `timeout` s, saying what was awaited."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = probe()
        except requests.RequestException as err:
            result, last = None, err
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"gave up waiting for {what} after {timeout} s (last error: {last})")


def listening(ports):
    """The ports of `ports` on which something accepts connections."""
    found = []
    for port in ports:
        with socket.socket() as s:
            s.settimeout(1)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                found.append(port)
    return found


def processes_of(uids):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                uid = next(int(line.split()[1]) for line in f if line.startswith("Uid:"))
        except (OSError, StopIteration, ValueError):
            continue
        if uid in uids:
            found.append(int(entry))
    return found


class Hub:
    """The hub, its users and what they saw; `stop()` ends every process and removes every account."""

    def __init__(self):
        tag = secrets.token_hex(3)
        self.grader, self.instructor = f"g{tag}", f"i{tag}"
        self.students = {"correct": f"a{tag}", "racy": f"b{tag}"}
        self.groups = {"student": f"rs{tag}-students", "instructor": f"rs{tag}-instructors"}
        self.accounts, self.made_groups, self.passwords, self.tokens = [], [], {}, {}
        self.base = Path(tempfile.mkdtemp(prefix="rustsync-hub-", dir="/tmp"))
        self.base.chmod(0o755)
        self.exchange = self.base / "exchange"
        self.proc = None
        self.ports = []
        self.log = self.base / "hub.log"
        self.seen = {}

    # --- set up ------------------------------------------------------------------------------------------

    def environment(self):
        """A virtual environment over /opt/rustsync-hub that imports this checkout's rustsync first."""
        env = self.base / "env"
        check(str(HUB_ENV / "bin" / "python"), "-m", "venv", "--without-pip", str(env))
        purelib = check(str(env / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
        hub_purelib = check(str(HUB_ENV / "bin" / "python"), "-c",
                            "import sysconfig; print(sysconfig.get_paths()['purelib'])")
        shutil.copytree(ROOT / "rustsync", self.base / "lib" / "rustsync",
                        ignore=shutil.ignore_patterns("__pycache__"))
        site = Path(purelib.strip())
        (site / "00-this-checkout.pth").write_text(f"{self.base / 'lib'}\n")
        (site / "zz-hub-environment.pth").write_text(f"import site; site.addsitedir({hub_purelib.strip()!r})\n")
        # its commands (alembic, which nbgrader runs, jupyter, ...) run with this environment's Python
        shebang = f"#!{HUB_ENV / 'bin' / 'python'}"
        for script in (HUB_ENV / "bin").iterdir():
            target = env / "bin" / script.name
            if target.exists() or target.is_symlink() or not script.is_file():
                continue
            try:
                text = script.read_text()
            except UnicodeDecodeError:
                continue
            if text.startswith(shebang + "\n") or text.startswith(shebang.replace("python", "python3") + "\n"):
                target.write_text(f"#!{env / 'bin' / 'python'}\n" + text.split("\n", 1)[1])
                target.chmod(0o755)
        shutil.copytree(HUB_ENV / "etc" / "jupyter", env / "etc" / "jupyter")
        shutil.copy(DEPLOY / "nbgrader_config.py", env / "etc" / "jupyter" / "nbgrader_config.py")
        (env / "share").mkdir(exist_ok=True)
        (env / "share" / "jupyter").symlink_to(HUB_ENV / "share" / "jupyter")
        check("chmod", "-R", "a+rX", str(env), str(self.base / "lib"))
        self.python = env / "bin" / "python"
        self.env_dir = env

    def account(self, name, *extra):
        check("useradd", "--create-home", "-K", "HOME_MODE=0700", "--shell", "/bin/bash", *extra, name)
        self.accounts.append(name)

    def setup_accounts(self):
        for group in self.groups.values():
            check("groupadd", group)
            self.made_groups.append(group)
        self.account(self.grader)
        env = {**os.environ, "RUSTSYNC_HUB_STUDENTS": self.groups["student"],
               "RUSTSYNC_HUB_INSTRUCTORS": self.groups["instructor"], "RUSTSYNC_HUB_ENV": str(self.env_dir)}
        names = [("instructor", self.instructor)] + [("student", name) for name in self.students.values()]
        for kind, name in names:
            self.accounts.append(name)  # removed after, even if add-user.sh fails half-way
            out = check(str(DEPLOY / "add-user.sh"), kind, name, env=env)
            match = re.search(rf"^{name}: new account in {self.groups[kind]}, password (\S+)$", out, re.M)
            assert match, out
            self.passwords[name] = match.group(1)
        home = Path(pwd.getpwnam(self.grader).pw_dir)
        with open(home / ".profile", "a") as profile:  # as deploy/hub/setup.sh does for the grading account
            profile.write(f'\nPATH="{self.env_dir / "bin"}:$PATH"\n')
        course = home / COURSE
        course.mkdir()
        shutil.copy(ROOT / "nbgrader_config.py", course)
        shutil.copytree(ROOT / "source", course / "source")
        shutil.copytree(ROOT / "release", course / "release")
        check("chown", "-R", f"{self.grader}:", str(course))
        course.chmod(0o700)
        self.course = course
        self.exchange.mkdir()
        self.exchange.chmod(0o1777)

    def start(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        state = self.base / "hub"
        state.mkdir(mode=0o700)
        self.ports = [self.port, free_port(), free_port(), free_port()]  # proxy, its API, hub, formgrader
        env = {**os.environ, "RUSTSYNC_HUB_ENV": str(self.env_dir), "RUSTSYNC_HUB_EXCHANGE": str(self.exchange),
               "RUSTSYNC_HUB_GRADER": self.grader, "RUSTSYNC_HUB_STUDENTS": self.groups["student"],
               "RUSTSYNC_HUB_INSTRUCTORS": self.groups["instructor"],
               "RUSTSYNC_HUB_FORMGRADER_PORT": str(self.ports[3])}
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [str(self.python), "-m", "jupyterhub", "-f", str(DEPLOY / "jupyterhub_config.py"), "--ip=127.0.0.1",
                 f"--port={self.port}", f"--JupyterHub.hub_port={self.ports[2]}",
                 f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{self.ports[1]}"],
                cwd=state, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

        def up():
            assert self.proc.poll() is None, f"the hub stopped:\n{self.tail()}"
            return requests.get(f"{self.url}/hub/api/", timeout=10).ok

        wait_for("the hub", up, 180)

    def tail(self, size=6000):
        try:
            return self.log.read_text()[-size:]
        except OSError:
            return ""

    # --- the users ---------------------------------------------------------------------------------------

    def login(self, name):
        """Log in with the account's password, as the login page does; return an API token of theirs."""
        session = requests.Session()
        session.get(f"{self.url}/hub/login", timeout=30)
        done = session.post(f"{self.url}/hub/login", timeout=60, allow_redirects=False,
                            data={"username": name, "password": self.passwords[name],
                                  "_xsrf": session.cookies.get("_xsrf", "")})
        assert done.status_code == 302, f"{name} could not log in ({done.status_code}):\n{self.tail()}"
        made = session.post(f"{self.url}/hub/api/users/{name}/tokens", json={"note": "test", "expires_in": 3600},
                            headers={"X-XSRFToken": session.cookies.get("_xsrf", "")}, timeout=30)
        assert made.status_code == 201, made.text
        self.tokens[name] = made.json()["token"]
        return self.tokens[name]

    def api(self, name, method, path, **kw):
        kw.setdefault("timeout", 120)
        headers = {"Authorization": f"token {self.tokens[name]}", **kw.pop("headers", {})}
        return requests.request(method, f"{self.url}{path}", headers=headers, **kw)

    def start_server(self, name):
        done = self.api(name, "POST", f"/hub/api/users/{name}/server")
        assert done.status_code in (201, 202), f"{name}'s server: {done.status_code} {done.text}"

    def wait_server(self, name):
        def ready():
            model = self.api(name, "GET", f"/hub/api/users/{name}").json()
            server = model.get("servers", {}).get("")
            assert server is not None or model.get("pending"), f"{name}'s server is gone:\n{self.tail()}"
            return server and server.get("ready")

        wait_for(f"{name}'s server", ready, 150)

    def service(self, path, method="POST", **kw):
        """The course's service, as the instructor."""
        return self.api(self.instructor, method, f"{SERVICE}{path}", **kw)

    def formgrader(self, action, what=A03):
        done = self.service(f"/formgrader/api/assignment/{what}/{action}")
        assert done.status_code == 200, f"{action}: {done.status_code} {done.text[:2000]}"
        result = done.json()
        assert result.get("success"), f"{action}: {json.dumps(result)[:3000]}"
        return result

    def in_terminal(self, command, timeout):
        """Run `command` in a terminal of the course's service, as an instructor types it; (exit status, output)."""
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        made = self.service("/api/terminals")
        assert made.status_code == 200, made.text
        name = made.json()["name"]

        async def talk():
            request = HTTPRequest(f"ws://127.0.0.1:{self.port}{SERVICE}/terminals/websocket/{name}",
                                  headers={"Authorization": f"token {self.tokens[self.instructor]}"})
            ws = await websocket_connect(request)
            await ws.write_message(json.dumps(["stdin", f"{command}; echo command-exit-status-$?-end\r"]))
            output = ""
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                message = await asyncio.wait_for(ws.read_message(), deadline - time.monotonic())
                if message is None:
                    break
                kind, *rest = json.loads(message)
                if kind == "stdout":
                    output += rest[0]
                    found = re.search(r"command-exit-status-(\d+)-end", output)
                    if found:
                        ws.close()
                        return int(found.group(1)), output
            ws.close()
            raise AssertionError(f"the command did not finish in {timeout} s:\n{output[-3000:]}")

        # a loop of its own, in a thread of its own: another test's (Playwright's) may be running in this one
        result = {}

        def converse():
            try:
                result["value"] = asyncio.run(talk())
            except BaseException as err:  # noqa: BLE001 - raised again in the test's thread
                result["error"] = err

        try:
            talker = threading.Thread(target=converse, name="hub-terminal")
            talker.start()
            talker.join(timeout + 30)
            if "error" in result:
                raise result["error"]
            assert "value" in result, f"the terminal's websocket gave no answer in {timeout + 30} s"
            return result["value"]
        finally:
            self.service(f"/api/terminals/{name}", method="DELETE")

    def as_user(self, name, *command):
        return run("runuser", "-u", name, "--", *command)

    # --- stop --------------------------------------------------------------------------------------------

    def stop(self):
        problems = []
        uids = set()
        for name in self.accounts:
            try:
                uids.add(pwd.getpwnam(name).pw_uid)
            except KeyError:
                pass
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # the hub stops the servers, the service and the proxy
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                problems.append("the hub did not stop on SIGTERM")
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # its proxy, if the hub left it
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 30
        while (processes_of(uids) or listening(self.ports)) and time.monotonic() < deadline:
            time.sleep(0.5)
        if listening(self.ports):
            problems.append(f"something still listens on the hub's ports: {listening(self.ports)}")
        left = processes_of(uids)
        if left:
            problems.append(f"processes of the test's accounts outlived the hub: {left}")
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(1)
        for name in self.accounts:
            if run("id", "-u", name).returncode == 0:
                done = run("userdel", "--remove", name)
                if done.returncode not in (0, 12):  # 12: the mail spool did not exist
                    problems.append(f"userdel {name}: {done.stderr}")
        for group in self.made_groups:
            if run("getent", "group", group).returncode == 0:
                run("groupdel", group)
        shutil.rmtree(self.base, ignore_errors=True)
        return problems


def listing(response):
    """The assignments a student's Assignment List shows, from its server's answer."""
    assert response.status_code == 200, f"{response.status_code} {response.text[:2000]}"
    answer = response.json()
    assert answer.get("success"), json.dumps(answer)[:3000]
    return answer["value"]


def scenario(hub):
    seen = hub.seen
    started = time.monotonic()
    hub.environment()
    hub.setup_accounts()
    hub.start()
    seen["hub started"] = time.monotonic() - started
    everyone = [hub.instructor, *hub.students.values()]
    for name in everyone:
        hub.login(name)
    for name in everyone:
        hub.start_server(name)
    # the course's service starts with the hub; the instructor reaches its formgrader
    wait_for("the course's formgrader", lambda: hub.service("/formgrader/api/status", "GET").ok, 150)
    seen["instructor formgrader"] = hub.service("/formgrader", "GET").status_code
    hub.formgrader("release")
    for name in everyone:
        hub.wait_server(name)
    seen["servers ready"] = time.monotonic() - started

    # each student fetches, answers and submits, from their own server
    samples = ROOT / "tests" / "submissions" / A03
    for sample, name in hub.students.items():
        base = f"/user/{name}"
        listed = listing(hub.api(name, "GET", f"{base}/assignments", params={"course_id": COURSE}))
        assert any(a["assignment_id"] == A03 and a["status"] == "released" for a in listed), listed
        fetched = listing(hub.api(name, "POST", f"{base}/assignments/fetch",
                                  data={"course_id": COURSE, "assignment_id": A03}))
        assert any(a["assignment_id"] == A03 and a["status"] == "fetched" for a in fetched), fetched
        path = f"{base}/api/contents/{COURSE}/{A03}/{A03}.ipynb"
        assert hub.api(name, "GET", path).status_code == 200
        notebook = json.loads((samples / f"{sample}.ipynb").read_text())
        if sample == "racy":
            for cell in notebook["cells"]:
                if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "why_moved":
                    cell["source"] = "".join(cell["source"]) + HOSTILE_ANSWER
        saved = hub.api(name, "PUT", path, json={"type": "notebook", "format": "json", "content": notebook})
        assert saved.status_code == 200, saved.text
        submitted = listing(hub.api(name, "POST", f"{base}/assignments/submit",
                                    data={"course_id": COURSE, "assignment_id": A03}))
        assert any(a["assignment_id"] == A03 and a["status"] == "submitted" for a in submitted), submitted
        seen.setdefault("submitted", []).append(name)

    # what a student cannot reach
    first, second = hub.students["correct"], hub.students["racy"]
    seen["student formgrader"] = hub.api(first, "GET", f"{SERVICE}/formgrader/api/assignments").status_code
    seen["student formgrader page"] = hub.api(first, "GET", f"{SERVICE}/formgrader").status_code
    seen["own formgrader"] = hub.api(first, "GET", f"/user/{first}/formgrader").status_code
    # the course's service is a whole server, as the grading account: none of it, not only formgrader
    seen["student terminal"] = hub.api(first, "POST", f"{SERVICE}/api/terminals").status_code
    seen["student contents"] = hub.api(first, "GET", f"{SERVICE}/api/contents/source").status_code
    seen["student autograde"] = hub.api(first, "POST", f"{SERVICE}/formgrader/api/submission/{A03}/{first}/autograde"
                                        ).status_code
    seen["other server"] = hub.api(first, "GET", f"/user/{second}/api/contents/{COURSE}").status_code
    home = Path(pwd.getpwnam(second).pw_dir)
    seen["other files"] = hub.as_user(first, "cat", str(home / COURSE / A03 / f"{A03}.ipynb"))
    seen["course folder"] = hub.as_user(first, "ls", str(hub.course / "source"))
    seen["inbound"] = hub.as_user(first, "ls", str(hub.exchange / COURSE / "inbound"))

    # the instructor collects, grades in parallel, and hands the feedback back
    hub.formgrader("collect")
    seen["autograde"] = status, output = hub.in_terminal(f"python -m rustsync.grading.parallel {A03}", timeout=300)
    assert status == 0, f"parallel autograde, exit status {status}:\n{output[-4000:]}"
    submissions = hub.service(f"/formgrader/api/submissions/{A03}", "GET")
    assert submissions.status_code == 200, submissions.text
    seen["gradebook"] = {s["student"]: (s["score"], s["max_score"]) for s in submissions.json()}
    # the instructor opens the racy submission in formgrader's grading view
    notebooks = hub.service(f"/formgrader/api/submitted_notebooks/{A03}/{A03}", "GET")
    assert notebooks.status_code == 200, notebooks.text
    racy = next(n["id"] for n in notebooks.json() if n["student"] == second)
    view = hub.service(f"/formgrader/submissions/{racy}/", "GET")
    seen["grading view"] = (view.status_code, view.text)
    hub.formgrader("generate_feedback")
    hub.formgrader("release_feedback")
    seen["feedback outbound"] = hub.as_user(first, "ls", str(hub.exchange / COURSE / "feedback"))
    for sample, name in hub.students.items():
        base = f"/user/{name}"
        listing(hub.api(name, "POST", f"{base}/assignments/fetch_feedback",
                        data={"course_id": COURSE, "assignment_id": A03}))
        folder = hub.api(name, "GET", f"{base}/api/contents/{COURSE}/{A03}/feedback").json()
        pages = []
        for stamp in folder.get("content") or []:
            inside = hub.api(name, "GET", f"{base}/api/contents/{stamp['path']}").json()
            for item in inside.get("content") or []:
                if item["name"].endswith(".html"):
                    page = hub.api(name, "GET", f"{base}/api/contents/{item['path']}",
                                   params={"type": "file", "format": "text"}).json()
                    pages.append(page["content"])
        seen.setdefault("feedback", {})[sample] = pages
    seen["seconds"] = time.monotonic() - started


@pytest.fixture(scope="module")
def hub():
    problems = []
    for need, fix in ((os.geteuid() == 0, "run it as root: it makes accounts with useradd"),
                      ((HUB_ENV / "bin" / "python").exists(), f"make {HUB_ENV} with `deploy/hub/setup.sh env`"),
                      (shutil.which("configurable-http-proxy"), "`npm install -g configurable-http-proxy@5`"),
                      (shutil.which("bwrap"), "`apt-get install -y bubblewrap`")):
        if not need:
            problems.append(fix)
    assert not problems, "the hub test needs what .ci/run installs: " + "; ".join(problems)
    hub = Hub()
    failure = None
    try:
        scenario(hub)
    except BaseException as err:  # noqa: BLE001 - reported below, once everything is stopped
        failure = err
    finally:
        log = hub.tail()
        left = hub.stop()
    if failure is not None:
        raise AssertionError(f"{type(failure).__name__}: {failure}\n--- the hub's log:\n{log}") from failure
    hub.seen["left"] = left
    hub.seen["log"] = log
    print(f"\nthe hub was up after {hub.seen['hub started']:.0f} s, the three servers after "
          f"{hub.seen['servers ready']:.0f} s; everything done after {hub.seen['seconds']:.0f} s")
    return hub


def test_everything_it_started_is_stopped_and_its_accounts_removed(hub):
    assert hub.seen["left"] == []
    for name in hub.accounts:
        assert run("id", "-u", name).returncode != 0, name
    assert not hub.base.exists()
    assert hub.proc.poll() is not None


def test_the_instructor_reaches_the_formgrader_and_a_student_is_refused(hub):
    assert hub.seen["instructor formgrader"] == 200
    assert hub.seen["student formgrader"] == 403
    assert hub.seen["student formgrader page"] == 403
    assert hub.seen["own formgrader"] == 404  # a student's own server has no formgrader either
    assert hub.seen["student terminal"] == 403
    assert hub.seen["student contents"] == 403
    assert hub.seen["student autograde"] == 403


def test_a_student_cannot_reach_another_students_server_nor_files_nor_the_course(hub):
    assert hub.seen["other server"] == 403
    for what in ("other files", "course folder", "inbound", "feedback outbound"):
        done = hub.seen[what]
        assert done.returncode != 0 and "Permission denied" in done.stderr, (what, done.stdout, done.stderr)


def test_the_instructor_grades_in_parallel_in_the_course_service(hub):
    status, output = hub.seen["autograde"]
    assert status == 0, output[-3000:]
    assert re.search(r"2 graded, 0 already graded \(skipped\), 0 failed, of 2 submissions, in [\d.]+ s with 2 "
                     r"worker\(s\)", output), output[-3000:]
    assert "WITHOUT the sandbox" not in output and "RUSTSYNC_SANDBOX" not in output
    assert hub.seen["gradebook"] == {hub.students["correct"]: (7.0, 9.0), hub.students["racy"]: (4.0, 9.0)}


def test_each_student_fetches_only_their_own_feedback_with_their_score(hub):
    for sample, pages in hub.seen["feedback"].items():
        assert len(pages) == 1, sample
        assert f"{A03} (Score: {SCORES[sample]})" in pages[0], sample
        assert "BEGIN HIDDEN TESTS" not in pages[0]


def test_a_written_answer_runs_no_script_in_the_grading_view_nor_in_the_feedback(hub):
    status, page = hub.seen["grading view"]
    assert status == 200, page[:2000]
    [feedback] = hub.seen["feedback"]["racy"]
    for html, handlers in ((page, TEMPLATE_HANDLERS), (feedback, frozenset())):
        assert problems(html, handlers) == []
        assert "gives each thread an owner of its own. see also" in Page(html).text  # the answer, its link's text
