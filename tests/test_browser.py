"""JupyterLab in headless Chromium: lessons run from the menus, their sliders redraw in place, nbgrader's panels open.

Each lesson's slider panels are also timed at their largest setting, in the browser's clock
(key press to the new image in the DOM), and the figures printed at the end of pytest's
output, "slider latency" (printed, never asserted: the machine is shared). What is asserted
is what a student must see: a move that computes for longer than the panel's delay shows
its "computing…" line and fades the old figure, and once a move is done the figure is the
one of the slider's value (`measure_panel`).

Needs Debian's Chromium (`apt-get install -y chromium`) and the `playwright` package
(requirements.txt); without them these tests fail and say what to install. Everything
stays in pytest's temporary folder: the copy of the course, its exchange, the HOME of the
server, of nbgrader and of Chromium (so nbgrader's cache of submissions too), and the
screenshots of every checked state (or in $RUSTSYNC_SCREENSHOTS, when set).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from browser_chromium import (
    chromium_browser,
    missing_browser,
    open_notebook,
    run_all_cells,
    screenshot,
    screenshots_dir,
    use_screenshots_dir,
)
from browser_lab import ROOT, JupyterLabServer, copy_course, isolated_env, lessons_with_widgets
from browser_lessons import check_lesson, check_nbgrader

# Lessons 00 and 05 must pass; every other lesson whose code uses widgets is checked too.
REQUIRED = ["notebooks/00-shared-state-concurrency.ipynb", "notebooks/05-atomic-reference-counting-with-arc.ipynb"]
LESSONS = REQUIRED + [p for p in lessons_with_widgets() if p not in REQUIRED]


@pytest.fixture(scope="session")
def browser_ready():
    reason = missing_browser()
    if reason:
        pytest.fail(reason, pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def screenshots(tmp_path_factory):
    return use_screenshots_dir(tmp_path_factory.mktemp("screenshots"))


@pytest.fixture(scope="session")
def course(tmp_path_factory):
    """A copy of the course (as a fresh clone: no gradebook) with its own exchange, one assignment released to it."""
    base = tmp_path_factory.mktemp("browser")
    root = copy_course(base / "course")
    exchange = base / "exchange"  # the course's nbgrader_config.py reads NBGRADER_EXCHANGE
    released = sorted(p.name for p in (root / "release").iterdir() if p.is_dir()) if (root / "release").is_dir() else []
    release = released[0] if released else None
    if release:
        done = subprocess.run([sys.executable, "-m", "nbgrader", "release_assignment", release],
                              cwd=root, capture_output=True, text=True, timeout=300,
                              env=isolated_env(base / "instructor", NBGRADER_EXCHANGE=str(exchange)))
        assert done.returncode == 0, f"nbgrader release_assignment {release} failed:\n{done.stdout}\n{done.stderr}"
    sources = sorted(p.name for p in (root / "source").iterdir() if p.is_dir()) if (root / "source").is_dir() else []
    return {"root": root, "state": base / "state", "exchange": exchange, "assignments": sources, "released": release}


@pytest.fixture(scope="session")
def lab(browser_ready, course):
    """JupyterLab on the copy; stopped with its kernels at the end, also when a test failed."""
    server = JupyterLabServer(course["root"], course["state"], env={"NBGRADER_EXCHANGE": str(course["exchange"])})
    try:
        server.start()
        yield server
    finally:
        survivors = server.stop()
    assert not survivors, f"processes the server started were still alive after it stopped: {survivors}"


@pytest.fixture(scope="session")
def browser(browser_ready, tmp_path_factory):
    home = tmp_path_factory.mktemp("chromium-home")  # Chromium's crash reports, dconf and caches go there
    with chromium_browser(home) as chromium:
        yield chromium


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: Path(p).stem[:2])
def test_lesson_runs_in_jupyterlab_and_its_sliders_redraw_in_place(lab, page, lesson, request):
    assert (ROOT / lesson).exists(), f"{lesson} not found"
    check = check_lesson(page, lab, lesson, measure=True)
    for timing in check.latency:
        text = timing.report()
        print(text)
        request.node.user_properties.append(("slider latency", text))  # printed at the end (tests/conftest.py)
    assert not check.problems, check.report()
    assert check.panels >= 1, f"{lesson} shows no slider panel (a widget box holding a slider and an output)"
    assert check.moves >= 3 * check.panels
    assert len(check.latency) == check.panels
    for timing in check.latency:
        assert timing.timed, f"no arrow press was timed on {timing.panel}:\n{timing.report()}"
    if lesson == REQUIRED[0]:
        assert check.plot_panels >= 1, f"{lesson} shows no slider panel with a plot"


def test_a_prediction_reveals_only_after_an_answer_is_chosen(lab, page):
    """Lesson 01's prediction in JupyterLab: Reveal is disabled, a choice enables it, Reveal shows the finding."""
    lesson = "notebooks/01-controlling-access-with-mutexes.ipynb"
    open_notebook(page, lab, lesson, workspace="predict-01")
    run_all_cells(page, lesson, timeout=240)
    box = page.locator(".rustsync-prediction").first
    box.scroll_into_view_if_needed()
    reveal = box.get_by_role("button", name="Reveal")
    assert reveal.is_disabled(), "Reveal can be pressed before an answer is chosen"
    assert "deadlock:" not in box.text_content()
    box.get_by_role("button", name="always").click()
    page.wait_for_function("b => !b.disabled", arg=reveal.element_handle(), timeout=10_000)
    reveal.click()
    box.locator("text=The schedule that shows it").wait_for(timeout=10_000)
    shown = box.text_content()
    screenshot(page, "prediction-01-revealed")
    assert "the scheduler found 'sometimes'" in shown, shown
    assert "1 of 2 schedules deadlock" in shown and "The schedule that shows it" in shown, shown
    assert box.locator("img").count() == 1, "the proving schedule's timeline is not drawn"
    assert reveal.is_disabled() and box.get_by_role("button", name="sometimes").is_disabled()


def _broken_copy_of_lesson_00(root: Path) -> str:
    """Lesson 00 with three faults a student must never see: a dead slider, stacked figures, an error left in."""
    nb = nbformat.read(root / REQUIRED[0], as_version=4)
    nb.cells += [
        nbformat.v4.new_code_cell(
            "from rustsync.widgets import LostUpdatePanel\n\n"
            "class DeadPanel(LostUpdatePanel):\n"
            "    def update(self):\n"
            "        if getattr(self, 'shown', False):\n"
            "            raise RuntimeError('slider callback broken on purpose')\n"
            "        self.shown = True\n"
            "        super().update()\n\n"
            "DeadPanel()"),
        nbformat.v4.new_code_cell(
            "from IPython.display import display\n"
            "from rustsync.widgets import SchedulePanel\n\n"
            "class StackingPanel(SchedulePanel):\n"
            "    def update(self):\n"
            "        super().update()\n"
            "        with self.out:\n"
            "            display(self.fig)  # a second copy of the figure on every redraw\n\n"
            "StackingPanel()"),
        nbformat.v4.new_code_cell(  # what a browser without the widget extension shows instead of a panel
            "import ipywidgets\n"
            "display({'text/plain': repr(ipywidgets.VBox([ipywidgets.IntSlider()]))}, raw=True)"),
        nbformat.v4.new_code_cell(  # a view of a widget the kernel does not have
            "display({'application/vnd.jupyter.widget-view+json': {'model_id': 'f' * 32, 'version_major': 2,"
            " 'version_minor': 0}, 'text/plain': 'a widget'}, raw=True)"),
        nbformat.v4.new_code_cell("raise ValueError('an error left in the lesson')"),
    ]
    path = "notebooks/broken-copy-of-00.ipynb"
    nbformat.write(nb, root / path)
    return path


def test_the_lesson_check_catches_a_broken_lesson(lab, page, course):
    path = _broken_copy_of_lesson_00(course["root"])
    check = check_lesson(page, lab, path, name="broken-00", moves=2, redraw_timeout_ms=4_000)
    found = "\n".join(check.problems)
    assert "did not change" in found, check.report()
    assert "RuntimeError: slider callback broken on purpose" in found, check.report()
    assert "images" in found and "expected one figure" in found, check.report()
    assert "shows an error: ValueError: an error left in the lesson" in found, check.report()
    assert "plain-text repr instead of a rendered widget" in found, check.report()
    assert "Error displaying widget" in found, check.report()


def _broken_panels_notebook(root: Path) -> str:
    """Two panels a student must never see: one whose computing line and fade never show, one a figure behind."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from IPython.display import HTML, Image, clear_output, display\n"
            "from rustsync.widgets import OutcomePanel\n\n"
            "display(HTML('<style>.hidden-busy .rustsync-busy { display: none !important; }'\n"
            "             ' .hidden-busy.rustsync-stale img { opacity: 1 !important; }</style>'))\n\n"
            "import time\n\n"
            "class HiddenBusyPanel(OutcomePanel):\n"
            "    def __init__(self):  # nothing drawn ahead: every move computes in the foreground\n"
            "        super().__init__(prefetch=False)\n"
            "        self.widget.add_class('hidden-busy')\n\n"
            "    def draw(self, ax):  # slow on every machine: its computing line must show, and does not\n"
            "        time.sleep(0.6)\n"
            "        return super().draw(ax)\n\n"
            "HiddenBusyPanel()"),
        nbformat.v4.new_code_cell(
            "class StalePanel(OutcomePanel):\n"
            "    def update(self):\n"
            "        previous = self.png\n"
            "        super().update()\n"
            "        if previous:  # the figure of the setting before\n"
            "            with self.out:\n"
            "                clear_output(wait=True)\n"
            "                display(Image(previous))\n\n"
            "StalePanel()"),
    ]
    path = "notebooks/broken-panels.ipynb"
    nbformat.write(nb, root / path)
    return path


def test_the_lesson_check_catches_a_hidden_computing_line_and_a_stale_figure(lab, page, course):
    path = _broken_panels_notebook(course["root"])
    check = check_lesson(page, lab, path, name="broken-panels", moves=1, measure=True)
    hidden = "\n".join(p for p in check.problems if p.startswith("panel 1 "))
    stale = "\n".join(p for p in check.problems if p.startswith("panel 2 "))
    assert "no frame showed it" in hidden and "the old figure never faded" in hidden, check.report()
    assert "not the one these settings showed before" in stale, check.report()
    assert "computing line" not in stale, check.report()


def test_nbgrader_menu_opens_the_formgrader_and_the_assignment_list(lab, page, course):
    """The two panels open; then, as on a fresh clone, a student fetches and submits, the fetched notebook's
    link opens its lesson, and formgrader's Collect and Autograde buttons grade the submission."""
    assert course["assignments"], "source/ holds no assignment for the formgrader to list"
    problems = check_nbgrader(page, lab, course["assignments"], course["released"])
    assert not problems, "\n".join(problems) + f"\nscreenshots: {screenshots_dir()}"

