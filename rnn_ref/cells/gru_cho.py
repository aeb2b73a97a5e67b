"""The GRU in the form of Cho et al. (2014), registered as cell "gru_cho" in rnn_ref.cells.CELLS: the reset gate
multiplies the state before the matrix product.

    r = sigmoid(x @ Wx_r + bx_r + h_prev @ Wh_r + bh_r)         reset gate
    z = sigmoid(x @ Wx_z + bx_z + h_prev @ Wh_z + bh_z)         update gate
    n = tanh(x @ Wx_n + bx_n + (r * h_prev) @ Wh_n + bh_n)      candidate: the reset gate acts before the matmul
    h = (1 - z) * n + z * h_prev

This is equation eq-12-cho of book/12_gru.md, with the course's z convention (z keeps the old state). Shapes
and weight layout are those of rnn_ref.cells.gru, so the same weights run in either form (they agree when r = 1):
x (B, D), h (B, H); sequences time-major, x (T, B, D), h (T, B, H).
Weight layout: Wx = [Wx_r | Wx_z | Wx_n] (D, 3H), Wh = [Wh_r | Wh_z | Wh_n] (H, 3H), bx = [bx_r | bx_z | bx_n]
and bh likewise (3H,), laid out as PyTorch's GRU (weight_ih = W_ir|W_iz|W_in, weight_hh = W_hr|W_hz|W_hn,
transposed; bx = b_ih, bh = b_hh).
Here every bias sits outside the products, so bx and bh always act as their sum. torch.nn has no such cell: the
tests compare it with autograd of the formula written in torch ops. The price of the form: the candidate's
product (r * h_prev) @ Wh_n must wait for r, a second, dependent matrix product per step.
Derived in book/12_gru.md, section "Two GRUs: the reset before or after the matrix product".
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
    rh = r * h_prev and h (B, H) are written; ah (B, 2H) is scratch.
    """
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
    """One step of Cho et al.'s GRU.

        [a_r | a_z | a_n] = x @ Wx + bx + bh
        r = sigmoid(a_r + h_prev @ Wh_r)    z = sigmoid(a_z + h_prev @ Wh_z)
        n = tanh(a_n + (r * h_prev) @ Wh_n)
        h = (1 - z) * n + z * h_prev

    Inputs:
    - x: (B, D) the inputs of this step
    - h_prev: (B, H) the previous hidden state
    - Wx: (D, 3H) = [Wx_r | Wx_z | Wx_n], the input weights of the three blocks
    - Wh: (H, 3H) = [Wh_r | Wh_z | Wh_n]; Wh_n multiplies the reset state r * h_prev
    - bx, bh: (3H,) each; in this form they only ever act as their sum

    Returns a tuple of:
    - h: (B, H) the new hidden state
    - cache: StepCache(x, h_prev, Wx, Wh, gates, rh, h), gates (B, 3H) = [r | z | n] and rh = r * h_prev (B, H),
      what gru_cho_step_backward needs

    float32 inputs give float32 outputs.
    Derived in book/12_gru.md, section "Two GRUs: the reset before or after the matrix product".
    """
    x, h_prev, Wx, Wh, bx, bh = cell_arrays(x, dict(h_prev=h_prev), dict(Wx=Wx, Wh=Wh, bx=bx, bh=bh),
                                            "rzn", 2)
    B, H = h_prev.shape
    gates = x @ Wx
    gates += bx + bh                     # in Cho's form every bias sits outside the gate products
    rh, h = np.empty((2, B, H), dtype=gates.dtype)
    _step(gates, h_prev, Wh, np.empty((B, 2 * H), dtype=gates.dtype), rh, h)
    return h, StepCache(x, h_prev, Wx, Wh, gates, rh, h)


def gru_cho_step_backward(dh, cache):
    """Backward pass of one step of Cho et al.'s GRU.

        da_n = dh * (1 - z) * (1 - n**2)        da_z = dh * (h_prev - n) * z (1 - z)
        drh = da_n @ Wh_n.T                     dL/d(r * h_prev)
        da_r = drh * h_prev * r (1 - r)         da = [da_r | da_z | da_n]
        dh_prev = dh * z + drh * r + [da_r | da_z] @ [Wh_r | Wh_z].T
        dx = da @ Wx.T    dWx = x.T @ da    dWh = [h_prev.T @ [da_r | da_z] | (r * h_prev).T @ da_n]
        dbx = dbh = da summed over the batch

    Inputs:
    - dh: (B, H) dL/dh of this step's new state
    - cache: the cache returned by gru_cho_step_forward

    Returns a tuple of:
    - dx: (B, D), dh_prev: (B, H), dWx: (D, 3H), dWh: (H, 3H), dbx: (3H,), dbh: (3H,)

    The chain rule of book/12_gru.md, section "The backward pass, in brief", with r moved: it now scales the
    state before Wh_n, so the gradient reaches h_prev a third way, drh * r.
    """
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
    """Cho et al.'s GRU over a whole sequence (the equations of gru_cho_step_forward at every step).

    Inputs:
    - x: (T, B, D) the input sequence, time-major
    - h0: (B, H) the initial hidden state
    - Wx: (D, 3H) = [Wx_r | Wx_z | Wx_n], the input weights of the three blocks
    - Wh: (H, 3H) = [Wh_r | Wh_z | Wh_n]; Wh_n multiplies the reset state r * h_prev
    - bx, bh: (3H,) each; in this form they only ever act as their sum

    Returns a tuple of:
    - h: (T, B, H) every hidden state
    - cache: SeqCache(x, h0, Wx, Wh, gates, rh, h), gates (T, B, 3H) = [r | z | n] and rh (T, B, H) =
      r_t * h_{t-1} at every step, what gru_cho_backward needs

    Two products per step, h_prev @ [Wh_r | Wh_z] and then (r * h_prev) @ Wh_n. float32 inputs give float32 outputs.
    Derived in book/12_gru.md, section "Two GRUs: the reset before or after the matrix product".
    """
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
    """Backpropagation through time through Cho et al.'s GRU.

        dh_t = dh[t] + [da_r | da_z]_{t+1} @ [Wh_r | Wh_z].T + drh_{t+1} * r_{t+1} + dh_{t+1} * z_{t+1}
        da_t, drh_t as in gru_cho_step_backward;  dWx = sum_t x_t.T @ da_t,
        dWh = [sum_t h_{t-1}.T @ [da_r | da_z]_t | sum_t (r_t * h_{t-1}).T @ da_n,t],  dbx = dbh = sum_t,B da_t

    Inputs:
    - dh: (T, B, H) dL/dh_t arriving at every step from the loss (not through time)
    - cache: the cache returned by gru_cho_forward

    Returns a tuple of:
    - dx: (T, B, D), dh0: (B, H), dWx: (D, 3H), dWh: (H, 3H), dbx: (3H,), dbh: (3H,)

    The chain rule of book/12_gru.md, section "The backward pass, in brief", with the reset before the matmul.
    """
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
