"""A thread hands a RefCell back through join under a new name; the old name stays moved."""
from rustsync import RefCell, spawn

log = RefCell([1])


def work():
    log.borrow_mut().value.append(2)
    return log


handle = spawn(work)
back = handle.join()
print(back.borrow().value)
print(log.borrow().value)
