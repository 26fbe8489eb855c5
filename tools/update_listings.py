"""Write each listing's outputs again: `listings/listing-16-NN/output.txt`, and with `--book`, `rustc.txt`.

Each folder of listings/ holds a Python analogue of one of the Rust Book's listings
(https://doc.rust-lang.org/book/ch16-03-shared-state.html), `main.py`, and two outputs:

- `output.txt`: what `python listings/listing-16-NN/main.py` prints, run from the
  repository's root (standard output, then standard error, with the repository's own
  folder left out of the paths so that the file is the same on every machine);
- `rustc.txt`: what `rustc --edition 2024` says about the Book's own program: its
  diagnostics when it refuses it, or what the program prints when it compiles. The Book's
  programs are not kept here: `--book` names a checkout of https://github.com/rust-lang/book
  (or its git folder), and `listings/rustc-version.txt` then records the compiler and the
  Book's commit.

    python tools/update_listings.py                 # output.txt again
    python tools/update_listings.py --check         # fail if an output.txt is not what main.py prints
    python tools/update_listings.py --book ../book  # rustc.txt too (needs rustc)

tests/test_listings.py runs the check and holds each analogue against rustc.txt.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LISTINGS = ROOT / "listings"
BOOK_FOLDER = "listings/ch16-fearless-concurrency"


def listing_folders():
    """The folders listings/listing-16-NN/, in order."""
    return sorted(p for p in LISTINGS.glob("listing-*") if p.is_dir() and (p / "main.py").is_file())


def python_output(folder):
    """What `python listings/<folder>/main.py` prints from the repository's root, as output.txt keeps it."""
    done = subprocess.run([sys.executable, str((folder / "main.py").relative_to(ROOT))], cwd=ROOT,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"})
    return (done.stdout + done.stderr).replace(f"{ROOT}{os.sep}", "")


def _book_program(book, name):
    path = Path(book) / BOOK_FOLDER / name / "src" / "main.rs"
    if path.is_file():
        return path.read_text()
    done = subprocess.run(["git", "-C", str(book), "show", f"HEAD:{BOOK_FOLDER}/{name}/src/main.rs"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{book} holds no {BOOK_FOLDER}/{name}/src/main.rs: give --book a checkout of "
                         "https://github.com/rust-lang/book")
    return done.stdout


def _book_commit(book):
    done = subprocess.run(["git", "-C", str(book), "rev-parse", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else "unknown"


def rustc_output(program, rustc="rustc"):
    """What rustc says about `program` (compiled as src/main.rs): its diagnostics, or the program's stdout."""
    with tempfile.TemporaryDirectory(prefix="listing-") as build:
        (Path(build) / "src").mkdir()
        (Path(build) / "src" / "main.rs").write_text(program)
        done = subprocess.run([rustc, "--edition", "2024", "--color", "never", "-o", "main", "src/main.rs"],
                              cwd=build, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            return done.stderr
        env = {k: v for k, v in os.environ.items() if k != "RUST_BACKTRACE"}
        # a panicking thread's message names its thread id, which changes: keep stdout only
        return subprocess.run([str(Path(build) / "main")], cwd=build, capture_output=True, text=True, timeout=60,
                              env=env).stdout


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; fail if an output.txt is stale")
    parser.add_argument("--book", help="a checkout of rust-lang/book: compile its listings into rustc.txt")
    args = parser.parse_args(argv)
    stale = []
    for folder in listing_folders():
        output = python_output(folder)
        kept = folder / "output.txt"
        if args.check:
            if not kept.is_file() or kept.read_text() != output:
                stale.append(str(kept.relative_to(ROOT)))
            continue
        kept.write_text(output)
        print(kept.relative_to(ROOT))
        if args.book:
            rustc = shutil.which("rustc") or sys.exit("rustc is not installed (https://rustup.rs)")
            (folder / "rustc.txt").write_text(rustc_output(_book_program(args.book, folder.name), rustc))
            print((folder / "rustc.txt").relative_to(ROOT))
    if args.book and not args.check:
        version = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
        (LISTINGS / "rustc-version.txt").write_text(f"{version}\nrust-lang/book {_book_commit(args.book)}\n")
    if stale:
        print("Not what main.py prints now: " + ", ".join(stale) + ". Run `python tools/update_listings.py` "
              "and look at the difference (git diff listings/).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
