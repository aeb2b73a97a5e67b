"""The LSTM, in PyTorch's gate order (i, f, g, o) so that torch.nn.LSTM is an exact oracle.

a = x @ Wx + h_prev @ Wh + b                      (B, 4H), split into four (B, H) blocks
i = sigmoid(a_i)  f = sigmoid(a_f)  g = tanh(a_g)  o = sigmoid(a_o)
c = f * c_prev + i * g                            the cell state: an additive path through time
h = o * tanh(c)
Shapes: x (B, D), h and c (B, H), Wx (D, 4H), Wh (H, 4H), b (4H,) (PyTorch's b_ih + b_hh).
"""
from collections import namedtuple

import numpy as np

from ._validate import as_float_array

StepCache = namedtuple("StepCache", "x h_prev c_prev Wx Wh gates c tanh_c")
SeqCache = namedtuple("SeqCache", "x h0 c0 Wx Wh gates c tanh_c h")


def sigmoid(a):
    """Logistic function, stable for large |a|: exp only ever sees a value <= 0."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _check(x, h_prev, c_prev, Wx, Wh, b, ndim):
    x = as_float_array("x", x, ndim=ndim)
    D, B = x.shape[-1], x.shape[-2]
    Wx = as_float_array("Wx", Wx, shape=(D, None))
    if Wx.shape[1] % 4:
        raise ValueError(f"Wx: expected shape (D, 4H) with the gates i, f, g, o side by side, got {Wx.shape}")
    H = Wx.shape[1] // 4
    Wh = as_float_array("Wh", Wh, shape=(H, 4 * H))
    b = as_float_array("b", b, shape=(4 * H,))
    names = ("h_prev", "c_prev") if ndim == 2 else ("h0", "c0")
    h_prev = as_float_array(names[0], h_prev, shape=(B, H))
    c_prev = as_float_array(names[1], c_prev, shape=(B, H))
    return x, h_prev, c_prev, Wx, Wh, b


def _gates(a, H):
    """Nonlinearities applied in place to the pre-activations a (B, 4H): i, f, o squashed, g tanh'd."""
    a[:, :2 * H] = sigmoid(a[:, :2 * H])
    a[:, 3 * H:] = sigmoid(a[:, 3 * H:])
    np.tanh(a[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])
    return a


def _gate_grads(dh, dc, gates, c_prev, tanh_c, H):
    """dL/da (B, 4H) of one step and dL/dc_prev, given dL/dh and dL/dc (the latter from step t+1)."""
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    dc = dc + dh * o * (1.0 - tanh_c * tanh_c)
    da = np.empty_like(gates)
    da[:, :H] = dc * g * i * (1.0 - i)
    da[:, H:2 * H] = dc * c_prev * f * (1.0 - f)
    da[:, 2 * H:3 * H] = dc * i * (1.0 - g * g)
    da[:, 3 * H:] = dh * tanh_c * o * (1.0 - o)
    return da, dc * f


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """One step. x (B, D), h_prev and c_prev (B, H) -> h (B, H), c (B, H), cache."""
    x, h_prev, c_prev, Wx, Wh, b = _check(x, h_prev, c_prev, Wx, Wh, b, 2)
    H = Wh.shape[0]
    gates = _gates(x @ Wx + h_prev @ Wh + b, H)
    c = gates[:, H:2 * H] * c_prev + gates[:, :H] * gates[:, 2 * H:3 * H]
    tanh_c = np.tanh(c)
    h = gates[:, 3 * H:] * tanh_c
    return h, c, StepCache(x, h_prev, c_prev, Wx, Wh, gates, c, tanh_c)


def lstm_step_backward(dh, dc, cache):
    """dh, dc (B, H): dL/dh and dL/dc of this step -> dx, dh_prev, dc_prev, dWx, dWh, db."""
    x, h_prev, c_prev, Wx, Wh, gates, c, tanh_c = cache
    dh = as_float_array("dh", dh, shape=c.shape)
    dc = as_float_array("dc", dc, shape=c.shape)
    da, dc_prev = _gate_grads(dh, dc, gates, c_prev, tanh_c, Wh.shape[0])
    return da @ Wx.T, da @ Wh.T, dc_prev, x.T @ da, h_prev.T @ da, da.sum(axis=0)


def lstm_forward(x, h0, c0, Wx, Wh, b):
    """A whole sequence. x (T, B, D), h0 and c0 (B, H) -> h (T, B, H), cache (the cell states are cache.c)."""
    x, h0, c0, Wx, Wh, b = _check(x, h0, c0, Wx, Wh, b, 3)
    T, B, D = x.shape
    H = Wh.shape[0]
    gates = (x.reshape(T * B, D) @ Wx).reshape(T, B, 4 * H)
    gates += b
    c = np.empty((T, B, H), dtype=gates.dtype)
    h = np.empty_like(c)
    h_prev, c_prev = h0, c0
    for t in range(T):
        gates[t] += h_prev @ Wh
        _gates(gates[t], H)
        np.multiply(gates[t, :, H:2 * H], c_prev, out=c[t])
        c[t] += gates[t, :, :H] * gates[t, :, 2 * H:3 * H]
        np.tanh(c[t], out=h[t])
        h[t] *= gates[t, :, 3 * H:]
        h_prev, c_prev = h[t], c[t]
    tanh_c = np.tanh(c)
    return h, SeqCache(x, h0, c0, Wx, Wh, gates, c, tanh_c, h)


def lstm_backward(dh, cache, dc_last=None):
    """BPTT through an LSTM. dh (T, B, H) is dL/dh_t from the loss at every step; dc_last (B, H), if given,
    is dL/dc_T from beyond the sequence (an encoder's final cell state feeding a decoder).
    Returns dx (T, B, D), dh0 (B, H), dc0 (B, H), dWx (D, 4H), dWh (H, 4H), db (4H,)."""
    x, h0, c0, Wx, Wh, gates, c, tanh_c, h = cache
    T, B, D = x.shape
    H = Wh.shape[0]
    dh = as_float_array("dh", dh, shape=h.shape)
    dnext = np.zeros((B, H), dtype=gates.dtype)
    dc = np.zeros_like(dnext) if dc_last is None else as_float_array("dc_last", dc_last, shape=(B, H))
    da = np.empty_like(gates)
    Wh_T = Wh.T
    for t in range(T - 1, -1, -1):
        c_prev = c[t - 1] if t > 0 else c0
        da[t], dc = _gate_grads(dh[t] + dnext, dc, gates[t], c_prev, tanh_c[t], H)
        dnext = da[t] @ Wh_T
    da2 = da.reshape(T * B, 4 * H)
    dx = (da2 @ Wx.T).reshape(T, B, D)
    dWx = x.reshape(T * B, D).T @ da2
    dWh = h0.T @ da[0]
    if T > 1:
        dWh += h[:-1].reshape((T - 1) * B, H).T @ da[1:].reshape((T - 1) * B, 4 * H)
    return dx, dnext, dc, dWx, dWh, da2.sum(axis=0)
