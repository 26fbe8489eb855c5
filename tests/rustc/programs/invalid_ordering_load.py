"""A load cannot have Release ordering: rustc refuses it."""
from rustsync import AtomicUsize, Ordering

hits = AtomicUsize(0)
print(hits.load(Ordering.Release))
