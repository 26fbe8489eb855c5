"""What the sandbox gives the grader's worker and the student's kernel: environment, limits, folders.

These run small probes under the same command the grader builds (`rustsync.sandbox`),
so they need bubblewrap (`apt-get install -y bubblewrap`), as grading does.
"""

import asyncio
import json
import os
import subprocess
import sys

import pytest
from traitlets.config import Config

from rustsync import limits, sandbox
from rustsync.grading import hooks, runner

PROBE = r"""
import json, os, resource
out = {"env": sorted(os.environ), "cwd": os.getcwd(),
       "as": resource.getrlimit(resource.RLIMIT_AS)[0], "fsize": resource.getrlimit(resource.RLIMIT_FSIZE)[0],
       "nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[0], "cpu": resource.getrlimit(resource.RLIMIT_CPU)[0]}
def attempt(action):
    try:
        action()
        return "ok"
    except OSError as err:
        return type(err).__name__
out["course"] = attempt(lambda: open(os.path.join(COURSE, "gradebook.db")).read())
out["home"] = os.listdir(HOME) if os.path.isdir(HOME) else "missing"
out["write cwd"] = attempt(lambda: open("written.txt", "w").write("x"))
out["write tmp"] = attempt(lambda: open("/tmp/small.txt", "w").write("x"))
def fill():
    with open("/tmp/big.bin", "wb") as f:
        for _ in range(80):
            f.write(b"\0" * 2**20)
out["fill tmp"] = attempt(fill)
print(json.dumps(out))
"""


@pytest.fixture
def course(tmp_path):
    root = tmp_path / "course"
    (root / "autograded" / "ann" / "a").mkdir(parents=True)
    (root / "gradebook.db").write_text("the scores")
    home = tmp_path / "home"
    (home / "private").mkdir(parents=True)
    return root, home


def run_probe(cmd, course, home, env=None):
    code = PROBE.replace("COURSE", repr(str(course))).replace("HOME", repr(str(home)))
    done = subprocess.run([*cmd, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "RUSTSYNC_TEST_SECRET": "canary", **(env or {})})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_kernel_command_clears_the_environment_sets_limits_and_hides_the_course(course, tmp_path):
    root, home = course
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    work = runtime / "submission"
    work.mkdir()
    cmd = sandbox.bwrap_command(sandbox.with_limits([sys.executable], sandbox.KERNEL_LIMITS), workdir=work,
                                runtime_dir=runtime, hide=[root], keep=sandbox.kernel_needs(), home=str(home),
                                env=sandbox.clean_env(), tmp_size=sandbox.TMP_SIZE, readonly_workdir=True)
    got = run_probe(cmd, root, home)
    assert "RUSTSYNC_TEST_SECRET" not in got["env"] and set(got["env"]) <= set(sandbox.clean_env()) | {
        "JPY_PARENT_PID", "PWD"}
    assert got["as"] == sandbox.KERNEL_LIMITS["memory"] and got["fsize"] == sandbox.KERNEL_LIMITS["file_size"]
    assert got["nofile"] == sandbox.KERNEL_LIMITS["open_files"] and got["cpu"] == sandbox.KERNEL_LIMITS["cpu_seconds"]
    assert got["course"] == "FileNotFoundError" and got["home"] == []
    assert got["write cwd"] == "OSError" and got["write tmp"] == "ok"
    assert got["fill tmp"] == "OSError"  # /tmp is a small tmpfs: 80 MB do not fit
    assert not (work / "written.txt").exists() and not (root / "written.txt").exists()


def test_the_worker_command_runs_in_the_same_sandbox_without_any_writable_folder_but_tmp(course, monkeypatch):
    root, home = course
    monkeypatch.setenv("HOME", str(home))
    cmd = runner.worker_command(None, hide=[root])
    python = cmd[: cmd.index("-m")]  # the same sandbox and limits, a probe in place of the worker
    got = run_probe(python, root, home)
    assert "RUSTSYNC_TEST_SECRET" not in got["env"] and got["cwd"] == "/tmp"
    assert got["course"] == "FileNotFoundError" and got["home"] == []
    assert got["as"] == sandbox.WORKER_LIMITS["memory"] and got["fill tmp"] == "OSError"


def test_a_kernel_limit_set_in_the_config_reaches_the_kernels_process(course, tmp_path):
    root, home = course
    c = Config()
    c.CourseDirectory.root = str(root)
    c.Exchange.root = str(tmp_path / "exchange")
    c.SandboxedKernelManager.limits = {"memory": 3 * limits.GiB, "open_files": 300}
    km = sandbox.SandboxedKernelManager(kernel_name="python3", config=c)
    cmd, _ = asyncio.run(km.pre_start_kernel(cwd=str(root)))
    try:
        program = cmd.index(sandbox._LIMITER) + 2  # the kernel's Python, as the limiter starts it
        got = run_probe(cmd[:program + 1], root, home)
    finally:
        asyncio.run(km.cleanup_resources())
    assert got["as"] == 3 * limits.GiB and got["nofile"] == 300
    assert got["cpu"] == limits.KERNEL["cpu_seconds"] and got["fsize"] == limits.KERNEL["file_size"]  # the table's


PART_PROBE = "import resource\nseen = [resource.getrlimit(r)[0] for r in (resource.RLIMIT_AS, resource.RLIMIT_NOFILE)]"


def test_a_part_limit_set_in_the_config_reaches_the_students_process():
    c = Config()
    c.TrustedExecute.limits = {"memory": 1536 * limits.MiB}
    execute = hooks.TrustedExecute(config=c)
    cells = [runner.Cell("student", PART_PROBE, "Cell In[1]"),
             runner.Cell("test", "from rustsync.grading import check_equal\n"
                                 f"check_equal(seen, [{1536 * limits.MiB}, {limits.PART['open_files']}], 'the limits', "
                                 "reveal=True)", "Cell In[2]", "test")]
    work = runner.Runner(runner.worker_command(None), limits=execute.limits, parallel=1)
    part = work.run(cells, {"test": 1})["test"]
    assert part.passed, part.message


def test_the_notebooks_bound_comes_from_the_table_unless_the_config_sets_one():
    assert hooks.TrustedExecute().notebook_seconds == limits.NOTEBOOK_SECONDS
    c = Config()
    c.TrustedExecute.notebook_seconds = 42
    assert hooks.TrustedExecute(config=c).notebook_seconds == 42


def test_the_scratch_copy_holds_only_the_submissions_plain_files(tmp_path):
    source, target = tmp_path / "submitted", tmp_path / "scratch"
    (source / "data").mkdir(parents=True)
    (source / "a03.ipynb").write_text("{}")  # the notebook, hidden tests restored by nbgrader
    (source / "notes.txt").write_text("mine")
    (source / "rustsync").mkdir()
    (source / "rustsync" / "__init__.py").write_text("print('a package of my own')")
    (source / "ipykernel_launcher.py").write_text("print('a kernel of my own')")
    (source / "data" / "input.csv").write_text("1,2")
    (source / "big.bin").write_bytes(b"\0" * (2 * 2**20))
    os.symlink("/etc/passwd", source / "passwd.txt")
    os.symlink(str(tmp_path), source / "up")
    os.mkfifo(source / "pipe")
    left_out = sandbox.scratch_copy(source, target, max_bytes=2**20)
    copied = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert copied == ["data/input.csv", "notes.txt"]
    assert sorted(left_out) == ["a03.ipynb", "big.bin", "ipykernel_launcher.py", "passwd.txt", "pipe",
                                "rustsync/__init__.py", "up"]
    assert not any(p.is_symlink() for p in target.rglob("*"))
