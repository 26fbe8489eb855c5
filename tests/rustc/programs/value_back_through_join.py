"""A thread hands the value it was given back through join; the main thread owns it again."""
from rustsync import spawn

log = [1, 2, 3]


def work():
    log.append(4)
    return log


log = spawn(work).join()
again = spawn(lambda: len(log))
print(again.join())
