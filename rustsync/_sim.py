"""Who is running: a real thread, or a thread simulated by the scheduler.

The primitives ask this module before each operation, so the same `Mutex`, `Arc`
and `AtomicUsize` work under real threads and under `rustsync.sched`.
"""

import threading

_local = threading.local()


def current():
    """The simulated thread running on this OS thread, or None under real threads."""
    return getattr(_local, "thread", None)


def set_current(sim_thread):
    _local.thread = sim_thread


def owner_token():
    """An object that identifies the running thread for ownership checks."""
    sim = getattr(_local, "thread", None)
    return sim if sim is not None else threading.current_thread()
