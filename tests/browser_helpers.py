"""JupyterLab in headless Chromium: a server on a copy of the course, and the checks a student's eye makes.

`JupyterLabServer` starts `jupyter lab` on 127.0.0.1 (free port, random token, root = a
temporary copy of the course) and stops it with every process it started. `check_lesson`
opens a notebook, runs it through the menus, and returns the problems it saw: cells
showing errors, widgets that did not render, slider panels whose plot does not change or
stacks up, errors that slider callbacks logged. `check_nbgrader` opens the Nbgrader
menu's formgrader and assignment list, fetches and submits a released assignment, follows
its link to the lesson, and collects and autogrades it in formgrader.

Nothing goes outside the folders given: the server and Chromium get a HOME of their own
(`isolated_env`), and screenshots go to `screenshots_dir()`, a temporary folder unless
$RUSTSYNC_SCREENSHOTS names one.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS_ENV = "RUSTSYNC_SCREENSHOTS"
_screenshots: Path | None = Path(os.environ[SCREENSHOTS_ENV]) if os.environ.get(SCREENSHOTS_ENV) else None
CHROMIUM = os.environ.get("RUSTSYNC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
INSTALL_HINT = ("The browser test drives Debian's Chromium through Playwright. Install both: "
                "`apt-get install -y chromium` and `python -m pip install -r requirements.txt` (it pins playwright). "
                "Playwright's own browser download is not used; set RUSTSYNC_CHROMIUM to use another Chromium binary.")

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


def screenshots_dir() -> Path:
    """Where screenshots go: $RUSTSYNC_SCREENSHOTS, or the folder `use_screenshots_dir` gave, or a temporary one."""
    global _screenshots
    if _screenshots is None:
        _screenshots = Path(tempfile.mkdtemp(prefix="rustsync-screenshots-"))
    return _screenshots


def use_screenshots_dir(folder: Path) -> Path:
    """Send screenshots to `folder`, unless $RUSTSYNC_SCREENSHOTS names another one."""
    global _screenshots
    if not os.environ.get(SCREENSHOTS_ENV):
        _screenshots = Path(folder)
    return screenshots_dir()


@contextlib.contextmanager
def chromium_browser(home: Path):
    """Debian's Chromium under Playwright's sync API, its HOME in `home`; closed at the end.

    An earlier test of the same worker may leave an event loop marked running in this thread
    (nbclient and nest_asyncio, in-process nbgrader commands), although nothing runs in it
    at a fixture's setup; Playwright's sync API would then refuse to start, so the stale mark
    is cleared first.
    """
    import asyncio

    import pytest
    from playwright.sync_api import Error, sync_playwright

    if asyncio._get_running_loop() is not None:
        asyncio._set_running_loop(None)
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
                                                  env=isolated_env(home))
        except Error as err:
            pytest.fail(f"Chromium at {CHROMIUM} did not start: {err}\n{INSTALL_HINT}", pytrace=False)
        try:
            yield chromium
        finally:
            chromium.close()


def isolated_env(home: Path, **extra: str) -> dict:
    """This process's environment with `home` as HOME and nothing that points at the caller's Jupyter,
    IPython, XDG or nbgrader folders, plus `extra`: what the server, nbgrader and Chromium get."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JUPYTER", "IPYTHON", "XDG_", "NBGRADER", "MPLCONFIGDIR"))}
    Path(home).mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), **extra)
    return env


def missing_browser() -> str | None:
    """Why the browser test cannot run here (what to install), or None when it can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as err:
        return f"Python package `playwright` is missing ({err}). {INSTALL_HINT}"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"No Chromium at {CHROMIUM}. {INSTALL_HINT}"
    return None


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


# --------------------------------------------------------------------------------------------
# JavaScript run in the page. `window.jupyterapp` exists because of --LabApp.expose_app_in_browser.

_JS_FIND_PANEL = """
(path) => {
  const app = window.jupyterapp;
  if (!app) return null;
  for (const w of app.shell.widgets('main')) {
    if (w.context && w.context.path === path && w.content && w.content.widgets) return w;
  }
  return null;
}
"""

_JS_KERNEL_STATUS = f"""
(path) => {{
  const panel = ({_JS_FIND_PANEL})(path);
  if (!panel) return 'no notebook';
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return kernel ? kernel.status : 'no kernel';
}}
"""

_JS_RUN_STATE = f"""
(path) => {{
  const panel = ({_JS_FIND_PANEL})(path);
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  // JupyterLab does not execute empty code cells: they keep no execution count
  const cells = panel.content.widgets.filter(c => c.model.type === 'code' && c.model.sharedModel.getSource().trim());
  const pending = Array.from(panel.node.querySelectorAll('.jp-InputPrompt'))
      .filter(p => p.textContent.includes('*')).length;
  const errored = cells.some(c => c.model.outputs.toJSON().some(o => o.output_type === 'error'
      && !(c.model.getMetadata('tags') || []).includes('raises-exception')));
  const done = cells.filter(c => c.model.executionCount !== null).length;
  return {{status: kernel ? kernel.status : 'no kernel', pending, errored, done, total: cells.length}};
}}
"""

_JS_CELLS = f"""
(path) => {{
  const panel = ({_JS_FIND_PANEL})(path);
  return panel.content.widgets.map((cell, index) => {{
    const m = cell.model;
    const info = {{index, type: m.type, tags: m.getMetadata('tags') || [], source: m.sharedModel.getSource()}};
    if (m.type === 'code') {{
      info.count = m.executionCount;
      info.outputs = m.outputs.toJSON().map(o => ({{type: o.output_type, ename: o.ename || null,
          evalue: o.evalue || null, name: o.name || null, mimes: o.data ? Object.keys(o.data) : []}}));
    }}
    return info;
  }});
}}
"""

# Mark every slider panel: the nearest widget box around an Output widget that also holds a slider.
_JS_MARK_PANELS = """
(root) => {
  const panels = [];
  for (const out of root.querySelectorAll('.widget-output')) {
    const box = out.parentElement && out.parentElement.closest('.widget-box:has(.widget-slider)');
    if (box && !panels.includes(box)) panels.push(box);
  }
  panels.forEach((box, i) => box.setAttribute('data-browser-test-panel', String(i)));
  return panels.length;
}
"""

_WIDGET_REPR = re.compile(r"^\s*(<Figure size [^>]*>|[A-Z]\w*\((children|value|layout|options)=|"
                          r"<rustsync\.widgets\.\w+ object at)")


@dataclass
class LessonCheck:
    """What `check_lesson` saw in one notebook."""

    notebook: str
    problems: list[str] = field(default_factory=list)
    cells: int = 0
    code_cells: int = 0
    intended_errors: int = 0
    panels: int = 0
    plot_panels: int = 0  # panels whose output is a figure (an image)
    moves: int = 0
    latency: list[PanelLatency] = field(default_factory=list)  # with measure=True: one per panel
    screenshots: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    def report(self) -> str:
        lines = [f"{self.notebook}: {len(self.problems)} problem(s)"] + [f"  - {p}" for p in self.problems]
        lines.append(f"  screenshots: {screenshots_dir()}")
        return "\n".join(lines)


def _until_shown(page, menu_name: str, shown, what: str, timeout: float):
    """Click `menu_name` in the menu bar until `shown()` is true; wait on that, not on a fixed time.

    A click on the menu bar while a menu is open (another one, or this one still closing)
    only closes it, and on a loaded machine a menu can take seconds to show: so while
    nothing shows, the click is repeated every few seconds, after closing any open menu.
    """
    title = page.get_by_role("menuitem", name=menu_name, exact=True)
    deadline = time.monotonic() + timeout
    clicked = None
    while not shown():
        now = time.monotonic()
        if now > deadline:
            raise AssertionError(f"the {menu_name} menu did not show {what} within {timeout:g} s")
        if clicked is None or now - clicked > 3:
            if page.locator(".lm-Menu").count():
                page.keyboard.press("Escape")
            title.click()
            clicked = time.monotonic()
        page.wait_for_timeout(100)


def open_menu(page, menu_name: str, timeout: float = 60):
    """Open `menu_name` of the menu bar; return the locator of its items, once they show."""
    items = page.locator(".lm-Menu .lm-Menu-content li.lm-Menu-item")
    _until_shown(page, menu_name, lambda: items.count() > 0 and items.first.is_visible(), "its items", timeout)
    return items


def menu(page, menu_name: str, command: str, timeout: float = 60) -> None:
    """Click a menu of the menu bar, then its item for `command` (Lumino menus carry `data-command`)."""
    item = page.locator(f'.lm-Menu-content li.lm-Menu-item[data-command="{command}"]')
    _until_shown(page, menu_name, lambda: item.count() > 0 and item.first.is_visible(), repr(command), timeout)
    item.first.click()


def screenshot(target, name: str, shots: list[Path] | None = None) -> Path:
    folder = screenshots_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    target.screenshot(path=str(path))
    if shots is not None:
        shots.append(path)
    return path


def open_notebook(page, server: JupyterLabServer, path: str, workspace: str) -> None:
    """Open `path` (relative to the server root) in its own fresh workspace and wait for an idle kernel."""
    page.goto(server.url(f"lab/workspaces/{workspace}/tree/{path}?reset"))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    deadline = time.monotonic() + 60
    while True:
        dialog = page.locator(".jp-Dialog .jp-mod-accept")
        if dialog.count():  # "Select Kernel" when the notebook names no kernel: take the default
            dialog.first.click()
        status = page.evaluate(_JS_KERNEL_STATUS, path)
        if status == "idle":
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{path}: the kernel did not become idle within 60 s (status {status!r})")
        page.wait_for_timeout(250)


def run_all_cells(page, path: str, timeout: float) -> dict:
    """Edit > Clear Outputs of All Cells, Run > Run All Cells, then wait until the run has ended and settled."""
    menu(page, "Edit", "editmenu:clear-all")
    menu(page, "Run", "runmenu:run-all")
    deadline = time.monotonic() + timeout
    settled_since = None
    while True:
        state = page.evaluate(_JS_RUN_STATE, path)
        finished = (state["status"] == "idle" and state["pending"] == 0
                    and (state["done"] == state["total"] or state["errored"]))
        if finished:
            settled_since = settled_since or time.monotonic()
            if time.monotonic() - settled_since >= 1.0:
                return state
        else:
            settled_since = None
        if time.monotonic() > deadline:
            raise AssertionError(f"{path}: Run All Cells did not finish within {timeout:.0f} s "
                                 f"({state['done']} of {state['total']} code cells ran, kernel {state['status']})")
        page.wait_for_timeout(250)


def _cell_label(cell) -> str:
    first = next((line for line in cell["source"].splitlines() if line.strip()), "")
    return f"cell {cell['index'] + 1} (In [{cell.get('count') or ' '}], `{first[:60]}`)"


def _wait_widgets_rendered(page, notebook, timeout_ms: int = 30_000) -> bool:
    try:
        page.wait_for_function(
            "(node) => !Array.from(node.querySelectorAll('.jp-OutputArea-output'))"
            ".some(o => o.textContent.includes('Loading widget...'))",
            arg=notebook.element_handle(), timeout=timeout_ms)
        return True
    except Exception:  # playwright's TimeoutError; reported as a problem by the caller
        return False


def _slider_state(handle) -> dict:
    return handle.evaluate("h => ({now: Number(h.getAttribute('aria-valuenow')), "
                           "min: Number(h.getAttribute('aria-valuemin')), "
                           "max: Number(h.getAttribute('aria-valuemax')), "
                           "label: (h.closest('.widget-slider').querySelector('.widget-label') || {}).textContent})")


def _output_state(output) -> dict:
    """What an Output widget shows: one signature per output (an image's bytes, else its text), images counted."""
    return output.evaluate(
        "out => { const items = Array.from(out.querySelectorAll('.jp-OutputArea-output'));"
        " return {sig: items.map(o => { const img = o.querySelector('img');"
        " return img ? 'img:' + img.getAttribute('src') : (o.getAttribute('data-mime-type') + ':' + o.textContent); }),"
        " images: out.querySelectorAll('img').length}; }")


def _move_slider(page, handle, output, before: dict, direction: int, timeout_ms: int) -> tuple[str, dict]:
    """Press an arrow key on a slider handle; return (problem or '', what the output shows after)."""
    state = _slider_state(handle)
    if direction > 0 and state["now"] >= state["max"]:
        direction = -1
    if direction < 0 and state["now"] <= state["min"]:
        direction = 1
    handle.focus()
    handle.press("ArrowRight" if direction > 0 else "ArrowLeft")
    what = f"slider '{state['label']}' from {state['now']:g}"
    shown = "plot" if before["images"] else "output"
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        now = _slider_state(handle)["now"]
        after = _output_state(output)
        if now != state["now"] and after["sig"] and after["sig"] != before["sig"]:
            page.wait_for_timeout(300)  # let a stacking redraw show itself, if any
            return "", _output_state(output)
        if time.monotonic() > deadline:
            if now == state["now"]:
                return f"{what}: the arrow key did not move it", after
            return f"{what} to {now:g}: the {shown} did not change within {timeout_ms / 1000:g} s", after
        page.wait_for_timeout(100)


def _log_console_errors(page, path: str) -> list[str]:
    """Errors the kernel sent outside any cell (slider callbacks), from View > Show Log Console."""
    menu(page, "View", "logconsole:open")
    console = page.locator(".jp-LogConsolePanel")
    console.wait_for(state="visible", timeout=10_000)
    page.wait_for_timeout(300)
    entries = console.locator(f'[id="source:{path}"] .jp-OutputArea-child').evaluate_all(
        "children => children.map(c => ({"
        "level: (c.querySelector('[data-log-level]') || {dataset: {}}).dataset.logLevel,"
        "text: (c.querySelector('.jp-OutputArea-output') || {textContent: ''}).textContent}))")
    errors = []
    for entry in entries:
        if entry["level"] == "error" or "Traceback" in entry["text"]:
            last = [line for line in entry["text"].strip().splitlines() if line.strip()]
            errors.append(last[-1].strip() if last else "(empty error)")
    return errors


# --------------------------------------------------------------------------------------------
# Slider latency, in the browser's own clock. A watcher installed on a panel before a key press
# records, with performance.now(): each keydown; each time the output shows something new (an
# image's src, or a text output's text); each "computing…" line of `rustsync.widgets` (the
# `.rustsync-busy` span): when it entered and left the DOM, its CSS delay, the first frame that
# painted it visible and the first frame that painted the old figure faded (`.rustsync-stale`).

_JS_WATCH = """
(panel) => {
  if (panel.__watch) panel.__watch.stop();
  const out = panel.querySelector('.widget-output');
  const hash = (s) => {
    let h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
    return s.length.toString(36) + '-' + h.toString(36);
  };
  const sig = () => {
    const img = out.querySelector('img');
    return img ? 'img:' + img.getAttribute('src') : 'text:' + out.textContent;
  };
  let last = sig();
  const rec = {keys: [], episodes: [], shown: [], before: hash(last), image: last.startsWith('img:'),
               lastMutation: performance.now()};
  let episode = null, busyEl = null, stopped = false;
  const look = () => {
    const now = performance.now();
    rec.lastMutation = now;
    const busy = panel.querySelector('.rustsync-busy');
    if (episode && busy !== busyEl) { episode.out = now; episode = null; busyEl = null; }
    if (busy && !episode) {
      busyEl = busy;
      episode = {in: now, out: null, text: busy.textContent, delay: getComputedStyle(busy).animationDelay,
                 visible: null, faded: null, stale: panel.classList.contains('rustsync-stale')};
      rec.episodes.push(episode);
    }
    if (episode && panel.classList.contains('rustsync-stale')) episode.stale = true;
    const s = sig();
    if (s !== last) { last = s; rec.shown.push({at: now, sig: hash(s), image: s.startsWith('img:')}); }
  };
  const observer = new MutationObserver(look);
  observer.observe(panel, {subtree: true, childList: true, attributes: true, characterData: true});
  const onKey = () => rec.keys.push(performance.now());
  panel.addEventListener('keydown', onKey, true);
  // what a frame paints: the line's computed visibility and box, the old figure's opacity
  const frame = (t) => {
    if (stopped) return;
    if (episode && busyEl.isConnected) {
      const box = busyEl.getBoundingClientRect();
      if (episode.visible === null && getComputedStyle(busyEl).visibility === 'visible'
          && box.width > 0 && box.height > 0) episode.visible = t;
      const img = out.querySelector('img');
      if (img && episode.faded === null && Number(getComputedStyle(img).opacity) < 1) episode.faded = t;
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  panel.__watch = {rec, stop: () => {
    stopped = true; observer.disconnect(); panel.removeEventListener('keydown', onKey, true);
  }};
}
"""

_JS_WATCHED = """
(panel) => {
  const rec = panel.__watch.rec;
  const out = panel.querySelector('.widget-output');
  const img = out.querySelector('img');
  return {...rec, now: performance.now(), busy: !!panel.querySelector('.rustsync-busy'),
          stale: panel.classList.contains('rustsync-stale'), opacity: img ? Number(getComputedStyle(img).opacity) : 1,
          images: out.querySelectorAll('img').length, text: out.textContent,
          caption: (panel.querySelector('.rustsync-caption') || {textContent: ''}).textContent,
          values: Array.from(panel.querySelectorAll('.noUi-handle')).map(h => Number(h.getAttribute('aria-valuenow'))),
          others: Array.from(panel.querySelectorAll('select, input')).map(e => e.value)};
}
"""

# A computing line that stays this much longer than its CSS delay must have been painted visible.
FRAME_SLACK_MS = 100


@dataclass
class Press:
    """One key press (or a burst of them) on a slider, as the watcher saw it."""

    slider: str
    keys: list[str]
    phase: str  # "to max" (End, first), "step" (an arrow press, timed), "burst" (arrows back to back), "back" (End)
    start: float = 0.0  # the slider's value before and after
    end: float = 0.0
    ms: float | None = None  # the (last) key press to the first new image, or new text, in the DOM
    computed: bool = False  # the panel computed the figure: its "computing…" line entered the DOM
    busy_after_ms: float | None = None  # the key press to the computing line in the DOM
    busy_ms: float | None = None  # how long the computing line stayed in the DOM
    checked: bool = False  # it stayed so long (its delay + FRAME_SLACK_MS) that a frame must have shown it
    shown: bool = False  # a frame painted the line visible and the old figure faded
    figure: str = ""  # what the output shows once the move is done (a hash of the image or text)


@dataclass
class PanelLatency:
    """The slider presses measured on one panel, and what was wrong with its busy and final states."""

    lesson: str
    panel: str
    kind: str  # "figure" (a `rustsync.widgets` panel) or "output" (any other slider and output)
    settings: str = ""
    presses: list[Press] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def timed(self) -> list[Press]:
        """The arrow presses at and next to the largest setting: the figures reported."""
        return [p for p in self.presses if p.phase == "step" and p.ms is not None]

    def report(self) -> str:
        what = "new image in the DOM" if self.kind == "figure" else "new output in the DOM"
        lines = [f"{self.lesson} {self.panel}, at {self.settings}: key press to {what}"]
        sliders = list(dict.fromkeys(p.slider for p in self.presses))
        for slider in [*sliders, "all"]:
            presses = [p for p in self.timed if slider in ("all", p.slider)]
            line = f"    {slider:<11} {_stats(presses)}"
            if self.kind == "figure":
                line += (f" | computed {_stats([p for p in presses if p.computed], short=True)}"
                         f" | shown before {_stats([p for p in presses if not p.computed], short=True)}")
            first = [p for p in self.presses if p.slider == slider and p.phase == "to max" and p.ms is not None]
            if first:
                line += f" | End to {first[0].end:g}: {first[0].ms:.0f} ms"
            lines.append(line)
        if self.kind == "figure":
            checked = [p for p in self.presses if p.checked]
            after = [p.busy_after_ms for p in self.presses if p.busy_after_ms is not None]
            lines.append(f"    computing line painted and old figure faded on {sum(p.shown for p in checked)} of "
                         f"{len(checked)} moves whose line stayed over its delay + {FRAME_SLACK_MS} ms"
                         + (f"; the line entered the DOM {_median(after):.0f} ms after the key (median)"
                            if after else ""))
        return "\n".join(lines)


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _stats(presses: list[Press], short: bool = False) -> str:
    if not presses:
        return "0" if short else "0 presses"
    times = [p.ms for p in presses]
    if short:
        return f"{len(times)}: median {_median(times):.0f}, worst {max(times):.0f}"
    return f"{len(times):2d} presses: median {_median(times):6.0f} ms, worst {max(times):6.0f} ms"


def _delay_ms(css: str | None) -> float:
    """A CSS time ('0.08s', '80ms') in milliseconds."""
    if not css:
        return 0.0
    first = css.split(",")[0].strip()
    return float(first[:-2]) if first.endswith("ms") else float(first.rstrip("s")) * 1000


def _watch_press(page, path: str, panel, handle, keys: list[str], slider: str, phase: str, timeout_ms: int,
                 settle_ms: int = 300) -> tuple[Press, dict, str]:
    """Press `keys` on the focused slider `handle`, back to back; wait until the move is done.

    Done: the output shows something new since the key press, no computing line and no
    fade are left, the panel's DOM has not changed for `settle_ms`, and the kernel is idle.
    Returns the press, the watcher's record and a problem ('' when the move got done).
    """
    panel.evaluate(_JS_WATCH)
    handle.focus()
    for key in keys:
        page.keyboard.press(key)
    new: list[dict] = []
    pressed = time.monotonic()
    deadline = pressed + timeout_ms / 1000
    while True:
        page.wait_for_timeout(100)
        rec = panel.evaluate(_JS_WATCHED)
        if not rec["keys"] and time.monotonic() - pressed > 5:
            problem = f"{'+'.join(keys)} on slider '{slider}': the panel saw no key press (focus elsewhere?)"
            break
        new = [s for s in rec["shown"] if rec["keys"] and s["at"] >= rec["keys"][-1]]
        if (new and not rec["busy"] and not rec["stale"] and rec["now"] - rec["lastMutation"] >= settle_ms
                and page.evaluate(_JS_KERNEL_STATUS, path) == "idle"):
            problem = ""
            break
        if time.monotonic() > deadline:
            problem = (f"after {'+'.join(keys)} on slider '{slider}' the output showed nothing new within "
                       f"{timeout_ms / 1000:g} s" if not new else
                       f"after {'+'.join(keys)} on slider '{slider}' the panel did not settle within "
                       f"{timeout_ms / 1000:g} s (computing line {rec['busy']}, faded {rec['stale']})")
            break
    panel.evaluate("p => p.__watch.stop()")
    press = Press(slider, keys, phase)
    if rec["keys"]:
        key = rec["keys"][-1]
        if new:
            press.ms = new[0]["at"] - key
        press.computed = bool(rec["episodes"])
        if rec["episodes"]:
            press.busy_after_ms = rec["episodes"][0]["in"] - rec["keys"][0]
    return press, rec, problem


def measure_panel(page, path: str, panel, lesson: str, name: str, *, steps: int = 3,
                  timeout_ms: int = 60_000) -> PanelLatency:
    """Move every slider of `panel` to its maximum (End), then time arrow presses at and next to it.

    Per slider: `steps` presses of ArrowLeft (settings next to the largest, computed the
    first time), `steps` of ArrowRight back (shown before), then the same ArrowLeft presses
    back to back without waiting, then End. Each press is timed from its keydown to the
    first new image in the panel's output (a changed `<img>` src; for a panel that shows
    text, a changed text), in the browser's clock. Problems: a move after which nothing new
    shows, or the panel does not settle; for a `rustsync.widgets` panel (`.rustsync-panel`),
    a computing line that stayed in the DOM past its CSS delay (+ FRAME_SLACK_MS) while no
    frame painted it visible, or the old figure faded; a computing line that does not name
    the slider's new value; once done, a computing line or fade left, or a
    figure that is not the one of the sliders' settings: not the figure the same settings
    showed before, the figure of other settings, or a caption naming another step. A panel
    that shows text must mention the slider's value.
    """
    kind = "figure" if "rustsync-panel" in (panel.get_attribute("class") or "") else "output"
    result = PanelLatency(lesson, name, kind)
    handles = panel.locator(".noUi-handle")
    labels = [_slider_state(handles.nth(i))["label"] or f"slider {i + 1}" for i in range(handles.count())]
    figures: dict[tuple, str] = {}  # settings (every control's value) -> the figure they showed

    def settings(rec) -> tuple:
        return tuple(rec["values"]) + tuple(rec["others"])

    def press(index: int, keys: list[str], phase: str) -> None:
        handle = handles.nth(index)
        before = _slider_state(handle)
        shown, rec, problem = _watch_press(page, path, panel, handle, keys, labels[index], phase, timeout_ms)
        shown.start, shown.end = before["now"], rec["values"][index]
        result.presses.append(shown)
        what = f"'{labels[index]}' {before['now']:g} -> {shown.end:g} ({'+'.join(keys)})"
        if problem:
            result.problems.append(problem)
            return
        new = [s for s in rec["shown"] if s["at"] >= rec["keys"][-1]]
        shown.figure = new[-1]["sig"]
        if kind == "figure":
            _check_busy(result, rec, shown, what, labels[index])
            if rec["opacity"] < 1 or rec["images"] != 1:
                result.problems.append(f"{what}: once done the panel shows {rec['images']} image(s) at opacity "
                                       f"{rec['opacity']:g}; expected one figure, not faded")
            if not new[-1]["image"]:
                result.problems.append(f"{what}: once done the panel's output shows no image")
            key = settings(rec)
            if key in figures and figures[key] != shown.figure:
                result.problems.append(f"{what}: the figure shown is not the one these settings showed before "
                                       f"(a stale or wrong figure)")
            for other, figure in figures.items():
                if other != key and figure == shown.figure:
                    result.problems.append(f"{what}: shows the figure of the settings {other}, not of {key}")
            figures.setdefault(key, shown.figure)
            step = re.search(r"\bstep (\d+)\b", rec["caption"]) if "step" in labels[index] else None
            if step and int(step.group(1)) != shown.end:
                result.problems.append(f"{what}: the caption names step {step.group(1)}: {rec['caption'][:80]!r}")
        elif not re.search(rf"(?<![\d.]){shown.end:g}(?![\d.])", rec["text"]):
            result.problems.append(f"{what}: the output does not mention {shown.end:g}: {rec['text'][:80]!r}")

    panel.scroll_into_view_if_needed()
    if kind == "figure":  # the figure shown before any press is the one of the settings shown
        panel.evaluate(_JS_WATCH)
        rec = panel.evaluate(_JS_WATCHED)
        panel.evaluate("p => p.__watch.stop()")
        if rec["image"]:
            figures[settings(rec)] = rec["before"]
    for index in range(handles.count()):
        state = _slider_state(handles.nth(index))
        if state["now"] < state["max"]:
            press(index, ["End"], "to max")
    top = [_slider_state(handles.nth(i)) for i in range(handles.count())]
    result.settings = ", ".join(f"{label} {state['now']:g}" for label, state in zip(labels, top, strict=True))
    for index, state in enumerate(top):
        if state["now"] != state["max"]:
            result.problems.append(f"End on slider '{labels[index]}' left it at {state['now']:g}, "
                                   f"not its maximum {state['max']:g}")
            continue
        walk = int(min(steps, state["max"] - state["min"]))
        for key in ["ArrowLeft"] * walk + ["ArrowRight"] * walk:
            press(index, [key], "step")
        if walk:
            press(index, ["ArrowLeft"] * walk, "burst")
            press(index, ["End"], "back")
    return result


def _check_busy(result: PanelLatency, rec: dict, press: Press, what: str, label: str) -> None:
    """The computing lines of one move: named after the new value, painted visible with the figure faded
    when they stayed past their delay, and the last one gone before the figure it announced."""
    word = label.split()[-1] if label.split() else label
    value = f"{press.end:g}"
    named = re.compile(rf"\b{re.escape(value)} {re.escape(word)}\b|\b{re.escape(word)} {re.escape(value)}\b")
    for episode in rec["episodes"]:
        if episode["out"] is None:
            continue
        stayed = episode["out"] - episode["in"]
        press.busy_ms = stayed if press.busy_ms is None else press.busy_ms + stayed
        delay = _delay_ms(episode["delay"])
        if stayed >= delay + FRAME_SLACK_MS:
            press.checked = True
            press.shown = episode["visible"] is not None and episode["faded"] is not None
            if episode["visible"] is None:
                result.problems.append(f"{what}: the computing line stayed {stayed:.0f} ms in the page "
                                       f"(delay {delay:.0f} ms) and no frame showed it")
            if episode["faded"] is None:
                result.problems.append(f"{what}: the computing line stayed {stayed:.0f} ms in the page "
                                       f"(delay {delay:.0f} ms) and the old figure never faded")
        if stayed >= delay and not episode["stale"]:
            result.problems.append(f"{what}: while computing, the panel was not marked stale (rustsync-stale)")
    if rec["episodes"]:
        last = rec["episodes"][-1]
        if not named.search(last["text"]):
            result.problems.append(f"{what}: the last computing line does not name {word} {value}: "
                                   f"{last['text']!r}")
        if last["out"] is not None and rec["shown"] and rec["shown"][-1]["at"] < last["out"]:
            result.problems.append(f"{what}: the last figure came before the computing line that announced it left")


def check_lesson(page, server: JupyterLabServer, path: str, *, name: str | None = None,
                 run_timeout: float = 240, moves: int = 3, redraw_timeout_ms: int = 60_000,
                 measure: bool = False, measure_steps: int = 3) -> LessonCheck:
    """Open `path`, run all cells through the menus, and check what a student would see.

    Problems reported: a cell showing an error that is not tagged `raises-exception`; a cell
    that did not run; a widget that did not render ("Loading widget...", or its plain-text
    repr); for every slider panel (a widget box holding a slider and an Output): not exactly
    one image before and after the moves, a slider whose move does not change the image, an
    error inside the panel's output, and errors logged by slider callbacks. A move has
    `redraw_timeout_ms` to change the image: generous, since on a loaded machine a redraw
    can wait behind a slow one (2 threads x 4 increments explores 12,870 schedules).

    With `measure`, each panel's sliders are first moved to their maximum and arrow presses
    next to it timed (`measure_panel`, results in `check.latency`); its problems (the
    computing line, the fade, the figure shown once a move is done) are the check's too.
    """
    name = name or Path(path).stem
    check = LessonCheck(path)
    started = time.monotonic()
    problems = check.problems
    open_notebook(page, server, path, workspace=re.sub(r"\W+", "-", name))
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").first
    run_all_cells(page, path, run_timeout)

    cells = page.evaluate(_JS_CELLS, path)
    check.cells = len(cells)
    code = [c for c in cells if c["type"] == "code"]
    check.code_cells = len(code)
    for cell in code:
        errors = [o for o in cell["outputs"] if o["type"] == "error"]
        if errors and "raises-exception" in cell["tags"]:
            check.intended_errors += 1
        for err in errors if "raises-exception" not in cell["tags"] else []:
            problems.append(f"{_cell_label(cell)} shows an error: {err['ename']}: {err['evalue']}")
        if cell["count"] is None and cell["source"].strip():
            problems.append(f"{_cell_label(cell)} did not run (the run stopped before it)")

    if not _wait_widgets_rendered(page, notebook):
        problems.append("a widget still shows 'Loading widget...' after 30 s (is the ipywidgets "
                        "JupyterLab extension, jupyterlab_widgets, installed?)")
    # textContent, not innerText: cells out of view are not rendered (content-visibility) and have no innerText
    outputs = notebook.locator(".jp-OutputArea-output").evaluate_all(
        "outs => outs.map(o => ({mime: o.getAttribute('data-mime-type'), text: o.textContent, "
        "index: Number(o.closest('.jp-Cell')?.getAttribute('data-windowed-list-index') ?? -1)}))")
    for out in outputs:
        where = _cell_label(cells[out["index"]]) if 0 <= out["index"] < len(cells) else "an output"
        if out["mime"] == "text/plain" and _WIDGET_REPR.match(out["text"]):
            problems.append(f"{where} shows a plain-text repr instead of a rendered widget or figure: "
                            f"{out['text'].strip()[:80]!r} (is jupyterlab_widgets installed?)")
        if out["text"].startswith("Error displaying widget"):
            problems.append(f"{where}: {out['text'].strip()[:120]}")

    page.wait_for_timeout(500)
    notebook.evaluate("n => [n, ...n.querySelectorAll('.jp-WindowedPanel-outer')].forEach(s => { s.scrollTop = 0; })")
    screenshot(page, f"{name}-ran", check.screenshots)

    check.panels = notebook.evaluate(_JS_MARK_PANELS)
    for k in range(check.panels):
        panel = notebook.locator(f'[data-browser-test-panel="{k}"]')
        panel.scroll_into_view_if_needed()
        output = panel.locator(".widget-output").first
        label = f"panel {k + 1} (in {_panel_cell(panel, cells)})"
        shown = first = _output_state(output)
        check.plot_panels += bool(first["images"])
        if not first["sig"]:
            problems.append(f"{label} shows nothing in its output before any slider moved")
        elif first["images"] > 1:
            problems.append(f"{label} shows {first['images']} images before any slider moved; expected one figure")
        for select in panel.locator("select").evaluate_all(
                "ss => ss.map(s => ({i: s.selectedIndex, label: (s.closest('.widget-dropdown') || s.parentElement)"
                ".querySelector('.widget-label')?.textContent || ''}))"):
            if select["i"] < 0:
                problems.append(f"{label}: dropdown '{select['label']}' shows no selected option")
        screenshot(panel, f"{name}-panel{k + 1}-before", check.screenshots)
        # measured first, so that the largest setting and those next to it are shown for the first time
        if measure:
            source = cells[_panel_index(panel)]["source"] if 0 <= _panel_index(panel) < len(cells) else ""
            built = re.search(r"\b(\w+Panel)\(", source) or re.search(r"\b(interact\w*)\(", source)
            timing = measure_panel(page, path, panel, Path(path).stem[:2],
                                   f"{built.group(1) if built else 'panel'} (cell {_panel_index(panel) + 1})",
                                   steps=measure_steps, timeout_ms=redraw_timeout_ms)
            check.latency.append(timing)
            problems += [f"{label}: {problem}" for problem in timing.problems]
            screenshot(panel, f"{name}-panel{k + 1}-measured", check.screenshots)
            shown = _output_state(output)
        handles = panel.locator(".noUi-handle")
        # every slider once, then the first one again until `moves` moves are done
        order = list(range(handles.count())) + [0] * max(0, moves - handles.count())
        for index in order:
            problem, shown = _move_slider(page, handles.nth(index), output, shown, 1, redraw_timeout_ms)
            check.moves += 1
            if problem:
                problems.append(f"{label}: {problem}")
        # a plot panel shows one figure, redrawn in place; any panel's output is replaced, not appended to
        if first["images"] and shown["images"] != 1:
            problems.append(f"{label} shows {shown['images']} images after {len(order)} slider moves; "
                            f"expected one figure redrawn in place")
        elif len(shown["sig"]) > len(first["sig"]):
            problems.append(f"{label}: its output grew from {len(first['sig'])} to {len(shown['sig'])} items "
                            f"after {len(order)} slider moves; expected it to be replaced")
        stderr = output.locator('[data-mime-type="application/vnd.jupyter.stderr"]').all_text_contents()
        for text in stderr:
            last = [line for line in text.strip().splitlines() if line.strip()]
            problems.append(f"{label} shows an error in its output: {last[-1] if last else '(empty)'}")
        screenshot(panel, f"{name}-panel{k + 1}-after", check.screenshots)

    for error in _log_console_errors(page, path):
        problems.append(f"the kernel logged an error outside the cells (a widget callback?): {error}")
    screenshot(page, f"{name}-log-console", check.screenshots)
    page.evaluate(f"(path) => ({_JS_FIND_PANEL})(path).sessionContext.shutdown()", path)
    check.seconds = time.monotonic() - started
    return check


def _panel_index(panel) -> int:
    return panel.evaluate("p => Number(p.closest('.jp-Cell').getAttribute('data-windowed-list-index'))")


def _panel_cell(panel, cells) -> str:
    index = _panel_index(panel)
    return _cell_label(cells[index]) if 0 <= index < len(cells) else "?"


def _frame_with(page, url_part: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for frame in page.frames:
            if url_part in frame.url:
                return frame
        page.wait_for_timeout(200)
    raise AssertionError(f"no frame loaded {url_part!r} within {timeout:g} s; frames: {[f.url for f in page.frames]}")


def check_nbgrader(page, server: JupyterLabServer, assignments: list[str], released: str | None) -> list[str]:
    """Open Nbgrader > Formgrader and Nbgrader > Assignment List; return the problems seen.

    `assignments`: the ids the formgrader must list (the folders of `source/`). `released`:
    an assignment released to the exchange beforehand, which the student's list must offer
    to fetch; the panel's Fetch and Submit buttons must then move it to the downloaded and
    submitted lists, as a student's clicks would. The fetched notebook's link to its lesson
    must open the lesson, and formgrader's Collect and Autograde buttons must then grade
    the submission (`check_formgrader_autograde`).
    """
    problems = []
    page.goto(server.url("lab/workspaces/nbgrader?reset"))
    page.wait_for_selector("#jp-MainMenu", timeout=60_000)
    items = open_menu(page, "Nbgrader")
    commands = items.evaluate_all("els => els.map(e => e.dataset.command)")
    screenshot(page, "nbgrader-menu")
    page.keyboard.press("Escape")
    for command in ("nbgrader:open-formgrader", "nbgrader:open-assignment-list"):
        if command not in commands:
            problems.append(f"the Nbgrader menu has no {command!r} item (menu: {commands})")
    if problems:
        return problems

    menu(page, "Nbgrader", "nbgrader:open-formgrader")
    frame = _frame_with(page, "/formgrader")
    heading = frame.get_by_role("heading", name="Manage Assignments")
    try:
        heading.wait_for(state="visible", timeout=30_000)
    except Exception:
        problems.append("Nbgrader > Formgrader did not show 'Manage Assignments'")
    table = frame.locator("table")
    try:  # the page asks the server for its list (slow on a loaded machine), then replaces this row with it
        table.get_by_text("Loading, please wait...").first.wait_for(state="detached", timeout=120_000)
        table.locator("td.name").first.wait_for(state="visible", timeout=30_000)
    except Exception:
        problems.append("the formgrader's list of assignments did not load within 150 s")
    listed = set(table.locator("td.name").all_inner_texts())
    for assignment in assignments:
        if assignment not in {name.strip() for name in listed}:
            problems.append(f"the formgrader does not list the assignment {assignment!r} from source/ "
                            f"(it lists {sorted(listed)})")
    body = frame.locator("body").inner_text()
    if "does not exist" in body:
        problems.append("the formgrader warns: " + next(line for line in body.splitlines() if "does not exist" in line))
    page.wait_for_timeout(500)
    screenshot(page, "nbgrader-formgrader")

    menu(page, "Nbgrader", "nbgrader:open-assignment-list")
    released_list = page.locator("#released_assignments_list")
    try:
        released_list.wait_for(state="visible", timeout=30_000)
    except Exception:
        problems.append("Nbgrader > Assignment List did not show its 'Released assignments' list")
        screenshot(page, "nbgrader-assignment-list")
        return problems
    if released:
        row = released_list.locator(".list_item", has_text=released)
        try:
            row.wait_for(state="visible", timeout=30_000)
        except Exception:
            problems.append(f"the student's assignment list does not offer the released assignment {released!r}: "
                            f"{released_list.inner_text()[:300]!r}")
        screenshot(page, "nbgrader-assignment-list")
        if not problems:
            row.get_by_role("button", name="Fetch").click()
            fetched = page.locator("#fetched_assignments_list .list_item", has_text=released)
            try:
                fetched.first.wait_for(state="visible", timeout=30_000)
            except Exception:
                problems.append(f"after Fetch, {released!r} does not show under 'Downloaded assignments'")
            screenshot(page, "nbgrader-assignment-list-fetched")
            if not problems:
                fetched.first.get_by_role("button", name="Submit").click()
                submitted = page.locator("#submitted_assignments_list .list_item", has_text=released)
                try:
                    submitted.first.wait_for(state="visible", timeout=30_000)
                except Exception:
                    problems.append(f"after Submit, {released!r} does not show under 'Submitted assignments'")
                screenshot(page, "nbgrader-assignment-list-submitted")
    else:
        screenshot(page, "nbgrader-assignment-list")
    text = page.locator(".jp-NbgraderAssignmentList, #jp-main-dock-panel").first.inner_text()
    if "does not exist" in text:
        problems.append("the assignment list warns that the exchange directory does not exist")
    if released and not problems:
        problems += check_lesson_link(page, server, f"{released}/{released}.ipynb")
        problems += check_formgrader_autograde(page, server, released, pwd.getpwuid(os.getuid()).pw_name)
    return problems


def check_lesson_link(page, server: JupyterLabServer, path: str, timeout: float = 60) -> list[str]:
    """Open the notebook `path` (a fetched assignment) and click its first link to a lesson; the lesson must open."""
    page.goto(server.url(f"lab/workspaces/lesson-link/tree/{path}?reset"))
    link = page.locator(".jp-RenderedMarkdown a[href*='notebooks/']").first
    try:
        link.wait_for(state="visible", timeout=timeout * 1000)
    except Exception:
        return [f"{path} shows no link to a lesson (notebooks/...)"]
    lesson = "notebooks/" + link.inner_text().strip().rsplit("/", 1)[-1]
    link.click()
    deadline = time.monotonic() + timeout
    while page.evaluate(f"(path) => !!({_JS_FIND_PANEL})(path)", lesson) is False:
        if time.monotonic() > deadline:
            screenshot(page, "lesson-link")
            return [f"the link of {path} to its lesson did not open {lesson} within {timeout:g} s"]
        page.wait_for_timeout(250)
    screenshot(page, "lesson-link")
    return []


def _formgrader_modal(frame, timeout: float) -> tuple[str, str]:
    """Wait for formgrader's result dialog; return ('success' or 'error', its text), and close it."""
    modal = frame.locator("#success-modal, #error-modal").first
    modal.wait_for(state="visible", timeout=timeout * 1000)
    kind = "success" if modal.get_attribute("id") == "success-modal" else "error"
    text = modal.inner_text()
    modal.locator(".modal-footer button").first.click()
    modal.wait_for(state="detached", timeout=30_000)
    return kind, text


def check_formgrader_autograde(page, server: JupyterLabServer, assignment: str, student: str,
                               timeout: float = 300) -> list[str]:
    """In Nbgrader > Formgrader: Collect `assignment`, open its submissions, Autograde `student`'s; return problems.

    On a fresh clone nothing has run `nbgrader generate_assignment`: the Autograde button must work all the same.
    """
    page.goto(server.url("lab/workspaces/grading?reset"))  # a name not in the frame URL looked for
    page.wait_for_selector("#jp-MainMenu", timeout=60_000)
    menu(page, "Nbgrader", "nbgrader:open-formgrader")
    frame = _frame_with(page, "/formgrader")
    row = frame.locator("tr").filter(has=frame.locator("td.name", has_text=re.compile(rf"^{re.escape(assignment)}$")))
    collect = row.locator("td.collect a")
    try:
        collect.wait_for(state="visible", timeout=60_000)
    except Exception:
        screenshot(page, "formgrader-collect")
        return [f"formgrader shows no Collect button for {assignment!r}"]
    collect.click()
    kind, text = _formgrader_modal(frame, timeout)
    if kind != "success":
        screenshot(page, "formgrader-collect")
        return [f"formgrader's Collect of {assignment!r} failed: {text[-1500:]}"]
    submissions = row.locator("td.num-submissions a")
    submissions.wait_for(state="visible", timeout=60_000)
    submissions.click()
    submission = frame.locator("tr").filter(has=frame.locator("td.student-id", has_text=re.compile(
        rf"^{re.escape(student)}$")))
    autograde = submission.locator("td.autograde a")
    try:
        autograde.wait_for(state="visible", timeout=60_000)
    except Exception:
        screenshot(page, "formgrader-submissions")
        return [f"formgrader's submissions of {assignment!r} show no Autograde button for {student!r}"]
    autograde.click()
    kind, text = _formgrader_modal(frame, timeout)
    screenshot(page, "formgrader-autograded")
    if kind != "success":
        return [f"formgrader's Autograde of {student!r}'s {assignment!r} failed: {text[-1500:]}"]
    score = submission.locator("td.score")
    deadline = time.monotonic() + 60
    while not re.fullmatch(r"\s*[\d.]+ / [\d.]+\s*", score.inner_text()):
        if time.monotonic() > deadline:
            return [f"after Autograde, formgrader shows no score for {student!r}: {submission.inner_text()!r}"]
        page.wait_for_timeout(250)
    return []
