#!/usr/bin/env bash
# Run the course's tests on a fresh Debian machine: install what is missing, then `python -m pytest`.
#
#   ./test.sh                      every test (about 10 minutes on 2 cores)
#   ./test.sh tests/test_mutex.py  options after ./test.sh go to pytest
#
# As root it installs, when missing: Debian's Chromium (the browser test) and bubblewrap (the
# grading sandbox), then JupyterHub's proxy and the environment /opt/rustsync-hub that every
# account of the hub test can read (deploy/hub/setup.sh env). Then it makes or updates the
# course's environment as ./start.sh does (.venv, from requirements.txt) and runs the suite in it.
# .ci/run runs this and nothing else (docs/development.md).
set -euo pipefail
cd "$(dirname "$0")"

if [ "$(id -u)" = 0 ]; then
    missing=()
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
    if [ ${#missing[@]} -gt 0 ]; then
        apt-get update
        apt-get install -y "${missing[@]}"
    fi
    deploy/hub/setup.sh env
else
    for tool in chromium bwrap; do
        command -v "$tool" >/dev/null 2>&1 ||
            echo "test.sh: $tool is missing and only root can install it (apt-get install -y chromium bubblewrap): its tests will fail" >&2
    done
    echo "test.sh: not root, so the hub test's software (deploy/hub/setup.sh env) is not installed or updated" >&2
fi

./start.sh --prepare
venv=${COURSE_VENV:-$(pwd -P)/.venv}
exec "$venv/bin/python" -m pytest "$@"
