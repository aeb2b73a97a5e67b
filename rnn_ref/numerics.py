"""Numeric helpers shared by the cells: the logistic sigmoid (public, and in place for the gates) and the
transposed weights of the backward loops."""
import numpy as np

from ._validate import as_float_array


def sigmoid(a):
    """The logistic function, elementwise, accurate to a few ulps relative even where it is tiny.

        sigmoid(a) = 1 / (1 + exp(-a)) = exp(a) / (1 + exp(a))

    The first form for a >= 0 and the second for a < 0, so that exp only ever sees -|a| <= 0 and never
    overflows: sigmoid(-1000) is 0 (underflow), not a warning and a NaN.

    Inputs:
    - a: float array of any shape (float32 or float64)

    Returns:
    - an array of a's shape and dtype, values in [0, 1]

    The gates of the LSTM and the GRUs use it; it is introduced in book/11_lstm.md, section "The cell and its
    four gates". Inside the cells' loops the same function runs in place as sigmoid_.
    """
    a = as_float_array("a", a)
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_(a, scale=0.5, shift=0.5):
    """The sigmoid in place, for the cells' gates: a <- sigmoid(a), computed as

        sigmoid(a) = 0.5 * tanh(0.5 * a) + 0.5

    which needs no exp and no branch on the sign of a: stable for any a, its error is about one ulp of 1
    (against torch.sigmoid well under 1e-10 normwise). That absolute accuracy is what a gate needs; where a
    tiny sigmoid must be accurate relative to itself, use sigmoid.

    Inputs:
    - a: float array (any shape), overwritten
    - scale, shift: 0.5 and 0.5, or rows (G*H,) from gate_scale: where scale is 1 and shift 0 the same
      operations compute 1 * tanh(1 * a) + 0 = tanh(a), so an LSTM's gates i, f, o and its candidate g take
      one pass over its (B, 4H) pre-activations

    Returns:
    - a, now holding the activations
    """
    a *= scale
    np.tanh(a, out=a)
    a *= scale
    a += shift
    return a


def gate_scale(gates, tanh_gates, H, dtype):
    """The rows (scale, shift) for sigmoid_ over pre-activations laid out as gate blocks.

    Inputs:
    - gates: the blocks in column order, e.g. "ifgo" (G = len(gates) blocks of H columns)
    - tanh_gates: the blocks that get tanh instead of the sigmoid, e.g. "g"
    - H: the hidden size; dtype: that of the pre-activations

    Returns:
    - scale, shift: (G*H,) each: 0.5 and 0.5 on a sigmoid block's columns, 1 and 0 on a tanh block's
    """
    scale = np.repeat([1.0 if g in tanh_gates else 0.5 for g in gates], H).astype(dtype)
    return scale, 1.0 - scale


def transposed(W, B):
    """W.T for the matrix products of the backward loop. With B > 1 rows a contiguous copy makes those products
    faster (measured: up to 30% in float32); with B = 1 they are matrix-vector products that read W.T as fast,
    and the copy would cost more than it saves.

    Inputs:
    - W: (m, n) a weight matrix, Wh (H, G*H) in the cells
    - B: the batch size of the products to come

    Returns:
    - (n, m): W.T, contiguous when B > 1
    """
    return np.ascontiguousarray(W.T) if B > 1 else W.T
