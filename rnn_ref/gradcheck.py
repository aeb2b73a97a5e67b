"""Numerical gradients by central differences, and the error measures the course uses to compare gradients."""
import numpy as np


def rel_error(a, b):
    """Largest elementwise relative error: max |a - b| / max(1e-8, |a| + |b|)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: shapes differ, {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def norm_rel_error(a, b):
    """Normwise relative error ||a - b|| / max(||a|| + ||b||, 1e-300): insensitive to near-zero entries,
    which is why gradient checks use it (the elementwise error of an entry near 0 is dominated by round-off)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"norm_rel_error: shapes differ, {a.shape} vs {b.shape}")
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / denom) if denom > 0 else 0.0


def numerical_gradient(f, x, h=1e-5):
    """d f / d x by central differences, where f() -> scalar reads x (modified in place, then restored).

    x must be a float64 array; its gradient has x's shape.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise ValueError("numerical_gradient: x must be a float64 numpy array (it is perturbed in place)")
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        fp = float(f())
        x[i] = old - h
        fm = float(f())
        x[i] = old
        grad[i] = (fp - fm) / (2 * h)
    return grad


def numerical_gradient_array(f, x, df, h=1e-5):
    """The vector-Jacobian product sum(df * d f(x) / d x) for an array-valued f, by central differences."""
    return numerical_gradient(lambda: np.sum(f() * df), x, h)


def grad_check(f, params, grads, h=1e-5):
    """Compare analytic `grads` (dict name -> array) with central differences of the scalar f() for every
    parameter in `params` (dict name -> float64 array, perturbed in place).

    Returns (worst_name, worst_error, errors) with normwise relative errors per parameter.
    """
    errors = {}
    for name, p in params.items():
        errors[name] = norm_rel_error(grads[name], numerical_gradient(f, p, h))
    worst = max(errors, key=errors.get)
    return worst, errors[worst], errors
