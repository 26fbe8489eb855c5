"""AtomicUsize: each operation returns the value before it; a usize wraps around."""
from rustsync import AtomicUsize, Ordering

hits = AtomicUsize(5)
print(hits.fetch_add(3, Ordering.SeqCst))
print(hits.fetch_sub(2, Ordering.Relaxed))
print(hits.swap(1, Ordering.AcqRel))
print(hits.load(Ordering.Acquire))
hits.store(0, Ordering.Release)
print(hits.fetch_sub(1, Ordering.SeqCst))
print(repr(hits))
