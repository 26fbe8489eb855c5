"""The README's start command, run as written, headless, in a fresh copy of the course with a fresh environment.

`./start.sh` must make the course's environment (`.venv`), install into it, write the
course's settings there, make a working copy of each assignment, and open JupyterLab on
lesson 00 (with `--allow-root` as root, which the test does not pass). Then: JupyterLab
answers and sends `/` to lesson 00; its news pop-up is off; its Assignments tab lists (an
empty list, the exchange made); every assignment has a working
copy that git ignores, so nothing tracked is edited; a kernel JupyterLab starts for a
lesson names the cell to run first after a NameError; a second start reuses the
environment without installing again.

COST: the environment is made with `--system-site-packages` (COURSE_VENV_OPTIONS), so pip
finds this environment's packages and installs only the course's own package. Here, on 2
loaded cores: JupyterLab answered 27 to 44 s after the command (about 13 s of CPU; pip's
isolated build of the package and the package index take the rest), 45 to 50 s in all.
A first install from the network takes 1 to 2 minutes more.
"""

from __future__ import annotations

import filecmp
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from browser_lab import copy_course

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
LESSON_00 = "notebooks/00-shared-state-concurrency.ipynb"
LESSON_02 = "notebooks/02-the-api-of-mutex.ipynb"

pytestmark = pytest.mark.timeout(600)


def readme_commands(title: str) -> list[str]:
    """The commands of the bash blocks of the README's `## title` section."""
    parts = re.split(r"^## ", README.read_text(), flags=re.M)
    found = [p for p in parts if p.split("\n", 1)[0].strip() == title]
    assert len(found) == 1, f"the README has {len(found)} sections '## {title}'"
    blocks = re.findall(r"^```bash\n(.*?)^```", found[0], flags=re.M | re.S)
    return [line.strip() for block in blocks for line in block.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, token: str, redirect: bool = True):
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(*([] if redirect else [NoRedirect()]))
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _post(url: str, token: str, body: dict):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _environment(tmp_path: Path) -> dict:
    """A newcomer's environment: a HOME of their own, nothing of this run's Jupyter or IPython folders."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JUPYTER", "IPYTHON", "XDG_", "NBGRADER", "PYTEST", "MPLCONFIGDIR", "VIRTUAL_ENV"))}
    home = tmp_path / "home"
    home.mkdir()
    env.update(HOME=str(home), NBGRADER_EXCHANGE=str(tmp_path / "exchange"), PYTHON=sys.executable,
               COURSE_VENV_OPTIONS="--system-site-packages", JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               PIP_NO_INPUT="1")
    # Jupyter looks for its files (which server extensions are on, JupyterLab's own folder) under the
    # environment's prefix, where an environment made with --system-site-packages has none (a full install
    # puts them there): point it at this Python's as well
    from jupyterlab.commands import get_app_dir

    env.update(JUPYTERLAB_DIR=get_app_dir(), JUPYTER_CONFIG_PATH=os.path.join(sys.prefix, "etc", "jupyter"),
               JUPYTER_PATH=os.path.join(sys.prefix, "share", "jupyter"))
    return env


def _stop(server: subprocess.Popen) -> None:
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(10)


def _hint_from_a_lesson_kernel(base: str, token: str, runtime: Path) -> str:
    """Start a kernel for lesson 02 as JupyterLab does when the lesson opens, run `print(m)` first; its stderr."""
    from jupyter_client import BlockingKernelClient

    session = _post(f"{base}/api/sessions", token, {"path": LESSON_02, "name": Path(LESSON_02).name,
                                                    "type": "notebook", "kernel": {"name": "python3"}})
    client = BlockingKernelClient(connection_file=str(runtime / f"kernel-{session['kernel']['id']}.json"))
    client.load_connection_file()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        said = []
        client.execute_interactive("print(m)", timeout=60, output_hook=lambda msg: said.append(msg))
        return "".join(m["content"].get("text", "") for m in said if m["msg_type"] == "stream"
                       and m["content"].get("name") == "stderr")
    finally:
        client.stop_channels()


def test_the_readme_start_command_opens_lesson_00_with_a_working_copy_in_a_fresh_environment(tmp_path):
    commands = readme_commands("Start")
    assert commands == ["./start.sh"], f"the README's Start section should give one command, ./start.sh: {commands}"
    course = copy_course(tmp_path / "course")
    release_before = {p.relative_to(course): p.read_bytes() for p in (course / "release").rglob("*") if p.is_file()}
    env = _environment(tmp_path)
    port, token = _free_port(), "t" + os.urandom(12).hex()
    # what a machine without a browser adds to the README's command; as root, start.sh adds --allow-root itself
    extra = f" --no-browser --ip=127.0.0.1 --port={port} --ServerApp.port_retries=0 --IdentityProvider.token={token}"
    log = tmp_path / "start.log"
    started = time.monotonic()
    with open(log, "wb") as out:
        server = subprocess.Popen(["bash", "-c", commands[0] + extra], cwd=course, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            assert server.poll() is None, f"`{commands[0]}` stopped:\n{log.read_text()[-3000:]}"
            try:
                if _get(f"{base}/api/status", token)[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            assert time.monotonic() - started < 300, f"JupyterLab did not answer in 300 s:\n{log.read_text()[-3000:]}"
            time.sleep(0.5)
        print(f"./start.sh: JupyterLab answered {time.monotonic() - started:.1f} s after the command, "
              "environment included")

        # lesson 00, in the course's folder
        status, headers, _ = _get(f"{base}/", token, redirect=False)
        assert status in (301, 302) and urllib.parse.urlparse(headers["Location"]).path == f"/lab/tree/{LESSON_00}", (
            status, headers.get("Location"))
        assert _get(f"{base}/api/contents/{LESSON_00}?content=0", token)[0] == 200
        # the course's environment, in the course's folder, and JupyterLab runs from it
        venv = course / ".venv"
        assert (venv / "bin" / "python").exists()
        running = Path(f"/proc/{server.pid}/exe").resolve()
        assert running.name.startswith("python"), running
        cmdline = Path(f"/proc/{server.pid}/cmdline").read_bytes().split(b"\0")
        assert any(word.startswith(str(venv).encode()) for word in cmdline), cmdline
        # no news pop-up: the course's settings say so
        status, _, body = _get(f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification", token)
        assert status == 200 and b'"schema"' in body, (status, body[:2000])
        defaults = {k: v.get("default") for k, v in json.loads(body)["schema"]["properties"].items()}
        assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False, defaults

        # the Assignments tab: no assignment released yet, and a list rather than "the exchange does not exist"
        status, _, body = _get(f"{base}/assignments?course_id=rust-shared-state", token)
        listed = json.loads(body)
        assert status == 200 and listed["success"] is True and listed["value"] == [], listed
        exchange = tmp_path / "exchange"
        assert exchange.is_dir() and (exchange.stat().st_mode & 0o777) == 0o777

        # a working copy of each assignment, as release/ has it; release/ itself untouched; git ignores the copies
        names = sorted(p.name for p in (course / "release").iterdir() if p.is_dir())
        assert len(names) == 7
        for name in names:
            compared = filecmp.dircmp(course / "release" / name, course / name)
            assert not (compared.left_only or compared.right_only or compared.diff_files), (name, compared.report())
        ignored = subprocess.run(["git", "check-ignore", "--no-index", "-v", ".venv/bin/python",
                                  *(f"{n}/{n}.ipynb" for n in names)], cwd=ROOT, capture_output=True, text=True)
        assert len(ignored.stdout.splitlines()) == len(names) + 1, ("git would track these:", ignored.stdout)

        # a lesson's kernel names the cell to run first
        said = _hint_from_a_lesson_kernel(base, token, tmp_path / "runtime")
        assert "help: `m` is defined by code cell" in said and "Run that cell first" in said, said
    finally:
        _stop(server)
    assert {p.relative_to(course): p.read_bytes() for p in (course / "release").rglob("*") if p.is_file()} \
        == release_before

    # a second start reuses the environment: nothing installed again, the working copies kept
    (course / names[0] / f"{names[0]}.ipynb").write_text((course / names[0] / f"{names[0]}.ipynb").read_text()
                                                         + "\n")
    again = subprocess.run(["bash", "-c", shlex.quote("./start.sh") + " --prepare"], cwd=course, env=env,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "installing" not in again.stderr and "making" not in again.stderr, again.stderr
    assert (course / names[0] / f"{names[0]}.ipynb").read_text().endswith("\n\n"), "a working copy was replaced"
