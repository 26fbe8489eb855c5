"""Copy values (ints, strs, tuples of them) are copied into each closure, not moved."""
from rustsync import spawn

step = 2
name = "worker"
pair = (1, 2)
handles = []
for i in range(3):
    handles.append(spawn(lambda: f"{name} {i * step} {pair}"))
for handle in handles:
    print(handle.join())
print(f"{step} {name} {pair}")
