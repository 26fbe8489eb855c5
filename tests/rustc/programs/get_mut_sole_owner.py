"""The sole owner of a Mutex reaches its data without locking."""
from rustsync import Mutex

m = Mutex(0)
m.get_mut().value += 1
print(repr(m))
print(m.into_inner())
