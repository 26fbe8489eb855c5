#!/usr/bin/env bash
# Start the course: JupyterLab on lesson 00, in the course's own Python environment.
#
#   ./start.sh                  make or reuse .venv, install what is missing, open JupyterLab
#   ./start.sh --no-browser     options after ./start.sh go to `jupyter lab` (--port=8889, ...)
#   ./start.sh --prepare        everything but JupyterLab (./test.sh uses it)
#
# The environment is .venv in this folder (git ignores it): made with Python 3.11 or later
# (PYTHON names one, else python3.11, python3, python), and installed from requirements.txt
# again whenever requirements.txt or pyproject.toml changes. COURSE_VENV names another folder;
# COURSE_VENV_OPTIONS adds options to `python -m venv` (--system-site-packages reuses what that
# Python has installed). Each assignment gets a working copy, ./aNN_name/, made once from
# release/ and never overwritten, so the files git tracks stay as they are. The course's
# settings live in the environment, not in HOME: JupyterLab asks nothing at its first start,
# and a lesson cell run before the cell it needs says which cell to run first.
set -euo pipefail
cd "$(dirname "$0")"
course=$(pwd -P)
venv=${COURSE_VENV:-$course/.venv}
prepare_only=no
if [ "${1:-}" = "--prepare" ]; then
    prepare_only=yes
    shift
fi

say() { printf '%s\n' "start.sh: $*" >&2; }

find_python() {
    local candidate
    for candidate in ${PYTHON:-} python3.11 python3 python; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    say "the course needs Python 3.11 or later, and none was found${PYTHON:+ (PYTHON=$PYTHON is older or missing)}."
    say "Install it (Debian 12: apt-get install -y python3 python3-venv) or name one: PYTHON=/path/to/python3.11 ./start.sh"
    exit 1
}

if [ ! -x "$venv/bin/python" ]; then
    python=$(find_python)
    say "making the course's environment in $venv with $python"
    # shellcheck disable=SC2086 # COURSE_VENV_OPTIONS holds several options
    if ! "$python" -m venv ${COURSE_VENV_OPTIONS:-} "$venv"; then
        rm -rf "$venv"
        say "could not make $venv. On Debian and Ubuntu: apt-get install -y python3-venv, then ./start.sh again."
        exit 1
    fi
fi

# Install when requirements.txt or pyproject.toml changed since the last install, or the course's
# own package does not import from this folder (a moved or copied course).
stamp="$venv/.course-installed"
wanted=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ] ||
    ! "$venv/bin/python" -c "import os, sys, rustsync; sys.exit(not rustsync.__file__.startswith(sys.argv[1] + os.sep))" \
        "$course" 2>/dev/null; then
    say "installing the course's requirements into $venv (the first time takes a minute or two)"
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r requirements.txt
    echo "$wanted" > "$stamp"
fi

# The course's settings, in the environment: JupyterLab's news and update pop-ups off; the kernels'
# IPython extension that names the cell to run first; nbgrader's settings outside the course's folder.
"$venv/bin/python" -m rustsync.course.environment "$course" "$venv"

# A working copy of each assignment, where `nbgrader fetch_assignment` would put it.
for folder in release/a[0-9][0-9]_*/; do
    name=$(basename "$folder")
    if [ ! -e "$name" ]; then
        cp -R "$folder" "$name"
        say "your copy of $name is $name/ (release/$name stays as git has it)"
    fi
done

if [ "$prepare_only" = yes ]; then
    exit 0
fi

root=()
if [ "$(id -u)" = 0 ]; then
    root=(--allow-root)  # Jupyter refuses to run as root without it
fi
exec "$venv/bin/python" -m jupyterlab --ServerApp.root_dir="$course" \
    --LabApp.default_url=/lab/tree/notebooks/00-shared-state-concurrency.ipynb "${root[@]}" "$@"
