"""Shared fixtures: running a listing as a student would, `python listings/listing-16-1X/main.py`.

And the figures the browser test measures (slider latency), printed once at the end of
pytest's output from each test's report, so they show with or without worker processes.

And the `slow` mark, given here by file name to the end-to-end test files, so that
`python -m pytest -m "not slow"` is the fast loop (docs/development.md lists the times).
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def run_listing():
    """Run `listings/<name>/main.py` from the repository's root once per session; return the CompletedProcess."""
    done = {}

    def run(name):
        if name not in done:
            done[name] = subprocess.run(
                [sys.executable, f"listings/{name}/main.py"],
                cwd=ROOT, capture_output=True, text=True, timeout=60,
            )
        return done[name]

    return run


def pytest_terminal_summary(terminalreporter):
    figures = [value for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", [])
               if report.when == "call" for name, value in getattr(report, "user_properties", [])
               if name == "slider latency"]
    if figures:
        terminalreporter.write_sep("=", "slider latency (browser clock, median and worst; not asserted)")
        for text in figures:
            terminalreporter.write_line(text)


# The end-to-end files: each starts JupyterLab, Chromium, nbgrader, the hub or a fresh clone.
SLOW_FILES = {
    "test_assignments.py",
    "test_browser.py",
    "test_browser_game.py",
    "test_browser_sanitize.py",
    "test_grading_workflow.py",
    "test_hostile_grading.py",
    "test_hub.py",
    "test_parallel_grading.py",
    "test_readme.py",
    "test_start.py",
}


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.name in SLOW_FILES:
            item.add_marker(pytest.mark.slow)
