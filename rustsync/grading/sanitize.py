"""Student work shown as HTML (nbgrader's feedback pages, formgrader's grading view) is sanitized.

Why: both pages put a student's markdown, raw cells and outputs into the page as they are,
so an answer holding `<script>` or `<img onerror=...>` ran in the instructor's or the
student's browser. The sanitizer is nh3 (the Python binding of ammonia, a maintained
allowlist sanitizer in Rust that parses HTML as browsers do, with html5ever), not
nbconvert's `HTMLExporter.sanitize_html`: that option reaches only blocks of nbconvert's
own templates (nbgrader's templates render markdown cells in blocks of their own, which it
never sanitizes), and it calls bleach, deprecated upstream since 2023, whose narrow
allowlist turns a table or an image of an output into escaped tags.
"""

from __future__ import annotations

import html
import re

import nh3
from jinja2 import pass_context
from nbconvert.preprocessors import Preprocessor
from traitlets.config import LoggingConfigurable

__all__ = ["SafeMarkdown", "SanitizeStudentWork", "clean"]

# The tags and attributes the pages keep: text, headings, lists, code, tables, images,
# links. No script, style, iframe, object, embed, form or input; no event handler and no
# `style` but `text-align` on a table cell (markdown's column alignment).
TAGS = set(nh3.ALLOWED_TAGS) | {"tfoot"}
CONTENT_REMOVED = {"script", "style", "iframe", "object", "embed", "applet", "noscript", "noembed", "noframes",
                   "template", "textarea", "select", "title", "xmp", "svg", "math"}
ATTRIBUTES = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
ATTRIBUTES["*"] = {"id", "class", "title", "lang", "dir"}
ATTRIBUTES["a"] = {"href", "hreflang"}
ATTRIBUTES["img"] = {"src", "alt", "width", "height", "align"}
ATTRIBUTES["td"] = ATTRIBUTES.get("td", set()) | {"style"}
ATTRIBUTES["th"] = ATTRIBUTES.get("th", set()) | {"style"}
URL_SCHEMES = {"http", "https", "mailto", "data"}  # data: only for images, see `_attribute`

# An id a student writes gets this prefix, so that it cannot take the place of an element of
# the page itself (formgrader finds its score boxes by id); links within the cell follow it.
ID_PREFIX = "user-content-"
# Class names kept: pygments' (short) ones, code blocks', heading anchors', pandas' tables.
_CLASS = re.compile(r"[a-z][a-z0-9]{0,2}|highlight|hl-[a-z0-9+-]+|language-[a-z0-9+-]+|anchor-link|dataframe")
# Images only from the notebook itself: embedded data (outputs, attachments) or a path next to it.
_IMAGE_DATA = re.compile(r"data:image/(png|jpeg|gif|webp|svg\+xml)[;,]", re.I)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def _attribute(tag: str, name: str, value: str) -> str | None:
    value = value.strip()
    if name == "id":
        return value if value.startswith(ID_PREFIX) else ID_PREFIX + value
    if name == "class":
        kept = [token for token in value.split() if _CLASS.fullmatch(token)]
        return " ".join(kept) or None
    if name == "src":  # images: embedded, or relative to the notebook (no other host, no tracking pixel)
        if _IMAGE_DATA.match(value):
            return value
        if _SCHEME.match(value) or value.startswith(("/", "\\")) or "\\" in value:
            return None
        return value
    if name == "href":
        if value.startswith("#") and not value.startswith("#" + ID_PREFIX):
            return "#" + ID_PREFIX + value[1:]
        if value.lower().startswith("data:"):
            return None
        return value
    return value


_CLEANER = nh3.Cleaner(tags=TAGS, clean_content_tags=CONTENT_REMOVED, attributes=ATTRIBUTES,
                       attribute_filter=_attribute, url_schemes=URL_SCHEMES, strip_comments=True,
                       link_rel="noopener noreferrer", filter_style_properties={"text-align"})


def clean(text) -> str:
    """`text`, an HTML fragment (str or bytes), with only what `TAGS` and `ATTRIBUTES` allow.

    Also the pages' `clean_html` filter (raw cells), in place of nbconvert's (bleach).
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return _CLEANER.clean(str(text))


class SafeMarkdown(LoggingConfigurable):
    """The pages' `markdown2html` filter: the exporter's own rendering of markdown, then `clean`.

    Markdown cells (the written answers), markdown outputs and the grader's comments are
    rendered through it. Math stays text (`$x^2$`) for MathJax, loaded with its `Safe`
    extension (nbconvert's default `mathjax_url`). A cell the renderer cannot render (an
    image naming an attachment the cell does not have) shows as its escaped source.
    """

    @pass_context
    def __call__(self, context, source):
        try:
            rendered = self.parent.markdown2html(context, source)
        except Exception as err:  # noqa: BLE001 - one odd cell costs only itself
            self.log.warning("A markdown cell could not be rendered (%s); shown as text", err)
            return f"<pre>{html.escape(str(source))}</pre>"
        return clean(rendered)

    jinja_pass_arg = __call__.jinja_pass_arg  # Jinja looks for it on the filter itself, an instance


# Output types a page shows: anything else (application/javascript, widget views, mermaid,
# vendor types) is dropped; `text/html` is cleaned here, `text/markdown` by `SafeMarkdown`;
# `text/latex` and `text/plain` are escaped by the templates, and an SVG is shown as an
# image (`<img src="data:image/svg+xml;...">`), in which a browser runs no script.
SHOWN = ("text/plain", "text/html", "text/markdown", "text/latex", "image/png", "image/jpeg", "image/svg+xml")
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
_ATTACHED = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml")
# What formgrader's page shows unescaped from `resources` (the student's id and name).
_NAMES = ("student", "last_name", "first_name", "notebook_path")


def _output(output):
    """The output as a page may show it (a line of text saying what was left out, if nothing is left)."""
    if output.get("output_type") not in ("display_data", "execute_result"):
        return output  # stream and error outputs: text, escaped by the templates
    data = output.get("data", {})
    kept = {mime: value for mime, value in data.items() if mime in SHOWN}
    for mime in ("image/png", "image/jpeg"):
        if mime in kept and not (isinstance(kept[mime], str) and _BASE64.fullmatch(kept[mime])):
            del kept[mime]
    if "text/html" in kept:
        kept["text/html"] = clean("".join(kept["text/html"]) if isinstance(kept["text/html"], list)
                                  else kept["text/html"])
    dropped = sorted(set(data) - set(kept))
    if not kept:
        kept["text/plain"] = f"[not shown here: an output of type {', '.join(dropped)}]"
    output["data"] = kept
    metadata = output.get("metadata", {})
    metadata.pop("isolated", None)  # nbconvert would show it in an iframe
    metadata.pop("filenames", None)  # image paths: the data is shown, never a file named by the notebook
    for value in metadata.values():
        if isinstance(value, dict):
            value.pop("isolated", None)
    return output


def _attachments(attachments):
    """A markdown cell's attached images (embedded as data: images); anything else is left out."""
    kept = {}
    for name, bundle in (attachments or {}).items():
        images = {mime: data for mime, data in (bundle if isinstance(bundle, dict) else {}).items()
                  if mime in _ATTACHED and isinstance(data, str) and _BASE64.fullmatch(data)}
        if images:
            kept[name] = images
    return kept


class SanitizeStudentWork(Preprocessor):
    """Outputs, raw cells, attachments and names of a notebook, made safe to show in a page.

    Registered in nbgrader_config.py as `HTMLExporter.preprocessors`, so both the feedback
    (`nbgrader generate_feedback`) and formgrader's grading view run it; markdown is
    cleaned after it is rendered, by `SafeMarkdown`.
    """

    enabled = True

    def preprocess(self, nb, resources):
        nb.metadata.pop("widgets", None)  # a widget's saved state renders HTML through the widget manager
        for cell in nb.cells:
            if cell.get("cell_type") == "raw":
                cell.source = clean(cell.source)
            elif cell.get("cell_type") == "code":
                cell.outputs = [_output(output) for output in cell.get("outputs", [])]
            if "attachments" in cell:
                cell.attachments = _attachments(cell.attachments)
            meta = cell.get("metadata", {}).get("nbgrader")
            if isinstance(meta, dict) and isinstance(meta.get("grade_id"), str):
                meta["grade_id"] = html.escape(meta["grade_id"])  # the templates show it unescaped
        for key in _NAMES:
            if isinstance((resources or {}).get(key), str):
                resources[key] = html.escape(resources[key])
        return nb, resources
