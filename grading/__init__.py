"""Instructor tooling for the course's nbgrader pipeline (not needed by students): the sandboxed, trusted autograder
behind `nbgrader autograde`, and the term's settings (due dates, late work, collecting, feedback, export)."""
