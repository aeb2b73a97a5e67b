"""grading.names.fix_notebook_names: a submission's single notebook is graded whatever its name; several
candidates are resolved by the documented rule, and every rename is logged with the student and both names."""
import logging
import os

import pytest

from grading.names import fix_notebook_names


@pytest.fixture
def sub(tmp_path):
    d = tmp_path / "submitted" / "alice" / "a3_bptt"
    d.mkdir(parents=True)
    return d


def touch(d, name, mtime=None, text="{}"):
    p = d / name
    p.write_text(text)
    if mtime is not None:
        os.utime(p, (mtime, mtime))
    return p


def log_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("name", ["a3_bptt (1).ipynb", "a3_bptt_final.ipynb", "homework.ipynb"])
def test_the_single_notebook_is_renamed_and_logged(sub, name, caplog):
    touch(sub, name, text="mine")
    log = logging.getLogger("test.names")
    with caplog.at_level(logging.WARNING, logger="test.names"):
        renamed = fix_notebook_names(str(sub), ["a3_bptt"], log)
    assert renamed == {name: "a3_bptt.ipynb"}
    assert sorted(os.listdir(sub)) == ["a3_bptt.ipynb"]
    assert (sub / "a3_bptt.ipynb").read_text() == "mine"
    [line] = log_lines(caplog)
    assert "'alice'" in line and "a3_bptt" in line and repr(name) in line and "a3_bptt.ipynb" in line


def test_nothing_to_do_is_silent(sub, caplog):
    touch(sub, "a3_bptt.ipynb")
    touch(sub, "notes.txt")
    empty = sub.parent.parent / "bob" / "a3_bptt"
    empty.mkdir(parents=True)
    with caplog.at_level(logging.DEBUG):
        assert fix_notebook_names(str(sub), ["a3_bptt"], logging.getLogger("t")) == {}
        assert fix_notebook_names(str(empty), ["a3_bptt"], logging.getLogger("t")) == {}
        assert fix_notebook_names(str(sub.parent / "missing"), ["a3_bptt"], logging.getLogger("t")) == {}
    assert caplog.records == []
    assert sorted(os.listdir(sub)) == ["a3_bptt.ipynb", "notes.txt"]


def test_the_expected_name_wins_over_other_notebooks(sub):
    touch(sub, "a3_bptt.ipynb", mtime=1000, text="right")
    touch(sub, "a3_bptt (1).ipynb", mtime=2000)
    assert fix_notebook_names(str(sub), ["a3_bptt"], logging.getLogger("t")) == {}
    assert (sub / "a3_bptt.ipynb").read_text() == "right"


def test_several_candidates_prefer_the_assignment_name_then_the_newest(sub, caplog):
    touch(sub, "scratch.ipynb", mtime=3000)                 # newest, but not named after the assignment
    touch(sub, "a3_bptt (1).ipynb", mtime=1000)
    touch(sub, "a3_bptt (2).ipynb", mtime=2000, text="newest")
    touch(sub, ".ipynb_checkpoints.ipynb", mtime=4000)      # hidden: never a candidate
    with caplog.at_level(logging.WARNING):
        renamed = fix_notebook_names(str(sub), ["a3_bptt"], logging.getLogger("t"))
    assert renamed == {"a3_bptt (2).ipynb": "a3_bptt.ipynb"}
    assert (sub / "a3_bptt.ipynb").read_text() == "newest"
    [line] = log_lines(caplog)
    assert "'scratch.ipynb'" in line and "'a3_bptt (1).ipynb'" in line and "not graded" in line


def test_several_unrelated_names_take_the_newest_ties_by_name(sub):
    touch(sub, "b.ipynb", mtime=1000)
    touch(sub, "a.ipynb", mtime=2000, text="newest")
    assert fix_notebook_names(str(sub), ["a3_bptt"], logging.getLogger("t")) == {"a.ipynb": "a3_bptt.ipynb"}
    sub2 = sub.parent.parent / "carol" / "a3_bptt"
    sub2.mkdir(parents=True)
    touch(sub2, "x (1).ipynb", mtime=1000)
    touch(sub2, "x (2).ipynb", mtime=1000, text="later name")
    fix_notebook_names(str(sub2), ["a3_bptt"], logging.getLogger("t"))
    assert (sub2 / "a3_bptt.ipynb").read_text() == "later name"


def test_expected_names_must_be_a_list(sub):
    with pytest.raises(ValueError, match="expected"):
        fix_notebook_names(str(sub), "a3_bptt", logging.getLogger("t"))
