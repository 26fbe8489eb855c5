"""Without `move` (move=False), the closure borrows `v`, and the thread may outlive it."""
from rustsync import spawn

v = [1, 2, 3]
handle = spawn(lambda: print(v), move=False)
handle.join()
