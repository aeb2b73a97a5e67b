"""Batches of sequences of different lengths: padding, masks in the loss, and the last real state.

A batch of B sequences of lengths L_b is padded at the end to T = max L_b steps. The mask (T, B) is 1 at real
steps (t < L_b) and 0 at padding. Three things must then respect the mask:
  - the loss: padded steps contribute nothing, and the loss is averaged over the real tokens only;
  - a many-to-one read-out: the state after the last real step is h[L_b - 1, b], not h[T - 1, b];
  - the backward direction of a Bi-RNN must start at the last real step, not in the padding.
masked_rnn_forward holds the state through padding (h_t = h_{t-1} where the mask is 0), which fixes the last
two at once: h[T - 1] is then the last real state, and a time-reversed batch (reverse_padded) starts at it.
"""
from collections import namedtuple

import numpy as np

from .._validate import as_float_array, as_targets, cache_of
from ..cells.rnn import _check_params

# the inputs (m the mask (T, B, 1)), h (T, B, H) the held states, a (T, B, H) the tanh of every step
MaskedCache = namedtuple("MaskedCache", "x m h0 U_xh W_hh h a")
LastStateCache = namedtuple("LastStateCache", "idx shape")    # idx (B,): each last real step; shape: h's


def _lengths(lengths, T=None):
    arr = np.asarray(lengths)
    if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iu":
        raise ValueError(f"lengths: expected a non-empty 1-D integer array (B,), got shape {arr.shape}, "
                         f"dtype {arr.dtype}")
    if arr.min() < 1 or (T is not None and arr.max() > T):
        raise ValueError(f"lengths: expected values in [1, {T if T is not None else 'T'}], got range "
                         f"[{arr.min()}, {arr.max()}]")
    return arr.astype(np.int64)


def pad_batch(seqs, pad=0):
    """A list of B 1-D integer sequences -> (tokens (T, B) int64, lengths (B,) int64), T = the longest length;
    positions past a sequence's end hold `pad`.
    Derived in book/08b_variable_length.md, section "Padding and the mask"."""
    if not isinstance(seqs, (list, tuple)) or not seqs:
        raise ValueError("seqs: expected a non-empty list of 1-D integer sequences")
    arrs = [np.asarray(s) for s in seqs]
    for i, s in enumerate(arrs):
        if s.ndim != 1 or s.size == 0 or s.dtype.kind not in "iu":
            raise ValueError(f"seqs: item {i} is not a non-empty 1-D integer sequence (shape {s.shape}, "
                             f"dtype {s.dtype})")
    lengths = np.array([len(s) for s in arrs], dtype=np.int64)
    out = np.full((lengths.max(), len(arrs)), pad, dtype=np.int64)
    for b, s in enumerate(arrs):
        out[:len(s), b] = s
    return out, lengths


def length_mask(lengths, T):
    """lengths (B,) ints in [1, T] -> mask (T, B) float64, 1.0 where t < lengths[b].
    Derived in book/08b_variable_length.md, section "Padding and the mask"."""
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T <= 0:
        raise ValueError(f"T: expected a positive int, got {T!r}")
    lengths = _lengths(lengths, T)
    return (np.arange(T)[:, None] < lengths[None, :]).astype(np.float64)


def _mask(mask, shape):
    m = np.asarray(mask)
    if m.shape != tuple(shape):
        raise ValueError(f"mask: expected shape {tuple(shape)}, got {m.shape}")
    if m.dtype.kind not in "biuf" or not np.all((m == 0) | (m == 1)):
        raise ValueError("mask: expected 0/1 (or boolean) entries")
    return m.astype(np.float64)


def masked_softmax_cross_entropy(o, y, mask):
    """Cross-entropy of logits o (T, B, K) against targets y (T, B), counting only the steps where mask (T, B)
    is 1, averaged over those real tokens: L = sum_{t,b} m_tb * (-log softmax(o_tb)[y_tb]) / sum m.

    Targets at padded steps may hold any label in [0, K) (the pad token). This is PyTorch's
    cross_entropy(..., ignore_index=pad) with the default mean. Returns (loss, do (T, B, K)); do is 0 at padding.
    Derived in book/08b_variable_length.md, section "Masks in the loss".
    """
    o = as_float_array("o", o, ndim=3)
    T, B, K = o.shape
    y = as_targets("y", y, (T, B), K)
    m = _mask(mask, (T, B))
    n = m.sum()
    if n == 0:
        raise ValueError("mask: expected at least one real (1) entry; the loss over no tokens is undefined")
    z = o - o.max(axis=2, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=2, keepdims=True)
    z_y = np.take_along_axis(z, y[..., None], axis=2)[..., 0]
    loss = float((m * (np.log(s[..., 0]) - z_y)).sum() / n)
    do = e / s
    np.put_along_axis(do, y[..., None], np.take_along_axis(do, y[..., None], axis=2) - 1.0, axis=2)
    do *= (m / n)[..., None]
    return loss, do


def masked_rnn_forward(x, mask, h0, U_xh, W_hh, b):
    """The vanilla RNN that holds its state through padding:

        a_t = tanh(x_t @ U_xh + h_{t-1} @ W_hh + b),   h_t = m_t * a_t + (1 - m_t) * h_{t-1}

    x (T, B, D), mask (T, B) 0/1, h0 (B, H). Where the mask is all ones this is rnn_forward. With padding at
    the end, h[T - 1] is each sequence's last real state; padding at the start keeps h0 until the first real
    step (how the backward direction of a Bi-RNN reads a time-reversed padded batch). Returns h (T, B, H), cache.
    Derived in book/08b_variable_length.md, section "The last real state is not $h_T$".
    """
    x = as_float_array("x", x, ndim=3)
    T, B, D = x.shape
    U_xh, W_hh, b = _check_params(U_xh, W_hh, b, D)
    H = W_hh.shape[0]
    h0 = as_float_array("h0", h0, shape=(B, H))
    m = _mask(mask, (T, B))[..., None]
    a = (x.reshape(T * B, D) @ U_xh).reshape(T, B, H) + b   # the input part of every step; a_t is built in place
    h = np.empty((T, B, H))
    prev = h0
    for t in range(T):
        a[t] = np.tanh(a[t] + prev @ W_hh)
        h[t] = m[t] * a[t] + (1.0 - m[t]) * prev
        prev = h[t]
    return h, MaskedCache(x, m, h0, U_xh, W_hh, h, a)


def masked_rnn_backward(dh, cache):
    """BPTT through masked_rnn_forward. dh (T, B, H): dL/dh_t from the loss at every step.

    dL/dh_{t-1} = (1 - m_t) * g_t + (m_t * g_t * (1 - a_t^2)) @ W_hh^T, with g_t the total gradient on h_t:
    at padded steps the gradient passes straight through to the previous state.
    Returns dx (T, B, D), dh0 (B, H), dU_xh (D, H), dW_hh (H, H), db (H,).
    Derived in book/08b_variable_length.md, section "The last real state is not $h_T$".
    """
    x, m, h0, U_xh, W_hh, h, a = cache_of(cache, MaskedCache, "masked_rnn_forward")
    T, B, D = x.shape
    dh = as_float_array("dh", dh, shape=h.shape)
    dz = np.empty_like(a)
    g_next = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        g = dh[t] + g_next
        dz[t] = m[t] * g * (1.0 - a[t] * a[t])
        g_next = (1.0 - m[t]) * g + dz[t] @ W_hh.T
    H = W_hh.shape[0]
    dz2 = dz.reshape(T * B, H)
    h_prev = np.concatenate([h0[None], h[:-1]]).reshape(T * B, H)
    return ((dz2 @ U_xh.T).reshape(T, B, D), g_next, x.reshape(T * B, D).T @ dz2, h_prev.T @ dz2,
            dz2.sum(axis=0))


def last_state_forward(h, lengths):
    """The state after each sequence's last real step: out[b] = h[lengths[b] - 1, b].

    h (T, B, H), lengths (B,) ints in [1, T]. Returns out (B, H), cache.
    Derived in book/08b_variable_length.md, section "The last real state is not $h_T$"."""
    h = as_float_array("h", h, ndim=3)
    T, B, H = h.shape
    lengths = _lengths(lengths, T)
    if lengths.shape != (B,):
        raise ValueError(f"lengths: expected shape {(B,)} (one length per sequence of h), got {lengths.shape}")
    idx = lengths - 1
    return h[idx, np.arange(B)], LastStateCache(idx, h.shape)


def last_state_backward(dout, cache):
    """dout (B, H) -> dh (T, B, H): zero everywhere except at each sequence's last real step.
    Derived in book/08b_variable_length.md, section "The last real state is not $h_T$"."""
    idx, shape = cache_of(cache, LastStateCache, "last_state_forward")
    dout = as_float_array("dout", dout, shape=(shape[1], shape[2]))
    dh = np.zeros(shape)
    dh[idx, np.arange(shape[1])] = dout
    return dh


def reverse_padded(x, lengths):
    """Reverse each sequence's real steps in time, leaving the padding at the end:
    out[t, b] = x[lengths[b] - 1 - t, b] for t < lengths[b], x[t, b] otherwise. x (T, B, ...), lengths (B,).
    Applying it twice gives x back. This is what the backward direction of a Bi-RNN must read.
    Derived in book/08b_variable_length.md, section "The last real state is not $h_T$"."""
    x = np.asarray(x)
    if x.ndim < 2 or x.size == 0:
        raise ValueError(f"x: expected a non-empty array of shape (T, B, ...), got shape {x.shape}")
    T, B = x.shape[:2]
    lengths = _lengths(lengths, T)
    if lengths.shape != (B,):
        raise ValueError(f"lengths: expected shape {(B,)} (one length per sequence of x), got {lengths.shape}")
    t = np.arange(T)[:, None]
    src = np.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)
    return x[src, np.arange(B)[None, :]]
