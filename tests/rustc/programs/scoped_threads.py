"""scope(): the threads end with the scope, so they may borrow without Arc."""
from rustsync import Mutex, scope

counter = Mutex(0)
names = ["a", "b", "c"]


def bump():
    with counter.lock() as num:
        num.value += 1


with scope() as s:
    for _ in range(3):
        s.spawn(bump)
    s.spawn(lambda: print(len(names)))
print(counter.into_inner())
print(" ".join(names))
