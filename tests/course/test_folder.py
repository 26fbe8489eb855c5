"""`rustsync.course.folder`: finding the course's folder and its assignments, and what an nbgrader command lacks.

Each function on a small course made in a temporary folder: discovery (`find_course`,
`assignments`), the messages for a wrong name, nothing collected, nothing graded, and a
command run from the wrong folder, how a command line is read (`nbgrader_command`,
`check_command`), whose settings decide (`decides`) and how a command is stopped.
"""

import os

import pytest

from rustsync.course import folder

NAMES = ["a00_shared_state", "a03_sharing_a_mutex", "a05_arc", "a06_refcell_vs_mutex"]


@pytest.fixture
def course(tmp_path):
    """A course: nbgrader_config.py, source/ with four assignments, and a folder of source/ without a notebook."""
    root = tmp_path / "course"
    for name in NAMES:
        (root / "source" / name).mkdir(parents=True)
        (root / "source" / name / f"{name}.ipynb").write_text("{}")
    (root / "source" / "drafts").mkdir()
    (root / "source" / "drafts" / "notes.txt").write_text("not an assignment")
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    return root


def hand_in(root, step, student, name):
    (root / step / student / name).mkdir(parents=True)


def test_the_course_is_found_from_its_folder_and_from_below_it(course):
    below = course / "notebooks" / "deeper"
    below.mkdir(parents=True)
    assert folder.find_course(str(course)) == str(course.resolve())
    assert folder.find_course(str(below)) == str(course.resolve())


def test_a_folder_is_a_course_only_with_both_its_settings_and_source(tmp_path):
    settings_only = tmp_path / "settings_only"
    settings_only.mkdir()
    (settings_only / "nbgrader_config.py").write_text("")
    source_only = tmp_path / "source_only"
    (source_only / "source").mkdir(parents=True)
    assert folder.find_course(str(settings_only)) is None
    assert folder.find_course(str(source_only)) is None


def test_the_assignments_are_the_folders_of_source_that_hold_a_notebook_sorted(course, tmp_path):
    assert folder.assignments(str(course)) == NAMES
    assert folder.assignments(str(tmp_path / "nowhere")) == []


@pytest.mark.parametrize("name", ["a03_sharing_a_mutex", "a0[35]*", "*"])
def test_a_name_or_pattern_that_matches_an_assignment_is_not_unknown(course, name):
    assert folder.unknown_assignment(str(course), name) is None


@pytest.mark.parametrize(("name", "guess"), [
    ("a3", "a03_sharing_a_mutex"),
    ("3", "a03_sharing_a_mutex"),
    ("a003", "a03_sharing_a_mutex"),
    ("a05_a", "a05_arc"),
    ("a06_refcell", "a06_refcell_vs_mutex"),
    ("a", None),  # the start of every assignment: no guess
    ("a9", None),
    ("drafts", None),
])
def test_an_unknown_name_lists_the_assignments_and_the_one_it_likely_means(course, name, guess):
    message = folder.unknown_assignment(str(course), name, step="generate_feedback")
    lines = message.splitlines()
    assert lines[0] == f"There is no assignment '{name}' in this course. Its assignments (the folders of source/) are:"
    assert lines[1:5] == [f"  {n}" for n in NAMES]
    if guess is None:
        assert len(lines) == 5
    else:
        assert lines[5:] == [f"Did you mean {guess}? `nbgrader generate_feedback {guess}`"]


def test_nothing_collected_and_nothing_graded_until_a_folder_holds_a_submission(course):
    name = "a05_arc"
    assert folder.no_submissions(str(course), name).startswith(
        f"No submission of {name} has been collected: submitted/*/{name}/ holds none.")
    assert f"`nbgrader collect {name}`" in folder.no_submissions(str(course), name)
    assert folder.nothing_graded(str(course), name).startswith(f"No submission of {name} has been graded yet")
    hand_in(course, "submitted", "ann", "a03_sharing_a_mutex")  # another assignment counts for nothing
    assert folder.no_submissions(str(course), name) is not None
    hand_in(course, "submitted", "ann", name)
    assert folder.no_submissions(str(course), name) is None
    assert folder.nothing_graded(str(course), name) is not None
    hand_in(course, "autograded", "ann", name)
    assert folder.nothing_graded(str(course), name) is None


def test_a_students_pattern_counts_only_the_submissions_of_the_students_it_matches(course):
    hand_in(course, "submitted", "ann", "a05_arc")
    assert folder.no_submissions(str(course), "a05_arc", ["an*"]) is None
    message = folder.no_submissions(str(course), "a05_arc", ["bob", "carol"])
    assert message.startswith("No submission of a05_arc by bob, carol has been collected")


@pytest.mark.parametrize(("argv", "command"), [
    (["/usr/local/bin/nbgrader", "autograde", "a05_arc", "--force"], ("autograde", ["a05_arc", "--force"])),
    (["/venv/lib/python3.11/site-packages/nbgrader/__main__.py", "collect", "a05_arc"], ("collect", ["a05_arc"])),
    (["nbgrader", "--version"], None),
    (["nbgrader"], None),
    (["/usr/bin/jupyter-lab", "autograde"], None),
    (["pytest", "nbgrader"], None),
    ([], None),
])
def test_only_the_nbgrader_command_line_is_read_as_a_step_and_its_arguments(argv, command):
    assert folder.nbgrader_command(argv) == command


def test_an_instructors_step_outside_the_course_says_where_to_run_it(course, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    message = folder.check_command(str(course), ["nbgrader", "release_assignment", "a05_arc", "--student=it's"])
    assert message.startswith(f"`nbgrader release_assignment` runs from the course's folder, where "
                              f"nbgrader_config.py is, and the folder {os.getcwd()} is not it")
    assert message.endswith(f"\n  cd {course} && nbgrader release_assignment a05_arc '--student=it'\"'\"'s'")
    below = course / "notebooks"
    below.mkdir()
    assert folder.check_command(str(course), ["nbgrader", "autograde", "a05_arc"], cwd=str(below)).startswith(
        "`nbgrader autograde` runs from the course's folder"), "a folder below the course is not the course"


def test_a_students_step_outside_the_course_is_left_alone(course, tmp_path):
    for step in ("fetch_assignment", "submit", "list"):
        assert folder.check_command(str(course), ["nbgrader", step, "a9"], cwd=str(tmp_path)) is None


@pytest.mark.parametrize(("args", "expected"), [
    (["autograde", "a3"], "There is no assignment 'a3'"),
    (["autograde", "--student", "ann", "a3"], "There is no assignment 'a3'"),  # the option's value is skipped
    (["autograde", "--assignment=a3"], "There is no assignment 'a3'"),
    (["autograde", "--CourseDirectory.assignment_id", "a3"], "There is no assignment 'a3'"),
    (["autograde", "a00_shared_state"], "No submission of a00_shared_state has been collected"),
    (["autograde", "a05_arc", "--student", "bob"], "No submission of a05_arc by bob has been collected"),
    (["autograde", "a05_arc", "--student", "ann"], None),
    (["generate_feedback", "a05_arc"], "No submission of a05_arc has been graded yet"),
    (["feedback", "a05_arc", "--CourseDirectory.student_id=ann"], "No submission of a05_arc by ann has been graded"),
    (["release_assignment", "a05_arc"], None),
    (["generate_assignment", "a6"], "Did you mean a06_refcell_vs_mutex? `nbgrader generate_assignment a06"),
    (["autograde"], None),  # nbgrader says itself that an assignment is needed
    (["db", "student", "list"], None),  # a step that names no assignment
])
def test_in_the_course_a_step_is_checked_for_its_assignment_and_its_submissions(course, args, expected):
    hand_in(course, "submitted", "ann", "a05_arc")
    message = folder.check_command(str(course), ["nbgrader", *args], cwd=str(course))
    if expected is None:
        assert message is None
    else:
        assert message is not None and expected in message, message


def config_path(monkeypatch, folders):
    import jupyter_core.paths

    monkeypatch.setattr(jupyter_core.paths, "jupyter_config_path", lambda: [str(f) for f in folders])


def test_the_first_courses_settings_on_jupyters_config_path_decide(tmp_path, monkeypatch):
    mine, other_course, plain = tmp_path / "mine", tmp_path / "other", tmp_path / "plain"
    for place in (mine, other_course, plain):
        place.mkdir()
    (mine / "nbgrader_config.py").write_text(f"{folder.MARK} (mine)\n")
    (other_course / "nbgrader_config.py").write_text(f"{folder.MARK} (another course)\n")
    (plain / "nbgrader_config.py").write_text("c = get_config()\n")  # a user's settings, not a course's
    settings = str(mine / "nbgrader_config.py")
    config_path(monkeypatch, [plain, mine, other_course])
    assert folder.decides(settings) is True
    config_path(monkeypatch, [tmp_path / "missing", other_course, mine])
    assert folder.decides(settings) is False


def test_a_wrong_command_stops_with_nbgraders_error_prefix_and_a_right_one_goes_on(course, monkeypatch, capsys):
    monkeypatch.chdir(course)
    monkeypatch.setattr("sys.argv", ["nbgrader", "autograde", "a3"])
    with pytest.raises(SystemExit) as stopped:
        folder.stop_if_wrong(str(course))
    assert stopped.value.code == 1
    assert capsys.readouterr().err.startswith("[nbgrader | ERROR] There is no assignment 'a3' in this course.")
    monkeypatch.setattr("sys.argv", ["nbgrader", "release_assignment", "a05_arc"])
    folder.stop_if_wrong(str(course))
    assert capsys.readouterr() == ("", "")
