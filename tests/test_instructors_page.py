"""Every shell command of book/exercises/instructors.md runs as written, in page order, in a temporary course
(a copy of nbgrader_config.py, the solutions, a private exchange), with made-up submissions placed where the
page says they come from. Commands that need a person or a browser are listed in SKIPPED, with the reason; the
section on the course hub is tested by tests/test_hub.py, which runs its commands on a real hub.
Select with -m pagecommands (about a minute)."""
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile

import nbformat
import pytest

from grading_helpers import ROOT, solution_path, solved

PAGE = os.path.join(ROOT, "book", "exercises", "instructors.md")
SKIPPED = {
    ". .venv/bin/activate": "the test already runs in the course's virtual environment",
    "make student-versions": "rewrites the repository's book/exercises (its --check twin below runs)",
    "jupyter lab": "interactive (the formgrader is a browser UI)",
    "nbgrader release_feedback a1_forward": "needs submissions that students made through the exchange (nbgrader "
                                            "submit on a hub); without a hub the page says to send the HTML files",
}
IN_REPOSITORY = ("python scripts/release_exercises.py",)     # read-only commands about the repository itself


HUB_SECTION = "## Running a term on a hub"   # its commands start and drive a hub: tests/test_hub.py runs them


def page_commands():
    text = open(PAGE, encoding="utf-8").read()
    head, _, rest = text.partition(HUB_SECTION)
    text = head + ("\n## " + rest.split("\n## ", 1)[1] if "\n## " in rest else "")
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            cmd = re.split(r"\s+#\s", line, maxsplit=1)[0].strip()
            if cmd and not cmd.startswith("#"):
                commands.append(cmd)
    return commands


def test_the_page_has_the_commands_of_each_step():
    cmds = page_commands()
    for needle in ("nbgrader generate_assignment", "nbgrader release_assignment", "nbgrader collect",
                   "nbgrader zip_collect", "nbgrader autograde", "nbgrader generate_feedback", "nbgrader export",
                   "python -m grading.late stamp", "python -m grading.key"):
        assert any(c.startswith(needle) for c in cmds), needle
    assert "grades-a1.csv" in " ".join(cmds)
    for name in ("grades.csv", "grades-a1.csv"):
        assert subprocess.run(["git", "check-ignore", "-q", name], cwd=ROOT).returncode == 0, name


@pytest.mark.pagecommands
def test_every_command_on_the_page_runs(tmp_path):
    course = tmp_path / "course"
    exchange = tmp_path / "exchange"
    course.mkdir()
    exchange.mkdir()
    shutil.copy(os.path.join(ROOT, "nbgrader_config.py"), course)
    with open(course / "nbgrader_config.py", "a") as f:
        f.write(f"\nc.Exchange.root = {str(exchange)!r}\n")
    os.symlink(os.path.join(ROOT, "solutions"), course / "solutions")
    os.symlink(os.path.join(ROOT, "_static"), course / "_static")
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
               PYTHONPATH=ROOT)

    def place_submissions():
        release = nbformat.read(str(course / "release" / "a1_forward" / "a1_forward.ipynb"), as_version=4)
        full = solved(release, nbformat.read(solution_path("a1_forward"), as_version=4))
        for student, nb, name in [("alice", full, "a1_forward (1).ipynb"), ("bob", release, "a1_forward.ipynb")]:
            folder = course / "submitted" / student / "a1_forward"
            folder.mkdir(parents=True)
            nbformat.write(nb, str(folder / name))
        archive = course / "downloaded" / "a1_forward" / "archive"
        archive.mkdir(parents=True)
        with zipfile.ZipFile(archive / "moodle.zip", "w") as z:
            z.writestr("Carla Diaz_104251_assignsubmission_file_/a1_forward.ipynb", nbformat.writes(full))

    ran, log = [], []
    for cmd in page_commands():
        if cmd in SKIPPED:
            continue
        if cmd.startswith("python -m grading.late stamp") and not (course / "submitted").exists():
            place_submissions()
        cwd = ROOT if cmd.startswith(IN_REPOSITORY) else course
        args = [sys.executable if a == "python" else a for a in shlex.split(cmd)]
        proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
        log.append(f"$ {cmd}\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}")
        assert proc.returncode == 0, "\n".join(log[-1:])
        ran.append(cmd)
        out = proc.stdout + proc.stderr
        assert "SAWarning" not in out and "without encryption" not in out, log[-1]

    assert len(ran) >= 14
    assert (course / "release" / "a1_forward" / "a1_forward.ipynb").exists()
    assert (exchange / "rnn-course" / "outbound" / "a1_forward" / "a1_forward.ipynb").exists()
    for student in ("alice", "bob", "carla_diaz"):
        assert (course / "autograded" / student / "a1_forward" / "a1_forward.ipynb").exists(), student
        assert (course / "feedback" / student / "a1_forward" / "a1_forward.html").exists(), student
    rows = (course / "grades-a1.csv").read_text().splitlines()
    assert rows[0].endswith("submitted,hours_late,days_late") and len(rows) == 4
    assert (course / "keys" / "a3_bptt.html").exists()
