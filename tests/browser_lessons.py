"""The checks a student's eye makes, in JupyterLab in headless Chromium.

`check_lesson` opens a notebook, runs it through the menus, and returns the problems it saw: cells
showing errors, widgets that did not render, slider panels whose plot does not change or
stacks up, errors that slider callbacks logged. `check_nbgrader` opens the Nbgrader
menu's formgrader and assignment list, fetches and submits a released assignment, follows
its link to the lesson, and collects and autogrades it in formgrader.
"""

from __future__ import annotations

import os
import pwd
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from browser_chromium import (
    _JS_CELLS,
    _JS_FIND_PANEL,
    _JS_MARK_PANELS,
    _WIDGET_REPR,
    _cell_label,
    _log_console_errors,
    _move_slider,
    _output_state,
    _wait_widgets_rendered,
    menu,
    open_menu,
    open_notebook,
    run_all_cells,
    screenshot,
    screenshots_dir,
)
from browser_lab import (
    JupyterLabServer,
)
from browser_latency import (
    PanelLatency,
    measure_panel,
)


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
