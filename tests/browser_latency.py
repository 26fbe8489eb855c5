"""Slider latency of a lesson's panels, measured in the browser's own clock (reported, never asserted)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from browser_chromium import (
    _JS_KERNEL_STATUS,
    _slider_state,
)

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
