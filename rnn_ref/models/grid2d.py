"""The 2-D RNN over an image: four RNNs, sweeping left-to-right, right-to-left, top-down and bottom-up, in
the layout of ReNet (Visin et al. 2015), so that every position's output sees the whole image.

Step 1, horizontal: each row of the image is a sequence (the columns are its time steps); a bidirectional
RNN reads it left-to-right ("lr") and right-to-left ("rl"). Position (i, j) now knows all of row i.
Step 2, vertical: each column of step 1's output is a sequence (the rows are its time steps); a second
bidirectional RNN reads it top-down ("tb") and bottom-up ("bt"). Position (i, j) now knows, through column j,
every row's summary, and through those the whole image:

    out[i, j] = [tb_h[i, j], bt_h[i, j]],  each built from  [lr_h[k, j], rl_h[k, j]] for every row k.

Layout, image-major like the time-major sequences: x (R, C, B, D) (rows, columns, batch, channels).
params: a dict with four parameter tuples in the cell's API order (see bidirectional.py):
  "lr", "rl": the horizontal pair, input size D, hidden size H1;
  "tb", "bt": the vertical pair, input size 2 * H1, hidden size H2.     Output: (R, C, B, 2 * H2).
Initial states are zero. Every sweep is an ordinary sequence RNN over a batch of R * B rows or C * B columns,
so the time loops stay as tight as rnn_forward's.
"""
from collections import namedtuple

import numpy as np

from .._validate import as_float_array, cache_of
from ..cells.registry import get_cell
from .bidirectional import bidirectional_backward, bidirectional_forward

DIRECTIONS = ("lr", "rl", "tb", "bt")
GridCache = namedtuple("GridCache", "horizontal vertical shape H1 H2")


def init_grid_rnn(D, H1, H2, cell="rnn", seed=0):
    """Four parameter tuples drawn by the cell's init_params (U(-1/sqrt(H), 1/sqrt(H)), PyTorch's default),
    keyed lr, rl (input D, hidden H1) and tb, bt (input 2 * H1, hidden H2)."""
    c = get_cell(cell)
    rng = np.random.default_rng(seed)
    sizes = ((D, H1), (D, H1), (2 * H1, H2), (2 * H1, H2))
    return {name: tuple(c.init_params(d, h, rng).values()) for name, (d, h) in zip(DIRECTIONS, sizes)}


def grid_rnn_forward(x, params, cell="rnn"):
    """x (R, C, B, D) -> out (R, C, B, 2 * H2), cache. See the module docstring for params."""
    c = get_cell(cell)
    x = as_float_array("x", x, ndim=4)
    if not isinstance(params, dict) or any(k not in params for k in DIRECTIONS):
        raise ValueError("params: expected a dict with the parameter tuples 'lr', 'rl', 'tb', 'bt'")
    R, C, B, D = x.shape
    H1, H2 = c.hidden_size(params["lr"], "params['lr']"), c.hidden_size(params["tb"], "params['tb']")
    # Horizontal sweep: time = columns, batch = (row, example) pairs.
    xh = x.transpose(1, 0, 2, 3).reshape(C, R * B, D)
    h1, cache_h = bidirectional_forward(xh, c.zero_state(R * B, H1, x.dtype), c.zero_state(R * B, H1, x.dtype),
                                        params["lr"], params["rl"], c)
    # Vertical sweep: time = rows, batch = (column, example) pairs.
    xv = h1.reshape(C, R, B, 2 * H1).transpose(1, 0, 2, 3).reshape(R, C * B, 2 * H1)
    out, cache_v = bidirectional_forward(xv, c.zero_state(C * B, H2, x.dtype), c.zero_state(C * B, H2, x.dtype),
                                         params["tb"], params["bt"], c)
    return out.reshape(R, C, B, 2 * H2), GridCache(cache_h, cache_v, x.shape, H1, H2)


def grid_rnn_backward(dout, cache):
    """dout (R, C, B, 2 * H2) -> dx (R, C, B, D), dparams (a dict lr, rl, tb, bt of gradient tuples)."""
    cache_h, cache_v, (R, C, B, D), H1, H2 = cache_of(cache, GridCache, "grid_rnn_forward")
    dout = as_float_array("dout", dout, shape=(R, C, B, 2 * H2))
    dxv, _, _, dtb, dbt = bidirectional_backward(dout.reshape(R, C * B, 2 * H2), cache_v)
    dh1 = dxv.reshape(R, C, B, 2 * H1).transpose(1, 0, 2, 3).reshape(C, R * B, 2 * H1)
    dxh, _, _, dlr, drl = bidirectional_backward(dh1, cache_h)
    dx = dxh.reshape(C, R, B, D).transpose(1, 0, 2, 3)
    return np.ascontiguousarray(dx), {"lr": dlr, "rl": drl, "tb": dtb, "bt": dbt}
