"""A RefCell moved into a thread, then printed by the main thread."""
from rustsync import RefCell, spawn

log = RefCell([1])


def work():
    log.borrow_mut().value.append(2)


handle = spawn(work)
handle.join()
print(log)
