"""The course's grading tools for instructors: the sandboxed, trusted autograder behind `nbgrader autograde`."""
