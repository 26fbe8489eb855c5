"""Cost of one uncontended lock and unlock, printed (not asserted): python bench/bench_mutex.py

Each line is the best of several timeit repeats, in nanoseconds per operation, and its
ratio to `with threading.Lock(): x += 1`, all measured in the same run.
"""

import argparse
import timeit

CASES = [
    ("x += 1 (no lock)", "x += 1", "x = 0"),
    ("with threading.Lock(): x += 1", "with lock:\n    x += 1", "import threading; lock = threading.Lock(); x = 0"),
    ("with m.lock() as g: g.value += 1", "with m.lock() as g:\n    g.value += 1",
     "from rustsync import Mutex; m = Mutex(0)"),
    ("Arc<Mutex>: with c.lock() as g: ...", "with c.lock() as g:\n    g.value += 1",
     "from rustsync import Arc, Mutex; c = Arc(Mutex(0))"),
    ("AtomicUsize.fetch_add(1)", "a.fetch_add(1)", "from rustsync import AtomicUsize; a = AtomicUsize(0)"),
]
BASELINE = "with threading.Lock(): x += 1"


def best_ns(stmt, setup, number, repeat):
    """The fastest of `repeat` runs of `number` executions, in ns per execution."""
    return min(timeit.repeat(stmt, setup, number=number, repeat=repeat)) / number * 1e9


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
    print(f"{'operation':<40} {'ns/op':>8} {'x Lock':>8}")
    for label, ns in results.items():
        print(f"{label:<40} {ns:8.0f} {ns / base:8.1f}")


if __name__ == "__main__":
    main()
