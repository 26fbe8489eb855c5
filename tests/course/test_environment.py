"""`rustsync.course.environment`: the course's settings, written into a Python environment's prefix.

Where each file goes, what each one sets (read the way JupyterLab, IPython and nbgrader
read them), that running it again changes nothing that is already right, that HOME is
left alone, and the command line.
"""

import json
import os

import pytest
from traitlets.config.loader import PyFileConfigLoader

from rustsync.course import environment

LAB = os.path.join("etc", "jupyter", "labconfig", "default_setting_overrides.json")
KERNEL = os.path.join("etc", "ipython", "ipython_kernel_config.py")
NBGRADER = os.path.join("etc", "jupyter", "nbgrader_config.py")


@pytest.fixture
def prefix(tmp_path, monkeypatch):
    """An empty environment prefix, a course folder, and a HOME that must stay empty."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    course = tmp_path / "course"
    (course / "source").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text("c = get_config()\n")
    return tmp_path / "venv", course


def read_config(path):
    """The config a settings file leaves, read with the loader Jupyter's applications use."""
    return PyFileConfigLoader(path.name, str(path.parent)).load_config()


def test_the_three_settings_files_go_under_the_prefix_and_are_returned(prefix):
    env, course = prefix
    written = environment.write_settings(str(course), str(env))
    assert sorted(written) == sorted(str(env / p) for p in (LAB, KERNEL, NBGRADER))
    assert all(os.path.isfile(p) for p in written)
    assert os.listdir(os.environ["HOME"]) == [], "nothing is written into HOME"


def test_jupyterlab_shows_no_news_pop_up_and_checks_for_no_update(prefix):
    env, course = prefix
    environment.write_settings(str(course), str(env))
    settings = json.loads((env / LAB).read_text())
    assert settings == environment.JUPYTERLAB_SETTINGS
    notification = settings["@jupyterlab/apputils-extension:notification"]
    assert notification["checkForUpdates"] is False and notification["fetchNews"] == "false"


def test_every_kernel_loads_the_cell_hint_extension(prefix):
    env, course = prefix
    environment.write_settings(str(course), str(env))
    extensions = read_config(env / KERNEL).InteractiveShellApp.extensions
    assert extensions.get_value([]) == ["rustsync.course.cells"]
    extensions = read_config(env / KERNEL).InteractiveShellApp.extensions
    assert extensions.get_value(["other"]) == ["other", "rustsync.course.cells"], (
        "added to the extensions set elsewhere, not in their place")


def test_nbgrader_gets_the_courses_exchange_and_the_course_folders_real_path(prefix, monkeypatch, tmp_path):
    env, course = prefix
    link = tmp_path / "link-to-course"
    link.symlink_to(course)
    environment.write_settings(str(link), str(env))
    text = (env / NBGRADER).read_text()
    assert f"folder.stop_if_wrong({str(course.resolve())!r})" in text, "the link is resolved"

    monkeypatch.chdir(tmp_path)  # no nbgrader_config.py here; this process is not `nbgrader`
    monkeypatch.setenv("NBGRADER_EXCHANGE", str(tmp_path / "exchange"))
    assert read_config(env / NBGRADER).Exchange.root == str(tmp_path / "exchange")
    monkeypatch.delenv("NBGRADER_EXCHANGE")
    assert read_config(env / NBGRADER).Exchange.root == "/tmp/exchange"


def test_writing_again_leaves_files_that_are_right_and_mends_the_others(prefix):
    env, course = prefix
    written = environment.write_settings(str(course), str(env))
    old = 1_000_000_000
    for path in written:
        os.utime(path, ns=(old, old))
    (env / KERNEL).write_text("# changed by hand\n")
    os.utime(env / KERNEL, ns=(old, old))
    environment.write_settings(str(course), str(env))
    assert (env / KERNEL).read_text() == environment.KERNEL_CONFIG
    untouched = [p for p in written if os.stat(p).st_mtime_ns == old]
    assert sorted(untouched) == sorted(str(env / p) for p in (LAB, NBGRADER))


def test_the_command_line_takes_the_course_and_the_environment(prefix, capsys):
    env, course = prefix
    assert environment.main([str(course)]) == 2
    assert "usage: python -m rustsync.course.environment COURSE_FOLDER ENVIRONMENT" in capsys.readouterr().err
    assert not env.exists()
    assert environment.main([str(course), str(env)]) == 0
    assert (env / KERNEL).read_text() == environment.KERNEL_CONFIG
