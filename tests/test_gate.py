"""The gate (rustsync/grading/gate.py) and plain data (rustsync/grading/plain.py): fast, no grading run.

The gate reads a student's cell as text and refuses what this course never needs; what it
lets through must include the ordinary variety of correct answers.
"""

import pytest

from rustsync.grading.gate import check_cell, defined_names, without_magics
from rustsync.grading.plain import NotPlain, decode, encode, plain, same, tagged

LOCKED = {"count_broken", "who_goes_first", "Arc", "Mutex", "spawn", "explore", "replay"}


@pytest.mark.parametrize("source", [
    # helpers, comprehensions, lambdas, drop() instead of with, prints, explore/replay/repr
    "def count_with_arc(n):\n    counter = Arc(Mutex(0))\n"
    "    handles = [spawn(bump(Arc.clone(counter))) for _ in range(n)]\n"
    "    for h in handles:\n        h.join()\n    with counter.lock() as g:\n        return g.value\n",
    "def bump(c):\n    def work():\n        g = c.lock()\n        g.value += 1\n        drop(g)\n    return work\n",
    "from rustsync import drop, AtomicUsize, Ordering\nfrom rustsync.sched import explore, replay, RacyCell\n",
    "outcomes = {o for o in explore(lambda: who_goes_first()).outcomes}\nprint(outcomes, repr(Mutex(1)))\n",
    "second_first_schedule = [2] + [1]\nprint(replay(who_goes_first, second_first_schedule).show())\n",
    "import math\nfrom itertools import permutations\nfrom collections import Counter\nimport time\n",
    "try:\n    count_broken(2)\nexcept Exception as err:\n    print(type(err).__name__ if False else err)\n",
    "%time x = 1\n!ls\ny = 2\n",
    "total = 0\nfor i in range(3):\n    total += i\nanswer = (lambda a, *, b=2: a + b)(total)\n",
    "def f():\n    seen = [0]\n    def g():\n        seen[0] += 1\n    g()\n    return seen\n",
])
def test_ordinary_answers_pass_the_gate(source):
    verdict = check_cell(source.replace("type(err).__name__ if False else ", ""), LOCKED)
    assert verdict.ok, verdict.refusals


@pytest.mark.parametrize("source, refused", [
    ("import rustsync.grading as g\ng.check_always = lambda *a, **k: None", "import rustsync.grading"),
    ("from rustsync.grading import check_always", "from rustsync.grading import"),
    ("import sys\nsys.modules['rustsync.grading'] = None", "`import sys`"),
    ("get_ipython().events.register('post_run_cell', print)", "`get_ipython`"),
    ("import builtins\nbuiltins.AssertionError = Exception", "`import builtins`"),
    ("x = ().__class__.__bases__[0].__subclasses__()", "`.__class__`"),
    ("f = open('../../../gradebook.db', 'rb')", "`open`"),
    ("g = getattr(spawn, 'func' + 'globals')", "`getattr`"),
    ("def gen():\n    yield 1\nframe = gen().gi_frame.f_back", "`.gi_frame`"),
    ("leak = '{0.__globals__}'.format(spawn)", "`.format`"),
    ("class Always:\n    def __eq__(self, other):\n        return True\nanswer = Always()", "`class Always`"),
    ("while True:\n    try:\n        pass\n    except BaseException:\n        pass", "`except BaseException`"),
    ("while True:\n    try:\n        pass\n    except:\n        pass", "bare `except:`"),
    ("def count_broken(n):\n    return 1", "defines `count_broken` again"),
    ("who_goes_first = lambda: (2, 1)", "defines `who_goes_first` again"),
    ("def cheat():\n    global replay\n    replay = None", "`global replay`"),
    ("from rustsync import Mutex as spawn", "defines `spawn` again"),
    ("Mutex.lock = lambda self: None", "assigning to `.lock`"),
    ("m = Mutex(1)\nm._data = 5", "`._data`"),
    ("x = eval('1')", "`eval`"),
    ("t = type('X', (), {})", "`type`"),
    ("%%bash\nrm -rf /", "cell magic `%%bash`"),
    ("x = (", "not valid Python"),
])
def test_the_gate_refuses_what_reaches_outside_the_exercise(source, refused):
    verdict = check_cell(source, LOCKED)
    assert not verdict.ok
    assert refused in " / ".join(str(r) for r in verdict.refusals), verdict.refusals


def test_a_refusal_names_its_line_and_counts_the_rest():
    verdict = check_cell("x = 1\nimport os\ny = open('f')\n", LOCKED)
    assert verdict.reason().startswith("line 2: `import os`")
    assert "(and 1 more thing the grader does not run)" in verdict.reason()


def test_magic_lines_are_left_out_keeping_line_numbers():
    code, dropped = without_magics("%matplotlib inline\nx = 1\n  !pip install foo\n")
    assert code.split("\n") == ["", "x = 1", ""] and dropped == [1, 3]


def test_defined_names_sees_every_way_of_binding_a_top_level_name():
    import ast

    tree = ast.parse("a = 1\nb, (c, *d) = x\ndef e(): pass\nfor f in y: pass\nwith z as g: pass\n"
                     "import h.i\nfrom j import k as l\nif True:\n    m = 2\ndef n():\n    global o\n    o = 1\n"
                     "(p := 3)\n")
    assert defined_names(tree) == set("abcdefghlmnop")


# --- plain data ------------------------------------------------------------------------------------------


def test_plain_copies_exact_builtins_and_refuses_everything_else():
    value = {"a": [1, (2, "x")], "b": {True, None}}
    copy = plain(value)
    assert copy == value and copy is not value and copy["a"] is not value["a"]

    class Sneaky(int):
        def __eq__(self, other):
            return True

    for bad in (Sneaky(1), [Sneaky(1)], {"k": object()}, float("nan")):
        with pytest.raises(NotPlain):
            plain(bad)


def test_exact_equality_tells_bools_ints_tuples_lists_and_sets_apart():
    assert same({(110, 90), "deadlock"}, {"deadlock", (110, 90)})
    assert not same(1, True) and not same({1}, {True}) and not same((1,), [1]) and not same(1, 1.0)
    assert tagged([1, {2}]) == tagged([1, {2}])


def test_plain_values_cross_as_json_with_their_types():
    import json

    for value in (True, 1, 2.5, "s", None, (1, [2, {3}]), frozenset({1}), {"k": (True, 0)}):
        back = decode(json.loads(json.dumps(encode(value))))
        assert same(back, value), value
    with pytest.raises(NotPlain):
        decode(["int", "1"])
    with pytest.raises(NotPlain):
        decode({"not": "encoded"})


def test_plain_refuses_values_too_big_to_decide_quickly():
    with pytest.raises(NotPlain, match="more than"):
        plain(list(range(100_000)))
