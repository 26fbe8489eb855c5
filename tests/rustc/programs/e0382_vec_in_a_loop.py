"""A list moved into a thread's closure inside a loop: the second turn has nothing left to move."""
from rustsync import spawn

log = [1, 2, 3]
handles = []
for i in range(2):
    def work():
        print(f"thread {i} sees {log}")

    handle = spawn(work)
    handles.append(handle)
for handle in handles:
    handle.join()
