"""Listing 16-15 in Python: `Arc` gives each thread its own owner of the mutex.

https://doc.rust-lang.org/book/ch16-03-shared-state.html#atomic-reference-counting-with-arct
"""

from rustsync import Arc, Mutex, spawn

counter = Arc(Mutex(0))
handles = []

for _ in range(10):
    counter_clone = Arc.clone(counter)

    def work():
        with counter_clone.lock() as num:
            num.value += 1

    handle = spawn(work)
    handles.append(handle)

for handle in handles:
    handle.join()

with counter.lock() as num:
    print(f"Result: {num.value}")
