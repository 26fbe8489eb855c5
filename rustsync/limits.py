"""Every limit of grading in one table: memory, CPU time, processes, file size, open files, time.

These are the defaults; a course changes them in nbgrader_config.py (docs/grading.md,
"Limits", names the line for each). Sizes are bytes, times seconds. This module imports
nothing, so the sandbox, the grader's worker and the docs' tests all read it.
"""

GiB, MiB = 2**30, 2**20

# The student's kernel (rustsync/sandbox.py: SandboxedKernelManager), which runs the notebook only so
# that the feedback shows its outputs. Config: c.SandboxedKernelManager.limits = {"memory": ...}
KERNEL = {"memory": 4 * GiB, "cpu_seconds": 900, "file_size": 16 * MiB, "open_files": 512}

# The grader's worker (rustsync/grading/worker.py), the process that forks one grader per part.
# Config: none; each part has its own, smaller limits below.
WORKER = {"memory": 4 * GiB, "cpu_seconds": 3600, "file_size": 16 * MiB, "open_files": 1024}

# One graded part: its grader process and the student's process beside it (rustsync/grading/runner.py).
# Config: c.TrustedExecute.limits = {"memory": ..., "part_seconds": ...} (only the keys to change).
PART = {
    "cell_seconds": 10,  # one student cell, run before the test
    "test_seconds": 120,  # one test cell: its checks give up much sooner (5 to 10 s a call)
    "part_seconds": 240,  # the whole part; then its process is killed
    "memory": 2 * GiB,
    "cpu_seconds": 240,
    "file_size": 16 * MiB,
    "open_files": 256,
    "processes": 256,
}

# The assignments' checks (rustsync/grading/checks/deadline.py): one call of student code, and one run or
# exploration of a program under the scheduler; then the check fails with "took too long". Both sit well
# within PART["test_seconds"]. Config: none (a test cell may pass `timeout=` to a check).
CALL_SECONDS = 5
EXPLORE_SECONDS = 10

# One notebook as a whole, in the grader and in the kernel; parts not decided by then score 0.
# Config: c.TrustedExecute.notebook_seconds = 600
NOTEBOOK_SECONDS = 600

# One cell of the student's kernel; then nbgrader interrupts it. Config: c.Execute.timeout = 20
KERNEL_CELL_SECONDS = 20

# The student's kernel has this long to start. Config: c.Execute.startup_timeout = 60
KERNEL_STARTUP_SECONDS = 60

# Each private folder of a sandboxed process (/tmp, /run, HOME) is a tmpfs of this size.
TMP_SIZE = 64 * MiB

# What each key of the tables above sets, for the process that starts under them (setrlimit).
RLIMITS = {"memory": "RLIMIT_AS", "cpu_seconds": "RLIMIT_CPU", "file_size": "RLIMIT_FSIZE",
           "open_files": "RLIMIT_NOFILE", "processes": "RLIMIT_NPROC"}

__all__ = ["CALL_SECONDS", "EXPLORE_SECONDS", "KERNEL", "KERNEL_CELL_SECONDS", "KERNEL_STARTUP_SECONDS",
           "NOTEBOOK_SECONDS", "PART", "RLIMITS", "TMP_SIZE", "WORKER"]
