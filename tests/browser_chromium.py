"""Driving headless Chromium through Playwright: starting it, the menus, opening and running a notebook, screenshots.

Screenshots go to `screenshots_dir()`, a temporary folder unless $RUSTSYNC_SCREENSHOTS names one.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from pathlib import Path

from browser_lab import (
    JupyterLabServer,
    isolated_env,
)

SCREENSHOTS_ENV = "RUSTSYNC_SCREENSHOTS"
_screenshots: Path | None = Path(os.environ[SCREENSHOTS_ENV]) if os.environ.get(SCREENSHOTS_ENV) else None
CHROMIUM = os.environ.get("RUSTSYNC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
INSTALL_HINT = ("The browser test drives Debian's Chromium through Playwright. Install both: "
                "`apt-get install -y chromium` and `python -m pip install -r requirements.txt` (it pins playwright). "
                "Playwright's own browser download is not used; set RUSTSYNC_CHROMIUM to use another Chromium binary.")


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


def missing_browser() -> str | None:
    """Why the browser test cannot run here (what to install), or None when it can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as err:
        return f"Python package `playwright` is missing ({err}). {INSTALL_HINT}"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"No Chromium at {CHROMIUM}. {INSTALL_HINT}"
    return None


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
