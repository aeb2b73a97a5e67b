"""Bidirectional RNNs (Schuster and Paliwal, 1997): one cell reads the sequence forward, another backward,
and their hidden states are concatenated, so the output at step t sees the whole sequence.

Works with any registered cell (rnn_ref.cells.CELLS). params_f and params_b are tuples of the cell's weights in
its API order, Cell.params: rnn (U_xh, W_hh, b), lstm (Wx, Wh, b), gru (Wx, Wh, bx, bh), ...
state0_f and state0_b are the initial states in the form Cell.zero_state returns: h0 (B, H), or (h0, c0) for
the LSTM.
"""
from collections import namedtuple

import numpy as np

from .._validate import as_float_array, cache_of
from ..cells.registry import get_cell

BidirectionalCache = namedtuple("BidirectionalCache", "cell cache_f cache_b T B H")


def bidirectional_forward(x, state0_f, state0_b, params_f, params_b, cell="rnn"):
    """x (T, B, D) -> h (T, B, 2H): [forward h_t, backward h_t] side by side; cache."""
    c = get_cell(cell)
    x = as_float_array("x", x, ndim=3)
    h_f, cache_f = c.run_forward(x, state0_f, params_f, ("state0_f", "params_f"))
    h_b, cache_b = c.run_forward(x[::-1], state0_b, params_b, ("state0_b", "params_b"))  # time reversed
    if h_b.shape != h_f.shape:
        raise ValueError(f"params_b: expected the hidden size of params_f ({h_f.shape[2]}), got {h_b.shape[2]}")
    T, B, H = h_f.shape
    return np.concatenate([h_f, h_b[::-1]], axis=2), BidirectionalCache(c, cache_f, cache_b, T, B, H)


def bidirectional_backward(dh, cache):
    """dh (T, B, 2H) -> dx (T, B, D), dstate0_f, dstate0_b, dparams_f (tuple), dparams_b (tuple)."""
    c, cache_f, cache_b, T, B, H = cache_of(cache, BidirectionalCache, "bidirectional_forward")
    dh = as_float_array("dh", dh, shape=(T, B, 2 * H))
    dx_f, ds_f, dp_f = c.run_backward(dh[:, :, :H], cache_f)
    dx_b, ds_b, dp_b = c.run_backward(dh[::-1, :, H:], cache_b)
    return dx_f + dx_b[::-1], ds_f, ds_b, dp_f, dp_b
