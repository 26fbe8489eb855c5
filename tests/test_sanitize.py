"""Student work in the feedback page and formgrader's grading view runs no script (rustsync/grading/sanitize.py).

A notebook whose written answer, raw cells and outputs carry script, event handlers,
`javascript:` links, iframes, objects, embeds and forms goes through the two HTML exporters
nbgrader makes with the course's nbgrader_config.py: `nbgrader generate_feedback`'s and
formgrader's. Nothing of the payloads may reach the page as markup, and the math, the code,
the tables and the notebook's own images must still be there.
`hostile_notebook` is also what the browser test (test_browser_sanitize.py) submits.
"""

from __future__ import annotations

import base64
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

ROOT = Path(__file__).resolve().parents[1]
MARK = "pwned"  # every payload names it; had one run, it set window.__pwned and document.title
ANSWER_ID, CODE_ID, TEST_ID = "explain", "solve", "test_solve"

# A written answer: what markdown keeps (math, a table, code, an attached image), then payloads,
# each in a paragraph of its own (a line that starts with a tag is passed on as HTML).
WRITTEN_ANSWER = f"""## My answer

The count is $x^2$ and $$\\sum_i i$$ in all.

| threads | count |
|:--|--:|
| 2 | 1 |

```python
total = 1 < 2
```

![a dot](attachment:dot.png) as in [the Book](https://doc.rust-lang.org/book/ch16-03-shared-state.html)

<script>window.__{MARK} = 1; document.title = "{MARK}";</script>

<img src="x" onerror="window.__{MARK} = 2; document.title = '{MARK}'">

[a link](javascript:window.__{MARK}=3)

<a href="  JaVaScRiPt:window.__{MARK}=4">another link</a>

<iframe src="javascript:parent.__{MARK}=5"></iframe><iframe srcdoc="<script>parent.__{MARK}=5</script>"></iframe>

<object data="data:text/html,<script>parent.__{MARK}=6</script>"></object><embed src="javascript:parent.__{MARK}=6">

<form action="javascript:window.__{MARK}=7"><input autofocus onfocus="window.__{MARK}=7"><button>Go</button></form>

<svg><animate onbegin="window.__{MARK}=8" attributeName="x" dur="1s"/></svg>

<details open ontoggle="window.__{MARK}=9"><summary>more</summary>hidden</details>

<math><mtext><table><mglyph><style><img src=x onerror="window.__{MARK}=10"></style></mglyph></table></mtext></math>

<div id="{ANSWER_ID}" class="modal score" style="position:fixed">a box named like the score box</div>

<a href="data:text/html,<script>alert('{MARK}')</script>">a data link</a>

<img src="https://tracker.invalid/{MARK}.png">

<meta http-equiv="refresh" content="0;url=javascript:window.__{MARK}=11">
"""


def png(width=2, height=2):
    """A small red PNG, base64: an image of the notebook itself."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    raw = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return base64.b64encode(raw).decode()


def nbgrader_meta(grade_id, *, solution, grade, points=0, **extra):
    return {"nbgrader": {"grade_id": grade_id, "solution": solution, "grade": grade, "points": points,
                         "locked": not solution, "task": False, "schema_version": 3, **extra}}


def hostile_outputs():
    """What a student's code cell can display: HTML, JavaScript, SVG, markdown, widgets, a PNG, text."""
    return [
        new_output("display_data", data={
            "text/html": (f"<b>html output</b><script>window.__{MARK}=30</script>"
                          f"<img src=x onerror=\"window.__{MARK}=31\">"
                          "<table class=\"dataframe\"><tr><th>k</th></tr><tr><td>cell 42</td></tr></table>"),
            "text/plain": "html"}),
        new_output("display_data", data={"text/html": f"<script>parent.__{MARK}=32</script>isolated"},
                   metadata={"text/html": {"isolated": True}}),
        new_output("display_data", data={"application/javascript": f"window.__{MARK}=33; alert('{MARK}')",
                                          "text/plain": "<IPython.core.display.Javascript object>"}),
        new_output("display_data", data={"image/svg+xml": (
            f"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\" onload=\"window.__{MARK}=34\">"
            f"<script>window.__{MARK}=35</script><rect width=\"10\" height=\"10\" fill=\"blue\"/></svg>")}),
        new_output("display_data", data={
            "text/markdown": f"**markdown output** <img src=x onerror=\"window.__{MARK}=36\">"}),
        new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {
            "model_id": "a" * 32, "version_major": 2, "version_minor": 0}, "text/plain": "a widget"}),
        new_output("stream", name="stdout", text=f"printed <script>window.__{MARK}=37</script>\n"),
        new_output("error", ename="ValueError", evalue=f"<img src=x onerror=\"window.__{MARK}=38\">",
                   traceback=[f"ValueError: <img src=x onerror=\"window.__{MARK}=38\">"]),
        new_output("execute_result", data={"image/png": png(), "text/plain": "<Figure size 2x2>"},
                   metadata={"image/png": {"width": 20, "height": 20}}, execution_count=3),
    ]


def hostile_notebook():
    """A graded notebook whose answers and outputs carry script: a written answer, raw cells, a code answer."""
    answer = new_markdown_cell(WRITTEN_ANSWER, metadata=nbgrader_meta(ANSWER_ID, solution=True, grade=True,
                                                                      points=2))
    answer.attachments = {"dot.png": {"image/png": png()}}
    code = new_code_cell("print('printed')\nanswer = 42", metadata=nbgrader_meta(CODE_ID, solution=True, grade=False),
                         execution_count=3)
    code.outputs = hostile_outputs()
    test = new_code_cell("assert answer == 42", metadata=nbgrader_meta(TEST_ID, solution=False, grade=True, points=1),
                         execution_count=4)
    nb = new_notebook(cells=[
        new_markdown_cell("# Hostile\n\nWrite your answer below."),
        answer,
        new_raw_cell(f"<script>window.__{MARK}=20</script><img src=x onerror=\"window.__{MARK}=21\"><b>raw bold</b>",
                     metadata={"raw_mimetype": "text/html"}),
        new_raw_cell(f"<iframe src=\"javascript:parent.__{MARK}=22\"></iframe>plain raw"),
        code,
        test,
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    widget = {"model_name": "HTMLModel", "model_module": "@jupyter-widgets/controls", "model_module_version": "2.0.0",
              "state": {"value": f"<img src=x onerror=\"window.__{MARK}=39\">"}}  # the widget manager would show it
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "version_major": 2, "version_minor": 0, "state": {"a" * 32: widget}}}
    return nb


# --- what a page may hold -----------------------------------------------------------------------------

# The templates' own markup: formgrader's page has score boxes, buttons and two onclick handlers.
TEMPLATE_HANDLERS = {"toggle_name(true);", "toggle_name(false);"}
NEVER = {"iframe", "object", "embed", "form", "svg", "math", "base", "frame", "frameset", "applet", "select"}


class Page(HTMLParser):
    """Every element, attribute, script and text of a page, as html.parser reads it."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.elements, self.scripts, self.texts, self.stack = [], [], [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self.stack.append(tag)
            self.scripts.append([tag, dict(attrs), ""])

    def handle_endtag(self, tag):
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_data(self, data):
        if self.stack:
            self.scripts[-1][2] += data
        else:
            self.texts.append(data)

    @property
    def text(self):
        return " ".join(" ".join(self.texts).split())


def problems(html, handlers=frozenset()):
    """What of the student's payloads reached `html` as markup (empty when nothing did)."""
    page = Page(html)
    found = []
    for tag, attrs in page.elements:
        if tag in NEVER:
            found.append(f"<{tag}> {attrs}")
        if tag == "meta" and "http-equiv" in attrs:
            found.append(f"<meta http-equiv> {attrs}")
        for name, value in attrs.items():
            value = value or ""
            if name.startswith("on") and value not in handlers:
                found.append(f"<{tag} {name}={value!r}>")
            if "".join(value.split()).lower().startswith(("javascript:", "vbscript:")):
                found.append(f"<{tag} {name}={value!r}>")
            if name in ("href", "src", "action", "formaction", "data") and value.startswith("data:") \
                    and not value.startswith("data:image/"):
                found.append(f"<{tag} {name}={value[:60]!r}>")
            if MARK in value or MARK in name:
                found.append(f"<{tag} {name}={value!r}>")
            if name == "style" and "position" in value:
                found.append(f"<{tag} style={value!r}>")
        if tag in ("input", "textarea", "button") and not {"score", "extra-credit", "comment", "btn"} & set(
                attrs.get("class", "").split()):
            found.append(f"<{tag}> {attrs}")
    for tag, attrs, content in page.scripts:
        if MARK in content or MARK in str(attrs):
            found.append(f"<{tag}> {content[:80]!r}")
    return found


def kept(html):
    """What of the notebook is missing from `html`: math, a table, code, images, a link, outputs, raw text."""
    page = Page(html)
    missing = []
    text = page.text
    for words in ("$x^2$", "$$\\sum_i i$$", "threads count", "2 1", "total = 1 < 2", "html output", "cell 42",
                  "markdown output", "raw bold", "plain raw", "printed <script>", "ValueError: <img"):
        if words not in text:
            missing.append(f"text {words!r}")
    tags = [tag for tag, _ in page.elements]
    for tag in ("table", "th", "td", "pre", "b", "strong", "h2"):
        if tag not in tags:
            missing.append(f"<{tag}>")
    images = [attrs.get("src", "") for tag, attrs in page.elements if tag == "img"]
    if sum(src == f"data:image/png;base64,{png()}" for src in images) < 2:  # the PNG output and the attachment
        missing.append(f"the PNG output and the attached image (images: {[s[:40] for s in images]})")
    if not any(src.startswith("data:image/svg+xml;base64,") for src in images):
        missing.append("the SVG output, as an image")
    if not any(tag == "a" and attrs.get("href") == "https://doc.rust-lang.org/book/ch16-03-shared-state.html"
               for tag, attrs in page.elements):
        missing.append("the link to the Book")
    if '<div class="highlight"><pre><span></span><span class="n">total</span>' not in html:
        missing.append("the highlighted code block")
    return missing


# --- the two exporters, as nbgrader makes them from the course's config ---------------------------------


def course_config():
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()


def feedback_exporter():
    """`nbgrader generate_feedback`'s exporter and preprocessors, less GetGrades (it reads a gradebook)."""
    from nbgrader.converters import GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.preprocessors import GetGrades

    config = course_config()
    converter = GenerateFeedback(coursedir=CourseDirectory(config=config), config=config)
    exporter = converter.exporter_class(parent=converter, config=converter.config)
    for preprocessor in converter.preprocessors:
        if preprocessor not in (GetGrades, "nbgrader.preprocessors.GetGrades"):
            exporter.register_preprocessor(preprocessor)
    return exporter


def formgrader_exporter():
    """The exporter formgrader's grading view renders a submission with (FormgradeExtension's config)."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers

    config = course_config()
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    return HTMLExporter(config=config)


def graded(nb):
    """`nb` as GetGrades leaves it for the feedback: scores on its graded cells."""
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            meta["score"] = 0.0
    return nb


def render_feedback(nb):
    resources = {"nbgrader": {"notebook": "hostile", "score": 0.0, "max_score": 3.0, "late_penalty": 0.0}}
    html, _ = feedback_exporter().from_notebook_node(graded(nb), resources=resources)
    return html


def render_formgrader(nb):
    resources = {"assignment_id": "hostile", "notebook_id": "hostile", "submission_id": "abc", "index": 0,
                 "total": 1, "base_url": "", "student": "eve", "last_name": f"<img src=x onerror=\"{MARK}()\">",
                 "first_name": "Eve", "notebook_path": "autograded/eve/hostile/hostile.ipynb"}
    html, _ = formgrader_exporter().from_notebook_node(nb, resources=resources)
    return html


@pytest.fixture(scope="module")
def pages():
    return {"feedback": render_feedback(hostile_notebook()), "formgrader": render_formgrader(hostile_notebook())}


@pytest.mark.parametrize("view", ["feedback", "formgrader"])
def test_no_payload_of_the_student_reaches_the_page_as_markup(pages, view):
    handlers = TEMPLATE_HANDLERS if view == "formgrader" else frozenset()
    assert problems(pages[view], handlers) == []


@pytest.mark.parametrize("view", ["feedback", "formgrader"])
def test_math_code_tables_and_the_notebooks_own_images_are_kept(pages, view):
    assert kept(pages[view]) == []


def test_the_page_keeps_its_own_scripts_and_the_grading_form(pages):
    page = Page(pages["formgrader"])
    sources = [attrs.get("src", "") for tag, attrs, _ in page.scripts if tag == "script"]
    assert any(src.endswith("/formgrader/static/js/formgrade.js") for src in sources), sources
    ids = {attrs.get("id") for tag, attrs in page.elements if tag in ("input", "textarea")}
    assert {ANSWER_ID, f"{ANSWER_ID}-comment", TEST_ID} <= ids, ids
    # an element of the student's cannot take the id of the score box formgrader's script looks for
    assert [tag for tag, attrs in page.elements if attrs.get("id") == ANSWER_ID] == ["input"]
    assert "MathJax" in pages["feedback"] and "Safe" in pages["feedback"]  # MathJax with its Safe extension


def test_the_page_says_what_it_did_not_show(pages):
    text = Page(pages["feedback"]).text
    assert "a widget" in text and "<IPython.core.display.Javascript object>" in text


def test_a_student_name_is_shown_as_text_in_formgrader(pages):
    assert f'<img src=x onerror="{MARK}()">, Eve' in Page(pages["formgrader"]).text


def test_an_image_naming_a_missing_attachment_costs_only_its_cell():
    nb = hostile_notebook()
    nb.cells[0].source += "\n\n![gone](attachment:missing.png) <script>x()</script>"
    html = render_feedback(nb)
    assert problems(html) == []
    assert "![gone](attachment:missing.png) &lt;script&gt;x()&lt;/script&gt;" in html
    assert kept(html) == []


def test_the_sanitizer_itself():
    from rustsync.grading.sanitize import clean

    assert clean("<p onclick=x()>hi<script>x()</script></p>") == "<p>hi</p>"
    assert clean('<a href="#part-2">to part 2</a><h2 id="part-2">x</h2>') == (
        '<a href="#user-content-part-2" rel="noopener noreferrer">to part 2</a><h2 id="user-content-part-2">x</h2>')
    assert clean('<span class="k modal navbar-fixed-top">def</span>') == '<span class="k">def</span>'
    for src in ("https://tracker.invalid/x.png", "//tracker.invalid/x.png", "/etc/passwd", "\\\\host\\x.png",
                "data:text/html;base64,PHNjcmlwdD4=", "javascript:x()"):
        assert "src" not in clean(f'<img src="{src}">'), src
    for src in ("figure.png", "images/figure%201.png", f"data:image/png;base64,{png()}"):
        assert f'src="{src}"' in clean(f'<img src="{src}">'), src
    assert clean('<table><tr><td style="text-align: right; position: fixed">1</td></tr></table>') == (
        '<table><tbody><tr><td style="text-align:right">1</td></tr></tbody></table>')
    assert clean(b"<b>bytes</b>") == "<b>bytes</b>"


def test_the_notebook_is_a_valid_notebook():
    nbformat.validate(hostile_notebook())
