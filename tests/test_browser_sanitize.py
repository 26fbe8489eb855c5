"""Headless Chromium opens a hostile submission's feedback page and formgrader's grading view: nothing runs.

A course of one assignment (`hostile`, made with `nbgrader generate_assignment` from the
course's nbgrader_config.py) gets a graded submission whose written answer, raw cells and
outputs carry script, event handlers and `javascript:` links (`hostile_notebook` of
test_sanitize.py): written into autograded/ and the gradebook as `nbgrader autograde`
leaves them, so that no kernel runs. `nbgrader generate_feedback` writes its page, and
JupyterLab (with nbgrader's formgrader) serves the grading view. Each page is opened, its
student links clicked, and then: no payload set `window.__pwned` or the title, no dialog
opened, nothing was logged that names the payload, the page did not navigate away, and
no request left for another host (only the page's server; MathJax's CDN is refused).

Needs Debian's Chromium and Playwright, as test_browser.py. Everything stays in pytest's
temporary folder: the course, the exchange, the HOME of nbgrader, the server and Chromium.
"""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import urlparse

import nbformat
import pytest
from browser_chromium import chromium_browser, missing_browser
from browser_lab import ROOT, JupyterLabServer, isolated_env
from test_sanitize import ANSWER_ID, CODE_ID, MARK, TEST_ID, hostile_notebook, png

ASSIGNMENT, STUDENT = "hostile", "eve"
NAME = {"first_name": "Eve", "last_name": f"<img src=x onerror=\"window.__{MARK}=40\">"}

# nbgrader's own warnings (its SQLAlchemy session while it records the submission)
pytestmark = [pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning"),
              pytest.mark.filterwarnings("ignore::nbformat.validator.MissingIDFieldWarning")]


def instructor_version():
    """The assignment as the instructor wrote it: the same cells, the solutions and no outputs."""
    nb = hostile_notebook()
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == ANSWER_ID:
            cell.source = "The final count is 1: both threads read 0 before either writes."
            cell.pop("attachments", None)
        elif meta.get("grade_id") == CODE_ID:
            cell.source = "### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    return nb


def nbgrader(*args, cwd, env):
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course with the hostile submission graded into autograded/ and the gradebook, and its feedback page."""
    from nbgrader.api import Gradebook

    base = tmp_path_factory.mktemp("sanitize")
    root, exchange = base / "course", base / "exchange"
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    (root / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text())
    nbformat.write(instructor_version(), root / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    env = isolated_env(base / "instructor", NBGRADER_EXCHANGE=str(exchange))
    nbgrader("generate_assignment", ASSIGNMENT, cwd=root, env=env)

    for step in ("submitted", "autograded"):  # as `nbgrader collect` and `nbgrader autograde` leave them
        folder = root / step / STUDENT / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(hostile_notebook(), folder / f"{ASSIGNMENT}.ipynb")
        (folder / "timestamp.txt").write_text("2030-01-01 00:00:00.000000 UTC")
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "rust-shared-state") as gb:
        gb.add_student(STUDENT, **NAME)
        gb.add_submission(ASSIGNMENT, STUDENT, timestamp="2030-01-01 00:00:00.000000 UTC")
        submission = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, STUDENT).id
    nbgrader("generate_feedback", ASSIGNMENT, cwd=root, env=env)
    feedback = root / "feedback" / STUDENT / ASSIGNMENT / f"{ASSIGNMENT}.html"
    assert feedback.is_file()
    return {"root": root, "base": base, "exchange": exchange, "feedback": feedback, "submission": submission}


@pytest.fixture(scope="module")
def browser(course):
    reason = missing_browser()
    if reason:
        pytest.fail(reason, pytrace=False)
    with chromium_browser(course["base"] / "chromium-home") as chromium:
        yield chromium


@pytest.fixture(scope="module")
def formgrader(course):
    """JupyterLab with nbgrader's formgrader on the course; stopped with everything it started."""
    server = JupyterLabServer(course["root"], course["base"] / "state",
                              env={"NBGRADER_EXCHANGE": str(course["exchange"])})
    try:
        server.start()
        yield server
    finally:
        survivors = server.stop()
    assert not survivors, f"processes the server started were still alive after it stopped: {survivors}"


def visit(browser, url, allowed_host=None, student_links="", settle_ms=1500):
    """Open `url`, click the student's links, wait; return what was seen: runs, dialogs, logs, requests, the page."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(30_000)
    seen = {"dialogs": [], "console": [], "errors": [], "refused": [], "requests": []}

    def route(request_route):
        address = urlparse(request_route.request.url)
        seen["requests"].append(request_route.request.url)
        if address.scheme == "file" or (allowed_host and address.netloc == allowed_host):
            request_route.continue_()
        else:
            seen["refused"].append(request_route.request.url)
            request_route.abort()

    context.route("**/*", route)
    try:
        page = context.new_page()
        page.on("dialog", lambda dialog: (seen["dialogs"].append(dialog.message), dialog.dismiss()))
        page.on("console", lambda message: seen["console"].append(message.text))
        page.on("pageerror", lambda error: seen["errors"].append(str(error)))
        page.goto(url, wait_until="load")
        page.wait_for_timeout(settle_ms)
        links = page.locator(student_links)
        for index in range(links.count()):
            link = links.nth(index)
            if link.is_visible():
                link.click(timeout=5_000, no_wait_after=True)
        page.wait_for_timeout(500)
        seen["ran"] = page.evaluate(f"() => window.__{MARK} === undefined ? null : String(window.__{MARK})")
        seen["title"] = page.title()
        seen["url"] = page.url
        seen["images"] = page.evaluate(
            "() => Array.from(document.images).map(i => [i.getAttribute('src') || '', i.naturalWidth])")
        seen["text"] = page.locator("body").inner_text()
        seen["all text"] = page.locator("body").text_content()  # with what the page hides (formgrader: names)
        seen["own"] = page.evaluate("() => ({jquery: typeof window.jQuery, backbone: typeof window.Backbone, "
                                    f"scoreBoxes: document.querySelectorAll('input.score').length, "
                                    f"named: Array.from(document.querySelectorAll('[id=\"{ANSWER_ID}\"]'))"
                                    ".map(e => e.tagName)})")
    finally:
        context.close()
    return seen


# the student's links that stay on the page (one to the Book would leave it): none may run anything
STUDENT_LINKS = ".text_cell_render a:not([href^='http']), .output_subarea a:not([href^='http'])"


def assert_nothing_ran(seen, url):
    assert seen["ran"] is None, f"a payload ran: window.__{MARK} = {seen['ran']}"
    assert MARK not in seen["title"], seen["title"]
    assert seen["dialogs"] == [], seen["dialogs"]
    assert [line for line in seen["console"] + seen["errors"] if MARK in line] == []
    assert seen["url"].split("?")[0].split("#")[0] == url.split("?")[0], f"the page went to {seen['url']}"
    assert not [r for r in seen["requests"] if "tracker.invalid" in r or r.startswith(("data:", "javascript:"))]


def assert_the_work_shows(seen):
    pngs = [width for src, width in seen["images"] if src == f"data:image/png;base64,{png()}"]
    assert pngs == [2, 2], seen["images"]  # the PNG output and the image the answer attached, both drawn
    assert any(src.startswith("data:image/svg+xml") and width == 10 for src, width in seen["images"]), seen["images"]
    for words in ("$x^2$", "total = 1 < 2", "threads", "html output", "cell 42", "markdown output", "raw bold",
                  f"printed <script>window.__{MARK}=37</script>"):
        assert words in seen["text"], words


def test_the_feedback_page_of_a_hostile_submission_runs_none_of_its_script(course, browser):
    url = course["feedback"].as_uri()
    seen = visit(browser, url, student_links=STUDENT_LINKS)
    assert_nothing_ran(seen, url)
    assert_the_work_shows(seen)
    assert "hostile (Score: 0.0 / 3.0)" in seen["text"]


def test_formgraders_grading_view_of_a_hostile_submission_runs_none_of_its_script(course, browser, formgrader):
    url = formgrader.url(f"formgrader/submissions/{course['submission']}/")
    seen = visit(browser, url, allowed_host=urlparse(formgrader.base_url).netloc, student_links=STUDENT_LINKS)
    assert_nothing_ran(seen, url)
    assert_the_work_shows(seen)
    # the page's own script still runs: formgrader's score boxes, and none of them shadowed by the student's
    assert seen["own"]["jquery"] == "function" and seen["own"]["backbone"] == "object", seen["own"]
    assert seen["own"]["scoreBoxes"] == 2, seen["own"]  # the written answer and the test cell
    assert seen["own"]["named"] == ["INPUT"], seen["own"]
    assert f"<img src=x onerror=\"window.__{MARK}=40\">, Eve" in seen["all text"]  # the student's name, as text
    assert TEST_ID in seen["text"]
