"""The GRU of Cho et al. (2014): the reset gate multiplies the state before the matrix product.

r = sigmoid(x @ Wx_r + bx_r + h_prev @ Wh_r + bh_r)
z = sigmoid(x @ Wx_z + bx_z + h_prev @ Wh_z + bh_z)
n = tanh(x @ Wx_n + bx_n + (r * h_prev) @ Wh_n + bh_n)     the reset gate acts before the matmul
h = (1 - z) * n + z * h_prev
Shapes: x (B, D), h (B, H), Wx (D, 3H), Wh (H, 3H), bx and bh (3H,): the layout of rnn_ref.cells.gru.
"""
from collections import namedtuple

import numpy as np

from .._validate import as_float_array, cache_of, cell_arrays
from ..numerics import sigmoid_, transposed
from .gru import _gate_factors

StepCache = namedtuple("StepCache", "x h_prev Wx Wh gates rh h")
SeqCache = namedtuple("SeqCache", "x h0 Wx Wh gates rh h")


def _step(a, h_prev, Wh, ah, rh, h):
    """One step, in place: a (B, 3H) holds x @ Wx + bx + bh on entry and the gates [r, z, n] on exit;
    rh = r * h_prev and h (B, H) are written; ah (B, 2H) is scratch."""
    H = h.shape[1]
    np.dot(h_prev, Wh[:, :2 * H], out=ah)
    rz = a[:, :2 * H]
    rz += ah
    sigmoid_(rz)
    np.multiply(a[:, :H], h_prev, out=rh)
    np.dot(rh, Wh[:, 2 * H:], out=h)    # the second product, which must wait for r
    n = a[:, 2 * H:]
    n += h
    np.tanh(n, out=n)
    np.subtract(h_prev, n, out=h)       # h = n + z * (h_prev - n)
    h *= a[:, H:2 * H]
    h += n


def gru_cho_step_forward(x, h_prev, Wx, Wh, bx, bh):
    x, h_prev, Wx, Wh, bx, bh = cell_arrays(x, dict(h_prev=h_prev), dict(Wx=Wx, Wh=Wh, bx=bx, bh=bh),
                                            "rzn", 2)
    B, H = h_prev.shape
    gates = x @ Wx
    gates += bx + bh                     # in Cho's form every bias sits outside the gate products
    rh, h = np.empty((2, B, H), dtype=gates.dtype)
    _step(gates, h_prev, Wh, np.empty((B, 2 * H), dtype=gates.dtype), rh, h)
    return h, StepCache(x, h_prev, Wx, Wh, gates, rh, h)


def gru_cho_step_backward(dh, cache):
    x, h_prev, Wx, Wh, gates, rh, h = cache_of(cache, StepCache, "gru_cho_step_forward")
    dh = as_float_array("dh", dh, shape=h.shape)
    H = h.shape[1]
    r, z, n = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:]
    dn = dh * (1.0 - z) * (1.0 - n * n)          # through tanh
    dz = dh * (h_prev - n) * z * (1.0 - z)
    drh = dn @ Wh[:, 2 * H:].T                   # dL/d(r * h_prev)
    dr = drh * h_prev * r * (1.0 - r)
    da = np.concatenate([dr, dz, dn], axis=1)    # dL/d(pre-activations), the same for bx and bh
    dh_prev = dh * z + drh * r + da[:, :2 * H] @ Wh[:, :2 * H].T
    dWh = np.concatenate([h_prev.T @ da[:, :2 * H], rh.T @ dn], axis=1)
    db = da.sum(axis=0)
    return da @ Wx.T, dh_prev, x.T @ da, dWh, db, db.copy()


def gru_cho_forward(x, h0, Wx, Wh, bx, bh):
    x, h0, Wx, Wh, bx, bh = cell_arrays(x, dict(h0=h0), dict(Wx=Wx, Wh=Wh, bx=bx, bh=bh), "rzn", 3)
    T, B, D = x.shape
    H = Wh.shape[0]
    dt = x.dtype
    # The input projection for all steps at once, with both biases: they enter outside the gate products.
    gates = np.dot(x.reshape(T * B, D), Wx).reshape(T, B, 3 * H)   # becomes [r, z, n] in place
    gates += bx + bh
    rh = np.empty((T, B, H), dtype=dt)
    h = np.empty_like(rh)
    ah = np.empty((B, 2 * H), dtype=dt)
    h_prev = h0
    for t in range(T):
        _step(gates[t], h_prev, Wh, ah, rh[t], h[t])
        h_prev = h[t]
    return h, SeqCache(x, h0, Wx, Wh, gates, rh, h)


def gru_cho_backward(dh, cache):
    x, h0, Wx, Wh, gates, rh, h = cache_of(cache, SeqCache, "gru_cho_forward")
    dh, (r, z, n), h_prev, da3 = _gate_factors(dh, cache)
    da3[:, :, 0] *= h_prev                         # dr = drh * h_prev r (1-r), drh = dn @ Wh_n.T
    T, B, D = x.shape
    H = Wh.shape[0]
    dt = gates.dtype
    da = da3.reshape(T, B, 3 * H)
    Wh_rz_T, Wh_n_T = transposed(Wh[:, :2 * H], B), transposed(Wh[:, 2 * H:], B)
    dh_t = np.empty((B, H), dtype=dt)
    drh = np.empty((B, H), dtype=dt)
    dnext = np.zeros((B, H), dtype=dt)
    for t in range(T - 1, -1, -1):
        np.add(dh[t], dnext, out=dh_t)                 # dL/dh_t: from the loss and from step t+1
        da3[t, :, 1:] *= dh_t[:, None, :]              # dz, dn
        np.dot(da3[t, :, 2], Wh_n_T, out=drh)          # dL/d(r * h_prev)
        da3[t, :, 0] *= drh                            # dr
        np.dot(da[t, :, :2 * H], Wh_rz_T, out=dnext)   # dL/dh_{t-1}: through the gates' matmul ...
        dh_t *= z[t]
        dnext += dh_t                                  # ... directly, h = ... + z * h_prev ...
        drh *= r[t]
        dnext += drh                                   # ... and through r * h_prev
    da2 = da.reshape(T * B, 3 * H)
    dx = np.dot(da2, Wx.T).reshape(T, B, D)
    dWx = np.dot(x.reshape(T * B, D).T, da2)
    dWh = np.empty_like(Wh)
    dWh[:, :2 * H] = np.dot(h_prev.reshape(T * B, H).T, da2[:, :2 * H])
    dWh[:, 2 * H:] = np.dot(rh.reshape(T * B, H).T, da2[:, 2 * H:])
    db = da2.sum(axis=0)
    return dx, dnext, dWx, dWh, db, db.copy()
