"""The whole suite runs with HOME, Jupyter's, IPython's and matplotlib's folders in a temporary folder.

Kernels started by nbval and by nbgrader inherit this environment, so nothing a test runs
writes into the real HOME (`~/.ipython`, `~/.cache/matplotlib`, `~/.jupyter`,
`~/.local/share/jupyter`), and hypothesis keeps no example database in the checkout.
"""

import os
import shutil
import tempfile

_HOME = None


def pytest_configure(config):
    global _HOME
    _HOME = tempfile.mkdtemp(prefix="rustsync-test-home-")
    real_home = os.path.expanduser("~")
    for name, sub in (("RUSTUP_HOME", ".rustup"), ("CARGO_HOME", ".cargo")):  # rustc, found through rustup
        if name not in os.environ and os.path.isdir(os.path.join(real_home, sub)):
            os.environ[name] = os.path.join(real_home, sub)
    for name, sub in (("HOME", ""), ("IPYTHONDIR", ".ipython"), ("MPLCONFIGDIR", ".cache/matplotlib"),
                      ("JUPYTER_CONFIG_DIR", ".jupyter"), ("JUPYTER_DATA_DIR", ".local/share/jupyter"),
                      ("JUPYTER_RUNTIME_DIR", ".local/share/jupyter/runtime")):
        path = os.path.join(_HOME, sub)
        os.makedirs(path, exist_ok=True)
        os.environ[name] = path
    try:
        from hypothesis import settings
    except ImportError:  # pragma: no cover
        return
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(os.path.join(_HOME, ".hypothesis"))  # its caches too, not ./.hypothesis
    settings.register_profile("hermetic", database=None, derandomize=True)  # the same examples every run
    settings.load_profile("hermetic")


def pytest_unconfigure(config):
    if _HOME:
        shutil.rmtree(_HOME, ignore_errors=True)
