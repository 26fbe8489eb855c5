"""get_mut needs the mutex to itself (`&mut self`): an Arc never gives that, whatever its count."""
from rustsync import Arc, Mutex

counter = Arc(Mutex(0))
counter.get_mut().value += 1
print(repr(counter))
