"""Be the scheduler: step the threads of a small program by hand until it goes wrong.

Each level is one of the chapter's programs with a goal ("lose an update", "make the
two threads deadlock"). Every click adds a thread id to a schedule, and the position on
the page is what `rustsync.sched.replay` reports for that schedule: the game keeps no
model of its own. `SchedulerGame` is the widget; `Game` the logic under it, usable
without a browser.
"""

from .levels import LEVELS, Level, ThreadCode, levels_for
from .play import Game, Position, ThreadView
from .widget import SchedulerGame

__all__ = ["LEVELS", "Game", "Level", "Position", "SchedulerGame", "ThreadCode", "ThreadView", "levels_for"]
