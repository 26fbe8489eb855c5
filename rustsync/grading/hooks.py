"""nbgrader's side of the course's grading: the kernel shows, the grader decides.

`TrustedExecute` takes the place of nbgrader's `Execute` in `nbgrader autograde`:

1. the grader's worker (`worker.py`, in the sandbox) decides every test cell from the
   instructor's `source/` notebook and the student's cells, one fresh grader process
   per part that runs the instructor's code and holds every primitive, and a student
   process beside it that runs the student's cells and nothing else (`grader.py`);
2. advice on a student's cell (`advice.py`: real threads, `time.sleep`, a locked name
   defined again) is written under it in the graded notebook; it decides nothing, while
3. the student's kernel, in the sandbox too, with a cleared environment, limits, and a
   scratch copy of the submission's plain files as its folder (never nbgrader's own
   folder), runs the notebook with the hidden tests taken out, so the feedback shows
   what the student's code printed;
4. each test cell's outputs are then replaced by the grader's decision: nothing but a
   line saying it passed, or the failure's message as an error. nbgrader's own
   `SaveAutoGrades` reads the scores from those outputs as usual, so the gradebook,
   formgrader, feedback and export work unchanged.

A kernel that hangs, dies or ignores interrupts changes nothing in the scores: they come
from step 2. A course that cannot grade (no bwrap, a package the sandbox cannot import,
a missing instructor notebook) refuses before any submission is scored.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time

import nbformat
from nbgrader.converters.base import NbGraderException
from nbgrader.preprocessors import ClearHiddenTests, OverwriteCells
from traitlets import Bool, Dict, Integer

from .. import sandbox
from ..limits import NOTEBOOK_SECONDS
from . import runner

__all__ = ["QuietOverwriteCells", "TrustedExecute", "hide_test_tracebacks", "quiet_gradebook_warnings"]


def quiet_gradebook_warnings():
    """Silence the three SQLAlchemy warnings nbgrader's gradebook raises for each submission it grades.

    nbgrader 0.9's `Gradebook.update_or_create_submission` builds a submission's rows while
    SQLAlchemy 2 autoflushes ("Object of type <SubmittedAssignment> not in session, add
    operation along 'Student.submissions' will not proceed", the same for
    'Assignment.submissions' and 'Notebook.submissions'); it adds those rows itself right
    after, so the rows written are complete. Only these messages, and only from nbgrader's
    gradebook module, are silenced.
    """
    import warnings

    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", message=r"Object of type <Submitted\w+> not in session, add operation along",
                            category=SAWarning, module=r"nbgrader\.api")


quiet_gradebook_warnings()

PASSED = "passed: the grader ran this test on your code, outside your notebook\n"


def _meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def _is_test(cell):
    meta = _meta(cell)
    return cell.get("cell_type") == "code" and meta.get("grade") and not meta.get("solution")


def without_hidden_tests(source, config=None):
    """The source of a test cell without its hidden region (nbgrader's own delimiters)."""
    cell = nbformat.v4.new_code_cell(source)
    try:
        ClearHiddenTests(config=config)._remove_hidden_test_region(cell)
    except RuntimeError:
        return ""  # unbalanced delimiters: show nothing of it
    return cell.source


MAX_TEXT = 20_000  # characters of one output the graded notebook keeps (nbgrader's LimitOutput counts lines)
MAX_OUTPUTS = 50  # outputs of one cell


def _cap(text):
    if len(text) <= MAX_TEXT:
        return text
    return (text[: MAX_TEXT // 2] + f"\n... [{len(text) - MAX_TEXT // 2 - 2000:,} characters left out by the grader] "
            "...\n" + text[-2000:])


def _cap_outputs(nb):
    """Keep what the kernel printed to a size a feedback page can show."""
    for cell in nb.cells:
        outputs = cell.get("outputs")
        if not outputs:
            continue
        if len(outputs) > MAX_OUTPUTS:
            left = len(outputs) - MAX_OUTPUTS
            cell.outputs = outputs[:MAX_OUTPUTS] + [nbformat.v4.new_output(
                "stream", name="stdout", text=f"... [{left} more outputs left out by the grader]\n")]
        for output in cell.outputs:
            if "text" in output:
                text = output["text"] if isinstance(output["text"], str) else "".join(output["text"])
                output["text"] = _cap(text)
            for kind, value in list(output.get("data", {}).items()):
                text = value if isinstance(value, str) else "".join(value)
                if len(text) > 10 * MAX_TEXT:
                    output["data"] = {"text/plain": f"[an output of {len(text):,} characters left out by the grader]"}
                    break
                if kind == "text/plain":
                    output["data"][kind] = _cap(text)


class TrustedExecute(sandbox.SandboxedExecute):
    """nbgrader's `Execute`, with every score decided by the grader's sandboxed workers (see the module)."""

    limits = Dict(config=True, help="Limits of each graded part, the keys to change only (the defaults, and what "
                                    "each key means: rustsync/limits.py, PART).")
    parallel = Integer(0, config=True, help="Parts decided at once (0: the number of cores, at most 4).")
    show = Bool(True, config=True, help="Also run the student's kernel, so the feedback shows its outputs.")
    notebook_seconds = Integer(NOTEBOOK_SECONDS, config=True, help="The most one notebook may take, in the grader and "
                               "in the kernel; parts not decided by then score 0, and the log says so.")

    _refusals = {}  # {a course's setting: why it cannot grade}, found once per process and course

    def _course_key(self):
        from nbgrader.coursedir import CourseDirectory

        manager = self.config.get("SandboxedKernelManager", {})
        return (os.path.realpath(CourseDirectory(config=self.config).root), repr(manager.get("hide")),
                repr(manager.get("keep")))

    def _refuse(self, message):
        TrustedExecute._refusals[self._course_key()] = message

    _warned_root = False

    def preprocess(self, nb, resources):
        if not self.enabled:
            return nb, resources
        if os.geteuid() == 0 and not TrustedExecute._warned_root:  # once per process, before the first notebook
            from nbgrader.coursedir import CourseDirectory

            from ..course.folder import ROOT_WARNING

            TrustedExecute._warned_root = True
            self.log.warning(ROOT_WARNING.format(root=CourseDirectory(config=self.config).root))
        refusal = TrustedExecute._refusals.get(self._course_key())
        if refusal:
            raise NbGraderException(refusal)
        instructor = self._instructor(resources)
        cells, tests, notes = runner.program(nb, instructor)
        decided, failure = {}, []
        command = self._worker_command()

        started = time.perf_counter()
        timings = {}

        def decide():
            try:
                work = runner.Runner(command, limits=self.limits, parallel=self.parallel or None, log=self.log)
                student = resources.get("nbgrader", {}).get("student", "")
                decided.update(work.run(cells, tests, runner.seed_of(student)))
                timings["grader"] = time.perf_counter() - started
            except Exception as err:  # noqa: BLE001 - reported below, refusing to score
                failure.append(err)

        judge = threading.Thread(target=decide, name="rustsync-grader", daemon=True)
        judge.start()
        if self.show:
            self._show(nb, resources, started + self.notebook_seconds)
            timings["kernel"] = time.perf_counter() - started
        judge.join(max(0.0, started + self.notebook_seconds - time.perf_counter()))
        if judge.is_alive():  # past the notebook's bound: what is not decided yet scores 0
            self.log.error("Grading this notebook ran past its bound of %d s (TrustedExecute.notebook_seconds): "
                           "the parts not decided yet score 0", self.notebook_seconds)
            runner.stop_all()
            judge.join(30)
            failure.clear()
            for grade_id in tests:
                decided.setdefault(grade_id, runner.Part(
                    grade_id, False, f"the grader stopped grading this notebook after {self.notebook_seconds} s, "
                    "before it decided this part: a cell of it runs for a long time", "bound"))
        self.log.info("Decided %d part(s) in %.1f s; the kernel ran the notebook in %.1f s", len(decided),
                      timings.get("grader", 0), timings.get("kernel", 0))
        if failure:
            message = (f"the grader's worker failed, so nothing was scored: {failure[0]}. Check that "
                       "`python -c \"import rustsync\"` works for the grading user, and that bwrap works "
                       f"(`{sandbox.INSTALL}`)")
            if isinstance(failure[0], runner.WorkerError) and "did not start" in str(failure[0]):
                self._refuse(message)
            self.log.error(message)
            raise NbGraderException(message)
        self._write_decisions(nb, decided, notes, cells)
        return nb, resources

    # --- the pieces ---------------------------------------------------------------------------

    def _instructor(self, resources):
        from nbgrader.coursedir import CourseDirectory

        info = resources.get("nbgrader", {})
        coursedir = CourseDirectory(config=self.config)
        folder = coursedir.format_path(coursedir.source_directory, ".", info.get("assignment", ""))
        path = os.path.join(folder, f"{info.get('notebook', '')}.ipynb")
        if not os.path.isfile(path):
            message = (f"the instructor's notebook {path} is missing: the grader takes the locked cells and the "
                       "hidden tests from there. Grade from the course's folder, where source/ is")
            self._refuse(message)
            self.log.error(message)
            raise NbGraderException(message)
        return nbformat.read(path, as_version=4)

    def _worker_command(self):
        try:
            manager = self.kernel_manager_class(config=self.config)
            hide, keep, bwrap = manager.hide, manager.keep, manager.bwrap
        except Exception:  # noqa: BLE001 - a plain kernel manager has none of these settings
            hide, keep, bwrap = [], [], "bwrap"
        try:
            return runner.worker_command(self.config, hide=hide, keep=keep, bwrap=bwrap)
        except sandbox.SandboxError as err:
            self._refuse(f"Not grading: {err}")
            raise NbGraderException(f"Not grading: {err}") from None

    def _show(self, nb, resources, deadline=None):
        """Run the student's kernel on the notebook without hidden tests; never let it decide anything.

        At `deadline` (a `time.perf_counter()` time) a kernel still running is ended.
        """
        saved = {}
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            if _is_test(cell):
                saved[index] = cell.source
                cell.source = without_hidden_tests(cell.source, self.config)
        metadata = resources.setdefault("metadata", {})
        original_path = metadata.get("path")
        scratch = tempfile.mkdtemp(prefix="rustsync-scratch-")
        try:
            work = os.path.join(scratch, "submission")
            left_out = sandbox.scratch_copy(original_path, work)
            if left_out:
                self.log.info("Left out of the kernel's folder: %s", ", ".join(left_out[:10]))
            metadata["path"] = work
            bound = None
            if deadline is not None:
                bound = threading.Timer(max(0.0, deadline - time.perf_counter()), self._end_kernel)
                bound.daemon = True
                bound.start()
            try:
                super().preprocess(nb, resources)
            except NbGraderException:
                raise
            except Exception as err:  # noqa: BLE001 - the kernel's fate does not change the scores
                self.log.warning("The student's kernel stopped (%s: %s); the scores come from the grader",
                                 type(err).__name__, str(err)[:200])
                self._note_stopped(nb, err)
        finally:
            if bound is not None:
                bound.cancel()
            metadata["path"] = original_path
            shutil.rmtree(scratch, ignore_errors=True)
            for index, source in saved.items():
                nb.cells[index].source = source
            _cap_outputs(nb)

    def _end_kernel(self):
        """The notebook's bound is reached and its kernel still runs: end the kernel's process."""
        import signal

        provisioner = getattr(getattr(self, "km", None), "provisioner", None)
        pid = getattr(provisioner, "pid", None)
        if pid:
            self.log.error("The student's kernel ran past the notebook's bound of %d s "
                           "(TrustedExecute.notebook_seconds): it is ended", self.notebook_seconds)
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    @staticmethod
    def _note_stopped(nb, err):
        last = None
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.get("outputs"):
                last = cell
        text = (f"The notebook's kernel stopped here ({type(err).__name__}): the cells below were not run in it. "
                "Your scores do not depend on it: the grader runs every test on its own.\n")
        if last is not None:
            last.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=text))

    def _write_decisions(self, nb, decided, notes, cells):
        by_id = {}
        for cell in nb.cells:
            if _is_test(cell):
                by_id.setdefault(_meta(cell)["grade_id"], cell)
        for grade_id, cell in by_id.items():
            part = decided.get(grade_id)
            if part is None:
                part = runner.Part(grade_id, False, "the grader could not run this test", "missing")
            if part.passed:
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=PASSED)]
            else:
                message = part.message.strip() or "the test failed"
                cell.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue=message,
                                                       traceback=[f"AssertionError: {message}"])]
            cell.execution_count = cell.get("execution_count")
        names = {c.index: c.name for c in cells if c.index is not None}
        for index, said in notes.items():
            cell = nb.cells[index]
            text = "".join(f"Note from the grader on {names.get(index, 'this cell')}: {note}\n" for note in said)
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)] + list(cell.get("outputs", []))
        skipped = sorted({name for part in decided.values() for name in part.skipped})
        if skipped:
            self.log.warning("Left out after hanging or crashing the grader's worker: %s", ", ".join(skipped))


class QuietOverwriteCells(OverwriteCells):
    """nbgrader's `OverwriteCells`, which warns only when a student really edited a locked cell.

    The release strips the hidden tests from test cells, so every test cell of every
    submission differs from the gradebook's copy; nbgrader warns "Attribute 'checksum' ...
    has changed!" for each. Here a locked cell that equals the release's version is put
    back silently, and one the student edited is named in the warning.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        grade_id = _meta(cell).get("grade_id")
        if grade_id is not None and cell.cell_type == "code":
            try:
                source_cell = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
            except Exception:  # noqa: BLE001 - nbgrader's own code reports unknown cells
                source_cell = None
            if source_cell is not None and source_cell.locked:
                released = without_hidden_tests(source_cell.source, self.config)
                if cell.source in (released, source_cell.source):
                    cell.source = source_cell.source
                else:
                    student = resources.get("nbgrader", {}).get("student", "?")
                    self.log.warning("The student edited the locked cell %s: it is put back as the "
                                     "instructor wrote it (student %s)", grade_id, student)
                    cell.source = source_cell.source
        return super().preprocess_cell(cell, resources, cell_index)


def hide_test_tracebacks(nb, resources):
    """Feedback preprocessor: an error in an autograder test cell keeps only its last line.

    IPython's traceback shows the lines of the test cell it passed through, hidden tests
    included; the last line (`AssertionError: ...`) is the message meant for the student.
    Register it in nbgrader_config.py: `c.GenerateFeedback.preprocessors`.
    """
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
    return nb, resources


def autograde_preprocessors():
    """nbgrader's autograde preprocessors, with `TrustedExecute` in the place of `Execute`, then `CellNotes`.

    `CellNotes` (notes.py) writes under each copy of a copied cell that it was graded once;
    it comes after the kernel has run, as the kernel starts each cell with no output.
    """
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    from .notes import CellNotes

    default_list = Autograde.class_traits()["autograde_preprocessors"].default()
    if Execute not in default_list:
        raise sandbox.SandboxError("this version of nbgrader autogrades without its `Execute` preprocessor: the "
                                   "grader does not know where to go; see rustsync/grading/hooks.py")
    ours = [TrustedExecute if p is Execute else p for p in default_list]
    ours.insert(ours.index(TrustedExecute) + 1, CellNotes)
    return ours


def sanitize_preprocessors():
    """nbgrader's sanitizing preprocessors, with `QuietOverwriteCells` in the place of `OverwriteCells`.

    `CopiedCells` (duplicates.py) takes the place of nbgrader's `DeduplicateIds`, which leaves
    the copies of a copied cell with marks that `OverwriteCells` fails on.
    """
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import DeduplicateIds

    from .duplicates import CopiedCells

    default_list = Autograde.class_traits()["sanitize_preprocessors"].default()
    swap = {OverwriteCells: QuietOverwriteCells, DeduplicateIds: CopiedCells}
    ours = [swap.get(p, p) for p in default_list]
    if CopiedCells not in ours:  # an nbgrader without DeduplicateIds: copies are still sorted out first
        ours.insert(ours.index(QuietOverwriteCells), CopiedCells)
    return ours


# --- the exchange ------------------------------------------------------------------------------------


def _collect_class():
    from nbgrader.exchange.default.collect import ExchangeCollect

    class SafeCollect(ExchangeCollect):
        """nbgrader's collect, which copies a submission's links as links and then drops them.

        A student can write into the exchange directly; nbgrader's own copy follows links,
        so a link to the gradebook or to another student's work would be copied, with the
        grader's rights, into submitted/, and from there into the feedback. Here no link is
        ever followed, and nothing but plain files and folders reaches submitted/.
        """

        def do_copy(self, src, dest, log=None):
            import stat

            from nbgrader.utils import ignore_patterns

            patterns = ignore_patterns(exclude=self.coursedir.ignore, include=self.coursedir.include,
                                       max_file_size=self.coursedir.max_file_size, log=self.log)

            def ignore(folder, names):
                # a named pipe, a socket or a device would stop copytree (and the collect of every
                # student after this one): they are left out before the copy, links after it
                odd = set()
                for name in names:
                    try:
                        mode = os.lstat(os.path.join(folder, name)).st_mode
                    except OSError:
                        odd.add(name)
                        continue
                    if not (stat.S_ISLNK(mode) or stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                        self.log.warning("Left out of the submission: %s is not a plain file",
                                         os.path.relpath(os.path.join(folder, name), src))
                        odd.add(name)
                return set(patterns(folder, names)) | odd

            shutil.copytree(src, dest, symlinks=True, ignore=ignore)
            for folder, dirs, files in os.walk(dest, topdown=True, followlinks=False):
                for name in list(dirs) + files:
                    path = os.path.join(folder, name)
                    mode = os.lstat(path).st_mode
                    if stat.S_ISLNK(mode) or not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                        self.log.warning("Left out of the submission: %s is not a plain file",
                                         os.path.relpath(path, dest))
                        os.unlink(path)
                        if name in dirs:
                            dirs.remove(name)

    return SafeCollect


SafeCollect = _collect_class()
