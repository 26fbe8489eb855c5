"""nbgrader settings of the course; nbgrader reads this file when run from this folder.

Settings only: what each one plugs in is explained where it lives (rustsync/grading/,
rustsync/sandbox.py), and every limit's default is in rustsync/limits.py. docs/grading.md
tells the whole story.
"""

import os

from rustsync import limits
from rustsync.course import folder
from rustsync.grading import fresh_clone, hooks

c = get_config()  # noqa: F821 - nbgrader defines get_config when it loads this file
here = os.path.dirname(os.path.abspath(__file__))

# A command that would fail or go astray stops, saying what to run instead (rustsync/course/folder.py).
folder.stop_if_wrong(here)

# The course and its folders: source/ (instructor), release/ (committed), the other three out of git.
c.CourseDirectory.course_id = "rust-shared-state"
c.CourseDirectory.root = here
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"

# Where release, fetch, submit and collect meet; point NBGRADER_EXCHANGE at a persistent folder for a real course.
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", "/tmp/exchange")

# Autograde: the sandboxed grader decides every score, the sandboxed kernel only shows outputs (docs/grading.md).
c.Autograde.autograde_preprocessors = hooks.autograde_preprocessors()
c.Autograde.sanitize_preprocessors = hooks.sanitize_preprocessors()
# More folders the sandbox hides from student code (rustsync/sandbox.py):
# c.SandboxedKernelManager.hide = ["/srv/secrets"]

# Limits: the defaults are in rustsync/limits.py; set only those to change (docs/grading.md, "Limits"):
# c.TrustedExecute.limits = {"memory": 3 * 2**30}  # one graded part (its grader and the student's process)
# c.SandboxedKernelManager.limits = {"memory": 6 * 2**30}  # the student's kernel
# c.TrustedExecute.notebook_seconds = 900  # one notebook as a whole
c.Execute.timeout = limits.KERNEL_CELL_SECONDS  # a kernel cell still running then is interrupted
c.Execute.startup_timeout = limits.KERNEL_STARTUP_SECONDS

# A fresh clone's gradebook does not know the assignments: autograde records them from source/ first.
c.Autograde.pre_convert_hook = fresh_clone.record_assignments_from_source(c)

# Collecting never follows a link a student left in the exchange.
c.ExchangeFactory.collect = hooks.SafeCollect

# A deleted test cell is put back (from the gradebook) and run, rather than lost.
c.OverwriteCells.add_missing_cells = True

# Feedback shows a test cell's visible part and its last error line, never the hidden tests.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "rustsync.grading.markers.ClearHiddenTestsInTests",
    "rustsync.grading.hide_test_tracebacks",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# Every page that shows student work (feedback, formgrader) shows it sanitized (rustsync/grading/sanitize.py).
c.HTMLExporter.preprocessors = ["rustsync.grading.sanitize.SanitizeStudentWork"]
c.HTMLExporter.filters = {"markdown2html": "rustsync.grading.sanitize.SafeMarkdown",
                          "clean_html": "rustsync.grading.sanitize.clean"}

# JupyterLab's Assignments tab needs the exchange to exist before the first release.
fresh_clone.create_exchange_for_jupyterlab(c.Exchange.root)
