"""The GRU (Cho et al. 2014) in PyTorch's variant, registered as cell "gru" in rnn_ref.cells.CELLS, with
PyTorch's gate order (r, z, n) so that torch.nn.GRU is an exact oracle.

    r = sigmoid(x @ Wx_r + bx_r + h_prev @ Wh_r + bh_r)         reset gate
    z = sigmoid(x @ Wx_z + bx_z + h_prev @ Wh_z + bh_z)         update gate
    n = tanh(x @ Wx_n + bx_n + r * (h_prev @ Wh_n + bh_n))      candidate: the reset gate acts after the matmul
    h = (1 - z) * n + z * h_prev

Shapes: x (B, D), h (B, H); sequences time-major, x (T, B, D), h (T, B, H).
Weight layout: Wx = [Wx_r | Wx_z | Wx_n] (D, 3H), Wh = [Wh_r | Wh_z | Wh_n] (H, 3H), bx = [bx_r | bx_z | bx_n]
and bh likewise (3H,): PyTorch's weight_ih = W_ir|W_iz|W_in and weight_hh = W_hr|W_hz|W_hn transposed, bx = b_ih
and bh = b_hh.
The two biases cannot be merged: bh_n sits inside the reset product. Cho et al.'s own form, with the reset
before the matmul, is rnn_ref.cells.gru_cho. Derived in book/12_gru.md.
"""
from collections import namedtuple

import numpy as np

from .._validate import as_float_array, cache_of, cell_arrays
from ..numerics import sigmoid_, transposed

StepCache = namedtuple("StepCache", "x h_prev Wx Wh gates hn h")
SeqCache = namedtuple("SeqCache", "x h0 Wx Wh gates hn h")


def _step(ax, h_prev, Wh, bh, H):
    """ax = x @ Wx + bx (B, 3H) -> gates [r, z, n] (B, 3H), hn = h_prev @ Wh_n + bh_n, h."""
    ah = h_prev @ Wh + bh
    gates = np.empty_like(ax)
    sigmoid_(np.add(ax[:, :2 * H], ah[:, :2 * H], out=gates[:, :2 * H]))
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
    """One step of the GRU (PyTorch's form).

        [a_r | a_z | a_n] = x @ Wx + bx,   [ah_r | ah_z | hn] = h_prev @ Wh + bh
        r = sigmoid(a_r + ah_r)    z = sigmoid(a_z + ah_z)    n = tanh(a_n + r * hn)
        h = (1 - z) * n + z * h_prev

    Inputs:
    - x: (B, D) the inputs of this step
    - h_prev: (B, H) the previous hidden state
    - Wx: (D, 3H) = [Wx_r | Wx_z | Wx_n], Wh: (H, 3H) likewise, bx: (3H,), bh: (3H,)

    Returns a tuple of:
    - h: (B, H) the new hidden state
    - cache: StepCache(x, h_prev, Wx, Wh, gates, hn, h), gates (B, 3H) = [r | z | n] and
      hn = h_prev @ Wh_n + bh_n (B, H), what gru_step_backward needs

    float32 inputs give float32 outputs. Derived in book/12_gru.md, section "The gates".
    """
    x, h_prev, Wx, Wh, bx, bh = cell_arrays(x, dict(h_prev=h_prev), dict(Wx=Wx, Wh=Wh, bx=bx, bh=bh), "rzn", 2)
    gates, hn, h = _step(x @ Wx + bx, h_prev, Wh, bh, Wh.shape[0])
    return h, StepCache(x, h_prev, Wx, Wh, gates, hn, h)


def gru_step_backward(dh, cache):
    """Backward pass of one GRU step.

        da_n = dh * (1 - z) * (1 - n**2)    da_z = dh * (h_prev - n) * z (1 - z)    da_r = da_n * hn * r (1 - r)
        dax = [da_r | da_z | da_n]          dah = [da_r | da_z | da_n * r]     (the reset scales what reaches Wh_n)
        dx = dax @ Wx.T    dh_prev = dh * z + dah @ Wh.T    dWx = x.T @ dax    dWh = h_prev.T @ dah
        dbx = dax summed over the batch    dbh = dah summed over the batch

    Inputs:
    - dh: (B, H) dL/dh of this step's new state
    - cache: the cache returned by gru_step_forward

    Returns a tuple of:
    - dx: (B, D), dh_prev: (B, H), dWx: (D, 3H), dWh: (H, 3H), dbx: (3H,), dbh: (3H,)

    Derived in book/12_gru.md, section "The backward pass, in brief".
    """
    x, h_prev, Wx, Wh, gates, hn, h = cache_of(cache, StepCache, "gru_step_forward")
    dh = as_float_array("dh", dh, shape=h.shape)
    dax, dah, dh_prev = _step_grads(dh, gates, hn, h_prev, Wh.shape[0])
    dh_prev += dah @ Wh.T
    return dax @ Wx.T, dh_prev, x.T @ dax, h_prev.T @ dah, dax.sum(axis=0), dah.sum(axis=0)


def gru_forward(x, h0, Wx, Wh, bx, bh):
    """The GRU over a whole sequence (the equations of gru_step_forward at every step).

    Inputs:
    - x: (T, B, D) the input sequence, time-major
    - h0: (B, H) the initial hidden state
    - Wx: (D, 3H) = [Wx_r | Wx_z | Wx_n], Wh: (H, 3H) likewise, bx: (3H,), bh: (3H,)

    Returns a tuple of:
    - h: (T, B, H) every hidden state
    - cache: SeqCache(x, h0, Wx, Wh, gates, hn, h), gates (T, B, 3H) = [r | z | n] and hn (T, B, H) =
      h_{t-1} @ Wh_n + bh_n at every step, what gru_backward needs

    One product h_prev @ Wh per step: the reset gate acts on its result. float32 inputs give float32 outputs.
    Derived in book/12_gru.md, sections "The gates" and "Two GRUs: the reset before or after the matrix product".
    """
    x, h0, Wx, Wh, bx, bh = cell_arrays(x, dict(h0=h0), dict(Wx=Wx, Wh=Wh, bx=bx, bh=bh), "rzn", 3)
    T, B, D = x.shape
    H = Wh.shape[0]
    dt = x.dtype
    # The input projection for all steps at once; bh's r and z parts enter the same sum, so they join here.
    b_all = bx.copy()
    b_all[:2 * H] += bh[:2 * H]
    gates = np.dot(x.reshape(T * B, D), Wx).reshape(T, B, 3 * H)  # becomes [r, z, n] in place
    gates += b_all
    bh_n = bh[2 * H:]
    hn = np.empty((T, B, H), dtype=dt)    # h_prev @ Wh_n + bh_n, which the reset gate multiplies
    h = np.empty_like(hn)
    ah = np.empty((B, 3 * H), dtype=dt)
    tmp = np.empty((B, H), dtype=dt)
    h_prev = h0
    for t in range(T):
        np.dot(h_prev, Wh, out=ah)
        a = gates[t]
        rz, n = a[:, :2 * H], a[:, 2 * H:]
        rz += ah[:, :2 * H]
        sigmoid_(rz)
        np.add(ah[:, 2 * H:], bh_n, out=hn[t])
        np.multiply(a[:, :H], hn[t], out=tmp)          # r * (h_prev @ Wh_n + bh_n)
        n += tmp
        np.tanh(n, out=n)
        np.subtract(h_prev, n, out=h[t])               # h = n + z * (h_prev - n)
        h[t] *= a[:, H:2 * H]
        h[t] += n
        h_prev = h[t]
    return h, SeqCache(x, h0, Wx, Wh, gates, hn, h)


def _gate_factors(dh, cache):
    """What the backward passes of both GRUs (this one and gru_cho) need before their time loop, for all steps
    at once: dh checked, the gates r, z, n (T, B, H), h_{t-1} for every step, and da (T, B, 3, H) holding the
    factors of dL/d(pre-activations) that do not depend on the gradient flowing back in time,
        dr = (what r multiplies) * r (1-r)     dz = dh_t (h_prev-n) z (1-z)     dn = dh_t (1-z)(1-n^2),
    that is [r (1-r), (h_prev-n) z (1-z), (1-z)(1-n^2)]; the caller multiplies the first block by what r
    multiplies in its form, and its time loop multiplies them in place by the gradient arriving at each step."""
    x, h0, gates, h = cache.x, cache.h0, cache.gates, cache.h
    T, B, _ = x.shape
    H = h.shape[2]
    dh = as_float_array("dh", dh, shape=h.shape).astype(gates.dtype, copy=False)
    g3 = gates.reshape(T, B, 3, H)
    r, z, n = g3[:, :, 0], g3[:, :, 1], g3[:, :, 2]
    h_prev = np.concatenate([h0[None], h[:-1]])
    da = np.empty_like(g3)
    da[:, :, 0] = r * (1.0 - r)
    da[:, :, 1] = (h_prev - n) * z * (1.0 - z)
    da[:, :, 2] = (1.0 - z) * (1.0 - n * n)
    return dh, (r, z, n), h_prev, da


def gru_backward(dh, cache):
    """Backpropagation through time through a GRU.

        dh_t = dh[t] + dah_{t+1} @ Wh.T + dh_{t+1} * z_{t+1}      from the loss, the matmul, and the highway
        dax_t, dah_t as in gru_step_backward;  dWx = sum_t x_t.T @ dax_t,  dWh = sum_t h_{t-1}.T @ dah_t

    Inputs:
    - dh: (T, B, H) dL/dh_t arriving at every step from the loss (not through time)
    - cache: the cache returned by gru_forward

    Returns a tuple of:
    - dx: (T, B, D), dh0: (B, H), dWx: (D, 3H), dWh: (H, 3H), dbx: (3H,), dbh: (3H,)

    Derived in book/12_gru.md, section "The backward pass, in brief".
    """
    x, h0, Wx, Wh, gates, hn, h = cache_of(cache, SeqCache, "gru_forward")
    dh, (r, z, n), h_prev, dax3 = _gate_factors(dh, cache)
    dax3[:, :, 0] *= hn                      # dr = dn * hn r (1-r)
    T, B, D = x.shape
    H = Wh.shape[0]
    dt = gates.dtype
    dax = dax3.reshape(T, B, 3 * H)
    dah = np.empty_like(gates)               # dL/d(h_prev @ Wh + bh) = [dr, dz, dn * r]
    dah3 = dah.reshape(T, B, 3, H)
    Wh_T = transposed(Wh, B)
    dh_t = np.empty((B, H), dtype=dt)
    dnext = np.zeros((B, H), dtype=dt)
    for t in range(T - 1, -1, -1):
        np.add(dh[t], dnext, out=dh_t)                     # dL/dh_t: from the loss and from step t+1
        dax3[t, :, 1:] *= dh_t[:, None, :]                 # dz, dn
        dax3[t, :, 0] *= dax3[t, :, 2]                     # dr
        dah3[t, :, :2] = dax3[t, :, :2]
        np.multiply(dax3[t, :, 2], r[t], out=dah3[t, :, 2])
        np.dot(dah[t], Wh_T, out=dnext)                    # dL/dh_{t-1}: through the matmul ...
        dh_t *= z[t]
        dnext += dh_t                                      # ... and directly, h = ... + z * h_prev
    dax2, dah2 = dax.reshape(T * B, 3 * H), dah.reshape(T * B, 3 * H)
    dx = np.dot(dax2, Wx.T).reshape(T, B, D)
    dWx = np.dot(x.reshape(T * B, D).T, dax2)
    dWh = np.dot(h_prev.reshape(T * B, H).T, dah2)
    return dx, dnext, dWx, dWh, dax2.sum(axis=0), dah2.sum(axis=0)
