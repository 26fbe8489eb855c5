"""One dict moved into two different closures."""
from rustsync import spawn

scores = {}
scores["alice"] = 1
first = spawn(lambda: len(scores))
second = spawn(lambda: len(scores))
print(first.join(), second.join())
