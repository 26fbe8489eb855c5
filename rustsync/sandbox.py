"""Autograding in a sandbox: the kernel that runs a submission starts under bubblewrap (`bwrap`).

Without it, `nbgrader autograde` runs student code with the grader's rights: a
submission could read the solutions and hidden tests in `source/`, the gradebook and
other students' work, and write anywhere the grader can. Under `bwrap` the kernel sees
the filesystem read-only, the course folder, the exchange, `/tmp`, `/run` and `HOME`
replaced by empty folders (the interpreter, its packages and `rustsync/` are shown
again, read-only), and only the submission's own folder writable; it has no network, no
capabilities, and sees no other process. `nbgrader_config.py` puts `SandboxedExecute` in the place of nbgrader's
`Execute` for `nbgrader autograde` only. `RUSTSYNC_SANDBOX=off` grades without the
sandbox and says so in the log; without a working `bwrap` no kernel starts and each
submission fails with an error that says what to do.
"""

from __future__ import annotations

import functools
import os
import shutil
import site
import subprocess
import sys
import tempfile

from jupyter_client.manager import AsyncKernelManager
from nbgrader.converters.base import NbGraderException
from nbgrader.preprocessors import Execute
from traitlets import Bool, Dict, List, Unicode

from . import interrupts, limits

ENV = "RUSTSYNC_SANDBOX"
INSTALL = "apt-get install -y bubblewrap"

__all__ = [
    "ENV",
    "SandboxError",
    "SandboxedExecute",
    "SandboxedKernelManager",
    "autograde_preprocessors",
    "bwrap_command",
    "check_bwrap",
    "sandbox_enabled",
]


class SandboxError(RuntimeError):
    """The sandbox cannot be set up; the message says why and what to do."""


def sandbox_enabled(environ=None):
    """False only when `RUSTSYNC_SANDBOX=off`; any value other than on/off is an error."""
    value = (os.environ if environ is None else environ).get(ENV, "on").strip().lower()
    if value not in ("on", "off"):
        raise SandboxError(f"{ENV}={value!r} is not a setting: use {ENV}=on (the default) or {ENV}=off "
                           "(grade without the sandbox)")
    return value == "on"


# --- the command -----------------------------------------------------------------------------


def _real(path):
    return os.path.realpath(os.path.abspath(os.path.expanduser(path)))


def _inside(path, folder):
    """True when `path` is `folder` or lies below it."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _depth(path):
    return 0 if path == "/" else path.count("/")


def bwrap_command(kernel_cmd, *, workdir, runtime_dir, hide=(), keep=(), home=None, bwrap="bwrap",
                  share_net=False, env=None, tmp_size=None, readonly_workdir=False, chdir=None):
    """The command line that runs `kernel_cmd` under bwrap.

    The filesystem is read-only. `/tmp`, `/run` and `home` become empty private folders the
    kernel may write to; each existing folder of `hide` (the course's) becomes an empty read-only
    one. Each folder of `keep` that one of those covers is shown again read-only (what the
    kernel imports: the interpreter, its packages, rustsync). `runtime_dir` (the connection
    file and the kernel's sockets) and `workdir` (the submission's folder, where the kernel
    runs) are bound read-write. Mounts go from the shallowest path to the deepest, so a
    hidden folder inside a folder shown again stays hidden. The kernel gets no network
    (unless `share_net`), sees only its own processes and has no capabilities.

    `env` (a dict) replaces the whole environment; `tmp_size` (bytes) caps each private
    folder; `readonly_workdir` binds the working folder read-only; `runtime_dir=None`
    binds none.
    """
    if not workdir:
        raise SandboxError("the kernel has no working directory: the sandbox gives it the submission's folder, "
                           "so it must be started with `cwd=` that folder")
    workdir = _real(workdir)
    runtime_dir = _real(runtime_dir) if runtime_dir else None
    # /run holds the sockets of the machine's services (a read-only mount does not stop a connect)
    private = {_real(p) for p in ("/tmp", "/run", home) if p and os.path.isdir(p)}
    hidden = {_real(p) for p in hide if p and os.path.isdir(p)} - private
    for path in (*private, *hidden):
        if path == "/":
            raise SandboxError("the sandbox cannot hide `/`: HOME and the course must be folders below it")
    for path in filter(None, (None if readonly_workdir else workdir, runtime_dir)):
        covering = sorted(h for h in (*private, *hidden) if _inside(h, path))
        if covering:
            raise SandboxError(f"the kernel would write to {path}, which holds {covering[0]}, a folder it must "
                               "not see: the submission's folder must lie inside the course, not contain it")
    shown = set()
    for path in {_real(p) for p in keep if p and os.path.exists(p)}:
        if path in private or path in hidden:
            raise SandboxError(f"the kernel needs {path} (Python or rustsync is installed there), a folder the "
                               "sandbox hides: install them outside the course's folders, /tmp and HOME")
        if any(_inside(path, h) for h in (*private, *hidden)):
            shown.add(path)
    # a folder inside another one shown again is shown with it, unless a hidden folder lies between them
    shown = {p for p in shown if not any(q != p and _inside(p, q) and not any(
        h != q and _inside(h, q) and _inside(p, h) for h in (*private, *hidden)) for q in shown)}
    mounts = sorted([(_depth(p), 0, "--tmpfs", p) for p in private | hidden]
                    + [(_depth(p), 1, "--ro-bind", p) for p in shown]
                    + ([(_depth(workdir), 2, "--ro-bind" if readonly_workdir else "--bind", workdir)]
                       if workdir != "/" else [])
                    + ([(_depth(runtime_dir), 2, "--bind", runtime_dir)] if runtime_dir else []))
    cmd = [bwrap, "--unshare-all"]
    if share_net:
        cmd.append("--share-net")  # the kernel talks TCP on the loopback interface
    cmd += ["--die-with-parent", "--cap-drop", "ALL", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for real, made in _account_files().items():  # the machine's accounts are none of the student's business
        cmd += ["--ro-bind", made, real]
    for _, _, option, path in mounts:
        if option == "--tmpfs" and tmp_size and path in private:
            cmd += ["--size", str(int(tmp_size))]
        cmd += [option, path] if option == "--tmpfs" else [option, path, path]
    for path in sorted(hidden):
        cmd += ["--remount-ro", path]
    # The kernel's parent is bwrap's init process, pid 1 in the sandbox. Told that its parent
    # is the grader (JPY_PARENT_PID), ipykernel would take it for dead and quit; told pid 1,
    # it does not watch its parent, and --die-with-parent ends it with the grader instead.
    if env is not None:
        cmd.append("--clearenv")
        for name, value in sorted(env.items()):
            cmd += ["--setenv", name, str(value)]
    cmd += ["--setenv", "JPY_PARENT_PID", "1"]
    return cmd + ["--chdir", chdir or workdir, "--", *kernel_cmd]


_ACCOUNTS = {}


def _account_files():
    """{"/etc/passwd": a file, "/etc/group": a file} naming only the grading account and nobody.

    Code in the sandbox that asks who it runs as still gets an answer (`pwd.getpwuid`), and
    nothing else of the machine's accounts. Made once per process, removed at exit.
    """
    if _ACCOUNTS or not os.path.isfile("/etc/passwd"):
        return dict(_ACCOUNTS)
    import atexit
    import grp
    import pwd

    folder = tempfile.mkdtemp(prefix="rustsync-accounts-")
    atexit.register(shutil.rmtree, folder, True)
    uid, gid = os.getuid(), os.getgid()
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = "grader"
    try:
        group = grp.getgrgid(gid).gr_name
    except KeyError:
        group = "grader"
    files = {
        "/etc/passwd": f"{name}:*:{uid}:{gid}::/nonexistent:/usr/sbin/nologin\n"
                       "nobody:*:65534:65534::/nonexistent:/usr/sbin/nologin\n",
        "/etc/group": f"{group}:*:{gid}:\nnogroup:*:65534:\n",
    }
    for real, text in files.items():
        made = os.path.join(folder, os.path.basename(real))
        with open(made, "w") as out:
            out.write(text)
        os.chmod(made, 0o644)
        _ACCOUNTS[real] = made
    os.chmod(folder, 0o755)
    return dict(_ACCOUNTS)


def kernel_needs():
    """The folders the kernel reads to start and to import rustsync.

    Both the rustsync this process imported (the course's folder may hold one, which
    nbgrader_config.py imports) and the one a fresh, isolated interpreter finds (an
    editable install points into its clone, which may lie under /tmp or HOME): the
    worker and the kernel import the latter.
    """
    import rustsync

    paths = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix,
             os.path.dirname(_real(sys.executable)), os.path.dirname(_real(rustsync.__file__))}
    installed = _installed_package()
    if installed:
        paths.add(installed)
    paths.update(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        paths.add(site.getusersitepackages())
    return sorted(paths)


@functools.lru_cache(maxsize=1)
def _installed_package():
    """The folder of the rustsync package `python -I` finds (without importing it), or None."""
    probe = ("import importlib.util, os\n"
             "spec = importlib.util.find_spec('rustsync')\n"
             "print(os.path.realpath(list(spec.submodule_search_locations)[0]) if spec else '')")
    try:
        done = subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True, text=True, timeout=60,
                              cwd="/")
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = done.stdout.strip()
    return found if done.returncode == 0 and found and os.path.isdir(found) else None


def course_folders(config):
    """The folders of the course a submission must not see, from nbgrader's settings in `config`.

    The course's root (solutions, hidden tests, the gradebook, every student's work), each
    of nbgrader's step folders set outside it, the gradebook's folder when it is elsewhere,
    and the exchange.
    """
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=config)
    root = _real(coursedir.root)
    folders = [os.path.join(root, getattr(coursedir, name)) for name in (
        "source_directory", "release_directory", "submitted_directory", "autograded_directory", "feedback_directory")]
    if coursedir.db_url.startswith("sqlite:///"):
        folders.append(os.path.dirname(coursedir.db_url[len("sqlite:///"):]))
    folders.append((config.get("Exchange") or {}).get("root", "/srv/nbgrader/exchange"))  # nbgrader's default
    return [root] + [f for f in map(_real, folders) if not _inside(f, root)]


_checked = {}


def check_bwrap(bwrap="bwrap"):
    """Raise SandboxError, saying what to do, unless `bwrap` can start a sandbox here."""
    found = shutil.which(bwrap)
    if found and _checked.get(found):
        return
    probe = [found or bwrap, "--unshare-all", "--die-with-parent", "--cap-drop", "ALL", "--ro-bind", "/", "/",
             "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--", "true"]
    opt_out = f"or set {ENV}=off to grade without the sandbox (student code then runs with your rights)"
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        raise SandboxError(f"`{bwrap}` (bubblewrap) is not installed, and autograding runs student code in a "
                           f"sandbox made with it: install it with `{INSTALL}`, {opt_out}") from None
    except (OSError, subprocess.TimeoutExpired) as err:
        raise SandboxError(f"`{bwrap}` could not be run ({err}): reinstall it with `{INSTALL}`, {opt_out}") from None
    if done.returncode != 0:
        raise SandboxError(f"`{bwrap}` cannot make a sandbox on this machine: {done.stderr.strip()}. It needs "
                           "user namespaces (on Debian: `sysctl -w kernel.unprivileged_userns_clone=1`; in a "
                           f"container, allow them), {opt_out}")
    _checked[found] = True


# --- what runs inside: environment, limits, a sandboxed Python ---------------------------------------

# every limit is set in rustsync/limits.py (one table, with the config line that changes each)
TMP_SIZE = limits.TMP_SIZE  # each private folder (/tmp, /run, HOME) is a tmpfs of this size
KERNEL_LIMITS = limits.KERNEL
WORKER_LIMITS = limits.WORKER


def clean_env():
    """The whole environment of a sandboxed process: what Python and the kernel need, nothing of the grader's."""
    return {
        "PATH": os.pathsep.join(dict.fromkeys([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin",
                                               "/bin"])),
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONHASHSEED": "0",  # the same set order, and so the same messages, on every run
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "IPYTHONDIR": "/tmp/ipython",
        "JUPYTER_CONFIG_DIR": "/tmp/jupyter",
        "JUPYTER_DATA_DIR": "/tmp/jupyter-data",
    }


_LIMITER = (
    "import json, os, resource, sys\n"
    f"names = {limits.RLIMITS!r}\n"
    "for key, value in json.loads(sys.argv[1]).items():\n"
    "    if key == 'processes' and os.getuid() == 0: continue\n"
    "    which = getattr(resource, names[key])\n"
    "    soft, hard = resource.getrlimit(which)\n"
    "    value = value if hard == resource.RLIM_INFINITY else min(value, hard)\n"
    "    resource.setrlimit(which, (value, value))\n"
    "resource.setrlimit(resource.RLIMIT_CORE, (0, 0))\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def with_limits(cmd, limits):
    """`cmd` started through a small Python that first sets these resource limits (see KERNEL_LIMITS)."""
    import json

    program = cmd[0] if os.path.isabs(cmd[0]) else (shutil.which(cmd[0]) or cmd[0])
    return [sys.executable, "-I", "-S", "-c", _LIMITER, json.dumps(limits), program, *cmd[1:]]


def python_command(args, config=None, *, limits, hide=(), keep=(), bwrap="bwrap", sandboxed=None):
    """The command that starts `python -I *args` under `limits`, in the sandbox.

    It sees the filesystem read-only without the course, the exchange, HOME, /tmp and /run
    (a small private /tmp instead), has a cleared environment, no network, no other process.
    With the sandbox off (RUSTSYNC_SANDBOX=off), the same Python without bwrap. The grader's
    worker starts this way (rustsync.grading.runner.worker_command).
    """
    python = with_limits([sys.executable, "-I", *args], limits)
    if sandboxed is None:
        sandboxed = sandbox_enabled()
    if not sandboxed:
        return python
    check_bwrap(bwrap)
    folders = [*(course_folders(config) if config is not None else []), *hide]
    return bwrap_command(python, workdir="/", runtime_dir=None, hide=folders, keep=[*kernel_needs(), *keep],
                         home=os.environ.get("HOME"), bwrap=bwrap, env=clean_env(), tmp_size=TMP_SIZE,
                         readonly_workdir=True, chdir="/tmp")



# notebooks (nbgrader's copy holds the hidden tests) and anything Python would import or run
_NOT_COPIED = (".ipynb", ".py", ".pyc", ".pyo", ".pth", ".so", ".pyd")


def scratch_copy(source, target, *, max_files=200, max_bytes=16 * 2**20):
    """Copy the submission's plain files (no notebooks, no links, nothing large) from `source` into `target`.

    The kernel runs there, not in nbgrader's own folder: nothing it writes or links can
    reach what nbgrader later reads or writes. No Python file is copied, so none can stand
    in for a module the kernel imports. Returns the relative paths left out.
    """
    left_out = []
    copied = 0
    os.makedirs(target, exist_ok=True)
    if not source or not os.path.isdir(source):
        return left_out
    for folder, dirs, files in os.walk(source, followlinks=False):
        rel_folder = os.path.relpath(folder, source)
        for name in list(dirs):
            if os.path.islink(os.path.join(folder, name)) or name.startswith("."):
                dirs.remove(name)
                left_out.append(os.path.normpath(os.path.join(rel_folder, name)))
        for name in files:
            path = os.path.join(folder, name)
            rel = os.path.normpath(os.path.join(rel_folder, name))
            try:
                info = os.lstat(path)
            except OSError:
                continue
            import stat

            if (not stat.S_ISREG(info.st_mode) or name.endswith(_NOT_COPIED) or info.st_size > max_bytes
                    or copied >= max_files):
                left_out.append(rel)
                continue
            os.makedirs(os.path.join(target, rel_folder), exist_ok=True)
            with open(path, "rb") as src, open(os.path.join(target, rel), "wb") as dst:
                shutil.copyfileobj(src, dst)
            copied += 1
    return left_out


# --- the kernel manager and the preprocessor --------------------------------------------------


# the kernel runs this line first: its interrupt then stops a cell that swallows KeyboardInterrupt
STOP_CELLS_ON_INTERRUPT = (f"--IPKernelApp.exec_lines=import {interrupts.__name__}; "
                           f"{interrupts.__name__}.{interrupts.stop_cells_on_interrupt.__name__}()")


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager that starts the kernel under bwrap (see `bwrap_command`).

    The connection file and the kernel's sockets live in a private folder shown to the
    sandbox; the sockets are Unix sockets (`transport = "ipc"`), so the kernel needs no
    network (unless `network` is set). With `RUSTSYNC_SANDBOX=off` it is an ordinary
    kernel manager.
    """

    bwrap = Unicode("bwrap", config=True, help="The bubblewrap command (Debian: apt-get install bubblewrap).")
    hide = List(Unicode(), config=True,
                help="More folders the kernel must not see; the course's folders, the exchange, /tmp, /run and "
                     "HOME are hidden anyway.")
    keep = List(Unicode(), config=True,
                help="More folders the kernel must read although a hidden folder holds them (say, packages "
                     "installed in HOME outside site-packages).")

    network = Bool(False, config=True,
                   help="Let the kernel use the network; it then talks to the grader over TCP instead of Unix sockets.")
    writable = Bool(False, config=True,
                    help="Let the kernel write to its working folder (the grader gives it a scratch copy).")
    limits = Dict(config=True, help="Resource limits of the kernel, the keys to change only (the defaults, and "
                                    "what each key means: rustsync/limits.py, KERNEL).")

    _sandbox_dir = None

    async def _async_pre_start_kernel(self, **kw):
        if sandbox_enabled() and self._sandbox_dir is None:
            check_bwrap(self.bwrap)
            self._sandbox_dir = tempfile.mkdtemp(prefix="rustsync-kernel-")
            self.connection_file = os.path.join(self._sandbox_dir, "kernel.json")
            if not self.network:
                self.transport = "ipc"
                self.ip = os.path.join(self._sandbox_dir, "ipc")
            # SIGINT to the kernel's process group would end bwrap, and the kernel with it:
            # a cell that runs too long is interrupted by a message the kernel acts on itself
            self.kernel_spec.interrupt_mode = "message"
        return await super()._async_pre_start_kernel(**kw)

    pre_start_kernel = _async_pre_start_kernel

    def format_kernel_cmd(self, extra_arguments=None):
        # a cell that swallows KeyboardInterrupt must still stop when the grader interrupts it
        cmd = super().format_kernel_cmd(extra_arguments) + [STOP_CELLS_ON_INTERRUPT]
        if len(cmd) > 2 and cmd[1] == "-m":  # -P: the working folder does not come first on sys.path
            cmd = [cmd[0], "-P", *cmd[1:]]
        if self._sandbox_dir is None:
            return cmd
        launch = self._launch_args or {}
        home = (launch.get("env") or os.environ).get("HOME")
        return bwrap_command(with_limits(cmd, {**KERNEL_LIMITS, **self.limits}), workdir=launch.get("cwd"),
                             runtime_dir=self._sandbox_dir, hide=[*course_folders(self.config), *self.hide],
                             keep=[*kernel_needs(), *self.keep], home=home, bwrap=self.bwrap, share_net=self.network,
                             env=clean_env(), tmp_size=TMP_SIZE, readonly_workdir=not self.writable)

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if not restart and self._sandbox_dir is not None:
            shutil.rmtree(self._sandbox_dir, ignore_errors=True)
            self._sandbox_dir = None

    cleanup_resources = _async_cleanup_resources


class SandboxedExecute(Execute):
    """nbgrader's `Execute`, with each notebook's kernel started by `SandboxedKernelManager`.

    Settings of `Execute` (timeouts) apply to it. nbgrader makes one for each notebook it
    grades; it checks that bwrap works before the kernel starts, so that nothing is graded
    unsandboxed by mistake: without bwrap each submission fails with the error, and
    `nbgrader autograde` exits with status 1.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)
        if not self.enabled:
            return
        try:
            if not sandbox_enabled():
                self.log.warning("%s=off: student code runs WITHOUT the sandbox, with your rights (it can read "
                                 "source/ and gradebook.db)", ENV)
                return
            check_bwrap(self.kernel_manager_class(config=self.config).bwrap)
        except SandboxError as err:
            self.log.error("Not grading this submission: %s", err)
            raise NbGraderException(str(err)) from None


def autograde_preprocessors():
    """nbgrader's autograde preprocessors, with `SandboxedExecute` in the place of `Execute`.

    For nbgrader_config.py: `c.Autograde.autograde_preprocessors = autograde_preprocessors()`.
    """
    from nbgrader.converters import Autograde

    default_list = Autograde.class_traits()["autograde_preprocessors"].default()
    if Execute not in default_list:
        raise SandboxError("this version of nbgrader autogrades without its `Execute` preprocessor: the sandbox "
                           "does not know where to go; see rustsync/sandbox.py")
    return [SandboxedExecute if p is Execute else p for p in default_list]
