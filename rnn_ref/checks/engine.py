"""The machinery behind rnn_ref.checks: call a student's function safely, compare its outputs with the
reference's key by key, and turn the first disagreement into a message that teaches.

Nothing here prints or writes to stderr: a student function's warnings and prints are captured and mentioned
in the message when they matter (nbgrader scores a test cell that writes to stderr as failed).
"""
import contextlib
import io
import os
import traceback
import warnings

import numpy as np

TOL = 1e-6        # elementwise relative error accepted
HIDDEN_SEEDS = 100  # case seeds from here up are hidden cases: their inputs also depend on the hidden secret
FLOOR = 1e-4      # entries smaller than FLOOR * max|expected| are judged on an absolute scale
IGNORE = object()  # an output whose value is not checked (a cache: whatever the student's forward made it)


_SECRET = []  # the hidden-case secret, once read: [int]


def set_hidden_secret(secret):
    """Fix the secret that hidden cases are drawn from (the trusted grader passes the course's secret; tests pass
    a fixed one). Without it, RNN_REF_HIDDEN_SECRET is read, and failing that a random secret is drawn once per
    process: the hidden cases are then new in every session, and nobody can know them in advance."""
    import hashlib
    _SECRET[:] = [int.from_bytes(hashlib.sha256(str(secret).encode()).digest()[:8], "little")]


def case_rng(seed):
    """The random generator of one case: seed alone for a visible case (seed < HIDDEN_SEEDS), so a student can
    rebuild it; seed and the hidden secret for a hidden one, so its inputs cannot be known from the source."""
    if seed < HIDDEN_SEEDS:
        return np.random.default_rng(seed)
    if not _SECRET:
        set_hidden_secret(os.environ.get("RNN_REF_HIDDEN_SECRET") or os.urandom(16).hex())
    return np.random.default_rng([seed, _SECRET[0]])


class CheckFailure(Exception):
    """Internal: one reason a case failed.

    msg: the sentence; kind: "value", "shape", "structure", "dtype", "stub", "none", "forward", "other";
    path: the output it is about (None: the call as a whole); got: what the student's function returned (when it
    returned); leaves: every compared output, and bad: [(leaf, error, detail)] of the wrong ones (value
    mismatches only)."""

    def __init__(self, msg, kind="other", path=None, got=None, leaves=None, bad=None):
        super().__init__(msg)
        self.msg, self.kind, self.path = msg, kind, path
        self.got, self.leaves, self.bad = got, leaves, bad


class Case:
    """One set of inputs. args: list of (name, value) for the function (the forward of a backward check);
    dargs: list of (name, value) of upstream gradients for a backward check; note: what makes it special."""

    def __init__(self, seed, args, dargs=(), note="", **extra):
        self.seed, self.args, self.dargs, self.note, self.extra = seed, list(args), list(dargs), note, extra

    def arg(self, name):
        for k, v in self.args + self.dargs:
            if k == name:
                return v
        raise KeyError(name)

    def values(self):
        return [v for _, v in self.args]

    def dvalues(self):
        return [v for _, v in self.dargs]

    def label(self):
        parts = [f"{k} {_describe_short(v)}" for k, v in self.args + self.dargs]
        head = f"seed {self.seed}" + (f", {self.note}" if self.note else "")
        return f"{head}: " + ", ".join(parts)

    def replace(self, note=None, **new):
        """A copy with some inputs replaced (used by probes that isolate one term)."""
        args = [(k, new.get(k, v)) for k, v in self.args]
        dargs = [(k, new.get(k, v)) for k, v in self.dargs]
        return Case(self.seed, args, dargs, self.note if note is None else note, **self.extra)


def _describe_short(v):
    if isinstance(v, np.ndarray):
        return str(tuple(v.shape)) if v.dtype.kind == "f" else f"{tuple(v.shape)} int"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_describe_short(a)}" for k, a in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_describe_short(a) for a in v) + "]"
    if callable(v):
        return "a function"
    if isinstance(v, float):
        return f"{v:g}"
    return repr(v)


def describe(v):
    """A few words on what a value is, for messages: 'an array of shape (3, 4) and dtype float32'."""
    if v is None:
        return "None"
    if isinstance(v, np.ndarray):
        return f"an array of shape {tuple(v.shape)} and dtype {v.dtype}"
    if isinstance(v, dict):
        return f"a dict with keys {sorted(map(str, v))}"
    if isinstance(v, tuple):
        return f"a tuple of {len(v)} values"
    if isinstance(v, list):
        return f"a list of {len(v)} values"
    if isinstance(v, (bool, np.bool_)):
        return f"a bool ({v})"
    if isinstance(v, (int, float, np.number)):
        return f"a number ({v!r})" if not isinstance(v, np.generic) else f"a numpy {type(v).__name__} ({v})"
    return f"a {type(v).__name__}"


def copy_tree(v):
    """Deep copy of arrays inside dicts, lists and tuples (functions and scalars pass through)."""
    if isinstance(v, np.ndarray):
        return v.copy()
    if isinstance(v, dict):
        return {k: copy_tree(a) for k, a in v.items()}
    if isinstance(v, list):
        return [copy_tree(a) for a in v]
    if isinstance(v, tuple):
        items = [copy_tree(a) for a in v]
        return type(v)(*items) if hasattr(v, "_fields") else tuple(items)
    return v


def _tree(v, path=()):
    """(path, item) pairs of a tree of dicts, lists and tuples: its arrays, and each container's keys or length."""
    if isinstance(v, dict):
        yield path, ("keys", tuple(v))
        for k, a in v.items():
            yield from _tree(a, path + (k,))
    elif isinstance(v, (list, tuple)):
        yield path, ("length", len(v))
        for i, a in enumerate(v):
            yield from _tree(a, path + (i,))
    elif isinstance(v, np.ndarray):
        yield path, v


def _same_item(x, y):
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and x.shape == y.shape and \
            np.array_equal(x, y, equal_nan=True)
    return x == y


def same_tree(a, b):
    """True when two input trees hold the same arrays in the same places (used to detect in-place modification);
    numbers and other leaves are not compared."""
    ta, tb = list(_tree(a)), list(_tree(b))
    return len(ta) == len(tb) and all(pa == pb and _same_item(x, y) for (pa, x), (pb, y) in zip(ta, tb))


@contextlib.contextmanager
def quiet(record=None):
    """Run code with numpy warnings recorded (never shown), stdout and stderr captured."""
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True) as w, \
            np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"), \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        warnings.simplefilter("always")
        yield
    if record is not None:
        record["warnings"] = record.get("warnings", []) + [str(x.message) for x in w]
        record["stdout"] = record.get("stdout", "") + out.getvalue() + err.getvalue()


def silently(fn, *args):
    """Call a reference or hypothesis function: no warnings, no output; None if it raises."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"), \
                contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            return fn(*args)
    except Exception:
        return None


_HERE = os.path.dirname(os.path.abspath(__file__))


class RaisedElsewhere(Exception):
    """An exception the student's code raised in another process (the trusted grader's sandbox), re-raised in
    the process that runs the check. Its frames stayed there, so it carries `where`: the text _where would have
    made of them (" (at line 12 `h = np.tanh(x @ U_xh)`)", or "")."""

    def __init__(self, msg="", where=""):
        super().__init__(msg)
        self.where = where


def _where(exc):
    """' (at line 12 `h = np.tanh(x @ U_xh)`)' for the deepest frame of the student's own code, or ''. A
    RaisedElsewhere brings that text with it."""
    if isinstance(exc, RaisedElsewhere):
        return exc.where
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if not f.filename.startswith(_HERE) and "site-packages" not in f.filename
            and "/numpy/" not in f.filename]
    if not mine:
        return ""
    f = mine[-1]
    code = f" `{f.line.strip()}`" if f.line else ""
    return f" (at line {f.lineno}{code})"


_EXC_HINTS = [
    ("could not be broadcast", "two arrays' shapes do not line up: print the shapes; a sum or max over an axis "
                               "often needs keepdims=True, and a weight may need .T (or no .T)"),
    ("matmul", "a matrix product with mismatched inner dimensions: check the shapes (and whether a weight "
               "needs .T) against the docstring"),
    ("shapes", "check the shapes of the arrays on that line against the docstring"),
    ("unpack", "the number of values unpacked does not match what was returned (a cache is whatever your "
               "forward put in it)"),
    ("division by zero", "a division by zero"),
    ("positional argument", "the check calls your function with the arguments its signature in the notebook "
                            "lists (defaults included): keep that signature"),
    ("unexpected keyword", "the check calls your function with the arguments its signature in the notebook "
                           "lists: keep their names"),
]


def student_call(fn, fname, args, arg_names, case, record):
    """Call fn(*copies of args) under quiet(); turn exceptions and modified inputs into CheckFailure.

    args past the len(arg_names) named ones (a cache) are passed as they are and not checked for changes."""
    if not callable(fn):
        raise CheckFailure(f"The check expected your function {fname}, but it got {describe(fn)}.")
    n = len(arg_names)
    copies = [copy_tree(a) for a in args[:n]] + list(args[n:])  # a cache (past the named args) is passed as is
    try:
        with quiet(record):
            out = fn(*copies)
    except NotImplementedError:
        raise CheckFailure(f"{fname} is not implemented yet: it raised NotImplementedError. Replace the "
                           f"`raise NotImplementedError` line with your code.", "stub") from None
    except Exception as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
        hint = next((h for k, h in _EXC_HINTS if k in msg), "")
        raise CheckFailure(f"Your {fname} raised {type(e).__name__}: {msg}{_where(e)}.\n  case: {case.label()}"
                           + (f"\n  hint: {hint}." if hint else ""), "raised") from None
    for name, orig, cp in zip(arg_names, args, copies):
        if not same_tree(orig, cp):
            raise CheckFailure(
                f"Your {fname} modified its input `{name}` in place. Leave inputs "
                f"untouched: compute into new arrays (`a = a - m`, not `a -= m`; copy a dict's arrays "
                f"before changing them).", "mutated")
    return out


# ----------------------------------------------------------------------------------------------- comparing

def _is_number(v):
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)) or (
        isinstance(v, np.ndarray) and v.shape == () and v.dtype.kind in "fiu")


def rel_err_floor(ref, got):
    """(largest elementwise relative error, its index) with the absolute floor for near-zero entries."""
    ref = np.asarray(ref, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    if ref.size == 0:
        return 0.0, ()
    if not np.all(np.isfinite(got)):
        idx = np.unravel_index(int(np.argmax(~np.isfinite(got))), got.shape) if got.shape else ()
        return float("inf"), idx
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    denom = np.maximum(np.abs(ref) + np.abs(got), max(FLOOR * scale, 1e-10))
    e = np.abs(ref - got) / denom
    i = int(np.argmax(e))
    return float(e.flat[i]), (np.unravel_index(i, e.shape) if e.shape else ())


def close(ref, got, tol=TOL):
    try:
        ref, got = np.asarray(ref, dtype=np.float64), np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if ref.shape != got.shape:
        return False
    if ref.dtype.kind in "iub" and got.dtype.kind in "iub":
        return bool(np.array_equal(ref, got))
    fr, fg = np.isfinite(ref), np.isfinite(got)
    if not (fr.all() and fg.all()):
        # NaN and inf agree with NaN and inf at the same places (an unstable softmax is recognised by them)
        if not np.array_equal(fr, fg) or not np.array_equal(np.isnan(ref), np.isnan(got)):
            return False
        return not fr.any() or rel_err_floor(ref[fr], got[fr])[0] <= tol
    return rel_err_floor(ref, got)[0] <= tol


class Leaf:
    """One compared output: its name, the expected and the student's value."""

    def __init__(self, path, ref, got, kind):
        self.path, self.ref, self.got, self.kind = path, ref, got, kind


def _shape_hint(path, ref_shape, got_shape):
    if len(ref_shape) == 2 and tuple(got_shape) == tuple(ref_shape[::-1]) and ref_shape[0] != ref_shape[1]:
        return "It looks transposed"
    if len(got_shape) == len(ref_shape) + 1 and tuple(got_shape[1:]) == tuple(ref_shape):
        if not path.lstrip("(").startswith(("d", "grads", "new_params")):
            return "It has an extra leading axis"
        what = "the batch (axis 0)" if len(ref_shape) == 1 else "its first axis"
        return (f"It has an extra leading axis: a gradient of a parameter that every example (and every step) "
                f"uses is a sum, so sum over {what}")
    return ""


def compare(ref, got, path, subnames=None):
    """Walk the expected structure: structural problems raise CheckFailure, values come back as Leaves.
    subnames: {path of a list: names of its entries} (dparams_f -> dU_xh, dW_hh, db), for messages."""
    subnames = subnames or {}
    if ref is IGNORE:
        return []
    if isinstance(ref, dict):
        if not isinstance(got, dict):
            raise CheckFailure(f"{path} should be a dict with keys {list(ref)}; yours is {describe(got)}.",
                               "structure", path)
        missing = [k for k in ref if k not in got]
        extra = [k for k in got if k not in ref]
        if missing:
            raise CheckFailure(f"{path} is missing the key(s) {missing}: it must have the keys {list(ref)} "
                               f"(the same keys as the parameters)."
                               + (f" It has extra keys {extra}." if extra else ""),
                               "structure", path)
        if extra:
            raise CheckFailure(f"{path} has unexpected key(s) {extra}; expected exactly {list(ref)}.",
                               "structure", path)
        leaves = []
        for k in ref:
            leaves += compare(ref[k], got[k], f"{path}['{k}']", subnames)
        return leaves
    if isinstance(ref, (list, tuple)):
        names = subnames.get(path)
        if got is None:
            raise CheckFailure(f"{path} is None; expected a list of {len(ref)}.", "structure", path)
        if not isinstance(got, (list, tuple)):
            raise CheckFailure(f"{path} should be a list (or tuple) of {len(ref)} values; yours is {describe(got)}.",
                               "structure", path)
        if len(got) != len(ref):
            raise CheckFailure(f"{path} should hold {len(ref)} values; yours holds {len(got)}.", "structure", path)
        leaves = []
        for i, (r, g) in enumerate(zip(ref, got)):
            sub = f"{path}[{i}]"
            if names is not None and i < len(names) and isinstance(names[i], str):
                sub = f"{path}[{i}] ({names[i]})"
            leaves += compare(r, g, sub, subnames)
        return leaves
    if _is_number(ref) and not isinstance(ref, np.ndarray):
        if got is None:
            raise CheckFailure(f"{path} is None; expected a number.", "structure", path)
        if isinstance(got, np.ndarray) and got.shape != ():
            raise CheckFailure(f"{path} should be a single number; yours is {describe(got)}"
                               + (" (use .item() or float(...))" if got.size == 1 else "") + ".", "structure", path)
        if not _is_number(got):
            raise CheckFailure(f"{path} should be a number; yours is {describe(got)}.", "structure", path)
        return [Leaf(path, float(ref), float(np.asarray(got)), "scalar")]
    # an array
    ref = np.asarray(ref)
    if got is None:
        raise CheckFailure(f"{path} is None; expected an array of shape {ref.shape}.", "structure", path)
    if not isinstance(got, np.ndarray):
        if _is_number(got) and ref.shape == ():
            got = np.asarray(got)
        elif isinstance(got, (list, tuple)) and ref.ndim >= 1 and len(got) == ref.shape[0]:
            raise CheckFailure(f"{path} should be one numpy array of shape {ref.shape}; yours is {describe(got)} "
                               f"(combine them with np.stack or np.array).", "structure", path)
        else:
            raise CheckFailure(f"{path} should be a numpy array of shape {ref.shape}; yours is {describe(got)}.",
                               "structure", path)
    if ref.dtype.kind in "iu":
        if got.dtype.kind not in "iu":
            raise CheckFailure(f"{path} should hold integer indices; yours has dtype {got.dtype}. Return "
                               f"integers (for example `.astype(np.int64)`).", "dtype", path)
    else:
        if got.dtype.kind in "iub":
            raise CheckFailure(f"{path} has the integer dtype {got.dtype}; expected float64. An integer array "
                               f"cannot hold these values (was it made with np.zeros_like of an integer array, "
                               f"or np.array of ints?).", "dtype", path)
        if got.dtype != np.float64:
            raise CheckFailure(f"{path} has dtype {got.dtype}; expected float64 (the inputs are float64: do not "
                               f"convert, and create new arrays with the default dtype or dtype=np.float64).",
                               "dtype", path)
    if got.shape != ref.shape:
        hint = _shape_hint(path, ref.shape, got.shape)
        raise CheckFailure(f"{path} has shape {tuple(got.shape)}; expected {tuple(ref.shape)}."
                           + (f" {hint}." if hint else ""), "shape", path)
    return [Leaf(path, ref, got, "int" if ref.dtype.kind in "iu" else "array")]


def leaf_error(leaf, tol=TOL):
    """(error, index, message) for one leaf; the message is empty when the error is at most tol."""
    if leaf.kind == "int":
        bad = np.argwhere(leaf.ref != leaf.got)
        if not len(bad):
            return 0.0, (), ""
        i = tuple(int(j) for j in bad[0])
        return 1.0, i, (f"{len(bad)} of {leaf.ref.size} entries differ; first at index {list(i)}: yours "
                        f"{leaf.got[i]}, expected {leaf.ref[i]}")
    if leaf.kind == "scalar":
        e, _ = rel_err_floor(np.array(leaf.ref), np.array(leaf.got))
        if e <= tol:
            return e, (), ""
        return e, (), f"yours {leaf.got!r}, expected {leaf.ref!r} (relative error {e:.2g})"
    e, i = rel_err_floor(leaf.ref, leaf.got)
    if e <= tol:
        return e, i, ""
    i = tuple(int(j) for j in i)
    if not np.all(np.isfinite(leaf.got)):
        n = int(np.sum(~np.isfinite(leaf.got)))
        return e, i, (f"it contains {n} NaN or infinite value(s), first at index {list(i)} (yours "
                      f"{leaf.got[i]}, expected {leaf.ref[i]:.6g})")
    return e, i, (f"largest relative error {e:.2g} at index {list(i)}: yours {leaf.got[i]:.6g}, expected "
                  f"{leaf.ref[i]:.6g}")


def warnings_note(record):
    notes = []
    w = record.get("warnings", [])
    if w:
        uniq = list(dict.fromkeys(w))
        notes.append("numpy warned while your function ran: " + "; ".join(uniq[:3])
                     + (" (an overflow in exp usually means the max was not subtracted first)"
                        if any("exp" in x for x in uniq) else ""))
    return notes


# ----------------------------------------------------------------------------------------------- running

SPECS = {}  # check name -> the Spec it last ran (for tests that inspect the hypotheses)


class Spec:
    """What one check compares.

    fname, out_names: the student's function and the names of what it returns (IGNORE in ref for a cache);
    ref(case): the expected outputs (a tuple, or a single value when single=True);
    fwd: for a backward check, (fwd_name, fwd_out_names, ref_fwd(case), cache_index);
    hyps: [(name, hyp(case) -> outputs shaped like ref, message)], typical mistakes, most specific first;
    probes: [(transform(case) -> case, note)]: if the student passes the transformed case, say note;
    case_notes: {case.note: text} said when the student passes a special case (T=1, B=1, ...);
    explain(spec, fns, case, failure, cases) -> (causes, notes): a check's own diagnosis, asked when no hypothesis
    matches (it may call the student's functions again through run_case).
    """

    def __init__(self, fname, out_names, cases, ref, fwd=None, hyps=(), probes=(), case_notes=None,
                 single=False, subnames=None, explain=None):
        self.fname, self.out_names, self.cases, self.ref = fname, tuple(out_names), cases, ref
        self.explain = explain
        self.fwd, self.hyps, self.probes = fwd, list(hyps), list(probes)
        self.case_notes = case_notes or {}
        self.single, self.subnames = single, subnames or {}


def _top(ref, got, names, fname, single, subnames):
    """Leaves of the top-level outputs; the returned-value shape problems as CheckFailure."""
    if single:
        if got is None and ref is not None:
            raise CheckFailure(f"{fname} returned None: did you forget the `return` statement (or is the stub "
                               f"still unfilled)?", "none")
        return compare(ref, got, names[0], subnames)
    n = len(ref)
    listing = ", ".join(names)
    if got is None:
        raise CheckFailure(f"{fname} returned None: did you forget the `return` statement (or is the stub still "
                           f"unfilled)? It should return {n} values: {listing}.", "none")
    if not isinstance(got, (tuple, list)):
        raise CheckFailure(f"{fname} should return {n} values ({listing}); yours returned {describe(got)}.",
                           "structure")
    if len(got) != n:
        raise CheckFailure(f"{fname} should return {n} values ({listing}); yours returned {len(got)}.",
                           "structure")
    leaves = []
    for r, g, name in zip(ref, got, names):
        leaves += compare(r, g, name, subnames)
    return leaves


def _leaves_of(out, spec):
    """Leaves of a value with the reference's structure (for hypotheses), keyed by path."""
    try:
        return {l.path: l.ref for l in _top(out, out, spec.out_names, spec.fname, spec.single,
                                              spec.subnames)}
    except Exception:
        return {}


def run_case(spec, fns, case, record):
    """Run one case. Returns (leaves, None) when every output agrees, else raises CheckFailure with
    .leaves (all compared outputs) and .bad (the first wrong leaf) set for value mismatches."""
    if spec.fwd is not None:
        fwd_name, fwd_names, ref_fwd, cache_i = spec.fwd
        fwd, bwd = fns
        arg_names = [k for k, _ in case.args]
        try:
            fo = student_call(fwd, fwd_name, case.values(), arg_names, case, record)
            fleaves = _top(ref_fwd(case), fo, fwd_names, fwd_name, False, {})
        except CheckFailure as e:
            if e.kind in ("stub", "none"):
                e.msg = f"This check runs your {fwd_name} first, to make the cache, and {e.msg}"
            else:
                e.msg = (f"Your {fwd_name} (the forward this check runs to make the cache) is wrong; fix it first "
                         f"(check_{fwd_name} says more). {e.msg}")
            e.kind = "forward"
            raise
        for leaf in fleaves:
            err, _, detail = leaf_error(leaf)
            if err > TOL:
                raise CheckFailure(f"Your {fwd_name} (the forward this check runs to make the cache) computes "
                                   f"{leaf.path} wrong; fix it first (check_{fwd_name} says more): {detail}.\n"
                                   f"  case: {case.label()}", "forward", leaf.path)
        cache = fo[cache_i]
        dnames = [k for k, _ in case.dargs]
        got = student_call(bwd, spec.fname, case.dvalues() + [cache], dnames, case, record)
    else:
        fn = fns[0]
        got = student_call(fn, spec.fname, case.values(), [k for k, _ in case.args], case, record)
    ref = spec.ref(case)
    try:
        leaves = _top(ref, got, spec.out_names, spec.fname, spec.single, spec.subnames)
    except CheckFailure as e:
        e.got = got
        raise
    bad = []
    for leaf in leaves:
        err, idx, detail = leaf_error(leaf)
        if err > TOL:
            bad.append((leaf, err, detail))
    if bad:
        raise CheckFailure(f"{bad[0][0].path} is wrong", "value", bad[0][0].path, got, leaves, bad)
    return leaves


def _passes(spec, fns, case):
    try:
        run_case(spec, fns, case, {})
        return True
    except CheckFailure:
        return False


class Predicate:
    """A hypothesis given as a property of the student's wrong output (e.g. 'its columns sum to 1')."""

    def __init__(self, test):
        self.test = test


def structural_causes(spec, case, got):
    """Messages of the hypotheses whose whole output the student's matches (used when shapes differ)."""
    causes = []
    for name, hyp, msg in spec.hyps:
        out = silently(hyp, case)
        if out is None or isinstance(out, Predicate):
            continue
        try:
            leaves = _top(out, got, spec.out_names, spec.fname, spec.single, spec.subnames)
        except CheckFailure:
            continue
        if leaves and all(close(l.ref, l.got) for l in leaves):
            causes.append(msg.replace("{out}", ""))
    return causes


def _nice_factor(k):
    """'3', '1/4', '-1', '-1/2' when k is (minus) a whole number or one over a whole number, else None."""
    for sign, a in ((1, k), (-1, -k)):
        if a <= 0:
            continue
        for v, fmt in ((a, "{}"), (1 / a, "1/{}")):
            n = round(v)
            if 1 <= n <= 10000 and abs(v - n) <= 1e-9 * n and (n > 1 or sign < 0):
                return ("-" if sign < 0 else "") + fmt.format(n)
    return None


def _generic_note(leaf, case=None):
    """What the wrong output is, when that is plain: all zeros, the transpose, a constant multiple.

    A constant multiple is named only when it says something about the mistake: an array whose entries are
    all off by one and the same factor, or (for a single number, which is always some multiple of the right
    one) a whole number or one over a whole number, such as B, 1/T or -1."""
    name = leaf.path.split(" ")[0]
    if leaf.kind not in ("array", "scalar"):
        return ""
    ref, got = np.asarray(leaf.ref, dtype=float), np.asarray(leaf.got, dtype=float)
    if not np.all(np.isfinite(got)):
        return ""
    if np.all(got == 0) and np.any(ref != 0):
        return f"{name} is all zeros: was it never computed, or never added to (+=) after being initialised?"
    if ref.ndim == 2 and ref.shape[0] == ref.shape[1] and close(ref.T, got):
        return f"{name} is the transpose of the right answer."
    if ref.ndim >= 2 and ref.shape[0] > 1:  # some slices along the first axis left at zero, the others right
        zero = [i for i in range(ref.shape[0]) if np.all(got[i] == 0) and np.any(ref[i] != 0)]
        rest = [i for i in range(ref.shape[0]) if i not in zero]
        if zero and rest and all(close(ref[i], got[i]) for i in rest):
            which = ", ".join(f"{name}[{i}]" for i in zero)
            return (f"{which} {'is' if len(zero) == 1 else 'are'} all zeros and the rest of {name} is right: "
                    f"that part was never computed, or never stored into {name}.")
    if not np.any(ref != 0):
        return ""
    big = np.abs(ref) > 1e-3 * np.max(np.abs(ref))
    k = got[big] / ref[big]
    if not (np.allclose(k, k.flat[0], rtol=1e-6) and close(ref * k.flat[0], got)):
        return ""
    k = float(k.flat[0])
    nice = _nice_factor(k)
    if nice is None and int(np.sum(big)) < 2:
        return ""  # one number is always some multiple of another: only a telling factor is worth saying
    if nice is None:
        return (f"{name} is exactly {k:.4g} times the right value, in every entry: a constant factor is "
                f"missing or extra.")
    if nice == "-1":
        return f"{name} is exactly -1 times the right value: its sign is flipped."
    dims = _case_dims(case)
    hits = [d for d, v in dims.items() if np.isclose(abs(k), v) or np.isclose(abs(k), 1 / v)]
    extra = f" ({', '.join(f'{d} = {dims[d]:g}' for d in hits)} in this case)" if hits else ""
    return (f"{name} is exactly {nice} times the right value{extra}: a factor is missing or extra "
            f"(a mean instead of a sum, a 1/B, a T, or a sign).")


def _case_dims(case):
    """{'T': 4, 'B': 3} when the case's first input is a time-major (T, B, ...) array, {} otherwise."""
    if case is None or not case.args:
        return {}
    v = case.args[0][1]
    dims = {}
    if isinstance(v, np.ndarray) and v.ndim >= 2 and v.dtype.kind == "f":
        dims = {"T": v.shape[0], "B": v.shape[1]} if v.ndim == 3 else {"B": v.shape[0]}
    for k, a in case.args:  # a language model's (T, B) character indices
        if k in ("inputs", "y_in") and isinstance(a, np.ndarray) and a.ndim == 2:
            dims = {"T": a.shape[0], "B": a.shape[1]}
    return {d: n for d, n in dims.items() if n > 1}


def _student_leaves(spec, fns, case):
    try:
        return {l.path: l.got for l in run_case(spec, fns, case, {})}
    except CheckFailure as e:
        return {l.path: l.got for l in e.leaves} if e.leaves is not None else None


def _disambiguate(spec, fns, cases, causes):
    """Several mistakes explain the first wrong output: keep those that explain the most cases in full."""
    outs = [(c, _student_leaves(spec, fns, c)) for c in cases]
    scores = []
    for hyp, _ in causes:
        score = 0
        for c, got in outs:
            out = silently(hyp, c)
            if got is None or out is None or isinstance(out, Predicate):
                continue
            h = _leaves_of(out, spec)
            score += bool(h) and all(p in got and close(v, got[p]) for p, v in h.items())
        scores.append(score)
    best = max(scores)
    return [c for c, s in zip(causes, scores) if s == best]


def diagnose(spec, fns, case, failure, cases):
    """Sentences on the likely cause of a value mismatch: matching hypotheses, then probes, then special cases."""
    leaf = failure.bad[0][0]
    causes = []
    for name, hyp, msg in spec.hyps:
        out = silently(hyp, case)
        if out is None:
            continue
        if isinstance(out, Predicate):
            hit = bool(silently(out.test, leaf.got))
        else:
            hl = _leaves_of(out, spec)
            h = hl.get(leaf.path)
            hit = h is not None and close(h, leaf.got) and not close(h, leaf.ref)
            # a mistake that would also spoil an output the student got right is not the student's mistake
            # (unless its message is about one output, {out}: such mistakes are made output by output)
            hit = hit and ("{out}" in msg or not any(close(l.ref, l.got) and l.path in hl
                                                     and not close(hl[l.path], l.ref) for l in failure.leaves))
        if hit:
            causes.append((hyp, msg.replace("{out}", leaf.path.split(" ")[0])))
    if len(causes) > 1:
        causes = _disambiguate(spec, fns, cases, causes)
    causes = [msg for _, msg in causes]
    notes = []
    if not causes and spec.explain is not None:
        try:
            more_causes, more_notes = spec.explain(spec, fns, case, failure, cases)
        except Exception:  # a diagnosis must never hide the failure itself
            more_causes, more_notes = [], []
        causes, notes = list(more_causes), list(more_notes)
    if not causes:
        generic = _generic_note(leaf, case)
        if generic:
            notes.append(generic)
        for transform, note in spec.probes:
            c2 = silently(transform, case)
            if c2 is not None and _passes(spec, fns, c2):
                notes.append(note)
        others = [c for c in cases if c is not case]
        if "large" in case.note:
            if all(_passes(spec, fns, c) for c in others):
                notes.append(f"It agrees with the reference in every other case; this one has {case.note}, so "
                             f"something overflows or loses precision for large values (subtract the max before "
                             f"exp; take log-probabilities as z - log(sum(exp(z))) with z = o - max(o), not "
                             f"log(softmax(o)), which can be log(0)).")
        elif case.note not in spec.case_notes:
            for c in others:
                if c.note in spec.case_notes and _passes(spec, fns, c):
                    notes.append(f"It agrees with the reference in the {c.note} case, {spec.case_notes[c.note]}")
    return causes, notes


def run_check(check_name, spec, fns, hidden):
    """The body of every check: None when every case agrees, else AssertionError with the diagnosis."""
    __tracebackhide__ = True  # IPython and pytest hide this frame: the student sees the message, not our code
    SPECS[check_name] = spec
    cases = spec.cases(hidden)
    for i, case in enumerate(cases):
        record = {}
        try:
            run_case(spec, fns, case, record)
        except CheckFailure as f:
            msg = _message(check_name, spec, fns, case, i, len(cases), f, record, cases, hidden=hidden)
            err = AssertionError(wrap_message(msg))
            raise err from None
    return None


WIDTH = 88  # nbgrader validate cuts lines at about 90 characters; feedback HTML cuts long lines too


def wrap_message(msg, width=WIDTH):
    """Wrap every line of a check's message to at most `width` characters. A continuation line keeps its
    line's indentation plus two spaces, so that each sentence still reads as one item."""
    import re
    import textwrap
    keep = "\u2007"  # a space textwrap does not break at: shapes and indices stay on one line
    msg = re.sub(r"[(\[]-?\d+(?:, -?\d+)*,?[)\]]|\([^()\s][^()]{0,14}\)",
                 lambda m: m.group(0).replace(" ", keep), str(msg))
    out = []
    for line in msg.split("\n"):
        indent = line[:len(line) - len(line.lstrip(" "))]
        body = line.strip()
        if not body:
            continue
        if len(indent) + len(body) <= width:
            out.append(indent + body)
            continue
        out += textwrap.wrap(body, width=width, initial_indent=indent, subsequent_indent=indent + "  ",
                             break_on_hyphens=False, break_long_words=True)
    return "\n".join(out).replace(keep, " ")


def wrapped(body, *args):
    """body(*args) for a check written as a function that raises AssertionError, its message wrapped."""
    __tracebackhide__ = True
    try:
        return body(*args)
    except AssertionError as e:
        raise AssertionError(wrap_message(str(e))) from None


def rebuild_hint(check_name, i, hidden):
    """The sentence that tells how to get a visible case's inputs (hidden cases cannot be rebuilt)."""
    if hidden:
        return ""
    return f"Rebuild it with rnn_ref.checks.case_inputs('{check_name}', {i + 1})."


def _message(check_name, spec, fns, case, i, n, f, record, cases, hidden=False):
    tail = []
    tail += warnings_note(record)
    printed = record.get("stdout", "").strip()
    if printed:
        first = printed.splitlines()[0][:100]
        tail.append(f"(your function printed output, first line: {first!r})")
    rebuild = rebuild_hint(check_name, i, hidden)
    if f.kind != "value":
        if f.kind in ("stub", "none") or (f.kind == "forward" and "case:" not in f.msg):
            return "\n  ".join([f"{check_name}: {f.msg}"] + tail)
        extra = []
        if f.kind in ("shape", "structure") and f.got is not None:
            extra = [f"Likely cause: {c}" for c in structural_causes(spec, case, f.got)[:2]]
        msg = f.msg
        if "\n  case:" in msg:
            first, rest = msg.split("\n  case:", 1)
            hint = []
            if "\n  hint: " in rest:  # the hint of an exception goes right after it, before the case
                rest, h = rest.split("\n  hint: ", 1)
                hint = [f"hint: {h}"]
            body = [f"{check_name}: {first}"] + hint + extra + [f"case {i + 1} of {n}:{rest}"]
        else:
            body = [f"{check_name}: {msg}"] + extra + [f"case {i + 1} of {n}: {case.label()}"]
        return "\n  ".join(body + tail + ([rebuild] if rebuild else []))
    leaf, err, detail = f.bad[0]
    lines = [f"{check_name}: {leaf.path} is wrong."]
    causes, notes = diagnose(spec, fns, case, f, cases)
    for c in causes[:2]:
        lines.append(f"Likely cause: {c}")
    lines += notes
    lines.append(f"{leaf.path}: {detail}.")
    lines.append(f"case {i + 1} of {n}: {case.label()}")
    right = [l.path for l in f.leaves if all(l is not b[0] for b in f.bad)]
    wrong = [b[0].path for b in f.bad[1:]]
    if len(f.leaves) > 1:
        summary = []
        if right:
            summary.append("right: " + ", ".join(right))
        if wrong:
            summary.append("also wrong: " + ", ".join(wrong))
        lines.append("Outputs " + "; ".join(summary) + ".")
    return "\n  ".join(lines + tail + ([rebuild] if rebuild else []))
