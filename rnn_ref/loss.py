"""Softmax, log-softmax and the softmax cross-entropy loss of the book's output layer.

o_t = h_t @ V_ho + c,  y_hat_t = softmax(o_t),  L = sum_t L_t,  L_t = -log y_hat_t[y_t]
"""
import numpy as np

from ._validate import as_float_array, as_targets


def log_softmax(o, axis=-1):
    """log softmax(o) along `axis`, stable for any finite logits (subtract the max first)."""
    o = as_float_array("o", o)
    z = o - o.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def softmax(o, axis=-1):
    """softmax(o) along `axis`; never overflows, because exp only sees values <= 0."""
    o = as_float_array("o", o)
    e = np.exp(o - o.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_cross_entropy(o, y):
    """Cross-entropy of logits o (T, B, K) against integer targets y (T, B).

    The loss is summed over time and averaged over the batch: L = (1/B) sum_t sum_b -log y_hat[t, b, y[t, b]].
    Returns (loss, do) where do = dL/do = (y_hat - onehot(y)) / B, of shape (T, B, K).
    """
    o = as_float_array("o", o, ndim=3)
    T, B, K = o.shape
    y = as_targets("y", y, (T, B), K)
    logp = log_softmax(o)
    t_idx, b_idx = np.indices((T, B))
    loss = -logp[t_idx, b_idx, y].sum() / B
    do = np.exp(logp)
    do[t_idx, b_idx, y] -= 1.0
    do /= B
    return loss, do


def perplexity(loss_per_token):
    """exp of the mean cross-entropy per token (in nats): the effective number of equally likely choices."""
    return float(np.exp(loss_per_token))


def bits_per_char(loss_per_token):
    """The mean cross-entropy per character converted from nats to bits."""
    return float(loss_per_token / np.log(2.0))
