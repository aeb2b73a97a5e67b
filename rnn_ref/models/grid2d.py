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
import numpy as np

from .._validate import as_float_array
from .bidirectional import bidirectional_backward, bidirectional_forward

DIRECTIONS = ("lr", "rl", "tb", "bt")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _zero_state(cell, B, H, dtype):
    z = np.zeros((B, H), dtype)
    return (z, z.copy()) if cell == "lstm" else z


def _hidden(cell, params, name):
    try:
        return np.shape(params[1])[0]  # W_hh (H, H), Wh (H, 4H) or (H, 3H): H rows in every cell
    except (TypeError, IndexError, KeyError):
        raise ValueError(f"params[{name!r}]: expected the cell's parameter tuple, e.g. (U_xh, W_hh, b)") from None


def init_grid_rnn(D, H1, H2, cell="rnn", seed=0):
    """Four parameter tuples drawn from U(-1/sqrt(H), 1/sqrt(H)) (PyTorch's default), keyed lr, rl, tb, bt."""
    if cell not in GATES:
        raise ValueError(f"cell: expected one of {', '.join(GATES)}, got {cell!r}")
    rng = np.random.default_rng(seed)
    out = {}
    for name, (d, h) in zip(DIRECTIONS, ((D, H1), (D, H1), (2 * H1, H2), (2 * H1, H2))):
        s, g = 1.0 / np.sqrt(h), GATES[cell]
        ws = [rng.uniform(-s, s, (d, g * h)), rng.uniform(-s, s, (h, g * h))]
        bs = [rng.uniform(-s, s, g * h) for _ in range(2 if cell == "gru" else 1)]
        out[name] = tuple(ws + bs)
    return out


def grid_rnn_forward(x, params, cell="rnn"):
    """x (R, C, B, D) -> out (R, C, B, 2 * H2), cache. See the module docstring for params."""
    x = as_float_array("x", x, ndim=4)
    if not isinstance(params, dict) or any(k not in params for k in DIRECTIONS):
        raise ValueError("params: expected a dict with the parameter tuples 'lr', 'rl', 'tb', 'bt'")
    R, C, B, D = x.shape
    H1, H2 = _hidden(cell, params["lr"], "lr"), _hidden(cell, params["tb"], "tb")
    # Horizontal sweep: time = columns, batch = (row, example) pairs.
    xh = x.transpose(1, 0, 2, 3).reshape(C, R * B, D)
    s = _zero_state(cell, R * B, H1, x.dtype)
    h1, cache_h = bidirectional_forward(xh, s, s, params["lr"], params["rl"], cell)
    # Vertical sweep: time = rows, batch = (column, example) pairs.
    xv = h1.reshape(C, R, B, 2 * H1).transpose(1, 0, 2, 3).reshape(R, C * B, 2 * H1)
    s = _zero_state(cell, C * B, H2, x.dtype)
    out, cache_v = bidirectional_forward(xv, s, s, params["tb"], params["bt"], cell)
    return out.reshape(R, C, B, 2 * H2), (cache_h, cache_v, x.shape, H1, H2)


def grid_rnn_backward(dout, cache):
    """dout (R, C, B, 2 * H2) -> dx (R, C, B, D), dparams (a dict lr, rl, tb, bt of gradient tuples)."""
    cache_h, cache_v, (R, C, B, D), H1, H2 = cache
    dout = as_float_array("dout", dout, shape=(R, C, B, 2 * H2))
    dxv, _, _, dtb, dbt = bidirectional_backward(dout.reshape(R, C * B, 2 * H2), cache_v)
    dh1 = dxv.reshape(R, C, B, 2 * H1).transpose(1, 0, 2, 3).reshape(C, R * B, 2 * H1)
    dxh, _, _, dlr, drl = bidirectional_backward(dh1, cache_h)
    dx = dxh.reshape(C, R, B, D).transpose(1, 0, 2, 3)
    return np.ascontiguousarray(dx), {"lr": tuple(dlr), "rl": tuple(drl), "tb": tuple(dtb), "bt": tuple(dbt)}
