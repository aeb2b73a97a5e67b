"""A character-level language model: one-hot characters in, a vanilla RNN, softmax over the vocabulary out.

params: a dict with U_xh (V, H), W_hh (H, H), b (H,), V_ho (H, V), b_y (V,); V is the vocabulary size.
inputs and targets: (T, B) integer character indices (targets are the inputs shifted by one).

train_char_lm is the whole training loop: truncated BPTT windows of seq_len characters with the hidden state
carried from one window to the next, clipping by global norm, an optimizer from rnn_ref.optim, and a report
of the loss and perplexity per character; evaluate_char_lm measures the loss on held-out text.
"""
from collections import namedtuple

import numpy as np

from .._validate import as_float_array, as_targets, check_params, positive
from ..training.clip import clip_by_global_norm
from ..data import batchify
from ..training.loss import perplexity, softmax, softmax_cross_entropy
from ..training.optim import make_optimizer
from ..cells.rnn import rnn_backward, rnn_forward

PARAM_NAMES = ("U_xh", "W_hh", "b", "V_ho", "b_y")


def init_char_lm(V, H, seed=0, scale=0.01):
    """Small random weights (Karpathy's min-char-rnn uses 0.01) and zero biases, float64.
    Derived in book/05_bptt.md, section "The derivation as code"."""
    rng = np.random.default_rng(seed)
    return {"U_xh": rng.standard_normal((V, H)) * scale, "W_hh": rng.standard_normal((H, H)) * scale,
            "b": np.zeros(H), "V_ho": rng.standard_normal((H, V)) * scale, "b_y": np.zeros(V)}



def one_hot(idx, V, dtype=np.float64):
    """(T, B) integer indices -> (T, B, V) one-hot vectors.
    Derived in book/05_bptt.md, section "The derivation as code"."""
    out = np.zeros(idx.shape + (V,), dtype=dtype)
    np.put_along_axis(out, idx[..., None], 1.0, axis=-1)
    return out


def char_inputs(inputs, V):
    """inputs checked as a non-empty (T, B) array of character indices in [0, V): an int64 array.
    Derived in book/06_char_lm.md, section "From one long text to training windows"."""
    inputs = np.asarray(inputs)
    if inputs.ndim != 2 or inputs.size == 0:
        raise ValueError(f"inputs: expected a non-empty (T, B) array of character indices, got shape {inputs.shape}")
    return as_targets("inputs", inputs, inputs.shape, V)


def char_lm_loss(params, inputs, targets, h0):
    """Loss (summed over time, mean over batch), gradients (a dict keyed like params) and the last hidden state.

    Inputs: params U_xh (V, H), W_hh (H, H), b (H,), V_ho (H, V), b_y (V,); inputs, targets (T, B) ints in
    [0, V); h0 (B, H).
    Returns (loss, a float; grads, a dict keyed like params, shaped like them; h_last (B, H)).
    Derived in book/05_bptt.md, section "The derivation as code".
    """
    p = check_params(params, PARAM_NAMES)
    V, H = p["U_xh"].shape
    inputs = char_inputs(inputs, V)
    T, B = inputs.shape
    targets = as_targets("targets", targets, (T, B), V)
    h0 = as_float_array("h0", h0, shape=(B, H))
    x = one_hot(inputs, V, p["U_xh"].dtype)
    h, cache = rnn_forward(x, h0, p["U_xh"], p["W_hh"], p["b"])
    o = (h.reshape(T * B, H) @ p["V_ho"]).reshape(T, B, V) + p["b_y"]
    loss, do = softmax_cross_entropy(o, targets)
    do2 = do.reshape(T * B, V)
    dV_ho = h.reshape(T * B, H).T @ do2
    db_y = do2.sum(axis=0)
    dh = (do2 @ p["V_ho"].T).reshape(T, B, H)
    _, _, dU_xh, dW_hh, db = rnn_backward(dh, cache)
    return loss, {"U_xh": dU_xh, "W_hh": dW_hh, "b": db, "V_ho": dV_ho, "b_y": db_y}, h[-1].copy()


def sgd_step(params, grads, lr):
    """A new dict: params - lr * grads.
    Derived in book/05_bptt.md, section "What the gradient is for: descent until convergence"."""
    lr = positive("lr", lr)
    return {k: params[k] - lr * grads[k] for k in params}


def char_lm_train_step(params, inputs, targets, h0, lr, max_norm):
    """One step of training: loss and gradients, clipping by global norm, an SGD update.

    Returns (new params, loss, last hidden state); the hidden state carries into the next window
    (truncated BPTT: the state crosses the window boundary, the gradient does not).
    Derived in book/06_char_lm.md, section "Training"."""
    loss, grads, h_last = char_lm_loss(params, inputs, targets, h0)
    grads, _ = clip_by_global_norm(grads, max_norm)
    return sgd_step(params, grads, lr), loss, h_last


def sample_index(o, temperature, u):
    """Draw one class per row of logits o (B, K) from softmax(o / temperature), by the inverse CDF.

    u (B,) uniform numbers in [0, 1) make the draw deterministic: the result is the smallest k with
    cumsum(p)[k] > u. temperature 0 means greedy (argmax). Returns (B,) int64.
    Derived in book/06_char_lm.md, section "Sampling, and what temperature does".
    """
    o = as_float_array("o", o, ndim=2)
    u = as_float_array("u", u, shape=(o.shape[0],))
    if np.any((u < 0) | (u >= 1)):
        raise ValueError("u: expected uniform numbers in [0, 1)")
    t = float(temperature) if np.isscalar(temperature) else np.nan
    if not np.isfinite(t) or t < 0:
        raise ValueError(f"temperature: expected a number >= 0 (0 is greedy), got {temperature!r}")
    if t == 0:
        return o.argmax(axis=1).astype(np.int64)
    cdf = np.cumsum(softmax(o / t), axis=1)
    k = (cdf <= u[:, None]).sum(axis=1)
    return np.minimum(k, o.shape[1] - 1).astype(np.int64)  # round-off can leave cdf[-1] a hair below u


def generate(params, seed_idx, n, temperature=1.0, h0=None, rng=None):
    """Sample n characters after priming on seed_idx (a sequence of indices). Returns a list of n indices.
    Derived in book/06_char_lm.md, section "Sampling, and what temperature does"."""
    p = check_params(params, PARAM_NAMES)
    V, H = p["U_xh"].shape
    rng = np.random.default_rng(rng)
    h = np.zeros((1, H)) if h0 is None else as_float_array("h0", h0, shape=(1, H))
    seed_idx = [int(i) for i in seed_idx]
    if not seed_idx:
        raise ValueError("seed_idx: expected at least one character index to start from")
    out, idx = [], seed_idx
    for _ in range(n):
        x = one_hot(np.array(idx)[:, None], V)
        hs, _ = rnn_forward(x, h, p["U_xh"], p["W_hh"], p["b"])
        h = hs[-1]
        nxt = int(sample_index(h @ p["V_ho"] + p["b_y"], temperature, rng.random(1))[0])
        out.append(nxt)
        idx = [nxt]
    return out


TrainResult = namedtuple("TrainResult", "params history opt_state h pos")


def _streams(data, batch_size, seq_len):
    data = np.asarray(data)
    if data.ndim != 1 or data.dtype.kind not in "iu":
        raise ValueError(f"data: expected a 1-D integer array of character indices, got shape {data.shape}, "
                         f"dtype {data.dtype}")
    if isinstance(seq_len, bool) or not isinstance(seq_len, (int, np.integer)) or seq_len <= 0:
        raise ValueError(f"seq_len: expected a positive int, got {seq_len!r}")
    streams = batchify(data, batch_size)
    if streams.shape[0] < seq_len + 1:
        raise ValueError(f"data: too short ({len(data)}) for batch_size={batch_size} streams of seq_len + 1 = "
                         f"{seq_len + 1} characters")
    return streams


def train_char_lm(params, data, steps, seq_len=25, batch_size=1, optimizer="adagrad", lr=0.1, max_norm=5.0,
                  report_every=100, opt_state=None, h0=None, pos=0, callback=None):
    """Train the language model on data (N,) int character indices for `steps` updates.

    The text is cut into batch_size parallel streams (rnn_ref.data.batchify). Each step takes the next window
    of seq_len characters of every stream, computes loss and gradients from the hidden state the previous
    window left (truncated BPTT: the state crosses the boundary, the gradient does not), clips by global
    norm (max_norm None: no clipping) and updates with `optimizer`: "sgd", "momentum", "adagrad" or "adam"
    (with learning rate lr), or a step function (params, grads, state) -> (params, state) from
    rnn_ref.optim.make_optimizer. At the end of the streams it starts over with a zero state.

    Returns TrainResult(params, history, opt_state, h, pos). history: "step" (updates done at each report),
    "loss" (mean loss per character over the steps since the last report), "perplexity" (its exp),
    "step_loss" (every step's loss per character, before its update) and "initial_loss" (the first one).
    callback(step, loss_per_char, params), if given, runs at every report (to print or sample).
    h0 (batch_size, H): the state to start from (zeros if None); pos: the time step of the streams to start
    reading at. To continue training, pass result.params, result.opt_state, h0=result.h and pos=result.pos.
    Derived in book/06_char_lm.md, section "Training".
    """
    p = check_params(params, PARAM_NAMES)
    H = p["W_hh"].shape[0]
    streams = _streams(data, batch_size, seq_len)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps <= 0:
        raise ValueError(f"steps: expected a positive int, got {steps!r}")
    if isinstance(report_every, bool) or not isinstance(report_every, (int, np.integer)) or report_every <= 0:
        raise ValueError(f"report_every: expected a positive int, got {report_every!r}")
    if max_norm is not None:
        positive("max_norm", max_norm)
    step_fn = optimizer if callable(optimizer) else make_optimizer(optimizer, lr)
    if callback is not None and not callable(callback):
        raise ValueError("callback: expected a function (step, loss_per_char, params) or None")
    B = streams.shape[1]
    h = np.zeros((B, H)) if h0 is None else as_float_array("h0", h0, shape=(B, H)).copy()
    history = {"step": [], "loss": [], "perplexity": [], "step_loss": []}
    if isinstance(pos, bool) or not isinstance(pos, (int, np.integer)) or pos < 0:
        raise ValueError(f"pos: expected an int >= 0 (a time step of the streams), got {pos!r}")
    since = []
    for step in range(1, steps + 1):
        if pos + seq_len + 1 > streams.shape[0]:  # out of text: start over
            pos, h = 0, np.zeros((B, H))
        inputs, targets = streams[pos:pos + seq_len], streams[pos + 1:pos + seq_len + 1]
        pos += seq_len
        loss, grads, h = char_lm_loss(p, inputs, targets, h)
        if max_norm is not None:
            grads, _ = clip_by_global_norm(grads, max_norm)
        p, opt_state = step_fn(p, grads, opt_state)
        per_char = loss / seq_len
        history["step_loss"].append(per_char)
        since.append(per_char)
        if step % report_every == 0 or step == steps:
            mean = float(np.mean(since))
            history["step"].append(step)
            history["loss"].append(mean)
            history["perplexity"].append(perplexity(mean))
            since = []
            if callback is not None:
                callback(step, mean, p)
    history["initial_loss"] = history["step_loss"][0]
    return TrainResult(p, history, opt_state, h, pos)


def evaluate_char_lm(params, data, seq_len=100, batch_size=1):
    """The mean loss per character (nats) of predicting each next character of data (N,) int indices,
    reading it in windows of seq_len with the hidden state carried over (no gradients). perplexity() and
    bits_per_char() convert it.
    Derived in book/06_char_lm.md, section "Loss, perplexity and bits per character"."""
    p = check_params(params, PARAM_NAMES)
    V, H = p["U_xh"].shape
    streams = _streams(data, batch_size, 1)
    if streams.max() >= V:
        raise ValueError(f"data: character indices must lie in [0, {V}), got max {streams.max()}")
    T_all, B = streams.shape
    h, total, count = np.zeros((B, H)), 0.0, 0
    for pos in range(0, T_all - 1, seq_len):
        inputs, targets = streams[pos:pos + seq_len], streams[pos + 1:pos + seq_len + 1]
        inputs = inputs[:len(targets)]
        T = len(targets)
        hs, _ = rnn_forward(one_hot(inputs, V), h, p["U_xh"], p["W_hh"], p["b"])
        o = (hs.reshape(T * B, H) @ p["V_ho"]).reshape(T, B, V) + p["b_y"]
        loss, _ = softmax_cross_entropy(o, targets)
        total += loss * B
        count += T * B
        h = hs[-1]
    return total / count
