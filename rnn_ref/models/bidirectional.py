"""Bidirectional RNNs (Schuster and Paliwal, 1997): one cell reads the sequence forward, another backward,
and their hidden states are concatenated, so the output at step t sees the whole sequence.

Works with any of the three cells. params_f and params_b are tuples of the cell's weights in API order:
  rnn (U_xh, W_hh, b)    lstm (Wx, Wh, b)    gru (Wx, Wh, bx, bh)
state0_f and state0_b are the initial states: h0 (B, H), or (h0, c0) for the LSTM.
"""
import numpy as np

from .._validate import as_float_array
from ..cells.gru import gru_backward, gru_forward
from ..cells.lstm import lstm_backward, lstm_forward
from ..cells.rnn import rnn_backward, rnn_forward

CELLS = {"rnn": (rnn_forward, rnn_backward), "lstm": (lstm_forward, lstm_backward),
         "gru": (gru_forward, gru_backward)}


def _cell(cell):
    if cell not in CELLS:
        raise ValueError(f"cell: expected one of {', '.join(CELLS)}, got {cell!r}")
    return CELLS[cell]


NUM_PARAMS = {"rnn": 3, "lstm": 3, "gru": 4}
PARAM_ORDER = {"rnn": "(U_xh, W_hh, b)", "lstm": "(Wx, Wh, b)", "gru": "(Wx, Wh, bx, bh)"}


def cell_forward(cell, x, state0, params, names=("state0", "params")):
    """Run one direction: (T, B, D) -> h (T, B, H), cache. names: what to call state0 and params in errors."""
    forward, _ = _cell(cell)
    if not isinstance(params, (tuple, list)) or len(params) != NUM_PARAMS[cell]:
        raise ValueError(f"{names[1]}: expected the tuple {PARAM_ORDER[cell]} for cell={cell!r}")
    if cell == "lstm":
        if not isinstance(state0, (tuple, list)) or len(state0) != 2:
            raise ValueError(f"{names[0]}: expected the pair (h0, c0) of (B, H) arrays for cell='lstm'")
        state0 = tuple(state0)
    else:
        state0 = (state0,)
    return forward(x, *state0, *params)


def cell_backward(cell, dh, cache):
    """dh (T, B, H) -> dx, dstate0 (dh0, or (dh0, dc0) for the LSTM), dparams (tuple)."""
    _, backward = _cell(cell)
    g = backward(dh, cache)
    if cell == "lstm":
        return g[0], (g[1], g[2]), g[3:]
    return g[0], g[1], g[2:]


def bidirectional_forward(x, state0_f, state0_b, params_f, params_b, cell="rnn"):
    """x (T, B, D) -> h (T, B, 2H): [forward h_t, backward h_t] side by side; cache."""
    x = as_float_array("x", x, ndim=3)
    h_f, cache_f = cell_forward(cell, x, state0_f, params_f, ("state0_f", "params_f"))
    h_b, cache_b = cell_forward(cell, x[::-1], state0_b, params_b, ("state0_b", "params_b"))  # time reversed
    if h_b.shape != h_f.shape:
        raise ValueError(f"params_b: expected the hidden size of params_f ({h_f.shape[2]}), got {h_b.shape[2]}")
    return np.concatenate([h_f, h_b[::-1]], axis=2), (cell, cache_f, cache_b, h_f.shape[2])


def bidirectional_backward(dh, cache):
    """dh (T, B, 2H) -> dx (T, B, D), dstate0_f, dstate0_b, dparams_f (tuple), dparams_b (tuple)."""
    cell, cache_f, cache_b, H = cache
    dh = np.asarray(dh)
    T, B = cache_f.x.shape[:2]
    if dh.shape != (T, B, 2 * H):
        raise ValueError(f"dh: expected shape {(T, B, 2 * H)}, got {dh.shape}")
    dx_f, ds_f, dp_f = cell_backward(cell, dh[:, :, :H], cache_f)
    dx_b, ds_b, dp_b = cell_backward(cell, dh[::-1, :, H:], cache_b)
    return dx_f + dx_b[::-1], ds_f, ds_b, dp_f, dp_b
