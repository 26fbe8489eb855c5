"""`rustsync.debug_format`: Rust's `{:?}` for Python values, and the Rust-like type names the messages use.

Each case pairs a Python value with the Rust value it stands for and what Rust's `{:?}`
prints for it; where rustc is installed, a program of those Rust values is compiled and
run, and must print exactly those texts.
"""

import shutil
import subprocess

import pytest

from rustsync import Arc, Mutex
from rustsync.debug_format import rust_debug, type_name

# (Python value, the Rust value it stands for, what `{:?}` prints for it)
CASES = [
    (True, "true", "true"),
    (False, "false", "false"),
    (0, "0", "0"),
    (-7, "-7i32", "-7"),
    (2**63, "9223372036854775808u64", "9223372036854775808"),
    (1.5, "1.5f64", "1.5"),
    (1.0, "1.0f64", "1.0"),
    (-0.0, "-0.0f64", "-0.0"),
    (0.1 + 0.2, "0.1f64 + 0.2f64", "0.30000000000000004"),
    (None, "None::<i32>", "None"),
    ("hi", '"hi"', '"hi"'),
    ("", '""', '""'),
    ('say "hi"', r'"say \"hi\""', r'"say \"hi\""'),
    ("C:\\dir", r'"C:\\dir"', r'"C:\\dir"'),
    ('a \\" b', r'"a \\\" b"', r'"a \\\" b"'),
    ("it's", '"it\'s"', '"it\'s"'),
    ("café", '"café"', '"café"'),
    ("a\nb", r'"a\nb"', r'"a\nb"'),
    ("t\tr\r", r'"t\tr\r"', r'"t\tr\r"'),
    ("z\0", r'"z\0"', r'"z\0"'),
    ("e\x1b", r'"e\u{1b}"', r'"e\u{1b}"'),
    ("nb\u00a0sp", r'"nb\u{a0}sp"', r'"nb\u{a0}sp"'),
    ("zw\u200b", r'"zw\u{200b}"', r'"zw\u{200b}"'),
    ("ls\u2028", r'"ls\u{2028}"', r'"ls\u{2028}"'),
    ("\u0301x", r'"\u{301}x"', r'"\u{301}x"'),
    (1e20, "1e20f64", "1e20"),
    (1e-7, "1e-7f64", "1e-7"),
    (1e16, "1e16f64", "1e16"),
    (1e15, "1e15f64", "1000000000000000.0"),
    (0.00001, "0.00001f64", "1e-5"),
    (-2.5e-10, "-2.5e-10f64", "-2.5e-10"),
    (float("nan"), "f64::NAN", "NaN"),
    (float("inf"), "f64::INFINITY", "inf"),
    (float("-inf"), "f64::NEG_INFINITY", "-inf"),
    ([1, 2, 3], "vec![1, 2, 3]", "[1, 2, 3]"),
    ([], "Vec::<i32>::new()", "[]"),
    ([[1, 2], []], "vec![vec![1, 2], vec![]]", "[[1, 2], []]"),
    (["a", 'b"'], r'vec!["a", "b\""]', r'["a", "b\""]'),
    ((True, None), "(true, None::<i32>)", "(true, None)"),
    ((1, "a", True), '(1, "a", true)', '(1, "a", true)'),
    ((1,), "(1,)", "(1,)"),
    ((), "()", "()"),
    (((1, 2), [3]), "((1, 2), vec![3])", "((1, 2), [3])"),
    ({"a": [1, 2]}, 'std::collections::BTreeMap::from([("a", vec![1, 2])])', '{"a": [1, 2]}'),
    ({}, "std::collections::BTreeMap::<i32, i32>::new()", "{}"),
    ({3}, "std::collections::BTreeSet::from([3])", "{3}"),
    (frozenset({"x"}), 'std::collections::BTreeSet::from(["x"])', '{"x"}'),
]


@pytest.mark.parametrize(("value", "rust", "shown"), CASES, ids=[c[1] for c in CASES])
def test_a_value_prints_as_rusts_debug_prints_its_twin(value, rust, shown):
    assert rust_debug(value) == shown


@pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc is not installed: the texts above stand")
@pytest.mark.timeout(120)
def test_rustc_prints_the_texts_the_cases_expect(tmp_path):
    lines = "\n".join(f'    println!("{{:?}}", {rust});' for _value, rust, _shown in CASES)
    (tmp_path / "debug.rs").write_text(f"fn main() {{\n{lines}\n}}\n")
    compiled = subprocess.run(["rustc", "--edition", "2021", "-o", "debug", "debug.rs"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=100)
    assert compiled.returncode == 0, compiled.stderr
    printed = subprocess.run([tmp_path / "debug"], capture_output=True, text=True, timeout=10).stdout
    assert printed.splitlines() == [shown for _value, _rust, shown in CASES]


def test_an_int_is_not_a_bool_and_a_bool_is_not_an_int():
    assert [rust_debug(v) for v in (1, 0, True, False)] == ["1", "0", "true", "false"]


def test_a_value_of_another_type_prints_as_its_repr_inside_containers():
    class Point:
        def __repr__(self):
            return "Point { x: 1 }"

    assert rust_debug(Point()) == "Point { x: 1 }"
    assert rust_debug([Point(), (Point(),)]) == "[Point { x: 1 }, (Point { x: 1 },)]"
    assert rust_debug({"m": Mutex(6)}) == '{"m": Mutex { data: 6, poisoned: false, .. }}'


@pytest.mark.parametrize(("value", "name"), [
    (True, "bool"),
    (3, "int"),
    ("s", "str"),
    ([1, 2], "list[int]"),
    ([1, "a"], "list"),
    ([], "list"),
    ({1.5}, "set[float]"),
    (frozenset({"a"}), "frozenset[str]"),
    ({"a": 1, "b": 2}, "dict[str, int]"),
    ({"a": 1, 2: 2}, "dict"),
    ({}, "dict"),
    ((1, "a", None), "tuple[int, str, NoneType]"),
    (tuple(range(9)), "tuple"),
    ([[1], [2]], "list[list[int]]"),
    ([True, 1], "list"),
    (list(range(101)), "list"),
])
def test_type_name_names_the_item_type_when_all_items_share_it(value, name):
    assert type_name(value) == name


def test_type_name_asks_the_course_types_for_their_rust_type():
    assert type_name(Mutex(0)) == "Mutex<int>"
    assert type_name(Arc(Mutex([1, 2]))) == "Arc<Mutex<list[int]>>"
    assert type_name([Mutex(0), Mutex(1)]) == "list[Mutex<int>]"
