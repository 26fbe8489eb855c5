"""The sandbox autograde runs student code in (rustsync.sandbox): the bwrap command, the kernel
manager, the checks that keep grading from running unsandboxed, and the course's setting.

Fast: no kernel starts here (tests/test_grading_workflow.py grades a submission that tries
to read the course). Needs bubblewrap (`apt-get install -y bubblewrap`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from jupyter_client.manager import AsyncKernelManager
from nbgrader.converters import Autograde
from nbgrader.converters.base import NbGraderException
from nbgrader.preprocessors import Execute
from traitlets.config import Config, PyFileConfigLoader

from rustsync import sandbox
from rustsync.sandbox import (
    STOP_CELLS_ON_INTERRUPT,
    SandboxedExecute,
    SandboxedKernelManager,
    SandboxError,
    bwrap_command,
    check_bwrap,
    kernel_needs,
    sandbox_enabled,
)

ROOT = Path(__file__).resolve().parents[1]
KERNEL = ["python", "-m", "ipykernel_launcher", "-f", "kernel.json"]


def run_async(coroutine):
    """Run a coroutine to the end on a thread of its own: other tests (Playwright's sync API,
    in-process nbgrader) can leave an event loop running on the main thread."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    """A HOME of the test's own: making a kernel manager creates IPython's folder (~/.ipython) there."""
    home = tmp_path / "user"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("IPYTHONDIR", str(home / ".ipython"))
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR"):
        monkeypatch.setenv(name, str(home / name.lower()))
    return home


@pytest.fixture
def course(tmp_path):
    """A course folder with solutions, a gradebook, two graded students and a package inside it."""
    root = tmp_path / "course"
    for folder in ("source/a", "autograded/ann/a", "autograded/bob/a", "pkg/sub", "home", "run"):
        (root / folder if folder not in ("home", "run") else tmp_path / folder).mkdir(parents=True)
    (root / "source/a/a.ipynb").write_text("the solutions")
    (root / "gradebook.db").write_text("the scores")
    (root / "autograded/bob/a/a.ipynb").write_text("bob's work")
    (root / "autograded/ann/a/a.ipynb").write_text("ann's work")
    (root / "pkg/__init__.py").write_text("")
    return root


def mounts(cmd):
    """The (option, path) pairs of a bwrap command line, in order, up to `--`."""
    pairs, args = [], cmd[1:cmd.index("--")]
    takes = {"--tmpfs": 1, "--ro-bind": 2, "--bind": 2, "--remount-ro": 1, "--dev": 1, "--proc": 1, "--chdir": 1,
             "--setenv": 2, "--cap-drop": 1}
    i = 0
    while i < len(args):
        option = args[i]
        n = takes.get(option, 0)
        pairs.append((option, args[i + 1] if n else None))
        i += 1 + n
    return pairs


def build(course, **extra):
    tmp = course.parent
    return bwrap_command(KERNEL, workdir=course / "autograded/ann/a", runtime_dir=tmp / "run", hide=[course],
                         keep=[course / "pkg", course / "pkg/sub", "/usr/lib", tmp / "missing"], home=tmp / "home",
                         **extra)


# --- the command ----------------------------------------------------------------------------------------


def test_the_command_hides_the_course_then_shows_the_package_and_the_submission(course):
    tmp = course.parent
    cmd = build(course)
    assert cmd[:6] == ["bwrap", "--unshare-all", "--die-with-parent", "--cap-drop", "ALL", "--ro-bind"]
    assert "--share-net" not in cmd
    assert cmd[cmd.index("--"):] == ["--", *KERNEL]
    order = mounts(cmd)
    where = {pair: i for i, pair in enumerate(order)}
    course_hidden = where[("--tmpfs", str(course))]
    assert where[("--tmpfs", "/tmp")] < course_hidden  # /tmp holds the course here: shallower first
    assert course_hidden < where[("--ro-bind", str(course / "pkg"))]
    assert course_hidden < where[("--bind", str(course / "autograded/ann/a"))]
    assert ("--bind", str(tmp / "run")) in order and ("--tmpfs", str(tmp / "home")) in order
    assert ("--tmpfs", "/run") in order  # the sockets of the machine's services
    assert [p for o, p in order if o == "--remount-ro"] == [str(course)]  # /tmp, /run and HOME stay writable
    # pkg/sub comes with pkg; /usr/lib is not hidden; the missing folder is left out
    accounts = {made for made in sandbox._account_files().values()}
    assert [p for o, p in order if o in ("--ro-bind", "--bind") and p not in accounts] == [
        "/", str(tmp / "run"), str(course / "pkg"), str(course / "autograded/ann/a")]
    assert ("--ro-bind", sandbox._account_files()["/etc/passwd"]) in order  # not the machine's accounts
    assert ("--chdir", str(course / "autograded/ann/a")) in order
    assert ("--setenv", "JPY_PARENT_PID") in order


def test_the_command_shares_the_network_only_when_asked(course):
    assert "--share-net" in build(course, share_net=True)


def test_the_command_refuses_a_layout_that_would_show_the_course(course):
    tmp = course.parent
    with pytest.raises(SandboxError, match="must be started with `cwd=` that folder"):
        bwrap_command(KERNEL, workdir=None, runtime_dir=tmp / "run", hide=[course])
    with pytest.raises(SandboxError, match=f"would write to {course}, which holds {course}"):
        bwrap_command(KERNEL, workdir=course, runtime_dir=tmp / "run", hide=[course])
    with pytest.raises(SandboxError, match=f"needs {course} .* a folder the sandbox hides"):
        bwrap_command(KERNEL, workdir=course / "autograded/ann/a", runtime_dir=tmp / "run", hide=[course],
                      keep=[course])


def test_under_the_command_the_course_is_gone_and_only_the_submission_is_writable(course):
    probe = """
import json, os
def attempt(action):
    try:
        action()
        return "ok"
    except OSError as err:
        return type(err).__name__
course = os.path.abspath("../../..")
print(json.dumps({
    "solutions": attempt(lambda: open(os.path.join(course, "source/a/a.ipynb")).read()),
    "gradebook": attempt(lambda: open(os.path.join(course, "gradebook.db")).read()),
    "bob": attempt(lambda: open(os.path.join(course, "autograded/bob/a/a.ipynb")).read()),
    "own": attempt(lambda: open("a.ipynb").read()),
    "package": attempt(lambda: open(os.path.join(course, "pkg/__init__.py")).read()),
    "write course": attempt(lambda: open(os.path.join(course, "x"), "w").write("x")),
    "write package": attempt(lambda: open(os.path.join(course, "pkg/x"), "w").write("x")),
    "write own": attempt(lambda: open("written.txt", "w").write("x")),
    "write tmp": attempt(lambda: open("/tmp/x", "w").write("x")),
    "processes": sorted(p for p in os.listdir("/proc") if p.isdigit()),
}))
"""
    tmp = course.parent
    # as SandboxedKernelManager does: Python's folders shown again (they may lie under /tmp, which is hidden)
    cmd = bwrap_command([sys.executable, "-c", probe], workdir=course / "autograded/ann/a", runtime_dir=tmp / "run",
                        hide=[course], keep=[*kernel_needs(), course / "pkg"], home=tmp / "home")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "solutions": "FileNotFoundError", "gradebook": "FileNotFoundError", "bob": "FileNotFoundError",
        "own": "ok", "package": "ok", "write course": "OSError", "write package": "OSError", "write own": "ok",
        "write tmp": "ok", "processes": ["1", "2"]}
    assert (course / "autograded/ann/a/written.txt").exists() and not (course / "x").exists()


# --- the kernel manager ---------------------------------------------------------------------------------


def config_for(course):
    c = Config()
    c.CourseDirectory.root = str(course)
    c.Exchange.root = str(course.parent / "exchange")
    return c


def test_the_kernel_manager_starts_the_kernel_under_bwrap_on_unix_sockets(course):
    km = SandboxedKernelManager(kernel_name="python3", config=config_for(course))
    cmd, _ = run_async(km.pre_start_kernel(cwd=str(course / "autograded/ann/a")))
    runtime = os.path.dirname(km.connection_file)
    try:
        kernel = cmd[cmd.index("--") + 1:]
        assert cmd[0] == "bwrap" and kernel[-3:] == ["-f", km.connection_file, STOP_CELLS_ON_INTERRUPT]
        assert km.transport == "ipc" and km.ip.startswith(runtime + os.sep)
        assert km.kernel_spec.interrupt_mode == "message"  # SIGINT to the process group would end bwrap
        order = mounts(cmd)
        assert ("--tmpfs", str(course)) in order and ("--bind", runtime) in order
        # the kernel's folder is read-only unless `writable` (the grader runs it on a scratch copy)
        assert ("--ro-bind", str(course / "autograded/ann/a")) in order and "--share-net" not in cmd
    finally:
        run_async(km.cleanup_resources())
    assert not os.path.exists(runtime)


def test_with_the_sandbox_off_the_kernel_starts_as_usual(course, monkeypatch):
    monkeypatch.setenv("RUSTSYNC_SANDBOX", "off")
    km = SandboxedKernelManager(kernel_name="python3", config=config_for(course))
    cmd, _ = run_async(km.pre_start_kernel(cwd=str(course / "autograded/ann/a")))
    try:
        assert "bwrap" not in cmd and cmd[0] == sys.executable and km.transport == "tcp"
        assert cmd[-1] == STOP_CELLS_ON_INTERRUPT  # a cell that swallows Ctrl-C is stopped all the same
    finally:
        run_async(km.cleanup_resources())


def test_the_sandbox_starts_any_python_under_the_limits_it_is_given(monkeypatch):
    monkeypatch.setenv("RUSTSYNC_SANDBOX", "off")  # the limits are the same with bwrap (test_sandbox_limits.py)
    probe = "import resource; print(resource.getrlimit(resource.RLIMIT_NOFILE)[0])"
    cmd = sandbox.python_command(["-c", probe], limits={"open_files": 77})
    assert subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout == "77\n"


def test_the_sandbox_loads_without_the_grading_above_it():
    """The sandbox is a floor below grading: grading names its worker, the sandbox only starts a Python."""
    probe = "import sys, rustsync.sandbox; print(sorted(m for m in sys.modules if m.startswith('rustsync.grading')))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.stdout == "[]\n", done.stderr


def test_the_sandbox_setting_is_on_or_off():
    assert sandbox_enabled({}) and sandbox_enabled({"RUSTSYNC_SANDBOX": "on"})
    assert not sandbox_enabled({"RUSTSYNC_SANDBOX": "OFF"})
    with pytest.raises(SandboxError, match=r"RUSTSYNC_SANDBOX='no' is not a setting: use RUSTSYNC_SANDBOX=on"):
        sandbox_enabled({"RUSTSYNC_SANDBOX": "no"})


# --- never unsandboxed by mistake -------------------------------------------------------------------------


def test_a_missing_bwrap_stops_the_grading_of_a_notebook_with_the_fix(tmp_path):
    c = Config()
    c.SandboxedKernelManager.bwrap = str(tmp_path / "bwrap")
    with pytest.raises(NbGraderException, match=r"`.*bwrap` \(bubblewrap\) is not installed.*install it with "
                                                r"`apt-get install -y bubblewrap`, or set RUSTSYNC_SANDBOX=off"):
        SandboxedExecute(config=c)
    c.Execute.enabled = False  # `nbgrader autograde --no-execute` runs no kernel: nothing to check
    SandboxedExecute(config=c)


def test_a_bwrap_that_cannot_make_a_sandbox_is_reported_with_its_message(tmp_path):
    broken = tmp_path / "bwrap"
    broken.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    broken.chmod(broken.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(SandboxError, match="cannot make a sandbox on this machine: bwrap: No permissions to create "
                                           "new namespace. It needs user namespaces"):
        check_bwrap(str(broken))


def test_grading_with_the_sandbox_off_says_so_in_the_log(monkeypatch, caplog):
    monkeypatch.setenv("RUSTSYNC_SANDBOX", "off")
    log = logging.getLogger("test_sandbox")
    with caplog.at_level(logging.WARNING, logger="test_sandbox"):
        SandboxedExecute(config=Config(), log=log)
    assert "RUSTSYNC_SANDBOX=off: student code runs WITHOUT the sandbox" in caplog.text


def test_the_course_runs_autograde_and_only_autograde_in_the_sandbox():
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    from rustsync.grading.notes import CellNotes  # writes the sanitizing step's notes under cells; runs nothing

    ours = [p for p in config.Autograde.autograde_preprocessors if p is not CellNotes]
    default = Autograde.class_traits()["autograde_preprocessors"].default()
    at = default.index(Execute)  # in its place, an Execute that starts its kernels in the sandbox
    assert issubclass(ours[at], SandboxedExecute) and ours[:at] + ours[at + 1:] == default[:at] + default[at + 1:]
    # `nbgrader validate` and generate_solution make nbgrader's Execute: it keeps its kernel manager
    assert Execute(config=config).kernel_manager_class is AsyncKernelManager


def test_the_installed_package_is_the_one_an_isolated_interpreter_imports():
    from rustsync.sandbox import _installed_package

    imported = subprocess.run([sys.executable, "-I", "-c", "import os, rustsync; "
                               "print(os.path.dirname(os.path.realpath(rustsync.__file__)))"],
                              capture_output=True, text=True, timeout=120, cwd="/")
    assert imported.returncode == 0, imported.stderr
    assert _installed_package() == imported.stdout.strip()
    assert _installed_package() in kernel_needs()


def test_a_package_installed_under_tmp_is_shown_and_nothing_beside_it(tmp_path, monkeypatch):
    # an editable install points into its clone, which may lie under /tmp: the sandbox's /tmp is private
    import rustsync.sandbox as sandbox

    clone = tmp_path / "clone"
    package = clone / "rustsync"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("MARK = 1\n")
    (clone / "source.txt").write_text("hidden tests\n")
    monkeypatch.setattr(sandbox, "_installed_package", lambda: str(package))
    assert str(package) in kernel_needs()
    probe = (f"import os; print(os.path.exists({str(package / '__init__.py')!r}), "
             f"os.path.exists({str(clone / 'source.txt')!r}))")
    cmd = bwrap_command([sys.executable, "-I", "-c", probe], workdir="/", runtime_dir=None, keep=kernel_needs(),
                        home=os.environ.get("HOME"), readonly_workdir=True, chdir="/tmp")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False"]
