"""What repr prints for a mutex (free and locked), its guard, a RefCell, an Rc, an Arc, an atomic."""
from rustsync import Arc, AtomicUsize, Mutex, Ordering, Rc, RefCell, WouldBlock

m = Mutex(6)
with m.lock() as guard:
    print(f"while locked: {m!r}")
    print(f"the guard: {guard!r}")
    try:
        m.try_lock()
    except WouldBlock as err:
        print(f"try_lock: {err}")
print(f"after: {m!r}")
print(f"a string: {Mutex('hi')!r}")
print(f"a vector: {Mutex([1, 2])!r}")
print(f"a tuple: {Mutex((1, 'a', True))!r}")
cell = RefCell(5)
with cell.borrow_mut():
    print(f"refcell while borrowed: {cell!r}")
print(f"refcell: {cell!r}")
print(f"rc: {Rc(RefCell([1]))!r}")
print(f"arc: {Arc(Mutex(1))!r}")
hits = AtomicUsize(5)
hits.fetch_add(1, Ordering.SeqCst)
print(f"atomic: {hits!r}")
