"""Running nbgrader's commands in this process (rustsync/grading/commands.py).

`run_nbgrader` runs a command from the folder it is given, with the environment it is
given, and returns the command's log; a failure raises with the exit status and the log.
Either way the test's folder and environment are put back, and the next command starts
from a fresh application. `nbgrader generate_config` is the command used: it writes one
file, named by a setting, into the folder it runs from, and fails if that file exists.
"""

from __future__ import annotations

import os

import pytest

from rustsync.grading.commands import run_nbgrader


def environment():
    return dict(os.environ)


def test_a_command_runs_from_the_folder_given_and_returns_its_log(tmp_path):
    here, before = os.getcwd(), environment()
    log = run_nbgrader("generate_config", "--GenerateConfigApp.filename=made.py", cwd=tmp_path)
    assert "[GenerateConfigApp | INFO] New config file saved to 'made.py'" in log
    assert os.listdir(tmp_path) == ["made.py"] and "c.CourseDirectory" in (tmp_path / "made.py").read_text()
    assert os.getcwd() == here and environment() == before


def test_the_environment_given_replaces_this_ones_while_the_command_runs_only(tmp_path, monkeypatch):
    settings = tmp_path / "jupyter"
    settings.mkdir()
    (settings / "nbgrader_config.py").write_text('c.GenerateConfigApp.filename = "from_the_given_env.py"\n')
    monkeypatch.setenv("RUSTSYNC_TEST_MARK", "this process's")
    before = environment()
    given = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "JUPYTER_CONFIG_DIR": str(settings)}
    (tmp_path / "work").mkdir()
    run_nbgrader("generate_config", cwd=tmp_path / "work", env=given)
    assert os.listdir(tmp_path / "work") == ["from_the_given_env.py"]
    assert environment() == before  # the mark is back, the given settings folder is gone


def test_a_failing_command_raises_with_its_status_and_log_and_puts_everything_back(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text("# the course's own\n")
    here, before = os.getcwd(), environment()
    with pytest.raises(RuntimeError) as failed:
        run_nbgrader("generate_config", cwd=tmp_path, env={**before, "RUSTSYNC_TEST_MARK": "given"})
    assert str(failed.value).startswith("nbgrader generate_config failed (1):\n")
    assert "[GenerateConfigApp | ERROR] Config file 'nbgrader_config.py' already exists" in str(failed.value)
    assert (tmp_path / "nbgrader_config.py").read_text() == "# the course's own\n"
    assert os.getcwd() == here and environment() == before


def test_each_command_starts_from_a_fresh_application(tmp_path):
    run_nbgrader("generate_config", "--GenerateConfigApp.filename=first.py", cwd=tmp_path)
    run_nbgrader("generate_config", cwd=tmp_path)  # the first command's setting is not kept
    assert sorted(os.listdir(tmp_path)) == ["first.py", "nbgrader_config.py"]
