"""A guard borrows its mutex: the mutex cannot be dropped while the guard lives."""
from rustsync import Mutex, drop

jar = Mutex(5)
guard = jar.lock()
drop(jar)
print(guard.value)
