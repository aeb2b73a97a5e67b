"""The GRU's mistakes."""
import numpy as np

from ...numerics import sigmoid
from .messages import say


def _gru_step(x, hp, Wx, Wh, bx, bh, m=None):
    H = hp.shape[1]
    ax = x @ Wx + bx
    ah = hp @ Wh + bh
    bl = lambda a, k: a[..., k * H:(k + 1) * H]  # noqa: E731
    r = sigmoid(bl(ax, 0) + bl(ah, 0))
    z = sigmoid(bl(ax, 1) + bl(ah, 1))
    Whn, bhn = bl(Wh, 2), bl(bh, 2)
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


_GRU_FWD = [
    ("reset_before", "you applied the reset gate before the matrix product, (r * h_prev) @ Wh_n (the original "
                     "Cho et al. form); this course follows PyTorch: n = tanh(x @ Wx_n + bx_n + r * (h_prev @ Wh_n "
                     "+ bh_n)), the reset gate acts after the matmul, on the bias bh_n too."),
    ("bhn_outside", "the reset gate must multiply bh_n too: n = tanh(x @ Wx_n + bx_n + r * (h_prev @ Wh_n + bh_n))."),
    ("no_reset", "the reset gate r is missing from n = tanh(x @ Wx_n + bx_n + r * (h_prev @ Wh_n + bh_n))."),
    ("z_swapped", say("z_swapped")),
]
STEP_FORWARD = [(m, (lambda m: lambda *a: _gru_step(*a, m=m)[:1])(m), msg) for m, msg in _GRU_FWD]

_GRU_BWD = [
    ("no_tanh", say("n_no_tanh", dn="dn")),
    ("no_direct", say("no_direct")),
    ("z_sign", say("z_sign")),
    ("dah_no_r", "the gradient of the hidden-side n block (for Wh_n, bh_n and h_prev) must be multiplied by r: "
                 "in the forward, r multiplies (h_prev @ Wh_n + bh_n)."),
    ("dr_no_ghn", "the reset gate's term is missing what r multiplies: n = tanh(... + r * (h_prev @ Wh_n + "
                  "bh_n)), so da_r = dn * (h_prev @ Wh_n + bh_n) * r * (1 - r), with dn = dh * (1 - z) * "
                  "(1 - n**2)."),
]
STEP_BACKWARD = [(m, (lambda m: lambda *a: _gru_step_back(*a, m=m))(m), msg) for m, msg in _GRU_BWD]

# which block of the bias gradient says which gate's term is wrong (checks/cells.py words it)
GATE_TERMS = dict(terms={"r": "da_r = dn * (h_prev @ Wh_n + bh_n) * r * (1 - r)",
                         "z": "da_z = dh * (h_prev - n) * z * (1 - z)",
                         "n": "da_n = dn = dh * (1 - z) * (1 - n**2) on the x side, r * dn on the h side"},
                  shared=("rn", "dn = dh * (1 - z) * (1 - n**2)"), together=False,
                  direct=" plus the direct path dh * z")
