"""nbgrader settings of the course; nbgrader reads this file when run from this folder.

Instructor versions live in source/, student versions are generated into release/
(committed), submissions are collected into submitted/ and graded into autograded/,
and feedback goes to feedback/ (those three stay out of git).
"""

import os

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
