"""The Python analogues of Listings 16-12 to 16-15 (listings/listing-16-NN/main.py), run as a student runs
them, held against their kept outputs: `output.txt` (ours) and `rustc.txt` (the Book's program under rustc).

`python tools/update_listings.py` writes output.txt again (and rustc.txt with `--book`).
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[1]
LISTINGS = ROOT / "listings"
NAMES = ["listing-16-12", "listing-16-13", "listing-16-14", "listing-16-15"]


def _tool():
    spec = importlib.util.spec_from_file_location("update_listings", ROOT / "tools" / "update_listings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


update_listings = _tool()


@pytest.fixture(scope="module")
def run():
    done = {}

    def run(name):
        if name not in done:
            done[name] = subprocess.run([sys.executable, f"listings/{name}/main.py"], cwd=ROOT, capture_output=True,
                                        text=True, timeout=60)
        return done[name]

    return run


def rustc(name):
    """What rustc says about the Book's program (listings/<name>/rustc.txt)."""
    return (LISTINGS / name / "rustc.txt").read_text()


def test_each_listing_is_a_folder_with_its_program_and_both_outputs():
    assert [p.name for p in update_listings.listing_folders()] == NAMES
    for name in NAMES:
        assert sorted(p.name for p in (LISTINGS / name).iterdir() if p.name != "__pycache__") == [
            "main.py", "output.txt", "rustc.txt"], name


@pytest.mark.parametrize("name", NAMES)
def test_output_txt_is_what_the_listing_prints_now(name):
    kept = (LISTINGS / name / "output.txt").read_text()
    assert update_listings.python_output(LISTINGS / name) == kept, (
        f"listings/{name}/output.txt is stale: run `python tools/update_listings.py`")


def test_the_check_fails_on_a_stale_output(tmp_path, monkeypatch, capsys):
    copy = tmp_path / "listings" / "listing-16-12"
    copy.mkdir(parents=True)
    (copy / "main.py").write_text((LISTINGS / "listing-16-12" / "main.py").read_text())
    (copy / "output.txt").write_text("m = Mutex { data: 5, poisoned: false, .. }\n")
    monkeypatch.setattr(update_listings, "ROOT", tmp_path)
    monkeypatch.setattr(update_listings, "LISTINGS", tmp_path / "listings")
    assert update_listings.main(["--check"]) == 1
    assert "listings/listing-16-12/output.txt" in capsys.readouterr().err
    assert update_listings.main([]) == 0 and update_listings.main(["--check"]) == 0


def test_listing_16_12_prints_the_mutex_as_rust_does(run):
    result = run("listing-16-12")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "m = Mutex { data: 6, poisoned: false, .. }\n"
    assert result.stdout == rustc("listing-16-12")
    assert result.stderr == ""


def test_listing_16_13_fails_with_e0382(run):
    result = run("listing-16-13")
    assert result.returncode != 0
    assert "error[E0382]: borrow of moved value: `counter`" in result.stderr
    assert "For more information about this error, try `rustc --explain E0382`." in result.stderr
    assert "Result:" not in result.stdout, "the program must stop at the error"
    first, *_, last = rustc("listing-16-13").strip().splitlines()
    assert first in result.stderr and result.stderr.rstrip().endswith(last)


def test_listing_16_14_fails_with_e0277(run):
    result = run("listing-16-14")
    assert result.returncode != 0
    assert "error[E0277]: `Rc<Mutex<int>>` cannot be sent between threads safely" in result.stderr
    assert rustc("listing-16-14").startswith("error[E0277]: `Rc<std::sync::Mutex<i32>>` cannot be sent between")
    assert "For more information about this error, try `rustc --explain E0277`." in result.stderr
    assert result.stdout == ""
    assert "panicked" not in result.stderr, "no thread may start: E0277 is raised before spawning"


def test_listing_16_15_prints_result_10(run):
    result = run("listing-16-15")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Result: 10\n"
    assert result.stdout == rustc("listing-16-15")
    assert result.stderr == ""
