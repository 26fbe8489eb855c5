"""One Arc moved into every closure, without an Arc.clone per thread."""
from rustsync import Arc, Mutex, spawn

counter = Arc(Mutex(0))
handles = []
for _ in range(10):
    def work():
        with counter.lock() as num:
            num.value += 1

    handle = spawn(work)
    handles.append(handle)
for handle in handles:
    handle.join()
