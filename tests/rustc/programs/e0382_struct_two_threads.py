"""An instance of a class of our own moved into two threads."""
from dataclasses import dataclass

from rustsync import spawn


@dataclass
class Config:
    retries: int


config = Config(retries=3)
first = spawn(lambda: repr(config))
second = spawn(lambda: repr(config))
print(first.join(), second.join())
