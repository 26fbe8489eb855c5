"""Cost of one uncontended lock and unlock, and of one atomic add, printed (not asserted): python bench/bench_mutex.py

Each Python line is the best of several timeit repeats, in nanoseconds per operation, and
its ratio to `with threading.Lock(): x += 1`, all measured in the same run. These are
Python's costs: the course's `Mutex` and `AtomicUsize` are Python code around a
`threading.Lock`. When `rustc` is on the machine, the same operations in Rust (built with
`-O`) are timed too, so the two kinds of cost are never confused.
"""

import argparse
import shutil
import subprocess
import tempfile
import timeit
from pathlib import Path

CASES = [
    ("x += 1 (no lock)", "x += 1", "x = 0"),
    ("with threading.Lock(): x += 1", "with lock:\n    x += 1", "import threading; lock = threading.Lock(); x = 0"),
    ("with m.lock() as g: g.value += 1", "with m.lock() as g:\n    g.value += 1",
     "from rustsync import Mutex; m = Mutex(0)"),
    ("Arc<Mutex>: with c.lock() as g: ...", "with c.lock() as g:\n    g.value += 1",
     "from rustsync import Arc, Mutex; c = Arc(Mutex(0))"),
    ("AtomicUsize.fetch_add(1)", "a.fetch_add(1)", "from rustsync import AtomicUsize; a = AtomicUsize(0)"),
    ("AtomicUsize.load()", "a.load()", "from rustsync import AtomicUsize; a = AtomicUsize(0)"),
]
BASELINE = "with threading.Lock(): x += 1"

RUST = r"""
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

fn main() {
    let n: usize = std::env::args().nth(1).unwrap().parse().unwrap();
    let best = |f: &dyn Fn()| (0..7).map(|_| { let t = Instant::now(); f(); t.elapsed().as_secs_f64() })
        .fold(f64::INFINITY, f64::min) / n as f64 * 1e9;
    let m = Mutex::new(0usize);
    let a = AtomicUsize::new(0);
    let lock = best(&|| for _ in 0..n { *black_box(&m).lock().unwrap() += 1; });
    let add = best(&|| for _ in 0..n { black_box(&a).fetch_add(1, Ordering::SeqCst); });
    let relaxed = best(&|| for _ in 0..n { black_box(&a).fetch_add(1, Ordering::Relaxed); });
    println!("Rust Mutex: *m.lock().unwrap() += 1\t{lock:.1}");
    println!("Rust AtomicUsize::fetch_add(1, SeqCst)\t{add:.1}");
    println!("Rust AtomicUsize::fetch_add(1, Relaxed)\t{relaxed:.1}");
}
"""


def best_ns(stmt, setup, number, repeat):
    """The fastest of `repeat` runs of `number` executions, in ns per execution."""
    return min(timeit.repeat(stmt, setup, number=number, repeat=repeat)) / number * 1e9


def rust_ns(number):
    """{label: ns per operation} of the same operations in Rust, or {} without rustc."""
    rustc = shutil.which("rustc")
    if rustc is None:
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "bench.rs"
        source.write_text(RUST)
        subprocess.run([rustc, "-O", "--edition", "2021", "-o", str(Path(tmp) / "bench"), str(source)],
                       check=True, capture_output=True)
        out = subprocess.run([str(Path(tmp) / "bench"), str(number * 50)], check=True, capture_output=True,
                             text=True).stdout
    return {label: float(ns) for label, ns in (line.split("\t") for line in out.splitlines())}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=200_000, help="operations per repeat (default 200000)")
    parser.add_argument("--repeat", type=int, default=7, help="repeats; the best one counts (default 7)")
    args = parser.parse_args()
    if args.number < 1 or args.repeat < 1:
        parser.error("--number and --repeat must be at least 1")

    results = {label: best_ns(stmt, setup, args.number, args.repeat) for label, stmt, setup in CASES}
    base = results[BASELINE]
    print(f"uncontended, one thread, best of {args.repeat} x {args.number:,} operations")
    print(f"{'operation':<42} {'ns/op':>8} {'x Lock':>8}")
    for label, ns in results.items():
        print(f"{label:<42} {ns:8.0f} {ns / base:8.1f}")
    rust = rust_ns(args.number)
    if rust:
        print(f"\nthe same in Rust (rustc -O), best of 7 x {args.number * 50:,}: not comparable with the lines above")
        for label, ns in rust.items():
            print(f"{label:<42} {ns:8.1f}")


if __name__ == "__main__":
    main()
