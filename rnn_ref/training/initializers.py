"""Initialisers for the recurrent weight W_hh against vanishing gradients (chapter 7's product of Jacobians).

orthogonal_init: a random orthogonal matrix times `gain` (Saxe et al., 2014): every singular value equals gain,
so the linear part of one backward step neither shrinks nor stretches any direction.
identity_init: `scale` times the identity (Le et al., 2015, the IRNN): at the start the state copies itself.
Compared in book/07b_initialisation.md; the product of Jacobians they answer is in book/07_limits.md, section
"Gradients through time are products of Jacobians".
"""
import numpy as np

from .._validate import as_float_array, positive


def _size(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
        raise ValueError(f"{name}: expected a positive int, got {v!r}")
    return int(v)


def orthogonal_init(n, m=None, gain=1.0, rng=None):
    """A random matrix with orthonormal rows or columns (whichever are fewer), times gain.

        A = Q R (QR of a Gaussian (max(n, m), min(n, m)) matrix),   Q <- Q diag(sign(diag R)),   W = gain * Q

    The signs of R's diagonal, folded in, make Q uniformly distributed (Haar), as torch.nn.init.orthogonal_
    does. For square W, ||v W|| = gain * ||v|| for every v.

    Inputs:
    - n: int > 0, the number of rows
    - m: int > 0 or None (default n: a square W_hh of shape (H, H))
    - gain: float > 0, every singular value
    - rng: a numpy Generator, an int seed or None

    Returns:
    - W: (n, m) float64

    Derived in book/07b_initialisation.md, section "Three starting points for $W_{hh}$".
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
    """The IRNN's W_hh (Le et al., 2015 use scale 1 with ReLU units): at the start h_t copies h_{t-1}.

        W_hh = scale * I

    Inputs:
    - H: int > 0, the hidden size
    - scale: float > 0

    Returns:
    - W_hh: (H, H) float64

    Derived in book/07b_initialisation.md, section "Three starting points for $W_{hh}$".
    """
    return positive("scale", scale) * np.eye(_size("H", H))


def spectral_radius(W):
    """The largest |eigenvalue| of a square matrix: whether W^k grows or fades as k grows.

        rho(W) = max_i |lambda_i(W)|

    Inputs:
    - W: (H, H) float array

    Returns:
    - float >= 0

    Derived in book/07_limits.md, section "Gradients through time are products of Jacobians"; used in
    book/07b_initialisation.md, section "Three starting points for $W_{hh}$".
    """
    W = as_float_array("W", W, ndim=2)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W: expected a square (H, H) matrix, got shape {W.shape}")
    return float(np.max(np.abs(np.linalg.eigvals(W))))
