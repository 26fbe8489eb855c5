"""The one table of limits (rustsync/limits.py): what reads it, and the docs' copy of it (docs/grading.md)."""

import re
from pathlib import Path

from traitlets.config import PyFileConfigLoader

from rustsync import limits, sandbox
from rustsync.grading import checks, hooks, runner

ROOT = Path(__file__).resolve().parents[1]
UNITS = {"GiB": limits.GiB, "MiB": limits.MiB}


def docs_table():
    """{"PART[\"memory\"]": (default, config line)} from the "Limits" table of docs/grading.md."""
    text = (ROOT / "docs" / "grading.md").read_text().split("## Limits", 1)[1]
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = (cells[1], cells[3])
    return rows


def value_of(name):
    table, _, key = name.partition("[")
    value = getattr(limits, table)
    return value[key.strip('"]')] if key else value


def in_words(text):
    number, _, unit = text.partition(" ")
    return int(number) * UNITS.get(unit, 1)


def test_the_docs_table_names_every_limit_with_its_default():
    rows = docs_table()
    named = {f'{table}["{key}"]' for table in ("PART", "KERNEL", "WORKER") for key in getattr(limits, table)}
    named |= {"NOTEBOOK_SECONDS", "KERNEL_CELL_SECONDS", "KERNEL_STARTUP_SECONDS", "TMP_SIZE", "CALL_SECONDS",
              "EXPLORE_SECONDS"}
    assert set(rows) == named
    for name, (default, _) in rows.items():
        assert in_words(default) == value_of(name), f"docs/grading.md says {name} is {default}"


def test_each_config_line_of_the_docs_names_a_setting_that_exists():
    for _, line in docs_table().values():
        if line == "none" or line.startswith("none "):
            continue
        setting = re.match(r"`c\.(\w+)\.(\w+) = ", line)
        assert setting, line
        owner = {"TrustedExecute": hooks.TrustedExecute, "SandboxedKernelManager": sandbox.SandboxedKernelManager,
                 "Execute": sandbox.Execute}[setting[1]]
        assert owner.class_traits(config=True).get(setting[2]) is not None, line


def test_the_kernel_the_worker_and_a_part_read_the_table():
    assert sandbox.KERNEL_LIMITS is limits.KERNEL and sandbox.WORKER_LIMITS is limits.WORKER
    assert runner.DEFAULT_LIMITS is limits.PART and sandbox.TMP_SIZE == limits.TMP_SIZE
    assert hooks.TrustedExecute.class_traits()["notebook_seconds"].default_value == limits.NOTEBOOK_SECONDS
    command = runner.worker_command(None, sandboxed=False)
    assert limits.WORKER == __import__("json").loads(command[command.index(sandbox._LIMITER) + 1])


def test_the_course_config_takes_the_kernels_timeouts_from_the_table():
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    assert config.Execute.timeout == limits.KERNEL_CELL_SECONDS
    assert config.Execute.startup_timeout == limits.KERNEL_STARTUP_SECONDS


def test_the_checks_give_up_after_the_tables_seconds():
    assert (checks.DEFAULT_TIMEOUT, checks.EXPLORE_TIMEOUT) == (limits.CALL_SECONDS, limits.EXPLORE_SECONDS)
    assert checks.call.__kwdefaults__["timeout"] == limits.CALL_SECONDS
    assert checks.run_once.__kwdefaults__["timeout"] == limits.EXPLORE_SECONDS


def test_a_part_without_limits_of_its_own_gets_the_tables():
    """The grader's fallbacks, for a job that names no limits, are PART's (read in a child process)."""
    import subprocess
    import sys

    code = ("import resource; from rustsync.grading import grader; grader._limits({}); "
            "print(*(resource.getrlimit(getattr(resource, n))[0] for n in "
            "('RLIMIT_AS', 'RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_NOFILE')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    got = [int(n) for n in done.stdout.split()]
    want = [limits.PART[k] for k in ("memory", "cpu_seconds", "file_size", "open_files")]
    hard = [resource_hard(n) for n in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE")]
    assert got == [w if h < 0 else min(w, h) for w, h in zip(want, hard, strict=True)]


def resource_hard(name):
    import resource

    hard = resource.getrlimit(getattr(resource, name))[1]
    return -1 if hard == resource.RLIM_INFINITY else hard
