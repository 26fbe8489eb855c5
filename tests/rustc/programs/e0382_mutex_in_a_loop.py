"""Listing 16-13 without the final print: the move in the loop is the error itself."""
from rustsync import Mutex, spawn

counter = Mutex(0)
handles = []
for _ in range(10):
    def work():
        with counter.lock() as num:
            num.value += 1

    handle = spawn(work)
    handles.append(handle)
for handle in handles:
    handle.join()
