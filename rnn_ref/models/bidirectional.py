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

# cell: the registered Cell; cache_f, cache_b: its forward's caches of the two directions (cache_b in reversed
# time); T, B, H: the sizes, H per direction
BidirectionalCache = namedtuple("BidirectionalCache", "cell cache_f cache_b T B H")


def bidirectional_forward(x, state0_f, state0_b, params_f, params_b, cell="rnn"):
    """Both directions over the whole sequence: h_t = [h_fwd_t | h_bwd_t], where the backward cell reads x[::-1]
    and its states are flipped back, so that row t of both halves belongs to step t.

    Inputs:
    - x: (T, B, D) inputs, time-major
    - state0_f, state0_b: the two initial states, h0 (B, H) or, for a cell with more state, a tuple such as
      the LSTM's (h0, c0) (Cell.zero_state's form)
    - params_f, params_b: the two directions' parameter tuples in the cell's API order (Cell.params), with
      input weight (D, G*H), recurrent weight (H, G*H), biases (G*H,)
    - cell: a registered cell name (rnn_ref.cells.CELLS) or Cell

    Returns a tuple of:
    - h: (T, B, 2H) the forward states in h[..., :H], the backward ones in h[..., H:]
    - cache: BidirectionalCache (the cell, each direction's cache, T, B, H) for bidirectional_backward

    Derived in book/09_bidirectional.md, section "One pass forward, one pass backward".
    """
    c = get_cell(cell)
    x = as_float_array("x", x, ndim=3)
    h_f, cache_f = c.run_forward(x, state0_f, params_f, ("state0_f", "params_f"))
    h_b, cache_b = c.run_forward(x[::-1], state0_b, params_b, ("state0_b", "params_b"))  # time reversed
    if h_b.shape != h_f.shape:
        raise ValueError(f"params_b: expected the hidden size of params_f ({h_f.shape[2]}), got {h_b.shape[2]}")
    T, B, H = h_f.shape
    return np.concatenate([h_f, h_b[::-1]], axis=2), BidirectionalCache(c, cache_f, cache_b, T, B, H)


def bidirectional_backward(dh, cache):
    """BPTT through each direction separately (they never exchange states); x feeds both, so dx adds.

    Inputs:
    - dh: (T, B, 2H) upstream gradient dL/dh_t at every step
    - cache: the BidirectionalCache returned by bidirectional_forward (anything else is a ValueError)

    Returns a tuple of:
    - dx: (T, B, D)
    - dstate0_f, dstate0_b: gradients of the initial states, in their form: (B, H), or a tuple like (dh0, dc0)
    - dparams_f, dparams_b: tuples of parameter gradients in the cell's API order, shapes as the parameters

    Derived in book/09_bidirectional.md, section "One pass forward, one pass backward".
    """
    c, cache_f, cache_b, T, B, H = cache_of(cache, BidirectionalCache, "bidirectional_forward")
    dh = as_float_array("dh", dh, shape=(T, B, 2 * H))
    dx_f, ds_f, dp_f = c.run_backward(dh[:, :, :H], cache_f)
    dx_b, ds_b, dp_b = c.run_backward(dh[::-1, :, H:], cache_b)
    return dx_f + dx_b[::-1], ds_f, ds_b, dp_f, dp_b
