"""Dropout for recurrent networks (inverted dropout: scale the kept units by 1 / (1 - p) during training, do
nothing at test time).

Zaremba et al. (2014): drop only the non-recurrent connections (the inputs x_t and the outputs h_t on their
way to the output layer), never h_{t-1} -> h_t, so the memory is not erased a little at every step.
Gal and Ghahramani (2016), "variational" dropout: one mask per sequence, the same at every time step.
Derived in book/10b_regularisation.md, section "Dropout, and where it may go in an RNN".
"""
from collections import namedtuple

import numpy as np

from .._validate import as_float_array, cache_of

DropoutCache = namedtuple("DropoutCache", "scaled_mask shape")


def dropout_forward(x, p, rng=None, train=True, same_mask_over_time=False):
    """Inverted dropout: zero each unit with probability p and scale the kept ones so the mean is unchanged.

        out = x * m / (1 - p),   m_i ~ Bernoulli(1 - p)  (m = 1 when train is False or p = 0)

    Inputs:
    - x: (T, B, D) float array, time-major; any shape when same_mask_over_time is False
    - p: float in [0, 1), the probability of dropping a unit
    - rng: a numpy Generator, an int seed or None (the mask is the only randomness)
    - train: bool; False returns a copy of x (test time: nothing is dropped)
    - same_mask_over_time: bool; True draws one (1, B, D) mask per sequence and applies it at every step
      (variational dropout)

    Returns a tuple of:
    - out: float array of x's shape
    - cache: DropoutCache(scaled_mask, shape): m / (1 - p), of x's shape or (1, B, D), or None when nothing
      was dropped; and x's shape, what dropout_backward needs

    Derived in book/10b_regularisation.md, section "Dropout, and where it may go in an RNN".
    """
    x = as_float_array("x", x, ndim=3 if same_mask_over_time else None)
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0 <= p < 1:
        raise ValueError(f"p: expected a drop probability in [0, 1), got {p!r}")
    if not isinstance(train, (bool, np.bool_)):
        raise ValueError(f"train: expected True or False, got {train!r}")
    if not train or p == 0:
        return x.copy(), DropoutCache(None, x.shape)
    rng = np.random.default_rng(rng)
    shape = (1,) + x.shape[1:] if same_mask_over_time else x.shape
    scaled_mask = (rng.random(shape) >= p).astype(x.dtype) / (1.0 - p)
    return x * scaled_mask, DropoutCache(scaled_mask, x.shape)


def dropout_backward(dout, cache):
    """Backward pass of dropout: the gradient flows only through the kept units.

        dx = dout * m / (1 - p)

    Inputs:
    - dout: float array of x's shape, the upstream gradient dL/dout
    - cache: the DropoutCache dropout_forward returned

    Returns:
    - dx: float array of x's shape

    Derived in book/10b_regularisation.md, section "Dropout, and where it may go in an RNN".
    """
    scaled_mask, shape = cache_of(cache, DropoutCache, "dropout_forward")
    dout = as_float_array("dout", dout, shape=shape)
    return dout.copy() if scaled_mask is None else dout * scaled_mask
