"""Apply the course's late penalty again, to the scores as they are now (run in the course directory):

    python -m hub.course run -- python -m hub.penalties a1_forward

nbgrader computes a late submission's penalty once, while autograding, from the score the notebook has then:
the points a grader gives a written answer afterwards are never penalized (with penalty_method 'zero', late
work that scored 10 automatically and 2 by hand ends with 2 instead of 0). This runs nbgrader's own step,
AssignLatePenalties with the configured plugin, on every submitted notebook of the assignment, after the hand
grading and before the export. It changes only late_submission_penalty; on-time submissions get none.
"""
import argparse
import os
import sys

import nbformat
from nbgrader.api import Gradebook
from nbgrader.apps import NbGrader
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import AssignLatePenalties


def load_config(folder):
    app = NbGrader()
    app.config_file_paths.append(folder)
    app.load_config_file()
    return app.config


def reapply(assignment, folder=".", log=print):
    """Recompute the late penalty of each notebook submitted for `assignment`; returns {student: penalty}."""
    config = load_config(os.path.abspath(folder))
    coursedir = CourseDirectory(config=config)
    step = AssignLatePenalties(config=config)
    out = {}
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        subs = [(s.student.id, [nb.name for nb in s.notebooks]) for s in gb.assignment_submissions(assignment)]
    for student, notebooks in subs:
        total = 0.0
        for notebook in notebooks:
            resources = {"nbgrader": {"notebook": notebook, "assignment": assignment, "student": student,
                                      "db_url": coursedir.db_url}}
            step.preprocess(nbformat.v4.new_notebook(), resources)
            with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
                total += gb.find_submission_notebook(notebook, assignment, student).late_submission_penalty or 0.0
        out[student] = total
        if total:
            log(f"{student}: late, penalty {total:g}")
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("assignment")
    a = p.parse_args(argv)
    reapply(a.assignment)
    return 0


if __name__ == "__main__":
    sys.exit(main())
