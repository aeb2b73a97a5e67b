"""The mistakes of the GRU in Cho et al.'s form (cell "gru_cho"): the reset gate multiplies h_prev before the
product, n = tanh(x @ Wx_n + bx_n + bh_n + (r * h_prev) @ Wh_n). The time loop's mistakes, the gate order and the
missing biases come from sequence.py like every cell's."""
import numpy as np

from ...numerics import sigmoid
from .messages import modes, say


def _step(x, hp, Wx, Wh, bx, bh, m=None):
    """One step with one mistake m: (h,), and what the backward needs."""
    H = hp.shape[1]
    a = x @ Wx + bx + bh
    r = sigmoid(a[:, :H] + hp @ Wh[:, :H])
    z = sigmoid(a[:, H:2 * H] + hp @ Wh[:, H:2 * H])
    rh = hp if m == "no_reset" else r * hp
    if m == "reset_after":  # PyTorch's form (rnn_ref.gru): r scales the product and its bias bh_n
        n = np.tanh(a[:, 2 * H:] - bh[2 * H:] + r * (hp @ Wh[:, 2 * H:] + bh[2 * H:]))
    else:
        n = np.tanh(a[:, 2 * H:] + rh @ Wh[:, 2 * H:])
    h = z * n + (1 - z) * hp if m == "z_swapped" else (1 - z) * n + z * hp
    return (h,), (r, z, n, rh)


def _step_back(dh, x, hp, Wx, Wh, bx, bh, m=None):
    """One step's backward with one mistake m: (dx, dh_prev, dWx, dWh, dbx, dbh)."""
    H = hp.shape[1]
    _, (r, z, n, rh) = _step(x, hp, Wx, Wh, bx, bh)
    da_n = dh * (1 - z) * (1.0 if m == "no_tanh" else 1 - n * n)
    da_z = dh * ((n - hp) if m == "z_sign" else (hp - n)) * z * (1 - z)
    drh = da_n @ Wh[:, 2 * H:].T
    da_r = drh * hp * r * (1 - r)
    da = np.concatenate([da_r, da_z, da_n], 1)
    dWh = np.concatenate([hp.T @ da_r, hp.T @ da_z, (hp if m == "dWhn_hprev" else rh).T @ da_n], 1)
    dhp = (da_r @ Wh[:, :H].T + da_z @ Wh[:, H:2 * H].T + (drh if m == "drh_no_r" else drh * r)
           + (0.0 if m == "no_direct" else dh * z))
    return da @ Wx.T, dhp, x.T @ da, dWh, da.sum(0), da.sum(0)


STEP_FORWARD = modes(lambda m: lambda *a: _step(*a, m=m)[0], {
    "reset_after": "you applied the reset gate after the matrix product, r * (h_prev @ Wh_n + bh_n), PyTorch's form "
                   "(rnn_ref.gru); Cho et al. reset the state before it: n = tanh(x @ Wx_n + bx_n + bh_n + "
                   "(r * h_prev) @ Wh_n).",
    "no_reset": "the reset gate r is missing from n = tanh(x @ Wx_n + bx_n + bh_n + (r * h_prev) @ Wh_n).",
    "z_swapped": say("z_swapped"),
})
STEP_BACKWARD = modes(lambda m: lambda *a: _step_back(*a, m=m), {
    "no_tanh": say("n_no_tanh", dn="da_n"),
    "no_direct": say("no_direct"),
    "z_sign": say("z_sign"),
    "dWhn_hprev": "the n block of dWh uses h_prev; the product's input is the reset state: dWh_n = (r * "
                  "h_prev).T @ da_n.",
    "drh_no_r": "the gradient that reaches h_prev through (r * h_prev) @ Wh_n must be multiplied by r: "
                "dh_prev += (da_n @ Wh_n.T) * r.",
})

# which block of the bias gradient says which gate's term is wrong (checks/cells.py words it)
GATE_TERMS = dict(terms={"r": "da_r = (da_n @ Wh_n.T) * h_prev * r * (1 - r)",
                         "z": "da_z = dh * (h_prev - n) * z * (1 - z)", "n": "da_n = dh * (1 - z) * (1 - n**2)"},
                  shared=("rn", "da_n = dh * (1 - z) * (1 - n**2)"), together=False,
                  direct=" plus (da_n @ Wh_n.T) * r and the direct path dh * z")
