"""The GRU's mistakes."""
from itertools import permutations

import numpy as np

from .. import engine as ck
from ...numerics import sigmoid
from .messages import STEP_FIRST, _SEQ_LOOP_MSGS, _TIME_ORDER_MSGS, _time_order

I = ck.IGNORE


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
