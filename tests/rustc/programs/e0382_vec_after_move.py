"""A list moved into one thread, then used again by the main thread."""
from rustsync import spawn

log = [1, 2, 3]


def work():
    print(log)


handle = spawn(work)
log.append(4)
handle.join()
