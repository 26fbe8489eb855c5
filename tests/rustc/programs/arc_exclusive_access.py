"""Arc.get_mut, try_unwrap and into_inner: the value to oneself, only while the count is 1."""
from rustsync import Arc, Err, Ok

first = Arc([1])
Arc.get_mut(first).value.append(2)
second = Arc.clone(first)
print(Arc.get_mut(first))
match Arc.try_unwrap(first):
    case Ok(value):
        raise AssertionError(f"unexpected {value}")
    case Err(arc):
        first = arc
print(Arc.strong_count(first))
print(Arc.into_inner(second))
print(Arc.try_unwrap(first))
