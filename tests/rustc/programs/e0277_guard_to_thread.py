"""A MutexGuard captured by a spawned closure: a guard is not Send."""
from rustsync import Mutex, spawn

m = Mutex(0)
guard = m.lock()


def work():
    print(guard.value)


handle = spawn(work)
handle.join()
