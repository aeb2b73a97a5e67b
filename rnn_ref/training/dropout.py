"""Dropout for recurrent networks (inverted dropout: scale the kept units by 1 / (1 - p) during training, do
nothing at test time).

Zaremba et al. (2014): drop only the non-recurrent connections (the inputs x_t and the outputs h_t on their
way to the output layer), never h_{t-1} -> h_t, so the memory is not erased a little at every step.
Gal and Ghahramani (2016), "variational" dropout: one mask per sequence, the same at every time step.
"""
from collections import namedtuple

import numpy as np

from .._validate import as_float_array, cache_of

DropoutCache = namedtuple("DropoutCache", "scaled_mask shape")


def dropout_forward(x, p, rng=None, train=True, same_mask_over_time=False):
    """Inverted dropout of x (T, B, D) (any shape when same_mask_over_time is False).

    p: the probability of dropping a unit, 0 <= p < 1. rng: a numpy Generator or an int seed (the mask is the
    only randomness). train=False returns x unchanged (and a cache whose backward passes dout through).
    same_mask_over_time=True draws one (B, D) mask per sequence and applies it at every step (variational).
    Returns (out of x's shape, cache); out = x * mask / (1 - p) with mask entries 0 or 1.
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
    """dout (the shape of x) -> dx = dout * mask / (1 - p): the gradient flows only through kept units."""
    scaled_mask, shape = cache_of(cache, DropoutCache, "dropout_forward")
    dout = as_float_array("dout", dout, shape=shape)
    return dout.copy() if scaled_mask is None else dout * scaled_mask
