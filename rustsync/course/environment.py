"""The course's settings, written into its Python environment (`start.sh` runs this), never into HOME.

    python -m rustsync.course.environment COURSE_FOLDER ENVIRONMENT

- JupyterLab: no "get Jupyter news?" pop-up and no update check at the first start
  (`etc/jupyter/labconfig/default_setting_overrides.json`, which JupyterLab reads from its
  environment);
- the kernels: IPython loads `rustsync.course.cells`, which names the cell to run first
  after a NameError (`etc/ipython/ipython_kernel_config.py`, read by every kernel of this
  environment);
- nbgrader: outside the course's folder, an instructor's command stops and names the
  folder to run it from, and the exchange is the course's (`NBGRADER_EXCHANGE`, else
  /tmp/exchange), never a folder nbgrader would make under /usr/local, and a submit (the
  Assignment List's or `nbgrader submit`, from any folder) reaches it whole or not at all
  (`etc/jupyter/nbgrader_config.py`; the course's own `nbgrader_config.py` takes over in
  the course's folder).
"""

from __future__ import annotations

import json
import os
import sys

__all__ = ["JUPYTERLAB_SETTINGS", "write_settings"]

# plugin id: settings (JupyterLab's default_setting_overrides.json)
JUPYTERLAB_SETTINGS = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}

KERNEL_CONFIG = '''\
# Written by start.sh (rustsync/course/environment.py): every kernel of the course's environment
# names the lesson cell to run first when a cell uses a name no cell run so far defined.
c = get_config()  # noqa: F821
c.InteractiveShellApp.extensions.append("rustsync.course.cells")
'''

NBGRADER_CONFIG = '''\
# Written by start.sh (rustsync/course/environment.py). nbgrader reads this file wherever it runs
# from this environment; in the course's folder, the course's own nbgrader_config.py comes after it.
import os

from rustsync.course import folder

c = get_config()  # noqa: F821
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", "/tmp/exchange")
# a submit reaches the exchange whole or not at all (rustsync/grading/exchange.py)
c.ExchangeFactory.submit = "rustsync.grading.exchange.AtomicSubmit"
if not os.path.isfile("nbgrader_config.py") and folder.decides(__file__):
    folder.stop_if_wrong({course!r})
'''


def write_settings(course: str, env: str) -> list[str]:
    """Write the course's settings into the environment `env`; the files written."""
    course = os.path.realpath(course)
    files = {
        os.path.join(env, "etc", "jupyter", "labconfig", "default_setting_overrides.json"):
            json.dumps(JUPYTERLAB_SETTINGS, indent=2) + "\n",
        os.path.join(env, "etc", "ipython", "ipython_kernel_config.py"): KERNEL_CONFIG,
        os.path.join(env, "etc", "jupyter", "nbgrader_config.py"): NBGRADER_CONFIG.format(course=course),
    }
    for path, text in files.items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            with open(path, encoding="utf-8") as f:
                if f.read() == text:
                    continue
        except OSError:
            pass
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return list(files)


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m rustsync.course.environment COURSE_FOLDER ENVIRONMENT", file=sys.stderr)
        return 2
    write_settings(*args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
