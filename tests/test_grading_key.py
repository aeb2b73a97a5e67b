"""The grader's key (python -m grading.key): one page per assignment with every graded cell, its points, the
model solution, and the written questions' rubrics; kept out of git and out of the book."""
import os
import re
import subprocess
import sys

import nbformat
import yaml

from grading.key import graded_items
from grading_helpers import ASSIGNMENTS, ROOT, solution_path


def test_every_key_lists_each_graded_cell_points_rubric_and_totals(tmp_path):
    out = subprocess.run([sys.executable, "-m", "grading.key", "--out", str(tmp_path)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert sorted(os.listdir(tmp_path)) == sorted(a + ".html" for a in ASSIGNMENTS)
    for name in ASSIGNMENTS:
        page = (tmp_path / f"{name}.html").read_text()
        nb = nbformat.read(solution_path(name), as_version=4)
        graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
        assert len(graded_items(nb)) == len(graded) > 0
        total = sum(c.metadata.nbgrader["points"] for c in graded)
        assert f"<tr><th colspan=\"2\">Total</th><th>{total:g}</th></tr>" in page
        for c in graded:
            gid, pts = c.metadata.nbgrader["grade_id"], c.metadata.nbgrader["points"]
            assert f"<code>{gid}</code></a></td>" in page and f"<code>{gid}</code> ({pts:g} point" in page
            if c.cell_type == "markdown":
                assert "Rubric" in c.source and "Rubric" in page
        assert "### BEGIN SOLUTION" not in page
        assert "check_" in page and "hidden=True" in page       # the test cells, hidden tests included
        assert not re.search(r"<script[^>]+src=", page)         # self-contained


def test_keys_are_kept_out_of_git_and_out_of_the_book():
    ignored = subprocess.run(["git", "check-ignore", "-q", "keys/a1_forward.html"], cwd=ROOT)
    assert ignored.returncode == 0
    config = yaml.safe_load(open(os.path.join(ROOT, "_config.yml")))
    assert "keys/**" in config["exclude_patterns"]
    toc = open(os.path.join(ROOT, "_toc.yml")).read()
    assert "keys/" not in toc and "grading/" not in toc


def test_unknown_assignment_is_refused():
    out = subprocess.run([sys.executable, "-m", "grading.key", "a9_nope"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and "unknown assignment" in out.stderr and "a1_forward" in out.stderr
