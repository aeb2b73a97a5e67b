"""Gradient clipping: by value (each entry into [-limit, limit]) and by global norm (rescale all together).

grads is always a dict name -> float array (any shapes), as every loss in rnn_ref returns it.
Derived in book/07_limits.md, section "Two ways to clip a gradient".
"""
import numpy as np

from .._validate import positive


def _check_grads(grads):
    if not isinstance(grads, dict) or not grads:
        raise ValueError("grads: expected a non-empty dict mapping names to gradient arrays")
    for k, g in grads.items():
        a = np.asarray(g)
        if a.dtype.kind != "f":
            raise ValueError(f"grads[{k!r}]: expected a float array, got dtype {a.dtype}")
        if not np.isfinite(a).all():
            raise ValueError(f"grads[{k!r}]: contains NaN or infinity; clipping cannot repair that")


def _norm(grads):
    return float(np.sqrt(sum(float(np.vdot(g, g)) for g in map(np.asarray, grads.values()))))


def clip_by_value(grads, limit):
    """Clip every entry of every gradient into [-limit, limit] (hiyoung123's rule, 2020, with limit 5).

        g_i <- min(max(g_i, -limit), limit)

    Changes the direction of the gradient when some entries are clipped and others are not.

    Inputs:
    - grads: dict name -> finite float array (any shapes); not modified
    - limit: float > 0

    Returns:
    - a new dict with the keys of grads, each array of its gradient's shape

    Derived in book/07_limits.md, section "Two ways to clip a gradient".
    """
    limit = positive("limit", limit)
    _check_grads(grads)
    return {k: np.clip(g, -limit, limit) for k, g in grads.items()}


def global_norm(grads):
    """The norm of all gradients taken together as one long vector.

        ||g|| = sqrt(sum_k sum_i grads[k]_i^2)

    Inputs:
    - grads: dict name -> finite float array (any shapes)

    Returns:
    - float >= 0

    Used in book/07_limits.md, section "Two ways to clip a gradient".
    """
    _check_grads(grads)
    return _norm(grads)


def clip_by_global_norm(grads, max_norm):
    """Rescale all gradients together when their global norm exceeds max_norm: the direction is kept, only the
    step length shrinks.

        g <- g * min(1, max_norm / ||g||)      ||g|| the global norm of all gradients together

    Inputs:
    - grads: dict name -> finite float array (any shapes); not modified
    - max_norm: float > 0

    Returns a tuple of:
    - clipped: a new dict with the keys of grads, each array of its gradient's shape
    - norm: float, the global norm before clipping

    Derived in book/07_limits.md, section "Two ways to clip a gradient".
    """
    max_norm = positive("max_norm", max_norm)
    _check_grads(grads)
    norm = _norm(grads)
    scale = max_norm / norm if norm > max_norm else 1.0
    return {k: np.asarray(g) * scale for k, g in grads.items()}, norm
