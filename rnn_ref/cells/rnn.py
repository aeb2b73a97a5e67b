"""The vanilla (Elman) RNN with a tanh nonlinearity.

Book notation, rows as examples:   h_t = tanh(x_t @ U_xh + h_{t-1} @ W_hh + b)
Shapes: x_t (B, D), h_t (B, H), U_xh (D, H), W_hh (H, H), b (H,). Sequences are time-major: x (T, B, D).
"""
from collections import namedtuple

import numpy as np

from .._validate import as_float_array, cache_of, cell_arrays, cell_params
from ..numerics import transposed

StepCache = namedtuple("StepCache", "x h_prev U_xh W_hh h")
SeqCache = namedtuple("SeqCache", "x h0 U_xh W_hh h")


def _check_params(U_xh, W_hh, b, D):
    """U_xh (D, H), W_hh (H, H), b (H,) checked (for models that run the recurrence themselves)."""
    return tuple(cell_params(dict(U_xh=U_xh, W_hh=W_hh, b=b), "h", D)[0])


def rnn_step_forward(x, h_prev, U_xh, W_hh, b):
    """One time step. x (B, D), h_prev (B, H) -> h (B, H), cache."""
    x, h_prev, U_xh, W_hh, b = cell_arrays(x, dict(h_prev=h_prev), dict(U_xh=U_xh, W_hh=W_hh, b=b), "h", 2)
    h = np.tanh(x @ U_xh + h_prev @ W_hh + b)
    return h, StepCache(x, h_prev, U_xh, W_hh, h)


def rnn_step_backward(dh, cache):
    """Gradients of one step. dh (B, H) is dL/dh -> dx, dh_prev, dU_xh, dW_hh, db."""
    x, h_prev, U_xh, W_hh, h = cache_of(cache, StepCache, "rnn_step_forward")
    dh = as_float_array("dh", dh, shape=h.shape)
    da = dh * (1.0 - h * h)  # tanh'(a) = 1 - tanh(a)^2
    return da @ U_xh.T, da @ W_hh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)


def rnn_forward(x, h0, U_xh, W_hh, b):
    """A whole sequence. x (T, B, D), h0 (B, H) -> h (T, B, H) (every hidden state), cache.

    float32 inputs give float32 outputs (all arrays are brought to their common dtype)."""
    x, h0, U_xh, W_hh, b = cell_arrays(x, dict(h0=h0), dict(U_xh=U_xh, W_hh=W_hh, b=b), "h", 3)
    T, B, D = x.shape
    H = W_hh.shape[0]
    dt = x.dtype
    # The input projection does not depend on the recurrence: one big matmul for all T steps.
    h = np.dot(x.reshape(T * B, D), U_xh).reshape(T, B, H)
    h += b
    # The loop holds only what must be sequential: the recurrent matmul and the tanh, into preallocated memory.
    rec = np.empty((B, H), dtype=dt)
    prev = h0
    for h_t in h:                    # h_t is a view of h[t], holding x_t @ U_xh + b so far
        np.dot(prev, W_hh, out=rec)
        h_t += rec
        np.tanh(h_t, out=h_t)
        prev = h_t
    return h, SeqCache(x, h0, U_xh, W_hh, h)


def rnn_backward(dh, cache):
    """BPTT over a whole sequence.

    dh (T, B, H) is the upstream gradient dL/dh_t arriving at every step from the loss (not through time).
    Returns dx (T, B, D), dh0 (B, H), dU_xh (D, H), dW_hh (H, H), db (H,).
    """
    x, h0, U_xh, W_hh, h = cache_of(cache, SeqCache, "rnn_forward")
    T, B, D = x.shape
    H = W_hh.shape[0]
    dh = as_float_array("dh", dh, shape=h.shape).astype(h.dtype, copy=False)
    da = 1.0 - h * h                          # tanh'(a_t) for every step at once; da_t is built in place
    dh_t = np.empty((B, H), dtype=h.dtype)    # dL/dh_t: from the loss plus from step t+1
    dnext = np.zeros((B, H), dtype=h.dtype)   # dL/dh_t arriving from step t+1
    W_hh_T = transposed(W_hh, B)
    for t in range(T - 1, -1, -1):
        np.add(dh[t], dnext, out=dh_t)
        da[t] *= dh_t                         # da_t = dL/dh_t * (1 - h_t^2)
        np.dot(da[t], W_hh_T, out=dnext)
    # Weight gradients are sums over time: one matmul each once the loop has produced every da_t.
    da2 = da.reshape(T * B, H)
    dx = np.dot(da2, U_xh.T).reshape(T, B, D)
    dU_xh = np.dot(x.reshape(T * B, D).T, da2)
    h_prev = np.concatenate([h0[None], h[:-1]]).reshape(T * B, H)   # h_{t-1} for every step
    dW_hh = np.dot(h_prev.T, da2)
    db = da2.sum(axis=0)
    return dx, dnext, dU_xh, dW_hh, db
