"""nbgrader settings of the course; nbgrader reads this file when run from this folder.

Instructor versions live in source/, student versions are generated into release/
(committed), submissions are collected into submitted/ and graded into autograded/,
and feedback goes to feedback/ (those three stay out of git).
"""

import os

from rustsync.grading import hooks

c = get_config()  # noqa: F821 - nbgrader defines get_config when it loads this file

c.CourseDirectory.course_id = "rust-shared-state"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"

# The exchange is the folder where release, fetch, submit and collect meet. Without
# JupyterHub, on one machine, any folder everyone can write to works; point
# NBGRADER_EXCHANGE at a persistent one for a real course (nbgrader's default is
# /srv/nbgrader/exchange, which needs an administrator to create it).
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", "/tmp/exchange")

# Tests call student code through rustsync.grading, which gives up after 5 s (10 s for
# the scheduler); a cell that still runs after 20 s is interrupted and scores 0.
c.Execute.timeout = 20
c.Execute.startup_timeout = 60

# `nbgrader autograde` runs each submission's kernel in a sandbox (bubblewrap, `bwrap`):
# the filesystem read-only; this folder (solutions and hidden tests in source/, the
# gradebook, release/, submitted/, every other student's work), the exchange, /tmp, /run
# and HOME replaced by empty folders (Python and rustsync/ shown again, read-only);
# writable only the submission's own folder in autograded/; no network; no other process.
# Without a working `bwrap` (`apt-get install -y bubblewrap`) no kernel starts: each
# submission fails with that advice and autograde exits with status 1.
# RUSTSYNC_SANDBOX=off in the environment grades without the sandbox (student code then
# runs with your rights; the log says so). More folders to hide:
# c.SandboxedKernelManager.hide = [...] (see rustsync/sandbox.py).
# Only autograde runs in it: `nbgrader validate` and generate_solution run nbgrader's own
# Execute, unsandboxed (the instructor's notebooks, or a student's on their own machine).
# `c.Execute.kernel_manager_class` cannot do this: nbgrader's Execute passes its own
# kernel manager, which wins over the setting.
c.Autograde.autograde_preprocessors = hooks.autograde_preprocessors()
c.Autograde.sanitize_preprocessors = hooks.sanitize_preprocessors()

# A deleted test cell is put back (from the gradebook) and run, rather than lost.
c.OverwriteCells.add_missing_cells = True

# Feedback shows a test cell's visible part and its last error line, never the hidden
# tests: ClearHiddenTests removes them from the cell, hide_test_tracebacks keeps only the
# final `AssertionError: ...` line of a failed test (IPython's traceback quotes the cell).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "rustsync.grading.hide_test_tracebacks",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
