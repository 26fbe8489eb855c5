"""Arc<RefCell<...>>: the count is atomic, but the RefCell's borrows are not."""
from rustsync import Arc, RefCell, spawn

cell = Arc(RefCell(0))
writer = Arc.clone(cell)
handle = spawn(lambda: writer.borrow_mut().value)
handle.join()
