"""Gradient clipping: by value (each entry into [-limit, limit]) and by global norm (rescale all together)."""
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
    """A new dict with every entry clipped to [-limit, limit] (hiyoung123's rule, 2020, with limit 5).

    Changes the direction of the gradient when some entries are clipped and others are not."""
    limit = positive("limit", limit)
    _check_grads(grads)
    return {k: np.clip(g, -limit, limit) for k, g in grads.items()}


def global_norm(grads):
    """sqrt of the sum of squares of every entry of every gradient."""
    _check_grads(grads)
    return _norm(grads)


def clip_by_global_norm(grads, max_norm):
    """(new dict, norm before clipping). If the global norm exceeds max_norm every gradient is scaled by
    max_norm / norm: the direction is kept, only the step length shrinks."""
    max_norm = positive("max_norm", max_norm)
    _check_grads(grads)
    norm = _norm(grads)
    scale = max_norm / norm if norm > max_norm else 1.0
    return {k: np.asarray(g) * scale for k, g in grads.items()}, norm
