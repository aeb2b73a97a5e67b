"""Mistakes written once for any registered cell, computed from the cell's reference step functions.

The time loop: what crosses time in the sequence forward and backward (no flow through time, the loop in the
wrong direction, wrap-around at t = 0, accumulation, ...). The step: mistakes any gated cell can make (the gate
blocks read in another order, a bias left out, the bias gradients averaged). A cell's own step mistakes live in
its module (mistakes/<cell>.py), as functions of the step's arguments:

    STEP_FORWARD:  [(name, fn(x, *state_prev, *params) -> state tuple, message)]
    STEP_BACKWARD: [(name, fn(*dstate, x, *state_prev, *params) -> (dx, *dstate_prev, *dparams), message)]

and this module lifts them to the cell's sequence checks, with the "fix the step first" wording.
"""
import importlib
from itertools import permutations

import numpy as np

from .. import engine as ck
from .messages import gate_order, say, step_first

I = ck.IGNORE


def cell_mistakes(cell):
    """The cell's own mistakes module (mistakes/<name>.py), or None for a cell that has none yet."""
    name = f"{__package__}.{cell.name}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name != name:  # the module exists and one of its imports is missing: say so
            raise
        return None


def _own(cell, name):
    return list(getattr(cell_mistakes(cell), name, []))


def split(cell, case):
    """(x, state tuple, params tuple) of a case of the cell's checks."""
    v = case.values()
    k = len(cell.state)
    return v[0], tuple(v[1:1 + k]), tuple(v[1 + k:])


def ref_step(cell):
    k = len(cell.state)
    return lambda x, *a: tuple(cell.step_forward(x, *a)[:k])


def run(cell, x, state0, params, step=None, m=None):
    """Every step's state (a tuple of (T, B, H) arrays, one per state) of the loop with one mistake m."""
    step = step or ref_step(cell)
    T = x.shape[0]
    out = [np.zeros((T,) + s.shape) for s in state0]
    prev = state0
    order = range(T - 1, -1, -1) if m == "loop_reversed" else range(T)
    for t in order:
        if m and m.startswith("fwd_wrap") and t == 0:
            j = int(m[-1])
            prev = tuple(out[j][-1] if i == j else p for i, p in enumerate(prev))
        new = step(x[t], *prev, *params)
        for i, s in enumerate(new):
            out[i][t] = s
        if m and m.startswith("not_carried"):
            j = int(m[-1])
            new = tuple(state0[i] if i == j else s for i, s in enumerate(new))
        prev = new
    return out


def _reorder(h, h0, m):
    if m == "out_reversed":
        return h[::-1].copy()
    if m == "shifted":
        return np.concatenate([h0[None], h[:-1]])
    if m == "alias":
        return np.broadcast_to(h[-1], h.shape).copy()
    if m == "last_only":
        return h[-1]
    return np.concatenate([h0[None], h])  # with_h0


def step_forward_hyps(cell):
    """The step forward's hypotheses: the cell's own, every gate order but the right one, a bias left out."""
    return [(m, (lambda fn: lambda c: tuple(fn(*c.values())) + (I,))(fn), msg)
            for m, fn, msg in step_forward_mistakes(cell)]


def step_forward_mistakes(cell):
    """[(name, fn(x, *state_prev, *params) -> state tuple, message)]: the cell's own and the generic ones."""
    out = _own(cell, "STEP_FORWARD")
    G, step = len(cell.gates), ref_step(cell)
    for p in permutations(range(G)):
        if p != tuple(range(G)):
            out.append((f"perm{''.join(map(str, p))}", _permuted(cell, p, step), gate_order(cell, p)))
    for b in cell.params[2:]:
        out.append((f"no_{b}", _no_bias(cell, b, step), say("no_bias", cell, b=b)))
    return out


def _permuted(cell, perm, step):
    k = len(cell.state)

    def fn(x, *a):
        state, params = a[:k], a[k:]
        H = state[0].shape[-1]
        cols = np.concatenate([np.arange(j * H, (j + 1) * H) for j in perm])
        return step(x, *state, *(w[..., cols] for w in params))
    return fn


def _no_bias(cell, b, step):
    i = cell.params.index(b) + len(cell.state)

    def fn(x, *a):
        return step(x, *(np.zeros_like(v) if j == i else v for j, v in enumerate(a)))
    return fn


def forward_hyps(cell):
    """The sequence forward's hypotheses: the step's mistakes (fix the step first), then the time loop's."""
    hyps = []
    for m, fn, msg in step_forward_mistakes(cell):
        hyps.append((m, (lambda fn: lambda c: (run(cell, *split(cell, c), step=fn)[0], I))(fn),
                     step_first(msg, cell, False)))
    for j, s in enumerate(cell.state):
        hyps.append((f"not_carried{j}", (lambda j: lambda c: (run(cell, *split(cell, c), m=f"not_carried{j}")[0],
                                                               I))(j), say("not_carried", cell, s=s)))
        hyps.append((f"fwd_wrap{j}", (lambda j: lambda c: (run(cell, *split(cell, c), m=f"fwd_wrap{j}")[0],
                                                            I))(j), say("fwd_wrap", cell, s=s)))
    hyps.append(("loop_reversed", lambda c: (run(cell, *split(cell, c), m="loop_reversed")[0], I),
                 say("loop_reversed", cell)))
    for m in ("out_reversed", "shifted", "alias", "last_only", "with_h0"):
        hyps.append((m, (lambda m: lambda c: (_reorder(run(cell, *split(cell, c))[0], split(cell, c)[1][0], m),
                                               I))(m), say(m, cell)))
    return hyps + _own(cell, "FORWARD")


def ref_step_back(cell):
    """fn(*dstate, x, *state_prev, *params) -> the reference step's gradients (its cache rebuilt)."""
    k = len(cell.state)

    def fn(*a):
        cache = cell.step_forward(*a[k:])[-1]
        return tuple(cell.step_backward(*a[:k], cache))
    return fn


def _bias_mean(cell):
    ref, nb = ref_step_back(cell), len(cell.params) - 2

    def fn(*a):
        g = ref(*a)
        B = a[0].shape[0]
        return g[:len(g) - nb] + tuple(d / B for d in g[len(g) - nb:])
    return fn


def step_backward_mistakes(cell):
    """[(name, fn(*dstate, x, *state_prev, *params) -> gradients, message)]: the cell's own, the generic ones."""
    dbs = [f"d{b}" for b in cell.params[2:]]
    return _own(cell, "STEP_BACKWARD") + [
        ("bias_mean", _bias_mean(cell), say("bias_mean", cell, dbs=" and ".join(dbs),
                                            is_are="is" if len(dbs) == 1 else "are"))]


def step_backward_hyps(cell):
    """The step backward's hypotheses: those the sequence backward lifts, and the cell's STEP_ONLY ones."""
    return [(m, (lambda fn: lambda c: tuple(fn(*c.dvalues(), *c.values())))(fn), msg)
            for m, fn, msg in step_backward_mistakes(cell) + _own(cell, "STEP_ONLY")]


def backprop(cell, case, m=None, step_back=None):
    """(dx, *dstate0, *dparams) of a sequence backward with one mistake m, the steps' math from step_back."""
    x, state0, params = split(cell, case)
    dh = case.arg("dh")
    k, T = len(cell.state), x.shape[0]
    step_back = step_back or ref_step_back(cell)
    states = run(cell, x, state0, params)
    prev_of = lambda t: tuple(s[t - 1] for s in states) if t > 0 else state0  # noqa: E731
    dx = np.zeros_like(x)
    dp = [np.zeros_like(p) for p in params]
    carry = tuple(np.zeros_like(s) for s in state0)
    arriving = None
    for t in (range(T) if m == "forward_loop" else range(T - 1, -1, -1)):
        prev = prev_of(t)
        if m and m.startswith("bwd_wrap") and t == 0:
            j = int(m[-1])
            prev = tuple(states[j][-1] if i == j else p for i, p in enumerate(prev))
        up = dh[t] + (0.0 if m == "no_time_flow" else carry[0])
        if m == "dh_only_last" and t < T - 1:
            up = carry[0]
        more = tuple(np.zeros_like(c) if m == f"no_state_flow{i}" else c for i, c in enumerate(carry[1:], 1))
        g = step_back(up, *more, x[t], *prev, *params)
        dx[t] = g[0]
        for i in range(len(params)):
            if m == "assign" or (m == "only_last" and t == T - 1):
                dp[i] = g[1 + k + i]
            elif m != "only_last":
                dp[i] = dp[i] + g[1 + k + i]
        carry, arriving = tuple(g[1:1 + k]), (up,) + more
    if m == "dh0_upstream":
        carry = arriving[:1] + carry[1:]
    return (dx, *carry, *dp)


def backward_hyps(cell):
    """The sequence backward's hypotheses: the step's mistakes (fix the step first), then the time loop's."""
    hyps = [(m, (lambda fn: lambda c: backprop(cell, c, step_back=fn))(fn), step_first(msg, cell, True))
            for m, fn, msg in step_backward_mistakes(cell)]
    loop = ["assign", "only_last", "no_time_flow", "forward_loop", "dh_only_last", "dh0_upstream"]
    hyps += [(m, (lambda m: lambda c: backprop(cell, c, m))(m), say(m, cell)) for m in loop]
    for j, s in enumerate(cell.state):
        hyps.append((f"bwd_wrap{j}", (lambda m: lambda c: backprop(cell, c, m))(f"bwd_wrap{j}"),
                     say("bwd_wrap", cell, s=s)))
        if j:
            hyps.append((f"no_state_flow{j}", (lambda m: lambda c: backprop(cell, c, m))(f"no_state_flow{j}"),
                         say("no_state_flow", cell, s=s)))
    return hyps + _own(cell, "BACKWARD")
