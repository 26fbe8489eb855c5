"""A poisoned lock's error holds the guard: the lock stays taken until that guard is dropped."""
from rustsync import Arc, Mutex, PoisonError, ThreadPanicked, WouldBlock, spawn

shared = Arc(Mutex(0))
clone = Arc.clone(shared)


def crash():
    with clone.lock() as guard:
        guard.value += 1
        raise RuntimeError("the update failed halfway")


try:
    spawn(crash).join()
    print("the thread panicked: False")
except ThreadPanicked:
    print("the thread panicked: true")
print(repr(shared))
try:
    shared.lock()
    print("not poisoned")
except PoisonError as err:
    print(f"lock: {err}")
    print(repr(err))
    other = Arc.clone(shared)

    def try_it():
        try:
            other.try_lock()
        except WouldBlock:
            return True
        return False

    busy = spawn(try_it).join()
    print(f"another thread finds it locked: {busy}".replace("True", "true"))
    print(repr(shared))
    guard = err.into_inner()
    print(f"the guard from into_inner: {guard!r}")
    with guard:
        guard.value += 10
shared.clear_poison()
print(repr(shared))
