"""Running nbgrader's commands in this process, for tests and benchmarks."""

from __future__ import annotations

import os

__all__ = ["run_nbgrader"]


def run_nbgrader(*args, cwd, env=None):
    """Run `nbgrader ARGS` from the folder `cwd`, in this process; return its log.

    The command line's own code (nbgrader's test suite runs its commands this way),
    without the two seconds of Python start-up each `nbgrader` command costs; for tests
    and benchmarks that run many commands. `env` replaces the environment meanwhile.
    Raises RuntimeError with the log when the command fails.
    """
    import io
    import logging

    from jupyter_core.application import NoStart
    from nbgrader.apps import NbGraderApp

    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    log = io.StringIO()
    if env is not None:
        os.environ.clear()
        os.environ.update(env)
    os.chdir(cwd)
    app = NbGraderApp.instance()
    code = 0
    try:
        app.initialize(list(args))
        app.init_logging(logging.StreamHandler, [log], color=False, subapps=True)
        app.start()
    except NoStart:
        pass
    except SystemExit as exc:
        code = exc.code
    finally:
        app.reset()
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    if code not in (0, None):
        raise RuntimeError(f"nbgrader {' '.join(args)} failed ({code}):\n{log.getvalue()}")
    return log.getvalue()



