"""Advice on a student's cell (rustsync/grading/advice.py): fast, no grading run.

Advice decides nothing: it only notes code that runs but that the course's scheduler cannot
follow. Every ordinary answer gets no note at all.
"""

import pytest

from rustsync.grading.advice import advise, defined_names, enabled, without_magics

LOCKED = {"count_broken", "who_goes_first", "Arc", "Mutex", "spawn", "explore", "replay"}


@pytest.mark.parametrize("source", [
    # helpers, comprehensions, lambdas, drop() instead of with, prints, explore/replay/repr
    "def count_with_arc(n):\n    counter = Arc(Mutex(0))\n"
    "    handles = [spawn(bump(Arc.clone(counter))) for _ in range(n)]\n"
    "    for h in handles:\n        h.join()\n    with counter.lock() as g:\n        return g.value\n",
    "def bump(c):\n    def work():\n        g = c.lock()\n        g.value += 1\n        drop(g)\n    return work\n",
    "from rustsync import drop, AtomicUsize, Ordering\nfrom rustsync.sched import explore, replay, RacyCell\n",
    "from rustsync import Arc, Mutex, spawn\nfrom rustsync.sched import explore, replay\n",
    "outcomes = {o for o in explore(lambda: who_goes_first()).outcomes}\nprint(outcomes, repr(Mutex(1)))\n",
    "import math, random, re, sys\nfrom itertools import permutations\nfrom typing import Any\n",
    "try:\n    count_broken(2)\nexcept Exception as err:\n    print('{}: {}'.format(type(err).__name__, err))\n",
    "%time x = 1\n!ls\ny = 2\n",
    "%%time\nx = 1\n",
    "from dataclasses import dataclass\n@dataclass\nclass Account:\n    money: int\n",
    "def f():\n    seen = 0\n    def g():\n        nonlocal seen\n        seen += 1\n    g()\n    return seen\n",
    "x = (",
])
def test_ordinary_answers_get_no_note(source):
    assert advise(source, LOCKED) == []


@pytest.mark.parametrize("source, note", [
    ("import threading\nt = threading.Thread(target=print)", "`import threading` starts real threads"),
    ("from concurrent.futures import ThreadPoolExecutor", "`import concurrent.futures` starts real threads"),
    ("import time\ndef work():\n    time.sleep(0.1)", "`time.sleep` is not a step"),
    ("def count_broken(n):\n    return 1", "defines `count_broken` again"),
    ("from rustsync import Mutex as spawn", "defines `spawn` again"),
    ("while True:\n    try:\n        pass\n    except KeyboardInterrupt:\n        pass",
     "`except KeyboardInterrupt` catches"),
    ("try:\n    pass\nexcept:\n    pass", "A bare `except:` catches"),
])
def test_advice_names_what_the_scheduler_cannot_follow_and_the_fix(source, note):
    notes = advise(source, LOCKED)
    assert notes and note in notes[0] and "help:" in notes[0]


def test_defined_names_sees_names_bound_in_except_handlers_and_match_cases():
    import ast

    tree = ast.parse("try:\n    x = 1\nexcept Exception as err:\n    y = 2\nelse:\n    z = 3\nfinally:\n    w = 4\n"
                     "match q:\n    case 1:\n        f = 1\n")
    assert defined_names(tree) == {"x", "err", "y", "z", "w", "f"}


def test_advice_can_be_switched_off():
    assert enabled({}) and enabled({"RUSTSYNC_GATE": "on"}) and not enabled({"RUSTSYNC_GATE": "off"})


def test_magic_lines_are_left_out_keeping_line_numbers():
    code, dropped = without_magics("%matplotlib inline\nx = 1\n  !pip install foo\n")
    assert code.split("\n") == ["", "x = 1", ""] and dropped == [1, 3]


def test_defined_names_sees_every_way_of_binding_a_top_level_name():
    import ast

    tree = ast.parse("a = 1\nb, (c, *d) = x\ndef e(): pass\nfor f in y: pass\nwith z as g: pass\n"
                     "import h.i\nfrom j import k as l\nif True:\n    m = 2\ndef n():\n    global o\n    o = 1\n"
                     "(p := 3)\n")
    assert defined_names(tree) == set("abcdefghlmnop")
