#!/usr/bin/env bash
# Add students or instructors to the course on this server (docs/hub.md). As root:
#
#   deploy/hub/add-user.sh student alice bob
#   deploy/hub/add-user.sh instructor carol
#
# A new account gets a home folder only its owner can read, and a random password, printed once:
# give it to them. An existing account is only added to the group. Either can log in to the hub at
# once; at their login the hub puts them in the course's hub groups (jupyterhub_config.py). Their
# terminals (login shells) find the course's Python first on the PATH, as their servers do.
set -euo pipefail
course=rust-shared-state
env_dir=${RUSTSYNC_HUB_ENV:-/opt/rustsync-hub}
usage="usage: $0 student|instructor NAME..."
case "${1:-}" in
    student) group=${RUSTSYNC_HUB_STUDENTS:-$course-students} ;;
    instructor) group=${RUSTSYNC_HUB_INSTRUCTORS:-$course-instructors} ;;
    *) echo "$usage" >&2; exit 2 ;;
esac
shift
[ $# -gt 0 ] || { echo "$usage" >&2; exit 2; }
getent group "$group" >/dev/null || { echo "There is no group $group: run deploy/hub/setup.sh first" >&2; exit 1; }
for name in "$@"; do
    if id -u "$name" >/dev/null 2>&1; then
        usermod --append --groups "$group" "$name"
        echo "$name: added to $group"
    else
        useradd --create-home -K HOME_MODE=0700 --shell /bin/bash --groups "$group" "$name"
        password=$(head -c 12 /dev/urandom | base64 | tr '/+' 'xy')
        echo "$name:$password" | chpasswd
        echo "$name: new account in $group, password $password"
    fi
    profile="$(getent passwd "$name" | cut -d: -f6)/.profile"
    if ! grep -qs "^PATH=\"$env_dir/bin:" "$profile"; then
        printf '\n# the course'"'"'s Python first (deploy/hub/add-user.sh)\nPATH="%s/bin:$PATH"\n' "$env_dir" >> "$profile"
        chown "$name:" "$profile"
    fi
done
