"""The Python analogues of Listings 16-12 to 16-15, run as a student runs them: `python listings/...`."""

from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(60)

REFERENCE = Path(__file__).resolve().parent / "rustc"


def reference_output(name):
    """What the real Rust program prints (tests/rustc/<name>.txt)."""
    return (REFERENCE / f"{name}.txt").read_text()


def test_listing_16_12_prints_the_mutex_as_rust_does(run_listing):
    result = run_listing("listing-16-12")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "m = Mutex { data: 6, poisoned: false, .. }\n"
    assert result.stdout == reference_output("listing-16-12")
    assert result.stderr == ""


def test_listing_16_13_fails_with_e0382(run_listing):
    result = run_listing("listing-16-13")
    assert result.returncode != 0
    assert "error[E0382]: borrow of moved value: `counter`" in result.stderr
    assert "For more information about this error, try `rustc --explain E0382`." in result.stderr
    assert "Result:" not in result.stdout, "the program must stop at the error"
    first_line = reference_output("listing-16-13").splitlines()[0]
    assert first_line in result.stderr


def test_listing_16_14_fails_with_e0277(run_listing):
    result = run_listing("listing-16-14")
    assert result.returncode != 0
    assert "error[E0277]: `Rc<Mutex<int>>` cannot be sent between threads safely" in result.stderr
    assert "For more information about this error, try `rustc --explain E0277`." in result.stderr
    assert result.stdout == ""
    assert "panicked" not in result.stderr, "no thread may start: E0277 is raised before spawning"


def test_listing_16_15_prints_result_10(run_listing):
    result = run_listing("listing-16-15")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Result: 10\n"
    assert result.stdout == reference_output("listing-16-15")
    assert result.stderr == ""
