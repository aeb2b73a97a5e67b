"""Softmax, log-softmax and the softmax cross-entropy loss of the book's output layer.

    o_t = h_t @ V_ho + b_y,   y_hat_t = softmax(o_t),   L = sum_t L_t,   L_t = -log y_hat_t[y_t]

Shapes, time-major: logits o (T, B, K) for K classes (the vocabulary), integer targets y (T, B) in [0, K).
Derived in book/04_loss.md; perplexity and bits per character in its section "Perplexity and bits per character".
"""
import numpy as np

from .._validate import as_float_array, as_targets, nonnegative


def log_softmax(o, axis=-1):
    """The log of the softmax, computed without ever forming exp of a large number.

        log softmax(o)_k = z_k - log sum_j exp(z_j),   z = o - max_j o_j

    Inputs:
    - o: (..., K) logits, any shape; K along `axis`
    - axis: the class axis (default the last)

    Returns:
    - (..., K) float array of o's shape; its exp sums to 1 along `axis`

    Derived in book/04_loss.md, section "Log-softmax".
    """
    o = as_float_array("o", o)
    z = o - o.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def softmax(o, axis=-1):
    """Logits to probabilities; never overflows, because exp only sees values <= 0.

        softmax(o)_k = exp(o_k - m) / sum_j exp(o_j - m),   m = max_j o_j

    Inputs:
    - o: (..., K) logits, any shape; K along `axis`
    - axis: the class axis (default the last)

    Returns:
    - (..., K) float array of o's shape, entries in [0, 1] summing to 1 along `axis`

    Derived in book/04_loss.md, sections "Softmax" and "Why the naive formula fails, and the stable one".
    """
    o = as_float_array("o", o)
    e = np.exp(o - o.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_cross_entropy(o, y):
    """The cross-entropy of logits against integer targets, summed over time and averaged over the batch,
    and its gradient.

        L = (1/B) sum_t sum_b -log softmax(o[t, b])[y[t, b]]        dL/do = (softmax(o) - onehot(y)) / B

    Inputs:
    - o: (T, B, K) logits, time-major
    - y: (T, B) integer targets in [0, K)

    Returns a tuple of:
    - loss: float, L (in nats)
    - do: (T, B, K) dL/do, the gradient that starts backpropagation through the output layer

    Derived in book/04_loss.md, sections "Cross-entropy, summed over time" and "The gradient is $\\hat y - y$".
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
    """The effective number of equally likely choices the model hesitates between.

        perplexity = exp(mean cross-entropy per token, in nats)

    Inputs:
    - loss_per_token: float >= 0, the loss divided by the number of predicted tokens (T * B for
      softmax_cross_entropy's loss, which is already divided by B: loss / T)

    Returns:
    - float >= 1; a uniform model over K classes scores K

    Derived in book/04_loss.md, section "Perplexity and bits per character".
    """
    return float(np.exp(nonnegative("loss_per_token", loss_per_token)))


def bits_per_char(loss_per_token):
    """The mean cross-entropy per character converted from nats to bits.

        bits per character = loss_per_token / ln 2

    Inputs:
    - loss_per_token: float >= 0, mean cross-entropy per character in nats

    Returns:
    - float >= 0; a uniform model over K characters scores log2(K)

    Derived in book/04_loss.md, section "Perplexity and bits per character".
    """
    return nonnegative("loss_per_token", loss_per_token) / float(np.log(2.0))
