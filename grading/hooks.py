"""What the course does at the start of each submission's autograde, before nbgrader looks for its notebooks:

1. ``grading.names.fix_notebook_names``: a misnamed notebook (``a3_bptt (1).ipynb``) is renamed to the
   expected name, with a log line, so that it is graded instead of skipped.
2. ``grading.late.sync_due_date``: the assignment's due date in gradebook.db is set from the due-dates file,
   so that lateness (timestamp.txt against the due date) and the late penalty use the term's dates.

``install()`` wraps nbgrader's ``Autograde.init_assignment`` with ``before_autograde`` (nbgrader_config.py calls
it); a course Autograde subclass can call ``before_autograde(self, assignment_id, student_id)`` itself instead.
"""
import os

from .late import DueDates, sync_due_date
from .names import fix_notebook_names

__all__ = ["before_autograde", "install"]


def before_autograde(converter, assignment_id, student_id):
    """converter: nbgrader's Autograde converter (gives coursedir, config, log and the notebooks it found).
    Returns {old name: new name} of the notebooks renamed (converter.notebooks is updated to match)."""
    from nbgrader.api import Gradebook, MissingEntry

    coursedir = converter.coursedir
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        try:
            assignment = gb.find_assignment(assignment_id)
        except MissingEntry:
            return  # nbgrader reports the missing assignment itself
        expected = [nb.name for nb in assignment.notebooks]
        path = DueDates(parent=converter).path
        if not path:
            pass   # no file: the gradebook's own due dates count (set in the formgrader or with `nbgrader db`)
        elif os.path.exists(path):
            sync_due_date(gb, assignment_id, path, converter.log)
        else:
            converter.log.warning("no due-dates file %s: %s has no due date, nothing is late", path, assignment_id)
    folder = coursedir.format_path(coursedir.submitted_directory, student_id, assignment_id)
    renamed = fix_notebook_names(folder, expected, converter.log)
    if renamed:  # nbgrader listed the folder's notebooks before this hook: refresh its list
        paths = {os.path.join(folder, old): os.path.join(folder, new) for old, new in renamed.items()}
        notebooks = [paths.get(os.path.join(folder, os.path.basename(nb)), nb) for nb in converter.notebooks]
        converter.notebooks = sorted(set(notebooks))
    return renamed


def install():
    """Run before_autograde at the start of nbgrader's Autograde.init_assignment (idempotent)."""
    from nbgrader.converters.autograde import Autograde

    original = Autograde.init_assignment
    if getattr(original, "_course_hook", False):
        return

    def init_assignment(self, assignment_id, student_id):
        before_autograde(self, assignment_id, student_id)
        return original(self, assignment_id, student_id)

    init_assignment._course_hook = True
    Autograde.init_assignment = init_assignment
