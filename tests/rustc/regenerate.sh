#!/usr/bin/env bash
# Compile every tests/rustc/programs/*.rs with the rustc on this machine and keep what it says
# next to the program: the compiler's diagnostics when it refuses the program, or what the
# program prints (stdout) when it compiles. Run from anywhere: tests/rustc/regenerate.sh
set -euo pipefail
cd "$(dirname "$0")/programs"
command -v rustc >/dev/null || { echo "rustc is not installed" >&2; exit 1; }
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
rustc --version > rustc-version.txt
for program in *.rs; do
    name=${program%.rs}
    if rustc --edition 2024 --color never -o "$build/$name" "$program" 2> "$build/$name.err"; then
        # a panicking thread's message names its thread id, which changes: keep stdout only
        env -u RUST_BACKTRACE "$build/$name" > "$name.txt" 2> /dev/null || true
    else
        cp "$build/$name.err" "$name.txt"
    fi
    echo "$name.txt"
done
