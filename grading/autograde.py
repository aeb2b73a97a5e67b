"""`nbgrader autograde` with the course's trusted, sandboxed, parallel executor.

nbgrader_config.py calls install(c): `nbgrader autograde` (the command, the formgrader's button and
NbGraderAPI) then runs CourseAutograde, which keeps every step of nbgrader's own Autograde (the gradebook,
sanitizing, restoring test cells, scoring, late penalties) and changes one: instead of running each notebook in
a kernel beside the checks, SandboxedExecute runs the student's cells in a sandbox and decides every test cell
in the trusted process (grading/trusted.py). Submissions are graded by a pool of worker processes, while this
process alone writes the gradebook:

    for each submission:  nbgrader's set-up and sanitizing (here)  ->  sandbox and checks (a worker)
                          ->  outputs in place, SaveAutoGrades and the rest of nbgrader's steps (here)
"""
import os
import re
import traceback

import sqlalchemy
from nbformat import from_dict
from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.converters import Autograde
from nbgrader.converters.base import BaseConverter, NbGraderException
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer

from .pool import Pool, decode_result, options_to_json
from .sandbox import Limits, SandboxUnavailable, check_available
from .secret import course_secret, course_tag, secret_path


def test_sources(db_url, course_id, notebook, assignment):
    """{grade_id: source} of a notebook's autograded test cells, as the gradebook keeps them (hidden tests in)."""
    with Gradebook(db_url, course_id) as gb:
        nb = gb.find_notebook(notebook, assignment)
        graded = {c.name for c in nb.grade_cells if c.cell_type == "code"}
        return {c.name: c.source for c in nb.source_cells if c.name in graded}


# ------------------------------------------------------------------------------------------------- nbgrader's side
class SandboxedExecute(NbGraderPreprocessor):
    """Autograde's executor: puts in every code cell's outputs, from the sandbox (student cells) and from the
    trusted checks (test cells), as CourseAutograde's grading workers computed them."""

    timeout = Integer(60, help="Seconds one student cell, or one call of a student's function, may take.").tag(
        config=True)
    notebook_timeout = Integer(300, help="Seconds the whole notebook may take in its sandbox.").tag(config=True)
    memory_mb = Integer(2048, help="Address space of each sandboxed process, in MB.").tag(config=True)
    cpu_seconds = Integer(300, help="CPU time of each sandboxed process, in seconds.").tag(config=True)

    done = {}   # sanitized notebook path -> (outputs, incidents), filled by CourseAutograde

    def options(self):
        from .trusted import Options
        return Options(cell_timeout=float(self.timeout), notebook_timeout=float(self.notebook_timeout),
                       limits=Limits(memory_mb=self.memory_mb, cpu_seconds=self.cpu_seconds))

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        result = self.done.pop(os.path.abspath(resources.get("_path", "")), None)
        if result is None or max(result[0], default=-1) >= len(nb.cells):
            raise NbGraderException("SandboxedExecute grades only inside CourseAutograde: call "
                                    "grading.autograde.install() in nbgrader_config.py")
        outputs, incidents = result
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                cell.outputs = [from_dict(o) for o in outputs.get(i, [])]
        who = f"student {info['student']!r}, {info['assignment']}/{info['notebook']}.ipynb"
        for line in incidents:
            self.log.warning("%s: %s", who, line)
        return nb, resources


class CourseAutograde(Autograde):
    """nbgrader's Autograde, grading several submissions at once (see the module's docstring)."""

    jobs = Integer(0, help="Submissions graded at once (0: the number of cores).").tag(config=True)

    def start(self):
        try:
            check_available()
        except SandboxUnavailable as e:
            self.log.error("Cannot autograde: %s", e)
            raise NbGraderException(str(e)) from None
        super().start()

    def init_single_notebook_resources(self, notebook_filename):
        resources = super().init_single_notebook_resources(notebook_filename)
        resources["_path"] = notebook_filename
        return resources

    def _executor(self):
        for pp in self.autograde_preprocessors:
            if isinstance(pp, type) and issubclass(pp, SandboxedExecute):
                return pp(parent=self)
        return None

    def convert_notebooks(self):
        executor = self._executor()
        if executor is None:   # configured without the sandbox: nbgrader's own loop
            return super().convert_notebooks()
        options = executor.options()
        options.limits.tag = course_tag(self.coursedir.root)
        options = options_to_json(options)
        course_secret(self.coursedir.root)   # made on first use; the grading workers read it
        # the workers, not this process, run the checks: a student's calls of rnn_ref land in a process with a
        # memory limit, and this one only keeps the gradebook
        jobs = max(1, min(self.jobs or os.cpu_count() or 1, len(self.assignments)))
        pool = Pool(jobs, secret_path(self.coursedir.root))
        errors, waiting, tests_of = [], {}, {}
        SandboxedExecute.done.clear()
        try:
            for assignment in sorted(self.assignments):
                gd = self._ids(assignment)
                notebooks = sorted(self.assignments[assignment])
                paths = self._guard(gd, notebooks, errors, lambda: self._prepare(gd, notebooks))
                if not paths:
                    continue
                waiting[assignment] = (gd, notebooks, paths, {})
                for path in paths:
                    nb_id = os.path.splitext(os.path.basename(path))[0]
                    key = (gd["assignment_id"], nb_id)
                    if key not in tests_of:
                        tests_of[key] = test_sources(self.coursedir.db_url, self.coursedir.course_id, nb_id,
                                                     gd["assignment_id"])
                    job = {"path": path, "assignment": gd["assignment_id"], "tests": tests_of[key],
                           "options": options}
                    pool.submit((assignment, path), job)
                self._collect(pool, waiting, errors, block=pool.pending() > 2 * jobs)
            while waiting:
                if not pool.pending():
                    raise NbGraderException("grading lost track of some submissions")  # pragma: no cover
                self._collect(pool, waiting, errors, block=True)
        finally:
            SandboxedExecute.done.clear()
            pool.close()
        self._write_reports({self._ids(a)["assignment_id"] for a in self.assignments})
        self._report_errors(errors)

    def _write_reports(self, assignments):
        from .report import write_reports
        for aid in sorted(assignments):
            try:
                out, flagged = write_reports(self.coursedir.root, aid)
                for student, fname, sim, _ in flagged:
                    self.log.warning("student %r, %s: %s is %s similar to rnn_ref's own source (a flag to read, "
                                     "not a score)", student, aid, fname, sim)
                self.log.info("What the class got wrong: %s", os.path.join(out, "causes.html"))
            except Exception:  # a report is a convenience: it never fails the grading
                self.log.warning("Could not write the reports of %s:\n%s", aid, traceback.format_exc())

    def _collect(self, pool, waiting, errors, block):
        """Score every submission whose notebooks are all graded."""
        for (assignment, path), result in pool.results(block):
            waiting[assignment][3][path] = result
        for assignment in list(waiting):
            gd, notebooks, paths, results = waiting[assignment]
            if len(results) == len(paths):
                del waiting[assignment]
                self._guard(gd, notebooks, errors, lambda: self._score(gd, notebooks, paths, results))

    def _ids(self, assignment):
        regexp = self._format_source("(?P<assignment_id>.*)", "(?P<student_id>.*)", escape=True)
        m = re.match(regexp, assignment)
        if m is None:
            raise NbGraderException(f"Could not match '{assignment}' with regexp '{regexp}'")
        return m.groupdict()

    def _prepare(self, gd, notebooks):
        """nbgrader's set-up and sanitizing of one submission: the sanitized notebooks' paths (None: skipped)."""
        self.notebooks = notebooks
        if not self.init_destination(gd["assignment_id"], gd["student_id"]):
            return None
        self.run_pre_convert_hook()
        self.init_assignment(gd["assignment_id"], gd["student_id"])
        paths = []
        for filename in self.notebooks:
            self._sanitizing = True
            self._init_preprocessors()
            BaseConverter.convert_single_notebook(self, filename)
            paths.append(os.path.join(self.writer.build_directory, os.path.basename(filename)))
        return paths

    def _score(self, gd, notebooks, paths, results):
        """nbgrader's autograde steps (outputs in place, SaveAutoGrades, ...) for one graded submission."""
        for path in paths:
            SandboxedExecute.done[os.path.abspath(path)] = decode_result(results[path])
        self.notebooks = notebooks
        self._sanitizing = False
        self._init_preprocessors()
        try:
            with utils.setenv(NBGRADER_EXECUTION="autograde"):
                for path in paths:
                    BaseConverter.convert_single_notebook(self, path)
        finally:
            self._sanitizing = True
        self.set_permissions(gd["assignment_id"], gd["student_id"])
        self.run_post_convert_hook()
        return True

    def _guard(self, gd, notebooks, errors, step):
        """Run one step for one submission as nbgrader's loop does: a failure costs that submission only."""
        try:
            return step()
        except sqlalchemy.exc.OperationalError:
            self.log.error(traceback.format_exc())
            raise NbGraderException("There was an error accessing the nbgrader database.")
        except KeyboardInterrupt:
            self.log.error("Canceled")
            raise
        except Exception:
            self.log.error("There was an error processing assignment: %s/%s", gd["student_id"], gd["assignment_id"])
            self.log.error(traceback.format_exc())
            errors.append((gd["assignment_id"], gd["student_id"]))
            self.notebooks = notebooks
            self._remove_failed(gd)
            return None

    def _remove_failed(self, gd):
        dest = os.path.normpath(self._format_dest(gd["assignment_id"], gd["student_id"]))
        for notebook in self.notebooks:
            path = os.path.join(dest, os.path.basename(notebook))
            if os.path.exists(path):
                self.log.warning("Removing failed notebook: %s", path)
                os.remove(path)

    def _report_errors(self, errors):
        if not errors:
            return
        for assignment_id, student_id in errors:
            self.log.error("There was an error processing assignment '%s' for student '%s'", assignment_id,
                           student_id)
        raise NbGraderException("Please see the above traceback for details on the specific errors on the above "
                                "failures.")


def _one_engine_per_gradebook():
    """nbgrader opens the gradebook afresh about ten times per submission: a new SQLAlchemy engine each time (its
    compiled queries lost), a check of every table, and an fsync per commit. Grading one process's way through a
    class, keep one engine per database (WAL journal, synchronous=NORMAL: safe against corruption, fast) and
    check the tables once. This cuts nbgrader's own time per submission by about two thirds."""
    import nbgrader.api as api
    from sqlalchemy import create_engine, event
    if getattr(api.create_engine, "_cached", False):
        return
    engines, checked = {}, set()

    def cached_engine(url, **kw):
        key = (str(url), tuple(sorted(kw.items())))
        if key not in engines:
            engine = create_engine(url, **kw)
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)
            engine.dispose = lambda *a, **k: None   # Gradebook.close() would drop the pooled connections
            engines[key] = engine
        return engines[key]
    cached_engine._cached = True

    create_all = api.Base.metadata.create_all

    def create_all_once(bind=None, **kw):
        if id(bind) not in checked:
            create_all(bind=bind, **kw)
            checked.add(id(bind))
    api.create_engine = cached_engine
    api.Base.metadata.create_all = create_all_once


def _sqlite_pragmas(dbapi_connection, record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def install():
    """Make `nbgrader autograde` (the command, NbGraderAPI and the formgrader) use CourseAutograde. nbgrader has no
    setting for the converter class, so nbgrader_config.py, which every nbgrader command runs first, calls this."""
    import nbgrader.apps.api
    import nbgrader.apps.autogradeapp
    nbgrader.apps.autogradeapp.Autograde = CourseAutograde
    nbgrader.apps.api.Autograde = CourseAutograde
    _one_engine_per_gradebook()
