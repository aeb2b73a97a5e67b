"""Initialisers for the recurrent weight W_hh against vanishing gradients (chapter 7's product of Jacobians).

orthogonal_init: a random orthogonal matrix times `gain` (Saxe et al., 2014): every singular value equals gain,
so the linear part of one backward step neither shrinks nor stretches any direction.
identity_init: `scale` times the identity (Le et al., 2015, the IRNN): at the start the state copies itself.
"""
import numpy as np

from .._validate import as_float_array, positive


def _size(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
        raise ValueError(f"{name}: expected a positive int, got {v!r}")
    return int(v)


def orthogonal_init(n, m=None, gain=1.0, rng=None):
    """A random (n, m) matrix with orthonormal rows or columns (whichever are fewer), times gain.

    m defaults to n (a square W_hh of shape (H, H)). Drawn as the Q of the QR decomposition of a Gaussian
    matrix with the signs of R's diagonal folded in, which makes Q uniformly distributed (Haar), as
    torch.nn.init.orthogonal_ does. rng: a numpy Generator or an int seed. Returns float64 (n, m).
    """
    n = _size("n", n)
    m = n if m is None else _size("m", m)
    gain = positive("gain", gain)
    rng = np.random.default_rng(rng)
    a = rng.standard_normal((max(n, m), min(n, m)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))            # a sign per column: without it Q is not uniformly distributed
    return gain * (q if n >= m else q.T)


def identity_init(H, scale=1.0):
    """scale * I of shape (H, H), float64: the IRNN's W_hh (Le et al., 2015 use scale 1 with ReLU units)."""
    return positive("scale", scale) * np.eye(_size("H", H))


def spectral_radius(W):
    """The largest |eigenvalue| of a square matrix W (H, H)."""
    W = as_float_array("W", W, ndim=2)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W: expected a square (H, H) matrix, got shape {W.shape}")
    return float(np.max(np.abs(np.linalg.eigvals(W))))
