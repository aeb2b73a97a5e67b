"""Deep RNNs. Stacked recurrent layers: layer l reads the hidden states of layer l-1 (Deep Learning book,
Fig. 10.13 a). layers is a list of (U_xh, W_hh, b) tuples; layer 0's U_xh is (D, H), the others' (H, H).
"""
import numpy as np

from ._validate import as_float_array
from .rnn import rnn_backward, rnn_forward


def stacked_rnn_forward(x, h0s, layers):
    """x (T, B, D), h0s (L, B, H) -> the top layer's h (T, B, H), cache."""
    if not isinstance(layers, (list, tuple)) or not layers:
        raise ValueError("layers: expected a non-empty list of (U_xh, W_hh, b) tuples, one per layer")
    x = as_float_array("x", x, ndim=3)
    h0s = as_float_array("h0s", h0s, shape=(len(layers), x.shape[1], None))
    caches, inp = [], x
    for l, (U_xh, W_hh, b) in enumerate(layers):
        inp, cache = rnn_forward(inp, h0s[l], U_xh, W_hh, b)
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
