"""A throwaway sandbox for one submission: bubblewrap, resource limits, an unprivileged user, two pipes.

The student's code runs in grading/worker.py inside `bwrap` (Debian's bubblewrap) with
  - no network (a new network namespace: not even the host's loopback), no IPC, its own PID namespace, so
    every process it starts dies with it and it sees no other process;
  - a filesystem of read-only system directories and the course's Python environment (with any installed
    rnn_ref hidden), a private /tmp of limited size, and nothing else: no course folder, gradebook,
    solutions, secret or other submission;
  - an unprivileged user (run as root, a per-sandbox uid of its own with no capabilities and no_new_privs; run
    as another user, a user namespace mapping it to nobody), and limits on address space, CPU time,
    processes, file size and open files (prlimit);
  - a wall-clock deadline enforced from outside: past it the whole sandbox is killed.
There is no fallback: where bubblewrap is missing or cannot create the namespaces, SandboxUnavailable says so.
"""
import fcntl
import itertools
import os
import select
import shutil
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass

from . import wire

HERE = os.path.dirname(os.path.abspath(__file__))
GRACE = 3.0   # seconds the grader waits past a request's own timeout before it kills the sandbox


class SandboxUnavailable(RuntimeError):
    """This machine cannot sandbox student code; grading refuses to run it unsandboxed."""


class SandboxDied(BaseException):
    """The sandbox stopped (killed at its deadline, out of memory or CPU time, crashed, or broke the protocol).
    A BaseException: it ends the check that was running, whatever that check catches."""


@dataclass
class Limits:
    memory_mb: int = 2048       # address space of each process (numpy alone maps ~300 MB)
    cpu_seconds: int = 300      # CPU time of each process
    processes: int = 16         # processes and threads of the sandbox's user (run as root)
    file_mb: int = 16           # largest file it may write
    tmp_mb: int = 64            # its private /tmp
    open_files: int = 64
    tag: str = ""               # set as GRADER_TAG in the sandbox: tells a course's sandboxes apart in `ps e`


@dataclass
class Allowed:
    """What the stub rnn_ref inside the sandbox offers: `names` call the grader's reference."""
    names: tuple = ()
    checks: tuple = ()


def _python_dirs():
    """(directories to mount read-only, site-packages directories) of the running Python environment."""
    prefixes = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    purelib = {os.path.realpath(sysconfig.get_paths()[k]) for k in ("purelib", "platlib")}
    sites = sorted(p for p in purelib if os.path.isdir(p))
    mounts = sorted(p for p in prefixes | set(sites) if not p.startswith("/usr/"))
    return mounts, sites


def _hidden(sites):
    """Installed copies of rnn_ref (a wheel install; an editable one points outside every mount): covered."""
    return [os.path.join(s, "rnn_ref") for s in sites if os.path.isdir(os.path.join(s, "rnn_ref"))]


def command(limits, in_fd, out_fd, uid):
    """The bwrap command line that starts the worker."""
    mounts, sites = _python_dirs()
    cmd = ["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
           "--die-with-parent", "--new-session", "--clearenv"]
    root = os.geteuid() == 0
    if not root:
        cmd += ["--unshare-user", "--uid", "65534", "--gid", "65534"]
    made = set()

    def parents(path):
        out, p = [], os.path.dirname(path)
        while p not in ("/", "") and p not in made:
            out.append(p)
            made.add(p)
            p = os.path.dirname(p)
        return [a for d in reversed(out) for a in ("--perms", "0755", "--dir", d)]

    # /tmp first: the Python environment may itself live under /tmp, and its mount must land on this tmpfs
    cmd += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(limits.tmp_mb << 20),
            "--tmpfs", "/tmp"]
    made.update({"/proc", "/dev", "/tmp"})
    for d in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        if os.path.islink(d):
            cmd += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            cmd += ["--ro-bind", d, d]
        made.add(d)
    if os.path.exists("/etc/ld.so.cache"):
        cmd += ["--perms", "0755", "--dir", "/etc", "--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
        made.add("/etc")
    for m in mounts:
        cmd += parents(m) + ["--ro-bind", m, m]
    for h in _hidden(sites):
        cmd += ["--tmpfs", h]
    cmd += ["--perms", "0755", "--dir", "/sandbox"]
    for f in ("worker.py", "wire.py"):
        cmd += ["--ro-bind", os.path.join(HERE, f), f"/sandbox/{f}"]
    env = {"HOME": "/tmp", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/.mpl",
           "PYTHONDONTWRITEBYTECODE": "1", "GRADER_TAG": limits.tag}
    for k, v in env.items():
        cmd += ["--setenv", k, v]
    cmd += ["--chdir", "/tmp", "--", shutil.which("prlimit") or "/usr/bin/prlimit",
            f"--as={limits.memory_mb << 20}", f"--cpu={limits.cpu_seconds}", f"--fsize={limits.file_mb << 20}",
            f"--nofile={limits.open_files}", "--core=0"]
    if root:
        cmd += [f"--nproc={limits.processes}", "--", shutil.which("setpriv") or "/usr/bin/setpriv",
                f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
                "--no-new-privs"]
    cmd += ["--", os.path.realpath(sys.executable), "-E", "-s", "-S", "/sandbox/worker.py", str(in_fd), str(out_fd)]
    return cmd + sites


_CHECKED = []
_COUNT = itertools.count()


def _next_uid():
    """A uid of its own for each sandbox (run as root): what one sandbox left dying never counts against the next
    one's process limit."""
    return 60000 + (os.getpid() * 101 + next(_COUNT)) % 5000


def check_available():
    """Raise SandboxUnavailable, saying what to do, unless a sandbox starts and runs Python with numpy here."""
    if _CHECKED:
        return
    if not shutil.which("bwrap"):
        raise SandboxUnavailable("bubblewrap is not installed: the grader runs student code only in a sandbox. "
                                 "Install it (Debian/Ubuntu: apt-get install bubblewrap; `make test` does it).")
    with Sandbox(Allowed(), on_ref=None, limits=Limits(), startup_timeout=60) as box:
        reply = box.ask({"op": "run", "label": "<cell probe>", "source": "import numpy", "timeout": 30}, 30)
        if reply.get("error"):
            raise SandboxUnavailable(f"the sandbox starts but cannot import numpy: {reply['error']}")
    _CHECKED.append(True)


class Sandbox:
    """One running sandbox. ask(msg, timeout) sends a request and returns the reply, answering on the way the
    worker's calls to allowed rnn_ref functions with on_ref(name, args, kwargs) -> value (raising ValueError and
    the like for bad input). The sandbox is killed by close(), at its deadline, or when it breaks the protocol."""

    def __init__(self, allowed, on_ref, limits=None, deadline=None, startup_timeout=30):
        self.limits = limits or Limits()
        self.on_ref, self.deadline = on_ref, deadline
        self.handles = {}            # id -> object kept here for the sandbox (a reference cache)
        self.stopped = None          # why the sandbox stopped, once it has
        to_worker, self._w = os.pipe()
        self._r, from_worker = os.pipe()
        for fd in (self._w, self._r):   # 1 MB pipes: a message of arrays rarely has to wait for the reader
            try:
                fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)
            except OSError:
                pass
        uid = _next_uid()
        try:
            self.proc = subprocess.Popen(command(self.limits, to_worker, from_worker, uid),
                                         pass_fds=(to_worker, from_worker), stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        except OSError as e:
            raise SandboxUnavailable(f"bubblewrap could not be started: {e}") from None
        finally:
            os.close(to_worker)
            os.close(from_worker)
        try:
            self._send({"op": "init", "allowed": list(allowed.names), "checks": list(allowed.checks)})
            ready = self._recv(time.monotonic() + startup_timeout)
        except SandboxDied as e:
            err = self._stderr()
            self.close()
            raise SandboxUnavailable(f"the sandbox did not start ({e}): {err or 'no message'}. On Linux it needs "
                                     f"bubblewrap and namespaces (see the instructors page).") from None
        if ready.get("op") != "ready":
            self.close()
            raise SandboxUnavailable("the sandbox did not start: unexpected first message")

    # -------------------------------------------------------------------------------------------- protocol
    def _other(self, v):
        if isinstance(v, SandboxRef):
            return {"__handle__": v.i}
        i = len(self.handles) + 1
        self.handles[i] = v
        return {"__phandle__": i}

    def _resolve(self, node):
        if "__handle__" in node and type(node["__handle__"]) is int:
            return SandboxRef(node["__handle__"])
        if "__phandle__" in node and node["__phandle__"] in self.handles:
            return self.handles[node["__phandle__"]]
        raise wire.WireError("a handle the grader never gave out")

    def _send(self, tree):
        try:
            wire.send(self._w, tree, self._other)
        except (BrokenPipeError, OSError) as e:
            self._die(f"the sandbox stopped ({e.__class__.__name__})")

    def _recv(self, until):
        def wait():
            left = until if self.deadline is None else min(until, self.deadline)
            left -= time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                over_budget = self.deadline is not None and time.monotonic() >= self.deadline
                self._die("the notebook ran out of its time budget" if over_budget else
                          "it ran past its time limit and was stopped")
        try:
            msg = wire.recv(self._r, self._resolve, wait)
        except wire.WireError as e:
            self._die(f"it broke the grader's protocol ({e})")
        if msg is None or not isinstance(msg, dict):
            self._die(self._exit_reason())
        return msg

    def ask(self, msg, timeout):
        """Send a request; answer the worker's rnn_ref calls until its reply comes; return the reply."""
        if self.stopped:
            raise SandboxDied(self.stopped)
        until = time.monotonic() + timeout + GRACE
        self._send(msg)
        while True:
            reply = self._recv(until)
            if reply.get("op") == "ref":
                self._send(self._answer_ref(reply))
            elif reply.get("op") == "items":
                self._send(self._items(reply.get("ref")))
            else:
                return reply

    @staticmethod
    def _items(obj):
        """The items and field names of a reference cache the sandbox reads (a namedtuple)."""
        if not isinstance(obj, tuple):
            return {"op": "ref_error", "ename": "TypeError", "evalue": "this reference object cannot be read"}
        return {"op": "ref_result", "value": {"items": list(obj), "fields": list(getattr(obj, "_fields", ()))}}

    def _answer_ref(self, msg):
        name, args, kwargs = msg.get("name"), msg.get("args"), msg.get("kwargs") or {}
        if self.on_ref is None or not isinstance(args, list) or not isinstance(kwargs, dict):
            return {"op": "ref_error", "ename": "RuntimeError", "evalue": "not available"}
        try:
            return {"op": "ref_result", "value": self.on_ref(name, args, kwargs)}
        except Exception as e:  # bad input from the student's code: the error goes back to it
            return {"op": "ref_error", "ename": type(e).__name__, "evalue": str(e)}

    # -------------------------------------------------------------------------------------------- ending
    def _exit_reason(self):
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "it stopped answering"
        if code in (-9, 137):
            return "it was killed (out of memory, or a process limit)"
        if code in (-24, 152):
            return "it used up its CPU time"
        return f"it exited (status {code})"

    def _die(self, why):
        self.stopped = why
        self.close()
        raise SandboxDied(why)

    def _stderr(self):
        try:
            self.proc.wait(timeout=5)
            return self.proc.stderr.read(2000).decode(errors="replace").strip()
        except Exception:
            return ""

    def close(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass
        for fd in (self._w, self._r):
            try:
                os.close(fd)
            except OSError:
                pass
        self._w = self._r = -1
        if self.proc.stderr:
            self.proc.stderr.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class SandboxRef:
    """An object that lives in the sandbox (a student's cache that is not plain data)."""

    def __init__(self, i):
        self.i = i

    def __repr__(self):
        return "<an object in the sandbox>"
