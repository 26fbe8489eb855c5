"""A RefCell moved into a thread that consumes it with into_inner(); the main thread borrows it after."""
from rustsync import RefCell, spawn

log = RefCell([1])


def work():
    log.borrow_mut().value.append(2)
    return log.into_inner()


handle = spawn(work)
print(handle.join())
print(log.borrow().value)
