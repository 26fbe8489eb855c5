"""A RefCell is Send: it may move into one other thread, as long as no one else keeps it."""
from rustsync import RefCell, spawn

cell = RefCell([1])


def work():
    cell.borrow_mut().value.append(2)
    return cell.into_inner()


handle = spawn(work)
print(handle.join())
