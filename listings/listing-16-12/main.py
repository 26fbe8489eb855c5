"""Listing 16-12 in Python: the API of a mutex, in one thread.

https://doc.rust-lang.org/book/ch16-03-shared-state.html#the-api-of-mutext
"""

from rustsync import Mutex

m = Mutex(5)

with m.lock() as num:
    num.value = 6

print(f"m = {m!r}")
