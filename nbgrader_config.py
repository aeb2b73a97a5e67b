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


# ---- term settings: due dates, late penalty, zip_collect, feedback, export ----
# Instructor tooling from the grading/ package (book/exercises/instructors.md explains each setting).
import sys as _sys  # noqa: E402

_sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # `grading` when nbgrader runs from the course root
from grading import hooks as _hooks, quiet as _quiet  # noqa: E402

# Quiet logs: nbgrader's gradebook without SQLAlchemy's autoflush warnings; kernels over IPC, not plain TCP.
_quiet.install_gradebook_fix()
for _key, _value in _quiet.ipc_kernel_settings().items():
    c.KernelManager[_key] = _value

# Before each submission is autograded: a misnamed notebook is renamed to the expected name (grading/names.py),
# and the assignment's due date is copied from the due-dates file into gradebook.db (grading/late.py).
_hooks.install()
_grading_dir = os.path.dirname(os.path.abspath(_hooks.__file__))   # the grading package (a copied config finds it too)
c.DueDates.path = os.path.join(_grading_dir, "due_dates.toml")

# nbgrader generate_assignment: chapter links (../05_bptt.md) become links to the published book
# (course_published_url in _config.yml), so they work in a downloaded notebook, on a hub and in feedback
# (grading/links.py).
from nbgrader.converters import GenerateAssignment as _GenerateAssignment  # noqa: E402

c.GenerateAssignment.preprocessors = (["grading.links.PublishedChapterLinks"]
                                      + list(_GenerateAssignment.class_traits()["preprocessors"].default()))

# Late work: 10 % of the score per started day after the due date, at most 50 %; up to 15 minutes late is on time.
c.AssignLatePenalties.plugin_class = "grading.late.LatePenalty"
c.LatePenalty.percent_per_day = 10.0
c.LatePenalty.max_percent = 50.0
c.LatePenalty.grace_minutes = 15.0

# nbgrader export: nbgrader's columns plus submitted, hours_late and days_late (grading/export.py).
c.ExportApp.plugin_class = "grading.export.LateCsvExport"

# nbgrader zip_collect: the "download all submissions" archives of Moodle and Canvas, put unchanged in
# downloaded/<assignment>/archive/ (file-name layouts and student ids: grading/collect.py).
c.ZipCollectApp.collector_plugin = "grading.collect.LmsCollector"
c.LmsCollector.layouts = ["moodle", "moodle_flat", "canvas"]

# nbgrader generate_feedback: math renders offline (MathJax inlined from _static/mathjax, fetched by
# `make mathjax`) and student HTML in markdown answers and outputs is sanitized (no scripts, no event handlers).
import nbgrader as _nbgrader  # noqa: E402

# Scoped to generate_feedback (c.GenerateFeedback.HTMLExporter: the exporter whose parent is GenerateFeedback), so
# the formgrader's own HTMLExporter keeps its templates. The template folder is named like nbgrader's, "feedback"
# (which nbgrader's API forces), and is found first: its feedback_offline.html.j2 extends nbgrader's index.html.j2.
_feedback = c.GenerateFeedback.HTMLExporter
_feedback.template_name = "feedback"
_feedback.template_file = "feedback_offline.html.j2"
_feedback.extra_template_basedirs = [
    os.path.join(_grading_dir, "templates"),
    os.path.join(os.path.dirname(_nbgrader.__file__), "server_extensions", "formgrader", "templates")]
_feedback.sanitize_html = True
_feedback.filters = {"clean_html": "grading.feedback.clean_html"}   # keeps markdown's tags, drops scripts
