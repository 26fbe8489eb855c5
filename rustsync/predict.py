"""Predict, then reveal: the student commits an answer before the cell shows what the scheduler found.

`Prediction(question, answer, ...)` displays the question, a way to answer (buttons
for `choices`, else a box to type in) and a "Reveal" button that stays disabled until
an answer is given. Reveal locks the answer in and shows the verdict, what was found,
the explanation and the schedule that proves it (its trace and its timeline). The
answer is worked out when the cell runs (by the code in the cell, with the scheduler),
so it is the same on every run; nothing of it is in the cell's saved output until the
student reveals it: a notebook reopened without running shows the question and a line
saying to run the cell, and nbval compares the same plain text on every run.
"""

from __future__ import annotations

import base64
import html
import io

import ipywidgets as w

_NOTE = ("Run this cell, then answer and press Reveal: a notebook opened without running it cannot reveal "
         "anything.")


class Prediction:
    """One question whose answer is shown only after the student has committed one.

    `answer` is what the scheduler found; `choices` the answers offered (else the
    student types one, read by `parse`, `int` by default); `found` says in a line what
    was found and how (the exploration, say); `explain` is the why (HTML allowed);
    `proof` a `Run` whose schedule, trace and timeline are shown, or None.
    """

    def __init__(self, question, answer, *, choices=None, found="", explain="", proof=None, parse=int,
                 placeholder="a whole number"):
        self.question, self.answer, self.found, self.explain, self.proof = question, answer, found, explain, proof
        self.parse = parse
        self.choices = list(choices) if choices is not None else None
        if self.choices is not None:
            if answer not in self.choices:
                raise ValueError(f"the answer {answer!r} is not one of the choices {self.choices!r}: add it")
            self.input = w.ToggleButtons(options=[(str(c), c) for c in self.choices], value=None,
                                         style={"button_width": "auto"})
        else:
            self.input = w.Text(placeholder=placeholder, layout=w.Layout(width="200px"))
        self.button = w.Button(description="Reveal", disabled=True, button_style="primary",
                               tooltip="commit your answer and see what the scheduler found")
        self.message = w.HTML()
        self.result = w.HTML()
        self.note = w.HTML(f"<span style='color: #666666; font-size: 0.9em'>{_NOTE}</span>")
        self.widget = w.VBox([w.HTML(f"<b>Predict.</b> {question}"), w.HBox([self.input, self.button]),
                              self.message, self.result, self.note])
        self.widget.add_class("rustsync-prediction")
        self.given = None
        self.revealed = False
        self.input.observe(self._changed, names="value")
        self.button.on_click(lambda _button: self.reveal())

    # -- answering ---------------------------------------------------------------------

    def _read(self):
        """The student's answer, or None when there is none (yet) or it cannot be read."""
        value = self.input.value
        if self.choices is not None:
            return value
        text = value.strip()
        if not text:
            return None
        try:
            return self.parse(text)
        except ValueError:
            return None

    def _changed(self, _change=None):
        if self.revealed:
            return
        given = self._read()
        self.button.disabled = given is None
        typed = self.choices is None and self.input.value.strip()
        self.message.value = (f"<span style='color: #8a5a00'>{html.escape(self.input.placeholder)} expected, "
                              f"got {html.escape(self.input.value.strip())!s}</span>" if typed and given is None
                              else "")

    def answer_with(self, value):
        """Choose or type `value`, as the student would (the tests' way in)."""
        self.input.value = value if self.choices is not None else str(value)
        return self

    # -- revealing ---------------------------------------------------------------------

    @property
    def correct(self):
        return self.revealed and self.given == self.answer

    def reveal(self):
        """Lock the answer in and show what was found; refused (with a message) while there is no answer."""
        if self.revealed:
            return self
        given = self._read()
        if given is None:
            self.message.value = "<span style='color: #8a5a00'>Answer first: the reveal comes after.</span>"
            return self
        self.given, self.revealed = given, True
        self.input.disabled = self.button.disabled = True
        verdict = ("Right" if given == self.answer else "Not quite") + f": you said {html.escape(repr(given))}; "
        verdict += f"the scheduler found {html.escape(repr(self.answer))}."
        colour = "#2a7a2a" if given == self.answer else "#b03030"
        self.message.value = f"<b style='color: {colour}'>{verdict}</b>"
        self.note.value = ""
        self.result.value = self.revelation_html()
        return self

    def revelation_html(self):
        """What Reveal shows under the verdict: what was found, why, and the proving schedule."""
        parts = []
        if self.found:
            parts.append(f"<p>{self.found}</p>")
        if self.explain:
            parts.append(f"<p>{self.explain}</p>")
        if self.proof is not None:
            parts.append(f"<p>The schedule that shows it: <code>{html.escape(str(self.proof.schedule))}</code>, "
                         "step by step:</p>")
            parts.append(f"<pre>{html.escape(self.proof.show())}</pre>")
            parts.append(f"<img src='data:image/png;base64,{_timeline_png(self.proof)}'/>")
        return "\n".join(parts)

    # -- display -----------------------------------------------------------------------

    def _plain(self):
        offered = f" ({', '.join(map(str, self.choices))})" if self.choices is not None else ""
        return f"Predict: {_strip_tags(self.question)}{offered}\n{_NOTE}"

    def __repr__(self):
        return self._plain()

    def _repr_mimebundle_(self, include=None, exclude=None):
        # The widget; and, for a page that cannot show widgets, the question without its answer.
        bundle = self.widget._repr_mimebundle_()
        bundle["text/plain"] = self._plain()
        offered = ""
        if self.choices is not None:
            offered = " ".join(f"<code>{html.escape(str(c))}</code>" for c in self.choices)
            offered = f"<p>Answers: {offered}</p>"
        bundle["text/html"] = f"<p><b>Predict.</b> {self.question}</p>{offered}<p><i>{_NOTE}</i></p>"
        return bundle


def _strip_tags(text):
    import re

    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _timeline_png(run):
    """The run's timeline as a base64 PNG, drawn on a figure of its own (never shown by the inline backend)."""
    import matplotlib.pyplot as plt

    from .plots import plot_timeline, timeline_layout

    layout = timeline_layout(run, max_width=10.5)
    fig, ax = plt.subplots(figsize=layout["size"], dpi=80)
    fig.subplots_adjust(**layout["margins"])
    try:
        plot_timeline(run, ax=ax)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80)
    finally:
        plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
