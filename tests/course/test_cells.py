"""`rustsync.course.cells`: after a NameError, the lesson cell to run first.

Which names a cell defines (its top-level bindings, not its reads or a function's
locals), which cell is named and how it is described, when the hint is printed (a
NameError, in a notebook Jupyter names), and the extension's loading and unloading.
"""

import json
import types

import pytest

from rustsync.course import cells


def notebook(*sources):
    """A notebook of cells: a string starting with "#" and a space is a markdown cell, any other a code cell."""
    made = []
    for source in sources:
        kind = "markdown" if source.startswith("# ") or source.startswith("## ") else "code"
        made.append({"cell_type": kind, "source": source, "metadata": {}})
    return {"cells": made, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


@pytest.mark.parametrize(("source", "name"), [
    ("import os.path", "os"),
    ("from rustsync import Mutex as M", "M"),
    ("def worker():\n    pass", "worker"),
    ("class Point:\n    pass", "Point"),
    ("a, (b, c) = 1, (2, 3)", "c"),
    ("total: int = 0", "total"),
    ("count += 1", "count"),
    ("for i, item in enumerate([]):\n    pass", "item"),
    ("with open('f') as handle:\n    pass", "handle"),
    ("if True:\n    late = 1", "late"),
    ("try:\n    tried = 1\nexcept Exception:\n    pass", "tried"),
    ("print(seen := 3)", "seen"),
    ("%time\nafter_magic = 1", "after_magic"),
])
def test_a_cell_defines_the_names_it_binds_at_its_top_level(source, name):
    assert name in cells._defined_names(source)


@pytest.mark.parametrize(("source", "name"), [
    ("print(counter)", "counter"),
    ("def worker():\n    inner = 1", "inner"),
    ("class Point:\n    x = 1", "x"),
    ("counter = = 1", "counter"),
])
def test_reads_locals_and_broken_cells_define_nothing(source, name):
    assert name not in cells._defined_names(source)


def test_without_the_running_cell_the_first_definition_is_named():
    nb = notebook("counter = 1", "counter = 2")
    assert cells.defining_cell(nb, "counter")["number"] == 1
    assert cells.defining_cell(nb, "counter", "a cell that is not in the notebook")["number"] == 1


def test_a_definition_below_the_running_cell_is_named_when_none_is_above():
    nb = notebook("print(counter)", "## Later", "counter = 5")
    assert cells.defining_cell(nb, "counter", "print(counter)") == {
        "number": 2, "heading": "Later", "first_line": "counter = 5"}


def test_the_cell_is_described_by_its_first_line_of_code_and_the_last_heading_above_it():
    nb = notebook("# Lesson\n\nSome text.\n\n## Setup\n\nmore text", "\n# a comment\n\nlog = []\nlog.append(1)")
    nb["cells"][1]["source"] = ["\n", "# a comment\n", "\n", "log = []\n", "log.append(1)"]  # as saved on disk
    assert cells.defining_cell(nb, "log") == {"number": 1, "heading": "Setup", "first_line": "log = []"}


def test_a_cell_with_no_heading_above_is_said_to_be_above(tmp_path):
    path = tmp_path / "lesson.ipynb"
    path.write_text(json.dumps(notebook("x = 1", "print(x)")))
    said = cells.hint(str(path), "x", "print(x)")
    assert said.startswith("help: `x` is defined by code cell 1 of lesson.ipynb, above, which starts `x = 1`.")


def test_no_hint_for_a_name_no_cell_defines_or_a_notebook_that_cannot_be_read(tmp_path):
    path = tmp_path / "lesson.ipynb"
    path.write_text(json.dumps(notebook("x = 1")))
    assert cells.hint(str(path), "y") is None
    assert cells.hint(str(tmp_path / "missing.ipynb"), "x") is None
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{ not json")
    assert cells.hint(str(broken), "x") is None


def run_result(error, raw_cell):
    return types.SimpleNamespace(error_in_exec=error, info=types.SimpleNamespace(raw_cell=raw_cell))


@pytest.fixture
def lesson(tmp_path, monkeypatch):
    path = tmp_path / "lesson.ipynb"
    path.write_text(json.dumps(notebook("## The counter", "counter = 0", "counter += 1")))
    monkeypatch.setenv(cells.SESSION_ENV, str(path))
    return path


def test_after_a_name_error_the_hint_goes_to_stderr(lesson, capsys):
    try:
        counter  # noqa: B018, F821 - the name the cell misses
    except NameError as err:
        error = err
    cells._after_cell(run_result(error, "counter += 1"))
    out, err = capsys.readouterr()
    assert out == ""
    assert err == cells.hint(str(lesson), "counter", "counter += 1") + "\n"
    assert "code cell 1 of lesson.ipynb, under \"The counter\"" in err


def test_a_name_error_without_a_name_attribute_is_read_from_its_message(lesson, capsys):
    cells._after_cell(run_result(NameError("name 'counter' is not defined"), "counter += 1"))
    assert "`counter` is defined by code cell 1" in capsys.readouterr().err


@pytest.mark.parametrize("error", [None, ValueError("name 'counter' is not defined"), NameError("no name here")])
def test_no_hint_after_a_cell_that_did_not_miss_a_name(lesson, capsys, error):
    cells._after_cell(run_result(error, "counter += 1"))
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("session", [None, "", "console-1", "script.py"])
def test_no_hint_outside_a_notebook_that_jupyter_names(lesson, capsys, monkeypatch, session):
    if session is None:
        monkeypatch.delenv(cells.SESSION_ENV)
    else:
        monkeypatch.setenv(cells.SESSION_ENV, session)
    cells._after_cell(run_result(NameError("name 'counter' is not defined"), "counter += 1"))
    assert capsys.readouterr() == ("", "")


class Events:
    """What the extension uses of IPython's event manager."""

    def __init__(self):
        self.callbacks = {"post_run_cell": []}

    def register(self, event, func):
        self.callbacks[event].append(func)

    def unregister(self, event, func):
        self.callbacks[event].remove(func)


def test_the_extension_registers_its_hook_once_and_unloads_it():
    shell = types.SimpleNamespace(events=Events())
    cells.load_ipython_extension(shell)
    cells.load_ipython_extension(shell)
    assert shell.events.callbacks["post_run_cell"] == [cells._after_cell]
    cells.unload_ipython_extension(shell)
    cells.unload_ipython_extension(shell)
    assert shell.events.callbacks["post_run_cell"] == []
