"""The commands of the README and of docs/, run as written and in order, on fresh copies of the course.

- README, "Start" and "Test": one command each, `./start.sh` (run by tests/test_start.py)
  and `./test.sh`, which is what `.ci/run` runs and nothing else.
- docs/instructors.md, "Instructor workflow": every command of its shell blocks (before its
  `##` subsections), in order, in bash, as people type them: the instructor's in a copy of
  the course as a fresh clone has it (no gradebook, nothing generated), each student's in a
  copy of their own, with a HOME of their own. Between fetch and submit, `ann` writes the
  solutions of source/ into her notebook and `bob` the racy fix of tests/submissions/. Then
  the scores in the gradebook and in the export, each student's feedback as fetch_feedback
  brings it (no hidden test in it), and the links from the fetched notebook to its lesson.
  The block for after an edit (generate_assignment, release again) runs last and leaves
  release/ as it is. Then docs/troubleshooting.md: bob submits the correct answer again and
  the "submitted again" block gives him every mark; the "several students from one account"
  block hands in two submissions from one HOME, which collect keeps apart.
- docs/development.md: each listing command prints what its comment says.
- Every relative link of the README and of docs/ opens a file, and its `#anchor` a heading.

What differs from a real class lies outside the commands: the exchange is a temporary
folder (the docs' `/tmp/exchange` is replaced by it, and NBGRADER_EXCHANGE names it),
and each student's id is set in their own ~/.jupyter/nbgrader_config.py, as their login
name would give it. When the docs and the course drift apart, this fails.

SLOW: the workflow starts nbgrader about 20 times (each start costs about 5 s of CPU; the
students' commands run side by side), autograde runs three submissions in the sandbox and
generate_assignment seven notebooks: about 120 s of CPU in all.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from browser_lab import copy_course  # the course as a fresh clone of this checkout has it
from nbgrader.api import Gradebook

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
SUBMISSIONS = ROOT / "tests" / "submissions"
COURSE = "rust-shared-state"
README_EXCHANGE = "/tmp/exchange"
# The order an assignment goes through, from release to the feedback; the README may add steps between
# them. `export` may come anywhere after `autograde`.
WORKFLOW = ["release_assignment", "fetch_assignment", "submit", "collect", "autograde", "generate_feedback",
            "release_feedback", "fetch_feedback"]
STUDENT_STEPS = {"fetch_assignment", "submit", "fetch_feedback", "list"}
COMMAND_TIMEOUT = 600  # seconds, per command: a loaded machine grades slowly

pytestmark = pytest.mark.timeout(1500)


# --- reading the README ------------------------------------------------------------------------------


def section(title: str, page: Path = README) -> str:
    """The text of the `## title` section of `page` (the README by default), up to its first `###` subsection."""
    parts = re.split(r"^## ", page.read_text(), flags=re.M)
    found = [p for p in parts if p.split("\n", 1)[0].strip() == title]
    assert len(found) == 1, f"{page.relative_to(ROOT)} has {len(found)} sections '## {title}'"
    return re.split(r"^### ", found[0], flags=re.M)[0]


def shell_commands(text: str) -> list[list[str]]:
    """The commands of each fenced bash block of `text`, one list per block, in order."""
    blocks = re.findall(r"^```(?:bash|sh|shell|console)\n(.*?)^```", text, flags=re.M | re.S)
    out = []
    for block in blocks:
        joined = re.sub(r"\\\n\s*", " ", block)  # continuation lines
        out.append([line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")])
    return out


def nbgrader_step(command: str) -> str | None:
    words = shlex.split(command)
    return words[1] if len(words) > 1 and words[0] == "nbgrader" else None


# --- copies of the course, people, commands --------------------------------------------------------------


def person_env(home: Path, exchange: Path) -> dict:
    """The environment of someone whose HOME is `home`: nothing of the caller's Jupyter, IPython or XDG folders."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JUPYTER", "IPYTHON", "XDG_", "NBGRADER", "PYTEST", "MPLCONFIGDIR"))}
    home.mkdir(parents=True, exist_ok=True)
    # `nbgrader`, `jupyter` and `python` of this environment first
    env.update(HOME=str(home), NBGRADER_EXCHANGE=str(exchange),
               PATH=os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")]))
    return env


def in_exchange(command: str, exchange: Path) -> str:
    """`command` with the README's exchange replaced by ours; refuses a command that would reach another one."""
    command = command.replace(README_EXCHANGE, str(exchange))
    for word in shlex.split(command):
        if word.startswith("--Exchange.root="):
            assert word.split("=", 1)[1].rstrip(")") == str(exchange), (  # `)`: the end of a subshell
                f"`{command}` names an exchange other than {README_EXCHANGE}, the README's: the test would use it")
    return command


def run(command: str, *places: tuple[Path, dict]) -> None:
    """`command` in bash, as typed at a prompt, in each (folder, environment) of `places` at once (people
    working side by side); fails the test, with the output, unless each one succeeds."""
    started = time.monotonic()
    running = []
    for cwd, env in places:
        output = tempfile.TemporaryFile(mode="w+")
        running.append((cwd, output, subprocess.Popen(["bash", "-c", command], cwd=cwd, env=env, stdout=output,
                                                      stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)))
    for cwd, output, process in running:
        with output:
            try:
                process.wait(timeout=max(1.0, COMMAND_TIMEOUT - (time.monotonic() - started)))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            output.seek(0)
            said = output.read()
        assert process.returncode == 0, (f"`{command}` (in {cwd}) exited with status {process.returncode} "
                                         f"(-9: stopped after {COMMAND_TIMEOUT} s):\n{said[-8000:]}")
    print(f"{time.monotonic() - started:5.1f} s  {command}" + (f"  (x{len(places)})" if len(places) > 1 else ""))


def is_marker(line: str) -> bool:
    return line.strip() in ("### BEGIN SOLUTION", "### END SOLUTION")


def solve(notebook: Path, assignment: str) -> None:
    """Write the solutions of source/ into the answer cells of a fetched notebook, as a student who got it right."""
    source = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    answers = {c.metadata.nbgrader["grade_id"]: "\n".join(line for line in c.source.splitlines() if not is_marker(line))
               for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    nb = nbformat.read(notebook, as_version=4)
    solved = 0
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in answers:
            cell.source = answers[grade_id]
            solved += 1
    assert solved == len(answers), f"the fetched {notebook.name} has {solved} of the {len(answers)} answer cells"
    nbformat.write(nb, notebook)


class _Text(HTMLParser):
    """The text a browser shows of an HTML page (scripts and styles left out)."""

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def page_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "".join(parser.parts)


def hidden_test_lines(assignment: str) -> list[str]:
    """The lines of the hidden tests of source/ that appear nowhere in the student's version."""
    source = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    release = nbformat.read(ROOT / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    visible = {line.strip() for cell in release.cells for line in cell.source.splitlines()}
    hidden = []
    for cell in source.cells:
        inside = False
        for line in cell.source.splitlines():
            if line.strip() == "### BEGIN HIDDEN TESTS":
                inside = True
            elif line.strip() == "### END HIDDEN TESTS":
                inside = False
            elif inside and len(line.strip()) > 10 and line.strip() not in visible:
                hidden.append(line.strip())
    return hidden


def autograded_points(assignment: str) -> dict[str, float]:
    """{grade_id: points} of the test cells the autograder scores."""
    source = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    return {c.metadata.nbgrader["grade_id"]: float(c.metadata.nbgrader["points"]) for c in source.cells
            if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata.nbgrader.get("solution")}


def notebooks_in(folder: Path) -> dict[str, dict]:
    return {p.relative_to(folder).as_posix(): json.loads(p.read_text()) for p in sorted(folder.rglob("*.ipynb"))}


def lesson_links(notebook: Path, root: Path) -> dict[str, Path]:
    """{link: the file it opens} for each relative link to a notebook in the markdown of `notebook`.

    Resolved as Jupyter resolves them: as URLs below the server's root (`root`), where
    `..` stops at the root.
    """
    nb = nbformat.read(notebook, as_version=4)
    where = "http://server/" + notebook.relative_to(root).as_posix()
    links = {}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for href in re.findall(r"\]\(([^)\s]+\.ipynb)(?:#[^)]*)?\)", cell.source):
                if not urllib.parse.urlparse(href).scheme:
                    path = urllib.parse.urlparse(urllib.parse.urljoin(where, href)).path
                    links[href] = root / urllib.parse.unquote(path).lstrip("/")
    return links


# --- Start and Test --------------------------------------------------------------------------------------


def test_the_readme_gives_one_command_to_start_and_one_to_test_and_ci_runs_the_test_command():
    """`./start.sh` itself runs in tests/test_start.py; `./test.sh` is the suite and cannot run inside it."""
    assert [c for block in shell_commands(section("Start")) for c in block] == ["./start.sh"]
    assert [c for block in shell_commands(section("Test")) for c in block] == ["./test.sh"]
    for script in ("start.sh", "test.sh"):
        assert os.access(ROOT / script, os.X_OK), f"{script} is not executable"
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
          if line.strip() and not line.startswith("#")]
    commands = [line for line in ci if not line.startswith(("set ", "cd "))]
    assert commands == ["exec ./test.sh"], f".ci/run should run ./test.sh and nothing else: {commands}"
    test_sh = (ROOT / "test.sh").read_text()
    for step in ("apt-get install -y", "chromium", "bubblewrap", "deploy/hub/setup.sh env", "./start.sh --prepare",
                 "-m pytest"):
        assert step in test_sh, f"test.sh does not run `{step}`"


def test_the_listings_commands_of_docs_development_print_what_their_comments_say():
    """docs/development.md: each `python listings/...` line, run as written, prints the text of its comment."""
    block = re.search(r"^```bash\n(python listings/.*?)^```", (DOCS / "development.md").read_text(), flags=re.M | re.S)
    assert block, "docs/development.md has no block of listings commands"
    lines = [line for line in block[1].splitlines() if line.strip()]
    assert len(lines) == 4, lines
    for line in lines:
        command, said = (part.strip() for part in line.split("#", 1))
        done = subprocess.run(command, shell=True, cwd=ROOT, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PATH": os.pathsep.join([os.path.dirname(sys.executable),
                                                                          os.environ.get("PATH", "")])})
        assert said in done.stdout + done.stderr, (command, done.stdout[-2000:], done.stderr[-2000:])


# --- links ----------------------------------------------------------------------------------------------


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors of a Markdown page's headings."""
    found = set()
    for line in page.read_text().splitlines():
        match = re.match(r"#+\s+(.*)", line)
        if match:
            text = re.sub(r"[^\w\- ]", "", match[1].strip().lower())
            found.add(text.replace(" ", "-"))
    return found


def test_every_relative_link_of_the_readme_and_docs_opens_a_file_and_its_anchor_a_heading():
    pages = [README, *sorted(DOCS.glob("*.md"))]
    assert len(pages) >= 7, pages
    broken = []
    for page in pages:
        text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.M | re.S)  # code blocks hold no links
        for href in re.findall(r"\]\(([^)\s]+)\)", text):
            if urllib.parse.urlparse(href).scheme:
                continue
            path, _, anchor = href.partition("#")
            target = (page.parent / urllib.parse.unquote(path)).resolve() if path else page
            if not target.exists():
                broken.append(f"{page.relative_to(ROOT)}: {href} (no such file)")
            elif anchor and target.suffix == ".md" and anchor not in _anchors(target):
                broken.append(f"{page.relative_to(ROOT)}: {href} (no such heading)")
    assert not broken, broken
    linked = set(re.findall(r"\]\(docs/([\w-]+\.md)\)", README.read_text()))
    assert linked == {p.name for p in DOCS.glob("*.md")}, "the README should link every page of docs/"


# --- Instructor workflow --------------------------------------------------------------------------------


def test_the_readme_workflow_grades_a_fresh_clone_and_each_student_gets_feedback(tmp_path):
    commands = [c for block in shell_commands(section("Instructor workflow", DOCS / "instructors.md")) for c in block]
    assert commands, "docs/instructors.md's Instructor workflow has no bash block"
    steps = [nbgrader_step(c) for c in commands]
    assert None not in steps, f"commands of the Instructor workflow that are not nbgrader's: {commands}"
    # The block for after an edit comes last: all before it must work on a fresh clone, where
    # nothing has been generated yet.
    edit = steps.index("generate_assignment") if "generate_assignment" in steps else len(steps)
    order = iter(steps[:edit])
    missing = [step for step in WORKFLOW if step not in order]  # each found after the one before it
    assert not missing, (f"the README's workflow before any generate_assignment is {steps[:edit]}: it does not go "
                         f"through {WORKFLOW} in that order (missing or out of order: {missing})")
    assert "export" in steps[steps.index("autograde"):edit], "the README's workflow exports no scores after grading"
    fetch = commands[steps.index("fetch_assignment")]
    assignment = shlex.split(fetch)[2]
    wrong = SUBMISSIONS / assignment / "racy.ipynb"
    assert wrong.exists(), f"the README's assignment {assignment} has no racy sample in tests/submissions/"

    exchange = tmp_path / "exchange"
    course = copy_course(tmp_path / "course")
    release_before = notebooks_in(course / "release")
    instructor = person_env(tmp_path / "instructor", exchange)
    students = {}
    for name in ("ann", "bob"):
        home = tmp_path / "students" / name
        env = person_env(home, exchange)
        (home / ".jupyter").mkdir(parents=True)
        (home / ".jupyter" / "nbgrader_config.py").write_text(
            f"c = get_config()  # noqa: F821\nc.CourseDirectory.student_id = {name!r}  # as a login name gives it\n")
        students[name] = {"env": env, "course": copy_course(home / "course")}

    started = time.monotonic()
    for command, step in zip(commands, steps, strict=True):
        command = in_exchange(command, exchange)
        if step in STUDENT_STEPS:
            run(command, *((student["course"], student["env"]) for student in students.values()))
        else:
            run(command, (course, instructor))
        if step == "fetch_assignment":  # each student does the work, between fetch and submit
            solve(students["ann"]["course"] / assignment / f"{assignment}.ipynb", assignment)
            shutil.copy(wrong, students["bob"]["course"] / assignment / f"{assignment}.ipynb")
    print(f"the README's workflow: {time.monotonic() - started:.0f} s")

    # scores, in the gradebook and in the export
    points = autograded_points(assignment)
    full = sum(points.values())
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE) as gb:
        got = {name: {g.name: g.score for g in gb.find_submission(assignment, name).notebooks[0].grades
                      if g.name in points} for name in students}
    assert got["ann"] == points, "the solutions of source/ do not get every autograded mark"
    assert got["bob"] == {**points, "test_count_with_arc": 0}, "the racy fix is not caught, or loses other marks"
    with open(course / "grades.csv", newline="") as f:
        exported = {row["student_id"]: row for row in csv.DictReader(f) if row["assignment"] == assignment}
    assert float(exported["ann"]["score"]) == full
    assert float(exported["bob"]["score"]) == full - points["test_count_with_arc"]

    # each student's feedback, where fetch_feedback put it, without the hidden tests
    hidden = hidden_test_lines(assignment)
    assert hidden, f"source/{assignment} has no hidden tests to look for"
    for name, student in students.items():
        pages = sorted((student["course"] / assignment / "feedback").glob(f"*/{assignment}.html"))
        assert len(pages) == 1, f"{name}'s fetch_feedback brought {len(pages)} feedback pages"
        html = pages[0].read_text()
        text = page_text(html)
        score = re.search(rf"{assignment} \(Score: ([\d.]+) / ([\d.]+)\)", text)
        assert score and float(score[1]) == sum(got[name].values()), f"{name}'s feedback shows {score and score[0]}"
        assert "HIDDEN TESTS" not in html
        shown = [line for line in hidden if line in text]
        assert not shown, f"{name}'s feedback shows hidden test lines: {shown}"

    # the fetched notebook's links to its lesson, from the student's copy of the course, and from release/
    fetched = students["ann"]["course"] / assignment / f"{assignment}.ipynb"
    for notebook, root in ((fetched, students["ann"]["course"]),
                           (course / "release" / assignment / f"{assignment}.ipynb", course)):
        links = lesson_links(notebook, root)
        assert any("notebooks/" in href for href in links), f"{notebook} links to no lesson: {links}"
        broken = {href: str(target) for href, target in links.items() if not target.is_file()}
        assert not broken, f"links of {notebook.relative_to(tmp_path)} that open nothing: {broken}"

    # the block for after an edit (run last, above) leaves release/ as the course has it
    assert notebooks_in(course / "release") == release_before

    # docs/troubleshooting.md: bob hands in the correct answer again, and the "submitted again" block grades it
    trouble = DOCS / "troubleshooting.md"
    again = [c for block in shell_commands(section("A student submitted again", trouble)) for c in block]
    assert [nbgrader_step(c) for c in again] == ["collect", "autograde"], again
    assert all(assignment in shlex.split(c) for c in again), again
    bob = students["bob"]
    solve(bob["course"] / assignment / f"{assignment}.ipynb", assignment)
    time.sleep(1)  # a later submission
    run(in_exchange(commands[steps.index("submit")], exchange), (bob["course"], bob["env"]))
    for command in again:
        run(in_exchange(command, exchange), (course, instructor))
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE) as gb:
        regraded = {g.name: g.score for g in gb.find_submission(assignment, "bob").notebooks[0].grades
                    if g.name in points}
    assert regraded == points, "bob's second submission was not collected and graded again"

    # "several students from one account": two ids from one HOME, which collect keeps apart
    several = [c for block in shell_commands(section("Trying several students from one account", trouble))
               for c in block]
    assert several, "docs/troubleshooting.md has no commands for several students"
    one = tmp_path / "one-account"
    for command in several:
        run(in_exchange(command, exchange), (tmp_path, person_env(one, exchange)))
    run(in_exchange(commands[steps.index("collect")], exchange), (course, instructor))
    collected = sorted(p.parent.name for p in (course / "submitted").glob(f"*/{assignment}"))
    assert collected == ["ann", "bob", "cat"], collected


def test_autograde_on_a_fresh_clone_refuses_a_release_that_source_does_not_generate(tmp_path):
    """The README: autograde records an assignment from source/ only if release/ is what source/ generates."""
    assignment = "a03_sharing_a_mutex"
    course = copy_course(tmp_path / "course")
    notebook = course / "release" / assignment / f"{assignment}.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    nb.cells[0].source += "\n\nA sentence added to release/ by hand."
    nbformat.write(nb, notebook)
    submitted = course / "submitted" / "ann" / assignment  # as `nbgrader collect` leaves a submission
    submitted.mkdir(parents=True)
    shutil.copy(ROOT / "release" / assignment / f"{assignment}.ipynb", submitted)
    (submitted / "timestamp.txt").write_text("2026-01-05 09:00:00.000000 UTC")
    env = person_env(tmp_path / "instructor", tmp_path / "exchange")
    done = subprocess.run(["bash", "-c", f"nbgrader autograde {assignment}"], cwd=course, env=env,
                          capture_output=True, text=True, timeout=COMMAND_TIMEOUT, stdin=subprocess.DEVNULL)
    said = done.stdout + done.stderr
    assert done.returncode != 0, said[-3000:]
    assert f"release/{assignment} is not what source/{assignment} generates now" in said, said[-3000:]
    assert f"nbgrader generate_assignment {assignment} --force" in said
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE) as gb:
        assert [a.name for a in gb.assignments] == []
    assert not (course / "autograded" / "ann" / assignment / f"{assignment}.ipynb").exists()
