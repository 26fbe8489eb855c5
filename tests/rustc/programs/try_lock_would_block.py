"""try_lock never waits: while a guard is alive it fails with WouldBlock."""
from rustsync import Mutex, WouldBlock, drop

m = Mutex(1)
guard = m.lock()
try:
    m.try_lock()
    print("got it")
except WouldBlock as err:
    print(err)
drop(guard)
with m.try_lock() as g:
    print(f"Ok({g.value})")
