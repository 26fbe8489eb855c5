"""A Mutex moved into one thread, then locked by the main thread."""
from rustsync import Mutex, spawn

counter = Mutex(0)


def work():
    with counter.lock() as num:
        num.value += 1


handle = spawn(work)
handle.join()
print(counter.lock().value)
