"""What a fresh clone of the course lacks, made when first needed (rustsync/grading/fresh_clone.py).

A small course in a temporary folder: two assignments in source/, their release/ made by
nbgrader's `GenerateAssignment`, and a gradebook that knows neither (a fresh clone keeps no
gradebook.db). The autograde hook records in the gradebook what source/ holds and it lacks,
only where release/ is what source/ generates now, only for the assignments it is asked
about; otherwise the gradebook is left without it and the log says what to run. And the
exchange is made for JupyterLab only inside a running JupyterLab.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import stat
import sys
import types

import nbformat
import pytest
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import GenerateAssignment
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

from rustsync.grading import fresh_clone


def source_notebook(name):
    answer = nbformat.v4.new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION",
                                       metadata={"nbgrader": {"grade": False, "grade_id": f"{name}_answer",
                                                              "locked": False, "schema_version": 3,
                                                              "solution": True}})
    test = nbformat.v4.new_code_cell("assert f() == 1", metadata={"nbgrader": {
        "grade": True, "grade_id": f"{name}_test", "locked": True, "points": 2, "schema_version": 3,
        "solution": False}})
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {name}"), answer, test])


def settings(root):
    config = Config()
    config.CourseDirectory.root = str(root)
    return config


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """source/ and release/ of a1 and b1, and an empty gradebook beside them (nbgrader takes seconds to make one)."""
    root = tmp_path_factory.mktemp("template")
    for name in ("a1", "b1"):
        (root / "source" / name).mkdir(parents=True)
        nbformat.write(source_notebook(name), root / "source" / name / f"{name}.ipynb")
    with Gradebook(f"sqlite:///{root / 'empty.db'}"):
        pass
    shutil.copy(root / "empty.db", root / "gradebook.db")
    for name in ("a1", "b1"):
        config = settings(root)
        config.CourseDirectory.assignment_id = name
        GenerateAssignment(coursedir=CourseDirectory(config=config), config=config).start()
    (root / "gradebook.db").unlink()
    return root


@pytest.fixture
def course(template, tmp_path):
    """A fresh clone: source/ and release/, and a gradebook that knows no assignment."""
    root = tmp_path / "course"
    shutil.copytree(template, root)
    (root / "empty.db").rename(root / "gradebook.db")
    return root


def known(root):
    """{assignment: {notebook: [grade cell names]}} the course's gradebook records."""
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return {a.name: {nb.name: sorted(c.name for c in nb.grade_cells) for nb in a.notebooks}
                for a in gb.assignments}


def test_an_assignment_the_gradebook_lacks_is_recorded_from_source_when_release_matches(course, caplog):
    hook = fresh_clone.record_assignments_from_source(settings(course))
    with caplog.at_level(logging.INFO):
        hook(assignment="a1", student="*", notebooks=[])
    assert known(course) == {"a1": {"a1": ["a1_test"]}}
    assert "The gradebook does not know a1 yet: recording it from source/a1" in caplog.text
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert gb.find_grade_cell("a1_test", "a1", "a1").max_score == 2
    assert sorted(os.listdir(course / "release")) == ["a1", "b1"]  # release/ itself is left as it is


def test_every_assignment_is_recorded_by_default_and_a_known_one_is_not_generated_again(course, caplog):
    hook = fresh_clone.record_assignments_from_source(settings(course))
    hook(assignment="a*")
    caplog.clear()
    with caplog.at_level(logging.INFO):
        hook()
    assert known(course) == {"a1": {"a1": ["a1_test"]}, "b1": {"b1": ["b1_test"]}}
    assert "does not know b1" in caplog.text and "does not know a1" not in caplog.text


def test_a_release_that_is_not_what_source_generates_is_not_recorded_and_the_log_says_what_to_run(course, caplog):
    release = course / "release" / "a1" / "a1.ipynb"
    nb = nbformat.read(release, as_version=4)
    nb.cells[0].source += "\nEdited after the release."
    nbformat.write(nb, release)
    hook = fresh_clone.record_assignments_from_source(settings(course))
    with caplog.at_level(logging.INFO):
        hook(assignment="a1")
    assert known(course) == {}
    assert ("release/a1 is not what source/a1 generates now, so the gradebook cannot tell which version the students "
            "fetched. Run `nbgrader generate_assignment a1 --force` (and, if release/ changed, `nbgrader "
            "release_assignment a1 --force`), then grade.") in caplog.text


def test_an_assignment_listed_with_a_due_date_stays_listed_without_notebooks_when_release_differs(course):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        gb.add_assignment("a1", duedate="2030-01-01 12:00:00")
    os.remove(course / "release" / "a1" / "a1.ipynb")
    fresh_clone.record_assignments_from_source(settings(course))(assignment="a1")
    assert known(course) == {"a1": {}}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert str(gb.find_assignment("a1").duedate).startswith("2030-01-01 12:00")
        with pytest.raises(MissingEntry):
            gb.find_notebook("a1", "a1")


def test_folders_are_the_same_when_their_files_are_and_notebooks_compare_as_json(tmp_path):
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for folder in (ours, theirs):
        (folder / "data").mkdir(parents=True)
        (folder / "data" / "input.csv").write_bytes(b"1,2\n")
    nb = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (ours / "a.ipynb").write_text(json.dumps(nb, indent=1))
    (theirs / "a.ipynb").write_text(json.dumps(nb, separators=(",", ":")))
    assert fresh_clone._same_folders(str(ours), str(theirs))
    (theirs / "data" / "input.csv").write_bytes(b"1,2")
    assert not fresh_clone._same_folders(str(ours), str(theirs))
    (theirs / "data" / "input.csv").write_bytes(b"1,2\n")
    (theirs / "extra.txt").write_text("")
    assert not fresh_clone._same_folders(str(ours), str(theirs))
    assert not fresh_clone._same_folders(str(ours), str(tmp_path / "missing"))


def test_the_exchange_is_made_open_to_everyone_inside_a_running_jupyterlab_only(tmp_path, monkeypatch):
    root = tmp_path / "exchange"
    monkeypatch.delitem(sys.modules, "jupyter_server.serverapp", raising=False)
    fresh_clone.create_exchange_for_jupyterlab(str(root))
    assert not root.exists()  # nbgrader's commands read the same settings: they make it when they need it

    running = {"now": False}
    server = types.SimpleNamespace(ServerApp=types.SimpleNamespace(initialized=lambda: running["now"]))
    monkeypatch.setitem(sys.modules, "jupyter_server.serverapp", server)
    fresh_clone.create_exchange_for_jupyterlab(str(root))
    assert not root.exists()
    running["now"] = True
    fresh_clone.create_exchange_for_jupyterlab(str(root))
    assert stat.S_IMODE(root.stat().st_mode) == 0o777
    os.chmod(root, 0o700)
    fresh_clone.create_exchange_for_jupyterlab(str(root))
    assert stat.S_IMODE(root.stat().st_mode) == 0o700  # an existing exchange is left alone
