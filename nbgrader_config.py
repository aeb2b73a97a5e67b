"""nbgrader course configuration. The course directory is this repository.

  solutions/<assignment>/<assignment>.ipynb        nbgrader's source folder (solutions, hidden tests, rubrics)
  release/<assignment>/                            nbgrader generate_assignment: the student version
  submitted/<student>/<assignment>/                nbgrader collect (or copy the students' notebooks in by hand)
  autograded/<student>/<assignment>/               nbgrader autograde: executed, scored notebooks
  feedback/<student>/<assignment>/<assignment>.html   nbgrader generate_feedback
  gradebook.db                                     scores and comments (SQLite); nbgrader export -> grades.csv

All generated folders and gradebook.db are kept out of git (.gitignore). The student versions that the book
shows are written by scripts/release_exercises.py (a temporary course directory, same settings as here).
Run nbgrader with the virtualenv's bin/ on PATH: it calls `alembic` when it creates gradebook.db.
"""
import os

c = get_config()  # noqa: F821 (nbgrader provides it)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "rnn-course"          # the exchange (release_assignment, collect) needs one
c.CourseDirectory.source_directory = "solutions"
# Only the notebooks are assignment files: a jupytext twin (*.md, *.py) would otherwise be released too.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "*.md", "*.py"]

# Student versions: the solution regions become this stub, the markdown answers this text.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Autograding runs in the course's trusted grader (grading/): every submission's code in a throwaway sandbox
# (bubblewrap: no network, not root, no view of the course), every test cell decided by the checks in this
# process, several submissions at once. A cell, or a call of a student's function, that runs longer than
# `timeout` is stopped and fails; the whole notebook has `notebook_timeout` seconds (an infinite loop costs its
# author that cell's points, never the batch's time). The a4 training run takes a few seconds.
from grading.autograde import SandboxedExecute, install  # noqa: E402

install()
c.SandboxedExecute.timeout = 60
c.SandboxedExecute.notebook_timeout = 300
c.CourseAutograde.jobs = 0          # submissions graded at once; 0: the number of cores
# A test cell a student deleted is put back (from the gradebook) and run, so deleting a failing test does not
# dodge it; nbgrader logs "Missing grade cell ... adding to notebook".
c.OverwriteCells.add_missing_cells = True


# --------------------------------------------------------------------------------------------------------------
# One clear log line per problem, naming the student. nbgrader repairs tampered notebooks silently or with lines
# that do not say whose notebook it is (and every hidden-test cell shows up as a "changed checksum"), so these
# two small preprocessors report what happened in words: run before nbgrader's own clean-up, and after execution.
from nbgrader import utils as _utils  # noqa: E402
from nbgrader.api import Gradebook as _Gradebook  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    CheckCellMetadata, ClearOutput, DeduplicateIds, IgnorePattern, LimitOutput, NbGraderPreprocessor,
    OverwriteCells, OverwriteKernelspec, SaveAutoGrades, AssignLatePenalties)
from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402


def _who(resources):
    info = resources["nbgrader"]
    return f"student {info['student']!r}, {info['assignment']}/{info['notebook']}.ipynb"


class ReportTampering(NbGraderPreprocessor):
    """Warn about edited locked cells and deleted or duplicated graded cells (nbgrader then restores the
    originals). A duplicated cell keeps nbgrader's rule, the last copy counts, but the other copies lose their
    nbgrader metadata here, which nbgrader 0.9.6 with add_missing_cells would otherwise crash on (KeyError)."""

    def preprocess(self, nb, resources):
        who = _who(resources)
        info = resources["nbgrader"]
        with _Gradebook(info["db_url"]) as gb:
            source = gb.find_notebook(info["notebook"], info["assignment"])
            locked = {c.name for c in source.source_cells if c.locked}
            graded = [c.name for c in source.grade_cells]
        seen = set()
        for cell in reversed(nb.cells):
            meta = cell.metadata.get("nbgrader") or {}
            gid = meta.get("grade_id")
            if gid is None:
                continue
            if gid in seen:
                self.log.warning("%s: cell %s appears more than once; only the last copy is graded", who, gid)
                del cell.metadata["nbgrader"]
                continue
            seen.add(gid)
            if (gid in locked or meta.get("locked")) and meta.get("checksum") not in (None, _safe_checksum(cell)):
                self.log.warning("%s: the locked cell %s was edited; the original is put back and graded", who, gid)
        missing = [g for g in graded if g not in seen]
        if missing:
            self.log.warning("%s: graded cell(s) %s missing (deleted?); put back and graded", who, ", ".join(missing))
        return nb, resources


def _safe_checksum(cell):
    try:
        return _utils.compute_checksum(cell)
    except Exception:  # malformed metadata: report it as edited
        return "unreadable"


class ReportFailures(NbGraderPreprocessor):
    """After grading: log each student's failing test cells, one line per notebook."""

    def preprocess(self, nb, resources):
        failed = []
        for cell in nb.cells:
            if _utils.is_grade(cell) and cell.cell_type == "code":
                errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
                if errors:
                    failed.append(f"{cell.metadata.nbgrader['grade_id']} ({errors[0].ename})")
        self.log.info("%s: %s", _who(resources), "failed " + ", ".join(failed) if failed else "every test cell passed")
        return nb, resources


# Feedback shows each test cell's result, not the hidden tests' code.
from nbgrader.preprocessors import ClearHiddenTests, GetGrades  # noqa: E402
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]

c.Autograde.sanitize_preprocessors = [ReportTampering, ClearOutput, DeduplicateIds, OverwriteKernelspec,
                                      OverwriteCells, CheckCellMetadata]
c.Autograde.autograde_preprocessors = [SandboxedExecute, ReportFailures, IgnorePattern, ClearMetadataPreprocessor,
                                       LimitOutput, SaveAutoGrades, AssignLatePenalties]
