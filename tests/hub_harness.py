"""A class on one JupyterHub (deploy/hub/) on this machine, for the hub's test and the class benchmark.

tests/test_hub.py (a class of two, every step checked) and bench/bench_class.py (a class
of fifty at once, measured) drive the same hub the same way, so the machinery is here,
beside the tests that use it rather than in deploy/hub/, which an administrator installs:
it makes and removes throwaway accounts, which no server of a real class should carry.

`Hub` runs deploy/hub/jupyterhub_config.py as it is, as root, on 127.0.0.1 and free ports,
with its state, the exchange and a Python environment in a temporary folder. That
environment is /opt/rustsync-hub (made by `deploy/hub/setup.sh env`) seen through a small
virtual environment whose path puts this checkout's `rustsync` first, so the hub grades
with the code under test, and readable by the accounts (a Python under /root, mode 700, is
not). The accounts are made for it (deploy/hub/add-user.sh, in Unix groups of its own) and
`stop()` removes them, and everything it started, also when what used it failed.
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

import requests

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy" / "hub"
HUB_ENV = Path(os.environ.get("RUSTSYNC_HUB_ENV", "/opt/rustsync-hub"))
COURSE = "rust-shared-state"
A03 = "a03_sharing_a_mutex"
SERVICE = f"/services/{COURSE}"


def missing():
    """What this machine lacks to run a hub (each with its fix); [] when nothing."""
    problems = []
    for need, fix in ((os.geteuid() == 0, "run it as root: it makes accounts with useradd"),
                      ((HUB_ENV / "bin" / "python").exists(), f"make {HUB_ENV} with `deploy/hub/setup.sh env`"),
                      (shutil.which("configurable-http-proxy"), "`npm install -g configurable-http-proxy@5`"),
                      (shutil.which("bwrap"), "`apt-get install -y bubblewrap`")):
        if not need:
            problems.append(fix)
    return problems


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*command, timeout=120, **kw):
    return subprocess.run(list(command), capture_output=True, text=True, timeout=timeout, **kw)


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

    def __init__(self, students=("correct", "racy")):
        """`students`: a key for each student (what they will submit, say); `self.students` maps it to their account."""
        tag = secrets.token_hex(3)
        self.grader, self.instructor = f"g{tag}", f"i{tag}"
        self.students = {key: f"s{index}{tag}" for index, key in enumerate(students)}
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
        for kind, names in (("instructor", [self.instructor]), ("student", list(self.students.values()))):
            for start in range(0, len(names), 50):  # as an administrator adds a class: a few names a command
                batch = names[start:start + 50]
                self.accounts.extend(batch)  # removed after, even if add-user.sh fails half-way
                out = check(str(DEPLOY / "add-user.sh"), kind, *batch, env=env, timeout=600)
                for name in batch:
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

    def start(self, timeout=180):
        """Start the hub (again, after `stop_hub`: same state, same ports) and wait until its API answers."""
        if not self.ports:
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            self.ports = [self.port, free_port(), free_port(), free_port()]  # proxy, its API, hub, formgrader
        state = self.base / "hub"
        state.mkdir(mode=0o700, exist_ok=True)
        env = {**os.environ, "RUSTSYNC_HUB_ENV": str(self.env_dir), "RUSTSYNC_HUB_EXCHANGE": str(self.exchange),
               "RUSTSYNC_HUB_GRADER": self.grader, "RUSTSYNC_HUB_STUDENTS": self.groups["student"],
               "RUSTSYNC_HUB_INSTRUCTORS": self.groups["instructor"],
               "RUSTSYNC_HUB_FORMGRADER_PORT": str(self.ports[3])}
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(
                [str(self.python), "-m", "jupyterhub", "-f", str(DEPLOY / "jupyterhub_config.py"), "--ip=127.0.0.1",
                 f"--port={self.port}", f"--JupyterHub.hub_port={self.ports[2]}",
                 f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{self.ports[1]}"],
                cwd=state, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

        def up():
            assert self.proc.poll() is None, f"the hub stopped:\n{self.tail()}"
            return requests.get(f"{self.url}/hub/api/", timeout=10).ok

        wait_for("the hub", up, timeout)

    def stop_hub(self, timeout=120):
        """Stop the hub alone, as an administrator restarting it does (SIGTERM); its state stays for `start`."""
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=timeout)
        deadline = time.monotonic() + 30
        while listening(self.ports) and time.monotonic() < deadline:
            time.sleep(0.5)

    def tail(self, size=6000):
        try:
            return self.log.read_text()[-size:]
        except OSError:
            return ""

    # --- the users ---------------------------------------------------------------------------------------

    def login(self, name, timeout=60):
        """Log in with the account's password, as the login page does; return an API token of theirs."""
        session = requests.Session()
        session.get(f"{self.url}/hub/login", timeout=timeout)
        done = session.post(f"{self.url}/hub/login", timeout=timeout, allow_redirects=False,
                            data={"username": name, "password": self.passwords[name],
                                  "_xsrf": session.cookies.get("_xsrf", "")})
        assert done.status_code == 302, f"{name} could not log in ({done.status_code}):\n{self.tail()}"
        made = session.post(f"{self.url}/hub/api/users/{name}/tokens", json={"note": "test", "expires_in": 3600},
                            headers={"X-XSRFToken": session.cookies.get("_xsrf", "")}, timeout=timeout)
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

    def wait_server(self, name, timeout=150):
        def ready():
            model = self.api(name, "GET", f"/hub/api/users/{name}").json()
            server = model.get("servers", {}).get("")
            assert server is not None or model.get("pending"), f"{name}'s server is gone:\n{self.tail()}"
            return server and server.get("ready")

        wait_for(f"{name}'s server", ready, timeout)

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

    def stop(self, timeout=60):
        """Stop the hub (it stops every server, waiting `timeout` s for them) and remove the accounts; [problems]."""
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
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                problems.append(f"the hub did not stop on SIGTERM within {timeout} s")
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
