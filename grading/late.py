"""Due dates and late work.

- ``grading/due_dates.toml`` holds the term's due dates (``DueDates.path`` in nbgrader_config.py points to it).
  ``sync_due_date`` copies an assignment's due date into the gradebook; the course runs it at the start of every
  ``nbgrader autograde`` (see ``grading.hooks``), so the file is the one place to edit.
- ``LatePenalty`` is nbgrader's late-submission plugin for this course: ``percent_per_day`` of the notebook's
  score for each started day past the due date plus ``grace_minutes``, at most ``max_percent``.
- ``python -m grading.late stamp <assignment> [--student ID] [--at TIME]`` writes the ``timestamp.txt`` that
  ``nbgrader collect`` would have written, for submissions placed in ``submitted/`` by hand (e-mail, a
  learning platform's archive): by default the notebook file's modification time, or the time given.

Times in the gradebook are naive UTC (nbgrader's convention); timestamp.txt holds ``YYYY-MM-DD HH:MM:SS.ffffff UTC``.
"""
import argparse
import datetime
import math
import os
import sys
import tomllib

from traitlets import Float, Unicode
from traitlets.config import Configurable

__all__ = ["DueDates", "LatePenalty", "charged_days", "penalty_percent", "read_due_dates", "sync_due_date",
           "write_timestamp", "main"]

HERE = os.path.dirname(os.path.abspath(__file__))
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"


class DueDates(Configurable):
    """Where the course's due dates are (set in nbgrader_config.py)."""

    path = Unicode(os.path.join(HERE, "due_dates.toml"),
                   help="TOML file with a [due] table: assignment = RFC 3339 date-time with offset; empty: "
                        "the gradebook's own due dates (formgrader, nbgrader db) are used").tag(config=True)


def _utc_naive(value, what):
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        raise ValueError(f"{what}: a date and time with an offset is needed (e.g. 2026-10-12T23:59:00Z), "
                         f"got the date {value}")
    if not isinstance(value, datetime.datetime):
        raise ValueError(f"{what}: expected an RFC 3339 date-time such as 2026-10-12T23:59:00Z, got {value!r}")
    if value.tzinfo is None:
        raise ValueError(f"{what}: {value} has no offset; write it as UTC (…Z) or with +hh:mm")
    return value.astimezone(datetime.timezone.utc).replace(tzinfo=None)


def read_due_dates(path):
    """{assignment: naive UTC datetime} from a due-dates TOML file (ValueError naming the entry on bad input)."""
    with open(path, "rb") as f:
        data = tomllib.load(f)
    due = data.get("due")
    if not isinstance(due, dict):
        raise ValueError(f"{path}: expected a [due] table of assignment = date-time lines")
    return {name: _utc_naive(value, f"{path}: due.{name}") for name, value in due.items()}


def sync_due_date(gradebook, assignment, path, log):
    """Set the gradebook's due date of `assignment` from the file at `path` (None if the file does not list it).
    Returns the due date set (naive UTC) or None."""
    due = read_due_dates(path).get(assignment)
    current = gradebook.find_assignment(assignment).duedate
    if current != due:
        gradebook.update_or_create_assignment(assignment, duedate=due)
        log.info("%s: due date %s UTC (from %s)", assignment, due if due else "none", os.path.relpath(path))
    return due


def charged_days(seconds_late, grace_minutes):
    """Days charged for a submission `seconds_late` past the due date: 0 within the grace period, then one per
    started day counted from the due date (1 s late after the grace period = day 1)."""
    if seconds_late <= grace_minutes * 60:
        return 0
    return math.ceil(seconds_late / 86400)


def penalty_percent(seconds_late, percent_per_day, max_percent, grace_minutes):
    return min(max_percent, percent_per_day * charged_days(seconds_late, grace_minutes))


from nbgrader.plugins import LateSubmissionPlugin  # noqa: E402


class LatePenalty(LateSubmissionPlugin):
    """A percentage of the score per started day late, with a cap and a grace period (nbgrader_config.py)."""

    percent_per_day = Float(10.0, help="percent of the notebook's score taken per started day late").tag(config=True)
    max_percent = Float(50.0, help="the penalty never exceeds this percent of the score").tag(config=True)
    grace_minutes = Float(15.0, help="a submission this many minutes late or less is on time").tag(config=True)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        pct = penalty_percent(total_seconds_late, self.percent_per_day, self.max_percent, self.grace_minutes)
        penalty = round(score * pct / 100.0, 6)
        parent = self.parent
        where = f"{getattr(parent, 'assignment_id', '?')}/{getattr(parent, 'notebook_id', '?')}"
        self.log.info("student %r, %s: %.1f h late, %d day(s) charged: penalty %g%% of %g = %g point(s)",
                      student_id, where, total_seconds_late / 3600,
                      charged_days(total_seconds_late, self.grace_minutes), pct, score, penalty)
        return penalty


# --------------------------------------------------------------------------------------------------------------
# timestamp.txt for hand-placed submissions

def write_timestamp(assignment_dir, when=None, force=False):
    """Write assignment_dir/timestamp.txt (nbgrader's format). when: an aware or naive-UTC datetime, or None for
    the newest modification time of the folder's notebooks. Returns the path, or None if one existed (no force)."""
    path = os.path.join(assignment_dir, "timestamp.txt")
    if os.path.exists(path) and not force:
        return None
    if when is None:
        notebooks = [os.path.join(assignment_dir, f) for f in os.listdir(assignment_dir) if f.endswith(".ipynb")]
        if not notebooks:
            raise ValueError(f"{assignment_dir}: no notebook to take the time from; give --at")
        when = datetime.datetime.fromtimestamp(max(os.path.getmtime(p) for p in notebooks), datetime.timezone.utc)
    elif when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    with open(path, "w") as f:
        f.write(when.astimezone(datetime.timezone.utc).strftime(TIMESTAMP_FORMAT) + "\n")
    return path


def _parse_time(text):
    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--at: expected an ISO date-time such as '2026-10-13 09:30+02:00' or "
                                         f"'2026-10-13T07:30Z', got {text!r}")
    if when.tzinfo is None:
        raise argparse.ArgumentTypeError(f"--at: {text!r} has no offset; add Z (UTC) or +hh:mm")
    return when


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m grading.late", description="Late work: timestamps and due dates.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("stamp", help="write submitted/<student>/<assignment>/timestamp.txt where it is missing")
    s.add_argument("assignment")
    s.add_argument("--student", help="only this student (default: every student with a folder for the assignment)")
    s.add_argument("--at", type=_parse_time, help="the submission time (default: the notebook file's mtime)")
    s.add_argument("--force", action="store_true", help="replace an existing timestamp.txt")
    s.add_argument("--root", default=".", help="the course directory (default: the current one)")
    d = sub.add_parser("show", help="print the due dates file, in UTC")
    d.add_argument("--file", default=DueDates().path)
    args = p.parse_args(argv)

    if args.command == "show":
        for name, due in read_due_dates(args.file).items():
            print(f"{name:24s} {due:%Y-%m-%d %H:%M} UTC")
        return 0
    submitted = os.path.join(args.root, "submitted")
    students = [args.student] if args.student else sorted(os.listdir(submitted)) if os.path.isdir(submitted) else []
    wrote = 0
    for student in students:
        folder = os.path.join(submitted, student, args.assignment)
        if not os.path.isdir(folder):
            if args.student:
                p.error(f"no folder {folder}")
            continue
        path = write_timestamp(folder, args.at, args.force)
        if path:
            wrote += 1
            print(f"{os.path.relpath(path, args.root)}: {open(path).read().strip()}")
        else:
            print(f"{os.path.relpath(os.path.join(folder, 'timestamp.txt'), args.root)}: kept (use --force to replace)")
    if not students:
        print(f"no submissions in {submitted}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
