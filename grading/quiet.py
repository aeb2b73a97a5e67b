"""Remove the causes of noise in nbgrader's logs (not the messages of real problems).

1. SQLAlchemy's three ``SAWarning: Object of type <SubmittedAssignment> not in session, add operation along
   ... will not proceed`` per autograde. nbgrader 0.9.6's ``Gradebook.add_submission`` builds the submission's
   object tree while the session autoflushes, before the new submission is added to the session (SQLAlchemy 2
   no longer cascades along backrefs, so the flush finds orphans and warns). Building the tree under
   ``no_autoflush``, as the warning itself recommends, adds the same rows in the same commit, without the warning.
2. ipykernel 7's "Kernel is running over TCP without encryption" once per kernel: the cause is the TCP
   transport. ``ipc_kernel_settings()`` gives the KernelManager settings for the IPC transport (Unix sockets in
   a private, per-process directory, removed at exit), which nbgrader_config.py applies to every kernel that
   nbgrader starts. Kernels then also never race for TCP ports when several nbgrader processes run at once.
"""
import atexit
import functools
import os
import shutil
import tempfile

__all__ = ["install_gradebook_fix", "ipc_kernel_settings"]


def install_gradebook_fix():
    """Wrap nbgrader's Gradebook.add_submission in the session's no_autoflush (idempotent)."""
    from nbgrader.api import Gradebook

    original = Gradebook.add_submission
    if getattr(original, "_no_autoflush", False):
        return

    @functools.wraps(original)
    def add_submission(self, assignment, student, **kwargs):
        with self.db.no_autoflush:
            return original(self, assignment, student, **kwargs)

    add_submission._no_autoflush = True
    Gradebook.add_submission = add_submission


_IPC_DIR = None


def ipc_kernel_settings():
    """{"transport": "ipc", "ip": <a fresh socket path prefix>} for KernelManager (one directory per process)."""
    global _IPC_DIR
    if _IPC_DIR is None:
        # Unix socket paths must stay short (about 100 bytes): a fresh directory straight under /tmp.
        _IPC_DIR = tempfile.mkdtemp(prefix="rnnk-", dir="/tmp" if os.path.isdir("/tmp") else None)
        atexit.register(shutil.rmtree, _IPC_DIR, True)
    return {"transport": "ipc", "ip": os.path.join(_IPC_DIR, "k")}
