"""Helpers shared by test_exercises.py, test_grading.py and benchmarks/bench_grading.py: a temporary nbgrader
course directory driven in-process through NbGraderAPI, made-up submissions, and running a notebook with
nbclient. Kernels talk over IPC sockets in a private directory, so parallel test processes (pytest -n 2)
never race for TCP ports."""
import csv
import importlib.util
import json
import os
import shutil
import sys
import tempfile

import nbformat

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_spec = importlib.util.spec_from_file_location("release_exercises",
                                               os.path.join(ROOT, "scripts", "release_exercises.py"))
release_exercises = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("release_exercises", release_exercises)
_spec.loader.exec_module(release_exercises)

ASSIGNMENTS = release_exercises.ASSIGNMENTS


def solution_path(name):
    return os.path.join(ROOT, "solutions", name, name + ".ipynb")


def _ipc_dir():
    # Unix socket paths must stay short (about 100 bytes): a fresh directory straight under /tmp.
    return tempfile.mkdtemp(prefix="rnnk-", dir="/tmp" if os.path.isdir("/tmp") else None)


def execute_notebook(path, timeout=60, cwd=None):
    """Run a notebook from a fresh kernel with nbclient (errors recorded in the outputs, not raised)."""
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    ipc = _ipc_dir()
    try:
        km = KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(ipc, "k"))
        client = NotebookClient(nb, km=km, timeout=timeout, allow_errors=True,
                                resources={"metadata": {"path": cwd or os.path.dirname(path)}})
        client.execute()
    finally:
        shutil.rmtree(ipc, ignore_errors=True)
    return nb


# --------------------------------------------------------------------------------------------------------------
# A temporary course directory

class Course:
    """An nbgrader course directory at `root` using the repository's nbgrader_config.py settings, with the
    solutions as source, driven in-process through NbGraderAPI (one gradebook per course directory)."""

    def __init__(self, root, timeout=None, log_level="WARN", **settings):
        """settings: more configuration on top, {"DueDates.path": ...} (as keyword arguments with ** )."""
        self.root = os.path.abspath(root)
        os.makedirs(self.root, exist_ok=True)
        self.ipc = _ipc_dir()
        overrides = {"KernelManager.transport": "ipc", "KernelManager.ip": os.path.join(self.ipc, "k"), **settings}
        if timeout is not None:
            overrides["SandboxedExecute.timeout"] = timeout
        self.cfg = release_exercises.course_config(self.root, **overrides)
        self.api = release_exercises.make_api(self.cfg, log_level=log_level)

    def close(self):
        shutil.rmtree(self.ipc, ignore_errors=True)

    # the steps, in the instructor's order -------------------------------------------------------------------
    def generate_assignment(self, name):
        return self._ok(self.api.generate_assignment(name), f"generate_assignment {name}")

    def release_path(self, name):
        return os.path.join(self.root, "release", name, name + ".ipynb")

    def submitted_path(self, student, name):
        return os.path.join(self.root, "submitted", student, name, name + ".ipynb")

    def submit(self, student, name, nb_or_text):
        """Put a submission where `nbgrader collect` would: submitted/<student>/<name>/<name>.ipynb."""
        path = self.submitted_path(student, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if isinstance(nb_or_text, str):
            with open(path, "w", encoding="utf-8") as f:
                f.write(nb_or_text)
        else:
            nbformat.write(nb_or_text, path)
        return path

    def autograde(self, name, student="*"):
        """nbgrader autograde; student '*' grades every submission in one run. Returns the API's result dict
        (success is False when some submission could not be graded; the others are graded all the same)."""
        return self.api.autograde(name, student)

    def generate_feedback(self, name, student=None):
        return self.api.generate_feedback(name, student)

    def feedback_path(self, student, name):
        return os.path.join(self.root, "feedback", student, name, name + ".html")

    def export(self, path=None):
        """nbgrader export with the course's export plugin (nbgrader_config.py): one row per student and assignment."""
        from nbgrader.plugins import CsvExportPlugin
        from traitlets.utils.importstring import import_item

        path = path or os.path.join(self.root, "grades.csv")
        cls = self.cfg.ExportApp.get("plugin_class", CsvExportPlugin)
        plugin = (import_item(cls) if isinstance(cls, str) else cls)(config=self.cfg)
        plugin.to = path
        with self.gradebook() as gb:
            plugin.export(gb)
        return path

    def gradebook(self):
        from nbgrader.api import Gradebook
        return Gradebook(self.api.coursedir.db_url, self.api.coursedir.course_id)

    def scores(self, name):
        """{student: (auto score, max auto score, manual max)} from the gradebook."""
        out = {}
        with self.gradebook() as gb:
            for sub in gb.assignment_submissions(name):
                auto = sum((g.auto_score or 0) for nb in sub.notebooks for g in nb.grades
                           if g.cell.cell_type == "code")
                out[sub.student.id] = auto
        return out

    def max_points(self, name):
        """(auto, manual) maximum points of the assignment, from the gradebook."""
        with self.gradebook() as gb:
            a = gb.find_assignment(name)
            auto = sum(c.max_score for nb in a.notebooks for c in nb.grade_cells if c.cell_type == "code")
            manual = sum(c.max_score for nb in a.notebooks for c in nb.grade_cells if c.cell_type == "markdown")
        return auto, manual

    @staticmethod
    def _ok(result, what):
        if not result["success"]:
            raise RuntimeError(f"nbgrader {what} failed:\n{result.get('log', '')}\n{result.get('error', '')}")
        return result


def cli_course(root, extra=""):
    """A course directory at `root` for nbgrader's command line, as an instructor uses it: its nbgrader_config.py
    loads the repository's (so autograde runs the course's sandboxed grader) and points the course at root, with
    the repository's solutions/ as source, and `extra` config lines appended. Returns (root, run): run(*command, check=True) runs a command in root
    with this Python's bin/ first on PATH and returns the CompletedProcess (output captured)."""
    import subprocess
    root = os.path.abspath(root)
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "nbgrader_config.py"), "w") as f:
        f.write(f"c = get_config()  # noqa: F821\n"
                f"load_subconfig({os.path.join(ROOT, 'nbgrader_config.py')!r})  # noqa: F821\n"
                f"c.CourseDirectory.root = {root!r}\n"
                f"c.CourseDirectory.source_directory = {os.path.join(ROOT, 'solutions')!r}\n" + extra)
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))

    def run(*cmd, check=True):
        proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=1800)
        if check and proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc
    return root, run


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# --------------------------------------------------------------------------------------------------------------
# Made-up submissions

def answer_cells(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]


def solved(release_nb, solution_nb, keep=None):
    """The release with the answer cells taken from the solution (all of them, or the grade_ids in keep):
    what a student who solved those parts hands in. Markdown answers are answered too."""
    sol = {c.metadata["nbgrader"]["grade_id"]: c.source for c in solution_nb.cells
           if c.metadata.get("nbgrader", {}).get("solution")}
    nb = nbformat.from_dict(json.loads(json.dumps(release_nb)))
    for c in nb.cells:
        meta = c.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        if meta.get("solution") and (keep is None or gid in keep):
            src = sol[gid]
            if c.cell_type == "markdown":
                src = src.replace("### BEGIN SOLUTION\n", "").replace("\n### END SOLUTION", "")
            else:
                src = src.replace("    ### BEGIN SOLUTION\n", "").replace("    ### END SOLUTION\n", "")
                src = src.replace("    ### END SOLUTION", "")
            c.source = src
    return nb


def copy_nb(nb):
    return nbformat.from_dict(json.loads(json.dumps(nb)))


def find_cell(nb, grade_id):
    for i, c in enumerate(nb.cells):
        if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return i, c
    raise KeyError(grade_id)


def first_answer_only(release_nb, solution_nb):
    """A half-done submission: only the first graded function solved."""
    first = answer_cells(solution_nb)[0].metadata["nbgrader"]["grade_id"]
    return solved(release_nb, solution_nb, keep={first})


def replace_in_cell(nb, grade_id, old, new):
    i, c = find_cell(nb, grade_id)
    assert old in c.source, (grade_id, old)
    c.source = c.source.replace(old, new)
    return nb


def a1_zoo(release_nb, solution_nb):
    """Made-up submissions of a1_forward: {student: (notebook or raw text, expected auto score)}.

    a1_forward: test_rnn_step_forward 4 points, test_rnn_forward 6 points (10 auto points in all)."""
    full = lambda: solved(release_nb, solution_nb)                     # noqa: E731
    half = lambda: first_answer_only(release_nb, solution_nb)          # noqa: E731
    zoo = {"solution": (full(), 10), "untouched": (copy_nb(release_nb), 0), "half_done": (half(), 4)}

    nb = full()  # rnn_forward never returns: its test cell times out, the rest is graded
    replace_in_cell(nb, "rnn_forward", "    T, B, _ = x.shape\n", "    while True:\n        pass\n")
    zoo["infinite_loop"] = (nb, 4)

    nb = full()  # the process dies while rnn_forward is tested: that cell and the ones after it score 0
    replace_in_cell(nb, "rnn_forward", "    T, B, _ = x.shape\n", "    import os\n    os._exit(1)\n")
    zoo["kernel_crash"] = (nb, 4)

    zoo["not_json"] = ('{"cells": [ this is not a notebook', 0)

    nb = half()  # deleted the test of the function they did not write: nbgrader puts it back and runs it
    i, _ = find_cell(nb, "test_rnn_forward")
    del nb.cells[i]
    zoo["deleted_test"] = (nb, 4)

    nb = half()  # duplicated a passing test cell, hoping to be paid twice: only one copy counts
    i, c = find_cell(nb, "test_rnn_step_forward")
    nb.cells.insert(i + 1, copy_nb(c))
    nb.cells[i + 1].id = "duplicated-test"
    zoo["duplicated_test"] = (nb, 4)

    nb = half()  # edited the locked test of the unwritten function to pass: nbgrader restores the original
    i, c = find_cell(nb, "test_rnn_forward")
    c.source = "# the test is fine, trust me\npass"
    zoo["edited_locked"] = (nb, 4)

    nb = full()  # right answers, noisy code: warnings and stderr output cost nothing by themselves
    replace_in_cell(nb, "rnn_step_forward", "    a = x @ U_xh",
                    "    import sys, warnings\n    warnings.warn('debugging rnn_step_forward')\n"
                    "    print('a debug line on stderr', file=sys.stderr)\n    np.log(np.zeros(1))\n    a = x @ U_xh")
    i, c = find_cell(nb, "rnn_forward")
    c.source = "import warnings\nwarnings.warn('a warning at definition time')\n" + c.source
    zoo["warnings"] = (nb, 10)

    nb = full()  # handed in the reference as rnn_forward: the visible test passes, the hidden guard does not
    i, c = find_cell(nb, "rnn_forward")
    c.source = "import rnn_ref\n\ndef rnn_forward(x, h0, U_xh, W_hh, b):\n    return rnn_ref.rnn_forward(x, h0, U_xh, W_hh, b)\n"
    zoo["reference_wrapper"] = (nb, 4)
    return zoo
