"""A Mutex consumed by into_inner(), then locked: the method took the mutex by value."""
from rustsync import Mutex

jar = Mutex(5)
inside = jar.into_inner()
again = jar.lock()
print(inside, again)
