"""The LSTM (Hochreiter and Schmidhuber 1997, with the forget gate of Gers et al. 2000), registered as cell
"lstm" in rnn_ref.cells.CELLS, in PyTorch's gate order (i, f, g, o) so that torch.nn.LSTM is an exact oracle.

    a = x @ Wx + h_prev @ Wh + b                      (B, 4H), four (B, H) blocks [a_i | a_f | a_g | a_o]
    i = sigmoid(a_i)  f = sigmoid(a_f)  g = tanh(a_g)  o = sigmoid(a_o)
    c = f * c_prev + i * g                            the cell state: an additive path through time
    h = o * tanh(c)

Shapes: x (B, D), h and c (B, H); sequences time-major, x (T, B, D), h (T, B, H).
Weight layout: Wx = [Wx_i | Wx_f | Wx_g | Wx_o] (D, 4H), Wh = [Wh_i | Wh_f | Wh_g | Wh_o] (H, 4H), b (4H,):
PyTorch's weight_ih = W_ii|W_if|W_ig|W_io and weight_hh = W_hi|W_hf|W_hg|W_ho, transposed, and b = b_ih + b_hh.
The state is the pair (h, c). Derived in book/11_lstm.md.
"""
from collections import namedtuple

import numpy as np

from .._validate import as_float_array, cache_of, cell_arrays
from ..numerics import gate_scale, sigmoid_, transposed

StepCache = namedtuple("StepCache", "x h_prev c_prev Wx Wh gates c tanh_c")
SeqCache = namedtuple("SeqCache", "x h0 c0 Wx Wh gates c tanh_c h")


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
    """One step of the LSTM.

        [a_i | a_f | a_g | a_o] = x @ Wx + h_prev @ Wh + b
        i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o)      input, forget and output gates
        g = tanh(a_g)                                           the candidate
        c = f * c_prev + i * g
        h = o * tanh(c)

    Inputs:
    - x: (B, D) the inputs of this step
    - h_prev, c_prev: (B, H) the previous hidden and cell states
    - Wx: (D, 4H) = [Wx_i | Wx_f | Wx_g | Wx_o], Wh: (H, 4H) likewise, b: (4H,)

    Returns a tuple of:
    - h: (B, H) the new hidden state
    - c: (B, H) the new cell state
    - cache: StepCache(x, h_prev, c_prev, Wx, Wh, gates, c, tanh_c), gates (B, 4H) = [i | f | g | o] and
      tanh_c = tanh(c), what lstm_step_backward needs

    float32 inputs give float32 outputs. Derived in book/11_lstm.md, section "The cell and its four gates".
    """
    x, h_prev, c_prev, Wx, Wh, b = cell_arrays(x, dict(h_prev=h_prev, c_prev=c_prev), dict(Wx=Wx, Wh=Wh, b=b),
                                               "ifgo", 2)
    H = Wh.shape[0]
    gates = sigmoid_(x @ Wx + h_prev @ Wh + b, *gate_scale("ifgo", "g", H, x.dtype))   # [i, f, g, o]
    c = gates[:, H:2 * H] * c_prev + gates[:, :H] * gates[:, 2 * H:3 * H]
    tanh_c = np.tanh(c)
    h = gates[:, 3 * H:] * tanh_c
    return h, c, StepCache(x, h_prev, c_prev, Wx, Wh, gates, c, tanh_c)


def lstm_step_backward(dh, dc, cache):
    """Backward pass of one LSTM step.

        dc_t = dc + dh * o * (1 - tanh(c)**2)                   the cell state's full gradient
        da_i = dc_t * g * i (1 - i)      da_f = dc_t * c_prev * f (1 - f)
        da_g = dc_t * i * (1 - g**2)     da_o = dh * tanh(c) * o (1 - o)
        dx = da @ Wx.T    dh_prev = da @ Wh.T    dc_prev = dc_t * f
        dWx = x.T @ da    dWh = h_prev.T @ da    db = da summed over the batch

    Inputs:
    - dh: (B, H) dL/dh of this step's new hidden state
    - dc: (B, H) dL/dc arriving from outside the step: from step t+1 through c_{t+1} = f_{t+1} * c + ...
      (zeros after the last step)
    - cache: the cache returned by lstm_step_forward

    Returns a tuple of:
    - dx: (B, D), dh_prev: (B, H), dc_prev: (B, H), dWx: (D, 4H), dWh: (H, 4H), db: (4H,)

    Derived in book/11_lstm.md, section "The backward pass of one step".
    """
    x, h_prev, c_prev, Wx, Wh, gates, c, tanh_c = cache_of(cache, StepCache, "lstm_step_forward")
    dh = as_float_array("dh", dh, shape=c.shape)
    dc = as_float_array("dc", dc, shape=c.shape)
    da, dc_prev = _gate_grads(dh, dc, gates, c_prev, tanh_c, Wh.shape[0])
    return da @ Wx.T, da @ Wh.T, dc_prev, x.T @ da, h_prev.T @ da, da.sum(axis=0)


def lstm_forward(x, h0, c0, Wx, Wh, b):
    """The LSTM over a whole sequence (the equations of lstm_step_forward at every step).

    Inputs:
    - x: (T, B, D) the input sequence, time-major
    - h0, c0: (B, H) the initial hidden and cell states
    - Wx: (D, 4H) = [Wx_i | Wx_f | Wx_g | Wx_o], Wh: (H, 4H) likewise, b: (4H,)

    Returns a tuple of:
    - h: (T, B, H) every hidden state
    - cache: SeqCache(x, h0, c0, Wx, Wh, gates, c, tanh_c, h): gates (T, B, 4H) = [i | f | g | o], the cell
      states c (T, B, H) (cache.c[-1] is the last) and tanh_c = tanh(c), what lstm_backward needs

    float32 inputs give float32 outputs. Derived in book/11_lstm.md, section "The cell and its four gates".
    """
    x, h0, c0, Wx, Wh, b = cell_arrays(x, dict(h0=h0, c0=c0), dict(Wx=Wx, Wh=Wh, b=b), "ifgo", 3)
    T, B, D = x.shape
    H = Wh.shape[0]
    dt = x.dtype
    scale, shift = gate_scale("ifgo", "g", H, dt)   # sigmoid on i, f, o; tanh on g
    # The input projection does not depend on the recurrence: one big matmul for all T steps.
    gates = np.dot(x.reshape(T * B, D), Wx).reshape(T, B, 4 * H)
    gates += b
    c = np.empty((T, B, H), dtype=dt)
    tanh_c = np.empty_like(c)
    h = np.empty_like(c)
    rec = np.empty((B, 4 * H), dtype=dt)
    ig = np.empty((B, H), dtype=dt)
    h_prev, c_prev = h0, c0
    for t in range(T):
        np.dot(h_prev, Wh, out=rec)
        a = gates[t]
        a += rec
        sigmoid_(a, scale, shift)
        i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        np.multiply(f, c_prev, out=c[t])          # c_t = f * c_{t-1} + i * g
        np.multiply(i, g, out=ig)
        c[t] += ig
        np.tanh(c[t], out=tanh_c[t])
        np.multiply(o, tanh_c[t], out=h[t])       # h_t = o * tanh(c_t)
        h_prev, c_prev = h[t], c[t]
    return h, SeqCache(x, h0, c0, Wx, Wh, gates, c, tanh_c, h)


def lstm_backward(dh, cache, dc_last=None):
    """Backpropagation through time through an LSTM.

        dh_t = dh[t] + da_{t+1} @ Wh.T                        from the loss and from step t+1
        dc_t = dc_{t+1} * f_{t+1} + dh_t * o_t * (1 - tanh(c_t)**2)    the highway: times f, no matrix
        da_t as in lstm_step_backward;  dWx = sum_t x_t.T @ da_t,  dWh = sum_t h_{t-1}.T @ da_t,  db = sum_t,B da_t

    Inputs:
    - dh: (T, B, H) dL/dh_t arriving at every step from the loss (not through time)
    - cache: the cache returned by lstm_forward
    - dc_last: (B, H) or None, dL/dc_{T-1} from beyond the sequence (an encoder's final cell state feeding a
      decoder); None means zeros

    Returns a tuple of:
    - dx: (T, B, D), dh0: (B, H), dc0: (B, H), dWx: (D, 4H), dWh: (H, 4H), db: (4H,)

    Derived in book/11_lstm.md, sections "The cell state is a gradient highway" and "The backward pass of one step".
    """
    x, h0, c0, Wx, Wh, gates, c, tanh_c, h = cache_of(cache, SeqCache, "lstm_forward")
    T, B, D = x.shape
    H = Wh.shape[0]
    dt = gates.dtype
    dh = as_float_array("dh", dh, shape=h.shape).astype(dt, copy=False)
    dc = np.zeros((B, H), dtype=dt)
    if dc_last is not None:
        dc[:] = as_float_array("dc_last", dc_last, shape=(B, H))
    g4 = gates.reshape(T, B, 4, H)
    i, f, g, o = g4[:, :, 0], g4[:, :, 1], g4[:, :, 2], g4[:, :, 3]
    c_prev = np.concatenate([c0[None], c[:-1]])   # c_{t-1} for every step
    # Everything that does not depend on the gradient flowing back in time, for all steps at once:
    #   da_i = dc_t * g i (1-i)   da_f = dc_t * c_prev f (1-f)   da_g = dc_t * i (1-g^2)   da_o = dh_t * tanh_c o (1-o)
    # where dc_t = dc_{t+1} f_{t+1} + dh_t o (1 - tanh_c^2). da starts as these factors and is multiplied in place.
    da = np.empty_like(gates)
    da4 = da.reshape(T, B, 4, H)
    da4[:, :, 0] = g * i * (1.0 - i)
    da4[:, :, 1] = c_prev * f * (1.0 - f)
    da4[:, :, 2] = i * (1.0 - g * g)
    da4[:, :, 3] = tanh_c * o * (1.0 - o)
    dc_from_h = o * (1.0 - tanh_c * tanh_c)
    Wh_T = transposed(Wh, B)
    dh_t = np.empty((B, H), dtype=dt)
    tmp = np.empty((B, H), dtype=dt)
    dnext = np.zeros((B, H), dtype=dt)
    for t in range(T - 1, -1, -1):
        np.add(dh[t], dnext, out=dh_t)             # dL/dh_t: from the loss and from step t+1
        np.multiply(dh_t, dc_from_h[t], out=tmp)
        dc += tmp                                  # dL/dc_t
        da4[t, :, :3] *= dc[:, None, :]            # i, f, g
        da4[t, :, 3] *= dh_t                       # o
        dc *= f[t]                                 # dL/dc_{t-1}
        np.dot(da[t], Wh_T, out=dnext)             # dL/dh_{t-1} through the recurrence
    da2 = da.reshape(T * B, 4 * H)
    dx = np.dot(da2, Wx.T).reshape(T, B, D)
    dWx = np.dot(x.reshape(T * B, D).T, da2)
    h_prev = np.concatenate([h0[None], h[:-1]]).reshape(T * B, H)
    dWh = np.dot(h_prev.T, da2)
    return dx, dnext, dc, dWx, dWh, da2.sum(axis=0)
