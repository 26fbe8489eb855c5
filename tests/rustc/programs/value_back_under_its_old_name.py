"""A thread hands a RefCell back through join; a new binding gives it its old name again."""
from rustsync import RefCell, spawn

log = RefCell([1])


def work():
    log.borrow_mut().value.append(2)
    return log


handle = spawn(work)
back = handle.join()
log = back
log.borrow_mut().value.append(3)
print(log.borrow().value)
