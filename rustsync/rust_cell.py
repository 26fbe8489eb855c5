"""The `%%rust` cell magic: the real rustc beside the Python analogue.

    %%rust listing-16-13
    use std::sync::Mutex;
    ...

Where `rustc` is installed, the cell's program is written to `src/main.rs` in a temporary folder (so rustc's `-->
src/main.rs:21:29` lines read as in the course's stored outputs of the listings; a program named after one of
tests/rustc/programs/ is written under its own name, `NAME.rs`, as `regenerate.sh` compiles it), compiled with
`rustc --edition 2024`, and either rustc's diagnostics are shown, or the program runs and its output is shown. Both
steps have a time limit (`COMPILE_SECONDS`, `RUN_SECONDS`) and no network: under `bwrap --unshare-net` (a read-only
view of the machine, only the temporary folder writable) where bubblewrap works, otherwise in an environment
without proxy settings. The program's own text on stderr (a panic's message) is shown after its stdout; the numeric
thread id a panic message carries changes on every run, so it is left out, to keep the cell's output the same on
every run. rustc's version line is not shown: the output is what rustc printed, and nothing else.

Where rustc is not installed, the cell says so in one line, then shows what rustc said about the same program
when the course was made, if the course keeps it. The program is found by its name, the magic's one argument:
`listing-16-12` to `listing-16-15` (listings/listing-16-NN/rustc.txt), or the name of a program of
tests/rustc/programs/ (`quiz_03_clone_the_mutex`). Without a name, a cell whose text is exactly one of the
programs in tests/rustc/programs/ (trailing spaces and blank lines aside) finds it by content.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

COMPILE_SECONDS = 60
RUN_SECONDS = 10
OUTPUT_LIMIT = 100_000  # characters of output shown, from the compiler or the program
STORED = Path(__file__).resolve().parent.parent / "tests" / "rustc"
LISTINGS = STORED.parent.parent / "listings"  # listings/listing-16-NN/rustc.txt, by tools/update_listings.py
_KEPT_ENV = ("PATH", "HOME", "RUSTUP_HOME", "CARGO_HOME", "RUSTUP_TOOLCHAIN", "LANG", "LC_ALL")
_THREAD_ID = re.compile(r"^(thread '[^']*') \(\d+\) panicked", re.MULTILINE)
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass
class RustResult:
    """What the cell shows: `text`, and how it was obtained (`"rustc"`, `"stored"` or `"none"`)."""

    text: str
    source: str
    compiled: bool | None = None  # with rustc: did the program compile?

    def __str__(self):
        return self.text


def _normalize(code):
    return "\n".join(line.rstrip() for line in code.strip().splitlines())


def stored_output(name=None, code=""):
    """The course's stored rustc output for a program, by name or by content, and its path; or (None, None)."""
    if name:
        for path in (LISTINGS / name / "rustc.txt", STORED / "programs" / f"{name}.txt"):
            if path.is_file():
                return path.read_text(), path
        return None, None
    wanted = _normalize(code)
    for program in sorted((STORED / "programs").glob("*.rs")):
        output = program.with_suffix(".txt")
        if output.is_file() and _normalize(program.read_text()) == wanted:
            return output.read_text(), output
    return None, None


def _stored_version():
    version = STORED / "programs" / "rustc-version.txt"
    return version.read_text().strip() if version.is_file() else "rustc"


def _environment():
    """A small environment: what rustc needs to find its toolchain, and no proxy settings."""
    env = {key: os.environ[key] for key in _KEPT_ENV if key in os.environ}
    env.setdefault("LANG", "C.UTF-8")
    return env


@cache
def _bwrap():
    """bwrap's path, if bubblewrap can make a sandbox without network on this machine."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return None
    try:
        probe = subprocess.run([bwrap, "--ro-bind", "/", "/", "--unshare-net", "--die-with-parent", "true"],
                               capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return bwrap if probe.returncode == 0 else None


def _sandboxed(command, folder):
    bwrap = _bwrap()
    if bwrap is None:
        return command
    return [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
            "--bind", folder, folder, "--unshare-net", "--unshare-pid", "--die-with-parent",
            "--chdir", folder, "--", *command]


def _run(command, folder, seconds):
    """Run a command in the sandbox; (returncode, stdout, stderr), returncode None when the time ran out."""
    process = subprocess.Popen(_sandboxed(command, folder), cwd=folder, env=_environment(), text=True,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True, errors="replace")
    try:
        out, err = process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        return None, out, err
    return process.returncode, out, err


def _cut(text):
    if len(text) <= OUTPUT_LIMIT:
        return text
    return text[:OUTPUT_LIMIT] + f"\n... (output cut at {OUTPUT_LIMIT:,} characters)\n"


def compile_and_run(code, rustc=None, filename="src/main.rs"):
    """Compile `code` with rustc as `filename` in a temporary folder; run it if it compiles."""
    rustc = rustc or shutil.which("rustc")
    folder = tempfile.mkdtemp(prefix="rustsync-rust-")
    try:
        source = Path(folder) / filename
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(code)
        status, out, err = _run([rustc, "--edition", "2024", "--color", "never", "-o", "main", filename],
                                folder, COMPILE_SECONDS)
        if status is None:
            return RustResult(f"rustc did not finish within {COMPILE_SECONDS} s, and was stopped.\n", "rustc", False)
        if status != 0:
            return RustResult(_cut(err), "rustc", False)
        status, out, err = _run([os.path.join(folder, "main")], folder, RUN_SECONDS)
        text = out + _THREAD_ID.sub(r"\1 panicked", err)
        if status is None:
            text += f"(the program was stopped after {RUN_SECONDS} s: a deadlock, or a loop that never ends?)\n"
        elif status not in (0, 101):  # 101 is a panic, whose message is already in the text
            text += f"(the program exited with status {status})\n"
        return RustResult(_cut(text), "rustc", True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def rust(code, name=None):
    """What the `%%rust` cell shows for `code`: rustc's answer here, or the stored one with a note."""
    name = (name or "").strip() or None
    if name is not None and not _NAME.match(name):
        raise ValueError(f"%%rust takes one program name, such as listing-16-13, not {name!r}")
    rustc = shutil.which("rustc")
    if rustc is not None:
        # a program of tests/rustc/programs/ is compiled under its own file name, as regenerate.sh does, so
        # rustc's `--> NAME.rs:9:36` lines read as in its stored output
        kept = name is not None and (STORED / "programs" / f"{name}.rs").is_file()
        return compile_and_run(code, rustc, f"{name}.rs" if kept else "src/main.rs")
    text, path = stored_output(name, code)
    if text is None:
        which = f"no stored output named {name!r}" if name else "no stored output for this program"
        return RustResult(f"rustc is not installed on this machine, and the course keeps {which}: install Rust "
                          "(https://rustup.rs) to compile it here.\n", "none")
    where = path.relative_to(STORED.parent.parent)
    note = (f"rustc is not installed on this machine: here is what {_stored_version()} said about this program "
            f"when the course was made ({where}).\n")
    kept = STORED / "programs" / f"{path.stem}.rs"
    if name is not None and kept.is_file() and _normalize(kept.read_text()) != _normalize(code):
        note += f"This cell differs from the course's program ({kept.relative_to(STORED.parent.parent)}).\n"
    return RustResult(note + "\n" + text, "stored")


def rust_magic(line, cell):
    """%%rust [name]: compile and run the cell's Rust program, or show what rustc said about it (see the module)."""
    print(rust(cell, line), end="")


def register(shell):
    """Make `%%rust` available in an IPython shell."""
    shell.register_magic_function(rust_magic, magic_kind="cell", magic_name="rust")
