"""The shapes of problem (book/08_shapes.md): many-to-one, aligned many-to-many, one-to-many, delayed
many-to-many (the encoder-decoder) and taggers. many_to_one_loss, one_to_many_* and tagger_* use the vanilla RNN;
sequence_*, many_to_many_loss and encoder_decoder_* take any registered cell (rnn_ref.cells.CELLS).

Parameter dicts, rows as examples (D input size, H hidden size, K classes or vocabulary size, G the cell's gate
blocks, Cell.num_gates):
  many-to-one:      U_xh (D, H), W_hh (H, H), b (H,), V_ho (H, K), b_y (K,)
  sequence_*:       the cell's parameters (Cell.params: input weight (D, G*H), recurrent weight (H, G*H),
                    biases (G*H,)), V_ho (H, K), b_y (K,)
  encoder-decoder:  encoder_decoder_keys(cell); with the rnn:
                    U_enc (D, H), W_enc (H, H), b_enc (H,)   the encoder reads x (T_in, B, D)
                    U_dec (K, H), W_dec (H, H), b_dec (H,)   the decoder reads one-hot tokens y_in (T_out, B)
                    V_ho (H, K), b_y (K,)                      the decoder's output layer
"""
from collections import namedtuple

import numpy as np

from .._validate import as_float_array, as_targets, cache_of, check_params
from ..cells.registry import get_cell
from .bidirectional import bidirectional_backward, bidirectional_forward
from .charlm import one_hot, sample_index
from ..training.loss import softmax_cross_entropy
from ..cells.rnn import rnn_backward, rnn_forward

MANY_TO_ONE = ("U_xh", "W_hh", "b", "V_ho", "b_y")


def many_to_one_loss(x, h0, params, y):
    """Classify each sequence from its last hidden state: o = h_T @ V_ho + b_y, cross-entropy against y.

    Inputs: x (T, B, D); h0 (B, H); params U_xh (D, H), W_hh (H, H), b (H,), V_ho (H, K), b_y (K,); y (B,) ints.
    Returns (loss, a float averaged over the batch; grads, a dict keyed like params, shaped like them).
    Derived in book/08_shapes.md, section "Many-to-one: one label for a whole sequence".
    """
    p = check_params(params, MANY_TO_ONE)
    x = as_float_array("x", x, ndim=3)
    T, B, D = x.shape
    K = p["V_ho"].shape[1]
    y = as_targets("y", y, (B,), K)
    h, cache = rnn_forward(x, h0, p["U_xh"], p["W_hh"], p["b"])
    o = h[-1] @ p["V_ho"] + p["b_y"]
    loss, do = softmax_cross_entropy(o[None], y[None])
    do = do[0]
    dh = np.zeros_like(h)
    dh[-1] = do @ p["V_ho"].T  # only the last step sees the loss
    _, _, dU, dW, db = rnn_backward(dh, cache)
    return loss, {"U_xh": dU, "W_hh": dW, "b": db, "V_ho": h[-1].T @ do, "b_y": do.sum(axis=0)}


# ---------------------------------------------------------------------------------------------------------
# Aligned many-to-many, many-to-one with any cell (classification or regression), and one-to-many.
# ---------------------------------------------------------------------------------------------------------
def _logits(h, p):
    """The output layer at every step, o_t = h_t @ V_ho + b_y: h (T, B, H) -> o (T, B, K)."""
    T, B, H = h.shape
    return (h.reshape(T * B, H) @ p["V_ho"]).reshape(T, B, -1) + p["b_y"]


def _logits_backward(do, h, p):
    """do (T, B, K), checked against h (T, B, H) and b_y (K,) -> dh (T, B, H), dV_ho (H, K), db_y (K,)."""
    T, B, H = h.shape
    do2 = as_float_array("do", do, shape=(T, B, p["b_y"].shape[0])).reshape(T * B, -1)
    return (do2 @ p["V_ho"].T).reshape(T, B, H), h.reshape(T * B, H).T @ do2, do2.sum(axis=0)


def _cell_params(params, c):
    """Validate a flat model dict: the cell's weights (c.params) plus the output layer V_ho (H, K), b_y (K,)."""
    p = check_params(params, c.params + ("V_ho", "b_y"))
    H = c.hidden_size(tuple(p[k] for k in c.params), "params")
    p["V_ho"] = as_float_array("params['V_ho']", p["V_ho"], shape=(H, None))
    p["b_y"] = as_float_array("params['b_y']", p["b_y"], shape=(p["V_ho"].shape[1],))
    return p, H


def _run(x, state0, params, cell):
    c = get_cell(cell)
    p, H = _cell_params(params, c)
    x = as_float_array("x", x, ndim=3)
    if state0 is None:
        state0 = c.zero_state(x.shape[1], H, x.dtype)
    h, cache = c.run_forward(x, state0, tuple(p[k] for k in c.params))
    return c, p, h, cache


def _grads(c, p, dh, cache, h_for_V, do2):
    """Backward through the cell given dL/dh (T, B, H); adds the output layer's gradients."""
    _, _, dparams = c.run_backward(dh, cache)
    grads = dict(zip(c.params, dparams))
    grads["V_ho"] = h_for_V.T @ do2
    grads["b_y"] = do2.sum(axis=0)
    return grads


def init_sequence_model(cell, D, H, K, seed=0, forget_bias=1.0):
    """A flat parameter dict for a one-layer sequence model with the given cell (a registered name) and an
    output layer, for sequence_predict, sequence_*_loss and many_to_many_loss; seed for numpy's default_rng.

    The cell's weights come from Cell.init_params: U(-1/sqrt(H), 1/sqrt(H)) as PyTorch draws them, and the forget
    gate's bias (the LSTM's) raised by forget_bias (1.0 by default, Jozefowicz et al. 2015: the cell starts out
    remembering); V_ho is drawn the same way, b_y is zero. Keys: the cell's Cell.params (input weight
    (D, G*H), recurrent weight (H, G*H), biases (G*H,)) + V_ho (H, K), b_y (K,).
    Derived in book/11_lstm.md (the forget bias) and book/08_shapes.md, section "Many-to-one: one label for a
    whole sequence".
    """
    c = get_cell(cell)
    for name, v in (("D", D), ("H", H), ("K", K)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
            raise ValueError(f"{name}: expected a positive int, got {v!r}")
    rng = np.random.default_rng(seed)
    p = c.init_params(D, H, rng, forget_bias)
    s = 1.0 / np.sqrt(H)
    p["V_ho"], p["b_y"] = rng.uniform(-s, s, size=(H, K)), np.zeros(K)
    return p


def sequence_predict(x, state0, params, cell="rnn"):
    """The output layer on the last hidden state: o = h_T @ V_ho + b_y.

    Inputs: x (T, B, D); state0 the initial state in Cell.zero_state's form (h0 (B, H), (h0, c0) for the LSTM)
    or None for zeros; params the cell's Cell.params + V_ho (H, K), b_y (K,) (see init_sequence_model); cell a
    registered cell name. Returns o (B, K).
    Derived in book/08_shapes.md, section "Many-to-one: one label for a whole sequence"."""
    _, p, h, _ = _run(x, state0, params, cell)
    return h[-1] @ p["V_ho"] + p["b_y"]


def _last_step_backward(c, p, h, cache, do):
    dh = np.zeros_like(h)
    dh[-1] = do @ p["V_ho"].T  # only the last step sees the loss
    return _grads(c, p, dh, cache, h[-1], do)


def sequence_classifier_loss(x, state0, params, y, cell="rnn"):
    """Many-to-one classification with any cell: o = h_T @ V_ho + b_y, cross-entropy against y (B,) ints.

    Inputs: x (T, B, D); state0, params and cell as in sequence_predict; y (B,) ints in [0, K).
    Returns (loss, a float averaged over the batch; grads, a dict keyed like params, shaped like them).
    With cell="rnn" it equals many_to_one_loss.
    Derived in book/08_shapes.md, section "Many-to-one: one label for a whole sequence".
    """
    c, p, h, cache = _run(x, state0, params, cell)
    B, K = h.shape[1], p["V_ho"].shape[1]
    y = as_targets("y", y, (B,), K)
    o = h[-1] @ p["V_ho"] + p["b_y"]
    loss, do = softmax_cross_entropy(o[None], y[None])
    return loss, _last_step_backward(c, p, h, cache, do[0])


def sequence_regression_loss(x, state0, params, y, cell="rnn"):
    """Many-to-one regression with any cell (the adding problem): o = h_T @ V_ho + b_y (B, K) and the mean
    squared error L = mean((o - y)^2) over the batch and the K outputs.

    Inputs: x (T, B, D); state0, params and cell as in sequence_predict; y (B, K) floats, or (B,) when K == 1.
    Returns (loss, a float; grads, a dict keyed like params, shaped like them).
    Derived in book/07_limits.md (the adding problem) and book/08_shapes.md, section "Many-to-one: one label for
    a whole sequence"."""
    c, p, h, cache = _run(x, state0, params, cell)
    B, K = h.shape[1], p["V_ho"].shape[1]
    y = as_float_array("y", y, ndim=np.ndim(y))
    if y.shape == (B,) and K == 1:
        y = y[:, None]
    if y.shape != (B, K):
        raise ValueError(f"y: expected shape {(B, K)}" + (f" or {(B,)}" if K == 1 else "") + f", got {y.shape}")
    o = h[-1] @ p["V_ho"] + p["b_y"]
    err = o - y
    loss = float(np.mean(err * err))
    return loss, _last_step_backward(c, p, h, cache, (2.0 / err.size) * err)


def many_to_many_loss(x, state0, params, y, cell="rnn"):
    """Aligned many-to-many: a label per step. o_t = h_t @ V_ho + b_y, cross-entropy against y (T, B) ints,
    summed over time and averaged over the batch (softmax_cross_entropy's convention).

    Inputs: x (T, B, D); state0, params and cell as in sequence_predict; y (T, B) ints in [0, K).
    Returns (loss, a float; grads, a dict keyed like params, shaped like them).
    Derived in book/08_shapes.md, section "Aligned many-to-many: a label at every step"."""
    c, p, h, cache = _run(x, state0, params, cell)
    T, B, H = h.shape
    K = p["V_ho"].shape[1]
    y = as_targets("y", y, (T, B), K)
    h2 = h.reshape(T * B, H)
    o = (h2 @ p["V_ho"]).reshape(T, B, K) + p["b_y"]
    loss, do = softmax_cross_entropy(o, y)
    do2 = do.reshape(T * B, K)
    dh = (do2 @ p["V_ho"].T).reshape(T, B, H)
    return loss, _grads(c, p, dh, cache, h2, do2)


ONE_TO_MANY = ("U_vh", "U_yh", "W_hh", "b", "V_ho", "b_y")
ONE_TO_MANY_MODES = ("h0", "every")
# p, v, mode: the checked inputs; h0 (B, H): tanh(v @ U_vh) in mode "h0" (None in "every"); h (T, B, H): every
# state; rnn_cache: rnn_forward's cache
OneToManyCache = namedtuple("OneToManyCache", "p v mode h0 h rnn_cache")


def _one_to_many_params(v, params, mode):
    if mode not in ONE_TO_MANY_MODES:
        raise ValueError(f"mode: expected 'h0' (the vector sets h0) or 'every' (it feeds every step), got {mode!r}")
    p = check_params(params, ONE_TO_MANY)
    E, H = p["U_vh"].shape
    K = as_float_array("params['U_yh']", p["U_yh"], shape=(None, H)).shape[0]
    for k, shape in (("W_hh", (H, H)), ("b", (H,)), ("V_ho", (H, K)), ("b_y", (K,))):
        as_float_array(f"params[{k!r}]", p[k], shape=shape)
    v = as_float_array("v", v, shape=(None, E))
    return p, v, K


def init_one_to_many(E, H, K, seed=0, scale=0.1):
    """Parameters for one_to_many_loss: U_vh (E, H), U_yh (K, H), W_hh (H, H), b (H,), V_ho (H, K), b_y (K,);
    weights from N(0, scale^2), biases zero, seed for numpy's default_rng.
    Derived in book/08_shapes.md, section "One-to-many: a sequence from one vector"."""
    rng = np.random.default_rng(seed)
    n = lambda *shape: rng.standard_normal(shape) * scale  # noqa: E731
    return {"U_vh": n(E, H), "U_yh": n(K, H), "W_hh": n(H, H), "b": np.zeros(H), "V_ho": n(H, K), "b_y": np.zeros(K)}


def one_to_many_forward(v, y_in, params, mode="h0"):
    """One-to-many: a sequence generated from one vector v (B, E) (image captioning's shape). Under teacher
    forcing the decoder reads the previous target token y_in (T, B) (y_in[0] a start token, y_in[t] =
    y_out[t-1]):

      mode "h0":     h_0 = tanh(v @ U_vh),  h_t = tanh(onehot(y_in_t) @ U_yh + h_{t-1} @ W_hh + b)
      mode "every":  h_0 = 0,               h_t = tanh(onehot(y_in_t) @ U_yh + v @ U_vh + h_{t-1} @ W_hh + b)
      o_t = h_t @ V_ho + b_y

    Inputs: v (B, E); y_in (T, B) ints in [0, K); params as in init_one_to_many; mode "h0" or "every".
    Returns a tuple of:
    - o: (T, B, K) logits
    - cache: OneToManyCache (params, v, mode, h_0 (B, H) or None, h (T, B, H), rnn_forward's cache)
    Derived in book/08_shapes.md, section "One-to-many: a sequence from one vector"."""
    p, v, K = _one_to_many_params(v, params, mode)
    y_in = np.asarray(y_in)
    if y_in.ndim != 2 or y_in.size == 0:
        raise ValueError(f"y_in: expected a non-empty (T, B) array of token indices, got shape {y_in.shape}")
    T, B = y_in.shape
    if v.shape[0] != B:
        raise ValueError(f"v: expected {B} rows (the batch size of y_in), got shape {v.shape}")
    y_in = as_targets("y_in", y_in, (T, B), K)
    x = one_hot(y_in, K, v.dtype)
    H = p["W_hh"].shape[0]
    if mode == "h0":
        h0 = np.tanh(v @ p["U_vh"])
        h, cache = rnn_forward(x, h0, p["U_yh"], p["W_hh"], p["b"])
    else:  # the vector is part of every step's input: x_t = [onehot(y_in_t), v]
        h0 = None
        x = np.concatenate([x, np.broadcast_to(v, (T,) + v.shape)], axis=2)
        h, cache = rnn_forward(x, np.zeros((B, H), v.dtype), np.vstack([p["U_yh"], p["U_vh"]]), p["W_hh"], p["b"])
    return _logits(h, p), OneToManyCache(p, v, mode, h0, h, cache)


def one_to_many_backward(do, cache):
    """Backward through the output layer and the RNN, then into v (through h_0, or through every step's input).

    Inputs: do (T, B, K) upstream gradient on the logits; cache the OneToManyCache of one_to_many_forward
    (anything else is a ValueError).
    Returns (dv (B, E), grads: a dict keyed like params, shaped like them).
    Derived in book/08_shapes.md, section "One-to-many: a sequence from one vector"."""
    p, v, mode, h0, h, cache = cache_of(cache, OneToManyCache, "one_to_many_forward")
    K = p["b_y"].shape[0]
    dh, dV_ho, db_y = _logits_backward(do, h, p)
    dx, dh0, dU, dW, db = rnn_backward(dh, cache)
    if mode == "h0":
        da0 = dh0 * (1.0 - h0 * h0)
        dU_yh, dU_vh, dv = dU, v.T @ da0, da0 @ p["U_vh"].T
    else:  # v is the last E columns of every step's input: its gradient sums over time
        dU_yh, dU_vh, dv = dU[:K], dU[K:], dx[:, :, K:].sum(axis=0)
    grads = {"U_vh": dU_vh, "U_yh": dU_yh, "W_hh": dW, "b": db, "V_ho": dV_ho, "b_y": db_y}
    return dv, grads


def one_to_many_loss(v, y_in, y_out, params, mode="h0"):
    """Teacher-forced cross-entropy of one_to_many_forward's logits against y_out (T, B), summed over time
    and averaged over the batch. v, y_in, params, mode as in one_to_many_forward; y_out (T, B) ints in [0, K).
    Returns (loss, a float; grads, a dict keyed like params). Derived in book/08_shapes.md, section
    "One-to-many: a sequence from one vector"."""
    o, cache = one_to_many_forward(v, y_in, params, mode)
    loss, do = softmax_cross_entropy(o, y_out)
    return loss, one_to_many_backward(do, cache)[1]


def one_to_many_generate(v, params, n, start, mode="h0", temperature=0.0, rng=None):
    """Free-running generation from v (B, E): each step feeds back the token it just emitted.

    start: the start token (int in [0, K)); temperature 0 is greedy, > 0 samples from softmax(o / temperature).
    Inputs: v (B, E); params as in init_one_to_many; n the number of tokens; mode as in one_to_many_forward;
    rng a seed or numpy Generator for sampling. Returns (n, B) int64 tokens.
    Derived in book/08_shapes.md, section "One-to-many: a sequence from one vector"."""
    p, v, K = _one_to_many_params(v, params, mode)
    _generation_args(n, start, K)
    rng = np.random.default_rng(rng)
    B = v.shape[0]
    vU = v @ p["U_vh"]
    h = np.tanh(vU) if mode == "h0" else np.zeros((B, p["W_hh"].shape[0]))
    bias = p["b"] if mode == "h0" else p["b"] + vU
    tok = np.full(B, int(start))
    out = np.empty((n, B), dtype=np.int64)
    for t in range(n):
        h = np.tanh(p["U_yh"][tok] + h @ p["W_hh"] + bias)  # onehot(tok) @ U_yh is a row lookup
        tok = out[t] = sample_index(h @ p["V_ho"] + p["b_y"], temperature, rng.random(B))
    return out


# ------------------------------------------------------------------------------------------------ taggers
TAGGER_UNI = ("U_xh", "W_hh", "b", "V_ho", "b_y")
TAGGER_BI = ("U_xh_fw", "W_hh_fw", "b_fw", "U_xh_bw", "W_hh_bw", "b_bw", "V_ho", "b_y")
# p: the checked params; bidirectional: which model; h (T, B, H or 2H): the states; rnn_cache: rnn_forward's
# cache, or bidirectional_forward's
TaggerCache = namedtuple("TaggerCache", "p bidirectional h rnn_cache")


def init_tagger(D, H, K, bidirectional=False, seed=0):
    """Parameters for tagger_loss: a vanilla RNN (bidirectional=False) or a bidirectional RNN with H units per
    direction, and an output layer at every step. Weights from U(-1/sqrt(H), 1/sqrt(H)), b_y = 0.

    Keys: U_xh (D, H), W_hh (H, H), b (H,), V_ho (H, K), b_y (K,); or, bidirectional, U_xh_fw, W_hh_fw, b_fw and
    U_xh_bw, W_hh_bw, b_bw (the same shapes, one set per direction), V_ho (2H, K), b_y (K,). seed for numpy's
    default_rng. Derived in book/09_bidirectional.md, section "A task that needs the future".
    """
    for name, v in (("D", D), ("H", H), ("K", K)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
            raise ValueError(f"{name}: expected a positive int, got {v!r}")
    if not isinstance(bidirectional, (bool, np.bool_)):
        raise ValueError(f"bidirectional: expected True or False, got {bidirectional!r}")
    rng = np.random.default_rng(seed)
    s = 1.0 / np.sqrt(H)
    u = lambda *shape: rng.uniform(-s, s, size=shape)  # noqa: E731
    if not bidirectional:
        return {"U_xh": u(D, H), "W_hh": u(H, H), "b": u(H), "V_ho": u(H, K), "b_y": np.zeros(K)}
    p = {}
    for d in ("fw", "bw"):
        p[f"U_xh_{d}"], p[f"W_hh_{d}"], p[f"b_{d}"] = u(D, H), u(H, H), u(H)
    p["V_ho"], p["b_y"] = u(2 * H, K), np.zeros(K)
    return p


def _tagger_params(params):
    bi = isinstance(params, dict) and "U_xh_fw" in params
    p = check_params(params, TAGGER_BI if bi else TAGGER_UNI)
    return p, bi


def tagger_forward(x, params):
    """A label per step from a one-directional or bidirectional RNN (the keys of params decide, see init_tagger),
    started from zero states: o_t = h_t @ V_ho + b_y.

    Inputs: x (T, B, D); params as in init_tagger.
    Returns a tuple of:
    - o: (T, B, K) logits
    - cache: TaggerCache (params, bidirectional, h (T, B, H) or (T, B, 2H), the RNN's cache) for tagger_backward
    Derived in book/09_bidirectional.md, section "A task that needs the future"."""
    p, bi = _tagger_params(params)
    x = as_float_array("x", x, ndim=3)
    B = x.shape[1]
    if bi:
        H = p["W_hh_fw"].shape[0]
        z = np.zeros((B, H), dtype=x.dtype)
        h, cache = bidirectional_forward(x, z, z, (p["U_xh_fw"], p["W_hh_fw"], p["b_fw"]),
                                         (p["U_xh_bw"], p["W_hh_bw"], p["b_bw"]))
    else:
        H = p["W_hh"].shape[0]
        h, cache = rnn_forward(x, np.zeros((B, H), dtype=x.dtype), p["U_xh"], p["W_hh"], p["b"])
    if p["V_ho"].shape[0] != h.shape[2] or p["b_y"].shape != (p["V_ho"].shape[1],):
        raise ValueError(f"params: V_ho must be ({h.shape[2]}, K) and b_y (K,), got V_ho {p['V_ho'].shape}, "
                         f"b_y {p['b_y'].shape}")
    return _logits(h, p), TaggerCache(p, bi, h, cache)


def tagger_loss(x, params, y):
    """Cross-entropy of tagger_forward's logits against y (T_y, B) ints, T_y <= T: step t's label for the first
    T_y steps (the remaining steps get no loss; a task whose label lies k steps ahead has T_y = T - k).
    Summed over the scored steps, averaged over the batch. x (T, B, D), params as in init_tagger.
    Returns (loss, a float; grads, a dict keyed like params). Derived in book/09_bidirectional.md, section
    "A task that needs the future"."""
    o, cache = tagger_forward(x, params)
    T, B, K = o.shape
    y = np.asarray(y)
    if y.ndim != 2 or y.shape[1] != B or not 1 <= y.shape[0] <= T:
        raise ValueError(f"y: expected (T_y, {B}) with 1 <= T_y <= T = {T}, got shape {y.shape}")
    y = as_targets("y", y, y.shape, K)
    loss, do_scored = softmax_cross_entropy(o[:len(y)], y)
    do = np.zeros_like(o)
    do[:len(y)] = do_scored
    return loss, tagger_backward(do, cache)[1]


def tagger_backward(do, cache):
    """Backward through the output layer and the (bidirectional) RNN.

    Inputs: do (T, B, K) = dL/dlogits; cache the TaggerCache of tagger_forward (anything else is a ValueError).
    Returns (dx (T, B, D), grads: a dict keyed like params, shaped like them).
    Derived in book/09_bidirectional.md, section "A task that needs the future"."""
    p, bi, h, cache = cache_of(cache, TaggerCache, "tagger_forward")
    dh, dV_ho, db_y = _logits_backward(do, h, p)
    if bi:
        dx, _, _, gf, gb = bidirectional_backward(dh, cache)
        grads = dict(zip(TAGGER_BI[:6], gf + gb))
    else:
        dx, _, dU, dW, db = rnn_backward(dh, cache)
        grads = {"U_xh": dU, "W_hh": dW, "b": db}
    grads["V_ho"], grads["b_y"] = dV_ho, db_y
    return dx, grads


# ------------------------------------------------------------------------------------------------ encoder-decoder
def encoder_decoder_keys(cell="rnn"):
    """The encoder-decoder's parameter keys with `cell`, in order: the encoder's weights, the decoder's, V_ho, b_y.

    The one rule: each of the cell's parameter names (Cell.params) up to its first underscore, then _enc or _dec.
    rnn (U_xh, W_hh, b) gives chapter 8's U_enc, W_enc, b_enc, U_dec, W_dec, b_dec; lstm (Wx, Wh, b) gives Wx_enc,
    Wh_enc, b_enc, Wx_dec, Wh_dec, b_dec; gru (Wx, Wh, bx, bh) gives Wx_enc, Wh_enc, bx_enc, bh_enc and the same
    with _dec. (A cell whose names would collide when cut, W_x and W_h say, keeps its whole names.)
    Returns a tuple of strings. Used by encoder_decoder_* and init_encoder_decoder; the attention model adds
    its own keys (attention.attention_encoder_decoder_keys). The model: book/08_shapes.md, section
    "Many-to-many with a delay: the encoder-decoder".
    """
    c = get_cell(cell)
    stems = [k.split("_")[0] for k in c.params]
    if len(set(stems)) < len(stems):
        stems = list(c.params)
    return tuple(f"{s}_{part}" for part in ("enc", "dec") for s in stems) + ("V_ho", "b_y")


ENCODER_DECODER = encoder_decoder_keys("rnn")
# cell: the registered Cell; p: the checked params; enc_cache, dec_cache: the two RNNs' caches; h_enc (T_in, B, H),
# h_dec (T_out, B, H): their states
EncoderDecoderCache = namedtuple("EncoderDecoderCache", "cell p enc_cache dec_cache h_enc h_dec")


def _encoder_decoder_params(params, c):
    """The checked dict, the encoder's and the decoder's parameter tuples (in the cell's API order)."""
    keys = encoder_decoder_keys(c)
    p = check_params(params, keys)
    n = len(c.params)
    return p, tuple(p[k] for k in keys[:n]), tuple(p[k] for k in keys[n:2 * n])


def final_state(cell, h, cache):
    """The state after the last step, in the form the cell's forward takes as its initial state: h[-1] (B, H),
    or (h[-1], c[-1]) for the LSTM. h (T, B, H) and cache are what the cell's forward returned; every cell's
    sequence cache holds each state's (T, B, H) sequence under the state's name (Cell.state).
    Derived in book/08_shapes.md, section "Many-to-many with a delay: the encoder-decoder"."""
    c = get_cell(cell)
    if len(c.state) == 1:
        return h[-1]
    return tuple(getattr(cache, s)[-1] for s in c.state)


def final_state_backward(cell, dstate, h, cache, dh=None):
    """Backward through a sequence whose final state feeds on (a decoder): dstate is dL/d(final_state) in the
    same form (dh_T, or (dh_T, dc_T) for the LSTM), dh (T, B, H) the gradient arriving at every step from
    elsewhere (None: zeros). dh_T joins dh's last step; a further state's gradient goes to the cell's backward as
    an extra argument (lstm_backward's dc_last). Returns dx (T, B, D), dstate0 (the initial state's gradient,
    in its form) and dparams (a tuple in the cell's API order), grouped like Cell.run_backward's.
    Derived in book/08_shapes.md, section "Many-to-many with a delay: the encoder-decoder"."""
    c = get_cell(cell)
    dstate = tuple(dstate) if len(c.state) > 1 else (dstate,)
    dh = np.zeros_like(h) if dh is None else dh.copy()
    dh[-1] += dstate[0]
    if len(c.state) == 1:
        return c.run_backward(dh, cache)
    g = c.backward(dh, cache, *dstate[1:])
    k = len(c.state)
    return g[0], tuple(g[1:1 + k]), tuple(g[1 + k:])


def _generation_args(n, start, K):
    """Free-running generation's arguments: n tokens (a positive int) from the start token (an index in [0, K))."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        raise ValueError(f"n: expected a positive int (the number of tokens), got {n!r}")
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or not 0 <= start < K:
        raise ValueError(f"start: expected a token index in [0, {K}), got {start!r}")


def _tokens(name, y, K, B):
    y = np.asarray(y)
    if y.ndim != 2 or y.size == 0:
        raise ValueError(f"{name}: expected a non-empty (T_out, B) array of token indices, got shape {y.shape}")
    return as_targets(name, y, (y.shape[0], B), K)


def encoder_decoder_forward(x, y_in, h0, params, cell="rnn"):
    """Delayed many-to-many: an encoder RNN reads all of x (T_in, B, D); its final state (all of it: (h, c) for
    the LSTM) starts a decoder RNN of the same cell that reads the tokens y_in (T_out, B) (the previous target
    tokens: teacher forcing) and emits logits.

    Inputs:
    - x: (T_in, B, D) the input sequence
    - y_in: (T_out, B) ints in [0, K), the decoder's input tokens (y_in[0] a start token)
    - h0: the encoder's initial state in Cell.zero_state's form, (B, H) or (h0, c0) for the LSTM
    - params: keys encoder_decoder_keys(cell): the encoder's parameters (input weight (D, G*H), ...), the
      decoder's (input weight (K, G*H), ...), V_ho (H, K), b_y (K,)
    - cell: a registered cell name or Cell

    Returns a tuple of:
    - o: (T_out, B, K) logits
    - cache: EncoderDecoderCache (the cell, params, both RNNs' caches and states) for encoder_decoder_backward

    Derived in book/08_shapes.md, section "Many-to-many with a delay: the encoder-decoder".
    """
    c = get_cell(cell)
    p, enc, dec = _encoder_decoder_params(params, c)
    K = np.shape(dec[0])[0]
    x = as_float_array("x", x, ndim=3)
    y_in = _tokens("y_in", y_in, K, x.shape[1])
    h_enc, enc_cache = c.run_forward(x, h0, enc, ("h0", "params"))
    s0 = final_state(c, h_enc, enc_cache)
    h_dec, dec_cache = c.run_forward(one_hot(y_in, K, h_enc.dtype), s0, dec)
    return _logits(h_dec, p), EncoderDecoderCache(c, p, enc_cache, dec_cache, h_enc, h_dec)


def encoder_decoder_backward(do, cache):
    """Backward through the decoder; its initial state's gradient is the encoder's only one, at its final state.

    Inputs:
    - do: (T_out, B, K) upstream gradient on the logits
    - cache: the EncoderDecoderCache returned by encoder_decoder_forward (anything else is a ValueError)

    Returns a tuple of:
    - dx: (T_in, B, D)
    - dh0: the gradient of the encoder's initial state, in its form ((B, H), or (dh0, dc0) for the LSTM)
    - grads: a dict keyed like params, shaped like them

    Derived in book/08_shapes.md, section "Many-to-many with a delay: the encoder-decoder".
    """
    c, p, enc_cache, dec_cache, h_enc, h_dec = cache_of(cache, EncoderDecoderCache, "encoder_decoder_forward")
    dh_dec, dV_ho, db_y = _logits_backward(do, h_dec, p)
    _, ds0, dp_dec = c.run_backward(dh_dec, dec_cache)
    dx, dh0, dp_enc = final_state_backward(c, ds0, h_enc, enc_cache)  # the encoder's only gradient
    grads = dp_enc + dp_dec + (dV_ho, db_y)
    return dx, dh0, dict(zip(encoder_decoder_keys(c), grads))


def encoder_decoder_loss(x, y_in, y_out, h0, params, cell="rnn"):
    """Cross-entropy of the decoder's logits against y_out (T_out, B) ints, summed over time, averaged over the
    batch; x, y_in, h0, params, cell as in encoder_decoder_forward. Returns (loss, a float; grads, a dict keyed
    like params). Derived in book/08_shapes.md, section "Many-to-many with a delay: the encoder-decoder"."""
    o, cache = encoder_decoder_forward(x, y_in, h0, params, cell)
    loss, do = softmax_cross_entropy(o, as_targets("y_out", y_out, o.shape[:2], o.shape[2]))
    return loss, encoder_decoder_backward(do, cache)[2]


def encoder_decoder_generate(x, h0, params, n, start, cell="rnn"):
    """Free-running (greedy) decoding: the encoder reads x (T_in, B, D) from h0 (its initial state, (B, H) or
    (h0, c0) for the LSTM); the decoder starts from its final state, reads the start token (an int in [0, K)),
    and from then on the token it emitted last (the most likely one). params and cell as in
    encoder_decoder_forward. Returns (n, B) int64: the n emitted tokens.
    Derived in book/08_shapes.md, section "Many-to-many with a delay: the encoder-decoder"."""
    c = get_cell(cell)
    p, enc, dec = _encoder_decoder_params(params, c)
    x = as_float_array("x", x, ndim=3)
    h_enc, enc_cache = c.run_forward(x, h0, enc, ("h0", "params"))
    _generation_args(n, start, np.shape(dec[0])[0])
    state = final_state(c, h_enc, enc_cache)
    state = tuple(state) if len(c.state) > 1 else (state,)
    tok, eye = np.full(x.shape[1], int(start)), np.eye(np.shape(dec[0])[0], dtype=h_enc.dtype)
    out = np.empty((int(n), x.shape[1]), dtype=np.int64)
    for t in range(int(n)):
        state = c.step_forward(eye[tok], *state, *dec)[:-1]
        tok = out[t] = (state[0] @ p["V_ho"] + p["b_y"]).argmax(axis=1)
    return out
