"""into_inner takes `self`: it cannot move the Mutex out of an Arc."""
from rustsync import Arc, Mutex

jar = Arc(Mutex([1]))
inside = jar.into_inner()
print(inside)
