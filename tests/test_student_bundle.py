"""The student bundle (_ext/student_bundle.py, built with the book): its contents, one Python floor stated the
same everywhere, and a fresh virtual environment outside the repository, made with the floor's Python from the
bundle's wheel and pip's registry alone, that runs a solved notebook to passing checks."""
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

import nbformat
import pytest

from grading_helpers import ASSIGNMENTS, ROOT, solution_path, solved

_spec = importlib.util.spec_from_file_location("student_bundle", os.path.join(ROOT, "_ext", "student_bundle.py"))
student_bundle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(student_bundle)

BASE = "https://example.org/rnn/"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle")
    path = student_bundle.build_bundle(ROOT, out, BASE)
    unpacked = out / "unpacked"
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        z.extractall(unpacked)
    return names, unpacked / student_bundle.BUNDLE


def test_bundle_holds_the_notebooks_the_wheel_and_a_readme(bundle):
    names, folder = bundle
    prefix = student_bundle.BUNDLE + "/"
    assert all(n.startswith(prefix) for n in names)
    files = sorted(n[len(prefix):] for n in names)
    wheels = [f for f in files if f.endswith(".whl")]
    assert len(wheels) == 1 and re.fullmatch(r"rnn_ref-[\w.]+-py3-none-any\.whl", wheels[0])
    assert sorted(f for f in files if f.endswith(".ipynb")) == sorted(a + ".ipynb" for a in ASSIGNMENTS)
    assert "README.md" in files
    readme = (folder / "README.md").read_text()
    assert f"pip install {wheels[0]} jupyterlab" in readme and BASE in readme
    with zipfile.ZipFile(folder / wheels[0]) as w:
        packages = {n.split("/")[0] for n in w.namelist() if not n.split("/")[0].endswith(".dist-info")}
    assert packages == {"rnn_ref"}                  # the student's wheel carries no instructor tooling
    for a in ASSIGNMENTS:                           # the committed student versions, byte for byte
        assert (folder / f"{a}.ipynb").read_bytes() == open(os.path.join(ROOT, "book", "exercises", f"{a}.ipynb"), "rb").read()


def test_chapter_links_in_student_notebooks_point_to_the_published_book():
    from grading.links import published_base_url
    base = published_base_url()
    for a in ASSIGNMENTS:
        nb = nbformat.read(os.path.join(ROOT, "book", "exercises", f"{a}.ipynb"), as_version=4)
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert not re.search(r"\]\((?:\.\./)+[^)]*\.md", text), f"{a}: a relative chapter link is left"
        assert re.search(r"Read first: \[[^\]]+\]\(" + re.escape(base) + r"book/\d\d_\w+\.html\)", text), a
        for target in re.findall(re.escape(base) + r"book/(\w+)\.html", text):
            assert os.path.exists(os.path.join(ROOT, "book", target + ".md")), f"{a}: no chapter {target}"


def test_one_python_floor_everywhere(bundle):
    floor = student_bundle.python_floor(__import__("pathlib").Path(ROOT))
    stated = f"Python {floor} or newer"
    assert stated in open(os.path.join(ROOT, "README.md")).read()
    assert stated in open(os.path.join(ROOT, "book", "exercises", "index.md")).read()
    assert f"Python {floor} or newer" in (bundle[1] / "README.md").read_text()
    assert f"Python {floor}" in open(os.path.join(ROOT, "requirements.txt")).read()
    assert sys.version_info[:2] >= tuple(map(int, floor.split("."))), "the course's own venv is below the floor"


@pytest.mark.venv
def test_fresh_venv_from_the_bundle_runs_a_solved_notebook(bundle, tmp_path):
    """What a student does, outside the repository, with the oldest Python the course supports."""
    _, folder = bundle
    floor = student_bundle.python_floor(__import__("pathlib").Path(ROOT))
    python = shutil.which(f"python{floor}")
    assert python, f"python{floor} (the course's Python floor) is not installed on this machine"
    work = tmp_path / "student"
    shutil.copytree(folder, work)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    subprocess.run([python, "-m", "venv", str(work / ".venv")], check=True, cwd=work, env=env, timeout=120)
    vpy = str(work / ".venv" / "bin" / "python")
    [wheel] = [f for f in os.listdir(work) if f.endswith(".whl")]
    # The install line minus JupyterLab's web UI: nbclient and ipykernel execute the notebook as Jupyter would.
    pip = subprocess.run([vpy, "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel, "nbclient",
                          "ipykernel"], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stdout + pip.stderr

    release = nbformat.read(str(work / "a1_forward.ipynb"), as_version=4)
    nbformat.write(solved(release, nbformat.read(solution_path("a1_forward"), as_version=4)),
                   str(work / "a1_forward.ipynb"))
    runner = (
        "import json, os, sys, tempfile, nbformat, rnn_ref\n"
        "from nbclient import NotebookClient\n"
        "from jupyter_client.manager import KernelManager\n"
        "nb = nbformat.read('a1_forward.ipynb', as_version=4)\n"
        "ipc = tempfile.mkdtemp(prefix='rnnk-', dir='/tmp')\n"
        "km = KernelManager(kernel_name='python3', transport='ipc', ip=os.path.join(ipc, 'k'))\n"
        "NotebookClient(nb, km=km, timeout=120, allow_errors=True, resources={'metadata': {'path': '.'}}).execute()\n"
        "errors = [(c.metadata.get('nbgrader', {}).get('grade_id'), o.get('ename'), o.get('evalue', '')[:300])\n"
        "          for c in nb.cells if c.cell_type == 'code' for o in c.outputs if o.output_type == 'error']\n"
        "tests = [c.metadata['nbgrader']['grade_id'] for c in nb.cells if c.metadata.get('nbgrader', {}).get('grade')\n"
        "         and c.cell_type == 'code']\n"
        "print(json.dumps({'rnn_ref': rnn_ref.__file__, 'errors': errors, 'tests': tests}))\n")
    run = subprocess.run([vpy, "-c", runner], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["rnn_ref"].startswith(str(work / ".venv")), result["rnn_ref"]   # the wheel, not the checkout
    assert result["tests"] == ["test_rnn_step_forward", "test_rnn_forward"]
    assert result["errors"] == []


@pytest.mark.venv
def test_pins_resolve_on_the_python_floor_and_not_below(tmp_path):
    """requirements.txt (less `-e .`) resolves for the floor's Python, and not for the version below it: the floor
    stated everywhere is the real one. A dry run against pip's registry (about 40 s)."""
    floor = student_bundle.python_floor(__import__("pathlib").Path(ROOT))
    major, minor = map(int, floor.split("."))
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("".join(line for line in open(os.path.join(ROOT, "requirements.txt"))
                            if not line.startswith("-e")))

    def resolve(version):
        return subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
                               "--only-binary=:all:", "--python-version", version, "--target", str(tmp_path / version),
                               "-q", "-r", str(reqs)], capture_output=True, text=True, timeout=600)
    on_floor = resolve(floor)
    assert on_floor.returncode == 0, on_floor.stderr[-3000:]
    below = resolve(f"{major}.{minor - 1}")
    assert below.returncode != 0 and "Requires-Python" in below.stderr
