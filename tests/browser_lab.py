"""JupyterLab on a copy of the course: the copy, a HOME of its own, a server that stops all it started.

`JupyterLabServer` starts `jupyter lab` on 127.0.0.1 (free port, random token, root = a
temporary copy of the course). Nothing goes outside the folders given: the server and
Chromium get a HOME of their own (`isolated_env`).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Outside a git checkout, what is never copied: git, caches, and what grading runs produce.
_NOT_COPIED = {".git", ".pytest_cache", ".ruff_cache", "__pycache__", ".ipynb_checkpoints", "screenshots",
               "node_modules", "gradebook.db", "submitted", "feedback", "autograded", "bench/out", "grades.csv",
               ".venv"}  # the environment start.sh makes

# Settings a student would click away; written as the server's user settings.
_SETTINGS = {
    # the "get notified about Jupyter news?" toast covers part of the page
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                         "checkForUpdates": False},
}


def isolated_env(home: Path, **extra: str) -> dict:
    """This process's environment with `home` as HOME and nothing that points at the caller's Jupyter,
    IPython, XDG or nbgrader folders, plus `extra`: what the server, nbgrader and Chromium get."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JUPYTER", "IPYTHON", "XDG_", "NBGRADER", "MPLCONFIGDIR"))}
    Path(home).mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), **extra)
    return env


def lessons_with_widgets() -> list[str]:
    """The lessons (notebooks/NN-*.ipynb) whose code uses widgets, as paths relative to the course's root."""
    import nbformat

    found = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if any(cell.cell_type == "code" and "widgets" in cell.source for cell in nb.cells):
            found.append(path.relative_to(ROOT).as_posix())
    return found


def copy_course(dest: Path) -> Path:
    """Copy the course to `dest` as a fresh clone of this checkout would have it, so running it leaves this one alone.

    The files git tracks or would track, as they are now (changes not committed included),
    nothing it ignores (caches, the gradebook, grading output, fetched assignments).
    """
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True)
    if listed.returncode == 0 and listed.stdout:
        for name in filter(None, listed.stdout.split("\0")):
            if (ROOT / name).is_file():
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, dest / name)
        return dest

    def ignore(folder, names):
        where = Path(folder).relative_to(ROOT)
        return {name for name in names
                if name in _NOT_COPIED or (where / name).as_posix() in _NOT_COPIED or name.endswith(".egg-info")}

    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)
    return dest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """In the server's process: get SIGTERM if pytest itself dies (killed before its finalizers could run)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG (Linux)


def _descendants(pid: int) -> list[int]:
    """Every live process below `pid` (kernels start in their own session, so killpg alone misses them)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class JupyterLabServer:
    """`jupyter lab` on 127.0.0.1 with a random free port and token, serving `root`."""

    def __init__(self, root: Path, state: Path, env: dict | None = None):
        self.root = Path(root)
        self.state = Path(state)  # settings, workspaces, runtime files, HOME, the log
        self.extra_env = dict(env or {})  # say, NBGRADER_EXCHANGE
        self.token = secrets.token_hex(16)
        self.port = None
        self.process = None
        self.log_path = self.state / "jupyterlab.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "lab") -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}/{path}{sep}token={self.token}"

    def start(self, timeout: float = 90) -> JupyterLabServer:
        settings = self.state / "settings"
        for name, values in _SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(values))
        for sub in ("workspaces", "runtime", "config", "ipython"):
            (self.state / sub).mkdir(parents=True, exist_ok=True)
        # HOME and every Jupyter folder inside `state`: nbgrader's cache (the student's record of
        # submissions) lives in the data folder, ~/.local/share/jupyter by default
        env = isolated_env(self.state / "home", JUPYTER_RUNTIME_DIR=str(self.state / "runtime"),
                           JUPYTER_CONFIG_DIR=str(self.state / "config"), JUPYTER_DATA_DIR=str(self.state / "data"),
                           IPYTHONDIR=str(self.state / "ipython"), **self.extra_env)
        for attempt in range(3):
            self.port = _free_port()
            cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
                   f"--port={self.port}", "--ServerApp.port_retries=0",
                   f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
                   f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={self.state / 'workspaces'}",
                   # lets the test read the notebook model (outputs, tags, kernel status); actions go through the UI
                   "--LabApp.expose_app_in_browser=True"]
            with open(self.log_path, "ab") as log:
                # cwd = the course root: nbgrader reads nbgrader_config.py from there
                self.process = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL, start_new_session=True,
                                                preexec_fn=_die_with_parent)
            if self._wait_ready(timeout):
                return self
            self.stop()
            if attempt == 2 or "address already in use" not in self.log_tail().lower():
                break
        raise RuntimeError(f"JupyterLab did not start within {timeout} s; its log ends with:\n{self.log_tail()}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        request = urllib.request.Request(f"{self.base_url}/api/status",
                                         headers={"Authorization": f"token {self.token}"})
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        return False

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, grace: float = 15) -> list[int]:
        """Stop the server (it shuts its kernels down), then kill whatever it started that is still alive.

        Returns the processes that did not stop on their own within `grace` seconds (killed).
        """
        if self.process is None:
            return []
        pid = self.process.pid
        started = _descendants(pid)
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                self.process.wait(10)
        deadline = time.monotonic() + grace
        while any(_alive(p) for p in started) and time.monotonic() < deadline:
            time.sleep(0.2)
        survivors = [child for child in started if _alive(child)]
        for child in survivors:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        self.process = None
        return survivors
