"""A class on one JupyterHub (deploy/hub/), end to end, with real accounts on this machine.

The hub (tests/hub_harness.py, which bench/bench_class.py shares) runs
deploy/hub/jupyterhub_config.py as it is, as root, on 127.0.0.1 and free ports, with its
state, the exchange and a Python environment in a temporary folder. That environment is
/opt/rustsync-hub (made by `deploy/hub/setup.sh env`, which .ci/run runs) seen through a
small virtual environment whose path puts this checkout's `rustsync` first, so the test
grades with the code under test, and readable by the test's accounts (a Python under /root,
mode 700, is not). The accounts are made for the test and removed after it, also when it
fails: a grading account (its home holds a copy of the course: nbgrader_config.py,
source/, release/), an instructor and two students, made by deploy/hub/add-user.sh in Unix
groups of the test's own.

Then, through the hub's REST API and each user's own server, as their browsers would: each
logs in with their password; the instructor releases a03 through the course's service (its
formgrader); each student's server fetches it, writes an answer (the sample `correct`, the
sample `racy`) and submits it; a student is refused the formgrader (403), another student's
server (403) and files (permission denied); the instructor collects, autogrades in parallel
in a terminal of the course's service (`python -m rustsync.grading.parallel`), generates and
releases the feedback; each student's server fetches their own feedback, with their score.
One written answer carries script and event handlers: formgrader's grading view of it, served
by the course's service, and its feedback page show them as text, never as markup.
Everything the test started is stopped, and its accounts removed, before the tests look at
what it saw.

SLOW: about two minutes (the hub, three servers and the grader start; grading two notebooks).
"""

from __future__ import annotations

import json
import pwd
import re
import time
from pathlib import Path

import pytest
from hub_harness import A03, COURSE, ROOT, SERVICE, Hub, listing, missing, run, wait_for
from test_sanitize import MARK, TEMPLATE_HANDLERS, Page, problems

SCORES = {"correct": "7.0 / 9.0", "racy": "4.0 / 9.0"}  # the written answer waits for a human
# appended to the written answer of the `racy` sample (`why_moved`), which waits for a human
HOSTILE_ANSWER = (f"\n\n<script>document.title = '{MARK}'</script>\n\n"
                  f"<img src=\"x\" onerror=\"document.title = '{MARK}'\">\n\n"
                  f"[see also](javascript:document.title='{MARK}')\n")

pytestmark = pytest.mark.timeout(600)


def scenario(hub):
    seen = hub.seen
    started = time.monotonic()
    hub.environment()
    hub.setup_accounts()
    hub.start()
    seen["hub started"] = time.monotonic() - started
    everyone = [hub.instructor, *hub.students.values()]
    for name in everyone:
        hub.login(name)
    for name in everyone:
        hub.start_server(name)
    # the course's service starts with the hub; the instructor reaches its formgrader
    wait_for("the course's formgrader", lambda: hub.service("/formgrader/api/status", "GET").ok, 150)
    seen["instructor formgrader"] = hub.service("/formgrader", "GET").status_code
    hub.formgrader("release")
    for name in everyone:
        hub.wait_server(name)
    seen["servers ready"] = time.monotonic() - started

    # each student fetches, answers and submits, from their own server
    samples = ROOT / "tests" / "submissions" / A03
    for sample, name in hub.students.items():
        base = f"/user/{name}"
        listed = listing(hub.api(name, "GET", f"{base}/assignments", params={"course_id": COURSE}))
        assert any(a["assignment_id"] == A03 and a["status"] == "released" for a in listed), listed
        fetched = listing(hub.api(name, "POST", f"{base}/assignments/fetch",
                                  data={"course_id": COURSE, "assignment_id": A03}))
        assert any(a["assignment_id"] == A03 and a["status"] == "fetched" for a in fetched), fetched
        path = f"{base}/api/contents/{COURSE}/{A03}/{A03}.ipynb"
        assert hub.api(name, "GET", path).status_code == 200
        notebook = json.loads((samples / f"{sample}.ipynb").read_text())
        if sample == "racy":
            for cell in notebook["cells"]:
                if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "why_moved":
                    cell["source"] = "".join(cell["source"]) + HOSTILE_ANSWER
        saved = hub.api(name, "PUT", path, json={"type": "notebook", "format": "json", "content": notebook})
        assert saved.status_code == 200, saved.text
        submitted = listing(hub.api(name, "POST", f"{base}/assignments/submit",
                                    data={"course_id": COURSE, "assignment_id": A03}))
        assert any(a["assignment_id"] == A03 and a["status"] == "submitted" for a in submitted), submitted
        seen.setdefault("submitted", []).append(name)

    # what a student cannot reach
    first, second = hub.students["correct"], hub.students["racy"]
    seen["student formgrader"] = hub.api(first, "GET", f"{SERVICE}/formgrader/api/assignments").status_code
    seen["student formgrader page"] = hub.api(first, "GET", f"{SERVICE}/formgrader").status_code
    seen["own formgrader"] = hub.api(first, "GET", f"/user/{first}/formgrader").status_code
    # the course's service is a whole server, as the grading account: none of it, not only formgrader
    seen["student terminal"] = hub.api(first, "POST", f"{SERVICE}/api/terminals").status_code
    seen["student contents"] = hub.api(first, "GET", f"{SERVICE}/api/contents/source").status_code
    seen["student autograde"] = hub.api(first, "POST", f"{SERVICE}/formgrader/api/submission/{A03}/{first}/autograde"
                                        ).status_code
    seen["other server"] = hub.api(first, "GET", f"/user/{second}/api/contents/{COURSE}").status_code
    home = Path(pwd.getpwnam(second).pw_dir)
    seen["other files"] = hub.as_user(first, "cat", str(home / COURSE / A03 / f"{A03}.ipynb"))
    seen["course folder"] = hub.as_user(first, "ls", str(hub.course / "source"))
    seen["inbound"] = hub.as_user(first, "ls", str(hub.exchange / COURSE / "inbound"))

    # the instructor collects, grades in parallel, and hands the feedback back
    hub.formgrader("collect")
    seen["autograde"] = status, output = hub.in_terminal(f"python -m rustsync.grading.parallel {A03}", timeout=300)
    assert status == 0, f"parallel autograde, exit status {status}:\n{output[-4000:]}"
    submissions = hub.service(f"/formgrader/api/submissions/{A03}", "GET")
    assert submissions.status_code == 200, submissions.text
    seen["gradebook"] = {s["student"]: (s["score"], s["max_score"]) for s in submissions.json()}
    # the instructor opens the racy submission in formgrader's grading view
    notebooks = hub.service(f"/formgrader/api/submitted_notebooks/{A03}/{A03}", "GET")
    assert notebooks.status_code == 200, notebooks.text
    racy = next(n["id"] for n in notebooks.json() if n["student"] == second)
    view = hub.service(f"/formgrader/submissions/{racy}/", "GET")
    seen["grading view"] = (view.status_code, view.text)
    hub.formgrader("generate_feedback")
    hub.formgrader("release_feedback")
    seen["feedback outbound"] = hub.as_user(first, "ls", str(hub.exchange / COURSE / "feedback"))
    for sample, name in hub.students.items():
        base = f"/user/{name}"
        listing(hub.api(name, "POST", f"{base}/assignments/fetch_feedback",
                        data={"course_id": COURSE, "assignment_id": A03}))
        folder = hub.api(name, "GET", f"{base}/api/contents/{COURSE}/{A03}/feedback").json()
        pages = []
        for stamp in folder.get("content") or []:
            inside = hub.api(name, "GET", f"{base}/api/contents/{stamp['path']}").json()
            for item in inside.get("content") or []:
                if item["name"].endswith(".html"):
                    page = hub.api(name, "GET", f"{base}/api/contents/{item['path']}",
                                   params={"type": "file", "format": "text"}).json()
                    pages.append(page["content"])
        seen.setdefault("feedback", {})[sample] = pages
    seen["seconds"] = time.monotonic() - started


@pytest.fixture(scope="module")
def hub():
    problems = missing()
    assert not problems, "the hub test needs what .ci/run installs: " + "; ".join(problems)
    hub = Hub()
    failure = None
    try:
        scenario(hub)
    except BaseException as err:  # noqa: BLE001 - reported below, once everything is stopped
        failure = err
    finally:
        log = hub.tail()
        left = hub.stop()
    if failure is not None:
        raise AssertionError(f"{type(failure).__name__}: {failure}\n--- the hub's log:\n{log}") from failure
    hub.seen["left"] = left
    hub.seen["log"] = log
    print(f"\nthe hub was up after {hub.seen['hub started']:.0f} s, the three servers after "
          f"{hub.seen['servers ready']:.0f} s; everything done after {hub.seen['seconds']:.0f} s")
    return hub


def test_everything_it_started_is_stopped_and_its_accounts_removed(hub):
    assert hub.seen["left"] == []
    for name in hub.accounts:
        assert run("id", "-u", name).returncode != 0, name
    assert not hub.base.exists()
    assert hub.proc.poll() is not None


def test_the_instructor_reaches_the_formgrader_and_a_student_is_refused(hub):
    assert hub.seen["instructor formgrader"] == 200
    assert hub.seen["student formgrader"] == 403
    assert hub.seen["student formgrader page"] == 403
    assert hub.seen["own formgrader"] == 404  # a student's own server has no formgrader either
    assert hub.seen["student terminal"] == 403
    assert hub.seen["student contents"] == 403
    assert hub.seen["student autograde"] == 403


def test_a_student_cannot_reach_another_students_server_nor_files_nor_the_course(hub):
    assert hub.seen["other server"] == 403
    for what in ("other files", "course folder", "inbound", "feedback outbound"):
        done = hub.seen[what]
        assert done.returncode != 0 and "Permission denied" in done.stderr, (what, done.stdout, done.stderr)


def test_the_instructor_grades_in_parallel_in_the_course_service(hub):
    status, output = hub.seen["autograde"]
    assert status == 0, output[-3000:]
    assert re.search(r"2 graded, 0 already graded \(skipped\), 0 failed, of 2 submissions, in [\d.]+ s with 2 "
                     r"worker\(s\)", output), output[-3000:]
    assert "WITHOUT the sandbox" not in output and "RUSTSYNC_SANDBOX" not in output
    assert hub.seen["gradebook"] == {hub.students["correct"]: (7.0, 9.0), hub.students["racy"]: (4.0, 9.0)}


def test_each_student_fetches_only_their_own_feedback_with_their_score(hub):
    assert set(hub.seen["feedback"]) == set(hub.students) == set(SCORES), "every student fetched"
    assert len(set(SCORES.values())) == len(SCORES), "the scores tell the students' pages apart"
    for sample, pages in hub.seen["feedback"].items():
        assert len(pages) == 1, sample
        assert f"{A03} (Score: {SCORES[sample]})" in pages[0], sample
        for other, score in SCORES.items():
            if other != sample:
                assert f"(Score: {score})" not in pages[0], f"{sample} fetched {other}'s feedback"
        assert "BEGIN HIDDEN TESTS" not in pages[0]
    # nor can they list the feedback the instructor released, to look for another's page
    assert "Permission denied" in hub.seen["feedback outbound"].stderr


def test_a_written_answer_runs_no_script_in_the_grading_view_nor_in_the_feedback(hub):
    status, page = hub.seen["grading view"]
    assert status == 200, page[:2000]
    [feedback] = hub.seen["feedback"]["racy"]
    for html, handlers in ((page, TEMPLATE_HANDLERS), (feedback, frozenset())):
        assert problems(html, handlers) == []
        assert "gives each thread an owner of its own. see also" in Page(html).text  # the answer, its link's text
