"""get_mut and into_inner report the poisoning too, and still give the data."""
from rustsync import Mutex, PoisonError

m = Mutex(1)
try:
    with m.lock():
        raise RuntimeError("boom")
except RuntimeError:
    print("the update panicked: true")
try:
    m.get_mut()
    print("not poisoned")
except PoisonError as err:
    print(f"get_mut: {err}")
    err.into_inner().value += 1
print(repr(m))
try:
    m.into_inner()
    print("not poisoned")
except PoisonError as err:
    print(f"into_inner: {err}")
    print(err.into_inner())
