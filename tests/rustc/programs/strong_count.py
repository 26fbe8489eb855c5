"""Arc.strong_count before the clones, with one clone per waiting thread, and after they end."""
from rustsync import Arc, Mutex, spawn

counter = Arc(Mutex(0))
print(f"before: {Arc.strong_count(counter)}")
handles = []
with counter.lock():
    for _ in range(3):
        counter_clone = Arc.clone(counter)

        def work():
            with counter_clone.lock() as num:
                num.value += 1

        handles.append(spawn(work))
    print(f"during: {Arc.strong_count(counter)}")
for handle in handles:
    handle.join()
print(f"after: {Arc.strong_count(counter)}")
print(f"Result: {counter.lock().value}")
