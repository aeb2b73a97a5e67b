"""Misnamed submissions: find the notebook a student handed in under another name.

Browsers save a second download as ``a3_bptt (1).ipynb``, students rename to ``a3_bptt_final.ipynb``, and
nbgrader, which grades a submission's notebooks by their names, skips such a file ("No notebooks found"): the
grade table shows 0, the same as a real zero, and no feedback is made. ``fix_notebook_names`` runs before
nbgrader discovers the notebooks of ``submitted/<student>/<assignment>/`` and renames the one it should grade.

The rule, for each expected notebook ``<name>.ipynb`` that is missing from the folder:

1. The candidates are the folder's other ``.ipynb`` files (checkpoints and hidden files excluded) that are not
   themselves expected notebooks.
2. One candidate: it is the submission; renamed to ``<name>.ipynb``.
3. Several: those whose name starts with ``<name>`` (``<name> (1)``, ``<name>_final``, ``<name>-2``) are
   preferred if there are any; among the remaining ones the most recently modified file wins (ties: the name
   that sorts last, so ``(2)`` beats ``(1)``). The others stay where they are, ungraded, and the log names them.
4. None: nothing to do (the student handed nothing in, or the notebook is already there), and nothing is logged.

Every rename is logged as a warning that names the student, the old and the new file name.
"""
import os

__all__ = ["candidates", "choose", "fix_notebook_names"]


def _is_notebook(name):
    return name.endswith(".ipynb") and not name.startswith(".")


def candidates(assignment_dir, expected):
    """The .ipynb files of assignment_dir that are not expected notebook names, sorted by name."""
    expected_files = {e + ".ipynb" for e in expected}
    return sorted(f for f in os.listdir(assignment_dir)
                  if _is_notebook(f) and f not in expected_files and os.path.isfile(os.path.join(assignment_dir, f)))


def choose(assignment_dir, name, files):
    """The file of `files` (names in assignment_dir) that stands for notebook `name`, by the module's rule."""
    if not files:
        return None
    pool = [f for f in files if f.startswith(name)] or list(files)
    return max(pool, key=lambda f: (os.path.getmtime(os.path.join(assignment_dir, f)), f))


def fix_notebook_names(assignment_dir, expected, log):
    """Rename a misnamed notebook of one submission to the name nbgrader expects.

    assignment_dir: submitted/<student>/<assignment>; expected: the source notebook names without .ipynb
    (for this course one name, the assignment's); log: a logging.Logger (nbgrader's app log).
    Returns {old file name: new file name} of what was renamed (empty when nothing was to do).
    """
    if isinstance(expected, str):
        raise ValueError(f"expected: a list of notebook names without .ipynb, got the string {expected!r}")
    if not os.path.isdir(assignment_dir):
        return {}
    student = os.path.basename(os.path.dirname(os.path.abspath(assignment_dir)))
    assignment = os.path.basename(os.path.abspath(assignment_dir))
    renamed = {}
    for name in expected:
        target = name + ".ipynb"
        if os.path.exists(os.path.join(assignment_dir, target)):
            continue
        files = [f for f in candidates(assignment_dir, expected) if f not in renamed]
        pick = choose(assignment_dir, name, files)
        if pick is None:
            continue
        os.rename(os.path.join(assignment_dir, pick), os.path.join(assignment_dir, target))
        renamed[pick] = target
        others = [f for f in files if f != pick]
        if others:
            log.warning("student %r, %s: no %s; graded %r as %s (of %d notebooks: the name closest to %s, then "
                        "the newest); not graded: %s", student, assignment, target, pick, target, len(files),
                        target, ", ".join(repr(f) for f in others))
        else:
            log.warning("student %r, %s: no %s; graded the only notebook, %r, renamed to %s",
                        student, assignment, target, pick, target)
    return renamed
