"""Due dates, the late penalty, the export's late columns, timestamps for hand-placed submissions and misnamed
notebooks, through nbgrader's API in a temporary course (grading/late.py, grading/export.py, grading/hooks.py)."""
import datetime
import logging
import os
import subprocess
import sys

import nbformat
import pytest

from grading import late
from grading_helpers import ROOT, Course, read_csv, solution_path, solved

pytestmark = [pytest.mark.filterwarnings("error::sqlalchemy.exc.SAWarning"),   # the cause is removed (grading/quiet.py)
              pytest.mark.filterwarnings("ignore::nbformat.validator.MissingIDFieldWarning")]

DUE = datetime.datetime(2026, 10, 12, 23, 59, tzinfo=datetime.timezone.utc)
H = datetime.timedelta(hours=1)


def test_charged_days_and_percent():
    assert late.charged_days(0, 15) == 0
    assert late.charged_days(15 * 60, 15) == 0               # inside the grace period
    assert late.charged_days(15 * 60 + 1, 15) == 1           # past it: day 1 counts from the due date
    assert late.charged_days(86400, 15) == 1
    assert late.charged_days(86401, 15) == 2
    assert late.penalty_percent(3 * 86400, 10, 50, 15) == 30
    assert late.penalty_percent(30 * 86400, 10, 50, 15) == 50  # the cap


def test_due_dates_file_is_read_as_utc_and_bad_entries_are_named(tmp_path):
    good = tmp_path / "due.toml"
    good.write_text("[due]\na1_forward = 2026-10-13T01:59:00+02:00\n")
    assert late.read_due_dates(good) == {"a1_forward": datetime.datetime(2026, 10, 12, 23, 59)}
    for body, needle in [("[due]\na1_forward = 2026-10-13\n", "a date and time"),
                         ("[due]\na1_forward = 2026-10-13T10:00:00\n", "no offset"),
                         ("[due]\na1_forward = 'soon'\n", "RFC 3339"),
                         ("a1_forward = 2026-10-13T10:00:00Z\n", "[due]")]:
        bad = tmp_path / "bad.toml"
        bad.write_text(body)
        with pytest.raises(ValueError, match="due.a1_forward|\\[due\\]") as e:
            late.read_due_dates(bad)
        assert needle in str(e.value)


def test_the_course_due_dates_file_lists_every_assignment():
    from grading_helpers import ASSIGNMENTS
    dates = late.read_due_dates(os.path.join(ROOT, "grading", "due_dates.toml"))
    assert sorted(dates) == sorted(ASSIGNMENTS)


@pytest.mark.grading
def test_stamp_command_writes_nbgraders_timestamp(tmp_path):
    folder = tmp_path / "submitted" / "alice" / "a1_forward"
    folder.mkdir(parents=True)
    nb = folder / "a1_forward.ipynb"
    nb.write_text("{}")
    t = DUE.timestamp() + 3600
    os.utime(nb, (t, t))
    other = tmp_path / "submitted" / "bob" / "a1_forward"
    other.mkdir(parents=True)
    (other / "a1_forward.ipynb").write_text("{}")
    (other / "timestamp.txt").write_text("2026-10-01 10:00:00.000000 UTC\n")
    run = lambda *a: subprocess.run([sys.executable, "-m", "grading.late", "stamp", "a1_forward", *a,  # noqa: E731
                                     "--root", str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    out = run()
    assert out.returncode == 0, out.stderr
    assert (folder / "timestamp.txt").read_text() == "2026-10-13 00:59:00.000000 UTC\n"   # the file's mtime
    assert (other / "timestamp.txt").read_text().startswith("2026-10-01 10:00")            # kept
    assert "kept" in out.stdout
    out = run("--student", "bob", "--at", "2026-10-14T09:30+02:00", "--force")
    assert out.returncode == 0, out.stderr
    assert (other / "timestamp.txt").read_text() == "2026-10-14 07:30:00.000000 UTC\n"
    out = run("--student", "bob", "--at", "2026-10-14 09:30")
    assert out.returncode != 0 and "offset" in out.stderr
    from nbgrader.utils import parse_utc
    assert parse_utc((folder / "timestamp.txt").read_text().strip()) == datetime.datetime(2026, 10, 13, 0, 59)


@pytest.fixture
def course(tmp_path):
    due = tmp_path / "due.toml"
    due.write_text(f"[due]\na1_forward = {DUE:%Y-%m-%dT%H:%M:%SZ}\n")
    c = Course(tmp_path / "course", **{"DueDates.path": str(due)})
    yield c
    c.close()


@pytest.mark.grading
def test_late_penalty_export_columns_and_misnamed_notebooks(course, caplog):
    """Six submissions of the full solution (10 automatic points) at different times, one hand-placed without a
    timestamp (stamped with the documented command), one saved as 'a1_forward (1).ipynb', one student with no
    submission: the penalties follow 10 % per started day after 15 minutes' grace, capped at 50 %."""
    name = "a1_forward"
    course.generate_assignment(name)
    release = nbformat.read(course.release_path(name), as_version=4)
    full = solved(release, nbformat.read(solution_path(name), as_version=4))
    times = {"on_time": DUE - H, "in_grace": DUE + datetime.timedelta(minutes=10), "one_day": DUE + 3 * H,
             "three_days": DUE + 53 * H, "capped": DUE + 20 * 24 * H, "hand_placed": None}
    for student, when in times.items():
        path = course.submit(student, name, full)
        if when is not None:
            late.write_timestamp(os.path.dirname(path), when)
    subprocess.run([sys.executable, "-m", "grading.late", "stamp", name, "--student", "hand_placed",
                    "--at", (DUE + 25 * H).isoformat(), "--root", course.root], cwd=ROOT, check=True,
                   capture_output=True)
    misnamed = course.submit("misnamed", name, full)
    os.rename(misnamed, misnamed.replace("a1_forward.ipynb", "a1_forward (1).ipynb"))
    with course.gradebook() as gb:
        gb.add_student("absent", first_name="No", last_name="Show, Jr.")

    with caplog.at_level(logging.INFO):
        result = course.autograde(name)
    assert result["success"], result.get("log", "") + result.get("error", "")
    log = result.get("log", "") + "\n".join(r.getMessage() for r in caplog.records)
    assert "student 'misnamed', a1_forward: no a1_forward.ipynb; graded the only notebook, 'a1_forward (1).ipynb'" \
        in log

    rows = {r["student_id"]: r for r in read_csv(course.export())}
    expected_pct = {"on_time": 0, "in_grace": 0, "one_day": 10, "three_days": 30, "capped": 50, "hand_placed": 20,
                    "misnamed": 0}
    for student, pct in expected_pct.items():
        row = rows[student]
        assert row["submitted"] == "yes"
        assert float(row["raw_score"]) == 10.0, (student, row)
        assert float(row["late_submission_penalty"]) == pytest.approx(10.0 * pct / 100), (student, row)
        assert float(row["score"]) == pytest.approx(10.0 * (1 - pct / 100)), (student, row)
        assert int(row["days_late"]) == (20 if student == "capped" else pct // 10), (student, row)
        assert row["duedate"] == "2026-10-12 23:59:00"
    assert float(rows["three_days"]["hours_late"]) == 53.0
    assert float(rows["on_time"]["hours_late"]) == 0.0
    assert rows["absent"]["submitted"] == "no" and rows["absent"]["score"] == "0.0"
    assert rows["absent"]["last_name"] == "Show, Jr."    # quoted, not split at the comma
    assert rows["misnamed"]["timestamp"] == ""
