"""A guard given up with drop(), then read: drop took the guard by value."""
from rustsync import Mutex, drop

jar = Mutex(5)
guard = jar.lock()
drop(guard)
print(guard.value)
