"""Listing 16-14 in Python: `Rc` shared between threads (E0277).

https://doc.rust-lang.org/book/ch16-03-shared-state.html#multiple-ownership-with-multiple-threads
"""

from rustsync import Mutex, Rc, spawn

counter = Rc(Mutex(0))
handles = []

for _ in range(10):
    counter_clone = Rc.clone(counter)

    def work():
        with counter_clone.lock() as num:
            num.value += 1

    handle = spawn(work)
    handles.append(handle)

for handle in handles:
    handle.join()

print(f"Result: {counter.lock().value}")
