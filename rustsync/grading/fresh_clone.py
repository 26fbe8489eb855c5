"""What a fresh clone of the course lacks, made when first needed: the gradebook's record of an
assignment (before `nbgrader autograde`) and the exchange (for JupyterLab's Assignments tab).

release/ is committed, so an instructor can release an assignment without running
`nbgrader generate_assignment`, the step that records its notebooks and test cells in
gradebook.db (which stays out of git); without that record `nbgrader autograde` grades
nothing ("No assignment with ID ... exists in the database"). So before autograde (the
command, or formgrader's Autograde button) grades an assignment the gradebook does not
know, `record_assignments_from_source` records it from source/ as generate_assignment
would, once it has checked that release/ is what source/ generates now (the version the
students fetched).

JupyterLab's Assignments tab says "The exchange directory does not exist and could not be
created" until the first `nbgrader release_assignment` creates it;
`create_exchange_for_jupyterlab` makes it when JupyterLab reads the course's settings.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import os
import sys
import tempfile

__all__ = ["create_exchange_for_jupyterlab", "record_assignments_from_source"]


def record_assignments_from_source(config):
    """The `Autograde.pre_convert_hook` that records in the gradebook what source/ holds and it does not.

    `config` is the course's settings (`c` in nbgrader_config.py), read when the hook runs.
    """

    def hook(assignment="*", **_):
        _record(config, assignment)

    return hook


def _files(folder):
    return sorted(os.path.relpath(os.path.join(d, f), folder) for d, _, fs in os.walk(folder) for f in fs)


def _content(path):
    with open(path, "rb") as f:
        return json.load(f) if path.endswith(".ipynb") else f.read()


def _same_folders(ours, theirs):
    return os.path.isdir(theirs) and _files(ours) == _files(theirs) and all(
        _content(os.path.join(ours, f)) == _content(os.path.join(theirs, f)) for f in _files(ours))


def _record(config, assignment):
    from nbgrader.api import Gradebook
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory
    from traitlets.log import get_logger

    log = get_logger()
    coursedir = CourseDirectory(config=config)
    source = os.path.join(coursedir.root, coursedir.source_directory)
    release = os.path.join(coursedir.root, coursedir.release_directory)
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        listed = {a.name for a in gb.assignments}  # formgrader lists one when it is given a due date
        known = {a.name for a in gb.assignments if a.notebooks}
    missing = [name for name in sorted(os.listdir(source)) if os.path.isdir(os.path.join(source, name))
               and fnmatch.fnmatchcase(name, assignment or "*") and name not in known]

    for name in missing:
        log.info("The gradebook does not know %s yet: recording it from source/%s, as `nbgrader "
                 "generate_assignment %s` does", name, name, name)
        with tempfile.TemporaryDirectory(prefix="nbgrader-release-") as made:
            generating = copy.deepcopy(config)
            generating.CourseDirectory.release_directory = made
            generating.CourseDirectory.assignment_id = name
            GenerateAssignment(coursedir=CourseDirectory(config=generating), config=generating).start()
            same = _same_folders(os.path.join(made, name), os.path.join(release, name))
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


def create_exchange_for_jupyterlab(root):
    """In a running JupyterLab only: create the exchange `root`, open to everyone as release_assignment makes it."""
    serverapp = sys.modules.get("jupyter_server.serverapp")
    if serverapp is None or not serverapp.ServerApp.initialized() or os.path.exists(root):
        return
    try:
        os.makedirs(root)
        os.chmod(root, 0o777)
    except OSError:
        pass  # nbgrader's own message then says the exchange is missing
