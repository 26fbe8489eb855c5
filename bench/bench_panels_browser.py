"""Slider latency in the browser, printed (not asserted): python bench/bench_panels_browser.py [NN ...] [--steps N]

Starts JupyterLab on a temporary copy of the course and headless Chromium, with the browser
test's own code (tests/), runs each lesson whose code uses widgets (or the
lessons NN given, e.g. `00 02`) through the menus, moves every slider of every panel to
its maximum, and times arrow presses at and next to it: from the key press to the new
image in the panel's output, in the browser's clock. Prints per lesson and panel the
median and the worst, split into presses whose figure was computed and presses showing a
figure seen before, then any problem the checks found. Needs what the browser test needs
(Chromium at /usr/bin/chromium or $RUSTSYNC_CHROMIUM, playwright); everything it writes
goes to a temporary folder, removed at the end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from browser_chromium import CHROMIUM, CHROMIUM_ARGS, missing_browser, use_screenshots_dir  # noqa: E402
from browser_lab import JupyterLabServer, copy_course, isolated_env, lessons_with_widgets  # noqa: E402
from browser_lessons import check_lesson  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="lesson numbers (00, 01, ...); default: every lesson with widgets")
    parser.add_argument("--steps", type=int, default=3, help="arrow presses each way next to the maximum")
    args = parser.parse_args()
    reason = missing_browser()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    lessons = [p for p in lessons_with_widgets() if not args.lessons or Path(p).name[:2] in args.lessons]
    if not lessons:
        print(f"no lesson with widgets matches {args.lessons}", file=sys.stderr)
        return 2

    from playwright.sync_api import sync_playwright

    problems = 0
    with tempfile.TemporaryDirectory(prefix="rustsync-bench-browser-") as tmp:
        base = Path(tmp)
        use_screenshots_dir(base / "screenshots")
        server = JupyterLabServer(copy_course(base / "course"), base / "state")
        try:
            server.start()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
                                                     env=isolated_env(base / "chromium-home"))
                try:
                    for lesson in lessons:
                        context = browser.new_context(viewport={"width": 1400, "height": 1000})
                        context.set_default_timeout(30_000)
                        try:
                            check = check_lesson(context.new_page(), server, lesson, measure=True,
                                                 measure_steps=args.steps)
                        finally:
                            context.close()
                        for timing in check.latency:
                            print(timing.report(), flush=True)
                        if check.problems:
                            problems += len(check.problems)
                            print(check.report(), flush=True)
                finally:
                    browser.close()
        finally:
            server.stop()
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
