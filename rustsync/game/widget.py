"""The be-the-scheduler widget: each thread's code beside its own step button, the board, undo, reset, replay.

Everything it shows comes from a `Game` position, that is from `replay`: the line marked
in each thread's code is the one of the step the scheduler says that thread takes next.
Marks never rely on colour alone: the next line has an arrow and bold text, a blocked
thread a pause sign and a sentence, the goal a check mark and words. Every control is a
button or a drop-down, reached with Tab and pressed with Enter or Space.
"""

from __future__ import annotations

import html

import ipywidgets as w
import matplotlib.pyplot as plt
from IPython.display import display

from ..plots import plot_timeline
from ..sched import replay
from .levels import LEVELS, Level, levels_for
from .levels import level as level_named
from .play import BLOCKED, FINISHED, READY, WAITING, Game

_STYLE = """<style>
.rustsync-game pre.rustsync-code { margin: 0; padding: 4px 6px; background: #f7f7f7; border: 1px solid #ccc;
  font-size: 12px; line-height: 1.45; white-space: pre; overflow-x: auto; color: #1a1a1a; }
.rustsync-game .rustsync-line { display: block; }
.rustsync-game .rustsync-next { background: #ffe98a; font-weight: bold; outline: 1px solid #8a6d00; }
.rustsync-game .rustsync-wait { background: #e4e4e4; font-weight: bold; outline: 1px dashed #555; }
.rustsync-game table.rustsync-board { border-collapse: collapse; }
.rustsync-game table.rustsync-board th, .rustsync-game table.rustsync-board td {
  border: 1px solid #bbb; padding: 2px 8px; text-align: left; }
.rustsync-game .rustsync-won { border: 2px solid #1a7f37; padding: 6px 10px; background: #e9f7ee; }
.rustsync-game .rustsync-lost { border: 2px solid #8a4b00; padding: 6px 10px; background: #fff4e5; }
.rustsync-game .rustsync-note { border-left: 4px solid #555; padding: 4px 10px; background: #f2f2f2; }
</style>"""

_MARKS = {READY: ("▶", "rustsync-next", "next"), BLOCKED: ("‖", "rustsync-wait", "blocked"),
          WAITING: ("‖", "rustsync-wait", "waits")}


def code_html(code, view):
    """A thread's code, numbered, its current line marked by an arrow (or a pause sign), bold, and a word."""
    rows = []
    width = len(str(len(code.lines)))
    for i, text in enumerate(code.lines):
        number = f"{i + 1:>{width}}"
        if view.line == i and view.status in _MARKS:
            sign, css, words = _MARKS[view.status]
            rows.append(f'<span class="rustsync-line {css}" aria-current="step" title="{words}">{sign} {number}  '
                        f'{html.escape(text)}  ◀ {words}</span>')
        else:
            rows.append(f'<span class="rustsync-line">  {number}  {html.escape(text)}</span>')
    label = html.escape(f"code of {code.title}")
    return f'<pre class="rustsync-code" aria-label="{label}">' + "".join(rows) + "</pre>"


def board_html(position):
    if not position.board:
        return ""
    rows = []
    for name, kind, content, holder in position.board:
        held = "" if kind != "Mutex" else ("free" if holder is None else f"held by thread {holder}")
        rows.append(f"<tr><td><code>{html.escape(name)}</code></td><td>{html.escape(kind)}</td>"
                    f"<td><b>{html.escape(repr(content))}</b></td><td>{held}</td></tr>")
    return ('<table class="rustsync-board" aria-label="shared state"><tr><th>shared</th><th>what</th>'
            "<th>value</th><th>lock</th></tr>" + "".join(rows) + "</table>")


class SchedulerGame:
    """Be the scheduler: pick which thread takes each step until the level's goal is reached.

    `SchedulerGame("00")` offers lesson 00's levels; `SchedulerGame(levels=["lost-update"])`
    the levels named; `SchedulerGame()` every level. A test drives it without a browser:
    `game.buttons[1].click()`, then read `game.position` and `game.status.value`.
    """

    def __init__(self, lesson=None, *, levels=None):
        if levels is not None:
            chosen = [lv if isinstance(lv, Level) else level_named(lv) for lv in levels]
        elif lesson is not None:
            chosen = levels_for(lesson)
        else:
            chosen = list(LEVELS)
        if not chosen:
            raise ValueError("a game needs at least one level")
        self.levels = chosen
        titles = {lv.key: lv.title for lv in LEVELS}
        options = []
        for i, lv in enumerate(chosen):
            twin = f" (the locked twin of “{titles[lv.twin_of]}”)" if lv.locked else ""
            options.append((f"{i + 1}. {lv.title}{twin}", i))
        self.chooser = w.Dropdown(options=options, value=0, description="Level:",
                                  layout=w.Layout(width="auto"), style={"description_width": "initial"})
        self.goal = w.HTML()
        self.columns = w.VBox()
        self.board = w.HTML()
        self.counter = w.HTML()
        self.status = w.HTML()
        self.undo_button = w.Button(description="Undo", icon="undo", tooltip="take back the last step",
                                    layout=w.Layout(width="auto"))
        self.reset_button = w.Button(description="Reset", icon="refresh", tooltip="back to the start",
                                     layout=w.Layout(width="auto"))
        self.replay_button = w.Button(description="Replay the schedule", icon="play", disabled=True,
                                      tooltip="replay(program, schedule) and draw its timeline",
                                      layout=w.Layout(width="auto"))
        self.timeline = w.Output()
        self.replayed = None  # the run the timeline shows
        self.undo_button.on_click(lambda _b: self._do(self.game.undo))
        self.reset_button.on_click(lambda _b: self._do(self.game.reset))
        self.replay_button.on_click(lambda _b: self.draw_replay())
        self.chooser.observe(lambda change: self.choose(change["new"]), names="value")
        controls = w.HBox([self.undo_button, self.reset_button, self.replay_button])
        self.box = w.VBox([w.HTML(_STYLE), self.chooser, self.goal, self.columns, self.board, self.counter, controls,
                           self.status, self.timeline], layout=w.Layout(width="100%"))
        self.box.add_class("rustsync-game")
        self.choose(0)

    # -- levels and moves ----------------------------------------------------------------------

    def choose(self, index):
        self.level = self.levels[index]
        self.game = Game(self.level)
        self.buttons = {}
        self.codes = {}
        self.notes = {}
        columns = []
        for code in self.level.threads:
            button = w.Button(description=f"Step thread {code.tid}", layout=w.Layout(width="auto"))
            button.on_click(lambda _b, tid=code.tid: self.click(tid))
            self.buttons[code.tid] = button
            self.codes[code.tid] = w.HTML()
            self.notes[code.tid] = w.HTML()
            title = w.HTML(f"<b>{html.escape(code.title)}</b>")
            # main on a row of its own; the others side by side, a line too long scrolling in its column
            share = {} if code.tid == 0 else {"flex": "1 1 0", "min_width": "260px", "overflow": "hidden"}
            columns.append(w.VBox([title, self.notes[code.tid], self.codes[code.tid], button],
                                  layout=w.Layout(border="1px solid #bbb", padding="4px", margin="0 8px 8px 0",
                                                  **share)))
        # the main thread on a row of its own, the threads it spawns side by side below it
        main = [c for code, c in zip(self.level.threads, columns, strict=True) if code.tid == 0]
        others = [c for code, c in zip(self.level.threads, columns, strict=True) if code.tid != 0]
        self.columns.children = main + [w.HBox(others, layout=w.Layout(flex_flow="row wrap",
                                                                        align_items="flex-start"))]
        self._clear_timeline()
        self.refresh()

    def click(self, tid):
        """What a thread's step button does (a test calls it, or `buttons[tid].click()`)."""
        self._do(lambda: self.game.step(tid))

    def _do(self, action):
        action()
        self._clear_timeline()
        self.refresh()

    def _clear_timeline(self):
        if self.replayed is not None:
            self.timeline.clear_output()
            self.replayed = None

    @property
    def position(self):
        return self.game.position()

    # -- drawing --------------------------------------------------------------------------------

    def refresh(self):
        level, pos = self.level, self.game.position()
        goal = f"<b>Goal:</b> {_inline_code(level.goal)}"
        if level.same_as:
            goal += f"<br><small>The program: {html.escape(level.same_as)}.</small>"
        if level.locked:
            goal += ('<div class="rustsync-note" role="note"><b>The locked twin.</b> With the lock in place, '
                     "no schedule reaches this goal. Try any order you like: the page counts the schedules you "
                     "play to the end.</div>")
        self.goal.value = goal
        for code in level.threads:
            view = pos.thread(code.tid)
            self.codes[code.tid].value = code_html(code, view)
            sign = {READY: "▶", BLOCKED: "‖", WAITING: "‖", FINISHED: "✓"}[view.status]
            self.notes[code.tid].value = f"{sign} {html.escape(view.note)} · {view.steps} step" + \
                ("s" if view.steps != 1 else "") + " taken"
            button = self.buttons[code.tid]
            button.disabled = view.status != READY
            button.button_style = "primary" if view.status == READY else ""
            button.tooltip = (f"thread {code.tid}: {view.note}" if view.status == READY
                              else f"thread {code.tid} cannot step: {view.note}")
        self.board.value = board_html(pos)
        steps = len(pos.schedule)
        counter = f"<b>Steps taken: {steps}</b> · schedule so far: <code>{pos.schedule}</code>"
        if pos.last:
            counter += "<br>Last step: " + _inline_code("; ".join(pos.last))
        self.counter.value = counter
        self.undo_button.disabled = steps == 0
        self.reset_button.disabled = steps == 0
        self.replay_button.disabled = not pos.over
        self.status.value = self._status(pos)

    def _status(self, pos):
        level, game = self.level, self.game
        if not pos.over:
            return ""
        outcome = "a deadlock" if pos.run.deadlock is not None else f"the result {pos.outcome!r}"
        schedule = f"<code>{pos.schedule}</code>"
        played = f"Schedules played to the end: {len(game.finished)} of {game.total}."
        if pos.won:
            explain = f" {html.escape(level.won_text)}" if level.won_text else ""
            return (f'<div class="rustsync-won" role="status"><b>✔ Goal reached</b>, with {html.escape(outcome)}.'
                    f"{explain}<br>The schedule, as the assignments take it: {schedule}<br>"
                    f"Check it: <code>replay(program, {pos.schedule})</code> ends the same way; press "
                    "“Replay the schedule” to draw it.</div>")
        text = (f'<div class="rustsync-lost" role="status"><b>✘ Not the goal:</b> the run ended with '
                f"{html.escape(outcome)} (schedule {schedule}). Undo a few steps or reset, and try another order. "
                f"{played}")
        if game.everything_tried and not game.ever_won:
            why = f" {html.escape(level.locked_text)}" if level.locked_text else ""
            text += (f"<br><b>You have played every schedule of this level: none reaches the goal.</b>{why}")
        return text + "</div>"

    def draw_replay(self):
        """Replay the finished schedule with `rustsync.sched.replay` and draw its timeline below the game."""
        pos = self.game.position()
        if not pos.over:
            return None
        run = replay(self.level.program, pos.schedule)
        self._clear_timeline()
        with self.timeline:
            drawn = plot_timeline(run, title=f"replay(program, {pos.schedule})  →  "
                                             f"{'deadlock' if run.deadlock else run.outcome}")
            figure = plt.gcf()
            display(figure)
            plt.close(figure)
        self.replayed = run
        return drawn

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = self.box._repr_mimebundle_(include=include, exclude=exclude)
        # what a page without a running kernel shows instead of the widget (a saved notebook, nbviewer)
        titles = "; ".join(f"{i + 1}. {lv.title}" for i, lv in enumerate(self.levels))
        bundle["text/plain"] = f"Be the scheduler ({titles}): run this cell in JupyterLab to play."
        return bundle


def _inline_code(text):
    """Escape `text` and show its `backquoted` parts as code."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


__all__ = ["SchedulerGame", "board_html", "code_html"]
