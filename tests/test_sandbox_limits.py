"""What the sandbox gives the grader's worker and the student's kernel: environment, limits, folders.

These run small probes under the same command the grader builds (`rustsync.sandbox`),
so they need bubblewrap (`apt-get install -y bubblewrap`), as grading does.
"""

import json
import os
import subprocess
import sys

import pytest

from rustsync import sandbox

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
    cmd = sandbox.worker_command(None, hide=[root])
    python = cmd[: cmd.index("-m")]  # the same sandbox and limits, a probe in place of the worker
    got = run_probe(python, root, home)
    assert "RUSTSYNC_TEST_SECRET" not in got["env"] and got["cwd"] == "/tmp"
    assert got["course"] == "FileNotFoundError" and got["home"] == []
    assert got["as"] == sandbox.WORKER_LIMITS["memory"] and got["fill tmp"] == "OSError"


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
