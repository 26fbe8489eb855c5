#!/usr/bin/env bash
# Set up one server to teach the course on JupyterHub (docs/hub.md). As root, from a
# clone of the course's repository:
#
#   deploy/hub/setup.sh          everything: the software below, then the course
#   deploy/hub/setup.sh env      the software only: Debian's Python, bubblewrap, node and JupyterHub's
#                                proxy, and the Python environment /opt/rustsync-hub (what .ci/run needs)
#
# The course: the Unix groups of its students and instructors, the grading account
# grader-rust-shared-state with a copy of the repository as the course's folder
# (~grader-rust-shared-state/rust-shared-state, mode 700), the exchange /srv/nbgrader/exchange, and
# /srv/jupyterhub with jupyterhub_config.py, where the hub keeps its state. Running it again updates
# the software; it never replaces a jupyterhub_config.py changed there, the course's folder (the
# gradebook and everyone's work live there) nor an account that exists. The paths and names can be changed with
# the variables of deploy/hub/jupyterhub_config.py.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
course=rust-shared-state
env_dir=${RUSTSYNC_HUB_ENV:-/opt/rustsync-hub}
exchange=${RUSTSYNC_HUB_EXCHANGE:-/srv/nbgrader/exchange}
grader=${RUSTSYNC_HUB_GRADER:-grader-$course}
students=${RUSTSYNC_HUB_STUDENTS:-$course-students}
instructors=${RUSTSYNC_HUB_INSTRUCTORS:-$course-instructors}
state=/srv/jupyterhub

software() {
    # Debian's Python: every account can read it (a Python under /root, mode 700, they cannot)
    local need=()
    [ -x /usr/bin/python3 ] || need+=(python3)
    /usr/bin/python3 -c "import ensurepip, venv" 2>/dev/null || need+=(python3-venv)
    command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
    command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
    command -v git >/dev/null 2>&1 || need+=(git)
    if [ ${#need[@]} -gt 0 ]; then
        apt-get update
        apt-get install -y "${need[@]}"
    fi
    command -v configurable-http-proxy >/dev/null 2>&1 || npm install -g configurable-http-proxy@5
    [ -x "$env_dir/bin/python" ] || /usr/bin/python3 -m venv "$env_dir"
    # requirements.txt without its editable install (`-e .`): the package is copied into the environment
    local reqs
    reqs=$(mktemp)
    sed '/^-e /d' "$repo/requirements.txt" > "$reqs"
    "$env_dir/bin/python" -m pip install --quiet -r "$reqs"
    rm -f "$reqs"
    # the package from a copy, so that the build leaves nothing in the clone (build/, *.egg-info)
    local copy
    copy=$(mktemp -d)
    cp -r "$repo/rustsync" "$repo/pyproject.toml" "$copy/"
    find "$copy" -name __pycache__ -prune -exec rm -rf {} +
    "$env_dir/bin/python" -m pip install --quiet --no-deps --force-reinstall "$copy"
    rm -rf "$copy"
    chmod -R a+rX "$env_dir"
    # formgrader and the assignment editor only in the course's service (jupyterhub_config.py turns
    # the server extension on there; the grading account turns the menus on for itself, below, which
    # JupyterLab allows only if they are not locked here)
    "$env_dir/bin/jupyter" server extension disable --sys-prefix nbgrader.server_extensions.formgrader
    for extension in formgrader create-assignment; do
        "$env_dir/bin/jupyter" labextension disable --level=sys_prefix "@jupyter/nbgrader:$extension"
        "$env_dir/bin/jupyter" labextension unlock --level=sys_prefix "@jupyter/nbgrader:$extension"
    done
    install -m 644 "$repo/deploy/hub/nbgrader_config.py" "$env_dir/etc/jupyter/nbgrader_config.py"
}

the_course() {
    getent group "$students" >/dev/null || groupadd "$students"
    getent group "$instructors" >/dev/null || groupadd "$instructors"
    id -u "$grader" >/dev/null 2>&1 || useradd --create-home -K HOME_MODE=0700 --shell /bin/bash "$grader"
    local home
    home=$(getent passwd "$grader" | cut -d: -f6)
    if [ ! -e "$home/$course" ]; then
        if [ -d "$repo/.git" ]; then
            git clone --quiet "$repo" "$home/$course"
        else
            # not the environment start.sh makes, nor a self-study student's working copies
            mkdir -p "$home/$course"
            tar -C "$repo" --exclude=./.venv --exclude='./a[0-9][0-9]_*' -cf - . | tar -C "$home/$course" -xf -
        fi
        chown -R "$grader:" "$home/$course"
    fi
    chmod 700 "$home" "$home/$course"
    # the terminals of the course's service (login shells) find the course's Python first
    if ! grep -qs "^PATH=\"$env_dir/bin:" "$home/.profile"; then
        printf '\n# the course'"'"'s Python first (deploy/hub/setup.sh)\nPATH="%s/bin:$PATH"\n' "$env_dir" >> "$home/.profile"
        chown "$grader:" "$home/.profile"
    fi
    for extension in formgrader create-assignment; do
        runuser -u "$grader" -- env HOME="$home" "$env_dir/bin/jupyter" labextension enable --level=user \
            "@jupyter/nbgrader:$extension"
    done
    mkdir -p "$exchange"
    chmod 755 "$(dirname "$exchange")"
    chmod 1777 "$exchange"
    mkdir -p "$state"
    chmod 700 "$state"
    if [ ! -e "$state/jupyterhub_config.py" ]; then
        install -m 600 "$repo/deploy/hub/jupyterhub_config.py" "$state/jupyterhub_config.py"
    elif ! cmp -s "$repo/deploy/hub/jupyterhub_config.py" "$state/jupyterhub_config.py"; then
        install -m 600 "$repo/deploy/hub/jupyterhub_config.py" "$state/jupyterhub_config.py.new"
        echo "Kept $state/jupyterhub_config.py, which was changed here; the repository's is next to it (.new)"
    fi
    echo "Ready: start the hub with"
    echo "  cd $state && $env_dir/bin/python -m jupyterhub -f $state/jupyterhub_config.py"
}

case "${1:-all}" in
    env) software ;;
    all) software; the_course ;;
    *) echo "usage: $0 [env]" >&2; exit 2 ;;
esac
