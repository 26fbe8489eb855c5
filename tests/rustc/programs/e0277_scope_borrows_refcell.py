"""A scoped thread may borrow, but only what is Sync: a RefCell is not."""
from rustsync import RefCell, scope

cell = RefCell(0)
with scope() as s:
    s.spawn(lambda: cell.borrow_mut().value)
print(cell.into_inner())
