"""`nbgrader zip_collect` with the course's collector (grading/collect.py) on made-up archives in the layouts of
Moodle's and Canvas's "download all submissions", run as the instructors' page says, in a temporary course."""
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from grading.collect import student_id_from_name
from grading_helpers import ROOT


def test_student_ids_from_names():
    assert student_id_from_name("Ana María López") == "ana_maria_lopez"
    assert student_id_from_name("smithbob") == "smithbob"
    assert student_id_from_name("O'Neil,  Seán") == "o_neil_sean"
    with pytest.raises(ValueError, match="name"):
        student_id_from_name("李")


def make_course(tmp_path):
    """A course directory with the repository's configuration and a1_forward's release."""
    root = tmp_path / "course"
    (root / "release" / "a1_forward").mkdir(parents=True)
    shutil.copy(os.path.join(ROOT, "nbgrader_config.py"), root)
    os.symlink(os.path.join(ROOT, "solutions"), root / "solutions")
    shutil.copy(os.path.join(ROOT, "book", "exercises", "a1_forward.ipynb"), root / "release" / "a1_forward")
    return root


def zip_collect(root):
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    return subprocess.run(["nbgrader", "zip_collect", "a1_forward"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=120)


NB = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5, "who": "%s"}'


@pytest.mark.grading
def test_moodle_and_canvas_archives(tmp_path):
    root = make_course(tmp_path)
    archive = root / "downloaded" / "a1_forward" / "archive"
    archive.mkdir(parents=True)
    with zipfile.ZipFile(archive / "RNN-A1 Forward-12345.zip", "w") as z:      # Moodle, one folder per submission
        z.writestr("Ana María López_104233_assignsubmission_file_/a1_forward.ipynb", NB % "ana")
        z.writestr("Bob Smith_104240_assignsubmission_file_/a1_forward (1).ipynb", NB % "bob")
        z.writestr("Bob Smith_104240_assignsubmission_file_/notes.txt", "not a notebook")
        z.writestr("Carla Diaz_104251_assignsubmission_onlinetext_/onlinetext.html", "<p>hi</p>")
    with zipfile.ZipFile(archive / "moodle-flat.zip", "w") as z:                # Moodle, folders option off
        z.writestr("Dan Wu_104260_assignsubmission_file_a1_forward.ipynb", NB % "dan")
    with zipfile.ZipFile(archive / "submissions.zip", "w") as z:                # Canvas
        z.writestr("smithbobby_340934_208490284_a1_forward.ipynb", NB % "bobby")
        z.writestr("lopezeva_LATE_340977_208490301_a1_forward-1.ipynb", NB % "eva")
        z.writestr("wuhan_340990_208490333_a1_forward.py", "print('not a notebook')")
        z.writestr("stray file.ipynb", NB % "nobody")

    out = zip_collect(root)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log
    got = {}
    for student in sorted(os.listdir(root / "submitted")):
        folder = root / "submitted" / student / "a1_forward"
        got[student] = sorted(os.listdir(folder))
        for f in got[student]:
            assert (folder / f).read_text() == NB % {"ana_maria_lopez": "ana", "bob_smith": "bob", "dan_wu": "dan",
                                                        "smithbobby": "bobby", "lopezeva": "eva"}[student]
    assert got == {"ana_maria_lopez": ["a1_forward.ipynb"], "bob_smith": ["a1_forward (1).ipynb"],
                   "dan_wu": ["a1_forward.ipynb"], "smithbobby": ["a1_forward.ipynb"],
                   "lopezeva": ["a1_forward-1.ipynb"]}
    assert "Canvas marks the submission of 'lopezeva' late" in log
    assert "No Moodle or Canvas file name: submissions/stray file.ipynb (skipped)" in log
    assert "Regular expression not provided" not in log


@pytest.mark.grading
def test_two_people_with_one_name_are_not_merged(tmp_path):
    root = make_course(tmp_path)
    archive = root / "downloaded" / "a1_forward" / "archive"
    archive.mkdir(parents=True)
    with zipfile.ZipFile(archive / "moodle.zip", "w") as z:
        z.writestr("Li Wei_104001_assignsubmission_file_/a1_forward.ipynb", NB % "first")
        z.writestr("Li Wei_104002_assignsubmission_file_/a1_forward.ipynb", NB % "second")
    out = zip_collect(root)
    log = out.stdout + out.stderr
    assert "Two people get the student id 'li_wei'" in log, log
    assert (root / "submitted" / "li_wei" / "a1_forward" / "a1_forward.ipynb").read_text() == NB % "first"
