"""The 2-D RNN over an image: four RNNs, sweeping left-to-right, right-to-left, top-down and bottom-up, in
the layout of ReNet (Visin et al. 2015), so that every position's output sees the whole image.

Step 1, horizontal: each row of the image is a sequence (the columns are its time steps); a bidirectional
RNN reads it left-to-right ("lr") and right-to-left ("rl"). Position (i, j) now knows all of row i.
Step 2, vertical: each column of step 1's output is a sequence (the rows are its time steps); a second
bidirectional RNN reads it top-down ("tb") and bottom-up ("bt"). Position (i, j) now knows, through column j,
every row's summary, and through those the whole image:

    out[i, j] = [tb_h[i, j], bt_h[i, j]],  each built from  [lr_h[k, j], rl_h[k, j]] for every row k.

Layout, image-major like the time-major sequences: x (R, C, B, D) (rows, columns, batch, channels).
params: a dict with four parameter tuples in the cell's API order (Cell.params, any registered cell):
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
# horizontal, vertical: the two sweeps' BidirectionalCaches; shape: x's (R, C, B, D); H1, H2: the hidden sizes
GridCache = namedtuple("GridCache", "horizontal vertical shape H1 H2")


def init_grid_rnn(D, H1, H2, cell="rnn", seed=0):
    """Parameters for grid_rnn_forward, each drawn by the cell's Cell.init_params (U(-1/sqrt(H), 1/sqrt(H)),
    PyTorch's default).

    Inputs: D channels, H1 hidden units per horizontal direction, H2 per vertical direction, cell a registered
    cell name, seed for numpy's default_rng.
    Returns a dict of four parameter tuples in the cell's API order: "lr", "rl" with input weight (D, G*H1),
    recurrent weight (H1, G*H1), biases (G*H1,); "tb", "bt" the same with input 2 * H1 and hidden H2.

    Derived in book/09_bidirectional.md, section "Two dimensions: four sweeps over an image".
    """
    c = get_cell(cell)
    rng = np.random.default_rng(seed)
    sizes = ((D, H1), (D, H1), (2 * H1, H2), (2 * H1, H2))
    return {name: tuple(c.init_params(d, h, rng).values()) for name, (d, h) in zip(DIRECTIONS, sizes)}


def grid_rnn_forward(x, params, cell="rnn"):
    """The four sweeps over an image: a bidirectional RNN along every row, then one along every column of its
    output, so that every position's output depends on every pixel.

    Inputs:
    - x: (R, C, B, D) the image, rows, columns, batch, channels
    - params: the dict of init_grid_rnn ("lr", "rl", "tb", "bt" parameter tuples; see the module docstring)
    - cell: a registered cell name or Cell; initial states are zeros (Cell.zero_state)

    Returns a tuple of:
    - out: (R, C, B, 2 * H2) [top-down | bottom-up] states at every position
    - cache: GridCache (the two sweeps' BidirectionalCaches, x's shape, H1, H2) for grid_rnn_backward

    Derived in book/09_bidirectional.md, section "Two dimensions: four sweeps over an image".
    """
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
    """Backward through the vertical sweep, then the horizontal one.

    Inputs:
    - dout: (R, C, B, 2 * H2) upstream gradient
    - cache: the GridCache returned by grid_rnn_forward (anything else is a ValueError)

    Returns a tuple of:
    - dx: (R, C, B, D)
    - dparams: a dict "lr", "rl", "tb", "bt" of gradient tuples, shaped like params

    Derived in book/09_bidirectional.md, section "Two dimensions: four sweeps over an image".
    """
    cache_h, cache_v, (R, C, B, D), H1, H2 = cache_of(cache, GridCache, "grid_rnn_forward")
    dout = as_float_array("dout", dout, shape=(R, C, B, 2 * H2))
    dxv, _, _, dtb, dbt = bidirectional_backward(dout.reshape(R, C * B, 2 * H2), cache_v)
    dh1 = dxv.reshape(R, C, B, 2 * H1).transpose(1, 0, 2, 3).reshape(C, R * B, 2 * H1)
    dxh, _, _, dlr, drl = bidirectional_backward(dh1, cache_h)
    dx = dxh.reshape(C, R, B, D).transpose(1, 0, 2, 3)
    return np.ascontiguousarray(dx), {"lr": dlr, "rl": drl, "tb": dtb, "bt": dbt}
