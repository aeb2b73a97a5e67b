"""The course's hidden-test secret: drawn on first use, kept beside the course, never committed or installed.

Hidden check cases are drawn from it (rnn_ref.checks.engine.case_rng), so neither the installed rnn_ref nor a
student's code can know them. It lives in <course>/.grader/secret (mode 0600, ignored by git); the sandbox
cannot see the course folder at all.
"""
import hashlib
import os
import secrets


def course_tag(root):
    """A short label of the course at `root` (its sandboxes carry it as GRADER_TAG); not a secret."""
    return hashlib.sha256(os.path.abspath(root).encode()).hexdigest()[:12]


def secret_path(root):
    return os.path.join(root, ".grader", "secret")


def course_secret(root):
    """The secret of the course at `root`, created the first time it is asked for."""
    folder = os.path.join(root, ".grader")
    path = secret_path(root)
    if not os.path.exists(path):
        os.makedirs(folder, mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
    with open(path, encoding="ascii") as f:
        return f.read().strip()
