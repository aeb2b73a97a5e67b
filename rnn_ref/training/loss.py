"""Softmax, log-softmax and the softmax cross-entropy loss of the book's output layer.

o_t = h_t @ V_ho + b_y,  y_hat_t = softmax(o_t),  L = sum_t L_t,  L_t = -log y_hat_t[y_t]
"""
import numpy as np

from .._validate import as_float_array, as_targets, nonnegative


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
    rows, cols = np.arange(T * B), y.reshape(T * B)
    # -log softmax(o)[y] = log(sum_k exp(z_k)) - z_y with z = o - max(o): exp never sees a positive number,
    # and the sum is at least 1, so no log(0) even for logits of +-1000.
    do = o.reshape(T * B, K) - o.reshape(T * B, K).max(axis=1, keepdims=True)
    z_y = do[rows, cols]
    np.exp(do, out=do)
    s = do.sum(axis=1, keepdims=True)
    loss = float((np.log(s[:, 0]) - z_y).sum()) / B
    do *= 1.0 / (B * s)          # y_hat / B
    do[rows, cols] -= 1.0 / B
    return loss, do.reshape(T, B, K)


def perplexity(loss_per_token):
    """exp of the mean cross-entropy per token (in nats): the effective number of equally likely choices."""
    return float(np.exp(nonnegative("loss_per_token", loss_per_token)))


def bits_per_char(loss_per_token):
    """The mean cross-entropy per character converted from nats to bits."""
    return nonnegative("loss_per_token", loss_per_token) / float(np.log(2.0))
