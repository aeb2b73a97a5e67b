"""Deep RNNs, the three ways to add depth of the Deep Learning book's Fig. 10.13 (Pascanu et al. 2014).

(a) Stacked recurrent layers: layer l reads the hidden states of layer l-1.
    stacked_rnn_* (vanilla RNN; layers is a list of (U_xh, W_hh, b) tuples, layer 0's U_xh is (D, H), the
    others' (H, H)) and stacked_* (any cell: rnn, lstm or gru).
(b) Deep transition: one tanh hidden layer z_t inside the step, so that input-to-hidden, hidden-to-hidden
    and hidden-to-output are each a small MLP (Pascanu et al.'s DOT-RNN):
        z_t = tanh(x_t @ U_xz + h_{t-1} @ W_hz + b_z)        (B, Z)   the transition's hidden layer
        h_t = tanh(z_t @ W_zh + b_h)                          (B, H)
        q_t = tanh(h_t @ V_hq + b_q);  o_t = q_t @ V_qo + b_y   (B, Q), (B, K)   the deep output
    The path from h_{t-1} to h_t now crosses two nonlinearities: twice as long through time.
(c) Deep transition with a skip connection: a direct h_{t-1} -> h_t path beside the MLP shortens it again,
        h_t = tanh(z_t @ W_zh + h_{t-1} @ W_hh + b_h)
"""
from collections import namedtuple

import numpy as np

from ._validate import as_float_array, as_targets
from .bidirectional import NUM_PARAMS, cell_backward, cell_forward
from .charlm import check_params
from .loss import softmax_cross_entropy
from .rnn import rnn_backward, rnn_forward


def stacked_rnn_forward(x, h0s, layers):
    """x (T, B, D), h0s (L, B, H) -> the top layer's h (T, B, H), cache."""
    if not isinstance(layers, (list, tuple)) or not layers:
        raise ValueError("layers: expected a non-empty list of (U_xh, W_hh, b) tuples, one per layer")
    x = as_float_array("x", x, ndim=3)
    h0s = as_float_array("h0s", h0s, shape=(len(layers), x.shape[1], None))
    caches, inp = [], x
    for l, (U_xh, W_hh, b) in enumerate(layers):
        try:
            inp, cache = rnn_forward(inp, h0s[l], U_xh, W_hh, b)
        except ValueError as e:  # say which layer: layer l > 0 reads the (T, B, H) states of layer l-1
            raise ValueError(f"layers[{l}]: {e}") from None
        caches.append(cache)
    return inp, caches


def stacked_rnn_backward(dh, cache):
    """dh (T, B, H) on the top layer -> dx (T, B, D), dh0s (L, B, H), dlayers (list of (dU_xh, dW_hh, db))."""
    dh0s, dlayers = [], []
    for layer_cache in reversed(cache):
        dh, dh0, dU, dW, db = rnn_backward(dh, layer_cache)  # a layer's dx is the gradient of the layer below
        dh0s.append(dh0)
        dlayers.append((dU, dW, db))
    return dh, np.stack(dh0s[::-1]), dlayers[::-1]


def _zero_state(cell, B, H, dtype):
    z = np.zeros((B, H), dtype)
    return (z, z.copy()) if cell == "lstm" else z


def stacked_forward(x, state0s, layers, cell="rnn"):
    """Stacked layers of any cell. x (T, B, D) -> the top layer's h (T, B, H_top), cache.

    layers: a list of the cell's parameter tuples in API order, one per layer (rnn (U_xh, W_hh, b), lstm
    (Wx, Wh, b), gru (Wx, Wh, bx, bh)); layer 0 reads x, layer l > 0 reads layer l-1's h, so its input
    size is that layer's hidden size. state0s: a list of initial states (h0 (B, H), or (h0, c0) for the
    LSTM), one per layer, or None for zeros.
    """
    if not isinstance(layers, (list, tuple)) or not layers:
        raise ValueError("layers: expected a non-empty list of parameter tuples, one per layer")
    x = as_float_array("x", x, ndim=3)
    if state0s is not None and (not isinstance(state0s, (list, tuple)) or len(state0s) != len(layers)):
        raise ValueError(f"state0s: expected a list of {len(layers)} initial states (one per layer) or None")
    if cell not in NUM_PARAMS:
        raise ValueError(f"cell: expected one of {', '.join(NUM_PARAMS)}, got {cell!r}")
    caches, inp = [], x
    for l, params in enumerate(layers):
        if not isinstance(params, (tuple, list)) or len(params) != NUM_PARAMS[cell]:
            raise ValueError(f"layers[{l}]: expected the cell's parameter tuple ({NUM_PARAMS[cell]} arrays in "
                             f"API order) for cell={cell!r}")
        if state0s is None:
            if np.ndim(params[1]) != 2:
                raise ValueError(f"layers[{l}]: its second entry must be the recurrent weight matrix (H, ...)")
            s0 = _zero_state(cell, x.shape[1], np.shape(params[1])[0], x.dtype)  # W_hh / Wh has H rows
        else:
            s0 = state0s[l]
        inp, cache = cell_forward(cell, inp, s0, params, (f"state0s[{l}]", f"layers[{l}]"))
        caches.append(cache)
    return inp, (cell, caches)


def stacked_backward(dh, cache):
    """dh (T, B, H_top) on the top layer -> dx (T, B, D), dstate0s (list, one initial-state gradient per
    layer: dh0, or (dh0, dc0) for the LSTM), dlayers (list of parameter-gradient tuples in API order)."""
    cell, caches = cache
    dstates, dlayers = [], []
    for layer_cache in reversed(caches):
        dh, ds, dp = cell_backward(cell, dh, layer_cache)  # a layer's dx is the gradient of the layer below
        dstates.append(ds)
        dlayers.append(tuple(dp))
    return dh, dstates[::-1], dlayers[::-1]


DEEP_TRANSITION = ("U_xz", "W_hz", "b_z", "W_zh", "b_h", "V_hq", "b_q", "V_qo", "b_y")
DTCache = namedtuple("DTCache", "x h0 p z h q skip")


def init_deep_transition(D, H, K, Z=None, Q=None, skip=False, seed=0):
    """Parameters for deep_transition_forward: U_xz (D, Z), W_hz (H, Z), b_z (Z,), W_zh (Z, H), b_h (H,),
    V_hq (H, Q), b_q (Q,), V_qo (Q, K), b_y (K,), and W_hh (H, H) when skip. Z and Q default to H.
    Weights from N(0, 1/fan_in), biases zero."""
    Z = H if Z is None else Z
    Q = H if Q is None else Q
    for name, v in (("D", D), ("H", H), ("K", K), ("Z", Z), ("Q", Q)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
            raise ValueError(f"{name}: expected a positive int, got {v!r}")
    rng = np.random.default_rng(seed)
    w = lambda m, n: rng.standard_normal((m, n)) / np.sqrt(m)  # noqa: E731
    p = {"U_xz": w(D, Z), "W_hz": w(H, Z), "b_z": np.zeros(Z), "W_zh": w(Z, H), "b_h": np.zeros(H),
         "V_hq": w(H, Q), "b_q": np.zeros(Q), "V_qo": w(Q, K), "b_y": np.zeros(K)}
    if skip:
        p["W_hh"] = w(H, H)
    return p


def _dt_params(params, skip, D):
    p = check_params(params, DEEP_TRANSITION + (("W_hh",) if skip else ()))
    Z = as_float_array("params['U_xz']", p["U_xz"], shape=(D, None)).shape[1]
    H = as_float_array("params['W_zh']", p["W_zh"], shape=(Z, None)).shape[1]
    Q = as_float_array("params['V_hq']", p["V_hq"], shape=(H, None)).shape[1]
    K = as_float_array("params['V_qo']", p["V_qo"], shape=(Q, None)).shape[1]
    shapes = {"W_hz": (H, Z), "b_z": (Z,), "b_h": (H,), "b_q": (Q,), "b_y": (K,), "W_hh": (H, H)}
    for k, shape in shapes.items():
        if k in p:
            as_float_array(f"params[{k!r}]", p[k], shape=shape)
    return p, Z, H, Q, K


def deep_transition_forward(x, h0, params, skip=False):
    """Deep transition RNN (b), or with skip=True the deep transition with a skip connection (c).

    x (T, B, D), h0 (B, H); params as in init_deep_transition. Returns (logits o (T, B, K), cache); the
    hidden states are cache.h (T, B, H).
    """
    x = as_float_array("x", x, ndim=3)
    T, B, D = x.shape
    p, Z, H, Q, K = _dt_params(params, bool(skip), D)
    h0 = as_float_array("h0", h0, shape=(B, H))
    # The input's share of z does not depend on the recurrence: one matmul for all T steps.
    z = (x.reshape(T * B, D) @ p["U_xz"]).reshape(T, B, Z)
    z += p["b_z"]
    h = np.empty((T, B, H), dtype=z.dtype)
    W_prev = np.concatenate([p["W_hz"], p["W_hh"]], axis=1) if skip else p["W_hz"]  # h_{t-1} feeds both
    W_zh, b_h = p["W_zh"], p["b_h"]
    prev = h0
    for t in range(T):
        r = prev @ W_prev
        z[t] += r[:, :Z]
        np.tanh(z[t], out=z[t])
        np.matmul(z[t], W_zh, out=h[t])
        h[t] += b_h
        if skip:
            h[t] += r[:, Z:]
        np.tanh(h[t], out=h[t])
        prev = h[t]
    q = np.tanh(h.reshape(T * B, H) @ p["V_hq"] + p["b_q"])
    o = (q @ p["V_qo"]).reshape(T, B, K) + p["b_y"]
    return o, DTCache(x, h0, p, z, h, q, bool(skip))


def deep_transition_backward(do, cache):
    """do (T, B, K) -> dx (T, B, D), dh0 (B, H), grads (a dict keyed like params)."""
    x, h0, p, z, h, q, skip = cache
    T, B, D = x.shape
    Z, H, K = z.shape[2], h.shape[2], p["b_y"].shape[0]
    do = as_float_array("do", do, shape=(T, B, K))
    do2 = do.reshape(T * B, K)
    daq = (do2 @ p["V_qo"].T) * (1.0 - q * q)
    h2 = h.reshape(T * B, H)
    g = {"V_qo": q.T @ do2, "b_y": do2.sum(axis=0), "V_hq": h2.T @ daq, "b_q": daq.sum(axis=0)}
    dh_out = (daq @ p["V_hq"].T).reshape(T, B, H)
    # d[t] = [dL/d(pre-activation of z_t), dL/d(pre-activation of h_t)]: both are reached from h_{t-1}.
    d = np.empty((T, B, Z + H), dtype=dh_out.dtype)
    daz, dah = d[:, :, :Z], d[:, :, Z:]
    W_prev_T = (np.concatenate([p["W_hz"], p["W_hh"]], axis=1) if skip else p["W_hz"]).T
    W_zh_T = p["W_zh"].T
    dnext = np.zeros((B, H), dtype=d.dtype)
    for t in range(T - 1, -1, -1):
        np.add(dh_out[t], dnext, out=dah[t])
        dah[t] *= 1.0 - h[t] * h[t]
        np.matmul(dah[t], W_zh_T, out=daz[t])
        daz[t] *= 1.0 - z[t] * z[t]
        dnext = (d[t] if skip else daz[t]) @ W_prev_T
    h_prev = np.concatenate([h0[None], h[:-1]]).reshape(T * B, H)
    daz2, dah2 = daz.reshape(T * B, Z), dah.reshape(T * B, H)
    g["U_xz"] = x.reshape(T * B, D).T @ daz2
    g["W_hz"] = h_prev.T @ daz2
    g["b_z"] = daz2.sum(axis=0)
    g["W_zh"] = z.reshape(T * B, Z).T @ dah2
    g["b_h"] = dah2.sum(axis=0)
    if skip:
        g["W_hh"] = h_prev.T @ dah2
    dx = (daz2 @ p["U_xz"].T).reshape(T, B, D)
    return dx, dnext, {k: g[k] for k in p}


def deep_transition_loss(x, h0, params, y, skip=False):
    """Cross-entropy of the deep-transition RNN's logits against y (T, B) ints (summed over time, averaged
    over the batch). Returns (loss, grads dict keyed like params)."""
    o, cache = deep_transition_forward(x, h0, params, skip)
    T, B, K = o.shape
    y = as_targets("y", y, (T, B), K)
    loss, do = softmax_cross_entropy(o, y)
    return loss, deep_transition_backward(do, cache)[2]
