"""Numeric helpers shared by the cells."""
import numpy as np

from ._validate import as_float_array

def sigmoid(a):
    """Logistic function, stable for large |a|: exp only ever sees a value <= 0."""
    a = as_float_array("a", a)
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_(a, scale=0.5, shift=0.5):
    """a <- sigmoid(a) in place, as 0.5 * tanh(0.5 * a) + 0.5; scale, shift from gate_scale for mixed blocks."""
    a *= scale
    np.tanh(a, out=a)
    a *= scale
    a += shift
    return a


def gate_scale(gates, tanh_gates, H, dtype):
    """(scale, shift), rows (G*H,) for sigmoid_: 0.5 and 0.5 on the sigmoid gates' columns, 1 and 0 on those of
    tanh_gates, where sigmoid_ computes 1 * tanh(1 * a) + 0 = tanh(a)."""
    scale = np.repeat([1.0 if g in tanh_gates else 0.5 for g in gates], H).astype(dtype)
    return scale, 1.0 - scale


def transposed(W, B):
    """W.T for the matrix products of the backward loop. With B > 1 rows a contiguous copy makes those products
    faster (measured: up to 30% in float32); with B = 1 they are matrix-vector products that read W.T as fast,
    and the copy would cost more than it saves."""
    return np.ascontiguousarray(W.T) if B > 1 else W.T
