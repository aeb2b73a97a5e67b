"""A character-level language model: one-hot characters in, a vanilla RNN, softmax over the vocabulary out.

params: a dict with U_xh (V, H), W_hh (H, H), b (H,), V_ho (H, V), c (V,); V is the vocabulary size.
inputs and targets: (T, B) integer character indices (targets are the inputs shifted by one).
"""
import numpy as np

from ._validate import as_float_array, as_targets, positive
from .clip import clip_by_global_norm
from .loss import softmax, softmax_cross_entropy
from .rnn import rnn_backward, rnn_forward

PARAM_NAMES = ("U_xh", "W_hh", "b", "V_ho", "c")


def init_char_lm(V, H, seed=0, scale=0.01):
    """Small random weights (Karpathy's min-char-rnn uses 0.01) and zero biases, float64."""
    rng = np.random.default_rng(seed)
    return {"U_xh": rng.standard_normal((V, H)) * scale, "W_hh": rng.standard_normal((H, H)) * scale,
            "b": np.zeros(H), "V_ho": rng.standard_normal((H, V)) * scale, "c": np.zeros(V)}


def check_params(params, names=PARAM_NAMES):
    """The parameter dict has every name, float arrays, finite values."""
    if not isinstance(params, dict):
        raise ValueError(f"params: expected a dict with keys {', '.join(names)}, got {type(params).__name__}")
    missing = [k for k in names if k not in params]
    if missing:
        raise ValueError(f"params: missing {', '.join(missing)} (expected keys {', '.join(names)})")
    return {k: as_float_array(f"params[{k!r}]", params[k]) for k in names}


def one_hot(idx, V, dtype=np.float64):
    """(T, B) integer indices -> (T, B, V) one-hot vectors."""
    out = np.zeros(idx.shape + (V,), dtype=dtype)
    np.put_along_axis(out, idx[..., None], 1.0, axis=-1)
    return out


def char_lm_loss(params, inputs, targets, h0):
    """Loss (summed over time, mean over batch), gradients (a dict keyed like params) and the last hidden state.

    inputs, targets (T, B) ints in [0, V); h0 (B, H).
    """
    p = check_params(params)
    V, H = p["U_xh"].shape
    inputs = np.asarray(inputs)
    if inputs.ndim != 2 or inputs.size == 0:
        raise ValueError(f"inputs: expected a non-empty (T, B) array of character indices, got shape {inputs.shape}")
    T, B = inputs.shape
    inputs = as_targets("inputs", inputs, (T, B), V)
    targets = as_targets("targets", targets, (T, B), V)
    h0 = as_float_array("h0", h0, shape=(B, H))
    x = one_hot(inputs, V, p["U_xh"].dtype)
    h, cache = rnn_forward(x, h0, p["U_xh"], p["W_hh"], p["b"])
    o = (h.reshape(T * B, H) @ p["V_ho"]).reshape(T, B, V) + p["c"]
    loss, do = softmax_cross_entropy(o, targets)
    do2 = do.reshape(T * B, V)
    dV_ho = h.reshape(T * B, H).T @ do2
    dc = do2.sum(axis=0)
    dh = (do2 @ p["V_ho"].T).reshape(T, B, H)
    _, _, dU_xh, dW_hh, db = rnn_backward(dh, cache)
    return loss, {"U_xh": dU_xh, "W_hh": dW_hh, "b": db, "V_ho": dV_ho, "c": dc}, h[-1].copy()


def sgd_step(params, grads, lr):
    """A new dict: params - lr * grads."""
    lr = positive("lr", lr)
    return {k: params[k] - lr * grads[k] for k in params}


def char_lm_train_step(params, inputs, targets, h0, lr, max_norm):
    """One step of training: loss and gradients, clipping by global norm, an SGD update.

    Returns (new params, loss, last hidden state); the hidden state carries into the next window
    (truncated BPTT: the state crosses the window boundary, the gradient does not)."""
    loss, grads, h_last = char_lm_loss(params, inputs, targets, h0)
    grads, _ = clip_by_global_norm(grads, max_norm)
    return sgd_step(params, grads, lr), loss, h_last


def sample_index(o, temperature, u):
    """Draw one class per row of logits o (B, K) from softmax(o / temperature), by the inverse CDF.

    u (B,) uniform numbers in [0, 1) make the draw deterministic: the result is the smallest k with
    cumsum(p)[k] > u. temperature 0 means greedy (argmax). Returns (B,) int64.
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
    """Sample n characters after priming on seed_idx (a sequence of indices). Returns a list of n indices."""
    p = check_params(params)
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
        nxt = int(sample_index(h @ p["V_ho"] + p["c"], temperature, rng.random(1))[0])
        out.append(nxt)
        idx = [nxt]
    return out
