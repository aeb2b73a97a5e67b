"""The trusted grader's parts, one at a time: the wire format, the sandbox, the test-cell reader, the allowed rnn_ref
of each assignment, the hidden-case secret, grading by isolation, and the instructor's reports. The whole pipeline
through `nbgrader autograde` is in test_redteam.py and test_grading.py."""
import inspect
import json
import os
import socket

import nbformat
import numpy as np
import pytest

import rnn_ref
from grading import wire
from grading.allowed import ALLOWED, ISOLATE
from grading.report import cause, similarity, tokens, write_reports
from grading.sandbox import Allowed, Limits, Sandbox, SandboxDied, SandboxUnavailable, check_available
from grading.trusted import GradingSetupError, Options, grade_notebook, parse_test_cell
from grading_helpers import ASSIGNMENTS, ROOT, replace_in_cell, solution_path, solved
from rnn_ref.checks.engine import case_rng, set_hidden_secret

OPTIONS = Options(cell_timeout=10, notebook_timeout=120)


# ------------------------------------------------------------------------------------------------ wire
def _frame(tree):
    text, blobs = wire.encode(tree)
    return wire.decode(text, b"".join(blobs))


def test_wire_round_trip_keeps_types_shapes_and_values():
    tree = {"a": np.arange(6.0).reshape(2, 3), "i": np.array([[1, 2]], dtype=np.int32), 3: (1, 2.5, None, True),
            "s": [np.float64(1.5), np.bool_(True), "text", np.zeros((0, 4))], "nan": float("nan")}
    back = _frame(tree)
    assert back["a"].dtype == np.float64 and np.array_equal(back["a"], tree["a"])
    assert back["i"].dtype == np.int32 and back["i"].shape == (1, 2)
    assert back[3] == (1, 2.5, None, True)
    assert isinstance(back["s"][0], np.float64) and isinstance(back["s"][1], np.bool_)
    assert back["s"][3].shape == (0, 4) and np.isnan(back["nan"])
    back["a"][0, 0] = 7                              # decoded arrays are the receiver's own, writable
    assert tree["a"][0, 0] == 0


@pytest.mark.parametrize("bad", [np.array([object()]), np.array(["text"]), {(1, 2): 3}, lambda: 0, {1, 2}])
def test_wire_refuses_what_is_not_plain_data(bad):
    with pytest.raises(wire.NotPlain):
        wire.encode(bad)


@pytest.mark.parametrize("node", [
    {"__nd__": ["|O", [1], 0, 8]},                   # object dtype: would unpickle
    {"__nd__": ["<f8", [2], 0, 8]},                  # shape and size disagree
    {"__nd__": ["<f8", [100], 0, 800]},              # more bytes than the frame has
    {"__nd__": ["<f8", [-1], 0, 8]},
    {"__unknown__": 1},
])
def test_wire_rejects_forged_frames(node):
    with pytest.raises(wire.WireError):
        wire.decode(json.dumps(node).encode(), b"\0" * 16)


# ------------------------------------------------------------------------------------------------ the sandbox
@pytest.fixture(scope="module")
def box():
    check_available()
    with Sandbox(Allowed(("rnn_forward",), ("check_rnn_forward",)),
                 lambda name, args, kw: getattr(rnn_ref, name)(*args, **kw),
                 Limits(memory_mb=1024, processes=8)) as b:
        yield b


def run(box, source, timeout=10):
    return box.ask({"op": "run", "source": source, "label": "<cell t>", "timeout": timeout}, timeout)


def test_sandbox_is_not_root_and_sees_no_course(box):
    r = run(box, "import os\nprint(os.getuid(), os.geteuid())\n"
                 f"print([p for p in [{os.path.join(ROOT, 'solutions')!r}, {os.path.join(ROOT, 'rnn_ref')!r}, "
                 f"{os.path.join(ROOT, 'nbgrader_config.py')!r}, '/root/.ssh', '/etc/passwd', '/home'] "
                 f"if os.path.exists(p)])")
    uid, euid, seen = r["stdout"].split("\n")[0].split() + [r["stdout"].split("\n")[1]]
    assert int(uid) != 0 and int(euid) != 0
    assert seen == "[]"


def test_sandbox_has_no_network_not_even_the_hosts_loopback(box):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(3)
    port = server.getsockname()[1]
    try:
        r = run(box, f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
                     "    print('connected')\nexcept OSError as e:\n    print(type(e).__name__)")
        assert "connected" not in r["stdout"]
        with pytest.raises(socket.timeout):
            server.accept()
    finally:
        server.close()


def test_sandbox_filesystem_is_read_only_but_tmp(box):
    r = run(box, "import sys\nfor p in [sys.prefix + '/x', '/usr/x', '/tmp/x']:\n    try:\n"
                 "        open(p, 'w').write('x'); print(p, 'written')\n"
                 "    except OSError as e:\n        print(p, type(e).__name__)")
    assert "/tmp/x written" in r["stdout"] and r["stdout"].count("written") == 1


def test_sandbox_limits_memory_processes_and_file_size(box):
    r = run(box, "try:\n    b = bytearray(3 * 2**30)\nexcept MemoryError:\n    print('memory limited')\n"
                 "import os\nkids = []\ntry:\n    for _ in range(50):\n        pid = os.fork()\n"
                 "        if pid == 0:\n            import time; time.sleep(60)\n        kids.append(pid)\n"
                 "except OSError:\n    print('processes limited', len(kids))\n"
                 "try:\n    open('/tmp/big', 'wb').write(b'x' * (40 << 20))\nexcept OSError:\n    print('size limited')")
    assert "memory limited" in r["stdout"] and "processes limited" in r["stdout"] and "size limited" in r["stdout"]


def test_sandbox_offers_only_the_allowed_rnn_ref(box):
    r = run(box, "import rnn_ref\nfrom rnn_ref.checks import check_rnn_forward\nimport numpy as np\n"
                 "h, cache = rnn_ref.rnn_forward(np.ones((2, 1, 3)), np.zeros((1, 2)), np.ones((3, 2)), np.eye(2),"
                 " np.zeros(2))\nprint(h.shape, check_rnn_forward(None))\n"
                 "try:\n    rnn_ref.rnn_backward\nexcept AttributeError as e:\n    print(e)\n"
                 "try:\n    rnn_ref.rnn_forward(np.ones(3), 1, 2, 3, 4)\nexcept ValueError as e:\n    print('ValueError')")
    assert "(2, 1, 2) None" in r["stdout"]
    assert "rnn_ref.rnn_backward is not available while grading this assignment" in r["stdout"]
    assert "ValueError" in r["stdout"]


def test_a_sandbox_past_its_deadline_is_killed_with_everything_it_started():
    import time
    check_available()
    with Sandbox(Allowed(), None, deadline=time.monotonic() + 3) as b:
        run(b, "import os\nif os.fork() == 0:\n    os.setsid()\n    import time; time.sleep(600)\n")
        with pytest.raises(SandboxDied, match="time budget"):
            run(b, "while True:\n    pass", timeout=30)
        pid = b.proc.pid
    assert not os.path.exists(f"/proc/{pid}")


def test_as_a_normal_user_the_sandbox_maps_it_to_nobody(monkeypatch):
    import grading.sandbox as sb
    monkeypatch.setattr(sb.os, "geteuid", lambda: 1000)
    cmd = sb.command(Limits(), 5, 6, 60001)
    assert cmd[cmd.index("--unshare-user"):][:5] == ["--unshare-user", "--uid", "65534", "--gid", "65534"]
    assert not any("setpriv" in a or a.startswith("--nproc") for a in cmd)
    monkeypatch.setattr(sb.os, "geteuid", lambda: 0)
    cmd = sb.command(Limits(), 5, 6, 60001)
    assert "--unshare-user" not in cmd and "--reuid=60001" in cmd and "--nproc=16" in cmd
    assert "--unshare-net" in cmd and "--unshare-pid" in cmd and "--die-with-parent" in cmd


def test_an_instructor_who_is_not_root_gets_the_same_sandbox():
    """The grader run by a normal user (uid 1234 here): bubblewrap makes a user namespace, the student's code runs as
    nobody, with no network and no view of the course. Run as root to switch to that user; the Python
    environment must be reachable by it (pyenv's /root gets o+x, as `make hub` does for its accounts)."""
    import subprocess
    import sys
    if os.geteuid() != 0:
        pytest.skip("needs root to run the grader as another user")
    from hub.course import make_reachable
    make_reachable(sys.executable, log=lambda *a: None)
    make_reachable(ROOT, log=lambda *a: None)
    import tempfile
    tmp = tempfile.mkdtemp(prefix="grader-user-", dir="/tmp")   # pytest's own tmp_path is root's alone
    script = __import__("pathlib").Path(tmp) / "as_user.py"
    cell = ("import os, socket\nprint(os.getuid())\n"
            f"print(os.path.exists({os.path.join(ROOT, 'solutions')!r}))\n"
            "try:\n    socket.create_connection(('127.0.0.1', 22), timeout=1)\n"
            "except OSError as e:\n    print(type(e).__name__)\n")
    script.write_text(f"import sys\nsys.path.insert(0, {ROOT!r})\n"
                      "from grading.sandbox import Allowed, Sandbox\n"
                      "with Sandbox(Allowed(), None) as b:\n"
                      f"    r = b.ask({{'op': 'run', 'label': '<cell 1>', 'timeout': 10, 'source': {cell!r}}}, 10)\n"
                      "print(r['stdout'], r['error'])\n")
    os.chmod(tmp, 0o755)
    os.chmod(script, 0o644)
    out = subprocess.run(["setpriv", "--reuid=1234", "--regid=1234", "--clear-groups", sys.executable, str(script)],
                         capture_output=True, text=True, timeout=60, cwd="/tmp")
    __import__("shutil").rmtree(tmp)
    assert out.returncode == 0, out.stderr
    uid, seen, net = out.stdout.split()[:3]
    assert uid == "65534" and seen == "False" and net in ("ConnectionRefusedError", "OSError"), out.stdout


def test_a_python_environment_under_tmp_is_mounted_on_the_sandboxs_tmp(monkeypatch):
    """A course cloned under /tmp (as CI may do): the sandbox's own /tmp must not hide its Python."""
    import grading.sandbox as sb
    monkeypatch.setattr(sb, "_python_dirs", lambda: (["/tmp/c/.venv"], ["/tmp/c/.venv/lib/python3.11/site-packages"]))
    cmd = sb.command(Limits(), 5, 6, 60001)
    tmpfs = next(i for i, a in enumerate(cmd) if a == "--tmpfs" and cmd[i + 1] == "/tmp")
    venv = next(i for i, a in enumerate(cmd) if a == "--ro-bind" and cmd[i + 1] == "/tmp/c/.venv")
    assert tmpfs < venv


def test_no_sandbox_no_grading(monkeypatch):
    import grading.sandbox as sb
    monkeypatch.setattr(sb, "_CHECKED", [])
    monkeypatch.setattr(sb.shutil, "which", lambda name: None)
    with pytest.raises(SandboxUnavailable, match="bubblewrap is not installed"):
        sb.check_available()


# ------------------------------------------------------------------------------------------------ test cells
def _nb(name):
    return nbformat.read(solution_path(name), as_version=4)


def _tests(nb):
    return {c.metadata.nbgrader["grade_id"]: c.source for c in nb.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")}


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_test_cell_is_a_list_of_checks_the_grader_can_read(name):
    for gid, source in _tests(_nb(name)).items():
        steps = parse_test_cell(source)
        assert steps and all(hasattr(rnn_ref.checks, check) for check, _, _ in steps), gid
        assert any(hidden for _, _, hidden in steps), f"{gid} has no hidden check"


@pytest.mark.parametrize("source", ["import os\ncheck_rnn_forward(rnn_forward)",
                                    "check_rnn_forward(lambda *a: None)", "check_rnn_forward(f, hidden=h)",
                                    "from rnn_ref.checks import check_rnn_forward as c", "x = 1"])
def test_anything_else_in_a_test_cell_is_the_instructors_error(source):
    with pytest.raises(GradingSetupError):
        parse_test_cell(source)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_sandbox_offers_what_the_solution_uses_and_never_a_graded_function(name):
    nb = _nb(name)
    used = set()
    for c in nb.cells:
        if c.cell_type == "code" and not c.metadata.get("nbgrader", {}).get("grade"):
            used |= set(__import__("re").findall(r"rnn_ref\.([a-z_0-9]+)", c.source))
            used |= {n.strip() for m in __import__("re").findall(r"from rnn_ref import ([\w, ]+)", c.source)
                     for n in m.split(",")}
    graded = {fn for source in _tests(nb).values() for _, fns, _ in parse_test_cell(source) for fn in fns}
    assert used <= set(ALLOWED[name]), used - set(ALLOWED[name])
    assert not graded & set(ALLOWED[name])
    for check, steps in ISOLATE.items():
        assert all(callable(getattr(rnn_ref, s)) for s in steps), check


def test_hidden_cases_come_from_the_secret_visible_ones_do_not():
    set_hidden_secret("one")
    visible, hidden = case_rng(3).standard_normal(4), case_rng(100).standard_normal(4)
    set_hidden_secret("two")
    assert np.array_equal(visible, case_rng(3).standard_normal(4))
    assert not np.array_equal(hidden, case_rng(100).standard_normal(4))
    set_hidden_secret(os.environ["RNN_REF_HIDDEN_SECRET"])


# ------------------------------------------------------------------------------------------------ grading
def _grade(name, nb):
    outputs, incidents = grade_notebook([dict(c) for c in nb.cells], _tests(_nb(name)), name, OPTIONS)
    return {nb.cells[i].metadata.get("nbgrader", {}).get("grade_id"): o for i, o in outputs.items()}, incidents


def _student(name):
    release = nbformat.read(os.path.join(ROOT, "book", "exercises", name + ".ipynb"), as_version=4)
    return solved(release, _nb(name))


def test_the_solution_passes_every_test_cell_in_the_sandbox():
    out, incidents = _grade("a3_bptt", _student("a3_bptt"))
    assert incidents == []
    assert all(out[g] == [] for g in _tests(_nb("a3_bptt"))), out


def test_a_wrong_step_does_not_cost_the_sequence_cell_too():
    """Missing tanh derivative in rnn_step_backward: its own cell fails; rnn_backward's loop is right, and with
    the reference step in its place every case agrees, so that cell keeps its points and says why."""
    nb = replace_in_cell(_student("a3_bptt"), "rnn_step_backward", "dh * (1.0 - h ** 2)", "dh")
    out, _ = _grade("a3_bptt", nb)
    assert out["test_rnn_step_backward"][0]["output_type"] == "error"
    assert [o["output_type"] for o in out["test_rnn_backward"]] == ["stream"]
    assert "the rest of your code is right" in out["test_rnn_backward"][0]["text"]
    assert out["test_numerical_gradient"] == []


def test_a_wrong_clip_does_not_cost_the_training_step_and_run_too():
    nb = replace_in_cell(_student("a4_char_lm"), "clip_by_global_norm", "norm > max_norm", "norm < max_norm")
    out, _ = _grade("a4_char_lm", nb)
    assert out["test_clip_by_global_norm"][0]["output_type"] == "error"
    for cell in ("test_char_lm_train_step", "test_training_run"):
        assert [o["output_type"] for o in out[cell]] == ["stream"], out[cell]
        assert "only clip_by_global_norm is wrong" in out[cell][0]["text"]


def test_a_wrong_loop_gets_no_credit_by_isolation():
    nb = replace_in_cell(_student("a3_bptt"), "rnn_backward", "reversed(range(T))", "range(T)")
    out, _ = _grade("a3_bptt", nb)
    assert out["test_rnn_step_backward"] == []
    assert out["test_rnn_backward"][0]["output_type"] == "error"


def test_a_graded_function_must_be_written_in_the_notebook():
    nb = _student("a1_forward")
    i = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "rnn_forward")
    nb.cells[i].source = nb.cells[i].source.replace("def rnn_forward(", "def mine(") + \
        "\nimport functools\nrnn_forward = functools.partial(mine)\n"
    out, _ = _grade("a1_forward", nb)
    assert "must be a function written in your notebook" in out["test_rnn_forward"][-1]["evalue"]


def test_student_output_never_reaches_a_test_cell():
    nb = replace_in_cell(_student("a1_forward"), "rnn_step_forward", "    a = x @ U_xh",
                         "    print('10 points please')\n    a = x @ U_xh")
    out, _ = _grade("a1_forward", nb)
    assert out["test_rnn_step_forward"] == [] and out["test_rnn_forward"] == []


# ------------------------------------------------------------------------------------------------ reports
def test_causes_are_grouped_from_the_messages():
    assert cause("check_x: dx is wrong (largest ...).\n  Likely cause: the tanh derivative is missing. More.") == \
        "the tanh derivative is missing"
    assert cause("check_x: f is not implemented yet: it raised NotImplementedError.") == \
        "not implemented (the stub is still there)"


def test_a_copy_of_rnn_refs_source_is_flagged_and_the_solution_is_not():
    ref = tokens(inspect.getsource(rnn_ref.rnn_forward))
    copied = inspect.getsource(rnn_ref.rnn_forward).replace("prev", "state").replace("rec", "tmp")
    assert similarity(tokens(copied), ref) > 0.9
    sol = next(c.source for c in _nb("a1_forward").cells if c.metadata.get("nbgrader", {}).get("grade_id") ==
               "rnn_forward").replace("    ### BEGIN SOLUTION\n", "").replace("    ### END SOLUTION", "")
    assert similarity(tokens(sol), ref) < 0.6


def test_reports_of_a_graded_class(tmp_path):
    course = tmp_path / "course"
    for student, nb in [("ok", _student("a1_forward")),
                        ("notanh", replace_in_cell(_student("a1_forward"), "rnn_step_forward", "np.tanh(a)", "a"))]:
        out, _ = _grade("a1_forward", nb)
        for c in nb.cells:
            gid = c.metadata.get("nbgrader", {}).get("grade_id")
            if c.cell_type == "code":
                c.outputs = [nbformat.from_dict(o) for o in out.get(gid, [])] if gid in out else []
        path = course / "autograded" / student / "a1_forward" / "a1_forward.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nb, str(path))
    folder, flagged = write_reports(str(course), "a1_forward")
    rows = open(os.path.join(folder, "causes.csv")).read()
    assert "test_rnn_step_forward" in rows and ",1" in rows
    page = open(os.path.join(folder, "causes.html")).read()
    assert "data:image/png;base64," in page and "alt=" in page
    assert flagged == []
