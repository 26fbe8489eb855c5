"""`rustsync.game.widget`: the be-the-scheduler widget's state after each click, driven without a browser.

The HTML of a thread's code (escaped, the current line marked by a sign and words for
each status) and of the board, the levels a widget offers, each step button's state and
tooltip, the replay button and its timeline, the status line of a run that missed the
goal, and what a page without a kernel shows.
"""

import re

import pytest

from rustsync.game import LEVELS, SchedulerGame
from rustsync.game.levels import ThreadCode, level
from rustsync.game.play import BLOCKED, FINISHED, READY, WAITING, Position, ThreadView
from rustsync.game.widget import _inline_code, board_html, code_html


def compare(a, b):
    return a < b and "&"


CODE = ThreadCode(1, "thread <1> & co", compare)


def view(status, line):
    return ThreadView(1, CODE.title, status, None, None, line, 0, "")


def marked_rows(page):
    return [row for row in page.split("</span>") if "aria-current" in row]


def test_a_threads_code_is_escaped_and_numbered():
    page = code_html(CODE, view(FINISHED, None))
    assert 'aria-label="code of thread &lt;1&gt; &amp; co"' in page
    assert "return a &lt; b and &quot;&amp;&quot;" in page
    assert "a < b" not in page
    assert re.findall(r'class="rustsync-line">  (\d)  ', page) == ["1", "2"]
    assert marked_rows(page) == [], "a finished thread has no current line"


@pytest.mark.parametrize(("status", "sign", "words"), [
    (READY, "▶", "next"),
    (BLOCKED, "‖", "blocked"),
    (WAITING, "‖", "waits"),
])
def test_the_current_line_has_a_sign_and_words_not_only_a_colour(status, sign, words):
    page = code_html(CODE, view(status, 1))
    (row,) = marked_rows(page)
    assert f'title="{words}">{sign} 2  ' in row and row.endswith(f"◀ {words}")
    assert "return a &lt; b" in row


def test_the_board_shows_each_shared_value_escaped_and_who_holds_each_mutex():
    position = Position([], [], [("fork", "Mutex", 0, None), ("knife", "Mutex", "<b>", 2),
                                 ("counter", "RacyCell, no lock", 3, None)], [], False, None, False, None)
    rows = board_html(position).split("<tr>")[2:]
    assert rows[0] == "<td><code>fork</code></td><td>Mutex</td><td><b>0</b></td><td>free</td></tr>"
    assert rows[1] == ("<td><code>knife</code></td><td>Mutex</td><td><b>&#x27;&lt;b&gt;&#x27;</b></td>"
                       "<td>held by thread 2</td></tr>")
    assert rows[2].endswith("<td><b>3</b></td><td></td></tr></table>"), "a cell without a lock has no lock column"
    assert board_html(Position([], [], [], [], False, None, False, None)) == ""


def test_text_is_escaped_and_its_backquoted_parts_shown_as_code():
    assert _inline_code("use `a < b` & `lock()`") == "use <code>a &lt; b</code> &amp; <code>lock()</code>"


def test_a_widget_offers_the_levels_asked_for():
    assert [lv.key for lv in SchedulerGame().levels] == [lv.key for lv in LEVELS]
    assert [lv.key for lv in SchedulerGame(4).levels] == ["rc-count", "arc-count"]
    chosen = SchedulerGame(levels=[level("arc-count"), "lost-update"])
    assert [lv.key for lv in chosen.levels] == ["arc-count", "lost-update"]
    assert [label for label, _ in chosen.chooser.options] == [
        "1. Make the Arc count wrong (the locked twin of “Make the Rc count wrong”)", "2. Lose an update"]
    with pytest.raises(ValueError, match="at least one level"):
        SchedulerGame(levels=[])


def test_only_a_thread_that_can_step_has_its_button_enabled():
    widget = SchedulerGame(levels=["locked-counter"])
    assert widget.buttons[0].disabled and not widget.buttons[1].disabled and not widget.buttons[2].disabled
    assert widget.buttons[1].tooltip == "thread 1: next: lock `counter`"
    assert widget.buttons[1].button_style == "primary" and widget.buttons[0].button_style == ""
    assert widget.buttons[0].tooltip == "thread 0 cannot step: waits to join thread-1"
    widget.click(1)
    assert widget.buttons[1].disabled and widget.buttons[1].tooltip == "thread 1 cannot step: finished"
    assert widget.notes[1].value == "✓ finished · 1 step taken"
    assert widget.notes[2].value == "▶ next: lock `counter` · 0 steps taken"


def test_the_replay_button_waits_for_the_end_and_its_timeline_goes_with_the_next_move():
    widget = SchedulerGame(levels=["lost-update"])
    widget.click(1)
    assert widget.replay_button.disabled and widget.draw_replay() is None and widget.replayed is None
    for tid in (2, 1, 2):
        widget.click(tid)
    assert not widget.replay_button.disabled
    widget.replay_button.click()
    assert widget.replayed is not None and widget.replayed.schedule == [1, 2, 1, 2]
    widget.undo_button.click()
    assert widget.replayed is None
    assert widget.replay_button.disabled


def test_a_run_that_misses_the_goal_says_so_and_counts_the_runs_played():
    widget = SchedulerGame(levels=["lost-update"])
    assert widget.status.value == "", "nothing to say before the end"
    for tid in (1, 1, 2, 2):
        widget.click(tid)
    status = widget.status.value
    assert "✘ Not the goal:</b> the run ended with the result 2 (schedule <code>[1, 1, 2, 2]</code>)" in status
    assert f"Schedules played to the end: 1 of {widget.game.total}." in status
    assert "none reaches the goal" not in status


def test_a_page_without_a_kernel_says_what_the_widget_is():
    bundle = SchedulerGame("06")._repr_mimebundle_()
    assert bundle["text/plain"] == ("Be the scheduler (1. Make the two diners deadlock; 2. Deadlock diners who agree "
                                    "on the order): run this cell in JupyterLab to play.")
    assert "application/vnd.jupyter.widget-view+json" in bundle
