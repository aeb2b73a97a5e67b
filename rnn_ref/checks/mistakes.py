"""Typical student mistakes, written as functions of a check's case, for rnn_ref.checks to recognise.

Each list holds (name, hyp(case) -> outputs shaped like the reference's, message). When the student's first wrong
output equals a hypothesis's, the check says the message in plain words. {out} is replaced by the output's name.
"""
from itertools import permutations

import numpy as np

from . import engine as ck
from ..models.charlm import one_hot
from ..training.clip import clip_by_global_norm
from ..training.gradcheck import numerical_gradient
from ..training.loss import softmax, softmax_cross_entropy
from ..numerics import sigmoid


# ------------------------------------------------------------------------------------------------ numerical gradient
# A scalar function of x (read in place) whose gradient x^2 + 2 + e^x + w is never near zero and whose second and
# third derivatives are large enough that a forward difference or a wrong step shows. Written as an expression so
# that the grader's sandbox can build the same function next to the student's x.
NG_EXPR = "float(np.sum(x ** 3 / 3.0 + 2.0 * x + np.exp(x) + w * x))"
_NG_CODE = compile(NG_EXPR, "<the checked function>", "eval")


def _ng_func(x, w):
    return lambda: eval(_NG_CODE, {"np": np}, {"x": x, "w": w})


def _ng_cases(hidden):
    spec = ([(190, (4,), 1e-5, ""), (191, (2, 3), 1e-5, ""), (192, (2, 2, 2), 1e-5, "3-D x"),
             (193, (3, 2), 1e-2, "step h=1e-2"), (194, (1,), 1e-4, "a single entry, h=1e-4")] if hidden else
            [(90, (3,), 1e-5, ""), (91, (2, 3), 1e-5, ""), (92, (2, 2), 1e-2, "step h=1e-2")])
    cases = []
    for seed, shape, h, note in spec:
        rng = ck.case_rng(seed)
        cases.append(ck.Case(seed, [("x", rng.uniform(-1, 1, shape)), ("h", h)], note=note,
                             w=rng.uniform(0, 1, shape)))
    return cases


def _ng_ref(x, w, h):
    x = x.copy()
    return numerical_gradient(_ng_func(x, w), x, h)


def _ng_forward(x, w, h):
    x = x.copy()
    f = _ng_func(x, w)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        f0 = f()
        old = x[i]
        x[i] = old + h
        g[i] = (f() - f0) / h
        x[i] = old
    return g


def _ng_scaled(k):
    return lambda x, w, h: _ng_ref(x, w, h) * k


def _ng_fixed_step(step):
    return lambda x, w, h: _ng_ref(x, w, step)


NUMGRAD = [
    ("forward difference", _ng_forward,
     "you used a forward difference (f(x+h) - f(x)) / h, whose error is of order h; use the central difference "
     "(f(x+h) - f(x-h)) / (2h), whose error is of order h^2."),
    ("denominator h", _ng_scaled(2.0), "the gradient is twice too large: divide f(x+h) - f(x-h) by 2h, not h."),
    ("fixed step", _ng_fixed_step(1e-5), "you ignored the argument h (used 1e-5 whatever h is): use the step "
                                         "the caller passes."),
]


def _what_f_saw(seen, h):
    """The mistake that the values of x seen by f show, or ''. seen: x - x0 at each call of f."""
    if not seen:
        return ""
    moved = [np.flatnonzero(np.abs(d) > 1e-3 * h) for d in seen]
    if all(len(m) == 0 for m in moved):
        return ("f never saw x change: every call of f saw the original x. f reads x itself, so change x in "
                "place (x[i] = old + h), not a copy of x.")
    for d, m in zip(seen, moved):
        if len(m) > 1:
            return (f"when f ran, {len(m)} entries of x were changed at once: put each entry back (x[i] = old) "
                    f"before moving on to the next, so that each evaluation changes one entry only.")
    offsets = {}
    for d, m in zip(seen, moved):
        if len(m) == 1:
            offsets.setdefault(int(m[0]), []).append(float(d.flat[m[0]]))
    plus_twice = [i for i, o in offsets.items() if sum(np.isclose(v, h, rtol=1e-3) for v in o) >= 2
                  and not any(np.isclose(v, -h, rtol=1e-3) for v in o)]
    if plus_twice:
        return ("f saw x[i] + h at both evaluations of an entry: x still held old + h when f ran the second "
                "time. Set x[i] = old - h (in x itself, not a copy) before the second call.")
    minus_twice = [i for i, o in offsets.items() if sum(np.isclose(v, -h, rtol=1e-3) for v in o) >= 2
                   and not any(np.isclose(v, h, rtol=1e-3) for v in o)]
    if minus_twice:
        return ("f saw x[i] - h at both evaluations of an entry: set x[i] = old + h before the first call and "
                "x[i] = old - h before the second.")
    plus_only = [i for i, o in offsets.items() if any(np.isclose(v, h, rtol=1e-3) for v in o)
                 and not any(np.isclose(v, -h, rtol=1e-3) for v in o)]
    if plus_only and len(plus_only) == len(offsets):
        return ("f saw x[i] + h and the unchanged x, never x[i] - h: after x[i] += h, x[i] -= h only goes back "
                "to old. Set x[i] = old + h, call f, set x[i] = old - h, call f, then x[i] = old.")
    steps = sorted({float(f"{abs(v):.3g}") for o in offsets.values() for v in o})
    if len(steps) == 1 and not np.isclose(steps[0], h, rtol=1e-3):
        return (f"f saw x[i] moved by {steps[0]:g}, but the step h is {h:g}: move x[i] by exactly the h "
                f"the caller passes, x[i] = old + h and x[i] = old - h.")
    return ""


def check_numerical_gradient(f, hidden=False):
    __tracebackhide__ = True
    try:
        return _check_numerical_gradient(f, hidden)
    except AssertionError as e:
        raise AssertionError(ck.wrap_message(str(e))) from None


def _check_numerical_gradient(f, hidden=False):
    __tracebackhide__ = True
    name = "check_numerical_gradient"
    for i, case in enumerate(_ng_cases(hidden)):
        x0, h = case.arg("x"), case.arg("h")
        w = case.extra["w"]
        x = x0.copy()
        calls = [0]
        inner = _ng_func(x, w)
        seen = []  # how x differed from x0 at each call of f (the first few hundred calls)

        def func():
            calls[0] += 1
            if len(seen) < 400:
                seen.append(x - x0)
            return inner()

        record = {}
        where = f"\n  case {i + 1} of {len(_ng_cases(hidden))}: {case.label()}"
        rebuild = ck.rebuild_hint(name, i, hidden)
        where += f"\n  {rebuild}" if rebuild else ""
        try:
            with ck.quiet(record):
                in_sandbox = getattr(f, "numerical_gradient_in_sandbox", None)
                if in_sandbox is None:
                    got = f(func, x, h)
                else:  # f lives in the grader's sandbox: so must func, to read the x that f changes
                    got, x[...], calls[0], seen[:] = in_sandbox(x, w, h, NG_EXPR)
        except NotImplementedError:
            raise AssertionError(f"{name}: numerical_gradient is not implemented yet: it raised "
                                 f"NotImplementedError. Replace the `raise NotImplementedError` line with your "
                                 f"code.") from None
        except Exception as e:
            msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
            raise AssertionError(f"{name}: your numerical_gradient raised {type(e).__name__}: {msg}"
                                 f"{ck._where(e)}.{where}") from None
        if got is None:
            raise AssertionError(f"{name}: numerical_gradient returned None: did you forget the `return` "
                                 f"statement (or is the stub still unfilled)?")
        if not np.allclose(x, x0, rtol=1e-12, atol=1e-14):
            raise AssertionError(
                f"{name}: your numerical_gradient did not restore x: after it ran, x differs from before by up to "
                f"{np.max(np.abs(x - x0)):.3g}. After evaluating f at x[i] + h and x[i] - h, put the old value "
                f"back (x[i] = old), or every later entry is measured at the wrong point.{where}")
        if calls[0] == 0:
            raise AssertionError(f"{name}: your numerical_gradient never called f: it must call f() after "
                                 f"changing x in place (f reads x itself; it takes no arguments).{where}")
        try:
            leaves = ck.compare(_ng_ref(x0, w, h), got, "the gradient", "numerical_gradient")
        except ck.CheckFailure as e:
            raise AssertionError(f"{name}: {e.msg}{where}") from None
        leaf = leaves[0]
        err, idx, detail = ck.leaf_error(leaf)
        if err <= 1e-8:
            continue
        lines = [f"{name}: the gradient is wrong."]
        for hname, hyp, msg in NUMGRAD:
            hv = ck.silently(hyp, x0, w, h)
            if hv is not None and ck.close(hv, leaf.got, 1e-8):
                lines.append(f"Likely cause: {msg}")
                break
        else:
            seen_cause = _what_f_saw(seen, h)
            if seen_cause:
                lines.append(f"Likely cause: {seen_cause}")
        lines.append(f"the gradient: {detail}.{where}")
        if calls[0] < 2 * x0.size:
            lines.append(f"Your function called f {calls[0]} times for an x of {x0.size} entries; the central "
                         f"difference needs 2 calls per entry.")
        lines += ck.warnings_note(record)
        raise AssertionError("\n  ".join(lines))
    return None


# ------------------------------------------------------------------------------------------------ helpers
I = ck.IGNORE


def _rnn_fwd(x, h0, U, W, b, m=None):
    """A sequence forward with one mistake m (None: right)."""
    T = x.shape[0]
    h = np.zeros((T,) + h0.shape)
    prev = h0
    xs = x[::-1] if m == "reversed" else x
    for t in range(T):
        a = xs[t] @ U + (prev @ (W.T if m == "W_T" else W) if m != "no_h" else 0.0) + (b if m != "no_b" else 0.0)
        h[t] = a if m == "no_tanh" else np.tanh(a)
        if m not in ("prev_h0",):
            prev = h[t]
    if m == "alias":
        h[:] = h[-1]
    if m == "shifted":
        h = np.concatenate([h0[None], h[:-1]])
    if m == "reversed":
        h = h[::-1].copy()  # for t in reversed(range(T)): h[t] = step(x[t], previous)
    return h


def _rnn_bwd(dh, x, h0, U, W, h, m=None):
    """BPTT with one mistake m, written as an explicit loop over time."""
    T = x.shape[0]
    dx = np.zeros_like(x)
    dU, dW, db = np.zeros_like(U), np.zeros_like(W), np.zeros(W.shape[0])
    dnext = np.zeros_like(h0)
    order = {"forward_loop": range(T), "skip_last": range(T - 2, -1, -1),
             "skip_first": range(T - 1, 0, -1)}.get(m, range(T - 1, -1, -1))
    da0 = None
    for t in order:
        g = dh[t] + (dnext if m != "no_time_flow" else 0.0)
        if m == "dh_only_last" and t != T - 1:
            g = dnext
        da = {"no_tanh": g, "tanh_of_h": g * (1 - np.tanh(h[t]) ** 2)}.get(m, g * (1 - h[t] ** 2))
        hp = h[t - 1] if t > 0 else h0
        if m == "h_wrap":
            hp = h[t - 1]
        if m == "h_misaligned":
            hp = h[t]
        dx[t] = da @ U.T
        if m == "assign" or (m == "only_last" and t == T - 1):
            dU, dW, db = x[t].T @ da, hp.T @ da, da.sum(0)
        elif m != "only_last":
            dU += x[t].T @ da
            dW += hp.T @ da
            db += da.sum(0)
        dnext = da @ (W if m == "W_notT" else W.T)
        da0 = da
    if m == "db_mean":
        db = db / dh.shape[1]
    dh0 = da0 if m == "dh0_da" else dnext
    return dx, dh0, dU, dW, db


_RNN_BWD_MSGS = [
    ("no_tanh", "{out} is missing the tanh derivative: multiply the incoming gradient by (1 - h**2) before the "
                "matrix products (da = dh * (1 - h**2))."),
    ("tanh_of_h", "you used 1 - tanh(h)**2, but h is already tanh(a): the derivative is 1 - h**2."),
    ("W_notT", "the gradient sent back to the previous hidden state must be da @ W_hh.T (the forward computed "
               "h_prev @ W_hh); you used W_hh without .T."),
    ("assign", "{out} holds only one time step's contribution (t=0, the last one your backward loop visits): "
               "accumulate with += over every step (initialise with zeros before the loop)."),
    ("only_last", "{out} holds only the last time step's contribution: accumulate with += over every step."),
    ("no_time_flow", "no gradient flows back through time: at step t, add the gradient coming from step t+1 "
                     "(dnext = da_{t+1} @ W_hh.T) to dh[t] before the tanh derivative."),
    ("dh_only_last", "only the loss gradient of the last step enters: at every step t add dh[t] to the gradient "
                     "coming back from step t+1."),
    ("forward_loop", "your time loop runs forward (t = 0, 1, ...); backpropagation through time must run from "
                     "t = T-1 down to 0, so that the gradient from step t+1 is ready at step t."),
    ("skip_last", "your time loop starts at T-2 and skips the last step: use range(T-1, -1, -1)."),
    ("skip_first", "your time loop stops before t = 0: use range(T-1, -1, -1) (the stop value -1 is excluded)."),
    ("h_wrap", "at t = 0 you used h[t-1] = h[-1], which Python reads as the LAST state: at t = 0 the previous "
               "state is h0."),
    ("h_misaligned", "you used h[t] where step t's input state h[t-1] is needed (h_prev is misaligned by one "
                     "step): dW_hh sums h[t-1].T @ da_t, with h0 at t = 0."),
    ("db_mean", "db is averaged; a bias gradient is a sum over the batch (and over time): da.sum(axis=0)."),
    ("dh0_da", "dh0 must be da_0 @ W_hh.T (the gradient that reaches h0 through W_hh); you returned da_0 itself."),
]


def _rnn_bwd_hyp(m):
    def hyp(c):
        x, h0, U, W, b = c.values()
        h = _rnn_fwd(x, h0, U, W, b)
        return _rnn_bwd(c.arg("dh"), x, h0, U, W, h, m)
    return hyp


RNN_BACKWARD = [(m, _rnn_bwd_hyp(m), msg) for m, msg in _RNN_BWD_MSGS]


def _rnn_step_bwd_hyp(m):
    def hyp(c):
        x, hp, U, W, b = c.values()
        dx, dhp, dU, dW, db = _rnn_bwd(c.arg("dh")[None], x[None], hp, U, W, _rnn_fwd(x[None], hp, U, W, b), m)
        h = np.tanh(x @ U + hp @ W + b)
        da = c.arg("dh") * (1 - h * h)
        if m == "dW_T":
            dW = da.T @ hp
        if m == "dW_h":
            dW = h.T @ da
        if m == "tanh_1mh":
            da = c.arg("dh") * (1 - h)
            return da @ U.T, da @ W.T, x.T @ da, hp.T @ da, da.sum(0)
        return dx[0], dhp, dU, dW, db
    return hyp


RNN_STEP_BACKWARD = [(m, _rnn_step_bwd_hyp(m), msg) for m, msg in _RNN_BWD_MSGS
                     if m in ("no_tanh", "tanh_of_h", "W_notT", "db_mean", "dh0_da")] + [
    ("tanh_1mh", _rnn_step_bwd_hyp("tanh_1mh"), "the tanh derivative is 1 - h**2, not 1 - h."),
    ("dW_T", _rnn_step_bwd_hyp("dW_T"), "dW_hh is transposed: it is h_prev.T @ da, not da.T @ h_prev."),
    ("dW_h", _rnn_step_bwd_hyp("dW_h"), "dW_hh used h (this step's output) instead of h_prev: "
                                        "dW_hh = h_prev.T @ da."),
]
for _i, (_m, _f, _msg) in enumerate(RNN_STEP_BACKWARD):
    if _m == "dh0_da":
        RNN_STEP_BACKWARD[_i] = (_m, _f, "dh_prev must be da @ W_hh.T (the gradient that reaches h_prev through "
                                         "W_hh); you returned da itself.")

_RNN_FWD_MSGS = [
    ("W_T", "you multiplied by W_hh.T: in the course's row convention the recurrence is h_prev @ W_hh."),
    ("no_tanh", "the tanh is missing: h = tanh(x @ U_xh + h_prev @ W_hh + b)."),
    ("no_b", "the bias b is missing."),
    ("no_h", "the recurrence is missing: add h_prev @ W_hh before the tanh."),
    ("prev_h0", "every step uses h0 as its previous state: after each step, the new h becomes the previous "
                "state of the next step."),
    ("alias", "every time step holds the same (last) state: you stored one array that kept changing in place; "
              "write each step into h[t] (or store a copy)."),
    ("shifted", "your states are shifted by one step: h[t] must be the state AFTER reading x[t] "
                "(h[0] = tanh(x[0] @ U_xh + h0 @ W_hh + b)), not h0."),
    ("reversed", "your loop reads x from the end: the forward pass runs t = 0, 1, ..., T-1."),
]


def _rnn_fwd_hyp(m):
    return lambda c: (_rnn_fwd(*c.values(), m), I)


def _rnn_step_fwd_hyp(m):
    return lambda c: (_rnn_fwd(c.arg("x")[None], *c.values()[1:], m)[0], I)


RNN_FORWARD = [(m, _rnn_fwd_hyp(m), msg) for m, msg in _RNN_FWD_MSGS] + [
    ("with_h0", lambda c: (np.concatenate([c.arg("h0")[None], _rnn_fwd(*c.values())]), I),
     "your h has T + 1 states: it starts with h0. Return only the T new states, h[t] the state after reading "
     "x[t] (h0 is an input, not an output)."),
    ("last_only", lambda c: (_rnn_fwd(*c.values())[-1], I),
     "you returned only the last state; rnn_forward returns every step's state, h of shape (T, B, H)."),
]
RNN_STEP_FORWARD = [(m, _rnn_step_fwd_hyp(m), msg.replace("every step uses h0", "h_prev is not used"))
                    for m, msg in _RNN_FWD_MSGS[:4]] + [
    ("sigmoid", lambda c: (sigmoid(c.arg("x") @ c.arg("U_xh") + c.arg("h_prev") @ c.arg("W_hh") + c.arg("b")), I),
     "you used the sigmoid; the vanilla RNN's nonlinearity is tanh."),
    ("relu", lambda c: (np.maximum(0, c.arg("x") @ c.arg("U_xh") + c.arg("h_prev") @ c.arg("W_hh") + c.arg("b")), I),
     "you used a ReLU; the vanilla RNN's nonlinearity is tanh."),
    ("b_outside", lambda c: (np.tanh(c.arg("x") @ c.arg("U_xh") + c.arg("h_prev") @ c.arg("W_hh")) + c.arg("b"), I),
     "the bias is added after the tanh; it belongs inside: tanh(x @ U_xh + h_prev @ W_hh + b)."),
]


# ------------------------------------------------------------------------------------------------ losses
def _naive_softmax(o, axis=-1):
    e = np.exp(o)
    return e / e.sum(axis=axis, keepdims=True)


def _axis(c):
    """The axis a softmax case asks for, as a non-negative number."""
    o = c.arg("o")
    ax = dict(c.args).get("axis", -1)
    return ax % o.ndim


def _sums_to_one_along(g, ax):
    return g.ndim >= 2 and g.shape[ax] > 1 and np.allclose(g.sum(ax), 1)


def _softmax_mixed(c, max_axis, sum_axis):
    o = c.arg("o")
    e = np.exp(o - o.max(axis=max_axis, keepdims=True))
    return e / e.sum(axis=sum_axis, keepdims=True)


SOFTMAX = [
    ("unstable", lambda c: _naive_softmax(c.arg("o"), _axis(c)),
     "exp overflows for large logits (exp(1000) is inf, and inf/inf is NaN): subtract each row's max "
     "(along `axis`) first, softmax(o) = softmax(o - max(o)), which changes nothing mathematically."),
    ("global_max", lambda c: _naive_softmax(c.arg("o") - c.arg("o").max(), _axis(c)),
     "you subtracted the max of the whole array; subtract each row's own max (o.max(axis=axis, keepdims=True)), "
     "or rows far below the global max underflow to 0/0."),
    ("ignores_axis", lambda c: softmax(c.arg("o")) if _axis(c) != c.arg("o").ndim - 1 else None,
     "your softmax ignores its `axis` argument: it normalises along the last axis whatever axis it is given. "
     "Take the max and the sum along `axis` (np.max(o, axis=axis, keepdims=True), and the same for the sum)."),
    ("max_last", lambda c: _softmax_mixed(c, -1, _axis(c)) if _axis(c) != c.arg("o").ndim - 1 else None,
     "you take the sum along `axis` but the max along the last axis: a max subtracted along another axis is "
     "not a constant along `axis`, so it changes the result. Take both along `axis`."),
    ("sum_last", lambda c: _softmax_mixed(c, _axis(c), -1) if _axis(c) != c.arg("o").ndim - 1 else None,
     "you take the max along `axis` but the sum along the last axis: take the sum along `axis` too."),
    ("axis0", lambda c: ck.Predicate(lambda g: _axis(c) != 0 and _sums_to_one_along(g, 0)),
     "your output sums to 1 along axis 0; the softmax runs along `axis` (by default the last axis, the "
     "classes): use axis=axis, not axis=0."),
    ("all", lambda c: ck.Predicate(lambda g: np.isclose(g.sum(), 1) and g.size > g.shape[_axis(c)]),
     "the whole array sums to 1; each row must sum to 1: sum along `axis` with keepdims=True."),
    ("rows", lambda c: ck.Predicate(lambda g: np.all(np.isfinite(g)) and not np.allclose(g.sum(_axis(c)), 1)
                                    and not np.allclose(g.sum(0), 1) and not np.isclose(g.sum(), 1)),
     "your output does not sum to 1 along the axis: divide exp(o - max) by its sum along `axis` "
     "(keepdims=True)."),
]


def _sce(c, loss_k=1.0, do_k=1.0, m=None):
    o, y = c.arg("o"), c.arg("y")
    T, B, K = o.shape
    loss, do = softmax_cross_entropy(o, y)
    if m == "sign":
        do = -do
    if m == "no_onehot":
        do = softmax(o) / B
    if m == "unstable":
        p = _naive_softmax(o)
        t, b = np.indices((T, B))
        loss = -np.log(p[t, b, y]).sum() / B
        do = p.copy()
        do[t, b, y] -= 1
        do /= B
    return loss * loss_k, do * do_k


def _sce_hyp(loss_k, do_k, m=None, scale=None):
    def hyp(c):
        T, B, _ = c.arg("o").shape
        kk = {"T": 1.0 / T, "B": B, "TB": 1.0 / T, "1/T": 1.0 / T, "1": 1.0}
        return _sce(c, kk[loss_k] if isinstance(loss_k, str) else loss_k,
                    kk[do_k] if isinstance(do_k, str) else do_k, m)
    return hyp


SOFTMAX_CROSS_ENTROPY = [
    ("unstable", _sce_hyp(1, 1, "unstable"),
     "the softmax overflows for large logits: subtract each row's max before exp (better, use log_softmax: "
     "log p = z - log(sum(exp(z))) with z = o - max(o))."),
    ("loss_mean_T", _sce_hyp("T", "T"),
     "the loss is averaged over time too (T times too small): the course's loss is SUMMED over time and "
     "averaged over the batch only, L = (1/B) sum_t sum_b -log p[t, b, y[t, b]]."),
    ("loss_sum_B", _sce_hyp("B", "B"),
     "the loss is not averaged over the batch (B times too large): divide the sum by B."),
    ("do_noB", _sce_hyp(1, "B"),
     "do is missing the 1/B: since the loss is averaged over the batch, dL/do = (softmax(o) - onehot(y)) / B."),
    ("do_T", _sce_hyp(1, "T"),
     "do is divided by T as well; the loss is summed over time, so dL/do = (softmax(o) - onehot(y)) / B."),
    ("sign", _sce_hyp(1, 1, "sign"), "do has the wrong sign: dL/do = (softmax(o) - onehot(y)) / B."),
    ("loss_sign", _sce_hyp(-1, 1), "the loss has the wrong sign: it is MINUS the log-probability of the "
                                   "target, -log p[t, b, y[t, b]], a positive number."),
    ("no_onehot", _sce_hyp(1, 1, "no_onehot"),
     "do is softmax(o) / B: subtract 1 at each target class, do[t, b, y[t, b]] -= 1 (before dividing by B)."),
]

PERPLEXITY = [
    ("exp_neg", lambda c: float(np.exp(-c.arg("loss_per_token"))),
     "you computed exp(-loss); perplexity is exp(+loss per token)."),
    ("pow10", lambda c: float(10.0 ** c.arg("loss_per_token")),
     "you computed 10 ** loss, but the loss is in nats (natural log): perplexity = exp(loss)."),
    ("pow2", lambda c: float(2.0 ** c.arg("loss_per_token")),
     "you computed 2 ** loss, but the loss is in nats (natural log): perplexity = exp(loss)."),
    ("identity", lambda c: float(c.arg("loss_per_token")), "you returned the loss itself: perplexity = exp(loss)."),
    ("log", lambda c: float(np.log(c.arg("loss_per_token"))), "you took a log; perplexity = exp(loss)."),
]


# ------------------------------------------------------------------------------------------------ clipping
def _norm_per_tensor(g, m):
    n = np.sqrt(np.sum(g * g))
    return g * (m / n) if n > m else g.copy()


def _gnorm(grads):
    return float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))


CLIP_BY_VALUE = [
    ("upper_only", lambda c: {k: np.minimum(g, c.arg("limit")) for k, g in c.arg("grads").items()},
     "only the upper limit is applied: clip to [-limit, limit], np.clip(g, -limit, limit)."),
    ("abs", lambda c: {k: np.clip(np.abs(g), -c.arg("limit"), c.arg("limit")) for k, g in c.arg("grads").items()},
     "the signs are lost (np.abs): clip each entry into [-limit, limit] and keep its sign, "
     "np.clip(g, -limit, limit)."),
    ("zero_lower", lambda c: {k: np.clip(g, 0, c.arg("limit")) for k, g in c.arg("grads").items()},
     "you clipped to [0, limit]; the range is [-limit, limit]."),
    ("norm_per_tensor", lambda c: {k: _norm_per_tensor(g, c.arg("limit")) for k, g in c.arg("grads").items()},
     "you clipped the norm of each tensor; clipping by value clips every entry on its own: "
     "np.clip(g, -limit, limit)."),
    ("global_norm", lambda c: clip_by_global_norm(c.arg("grads"), c.arg("limit"))[0],
     "you clipped by the global norm; clipping by value clips every entry on its own: np.clip(g, -limit, limit)."),
]


def _cgn(m):
    def hyp(c):
        grads, mx = c.arg("grads"), c.arg("max_norm")
        n = _gnorm(grads)
        if m == "per_tensor":
            return {k: _norm_per_tensor(g, mx) for k, g in grads.items()}, n
        if m == "always":
            return {k: g * (mx / n) for k, g in grads.items()}, n
        if m == "no_sqrt":
            n2 = n * n
            return {k: g * (mx / n2 if n2 > mx else 1.0) for k, g in grads.items()}, n2
        if m == "by_value":
            return {k: np.clip(g, -mx, mx) for k, g in grads.items()}, n
        if m == "sum_norms":
            s = float(sum(np.sqrt(np.sum(g * g)) for g in grads.values()))
            return {k: g * (mx / s if s > mx else 1.0) for k, g in grads.items()}, s
        if m == "inverse":
            return {k: g * (n / mx if n > mx else 1.0) for k, g in grads.items()}, n
        if m == "norm_after":
            out, _ = clip_by_global_norm(grads, mx)
            return out, _gnorm(out)
    return hyp


CLIP_BY_GLOBAL_NORM = [
    ("per_tensor", _cgn("per_tensor"),
     "each tensor was scaled by its own norm; the global norm is sqrt(sum over ALL tensors of their squared "
     "entries), and every tensor is scaled by the same factor max_norm / global_norm (that keeps the direction)."),
    ("always", _cgn("always"),
     "you rescaled even though the norm was not above max_norm: when norm <= max_norm the gradients stay as they are."),
    ("no_sqrt", _cgn("no_sqrt"), "the norm is missing its square root: norm = sqrt(sum of squares)."),
    ("by_value", _cgn("by_value"), "you clipped every entry by value; clipping by global norm rescales all "
                                   "tensors together by max_norm / norm."),
    ("sum_norms", _cgn("sum_norms"), "you added the per-tensor norms; the global norm is sqrt of the sum of "
                                     "ALL squared entries (sum the squares first, then one sqrt)."),
    ("inverse", _cgn("inverse"), "the scale is upside down: multiply by max_norm / norm (< 1), not norm / max_norm."),
    ("norm_after", _cgn("norm_after"), "you returned the norm after clipping; return the norm before clipping."),
]


# ------------------------------------------------------------------------------------------------ sampling
def _inv_cdf(p, u, strict=True, flat=False):
    B, K = p.shape
    cdf = np.cumsum(p).reshape(B, K) if flat else np.cumsum(p, axis=1)
    k = (cdf <= u[:, None]).sum(1) if strict else (cdf < u[:, None]).sum(1)
    return np.minimum(k, K - 1).astype(np.int64)


def _samp(m):
    def hyp(c):
        o, t, u = c.arg("o"), c.arg("temperature"), c.arg("u")
        if t == 0:
            if m == "div0":
                return np.zeros(o.shape[0], dtype=np.int64)
            if m == "argmin":
                return o.argmin(axis=1).astype(np.int64)
            return None
        p = softmax(o / t)
        if m == "ignore_t":
            p = softmax(o)
        if m == "times_t":
            p = softmax(o * t)
        if m == "after_softmax":
            p = softmax(o) / t
        if m == "ge":
            return _inv_cdf(p, u, strict=False)
        if m == "flat":
            return _inv_cdf(p, u, flat=True)
        k = _inv_cdf(p, u)
        if m == "argmax_none":
            none = np.cumsum(p, axis=1)[:, -1] <= u
            return np.where(none, 0, k).astype(np.int64) if none.any() else None
        if m == "plus1":
            return np.minimum(k + 1, o.shape[1] - 1)
        if m == "minus1":
            return np.maximum(k - 1, 0)
        return k
    return hyp


SAMPLE_INDEX = [
    ("index_K", lambda c: ck.Predicate(lambda g: np.any(np.asarray(g) >= c.arg("o").shape[1])),
     "you returned an index equal to K (the number of classes), a class that does not exist: when round-off "
     "leaves the last CDF entry a hair below u, no entry is > u. Cap the index: np.minimum(k, K - 1)."),
    ("argmax_none", _samp("argmax_none"),
     "where no CDF entry is > u (round-off can leave the last one a hair below u), np.argmax(cdf > u) finds no "
     "True and returns 0: return the last class, K - 1, in that case (np.minimum(k, K - 1) with k counted "
     "as np.sum(cdf <= u))."),
    ("greedy", lambda c: c.arg("o").argmax(axis=1).astype(np.int64) if c.arg("temperature") > 0 else None,
     "you return the argmax whatever the temperature: temperature 0 is greedy, any other temperature draws "
     "from softmax(o / temperature) by the inverse CDF at u."),
    ("div0", _samp("div0"), "temperature 0 means greedy: return o.argmax(axis=1) (do not divide by 0)."),
    ("argmin", _samp("argmin"), "temperature 0 means greedy: the most likely class, argmax, not argmin."),
    ("ignore_t", _samp("ignore_t"), "the temperature is ignored: sample from softmax(o / temperature)."),
    ("times_t", _samp("times_t"), "you multiplied the logits by the temperature; divide: softmax(o / temperature)."),
    ("after_softmax", _samp("after_softmax"),
     "the temperature is applied after the softmax (probabilities / T no longer sum to 1): divide the LOGITS, "
     "softmax(o / temperature)."),
    ("ge", _samp("ge"), "you return the smallest k with cdf[k] >= u; the rule is cdf[k] > u (strictly), e.g. "
                        "np.searchsorted(cdf, u, side='right')."),
    ("flat", _samp("flat"), "np.cumsum without axis=1 runs over the whole (B, K) array; take the cumulative sum "
                            "along each row."),
    ("plus1", _samp("plus1"), "off by one: you return the index after the right one (the smallest k with "
                              "cdf[k] > u)."),
    ("minus1", _samp("minus1"), "off by one: you return the largest k with cdf[k] <= u; the rule is the "
                                "smallest k with cdf[k] > u."),
]


# ------------------------------------------------------------------------------------------------ char LM
def _lm(params, inputs, targets, h0, loss_k="1", rnn_m=None, hlast="last"):
    p = params
    T, B = inputs.shape
    V, H = p["U_xh"].shape
    x = one_hot(inputs, V)
    h = _rnn_fwd(x, h0, p["U_xh"], p["W_hh"], p["b"])
    o = h @ p["V_ho"] + p["b_y"]
    loss, do = softmax_cross_entropy(o, targets)
    k_loss, k_do = {"1": (1, 1), "T": (1 / T, 1 / T), "B": (B, B), "do_B": (1, B)}[loss_k]
    loss, do = loss * k_loss, do * k_do
    dV = np.einsum("tbh,tbk->hk", h, do)
    db_y = do.sum((0, 1))
    dh = do @ p["V_ho"].T
    _, _, dU, dW, db = _rnn_bwd(dh, x, h0, p["U_xh"], p["W_hh"], h, rnn_m)
    h_last = {"last": h[-1], "h0": h0, "first": h[0]}[hlast]
    return loss, {"U_xh": dU, "W_hh": dW, "b": db, "V_ho": dV, "b_y": db_y}, h_last


_LM_LOSS_MSGS = [
    ("T", "the loss is averaged over time too (T times too small), and the gradients with it: the loss is SUMMED "
          "over time and averaged over the batch."),
    ("B", "the loss is not averaged over the batch (B times too large), and the gradients with it: divide by B."),
    ("do_B", "the gradients are B times too large: dL/do = (softmax(o) - onehot(y)) / B, since the loss is "
             "averaged over the batch."),
]
_LM_RNN = ("no_tanh", "tanh_of_h", "W_notT", "assign", "only_last", "no_time_flow", "dh_only_last", "forward_loop",
           "skip_last", "h_wrap", "h_misaligned", "db_mean")
_RNN_MSG = dict(_RNN_BWD_MSGS)


def _lm_hyp(**kw):
    return lambda c: _lm(*c.values()[:4], **kw)


CHAR_LM_LOSS = ([(k, _lm_hyp(loss_k=k), msg) for k, msg in _LM_LOSS_MSGS]
                + [(m, _lm_hyp(rnn_m=m), "in the backward pass through the RNN: " + _RNN_MSG[m]) for m in _LM_RNN]
                + [("h_last_h0", _lm_hyp(hlast="h0"), "h_last must be the hidden state after the last step, h[T-1], "
                                                      "not h0."),
                   ("h_last_first", _lm_hyp(hlast="first"), "h_last must be the hidden state after the LAST step, "
                                                            "h[T-1] (h[-1]), not h[0].")])


def _train(c, clip="global", sign=1.0):
    params, inputs, targets, h0, lr, mx = c.values()
    loss, grads, h_last = _lm(params, inputs, targets, h0)
    if clip == "global":
        grads, _ = clip_by_global_norm(grads, mx)
    elif clip == "value":
        grads = {k: np.clip(g, -mx, mx) for k, g in grads.items()}
    elif clip == "per_tensor":
        grads = {k: _norm_per_tensor(g, mx) for k, g in grads.items()}
    return {k: params[k] - sign * lr * grads[k] for k in params}, loss, h_last


def _value_clip_bites(c):
    """True when clipping by value with max_norm changes some gradient entry of this case."""
    _, grads, _ = _lm(*c.values()[:4])
    return any(np.any(np.abs(g) > c.arg("max_norm")) for g in grads.values())


CHAR_LM_TRAIN_STEP = [
    ("no_clip", lambda c: _train(c, clip=None),
     "the gradients were not clipped: clip them by global norm (clip_by_global_norm(grads, max_norm)) before the "
     "SGD update. (Clipping each entry by value is not the same: a step can be far too long even when every "
     "entry is small.)"),
    ("clip_value", lambda c: _train(c, clip="value") if _value_clip_bites(c) else None,
     "you clipped by value; this step clips by global norm: every gradient scaled by max_norm / norm when the "
     "global norm exceeds max_norm."),
    ("clip_per_tensor", lambda c: _train(c, clip="per_tensor"),
     "you clipped each tensor by its own norm; clip by the global norm of all gradients together."),
    ("ascent", lambda c: _train(c, sign=-1.0), "the update goes uphill: params - lr * grads, not +."),
]


# ------------------------------------------------------------------------------------------------ architectures
def _m2o(c, rnn_m=None, k_loss=1.0, k_grad=1.0, state="last"):
    x, h0, p, y = c.values()
    T, B, _ = x.shape
    h = _rnn_fwd(x, h0, p["U_xh"], p["W_hh"], p["b"])
    hs = h[-1] if state == "last" else h[0]
    o = hs @ p["V_ho"] + p["b_y"]
    loss, do = softmax_cross_entropy(o[None], y[None])
    do = do[0] * k_grad
    dh = np.zeros_like(h)
    dh[-1 if state == "last" else 0] = do @ p["V_ho"].T
    if rnn_m == "dh_every_step":
        dh[:] = do @ p["V_ho"].T
        rnn_m = None
    _, _, dU, dW, db = _rnn_bwd(dh, x, h0, p["U_xh"], p["W_hh"], h, rnn_m)
    return loss * k_loss, {"U_xh": dU, "W_hh": dW, "b": db, "V_ho": hs.T @ do, "b_y": do.sum(0)}


def _m2o_B(kind):
    def hyp(c):
        B = c.arg("x").shape[1]
        return _m2o(c, k_loss=B, k_grad=B) if kind == "both" else _m2o(c, k_grad=B)
    return hyp


MANY_TO_ONE_LOSS = [
    ("sum_B", _m2o_B("both"), "the loss is summed over the batch (B times too large), and the gradients with it: "
                              "average over the batch."),
    ("grad_B", _m2o_B("grad"), "the gradients are B times too large: dL/do = (softmax(o) - onehot(y)) / B."),
    ("first_state", lambda c: _m2o(c, state="first"),
     "you classified from h[0]; a many-to-one model reads the sequence to the end and classifies from the last "
     "hidden state h[T-1] (h[-1])."),
    ("dh_every_step", lambda c: _m2o(c, rnn_m="dh_every_step"),
     "the output's gradient enters at every time step, as if each step had a loss; in a many-to-one model only "
     "h[T-1] feeds the output, so the upstream dh is do @ V_ho.T at the last step and zero before it (the "
     "earlier steps get their gradient through time, from W_hh)."),
    ("no_time_flow", lambda c: _m2o(c, rnn_m="no_time_flow"),
     "only the last time step contributes to the RNN's gradients: the loss sees h[T-1] only, but the gradient must "
     "flow back from there through every earlier step (dnext = da_t @ W_hh.T) and each step's contribution must "
     "be added (+=) to dU_xh, dW_hh and db."),
] + [(m, (lambda m: lambda c: _m2o(c, rnn_m=m))(m), "in the backward pass through the RNN: " + _RNN_MSG[m])
     for m in ("no_tanh", "tanh_of_h", "W_notT", "assign", "forward_loop", "h_wrap", "h_misaligned", "db_mean")]


def _encdec(c, start="enc_last", with_b_y=True, m=None):
    x, y_in, h0, p = c.values()
    K = p["U_dec"].shape[0]
    he = _rnn_fwd(x, h0, p["U_enc"], p["W_enc"], p["b_enc"])
    s = {"enc_last": he[-1], "zeros": np.zeros_like(h0), "h0": h0, "enc_first": he[0]}[start]
    if m == "context_every_step":
        hd = np.tanh(one_hot(y_in, K) @ p["U_dec"] + he[-1] @ p["W_dec"] + p["b_dec"])
        return hd @ p["V_ho"] + p["b_y"], I
    W = p["W_enc"] if m == "enc_weights" else p["W_dec"]
    hd = _rnn_fwd(one_hot(y_in, K), s, p["U_dec"], W, p["b_dec"])
    return hd @ p["V_ho"] + (p["b_y"] if with_b_y else 0.0), I


ENCODER_DECODER_FORWARD = [
    ("zeros", lambda c: _encdec(c, "zeros"), "your decoder starts from zeros; it must start from the encoder's "
                                             "last hidden state, which carries the whole input."),
    ("h0", lambda c: _encdec(c, "h0"), "your decoder starts from h0; it must start from the encoder's last hidden "
                                       "state h_enc[-1]."),
    ("enc_first", lambda c: _encdec(c, "enc_first"), "your decoder starts from the encoder's FIRST state h_enc[0]; "
                                                     "it must start from the last one, h_enc[-1]."),
    ("no_b_y", lambda c: _encdec(c, with_b_y=False), "the output bias b_y is missing: logits = h_dec @ V_ho + b_y."),
    ("enc_weights", lambda c: _encdec(c, m="enc_weights"),
     "your decoder's recurrence uses W_enc; the decoder has its own weights: h_dec_t = tanh(onehot(y_in[t]) "
     "@ U_dec + h_dec_{t-1} @ W_dec + b_dec)."),
    ("context_every_step", lambda c: _encdec(c, m="context_every_step"),
     "every decoder step starts from the encoder's last state: it is the decoder's INITIAL state only; "
     "after that each step continues from the decoder's own previous state."),
]


def _bi(c, m=None):
    x, h0f, h0b, pf, pb = c.values()
    hf = _rnn_fwd(x, h0f, *pf)
    xb = x if m == "no_reverse_in" else x[::-1]
    hb = _rnn_fwd(xb, h0f if m == "same_h0" else h0b, *(pf if m == "same_params" else pb))
    if m not in ("no_reverse_out", "no_reverse_in"):
        hb = hb[::-1]
    return (np.concatenate([hb, hf], 2) if m == "swapped" else np.concatenate([hf, hb], 2)), I


BIDIRECTIONAL_FORWARD = [
    ("no_reverse_out", lambda c: _bi(c, "no_reverse_out"),
     "the backward direction's states are still in reversed time order: after running the backward cell on "
     "x[::-1], flip its states back (h_b[::-1]) so that position t holds the state for x[t]."),
    ("no_reverse_in", lambda c: _bi(c, "no_reverse_in"),
     "the backward cell reads the sequence forward: feed it x[::-1] (and flip its states back)."),
    ("swapped", lambda c: _bi(c, "swapped"), "the halves are swapped: h = [forward states, backward states] along "
                                             "the last axis, forward first."),
    ("same_params", lambda c: _bi(c, "same_params"), "the backward cell uses params_f; it has its own params_b."),
    ("same_h0", lambda c: _bi(c, "same_h0"), "the backward cell starts from h0_f; it starts from h0_b."),
    ("axis0", lambda c: (np.concatenate([_bi(c)[0][..., :c.arg("h0_f").shape[1]],
                                         _bi(c)[0][..., c.arg("h0_f").shape[1]:]], 0), I),
     "you concatenated the two directions along the time axis; join them along the last axis, "
     "np.concatenate([h_f, h_b], axis=-1), so that h[t] holds both states for step t."),
]


def _bi_bwd(m):
    def hyp(c):
        from ..models.bidirectional import bidirectional_forward
        _, bc = bidirectional_forward(*c.values())
        cf, cb, H, cell_backward = bc.cache_f, bc.cache_b, bc.H, bc.cell.run_backward
        dh = c.arg("dh")
        dfh, dbh = (dh[:, :, H:], dh[:, :, :H]) if m == "swapped" else (dh[:, :, :H], dh[:, :, H:])
        dx_f, ds_f, dp_f = cell_backward(dfh, cf)
        dx_b, ds_b, dp_b = cell_backward(dbh if m == "dh_not_reversed" else dbh[::-1], cb)
        dx = {"dx_not_reversed": dx_f + dx_b, "dx_forward_only": dx_f}.get(m, dx_f + dx_b[::-1])
        if m == "dparams_swapped":
            return dx, ds_f, ds_b, tuple(dp_b), tuple(dp_f)
        if m == "dh0_swapped":
            return dx, ds_b, ds_f, tuple(dp_f), tuple(dp_b)
        return dx, ds_f, ds_b, tuple(dp_f), tuple(dp_b)
    return hyp


BIDIRECTIONAL_BACKWARD = [
    ("dh_not_reversed", _bi_bwd("dh_not_reversed"),
     "the backward half of dh was not reversed in time: the backward cell ran on x[::-1], so give its backward "
     "pass dh[::-1, :, H:]."),
    ("dx_not_reversed", _bi_bwd("dx_not_reversed"),
     "the backward cell's dx is still in reversed time order: add dx_b[::-1] to the forward cell's dx."),
    ("dx_forward_only", _bi_bwd("dx_forward_only"),
     "dx holds only the forward cell's part: x feeds both directions, so add the backward cell's dx (reversed)."),
    ("swapped", _bi_bwd("swapped"), "the halves of dh are swapped: dh[:, :, :H] belongs to the forward cell."),
    ("dh0_swapped", _bi_bwd("dh0_swapped"),
     "dh0_f and dh0_b are swapped: return the forward cell's dh0 first, dx, dh0_f, dh0_b, dparams_f, dparams_b."),
    ("dparams_swapped", _bi_bwd("dparams_swapped"),
     "dparams_f and dparams_b are swapped: return the forward cell's gradients first, dx, dh0_f, dh0_b, "
     "dparams_f, dparams_b."),
]


def _stack_fwd(c, m=None):
    x, h0s, layers = c.values()
    inp = x
    outs = []
    seq = list(enumerate(layers))
    for l, (U, W, b) in (seq[::-1] if m == "reversed" else seq):
        h = _rnn_fwd(x if m == "all_x" else inp, h0s[0] if m == "h0_0" else h0s[l], U, W, b)
        outs.append(h)
        inp = h
    if m == "all_layers":
        return np.stack(outs), I
    return (outs[0] if m == "bottom" else inp), I


STACKED_FORWARD = [
    ("all_x", lambda c: _stack_fwd(c, "all_x"), "every layer reads x; layer l > 0 must read the hidden states of "
                                                "layer l-1."),
    ("h0_0", lambda c: _stack_fwd(c, "h0_0"), "every layer starts from h0s[0]; layer l starts from h0s[l]."),
    ("bottom", lambda c: _stack_fwd(c, "bottom"), "you returned the bottom layer's states; return the top layer's."),
    ("all_layers", lambda c: _stack_fwd(c, "all_layers"),
     "you returned every layer's states stacked; return only the top layer's, h of shape (T, B, H)."),
]


def _stack_bwd(m):
    def hyp(c):
        from ..models.deep import stacked_rnn_forward
        from ..cells.rnn import rnn_backward
        caches = stacked_rnn_forward(*c.values())[1].layers
        dh = c.arg("dh")
        dh0s, dl = [], []
        g = dh
        top_dx = None
        for cache in reversed(caches):
            dx, dh0, dU, dW, db = rnn_backward(dh if m == "same_dh" else g, cache)
            g = dx
            top_dx = dx if top_dx is None else top_dx
            dh0s.append(dh0)
            dl.append((dU, dW, db))
        if m != "dh0s_reversed":
            dh0s = dh0s[::-1]
        if m != "dlayers_reversed":
            dl = dl[::-1]
        return (top_dx if m == "dx_top" else g), np.stack(dh0s), dl
    return hyp


STACKED_BACKWARD = [
    ("dlayers_reversed", _stack_bwd("dlayers_reversed"),
     "dlayers is in top-to-bottom order (the order the backward loop visits the layers): reverse it, so that "
     "dlayers[0] belongs to the bottom layer like layers[0]."),
    ("dh0s_reversed", _stack_bwd("dh0s_reversed"),
     "dh0s is in top-to-bottom order: dh0s[l] must belong to layer l (bottom first)."),
    ("dx_top", _stack_bwd("dx_top"),
     "dx is the top layer's dx; return the bottom layer's, the gradient with respect to x itself (each layer's "
     "dx is the upstream gradient of the layer below)."),
    ("same_dh", _stack_bwd("same_dh"),
     "every layer was given the top's dh; a lower layer's upstream gradient is the dx of the layer above it."),
]


# ------------------------------------------------------------------------------------------------ LSTM
_ORDER = "ifgo"


def _lstm_step(x, hp, cp, Wx, Wh, b, m=None, perm=(0, 1, 2, 3)):
    """One LSTM step with the gate blocks read in the order perm (perm[k]: the block holding gate k of i,f,g,o)."""
    H = hp.shape[1]
    a = x @ Wx + hp @ Wh + b
    blk = [a[:, j * H:(j + 1) * H] for j in perm]
    i, f, o = sigmoid(blk[0]), sigmoid(blk[1]), sigmoid(blk[3])
    g = sigmoid(blk[2]) if m == "g_sigmoid" else np.tanh(blk[2])
    c = {"no_i": f * cp + g, "no_f": cp + i * g}.get(m, f * cp + i * g)
    h = o * c if m == "no_tanh_c" else o * np.tanh(c)
    return h, c, (i, f, g, o, np.tanh(c))


def _lstm_step_back(dh, dc, x, hp, cp, Wx, Wh, b, m=None, perm=(0, 1, 2, 3)):
    H = hp.shape[1]
    _, _, (i, f, g, o, tc) = _lstm_step(x, hp, cp, Wx, Wh, b)
    dct = dc + dh * o * ((1 - tc * tc) if m != "no_tanh_c" else 1.0)
    if m == "no_dc_in":
        dct = dh * o * (1 - tc * tc)
    if m == "no_dh_in_dc":
        dct = dc
    blocks = [dct * g * i * (1 - i), dct * cp * f * (1 - f), dct * i * (1 - g * g), dh * tc * o * (1 - o)]
    if m == "tanh_c_in_f":
        blocks[1] = dct * tc * f * (1 - f)
    if m == "dc_in_o":
        blocks[3] = dc * tc * o * (1 - o)
    if m == "dct_in_o":
        blocks[3] = dct * tc * o * (1 - o)
    if m == "g_sigmoid_grad":
        blocks[2] = dct * i * g * (1 - g)
    da = np.zeros((hp.shape[0], 4 * H))
    for k, j in enumerate(perm):
        da[:, j * H:(j + 1) * H] = blocks[k]
    dcp = dc * f if m == "dcprev_no_dh" else dct if m == "dcprev_no_f" else dct * f
    db = da.mean(0) if m == "db_mean" else da.sum(0)
    return da @ Wx.T, da @ Wh.T, dcp, x.T @ da, hp.T @ da, db


def _perm_name(perm):
    s = ["?"] * 4
    for k, j in enumerate(perm):
        s[j] = _ORDER[k]
    return ", ".join(s)


_PERMS4 = [p for p in permutations(range(4)) if p != (0, 1, 2, 3)]
_GATE_TEXT = ("your gates are in the order {order}{cs}; this course follows PyTorch: i, f, g, o, i.e. columns "
              "[0:H] input, [H:2H] forget, [2H:3H] candidate g (tanh), [3H:4H] output.")


class _GateMsg:
    @staticmethod
    def format(order):
        return _GATE_TEXT.format(order=order, cs=" (CS231n's order)" if order == "i, f, o, g" else "")


_GATE_MSG = _GateMsg()

LSTM_STEP_FORWARD = [
    ("c_tanh", lambda c: (_lstm_step(*c.values())[0], np.tanh(_lstm_step(*c.values())[1]), I),
     "you returned tanh(c) as the cell state; c = f * c_prev + i * g has no tanh (the tanh is only applied for "
     "h = o * tanh(c))."),
    ("no_tanh_c", lambda c: _lstm_step(*c.values(), m="no_tanh_c")[:2] + (I,),
     "h = o * tanh(c): the tanh of the cell state is missing."),
    ("no_i", lambda c: _lstm_step(*c.values(), m="no_i")[:2] + (I,),
     "the input gate is missing: c = f * c_prev + i * g."),
    ("no_f", lambda c: _lstm_step(*c.values(), m="no_f")[:2] + (I,),
     "the forget gate is missing: c = f * c_prev + i * g."),
    ("g_sigmoid", lambda c: _lstm_step(*c.values(), m="g_sigmoid")[:2] + (I,),
     "the candidate g uses tanh (values in [-1, 1]), not the sigmoid."),
] + [(f"perm{p}", (lambda p: lambda c: _lstm_step(*c.values(), perm=p)[:2] + (I,))(p),
      _GATE_MSG.format(order=_perm_name(p))) for p in _PERMS4]

_LSTM_STEP_MSGS = [
    ("no_dh_in_dc", "the gradient through h never reaches c: h = o * tanh(c), so the cell state's total "
                    "gradient is dc_total = dc + dh * o * (1 - tanh(c)**2); you used dc alone (in the i, f, g "
                    "terms and in dc_prev = f * dc_total)."),
    ("tanh_c_in_f", "the forget gate's term uses tanh(c); c = f * c_prev + i * g, so it is "
                    "da_f = dc_total * c_prev * f * (1 - f) (c_prev, the previous cell state)."),
    ("dc_in_o", "the output gate's term uses dc; h = o * tanh(c), so the output gate sees only dh: "
                "da_o = dh * tanh(c) * o * (1 - o)."),
    ("dct_in_o", "the output gate's term uses dc_total; h = o * tanh(c), so the output gate sees only dh: "
                 "da_o = dh * tanh(c) * o * (1 - o)."),
    ("g_sigmoid_grad", "the candidate g is a tanh, so its derivative is 1 - g**2, not g * (1 - g): "
                       "da_g = dc_total * i * (1 - g**2)."),
    ("dcprev_no_f", "dc_prev is missing the forget gate: c = f * c_prev + i * g, so dc_prev = f * dc_total."),
]

LSTM_STEP_BACKWARD = [
    (m, (lambda m: lambda c: _lstm_step_back(c.arg("dh"), c.arg("dc"), *c.values(), m=m))(m), msg)
    for m, msg in _LSTM_STEP_MSGS] + [
    ("dcprev_no_dh", lambda c: _lstm_step_back(c.arg("dh"), c.arg("dc"), *c.values(), m="dcprev_no_dh"),
     "dc_prev is only f * dc: the gradient through h reaches c too. With dc_total = dc + dh * o * (1 - tanh(c)**2), "
     "dc_prev = f * dc_total (and every gate's gradient uses dc_total)."),
    ("no_dc_in", lambda c: _lstm_step_back(c.arg("dh"), c.arg("dc"), *c.values(), m="no_dc_in"),
     "the incoming dc (the gradient of the cell state from the next step) is dropped: add it, "
     "dc_total = dc + dh * o * (1 - tanh(c)**2)."),
    ("no_tanh_c", lambda c: _lstm_step_back(c.arg("dh"), c.arg("dc"), *c.values(), m="no_tanh_c"),
     "the derivative of tanh(c) is missing: dh reaches c as dh * o * (1 - tanh(c)**2)."),
    ("db_mean", lambda c: _lstm_step_back(c.arg("dh"), c.arg("dc"), *c.values(), m="db_mean"),
     "db is averaged over the batch; it must be summed."),
] + [(f"perm{p}", (lambda p: lambda c: _lstm_step_back(c.arg("dh"), c.arg("dc"), *c.values(), perm=p))(p),
      "your backward writes the gate gradients in the order {o}; they must sit where the forward read the gates: "
      "i, f, g, o.".format(o=_perm_name(p))) for p in _PERMS4]


def _lstm_seq(x, h0, c0, Wx, Wh, b, m=None, perm=(0, 1, 2, 3)):
    T = x.shape[0]
    h, c = np.zeros((T,) + h0.shape), np.zeros((T,) + h0.shape)
    hp, cp = h0, c0
    for t in range(T):
        h[t], c[t], _ = _lstm_step(x[t], hp, cp, Wx, Wh, b, m if m in ("no_tanh_c", "no_i", "no_f") else None, perm)
        hp = h0 if m == "h_not_carried" else h[t]
        cp = c0 if m == "c_not_carried" else c[t]
    return h, c


_LSTM_STEP_M = ("dcprev_no_dh", "no_tanh_c", "db_mean") + tuple(m for m, _ in _LSTM_STEP_MSGS)
STEP_FIRST = ("{msg} That is the one-step math: if your {seq} calls your {step}, fix {step} first "
              "(check_{step} says more).")


def _lstm_seq_back(c, m=None):
    x, h0, c0, Wx, Wh, b = c.values()
    dh = c.arg("dh")
    T = x.shape[0]
    h, cs = _lstm_seq(x, h0, c0, Wx, Wh, b)
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(b.shape)
    dnext, dcn = np.zeros_like(h0), np.zeros_like(h0)
    for t in (range(T) if m == "forward_loop" else range(T - 1, -1, -1)):
        hp = h[t - 1] if (t > 0 or m == "h_wrap") else h0
        cp = cs[t - 1] if (t > 0 or m == "c_wrap") else c0
        g = dh[t] + (dnext if m != "no_time_flow" else 0.0)
        if m == "dh_only_last" and t < T - 1:
            g = dnext
        step_m = m if m in _LSTM_STEP_M else None
        dxt, dhp, dcp, dWxt, dWht, dbt = _lstm_step_back(g, dcn if m != "no_dc_flow" else 0 * dcn, x[t], hp, cp,
                                                         Wx, Wh, b, step_m)
        dx[t] = dxt
        if m == "assign":
            dWx, dWh, db = dWxt, dWht, dbt
        else:
            dWx, dWh, db = dWx + dWxt, dWh + dWht, db + dbt
        dnext, dcn = dhp, dcp
    return dx, dnext, dcn, dWx, dWh, db


_TIME_ORDER_MSGS = {
    "reversed": "your h is in reversed time order: h[t] must be the state after reading x[t], with t running "
                "0, 1, ..., T-1 (appending to the front of a list, or reading x from the end, reverses it).",
    "shifted": "your states are shifted by one step: h[t] must be the state AFTER reading x[t] (h[0] is the "
               "first new state), not h0.",
}


def _time_order(h, h0, m):
    return h[::-1].copy() if m == "reversed" else np.concatenate([h0[None], h[:-1]])


LSTM_FORWARD = [(m, (lambda m: lambda c: (_time_order(_lstm_seq(*c.values())[0], c.arg("h0"), m), I))(m), msg)
                for m, msg in _TIME_ORDER_MSGS.items()] + [
    ("return_c", lambda c: (_lstm_seq(*c.values())[1], I),
     "you returned the cell states c; lstm_forward returns the hidden states h (h_t = o_t * tanh(c_t))."),
    ("c_not_carried", lambda c: (_lstm_seq(*c.values(), m="c_not_carried")[0], I),
     "every step starts from c0: the new cell state c must become the next step's c_prev."),
    ("h_not_carried", lambda c: (_lstm_seq(*c.values(), m="h_not_carried")[0], I),
     "every step starts from h0: the new h must become the next step's h_prev."),
    ("no_tanh_c", lambda c: (_lstm_seq(*c.values(), m="no_tanh_c")[0], I), "h = o * tanh(c): the tanh is missing."),
    ("no_i", lambda c: (_lstm_seq(*c.values(), m="no_i")[0], I), "the input gate is missing: c = f * c_prev + i * g."),
    ("no_f", lambda c: (_lstm_seq(*c.values(), m="no_f")[0], I), "the forget gate is missing: c = f * c_prev + i * g."),
] + [(f"perm{p}", (lambda p: lambda c: (_lstm_seq(*c.values(), perm=p)[0], I))(p),
      _GATE_MSG.format(order=_perm_name(p)))
     for p in _PERMS4]


_SEQ_LOOP_MSGS = [
    ("forward_loop", _RNN_MSG["forward_loop"]),
    ("dh_only_last", _RNN_MSG["dh_only_last"]),
]

LSTM_BACKWARD = [(m, (lambda m: lambda c: _lstm_seq_back(c, m))(m), msg) for m, msg in _SEQ_LOOP_MSGS] + [
    ("no_dc_flow", lambda c: _lstm_seq_back(c, "no_dc_flow"),
     "no gradient flows back through the cell state: either your loop does not pass each step's dc_prev in as "
     "the dc of step t-1 (zeros at the last step; dc0 is the final dc_prev), or your lstm_step_backward drops "
     "its dc argument (check_lstm_step_backward catches that). The gradient through h reaches c too: "
     "dc_prev = f * (dc + dh * o * (1 - tanh(c)**2))."),
] + [(m, (lambda m: lambda c: _lstm_seq_back(c, m))(m),
      STEP_FIRST.format(msg=msg, seq="lstm_backward", step="lstm_step_backward"))
     for m, msg in _LSTM_STEP_MSGS + [("dcprev_no_dh", "dc_prev is only f * dc: the gradient through h reaches c "
                                                       "too, dc_prev = f * (dc + dh * o * (1 - tanh(c)**2))."),
                                      ("no_tanh_c", "the derivative of tanh(c) is missing: dh reaches c as "
                                                    "dh * o * (1 - tanh(c)**2)."),
                                      ("db_mean", "db is averaged over the batch; it must be summed.")]] + [

    ("no_time_flow", lambda c: _lstm_seq_back(c, "no_time_flow"),
     "no gradient flows back through h: at step t add the dh_prev of step t+1 to dh[t]."),
    ("assign", lambda c: _lstm_seq_back(c, "assign"),
     "{out} holds only one time step's contribution (t=0, the last one your backward loop visits): accumulate "
     "with += over every step."),
    ("c_wrap", lambda c: _lstm_seq_back(c, "c_wrap"),
     "at t = 0 you used c[t-1] = c[-1], which Python reads as the LAST cell state: at t = 0 c_prev is c0."),
    ("h_wrap", lambda c: _lstm_seq_back(c, "h_wrap"),
     "at t = 0 you used h[t-1] = h[-1], which Python reads as the LAST state: at t = 0 h_prev is h0."),
]


# ------------------------------------------------------------------------------------------------ GRU
def _gru_step(x, hp, Wx, Wh, bx, bh, m=None, perm=(0, 1, 2)):
    H = hp.shape[1]
    ax = x @ Wx + bx
    ah = hp @ Wh + bh
    bl = lambda a, k: a[:, perm[k] * H:(perm[k] + 1) * H]  # noqa: E731
    r = sigmoid(bl(ax, 0) + bl(ah, 0))
    z = sigmoid(bl(ax, 1) + bl(ah, 1))
    Whn = Wh[:, perm[2] * H:(perm[2] + 1) * H]
    bhn = bh[perm[2] * H:(perm[2] + 1) * H]
    if m == "reset_before":
        n = np.tanh(bl(ax, 2) + (r * hp) @ Whn + bhn)
    elif m == "bhn_outside":
        n = np.tanh(bl(ax, 2) + r * (hp @ Whn) + bhn)
    elif m == "no_reset":
        n = np.tanh(bl(ax, 2) + hp @ Whn + bhn)
    else:
        n = np.tanh(bl(ax, 2) + r * bl(ah, 2))
    h = z * n + (1 - z) * hp if m == "z_swapped" else (1 - z) * n + z * hp
    return h, (r, z, n, bl(ah, 2))


def _gru_step_back(dh, x, hp, Wx, Wh, bx, bh, m=None):
    _, (r, z, n, hn) = _gru_step(x, hp, Wx, Wh, bx, bh)
    dn = dh * (1 - z) * (1.0 if m == "no_tanh" else (1 - n * n))
    dz = dh * ((n - hp) if m == "z_sign" else (hp - n)) * z * (1 - z)
    dr = dn * hn * r * (1 - r)
    if m == "dr_no_ghn":
        dr = dn * r * (1 - r)
    dax = np.concatenate([dr, dz, dn], 1)
    dah = np.concatenate([dr, dz, dn if m == "dah_no_r" else dn * r], 1)
    dhp = dah @ Wh.T + (0.0 if m == "no_direct" else dh * z)
    k = (lambda a: a.mean(0)) if m == "db_mean" else (lambda a: a.sum(0))
    return dax @ Wx.T, dhp, x.T @ dax, hp.T @ dah, k(dax), k(dah)


_PERMS3 = [p for p in permutations(range(3)) if p != (0, 1, 2)]


def _perm3_name(p):
    s = ["?"] * 3
    for k, j in enumerate(p):
        s[j] = "rzn"[k]
    return ", ".join(s)


_GRU_FWD = [
    ("reset_before", "you applied the reset gate before the matrix product, (r * h_prev) @ Wh_n (the original "
                     "Cho et al. form); this course follows PyTorch: n = tanh(x @ Wx_n + bx_n + r * (h_prev @ Wh_n "
                     "+ bh_n)), the reset gate acts after the matmul, on the bias bh_n too."),
    ("bhn_outside", "the reset gate must multiply bh_n too: n = tanh(x @ Wx_n + bx_n + r * (h_prev @ Wh_n + bh_n))."),
    ("no_reset", "the reset gate r is missing from n = tanh(x @ Wx_n + bx_n + r * (h_prev @ Wh_n + bh_n))."),
    ("z_swapped", "the update gate's roles are swapped: h = (1 - z) * n + z * h_prev (PyTorch's convention; "
                  "z near 1 keeps the old state)."),
]
GRU_STEP_FORWARD = [(m, (lambda m: lambda c: (_gru_step(*c.values(), m=m)[0], I))(m), msg) for m, msg in _GRU_FWD] + [
    (f"perm{p}", (lambda p: lambda c: (_gru_step(*c.values(), perm=p)[0], I))(p),
     f"your gates are in the order {_perm3_name(p)}; this course follows PyTorch: r, z, n (columns [0:H] reset, "
     f"[H:2H] update, [2H:3H] new).") for p in _PERMS3]

_GRU_BWD = [
    ("no_tanh", "the tanh derivative of n is missing: dn = dh * (1 - z) * (1 - n**2)."),
    ("no_direct", "dh_prev is missing the direct path h = ... + z * h_prev: add dh * z to dh_prev."),
    ("z_sign", "the sign of dz is flipped: h = (1 - z) * n + z * h_prev, so dL/dz = dh * (h_prev - n)."),
    ("dah_no_r", "the gradient of the hidden-side n block (for Wh_n, bh_n and h_prev) must be multiplied by r: "
                 "in the forward, r multiplies (h_prev @ Wh_n + bh_n)."),
    ("db_mean", "the bias gradients are averaged over the batch; they must be summed."),
    ("dr_no_ghn", "the reset gate's term is missing what r multiplies: n = tanh(... + r * (h_prev @ Wh_n + "
                  "bh_n)), so da_r = dn * (h_prev @ Wh_n + bh_n) * r * (1 - r), with dn = dh * (1 - z) * "
                  "(1 - n**2)."),
]
GRU_STEP_BACKWARD = [(m, (lambda m: lambda c: _gru_step_back(c.arg("dh"), *c.values(), m=m))(m), msg)
                     for m, msg in _GRU_BWD]


def _gru_seq(x, h0, Wx, Wh, bx, bh, m=None, perm=(0, 1, 2)):
    T = x.shape[0]
    h = np.zeros((T,) + h0.shape)
    hp = h0
    for t in range(T):
        h[t], _ = _gru_step(x[t], hp, Wx, Wh, bx, bh, m, perm)
        hp = h0 if m == "not_carried" else h[t]
    return h


def _gru_seq_back(c, m=None):
    x, h0, Wx, Wh, bx, bh = c.values()
    dh = c.arg("dh")
    T = x.shape[0]
    h = _gru_seq(x, h0, Wx, Wh, bx, bh)
    out = [np.zeros_like(x), None, np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(bx), np.zeros_like(bh)]
    dnext = np.zeros_like(h0)
    for t in (range(T) if m == "forward_loop" else range(T - 1, -1, -1)):
        hp = h[t - 1] if (t > 0 or m == "h_wrap") else h0
        g = dh[t] + (dnext if m != "no_time_flow" else 0.0)
        if m == "dh_only_last" and t < T - 1:
            g = dnext
        dxt, dhp, *dp = _gru_step_back(g, x[t], hp, Wx, Wh, bx, bh, m if m in dict(_GRU_BWD) else None)
        out[0][t] = dxt
        for k in range(4):
            out[2 + k] = dp[k] if m == "assign" else out[2 + k] + dp[k]
        dnext = dhp
    out[1] = dnext
    return tuple(out)


GRU_FORWARD = ([(m, (lambda m: lambda c: (_gru_seq(*c.values(), m=m), I))(m), msg) for m, msg in _GRU_FWD]
               + [(m, (lambda m: lambda c: (_time_order(_gru_seq(*c.values()), c.arg("h0"), m), I))(m), msg)
                  for m, msg in _TIME_ORDER_MSGS.items()]
               + [("not_carried", lambda c: (_gru_seq(*c.values(), m="not_carried"), I),
                   "every step starts from h0: the new h must become the next step's h_prev.")]
               + [(f"perm{p}", (lambda p: lambda c: (_gru_seq(*c.values(), perm=p), I))(p),
                   f"your gates are in the order {_perm3_name(p)}; this course follows PyTorch: r, z, n.")
                  for p in _PERMS3])
GRU_BACKWARD = [(m, (lambda m: lambda c: _gru_seq_back(c, m))(m),
                 STEP_FIRST.format(msg=msg, seq="gru_backward", step="gru_step_backward")) for m, msg in _GRU_BWD] + [
    ("no_time_flow", lambda c: _gru_seq_back(c, "no_time_flow"),
     "no gradient flows back through time: at step t add the dh_prev of step t+1 to dh[t]."),
    ("assign", lambda c: _gru_seq_back(c, "assign"),
     "{out} holds only one time step's contribution (t=0, the last one your backward loop visits): accumulate "
     "with += over every step."),
    ("h_wrap", lambda c: _gru_seq_back(c, "h_wrap"),
     "at t = 0 you used h[t-1] = h[-1], which Python reads as the LAST state: at t = 0 h_prev is h0."),
] + [(m, (lambda m: lambda c: _gru_seq_back(c, m))(m), msg) for m, msg in _SEQ_LOOP_MSGS]


# ------------------------------------------------------------------------------------------------ attention
def _att(s, h, W_s, W_h, v, m=None):
    """Additive attention with one mistake m: (context, alpha, a)."""
    z = h @ W_h + (0.0 if m == "no_s" else s @ W_s)
    a = z if m == "no_tanh" else np.tanh(z)
    e = a @ v                                            # (T_in, B)
    if m == "no_softmax":
        alpha = e
    elif m == "softmax_batch":                           # softmax(e) with its default axis=-1: over the batch
        alpha = softmax(e, axis=-1)
    elif m == "softmax_naive":
        alpha = np.exp(e) / np.exp(e).sum(axis=0)
    else:
        alpha = softmax(e, axis=0)
    return (alpha[:, :, None] * h).sum(axis=0), alpha, a


def _att_back(dctx, s, h, W_s, W_h, v, m=None):
    _, alpha, a = _att(s, h, W_s, W_h, v)
    dalpha = (h * dctx).sum(axis=2)
    if m == "softmax_no_sub":
        de = alpha * dalpha
    elif m == "softmax_batch":
        de = alpha * (dalpha - (alpha * dalpha).sum(axis=1, keepdims=True))
    else:
        de = alpha * (dalpha - (alpha * dalpha).sum(axis=0))
    dz = de[:, :, None] * v * (1.0 if m == "no_tanh" else (1 - a * a))
    dzs = dz.sum(axis=0)
    dh = (0.0 if m == "no_direct" else alpha[:, :, None] * dctx) + dz @ W_h.T
    dW_h = np.einsum("tbh,tba->ha", h, dz)
    dv = np.einsum("tba,tb->a", a, de)
    return dzs @ W_s.T, dh, s.T @ dzs, dW_h, dv


ATTENTION_FORWARD = [
    ("softmax_batch", lambda c: _att(*c.values(), m="softmax_batch")[:2] + (I,),
     "your softmax runs over the batch (axis -1, softmax's default): the weights must sum to 1 over the input "
     "positions, which in the time-major scores (T_in, B) is axis 0 (alpha = softmax(e, axis=0))."),
    ("no_s", lambda c: _att(*c.values(), m="no_s")[:2] + (I,),
     "your scores ignore the decoder state s: a_j = tanh(s @ W_s + h_j @ W_h). Without s every output step "
     "gets the same weights, and the context is a fixed summary again."),
    ("no_tanh", lambda c: _att(*c.values(), m="no_tanh")[:2] + (I,),
     "the tanh of the score network is missing: e_j = tanh(s @ W_s + h_j @ W_h) @ v."),
    ("no_softmax", lambda c: _att(*c.values(), m="no_softmax")[:2] + (I,),
     "alpha holds the raw scores e: turn them into weights with a softmax over the input positions (axis 0)."),
    ("softmax_naive", lambda c: _att(*c.values(), m="softmax_naive")[:2] + (I,),
     "exp overflows for large scores: subtract the largest score of each column (e.max(axis=0)) before exp."),
]

ATTENTION_BACKWARD = [
    ("no_direct", lambda c: _att_back(c.arg("dcontext"), *c.values(), m="no_direct"),
     "dh_enc is missing the direct gradient of the context: context = sum_j alpha_j h_j, so every encoder state "
     "gets alpha_j * dcontext besides its gradient through the score (dh_enc = alpha[:, :, None] * dcontext + "
     "dz @ W_h.T)."),
    ("softmax_no_sub", lambda c: _att_back(c.arg("dcontext"), *c.values(), m="softmax_no_sub"),
     "the softmax's backward is incomplete: de_j = alpha_j * (dalpha_j - sum_i alpha_i * dalpha_i); the sum "
     "term comes from the normalisation (the weights sum to 1)."),
    ("softmax_batch", lambda c: _att_back(c.arg("dcontext"), *c.values(), m="softmax_batch"),
     "the softmax's backward sums over the batch: the sum_i alpha_i * dalpha_i runs over the input positions, "
     "axis 0 of the (T_in, B) arrays."),
    ("no_tanh", lambda c: _att_back(c.arg("dcontext"), *c.values(), m="no_tanh"),
     "the tanh derivative is missing: dz = de[:, :, None] * v * (1 - a**2), with a = tanh(s @ W_s + h_j @ W_h)."),
]


def _att_model(c, m=None):
    """The attention encoder-decoder's loss and gradients with one mistake m."""
    x, y_in, y_out, h0, p = c.values()
    K = p["b_y"].shape[0]
    h = _rnn_fwd(x, h0, p["U_enc"], p["W_enc"], p["b_enc"])
    xd = one_hot(y_in, K)
    s = _rnn_fwd(xd, h[-1], p["U_dec"], p["W_dec"], p["b_dec"])
    T_out, B, H = s.shape
    ctx = np.stack([_att(s[t], h, p["W_s"], p["W_h"], p["v"])[0] for t in range(T_out)])
    o = s @ p["V_ho"] + ctx @ p["V_co"] + p["b_y"]
    loss, do = softmax_cross_entropy(o, y_out)
    g = {"V_ho": np.einsum("tbh,tbk->hk", s, do), "V_co": np.einsum("tbh,tbk->hk", ctx, do), "b_y": do.sum((0, 1)),
         "W_s": 0.0, "W_h": 0.0, "v": 0.0}
    ds = do @ p["V_ho"].T
    dctx = do @ p["V_co"].T
    dh = np.zeros_like(h)
    for t in range(T_out):
        ds_t, dh_t, dW_s, dW_h, dv = _att_back(dctx[t], s[t], h, p["W_s"], p["W_h"], p["v"],
                                               "no_direct" if m == "no_direct" else None)
        if m != "no_att_ds":
            ds[t] = ds[t] + ds_t
        dh = dh_t if m == "dh_assign" else dh + dh_t
        g["W_s"], g["W_h"], g["v"] = g["W_s"] + dW_s, g["W_h"] + dW_h, g["v"] + dv
    _, dh_last, g["U_dec"], g["W_dec"], g["b_dec"] = _rnn_bwd(ds, xd, h[-1], p["U_dec"], p["W_dec"], s)
    if m != "no_dec_init":
        dh[-1] = dh[-1] + dh_last
    _, _, g["U_enc"], g["W_enc"], g["b_enc"] = _rnn_bwd(dh, x, h0, p["U_enc"], p["W_enc"], h)
    return loss, {k: g[k] for k in p}


ATTENTION_LOSS = [
    ("no_direct", lambda c: _att_model(c, "no_direct"),
     "the encoder misses the context's direct gradient: every encoder state gets alpha_j * dcontext from "
     "context = sum_j alpha_j h_j, besides its gradient through the scores (check additive_attention_backward's "
     "dh_enc)."),
    ("no_dec_init", lambda c: _att_model(c, "no_dec_init"),
     "the decoder starts from the encoder's last state, h_enc[-1], so the decoder's dh0 (the second output of "
     "rnn_backward) must be added to the encoder's gradient at the last step: dh_enc[-1] += dh_dec0."),
    ("no_att_ds", lambda c: _att_model(c, "no_att_ds"),
     "the decoder states get only the output layer's gradient: s_t also feeds the attention's score, so add the "
     "ds that additive_attention_backward returns for step t to ds[t] before rnn_backward."),
    ("dh_assign", lambda c: _att_model(c, "dh_assign"),
     "the encoder states keep the gradient of one output step only: every output step attends to every encoder "
     "state, so dh_enc is the sum (+=) of the dh_enc of all T_out attention steps."),
]
