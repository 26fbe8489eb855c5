"""Listing 16-13 in Python: ten threads each try to take the one mutex (E0382).

https://doc.rust-lang.org/book/ch16-03-shared-state.html#shared-access-to-mutext
"""

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

print(f"Result: {counter.lock().value}")
