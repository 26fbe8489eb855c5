"""compare_exchange returns Ok(previous) when it stored, Err(current) when it did not."""
from rustsync import AtomicUsize, Err, Ok, Ordering

flag = AtomicUsize(5)
print(flag.compare_exchange(5, 6, Ordering.SeqCst, Ordering.SeqCst))
print(flag.compare_exchange(5, 7, Ordering.AcqRel, Ordering.Acquire))
seen = flag.load(Ordering.Relaxed)
while True:
    match flag.compare_exchange_weak(seen, seen * 2, Ordering.SeqCst, Ordering.Relaxed):
        case Ok(previous):
            print(previous)
            break
        case Err(current):
            seen = current
print(flag.swap(1, Ordering.SeqCst))
print(flag.fetch_sub(1, Ordering.SeqCst))
print(repr(flag))
