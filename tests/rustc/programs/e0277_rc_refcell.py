"""Rc<RefCell<...>>, the single-threaded pair, sent to a thread."""
from rustsync import Rc, RefCell, spawn

log = Rc(RefCell([]))
writer = Rc.clone(log)
handle = spawn(lambda: writer.borrow_mut().value.append(1))
handle.join()
