"""Instructor tooling for the course's nbgrader pipeline (not needed by students)."""
