"""nbgrader's submit, seen by collect whole or not at all: assembled under a hidden name, then renamed.

nbgrader's own submit (nbgrader 0.9, `exchange/default/submit.py`) copies the student's
folder straight into `inbound/STUDENT+ASSIGNMENT+TIMESTAMP+RANDOM`, then writes
`timestamp.txt` and `submission_secret.txt` and sets the modes. Collect takes each
student's folder with the newest timestamp in its name; a submit cut short in between
(the student's server killed, the hub restarted, the disk full) leaves a folder that
lacks files, and collect takes it in place of the student's last whole submission.

`AtomicSubmit` makes the same folder, with the same files and modes, under a name that
starts with a dot (`hidden_name`): the patterns of collect and list (`STUDENT+ASSIGNMENT+*`,
`*+ASSIGNMENT+*`) never match it, since a glob's `*` does not match a leading dot. Only
when it is whole is it renamed to nbgrader's name, with `os.rename` in the same folder,
which is atomic: collect finds the whole submission or none. Then it copies the student's
cache as nbgrader does. A submit that fails before the rename removes its hidden folder
and fails with `NOT_HANDED_IN`: nothing was handed in, submit again (an earlier whole
submission still stands). One killed outright leaves its hidden folder, which nothing of
nbgrader reads; an instructor may delete such `.`-folders from `inbound/`.

Chosen with `c.ExchangeFactory.submit = "rustsync.grading.exchange.AtomicSubmit"`, in the
settings every student's nbgrader reads: deploy/hub/nbgrader_config.py on the hub, the
course's environment (rustsync/course/environment.py) on one machine.
"""

from __future__ import annotations

import os
import secrets
import shutil

from nbgrader.exchange.default.submit import ExchangeSubmit

__all__ = ["NOT_HANDED_IN", "AtomicSubmit", "hidden_name"]

NOT_HANDED_IN = ("Your submission of {assignment} was not handed in ({why}). Nothing of this attempt reached "
                 "your instructor; an earlier submission, if you made one, still counts. Submit again.")

# nbgrader's modes for a submission in inbound/: files and folders readable by the instructor, and the
# submission's own folder open to all, so that the instructor can delete it (nobody can list inbound/)
FILE_MODE = 0o644
FOLDER_MODE = 0o755
SUBMISSION_MODE = 0o777


def hidden_name(name: str) -> str:
    """The name under which submission `name` is assembled in inbound/: one that no pattern of nbgrader's matches."""
    return f".{name}.partial"


class AtomicSubmit(ExchangeSubmit):
    """nbgrader's ExchangeSubmit, which renames the submission into place in inbound/ only once it is whole."""

    def copy_files(self):
        self.init_release()
        submission_secret = secrets.token_hex(64)

        dest_path = os.path.join(self.inbound_path, self.assignment_filename)
        staging = os.path.join(self.inbound_path, hidden_name(self.assignment_filename))
        if self.add_random_string:
            cache_path = os.path.join(self.cache_path, self.assignment_filename.rsplit("+", 1)[0])
        else:
            cache_path = os.path.join(self.cache_path, self.assignment_filename)

        self.log.info("Source: %s", self.src_path)
        self.log.info("Destination: %s", dest_path)

        self.check_filename_diff()
        try:
            self.do_copy(self.src_path, staging)
            self._write_stamps(staging, submission_secret)
            self.set_perms(staging, fileperms=FILE_MODE, dirperms=FOLDER_MODE)
            os.chmod(staging, SUBMISSION_MODE)
            os.rename(staging, dest_path)
        except OSError as err:  # a copy, a write or the rename failed (shutil.Error is an OSError)
            shutil.rmtree(staging, ignore_errors=True)
            self.fail(NOT_HANDED_IN.format(assignment=self.coursedir.assignment_id,
                                           why=f"{type(err).__name__}: {err}"))
        except BaseException:  # nbgrader's own refusals (a folder too big), an interrupt: no half copy stays
            shutil.rmtree(staging, ignore_errors=True)
            raise

        # also copy to the cache, which the student's Assignment List reads
        if not os.path.isdir(self.cache_path):
            os.makedirs(self.cache_path)
        self.do_copy(self.src_path, cache_path)
        self._write_stamps(cache_path, submission_secret)

        self.log.info("Submitted as: %s %s %s", self.coursedir.course_id, self.coursedir.assignment_id, self.timestamp)

    def _write_stamps(self, path, submission_secret):
        with open(os.path.join(path, "timestamp.txt"), "w") as fh:
            fh.write(self.timestamp)
        with open(os.path.join(path, "submission_secret.txt"), "w") as fh:
            fh.write(submission_secret)
