"""A quiz at the end of each lesson: `quiz("03")` in a cell shows lesson 03's questions.

Each question's every answer is explained, the wrong ones too; nothing is graded. The questions live in
`rustsync/quiz/data/NN.json`, one file per lesson (`questions.py` reads and checks them); `render.py` draws
them.

Why our own rendering and not jupyterquiz (PyPI) or widgets: a quiz is static HTML whose answers are
`<details>` elements, which the browser opens on a click, with no JavaScript and no kernel.
- JupyterLab 4 offline: the HTML is stored in the notebook and shown as soon as it opens, trusted or not,
  without a CDN. jupyterquiz draws its quiz with a `Javascript` output, which JupyterLab runs only in a
  trusted notebook: after a reload, a notebook nobody re-ran shows an empty box.
- Each wrong answer explained: every option opens to its own explanation (jupyterquiz has per-answer
  feedback too; ipywidgets would, with code of ours).
- nbval: the output is the same on every run, so nbval compares it. jupyterquiz names its container with 12
  random letters on every call (and shuffles the answers by default), so its output changes on every run;
  a widget's view is not compared at all.
- The browser test clicks a `<summary>` and reads the explanation that opens; nothing needs a kernel.
The price: a short answer cannot be typed and checked, only thought about and then revealed, with the
usual wrong answers explained beside the right one. For a quiz that is not graded, that is the same lesson.
"""

from .questions import Question, Quiz, load
from .render import render_html, render_text

__all__ = ["Question", "Quiz", "load", "quiz", "render_html", "render_text"]


def quiz(lesson):
    """Lesson `lesson`'s quiz ("00" to "06"), drawn as HTML in a notebook and as text elsewhere."""
    return load(lesson)
