"""The GRU in PyTorch's variant, gates (r, z, n), so that torch.nn.GRU is an exact oracle.

r = sigmoid(x @ Wx_r + bx_r + h_prev @ Wh_r + bh_r)
z = sigmoid(x @ Wx_z + bx_z + h_prev @ Wh_z + bh_z)
n = tanh(x @ Wx_n + bx_n + r * (h_prev @ Wh_n + bh_n))      the reset gate acts after the matmul
h = (1 - z) * n + z * h_prev
Shapes: x (B, D), h (B, H), Wx (D, 3H), Wh (H, 3H), bx and bh (3H,): PyTorch's b_ih and b_hh.
"""
from collections import namedtuple

import numpy as np

from ._validate import as_float_array
from .lstm import sigmoid

StepCache = namedtuple("StepCache", "x h_prev Wx Wh gates hn h")
SeqCache = namedtuple("SeqCache", "x h0 Wx Wh gates hn h")


def _check(x, h_prev, Wx, Wh, bx, bh, ndim):
    x = as_float_array("x", x, ndim=ndim)
    D, B = x.shape[-1], x.shape[-2]
    Wx = as_float_array("Wx", Wx, shape=(D, None))
    if Wx.shape[1] % 3:
        raise ValueError(f"Wx: expected shape (D, 3H) with the gates r, z, n side by side, got {Wx.shape}")
    H = Wx.shape[1] // 3
    Wh = as_float_array("Wh", Wh, shape=(H, 3 * H))
    bx = as_float_array("bx", bx, shape=(3 * H,))
    bh = as_float_array("bh", bh, shape=(3 * H,))
    h_prev = as_float_array("h_prev" if ndim == 2 else "h0", h_prev, shape=(B, H))
    return x, h_prev, Wx, Wh, bx, bh


def _step(ax, h_prev, Wh, bh, H):
    """ax = x @ Wx + bx (B, 3H) -> gates [r, z, n] (B, 3H), hn = h_prev @ Wh_n + bh_n, h."""
    ah = h_prev @ Wh + bh
    gates = np.empty_like(ax)
    gates[:, :2 * H] = sigmoid(ax[:, :2 * H] + ah[:, :2 * H])
    hn = ah[:, 2 * H:]
    gates[:, 2 * H:] = np.tanh(ax[:, 2 * H:] + gates[:, :H] * hn)
    z, n = gates[:, H:2 * H], gates[:, 2 * H:]
    h = n + z * (h_prev - n)
    return gates, hn, h


def _step_grads(dh, gates, hn, h_prev, H):
    """dL/dax (B, 3H), dL/dah (B, 3H) and the direct part of dL/dh_prev (through z), given dL/dh."""
    r, z, n = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:]
    dn = dh * (1.0 - z) * (1.0 - n * n)   # through tanh
    dz = dh * (h_prev - n) * z * (1.0 - z)
    dr = dn * hn * r * (1.0 - r)
    dax = np.concatenate([dr, dz, dn], axis=1)
    dah = np.concatenate([dr, dz, dn * r], axis=1)
    return dax, dah, dh * z


def gru_step_forward(x, h_prev, Wx, Wh, bx, bh):
    """One step. x (B, D), h_prev (B, H) -> h (B, H), cache."""
    x, h_prev, Wx, Wh, bx, bh = _check(x, h_prev, Wx, Wh, bx, bh, 2)
    gates, hn, h = _step(x @ Wx + bx, h_prev, Wh, bh, Wh.shape[0])
    return h, StepCache(x, h_prev, Wx, Wh, gates, hn, h)


def gru_step_backward(dh, cache):
    """dh (B, H) -> dx, dh_prev, dWx, dWh, dbx, dbh."""
    x, h_prev, Wx, Wh, gates, hn, h = cache
    dh = as_float_array("dh", dh, shape=h.shape)
    dax, dah, dh_prev = _step_grads(dh, gates, hn, h_prev, Wh.shape[0])
    dh_prev += dah @ Wh.T
    return dax @ Wx.T, dh_prev, x.T @ dax, h_prev.T @ dah, dax.sum(axis=0), dah.sum(axis=0)


def gru_forward(x, h0, Wx, Wh, bx, bh):
    """A whole sequence. x (T, B, D), h0 (B, H) -> h (T, B, H), cache."""
    x, h0, Wx, Wh, bx, bh = _check(x, h0, Wx, Wh, bx, bh, 3)
    T, B, D = x.shape
    H = Wh.shape[0]
    ax = (x.reshape(T * B, D) @ Wx).reshape(T, B, 3 * H)
    ax += bx
    gates = np.empty_like(ax)
    hn = np.empty((T, B, H), dtype=ax.dtype)
    h = np.empty_like(hn)
    h_prev = h0
    for t in range(T):
        gates[t], hn[t], h[t] = _step(ax[t], h_prev, Wh, bh, H)
        h_prev = h[t]
    return h, SeqCache(x, h0, Wx, Wh, gates, hn, h)


def gru_backward(dh, cache):
    """BPTT through a GRU. dh (T, B, H) -> dx (T, B, D), dh0 (B, H), dWx, dWh, dbx, dbh."""
    x, h0, Wx, Wh, gates, hn, h = cache
    T, B, D = x.shape
    H = Wh.shape[0]
    dh = as_float_array("dh", dh, shape=h.shape)
    dax = np.empty_like(gates)
    dah = np.empty_like(gates)
    dnext = np.zeros((B, H), dtype=gates.dtype)
    Wh_T = Wh.T
    for t in range(T - 1, -1, -1):
        h_prev = h[t - 1] if t > 0 else h0
        dax[t], dah[t], direct = _step_grads(dh[t] + dnext, gates[t], hn[t], h_prev, H)
        dnext = direct + dah[t] @ Wh_T
    dax2, dah2 = dax.reshape(T * B, 3 * H), dah.reshape(T * B, 3 * H)
    dx = (dax2 @ Wx.T).reshape(T, B, D)
    dWx = x.reshape(T * B, D).T @ dax2
    dWh = h0.T @ dah[0]
    if T > 1:
        dWh += h[:-1].reshape((T - 1) * B, H).T @ dah[1:].reshape((T - 1) * B, 3 * H)
    return dx, dnext, dWx, dWh, dax2.sum(axis=0), dah2.sum(axis=0)
