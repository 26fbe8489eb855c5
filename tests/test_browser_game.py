"""The be-the-scheduler game in JupyterLab 4, in headless Chromium: a winning sequence of clicks reaches the goal.

A temporary notebook holds one cell that shows the game's first level ("Lose an
update"). The test runs it from the Run menu, presses the step buttons of a winning
schedule (one of them with the keyboard: Tab's focus and Enter), and sees on the page
what a student sees: the step counter, the goal reached and the schedule as the
assignments take it; then it presses "Replay the schedule" and sees the timeline drawn.
A screenshot of the widget goes to the screenshots folder (`browser_chromium`).

Needs Debian's Chromium and Playwright, as test_browser.py. Everything stays in
pytest's temporary folder: the notebook, the server's state and HOME, Chromium's HOME.
"""

from __future__ import annotations

import nbformat
import pytest
from browser_chromium import (
    chromium_browser,
    missing_browser,
    open_notebook,
    run_all_cells,
    screenshot,
    use_screenshots_dir,
)
from browser_lab import JupyterLabServer

NOTEBOOK = "game.ipynb"
WINNING = [1, 2, 1, 2]
WAIT = 30_000  # ms each check waits for the page: on a loaded machine a click's answer can take seconds


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    reason = missing_browser()
    if reason:
        pytest.fail(reason, pytrace=False)
    base = tmp_path_factory.mktemp("game")
    root = base / "course"
    root.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('from rustsync.game import SchedulerGame\n\n'
                                          'SchedulerGame(levels=["lost-update"])')]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / NOTEBOOK)
    use_screenshots_dir(base / "screenshots")
    server = JupyterLabServer(root, base / "state")
    try:
        server.start()
        with chromium_browser(base / "chromium-home") as browser:
            yield server, browser
    finally:
        survivors = server.stop()
    assert not survivors, f"processes the server started were still alive after it stopped: {survivors}"


def test_clicking_a_winning_schedule_reaches_the_goal_and_shows_the_schedule(lab):
    from playwright.sync_api import expect

    server, browser = lab
    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    context.set_default_timeout(30_000)
    try:
        page = context.new_page()
        open_notebook(page, server, NOTEBOOK, "game")
        run_all_cells(page, NOTEBOOK, timeout=60)
        game = page.locator(".rustsync-game")
        expect(game).to_be_visible(timeout=WAIT)
        expect(game).to_contain_text("Goal: Two threads each add 1", timeout=WAIT)
        first = game.locator('pre[aria-label="code of thread 1"] [aria-current="step"]')
        expect(first).to_contain_text("counter.get()", timeout=WAIT)
        expect(first).to_contain_text("◀ next", timeout=WAIT)
        for i, tid in enumerate(WINNING):
            button = game.get_by_role("button", name=f"Step thread {tid}")
            if i == 1:  # from the keyboard: focus the button, press Enter
                button.focus()
                page.keyboard.press("Enter")
            else:
                button.click()
            expect(game).to_contain_text(f"Steps taken: {i + 1}", timeout=WAIT)
            if i == 0:
                expect(first).to_contain_text("counter.set(", timeout=WAIT)
                screenshot(game, "scheduler-game-step-1")
        expect(game).to_contain_text("Goal reached", timeout=WAIT)
        expect(game).to_contain_text(f"as the assignments take it: {WINNING}", timeout=WAIT)
        for tid in (1, 2):
            expect(game.get_by_role("button", name=f"Step thread {tid}")).to_be_disabled(timeout=WAIT)
        game.get_by_role("button", name="Replay the schedule").click()
        expect(game.locator(".widget-output img")).to_be_visible(timeout=WAIT)
        path = screenshot(game, "scheduler-game-won")
        assert path.stat().st_size > 10_000, "the screenshot of the game is nearly empty"
    finally:
        context.close()
