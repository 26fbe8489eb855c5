"""nbgrader settings of the course; nbgrader reads this file when run from this folder.

Instructor versions live in source/, student versions are generated into release/
(committed), submissions are collected into submitted/ and graded into autograded/,
and feedback goes to feedback/ (those three stay out of git).
"""

import os

from rustsync.course import folder
from rustsync.grading import hooks, notes

c = get_config()  # noqa: F821 - nbgrader defines get_config when it loads this file

# A command that would fail or go astray stops here and says what to run instead: an assignment
# name that is not one of source/'s (the list, and the likely one), `autograde` with no collected
# submission (rustsync/course/folder.py).
folder.stop_if_wrong(os.path.dirname(os.path.abspath(__file__)))

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

# `nbgrader autograde`: the kernel shows, the grader decides (rustsync/grading/hooks.py).
# - The gate reads each cell a student could change; a cell that reaches outside the
#   exercise (imports other than rustsync, files, IPython, dunders, rebinding locked names,
#   catching BaseException...) is run by no one and costs the parts that need it.
# - Every test cell is decided by the grader's worker: a fresh process per part, started
#   from the instructor's source/ (locked cells and hidden tests) and the student's
#   accepted cells; student values reach the decision only as plain data of exact types.
#   A student cell that hangs or crashes it is left out and the part run again.
# - The student's kernel runs the notebook without the hidden tests, only so that the
#   feedback shows its outputs; a kernel that hangs or dies changes no score.
# Both run in a sandbox (bubblewrap, `bwrap`): the filesystem read-only; this folder
# (source/, the gradebook, release/, submitted/, every other student's work), the
# exchange, /tmp, /run and HOME hidden (Python and rustsync/ shown again); a cleared
# environment; limits on memory, CPU time, file size and open files; no network; no other
# process. The kernel's folder is a scratch copy of the submission's plain files, never
# nbgrader's own folder. Without a working `bwrap` (`apt-get install -y bubblewrap`)
# nothing is graded and autograde exits with status 1; RUSTSYNC_SANDBOX=off grades
# without the sandbox (the log says so). More folders to hide:
# c.SandboxedKernelManager.hide = [...] (see rustsync/sandbox.py); the workers' limits:
# c.TrustedExecute.limits = {...} (see rustsync/grading/runner.py).
# A kernel cell still running after 20 s is interrupted (the grader's own deadlines: 5 s
# per call of student code, 10 s per exploration, 10 s per student cell before a test).
c.Execute.timeout = 20
c.Execute.startup_timeout = 60
c.Autograde.autograde_preprocessors = hooks.autograde_preprocessors()
c.Autograde.sanitize_preprocessors = hooks.sanitize_preprocessors()
# A cell copied in JupyterLab (two cells with one grade id) is graded once; its other copies are
# ordinary cells, and the graded notebook says so under each (rustsync/grading/duplicates.py).
# Those notes are written after the kernel has run, as it starts each cell with no output.
c.Autograde.autograde_preprocessors.insert(c.Autograde.autograde_preprocessors.index(hooks.TrustedExecute) + 1,
                                           notes.CellNotes)

# Collecting never follows a link a student left in the exchange (rustsync/grading/hooks.py).
c.ExchangeFactory.collect = hooks.SafeCollect

# A deleted test cell is put back (from the gradebook) and run, rather than lost.
c.OverwriteCells.add_missing_cells = True

# Feedback shows a test cell's visible part and its last error line, never the hidden
# tests: ClearHiddenTestsInTests removes them from the test cells (and shows a student's
# cell that quotes nbgrader's markers as written: rustsync/grading/markers.py),
# hide_test_tracebacks keeps only the final `AssertionError: ...` line of a failed test
# (IPython's traceback quotes the cell).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "rustsync.grading.markers.ClearHiddenTestsInTests",
    "rustsync.grading.hide_test_tracebacks",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# Every page that shows student work, the feedback and formgrader's grading view (both made
# by an HTMLExporter with this config), shows it sanitized (rustsync/grading/sanitize.py, nh3):
# no script, event handler, javascript: link, iframe, object, embed or form from a markdown
# answer, a raw cell or an output; math, code, tables and the notebook's images stay.
c.HTMLExporter.preprocessors = ["rustsync.grading.sanitize.SanitizeStudentWork"]
c.HTMLExporter.filters = {"markdown2html": "rustsync.grading.sanitize.SafeMarkdown",
                          "clean_html": "rustsync.grading.sanitize.clean"}


# --- A fresh clone: the gradebook, and the exchange for JupyterLab ----------------------------------
# release/ is committed, so an instructor can release an assignment without running
# `nbgrader generate_assignment`, the step that records its notebooks and test cells in
# gradebook.db (which stays out of git); without that record `nbgrader autograde` grades
# nothing ("No assignment with ID ... exists in the database"). So before autograde (the
# command, or formgrader's Autograde button) grades an assignment the gradebook does not
# know, it records it from source/ as generate_assignment would, once it has checked that
# release/ is what source/ generates now (the version the students fetched).


def _record_assignments_from_source(assignment="*", **_):
    import copy
    import fnmatch
    import json
    import tempfile

    from nbgrader.api import Gradebook
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory
    from traitlets.log import get_logger

    log = get_logger()
    coursedir = CourseDirectory(config=c)
    source = os.path.join(coursedir.root, coursedir.source_directory)
    release = os.path.join(coursedir.root, coursedir.release_directory)
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        listed = {a.name for a in gb.assignments}  # formgrader lists one when it is given a due date
        known = {a.name for a in gb.assignments if a.notebooks}
    missing = [name for name in sorted(os.listdir(source)) if os.path.isdir(os.path.join(source, name))
               and fnmatch.fnmatchcase(name, assignment or "*") and name not in known]

    def files(folder):
        return sorted(os.path.relpath(os.path.join(d, f), folder) for d, _, fs in os.walk(folder) for f in fs)

    def content(path):
        with open(path, "rb") as f:
            return json.load(f) if path.endswith(".ipynb") else f.read()

    for name in missing:
        log.info("The gradebook does not know %s yet: recording it from source/%s, as `nbgrader "
                 "generate_assignment %s` does", name, name, name)
        with tempfile.TemporaryDirectory(prefix="nbgrader-release-") as made:
            config = copy.deepcopy(c)
            config.CourseDirectory.release_directory = made
            config.CourseDirectory.assignment_id = name
            GenerateAssignment(coursedir=CourseDirectory(config=config), config=config).start()
            ours, theirs = os.path.join(made, name), os.path.join(release, name)
            same = os.path.isdir(theirs) and files(ours) == files(theirs) and all(
                content(os.path.join(ours, f)) == content(os.path.join(theirs, f)) for f in files(ours))
        if not same:
            with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
                if name in listed:
                    for notebook in [n.name for n in gb.find_assignment(name).notebooks]:
                        gb.remove_notebook(notebook, name)
                else:
                    gb.remove_assignment(name)
            log.error("release/%s is not what source/%s generates now, so the gradebook cannot tell which "
                      "version the students fetched. Run `nbgrader generate_assignment %s --force` (and, if "
                      "release/ changed, `nbgrader release_assignment %s --force`), then grade.",
                      name, name, name, name)


c.Autograde.pre_convert_hook = _record_assignments_from_source


# JupyterLab's Assignments tab (Nbgrader > Assignment List) says "The exchange directory does
# not exist and could not be created" until the first `nbgrader release_assignment` creates
# it. When JupyterLab reads this file (from the course's folder), it creates the exchange
# itself, open to everyone as release_assignment makes it, so the tab lists what is released.


def _create_the_exchange_for_jupyterlab():
    import sys

    serverapp = sys.modules.get("jupyter_server.serverapp")
    root = c.Exchange.root
    if serverapp is None or not serverapp.ServerApp.initialized() or os.path.exists(root):
        return
    try:
        os.makedirs(root)
        os.chmod(root, 0o777)
    except OSError:
        pass  # nbgrader's own message then says the exchange is missing


_create_the_exchange_for_jupyterlab()
