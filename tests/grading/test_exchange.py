"""The course's submit (rustsync/grading/exchange.py): collect sees a submission whole or not at all.

Each test runs nbgrader's own submit, collect and list in this process, as a student and an
instructor of one machine would, with the settings the course writes into its environment
(rustsync/course/environment.py) and HOME, the exchange and the course's folder under
tmp_path. A submit cut short before its folder is renamed into place must leave nothing
that collect takes, tell the student to submit again, and leave an earlier whole
submission the one collected.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest
from nbgrader.exchange import ExchangeFactory
from nbgrader.server_extensions.assignment_list.handlers import AssignmentList

from rustsync.course import environment
from rustsync.grading import exchange
from rustsync.grading.commands import run_nbgrader

COURSE = "rust-shared-state"
A03 = "a03_sharing_a_mutex"
STUDENT = "ann"


def notebook(answer: str) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "execution_count": None, "id": "answer", "metadata": {},
                                  "outputs": [], "source": answer}],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


@pytest.fixture(scope="module")
def empty_gradebook(tmp_path_factory):
    """A new gradebook, made once: nbgrader takes a second and a half to make one."""
    from nbgrader.api import Gradebook

    path = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    with Gradebook(f"sqlite:///{path}", COURSE):
        pass
    return path


@pytest.fixture
def course(tmp_path, monkeypatch, empty_gradebook):
    """The course's environment settings, a released a03 in a fresh exchange, and a student's home with it fetched."""
    folder = tmp_path / "course"
    folder.mkdir()
    shutil.copy(empty_gradebook, folder / "gradebook.db")
    settings = tmp_path / "venv"
    environment.write_settings(str(folder), str(settings))
    root = tmp_path / "exchange"
    outbound = root / COURSE / "outbound" / A03
    outbound.mkdir(parents=True)
    (outbound / f"{A03}.ipynb").write_text(notebook("# your answer here\n"))
    inbound = root / COURSE / "inbound"
    inbound.mkdir()
    inbound.chmod(0o733)  # as nbgrader's release makes it
    home = tmp_path / "home"
    (home / A03).mkdir(parents=True)
    shutil.copy(outbound / f"{A03}.ipynb", home / A03)
    for name, value in (("HOME", home), ("JUPYTER_CONFIG_DIR", home / ".jupyter"),
                        ("JUPYTER_DATA_DIR", home / ".local" / "share" / "jupyter"),
                        ("JUPYTER_CONFIG_PATH", settings / "etc" / "jupyter"), ("NBGRADER_EXCHANGE", root)):
        monkeypatch.setenv(name, str(value))
    monkeypatch.delenv("JUPYTER_NO_CONFIG", raising=False)
    return {"folder": folder, "inbound": inbound, "home": home}


def save(course, answer):
    (course["home"] / A03 / f"{A03}.ipynb").write_text(notebook(answer))


def submit(course):
    return run_nbgrader("submit", A03, "--course", COURSE, "--student", STUDENT, cwd=course["home"])


def collect(course):
    return run_nbgrader("collect", A03, "--course", COURSE, "--update", f"--CourseDirectory.root={course['folder']}",
                        "--ExchangeFactory.collect=rustsync.grading.hooks.SafeCollect", cwd=course["folder"])


def collected_answer(course):
    path = course["folder"] / "submitted" / STUDENT / A03 / f"{A03}.ipynb"
    return json.loads(path.read_text())["cells"][0]["source"]


def visible(inbound):
    return sorted(p.name for p in inbound.iterdir() if not p.name.startswith("."))


def hidden(inbound):
    return sorted(p.name for p in inbound.iterdir() if p.name.startswith("."))


@pytest.fixture
def rename_fails(monkeypatch):
    """A submit cut after its copy was made but before it was renamed into inbound/."""
    real = os.rename

    def cut(src, dst, *args, **kwargs):
        if os.path.basename(os.path.dirname(os.fspath(dst))) == "inbound":
            raise OSError(5, "Input/output error")
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "rename", cut)


@pytest.fixture
def modes_fail(monkeypatch):
    """A submit cut late in its copy: after the files, while setting their modes."""
    def cut(self, *args, **kwargs):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(exchange.AtomicSubmit, "set_perms", cut)


def test_the_courses_environment_settings_choose_the_atomic_submit(course, monkeypatch):
    monkeypatch.chdir(course["home"])
    lister = AssignmentList()
    lister.root_dir = str(course["home"])
    config = lister.load_config()  # what the Assignment List reads, as `nbgrader submit` does: the config path
    assert ExchangeFactory(config=config).submit is exchange.AtomicSubmit


def test_a_submit_yields_one_whole_folder_that_collect_takes(course):
    save(course, "answer = 1\n")
    submit(course)
    [name] = visible(course["inbound"])
    assert name.startswith(f"{STUDENT}+{A03}+")
    assert sorted(os.listdir(course["inbound"] / name)) == [f"{A03}.ipynb", "submission_secret.txt", "timestamp.txt"]
    assert hidden(course["inbound"]) == []
    assert (course["inbound"] / name).stat().st_mode & 0o777 == 0o777  # nbgrader's modes: the instructor may delete it
    assert (course["inbound"] / name / f"{A03}.ipynb").stat().st_mode & 0o777 == 0o644
    collect(course)
    assert collected_answer(course) == "answer = 1\n"


@pytest.mark.parametrize("cut", ["rename_fails", "modes_fail"])
def test_a_submit_cut_before_its_rename_leaves_nothing_collect_takes_and_says_submit_again(course, cut, request):
    save(course, "answer = 1\n")
    request.getfixturevalue(cut)
    with pytest.raises(RuntimeError) as failed:
        submit(course)
    message = str(failed.value)
    assert f"Your submission of {A03} was not handed in" in message and "Submit again." in message, message
    assert os.listdir(course["inbound"]) == []
    assert "No submissions" in collect(course)
    assert not (course["folder"] / "submitted" / STUDENT / A03).exists()


@pytest.mark.parametrize("cut", ["rename_fails", "modes_fail"])
def test_after_a_cut_submit_the_earlier_whole_submission_is_the_one_collected(course, cut, request):
    save(course, "answer = 'whole'\n")
    submit(course)
    save(course, "answer = 'cut short'\n")
    request.getfixturevalue(cut)
    with pytest.raises(RuntimeError):
        submit(course)
    collect(course)
    assert collected_answer(course) == "answer = 'whole'\n"


def test_the_assignment_list_says_submit_again_when_the_submit_is_cut(course, rename_fails, monkeypatch):
    save(course, "answer = 1\n")
    monkeypatch.chdir(course["home"])
    lister = AssignmentList()
    lister.root_dir = str(course["home"])
    result = lister.submit_assignment(COURSE, A03)
    assert result["success"] is False
    last = result["value"].strip().splitlines()[-1]
    assert "was not handed in" in last and last.endswith("Submit again."), last
    assert visible(course["inbound"]) == []


def test_a_hidden_folder_left_by_a_killed_submit_breaks_neither_collect_nor_list(course):
    save(course, "answer = 'whole'\n")
    submit(course)
    [whole] = visible(course["inbound"])
    student, assignment, _stamp, random = whole.split("+")
    later = f"{student}+{assignment}+2999-01-01 00:00:00.000000 UTC+{random}"
    left = course["inbound"] / exchange.hidden_name(later)  # newer than the whole one, and half copied
    left.mkdir()
    (left / f"{A03}.ipynb").write_text(notebook("answer = 'cut short'\n")[:40])
    collect(course)
    assert collected_answer(course) == "answer = 'whole'\n"
    listed = run_nbgrader("list", "--inbound", "--course", COURSE, cwd=course["folder"])
    assert whole.split("+")[2] in listed and "2999" not in listed, listed
