"""The %%rust cell magic (rustsync.rust_cell): rustc's real answer where it is installed, the stored one where not."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rustsync import rust_cell
from rustsync.rust_cell import rust

ROOT = Path(__file__).resolve().parent.parent
STORED = ROOT / "tests" / "rustc"
HAS_RUSTC = shutil.which("rustc") is not None
with_rustc = pytest.mark.skipif(not HAS_RUSTC, reason="rustc is not installed: the tests without it still run")



# a program of our own in the spirit of Listing 16-13: a Mutex moved into threads in a loop
E0382 = "e0382_mutex_in_a_loop"


def program(name):
    return (STORED / "programs" / f"{name}.rs").read_text()


@pytest.fixture
def no_rustc(monkeypatch, tmp_path):
    """A PATH without rustc, as on a machine where Rust is not installed."""
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("rustc") is None


@with_rustc
@pytest.mark.timeout(120)
def test_with_rustc_a_mutex_moved_in_a_loop_gets_rustcs_e0382_exactly_as_stored():
    shown = rust(program(E0382), E0382)
    assert shown.source == "rustc" and shown.compiled is False
    assert shown.text.startswith("error[E0382]: ")
    assert shown.text == (STORED / "programs" / f"{E0382}.txt").read_text()


@with_rustc
@pytest.mark.timeout(120)
def test_with_rustc_a_program_that_compiles_runs_and_shows_what_it_prints():
    shown = rust(program("quiz_05_strong_count_after_join"))
    assert shown.source == "rustc" and shown.compiled is True
    assert shown.text == "Result: 4, owners: 1\n"
    assert shown.text == (STORED / "programs" / "quiz_05_strong_count_after_join.txt").read_text()


@with_rustc
@pytest.mark.timeout(120)
def test_with_rustc_a_panic_shows_its_message_the_same_on_every_run():
    first = rust(program("quiz_02_poisoned_by_a_panic")).text
    assert first.startswith("poisoned: true\ndata: 1\n")
    assert "thread '<unnamed>' panicked at src/main.rs:10:9:\ngave up halfway\n" in first, first
    assert rust(program("quiz_02_poisoned_by_a_panic")).text == first, "no thread id that changes"


@with_rustc
@pytest.mark.timeout(120)
def test_with_rustc_a_program_that_never_ends_is_stopped_at_the_time_limit(monkeypatch):
    monkeypatch.setattr(rust_cell, "RUN_SECONDS", 1)
    shown = rust('fn main() {\n    println!("start");\n    loop {}\n}\n')
    assert shown.text == "start\n(the program was stopped after 1 s: a deadlock, or a loop that never ends?)\n"


@with_rustc
@pytest.mark.skipif(rust_cell._bwrap() is None, reason="bubblewrap cannot make a sandbox here")
@pytest.mark.timeout(120)
def test_with_rustc_the_program_has_no_network():
    code = ('use std::net::TcpStream;\nuse std::time::Duration;\nfn main() {\n'
            '    let address = "1.1.1.1:80".parse().unwrap();\n'
            '    match TcpStream::connect_timeout(&address, Duration::from_secs(3)) {\n'
            '        Ok(_) => println!("connected"),\n'
            '        Err(e) => println!("{:?}", e.kind()),\n'
            '    }\n}\n')
    assert rust(code).text == "NetworkUnreachable\n"


@with_rustc
@pytest.mark.timeout(120)
def test_with_rustc_nothing_is_left_behind(tmp_path, monkeypatch):
    monkeypatch.setattr(rust_cell.tempfile, "tempdir", str(tmp_path))  # where mkdtemp makes its folders
    assert rust(program("quiz_05_strong_count_after_join")).compiled
    assert rust(program("quiz_02_guard_after_drop")).compiled is False
    assert list(tmp_path.iterdir()) == []


def test_without_rustc_the_stored_output_follows_a_clear_note(no_rustc):
    shown = rust(program(E0382), E0382)
    note, stored = shown.text.split("\n\n", 1)
    assert shown.source == "stored"
    version = (STORED / "programs" / "rustc-version.txt").read_text().strip()
    assert note == (f"rustc is not installed on this machine: here is what {version} said about this program when "
                    f"the course was made (tests/rustc/programs/{E0382}.txt).")
    assert stored == (STORED / "programs" / f"{E0382}.txt").read_text()


def test_without_rustc_a_kept_program_is_found_by_its_text_alone(no_rustc):
    shown = rust(program("quiz_03_copy_into_move_closures") + "\n\n")
    assert shown.text.endswith("\n\n1 1 0\n")
    assert "(tests/rustc/programs/quiz_03_copy_into_move_closures.txt)" in shown.text


def test_without_rustc_a_cell_that_differs_from_the_named_program_says_so(no_rustc):
    shown = rust(program("quiz_03_copy_into_move_closures").replace("count += 1", "count += 2"),
                 "quiz_03_copy_into_move_closures")
    assert "This cell differs from the course's program (tests/rustc/programs/quiz_03_copy_into_move_closures.rs)." \
        in shown.text


def test_without_rustc_a_listing_shows_its_folders_rustc_output(no_rustc):
    shown = rust("fn main() {}", "listing-16-13")  # the Book's program is not kept: found by its name
    assert shown.source == "stored" and "(listings/listing-16-13/rustc.txt)" in shown.text
    assert shown.text.endswith("\n\n" + (ROOT / "listings" / "listing-16-13" / "rustc.txt").read_text())
    assert shown.text.split("\n\n", 1)[1].startswith("error[E0382]: borrow of moved value: `counter`")


def test_without_rustc_and_nothing_stored_it_says_how_to_get_rustc(no_rustc):
    shown = rust('fn main() { println!("hi"); }', "listing-99-1")
    assert shown.source == "none"
    assert shown.text == ("rustc is not installed on this machine, and the course keeps no stored output named "
                          "'listing-99-1': install Rust (https://rustup.rs) to compile it here.\n")


def test_a_name_that_is_not_a_program_name_is_refused():
    with pytest.raises(ValueError, match="one program name, such as listing-16-13"):
        rust("fn main() {}", "../../etc/passwd")


@pytest.mark.timeout(120)
def test_import_rustsync_in_ipython_registers_the_cell_magic(tmp_path):
    """A fresh IPython, as a notebook's kernel: import rustsync, then a %%rust cell (here without rustc)."""
    script = tmp_path / "cell.ipy"
    script.write_text("import rustsync\n"
                      f"get_ipython().run_cell_magic('rust', {E0382!r}, {program(E0382)!r})\n")
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path), "IPYTHONDIR": str(tmp_path / "ipython"),
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "IPython", "--quick", "--no-banner", "--colors=NoColor",
                           str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=100)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("rustc is not installed on this machine")
    assert done.stdout.endswith((STORED / "programs" / f"{E0382}.txt").read_text())
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "ipython") == ["cell.ipy"]
    assert os.environ.get("PATH") and shutil.which("python3") is not None  # the test's own PATH is untouched
