"""JupyterHub for a class taking the course: real accounts, nbgrader's hub mode, the course's own grading.

Start it as root, from the folder that keeps the hub's state (its database and cookie
secret; deploy/hub/setup.sh makes /srv/jupyterhub):

    cd /srv/jupyterhub && /opt/rustsync-hub/bin/python -m jupyterhub -f /srv/jupyterhub/jupyterhub_config.py

- Accounts are the machine's own (PAM): a student is an account in the Unix group
  `rust-shared-state-students`, an instructor one in `rust-shared-state-instructors`
  (deploy/hub/add-user.sh makes them). Nobody else can log in. At each login, and when it
  refreshes a login (after five minutes), the hub puts each user in the hub groups of
  their Unix groups: students in `students` and `nbgrader-rust-shared-state`, instructors
  in `instructors` and `formgrade-rust-shared-state` (nbgrader's names: the course's
  students, and who may open its formgrader). The Unix groups decide: the hub's group API
  is off (`manage_groups`), so formgrader's "add student" adds to the gradebook only.
- Each user's server runs as that user (LocalProcessSpawner) in their home folder, which
  only they can read, from the Python environment /opt/rustsync-hub (the course's package
  is installed in it; a Python under /root, mode 700, cannot be read by the accounts).
- The course's formgrader is a hub service, `rust-shared-state`, a Jupyter server run as
  the grading account `grader-rust-shared-state` in the course's folder (a copy of the
  course's repository, ~grader-rust-shared-state/rust-shared-state, mode 700). Only the
  hub group `formgrade-rust-shared-state` may open it:
  /services/rust-shared-state/formgrader (in a tab of its own: JupyterHub >= 4.1 does not
  let it be framed). It reads the course's nbgrader_config.py, so its Autograde button
  and every command run in its terminal grade with the course's sandboxed grader
  (rustsync/grading/); `python -m rustsync.grading.parallel ASSIGNMENT` grades a whole
  assignment on every core.
- The exchange is /srv/nbgrader/exchange, a folder everyone may write to (mode 1777: no
  one removes or renames what another made); nbgrader itself makes the course's folders
  in it as it releases, with the modes it expects (inbound 733: students submit there
  and cannot list it; feedback 711: each student reads only the feedback whose name they
  can compute from their own submission). deploy/hub/nbgrader_config.py, installed in the
  environment, gives every server nbgrader's hub settings: this exchange,
  `Exchange.path_includes_course`, and `JupyterHubAuthPlugin` (a student's server lists
  the courses of their hub groups).
- A class at once: at most 50 servers start together, no more servers than the memory
  holds, and a server idle for an hour is stopped (jupyterhub-idle-culler); each limit
  below carries the figure of bench/bench_class.py that sets it.

Settings, from the environment (the defaults are what deploy/hub/setup.sh makes):
RUSTSYNC_HUB_ENV (the Python environment), RUSTSYNC_HUB_EXCHANGE, RUSTSYNC_HUB_GRADER
(the grading account; the course's folder is ~GRADER/rust-shared-state),
RUSTSYNC_HUB_STUDENTS and RUSTSYNC_HUB_INSTRUCTORS (the Unix groups), and
RUSTSYNC_HUB_FORMGRADER_PORT (where the formgrader listens on 127.0.0.1, default 9999).
The hub listens on all interfaces, port 8000; put it behind HTTPS (a reverse proxy, or
`c.JupyterHub.ssl_cert`/`ssl_key`) before students log in over a network. Options given
on the command line (`--ip`, `--port`, ...) take precedence.
"""

import grp
import importlib.util
import os
import pwd
import sys

from jupyterhub.auth import PAMAuthenticator

c = get_config()  # noqa: F821 - JupyterHub defines get_config when it loads this file

COURSE = "rust-shared-state"  # the course id of nbgrader_config.py; the service's name must be it
ENV = os.environ.get("RUSTSYNC_HUB_ENV", "/opt/rustsync-hub")
PYTHON = os.path.join(ENV, "bin", "python")
EXCHANGE = os.environ.get("RUSTSYNC_HUB_EXCHANGE", "/srv/nbgrader/exchange")
GRADER = os.environ.get("RUSTSYNC_HUB_GRADER", f"grader-{COURSE}")
STUDENTS = os.environ.get("RUSTSYNC_HUB_STUDENTS", f"{COURSE}-students")
INSTRUCTORS = os.environ.get("RUSTSYNC_HUB_INSTRUCTORS", f"{COURSE}-instructors")
FORMGRADER_PORT = int(os.environ.get("RUSTSYNC_HUB_FORMGRADER_PORT", "9999"))

# What every server and the formgrader run with: the course's environment first on the PATH
# (kernels start from `python` there), and the exchange for nbgrader.
SERVER_ENV = {
    "PATH": os.pathsep.join([os.path.join(ENV, "bin"), "/usr/local/bin", "/usr/bin", "/bin"]),
    "NBGRADER_EXCHANGE": EXCHANGE,
}

c.JupyterHub.ip = ""
c.JupyterHub.port = 8000

# --- who may log in, and their hub groups --------------------------------------------------------------


def unix_groups(name):
    """The course's Unix groups that account `name` belongs to."""
    found = set()
    for group in (STUDENTS, INSTRUCTORS):
        try:
            members = grp.getgrnam(group).gr_mem
        except KeyError:
            continue
        if name in members:
            found.add(group)
    return found


def hub_groups(name):
    groups = set()
    if INSTRUCTORS in unix_groups(name):
        groups |= {"instructors", f"formgrade-{COURSE}"}
    if STUDENTS in unix_groups(name):
        groups |= {"students", f"nbgrader-{COURSE}"}
    return sorted(groups)


class CourseAuthenticator(PAMAuthenticator):
    """The machine's accounts (PAM), with hub groups taken from the course's Unix groups."""

    async def authenticate(self, handler, data):
        name = await super().authenticate(handler, data)
        if name is None:
            return None
        return {"name": name, "groups": hub_groups(name)}

    async def refresh_user(self, user, handler=None):
        try:
            pwd.getpwnam(user.name)
        except KeyError:
            return False  # the account is gone: log in again (and fail)
        return {"groups": hub_groups(user.name)}


c.JupyterHub.authenticator_class = CourseAuthenticator
c.CourseAuthenticator.allowed_groups = {STUDENTS, INSTRUCTORS}
c.CourseAuthenticator.manage_groups = True
c.CourseAuthenticator.auth_refresh_age = 300

# --- each user's server -----------------------------------------------------------------------------------

c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.Spawner.cmd = [PYTHON, "-m", "jupyterhub.singleuser"]
c.Spawner.environment = dict(SERVER_ENV)
c.Spawner.default_url = "/lab"

# --- a class at once: what the figures of bench/bench_class.py justify (docs/hub.md, "Sizing") -------------
# Measured on 2 cores and 24 GiB shared with other work (load average up to 46), every student at once:
# the last of 50 servers asked for at once was ready after 80 to 90 s (about 3 core-seconds a server,
# all queueing for the CPU together); of 100, with the limit below, after 157 s. A server holds 147 MiB,
# 245 MiB once a lesson's first cell ran in its kernel; the hub 119 to 128 MiB, its proxy about 75 MiB.
#
# Starting more servers at once only makes each of them later: at most 50 start together (ready within
# 90 s here, well inside the timeout); the others are answered 429 with JupyterHub's "try again in 30 to
# 60 s" (with 100 at once, 238 such answers; every student got a server once the first 50 were up).
c.JupyterHub.concurrent_spawn_limit = 50
# the last of 50 started at once took 90 s at a load average of 46: a start is not failed while it queues
c.Spawner.start_timeout = 300
c.Spawner.http_timeout = 300
# Memory bounds a class once its servers are up (CPU runs out only while they start and while grading):
# servers beyond what the memory holds are refused ("Active user limit exceeded. Try again in a few
# minutes.") rather than letting the machine swap or its kernel kill processes: 90 on 24 GiB.
PER_SERVER_MIB = 245  # measured: a server whose kernel ran the package, a plot and ten threads
RESERVED_MIB = 2048  # the hub and its proxy (203 MiB with 90 servers), the course's service, grading on 2 workers
MEMORY_MIB = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
c.JupyterHub.active_server_limit = max(10, (MEMORY_MIB - RESERVED_MIB) // PER_SERVER_MIB)

# --- what each one may do ----------------------------------------------------------------------------------

c.JupyterHub.load_roles = [
    # a user's server acts for them: it reads their groups (nbgrader's JupyterHubAuthPlugin finds
    # their courses there) and the course's service (nbgrader's course list links to it)
    {"name": "server", "scopes": ["users:activity!user", "access:servers!server", "read:users:groups!user",
                                  "list:services", f"read:services!service={COURSE}"]},
    {"name": f"formgrade-{COURSE}", "groups": [f"formgrade-{COURSE}"],
     "scopes": [f"access:services!service={COURSE}", "list:services", f"read:services!service={COURSE}"]},
    {"name": f"nbgrader-{COURSE}", "groups": [f"nbgrader-{COURSE}"],
     "scopes": ["list:services", f"read:services!service={COURSE}"]},
    # the grading account's server reads who is in the course (nbgrader's formgrader asks the hub)
    {"name": f"grader-{COURSE}", "services": [COURSE],
     "scopes": ["list:users", "read:users:name", "read:users:groups", "list:groups", "read:groups"]},
]

# --- the course's formgrader, as the grading account -------------------------------------------------------

try:
    COURSE_DIR = os.path.join(pwd.getpwnam(GRADER).pw_dir, COURSE)
except KeyError:
    raise SystemExit(f"There is no account {GRADER!r}, which runs the course's formgrader: run deploy/hub/setup.sh "
                     "(or set RUSTSYNC_HUB_GRADER)") from None

c.JupyterHub.services = [
    {
        "name": COURSE,
        "url": f"http://127.0.0.1:{FORMGRADER_PORT}",
        # formgrader (and its JupyterLab menu) on for this server only: setup.sh turns them off for the others
        "command": [PYTHON, "-m", "jupyterhub.singleuser",
                    "--ServerApp.jpserver_extensions=nbgrader.server_extensions.formgrader=True",
                    f"--ServerApp.root_dir={COURSE_DIR}"],
        "user": GRADER,
        "cwd": COURSE_DIR,  # where nbgrader_config.py is: formgrader grades with the course's own settings
        "environment": {**SERVER_ENV, "JUPYTERHUB_DEFAULT_URL": "/formgrader"},
        "oauth_no_confirm": True,
    },
]

# Idle servers give their memory back: a server keeps its 147 to 245 MiB until it is stopped, and counts
# against active_server_limit, so the servers of a class that went home would keep the next one out.
# One hour without activity (the hub sees a browser's or a kernel's) stops a server; its files stay in
# its home folder, and the next login starts it again. jupyterhub-idle-culler is in requirements.txt,
# which deploy/hub/setup.sh installs in the hub's environment; without it the hub runs as before.
if importlib.util.find_spec("jupyterhub_idle_culler") is not None:
    c.JupyterHub.services.append({
        "name": "idle-culler",
        "command": [sys.executable, "-m", "jupyterhub_idle_culler", "--timeout=3600", "--cull-every=300",
                    "--concurrency=5"],
    })
    c.JupyterHub.load_roles.append({
        "name": "idle-culler",
        "services": ["idle-culler"],
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    })
