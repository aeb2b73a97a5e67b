"""Numerical gradients by central differences, and the error measures the course uses to compare gradients."""
import numpy as np

from .._validate import positive


def _pair(a, b):
    """a and b as float64 arrays of one shape with no NaN (an infinity is allowed: it is infinitely wrong)."""
    out = []
    for name, v in (("a", a), ("b", b)):
        try:
            arr = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: expected a numeric array, got {type(v).__name__}") from None
        if np.isnan(arr).any():
            raise ValueError(f"{name}: contains NaN; expected numbers to compare")
        out.append(arr)
    if out[0].shape != out[1].shape:
        raise ValueError(f"b: expected the shape of a, {out[0].shape}, got {out[1].shape}")
    return out


def rel_error(a, b):
    """Largest elementwise relative error: max |a - b| / max(1e-8, |a| + |b|)."""
    a, b = _pair(a, b)
    if a.size == 0:
        return 0.0
    with np.errstate(invalid="ignore"):
        err = np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))
    return float(np.max(np.where(np.isnan(err), np.inf, err)))  # inf - inf: the same infinity is no match


def norm_rel_error(a, b):
    """Normwise relative error ||a - b|| / max(||a|| + ||b||, 1e-300): insensitive to near-zero entries,
    which is why gradient checks use it (the elementwise error of an entry near 0 is dominated by round-off)."""
    a, b = _pair(a, b)
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("inf")
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / denom) if denom > 0 else 0.0


def numerical_gradient(f, x, h=1e-5):
    """d f / d x by central differences, where f() -> scalar reads x (modified in place, then restored).

    x must be a float64 array; its gradient has x's shape.
    """
    if not callable(f):
        raise ValueError(f"f: expected a function f() -> scalar that reads x, got {type(f).__name__}")
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise ValueError("x: numerical_gradient needs a float64 numpy array (it is perturbed in place), got "
                         + (f"dtype {x.dtype}" if isinstance(x, np.ndarray) else type(x).__name__))
    if x.size == 0:
        raise ValueError(f"x: expected a non-empty array, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("x: contains NaN or infinity; expected finite values")
    h = positive("h", h)
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
    if not callable(f):
        raise ValueError(f"f: expected a function f() -> array that reads x, got {type(f).__name__}")
    df = np.asarray(df)
    if df.dtype.kind != "f" or not np.isfinite(df).all():
        raise ValueError(f"df: expected a finite float array (the upstream gradient), got dtype {df.dtype}")
    shape = np.shape(f())
    if df.shape != shape:
        raise ValueError(f"df: expected the shape of f(), {shape}, got {df.shape}")
    return numerical_gradient(lambda: np.sum(f() * df), x, h)


def grad_check(f, params, grads, h=1e-5):
    """Compare analytic `grads` (dict name -> array) with central differences of the scalar f() for every
    parameter in `params` (dict name -> float64 array, perturbed in place).

    Returns (worst_name, worst_error, errors) with normwise relative errors per parameter.
    """
    if not isinstance(params, dict) or not params:
        raise ValueError("params: expected a non-empty dict mapping names to float64 arrays")
    if not isinstance(grads, dict):
        raise ValueError("grads: expected a dict with the keys of params")
    missing = [k for k in params if k not in grads]
    if missing:
        raise ValueError(f"grads: missing {', '.join(map(str, missing))} (expected the keys of params)")
    for k in params:
        if np.shape(grads[k]) != np.shape(params[k]):
            raise ValueError(f"grads[{k!r}]: expected shape {np.shape(params[k])}, got {np.shape(grads[k])}")
    errors = {}
    for name, p in params.items():
        errors[name] = norm_rel_error(grads[name], numerical_gradient(f, p, h))
    worst = max(errors, key=errors.get)
    return worst, errors[worst], errors
