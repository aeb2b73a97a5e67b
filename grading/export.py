"""The course's grade export: nbgrader's CSV columns, properly quoted, plus three that nbgrader leaves out.

    assignment, duedate, timestamp, student_id, last_name, first_name, email, raw_score,
    late_submission_penalty, score, max_score,     <- nbgrader's CsvExportPlugin, same order and meaning
    submitted, hours_late, days_late               <- added here

submitted: ``yes`` when the gradebook has a submission, ``no`` otherwise (nbgrader writes 0 for both a real
zero and no submission). hours_late: how long after the due date the submission came (0 when on time or when
there is no due date or timestamp). days_late: the days the late penalty charged (0 within the grace period).
Selected in nbgrader_config.py with ``c.ExportApp.plugin_class``; ``nbgrader export --to FILE`` as usual.
"""
import csv

from nbgrader.api import MissingEntry
from nbgrader.plugins import ExportPlugin

from .late import LatePenalty, charged_days

COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email", "raw_score",
           "late_submission_penalty", "score", "max_score", "submitted", "hours_late", "days_late"]


def _cell(value):
    return "" if value is None else str(value)


class LateCsvExport(ExportPlugin):
    """nbgrader export with the late columns (see the module docstring)."""

    def rows(self, gradebook):
        grace = LatePenalty(parent=self).grace_minutes
        students = [str(s) for s in self.student]
        assignments = [str(a) for a in self.assignment]
        for assignment in gradebook.assignments:
            if assignments and assignment.name not in assignments:
                continue
            for student in gradebook.students:
                if students and student.id not in students:
                    continue
                row = dict(assignment=assignment.name, duedate=assignment.duedate, student_id=student.id,
                           last_name=student.last_name, first_name=student.first_name, email=student.email,
                           max_score=assignment.max_score)
                try:
                    sub = gradebook.find_submission(assignment.name, student.id)
                except MissingEntry:
                    row.update(timestamp="", raw_score=0.0, late_submission_penalty=0.0, score=0.0, submitted="no",
                               hours_late=0.0, days_late=0)
                else:
                    penalty = sub.late_submission_penalty or 0.0
                    late = sub.total_seconds_late
                    row.update(timestamp=sub.timestamp, raw_score=sub.score, late_submission_penalty=penalty,
                               score=max(0.0, sub.score - penalty), submitted="yes",
                               hours_late=round(late / 3600, 2), days_late=charged_days(late, grace))
                yield {k: _cell(row[k]) for k in COLUMNS}

    def export(self, gradebook):
        dest = self.to or "grades.csv"
        self.log.info("Exporting grades to %s", dest)
        with open(dest, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(self.rows(gradebook))
