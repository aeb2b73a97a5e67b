"""The vanilla (Elman) RNN with a tanh nonlinearity, registered as cell "rnn" in rnn_ref.cells.CELLS.

    h_t = tanh(x_t @ U_xh + h_{t-1} @ W_hh + b)

Shapes, rows as examples and sequences time-major: x_t (B, D), h_t (B, H), x (T, B, D), h (T, B, H);
U_xh (D, H), W_hh (H, H), b (H,). PyTorch's nn.RNN holds U_xh.T as weight_ih_l0, W_hh.T as weight_hh_l0 and b
as bias_ih_l0 + bias_hh_l0 (rnn_ref.torch_io copies them).
The forward pass is derived in book/03_forward.md, the backward pass (BPTT) in book/05_bptt.md.
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
    """One time step of the vanilla RNN.

        h = tanh(x @ U_xh + h_prev @ W_hh + b)

    Inputs:
    - x: (B, D) the inputs of this step, one row per example
    - h_prev: (B, H) the previous hidden state
    - U_xh: (D, H) input-to-hidden weights
    - W_hh: (H, H) hidden-to-hidden weights
    - b: (H,) bias

    Returns a tuple of:
    - h: (B, H) the new hidden state
    - cache: StepCache(x, h_prev, U_xh, W_hh, h), what rnn_step_backward needs

    float32 inputs give float32 outputs. Derived in book/03_forward.md, section "One step of the recurrence".
    """
    x, h_prev, U_xh, W_hh, b = cell_arrays(x, dict(h_prev=h_prev), dict(U_xh=U_xh, W_hh=W_hh, b=b), "h", 2)
    h = np.tanh(x @ U_xh + h_prev @ W_hh + b)
    return h, StepCache(x, h_prev, U_xh, W_hh, h)


def rnn_step_backward(dh, cache):
    """Backward pass of one step: the chain rule through h = tanh(a), a = x @ U_xh + h_prev @ W_hh + b.

        da = dh * (1 - h**2)                      tanh'(a) = 1 - tanh(a)**2
        dx = da @ U_xh.T     dh_prev = da @ W_hh.T
        dU_xh = x.T @ da     dW_hh = h_prev.T @ da     db = da summed over the batch

    Inputs:
    - dh: (B, H) dL/dh, the upstream gradient of this step's new state
    - cache: the cache returned by rnn_step_forward

    Returns a tuple of:
    - dx: (B, D), dh_prev: (B, H), dU_xh: (D, H), dW_hh: (H, H), db: (H,)

    Derived in book/05_bptt.md, section "The recursion for the gradient of a hidden state".
    """
    x, h_prev, U_xh, W_hh, h = cache_of(cache, StepCache, "rnn_step_forward")
    dh = as_float_array("dh", dh, shape=h.shape)
    da = dh * (1.0 - h * h)  # tanh'(a) = 1 - tanh(a)^2
    return da @ U_xh.T, da @ W_hh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)


def rnn_forward(x, h0, U_xh, W_hh, b):
    """The vanilla RNN over a whole sequence: each step reads the state the step before wrote.

        h_t = tanh(x_t @ U_xh + h_{t-1} @ W_hh + b),   t = 0, ..., T-1,   with h_{-1} = h0

    Inputs:
    - x: (T, B, D) the input sequence, time-major
    - h0: (B, H) the initial hidden state
    - U_xh: (D, H), W_hh: (H, H), b: (H,) as in rnn_step_forward

    Returns a tuple of:
    - h: (T, B, H) every hidden state; h[-1] is the last
    - cache: SeqCache(x, h0, U_xh, W_hh, h), what rnn_backward needs

    float32 inputs give float32 outputs (all arrays are brought to their common dtype).
    Derived in book/03_forward.md, section "The forward pass over a whole sequence".
    """
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
    """Backpropagation through time (BPTT) over a whole sequence.

        g_t  = dh[t] + da_{t+1} @ W_hh.T          dL/dh_t: from the loss and from step t+1 (nothing after T-1)
        da_t = g_t * (1 - h_t**2)
        dx_t = da_t @ U_xh.T    dU_xh = sum_t x_t.T @ da_t    dW_hh = sum_t h_{t-1}.T @ da_t    db = sum_t,B da_t

    Inputs:
    - dh: (T, B, H) dL/dh_t arriving at every step from the loss (not through time)
    - cache: the cache returned by rnn_forward

    Returns a tuple of:
    - dx: (T, B, D), dh0: (B, H), dU_xh: (D, H), dW_hh: (H, H), db: (H,)

    Derived in book/05_bptt.md, sections "The recursion for the gradient of a hidden state" and "The sums over
    time for the recurrent parameters".
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
