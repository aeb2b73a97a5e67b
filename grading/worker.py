"""The sandbox's side of grading: run one submission's code cells and serve calls to its functions.

This process runs inside bubblewrap as an unprivileged user with no network, no rnn_ref and no course files
(see sandbox.py). It reads requests from the trusted grader on one pipe and answers on another, in the plain-data
frames of wire.py. Nothing it sends is trusted: the grader compares the values with the reference itself, and
writes every test-cell output and score.

Requests (each answered by exactly one reply; while one runs, student code may call an allowed rnn_ref
function, which asks the grader with a "ref" message and waits for its answer):
  init   {allowed, checks}         build the stub rnn_ref package: `allowed` names call the grader
  run    {source, label, timeout}  exec one code cell             -> {stdout, error}
  lookup {names}                   what each name is               -> {kinds: {name: "function" | ...}}
  call   {name, args, timeout}     call a function of the notebook -> {value, mutated, stdout, warnings} or raised
  numgrad {name, x, w, h, expr, timeout}  call numerical_gradient(f, x, h) with f = expr evaluated on x in place
  swap   {names}                   replace the notebook's functions `names` by the grader's reference (or back)
"""
import linecache
import os
import signal
import sys
import traceback
import types
import warnings

sys.path[1:1] = sys.argv[3:]   # the Python environment's site-packages, read-only (no .pth files run)
import numpy as np  # noqa: E402
import wire  # noqa: E402

OUTPUT_LIMIT = 20_000   # characters kept of what one cell or call prints
NS = {"__name__": "__main__", "__builtins__": __builtins__}
HANDLES = {}            # id -> an object that is not plain data (a cache of the student's making)
SWAPPED = {}            # name -> the notebook's own function while the reference stands in for it
IN = OUT = None


class Timeout(BaseException):
    """Raised in student code when its time is up (a BaseException, so `except Exception` does not hide it)."""


class ParentRef:
    """An object that lives in the grader (a reference cache): sent back as a handle. A cache that is a tuple
    can be read here too (unpacked, indexed, its fields named): its items are fetched the first time."""

    def __init__(self, i):
        self.i, self._items, self._fields = i, None, ()

    def _fetch(self):
        if self._items is None:
            reply = _ask_grader({"op": "items", "ref": self})
            self._items, self._fields = tuple(reply["items"]), tuple(reply["fields"])
        return self._items

    def __iter__(self):
        return iter(self._fetch())

    def __len__(self):
        return len(self._fetch())

    def __getitem__(self, k):
        return self._fetch()[k]

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        items = self._fetch()
        if name in self._fields:
            return items[self._fields.index(name)]
        raise AttributeError(f"the reference cache has no field {name!r}")

    def __repr__(self):
        return "<reference cache>"


class Capped:
    """A stdout that keeps the first OUTPUT_LIMIT characters and counts the rest."""

    def __init__(self):
        self.parts, self.kept, self.cut = [], 0, 0

    def write(self, s):
        s = str(s)
        room = OUTPUT_LIMIT - self.kept
        if room > 0:
            self.parts.append(s[:room])
            self.kept += min(room, len(s))
        self.cut += max(0, len(s) - max(room, 0))
        return len(s)

    def flush(self):
        pass

    def text(self):
        return "".join(self.parts) + (f"\n[... {self.cut} more characters not kept]" if self.cut else "")


def _other(v):
    if isinstance(v, ParentRef):
        return {"__phandle__": v.i}
    i = len(HANDLES) + 1
    HANDLES[i] = v
    return {"__handle__": i}


def _resolve(node):
    if "__handle__" in node:
        return HANDLES.get(node["__handle__"])
    if "__phandle__" in node:
        return ParentRef(node["__phandle__"])
    raise wire.WireError("unknown node")


def send(tree):
    wire.send(OUT, tree, _other)


def recv():
    return wire.recv(IN, _resolve)


# ------------------------------------------------------------------------------------------- the stub rnn_ref
def _ask_grader(msg):
    """Ask the grader for a reference result (the only time this side speaks first)."""
    # no alarm may interrupt the exchange halfway (the next frame would be read as a request): it waits until after
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    try:
        send(msg)
        reply = recv()
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})
    if reply is None:
        raise SystemExit(0)
    if reply.get("op") == "ref_result":
        return reply["value"]
    kinds = {"ValueError": ValueError, "TypeError": TypeError, "KeyError": KeyError, "IndexError": IndexError}
    raise kinds.get(reply.get("ename"), RuntimeError)(reply.get("evalue", "rnn_ref failed"))


def _reference(name):
    def call(*args, **kwargs):
        return _ask_grader({"op": "ref", "name": name, "args": list(args), "kwargs": kwargs})
    call.__name__ = call.__qualname__ = name
    call.__module__ = "rnn_ref"
    call.__doc__ = f"rnn_ref.{name}, computed by the grader."
    return call


def _skipped_check(*args, **kwargs):
    """While grading, the grader runs every check itself; a check called from a student's cell does nothing."""
    return None


def install_stub(allowed, checks):
    allowed = sorted(allowed)
    pkg = types.ModuleType("rnn_ref", "rnn_ref as the grader offers it in this assignment")
    pkg.__path__ = []
    for name in allowed:
        setattr(pkg, name, _reference(name))

    def missing(name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(f"rnn_ref.{name} is not available while grading this assignment: the graded "
                             f"functions must be your own code. rnn_ref offers here: "
                             f"{', '.join(allowed) or 'nothing'}.")
    pkg.__getattr__ = missing
    chk = types.ModuleType("rnn_ref.checks", "the checks: run by the grader, not here")
    for name in checks:
        setattr(chk, name, _skipped_check)
    pkg.checks = chk
    sys.modules["rnn_ref"], sys.modules["rnn_ref.checks"] = pkg, chk


# ------------------------------------------------------------------------------------------- running code
class _Alarm:
    def __init__(self, seconds):
        self.seconds = seconds

    def __enter__(self):
        def ring(signum, frame):
            raise Timeout(f"took longer than {self.seconds:g} s (an infinite loop?)")
        signal.signal(signal.SIGALRM, ring)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc):
        signal.setitimer(signal.ITIMER_REAL, 0)


def _strip_magics(source):
    """IPython magics and shell escapes are not Python: the grader skips them."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        return "\n".join("# " + line for line in lines)
    return "\n".join("pass  # " + line if line.lstrip().startswith(("%", "!")) else line for line in lines)


def _where(tb):
    cells = [f for f in traceback.extract_tb(tb) if f.filename.startswith("<cell")]
    if not cells:
        return ""
    f = cells[-1]
    return f" (at line {f.lineno}" + (f" `{f.line.strip()}`" if f.line else "") + ")"


def _error(e):
    frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename.startswith("<cell")]
    lines = [f'  {f.filename}, line {f.lineno}' + (f"\n    {f.line.strip()}" if f.line else "") for f in frames]
    name = type(e).__name__ if not isinstance(e, Timeout) else "TimeoutError"
    return {"ename": name, "evalue": str(e)[:2000], "traceback": lines[-8:], "where": _where(e.__traceback__)}


def _captured(fn, timeout):
    """(result, error, output (a Capped), warnings) of fn(), with prints and warnings kept, never shown."""
    out = Capped()
    old = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = out
    result = error = None
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
        warnings.simplefilter("always")
        try:
            with _Alarm(timeout):
                result = fn()
        except (Exception, Timeout) as e:
            error = _error(e)
        finally:
            sys.stdout, sys.stderr = old
    return result, error, out, [str(w.message)[:300] for w in caught[:20]]


def run(msg):
    label, source = msg["label"], _strip_magics(msg["source"])
    linecache.cache[label] = (len(source), None, source.splitlines(True), label)

    def go():
        exec(compile(source, label, "exec"), NS)
    _, error, out, _ = _captured(go, msg["timeout"])
    return {"op": "ran", "stdout": out.text(), "error": error, "kept": out.kept, "cut": out.cut}


def lookup(msg):
    kinds = {}
    for name in msg["names"]:
        v = NS.get(name, SWAPPED.get(name))
        code = getattr(v, "__code__", None)
        kinds[name] = ("missing" if name not in NS else
                       "own" if code is not None and code.co_filename.startswith("<cell") else
                       "callable" if callable(v) else type(v).__name__)
    return {"op": "kinds", "kinds": kinds}


def _snapshot(v):
    if isinstance(v, np.ndarray):
        return v.copy()
    if isinstance(v, dict):
        return {k: _snapshot(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_snapshot(x) for x in v]
    return v


def _same(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(map(_same, a, b))
    return True


def call(msg):
    fn = NS.get(msg["name"])
    args = msg["args"]
    before = [_snapshot(a) for a in args]
    result, error, out, caught = _captured(lambda: fn(*args), msg["timeout"])
    reply = {"stdout": out.text(), "warnings": caught}
    if error is not None:
        return dict(reply, op="raised", **error)
    reply.update(op="result", value=result,
                 mutated={i: a for i, (a, b) in enumerate(zip(args, before)) if not _same(b, a)})
    return reply


def numgrad(msg):
    """numerical_gradient(f, x, h) where f() reads x in place: f must live here, next to x."""
    x, w, h, calls, seen = msg["x"], msg["w"], msg["h"], [0], []
    x0 = x.copy()
    expr = compile(msg["expr"], "<the checked function>", "eval")

    def f():
        calls[0] += 1
        if len(seen) < 400:          # how x differed from x0 at each call: the check reads mistakes from it
            seen.append(x - x0)
        return eval(expr, {"np": np}, {"x": x, "w": w})
    result, error, out, caught = _captured(lambda: NS[msg["name"]](f, x, h), msg["timeout"])
    reply = {"stdout": out.text(), "warnings": caught}
    if error is not None:
        return dict(reply, op="raised", **error)
    return dict(reply, op="result", value=result, x=x, calls=calls[0], seen=seen)


def swap(msg):
    """Put the grader's reference in place of the notebook's functions `names` (or, with restore, back)."""
    if msg.get("restore"):
        NS.update(SWAPPED)
        SWAPPED.clear()
    else:
        for name in msg["names"]:
            if name in NS and name not in SWAPPED:
                SWAPPED[name] = NS[name]
            NS[name] = _reference(name)
    return {"op": "swapped"}


def main():
    global IN, OUT
    IN, OUT = int(sys.argv[1]), int(sys.argv[2])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a full disk is an error in the student's code, not a kill
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):                            # output goes through Capped, or nowhere
        os.dup2(devnull, fd)
    init = recv()
    install_stub(init["allowed"], init["checks"])
    os.chdir(init.get("cwd", "/tmp"))
    send({"op": "ready"})
    handlers = {"run": run, "lookup": lookup, "call": call, "numgrad": numgrad, "swap": swap}
    while True:
        msg = recv()
        if msg is None:
            return
        try:
            reply = handlers[msg["op"]](msg)
        except Exception as e:  # a value that cannot be sent (nested too deeply, ...): the student's problem
            reply = {"op": "raised", "ename": type(e).__name__, "evalue": str(e)[:500], "where": "",
                     "traceback": [], "stdout": "", "warnings": []}
        try:
            send(reply)
        except (wire.WireError, wire.NotPlain) as e:
            send({"op": "raised", "ename": "ValueError", "evalue": f"the result cannot be sent to the grader: {e}",
                  "where": "", "traceback": [], "stdout": "", "warnings": []})


if __name__ == "__main__":
    main()
