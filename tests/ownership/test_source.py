"""`rustsync.ownership.source`: finding, in the student's source, the token each of rustc's labels points at.

A student's program is written to a file and run; at its calls, the frame is handed
to the module, which finds: the spawn call, its callee, its argument and what rustc's
`move ||` stands for, the closure, the loop around it (`for`, `while`, a comprehension),
the closure's first use of a name, where a name was bound, the first later use (and
whether it only borrows), a method's receiver, a call's argument and the name a result
is bound to.
"""

import sys
import textwrap

import pytest

from rustsync.ownership import source

STUDENT = """\
log = [1]  # bound
total: int = 0  # annotated
with open(__file__) as handle:  # with-target
    pass
def work():  # def
    return len(log) + total  # first-use
spawn(work)  # by-name
for i in range(2):  # for-loop
    spawn(lambda: log.append(i))  # in-for
    count = i  # in-for-body
n = 0
while n < 2:  # while-loop
    threads.spawn(lambda x=n: x)  # method-spawn
    n += 1
handles = [spawn(lambda: [log, log]) for _ in range(2)]  # comprehension
if total:
    log.append(3)  # other-branch
else:
    spawn(lambda: total)  # in-else
keep(log)  # passed-on
log.append(2)  # method-use
"""


class Threads:
    def __init__(self, seen):
        self.seen = seen

    def spawn(self, func):
        self.seen.append(source.spawn_site(sys._getframe(1), getattr(func, "__code__", None)))
        return func


def run(tmp_path, text=STUDENT, **extra):
    """Run `text` as the student's file; the spawn sites seen, in order, and the file's name."""
    path = tmp_path / "student.py"
    path.write_text(text)
    seen = []

    def spawn(func):
        seen.append(source.spawn_site(sys._getframe(1), getattr(func, "__code__", None)))
        return func

    namespace = {"__file__": str(path), "spawn": spawn, "threads": Threads(seen), "keep": lambda value: None, **extra}
    exec(compile(text, str(path), "exec"), namespace)
    return seen, str(path)


def line_of(marker, text=STUDENT):
    (number,) = [n for n, line in enumerate(text.splitlines(), 1) if line.endswith(f"# {marker}")]
    return number


@pytest.fixture
def sites(tmp_path):
    seen, path = run(tmp_path)
    by_line = {}
    for site in seen:
        by_line.setdefault(site.call.line, site)
    return by_line, path


def where(span):
    return span.line, span.text


def test_a_spawn_of_a_named_function_points_at_the_name_and_its_def(sites):
    by_line, path = sites
    site = by_line[line_of("by-name")]
    assert site.filename == path
    assert where(site.call) == (line_of("by-name"), "spawn(work)")
    assert where(site.func) == (line_of("by-name"), "spawn")
    assert where(site.head) == where(site.moved_at) == (line_of("by-name"), "work")
    assert where(site.closure) == (line_of("def"), "work"), "the closure is the function's name in its def"
    assert site.loop is None


def test_a_spawn_of_a_lambda_points_at_its_head_as_rustc_at_move(sites):
    by_line, _path = sites
    site = by_line[line_of("in-for")]
    assert where(site.arg) == (line_of("in-for"), "lambda: log.append(i)")
    assert where(site.head) == where(site.closure) == (line_of("in-for"), "lambda:")
    method = by_line[line_of("method-spawn")]
    assert where(method.func) == (line_of("method-spawn"), "spawn"), "the method's name, not `threads.spawn`"
    assert where(method.head) == (line_of("method-spawn"), "lambda x=n:")


def test_the_loop_around_a_spawn_is_its_header_up_to_the_iterable(sites):
    by_line, _path = sites
    in_for = by_line[line_of("in-for")]
    assert where(in_for.loop) == (line_of("for-loop"), "for i in range(2)")
    assert in_for.loop_end == line_of("in-for-body")
    assert where(by_line[line_of("method-spawn")].loop) == (line_of("while-loop"), "while n < 2")
    comprehension = by_line[line_of("comprehension")]
    assert where(comprehension.loop) == (line_of("comprehension"), "for _ in range(2)")
    assert by_line[line_of("in-else")].loop is None


def test_a_name_the_loop_gives_a_new_value_each_turn_is_rebound(sites):
    by_line, _path = sites
    in_for = by_line[line_of("in-for")]
    assert source.rebound_in_loop(in_for, "i"), "the loop's target"
    assert source.rebound_in_loop(in_for, "count"), "bound in the loop's body"
    assert not source.rebound_in_loop(in_for, "log")
    assert not source.rebound_in_loop(by_line[line_of("by-name")], "log"), "no loop at all"


def test_the_closures_first_use_of_a_name_is_found_in_its_body(sites):
    by_line, _path = sites
    assert where(source.first_use_in_closure(by_line[line_of("by-name")], "log")) == (line_of("first-use"), "log")
    span = source.first_use_in_closure(by_line[line_of("comprehension")], "log")
    assert span.line == line_of("comprehension") and span.text == "log"
    assert STUDENT.splitlines()[span.line - 1].index("log") == span.col, "the first of the two uses"
    assert source.first_use_in_closure(by_line[line_of("by-name")], "nothing") is None


def test_a_binding_site_is_the_last_binding_before_a_line(sites):
    _by_line, path = sites
    assert where(source._binding_site(path, "log", line_of("by-name"))) == (line_of("bound"), "log")
    assert where(source._binding_site(path, "total", 99)) == (line_of("annotated"), "total")
    assert where(source._binding_site(path, "handle", 99)) == (line_of("with-target"), "handle")
    assert source._binding_site(path, "log", line_of("bound")) is None, "nothing binds it before its first line"
    assert source._binding_site(path, "nowhere", 99) is None


def test_a_later_use_skips_the_other_branch_and_says_whether_it_only_borrows(sites):
    by_line, _path = sites
    node, borrowed = source.later_use(by_line[line_of("in-else")], "log")
    assert (node.lineno, borrowed) == (line_of("passed-on"), False), "passing it on moves it"
    node, borrowed = source.later_use(by_line[line_of("in-else")], "log", after=_statement(by_line, "passed-on"))
    assert (node.lineno, borrowed) == (line_of("method-use"), True), "a method call borrows"
    node, borrowed = source.later_use(by_line[line_of("by-name")], "log")
    assert (node.lineno, borrowed) == (line_of("other-branch"), True), "from outside the `if`, either branch follows"


def _statement(by_line, marker):
    """The top-level statement of the student's file on the line `marker` marks."""
    tree = next(iter(by_line.values())).tree
    return next(stmt for stmt in tree.body if stmt.lineno == line_of(marker))


def test_a_rebinding_ends_the_search_for_a_later_use(tmp_path):
    text = "data = [1]\nspawn(lambda: data)\ndata = []\ndata.append(1)\n"
    seen, _path = run(tmp_path, text)
    assert source.later_use(seen[0], "data") is None


def test_a_use_in_the_finally_of_a_try_follows_a_spawn_in_its_body(tmp_path):
    text = "data = [1]\ntry:\n    spawn(lambda: data)\nexcept ValueError:\n    pass\nfinally:\n    len(data)  # final\n"
    seen, _path = run(tmp_path, text)
    node, borrowed = source.later_use(seen[0], "data")
    assert (node.lineno, borrowed) == (line_of("final", text), True)


def test_inside_a_function_the_search_goes_on_only_when_asked_to(tmp_path):
    text = "def main():\n    data = [1]\n    spawn(lambda: data)\n    print(data)  # printed\nmain()\n"
    seen, _path = run(tmp_path, text)
    assert source.later_use(seen[0], "data") is None, "left to the checks made when the code runs"
    node, borrowed = source.later_use(seen[0], "data", in_function=True)
    assert (node.lineno, borrowed) == (line_of("printed", text), True), "print only borrows"


def test_a_method_call_names_its_receiver_and_a_call_its_first_argument(tmp_path):
    found = {}

    class Probe:
        def take(self, *args):
            found.setdefault("receiver", []).append(source._receiver(sys._getframe(1)))

    def consume(value):
        found["argument"] = source._argument(sys._getframe(1))
        return value

    def result():
        found.setdefault("assigned", []).append(source._assigned_name(sys._getframe(1)))
        return 1, 2

    text = textwrap.dedent("""\
        jar = Probe()
        jar.take()  # receiver
        Probe.take(jar)  # type-receiver
        consume(jar)  # argument
        back = result()  # assigned
        a, b = result()  # unpacked
    """)
    run(tmp_path, text, Probe=Probe, consume=consume, result=result)
    (name, span), (type_name, type_span) = found["receiver"]
    assert (name, span.line, span.text) == ("jar", line_of("receiver", text), "jar")
    assert (type_name, type_span.line, type_span.text) == ("jar", line_of("type-receiver", text), "jar")
    name, span = found["argument"]
    assert (name, span.line, span.text) == ("jar", line_of("argument", text), "jar")
    assert found["assigned"] == ["back", None], "a tuple of names is not one name"
