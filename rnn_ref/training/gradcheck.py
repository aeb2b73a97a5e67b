"""Numerical gradients by central differences, and the error measures the course uses to compare gradients.

    df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h)      error O(h^2) from truncation, O(eps/h) from round-off

Derived in book/05_bptt.md, section "Checking gradients with central differences".
"""
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
    """The largest elementwise relative error between two arrays of one shape (CS231n's measure).

        rel_error(a, b) = max_i |a_i - b_i| / max(1e-8, |a_i| + |b_i|)

    Inputs:
    - a, b: arrays of the same shape (any), no NaN; an infinity counts as infinitely wrong

    Returns:
    - float in [0, 1] (inf if either holds an infinity): about 1e-8 or less for two correct float64
      computations of the same thing, 0.0 for empty arrays

    Used in book/05_bptt.md, section "The derivation as code".
    """
    a, b = _pair(a, b)
    if a.size == 0:
        return 0.0
    with np.errstate(invalid="ignore"):
        err = np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))
    return float(np.max(np.where(np.isnan(err), np.inf, err)))  # inf - inf: the same infinity is no match


def norm_rel_error(a, b):
    """The normwise relative error: insensitive to near-zero entries, which is why the gradient checks use it
    (the elementwise error of an entry near 0 is dominated by round-off).

        norm_rel_error(a, b) = ||a - b|| / (||a|| + ||b||)      (0.0 when both are zero)

    Inputs:
    - a, b: arrays of the same shape (any), no NaN

    Returns:
    - float in [0, 1], inf if either holds an infinity; below 1e-7 for a right gradient against central differences

    Derived in book/05_bptt.md, section "Checking gradients with central differences".
    """
    a, b = _pair(a, b)
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("inf")
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / denom) if denom > 0 else 0.0


def numerical_gradient(f, x, h=1e-5):
    """The gradient of a scalar function by central differences, one entry of x at a time.

        grad[i] = (f() with x[i] + h  -  f() with x[i] - h) / (2h)

    Inputs:
    - f: a function of no arguments returning a scalar; it reads x, which is perturbed in place and restored
    - x: (any shape) float64 numpy array, finite, non-empty
    - h: float > 0, the step (1e-5 balances truncation, ~h^2, and round-off, ~eps/h, in float64)

    Returns:
    - grad: float64 array of x's shape, df/dx

    Derived in book/05_bptt.md, section "Checking gradients with central differences".
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
    """The vector-Jacobian product of an array-valued function, by central differences: what a backward pass
    returns for the upstream gradient df.

        grad = d/dx sum(df * f())

    Inputs:
    - f: a function of no arguments returning an array; it reads x (perturbed in place and restored)
    - x: (any shape) float64 numpy array
    - df: float array of f()'s shape, the upstream gradient
    - h: float > 0, the step

    Returns:
    - grad: float64 array of x's shape

    The method of book/05_bptt.md, section "Checking gradients with central differences", applied to
    sum(df * f()).
    """
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
    """Compare analytic gradients with central differences, parameter by parameter.

        errors[k] = norm_rel_error(grads[k], numerical_gradient(f, params[k], h))

    Inputs:
    - f: a function of no arguments returning the scalar loss; it reads params (perturbed in place, restored)
    - params: dict name -> float64 array (any shapes), the parameters to check
    - grads: dict with the keys of params, name -> the analytic gradient of that parameter's shape
    - h: float > 0, the step

    Returns a tuple of:
    - worst_name: the key with the largest error
    - worst_error: float, that error
    - errors: dict name -> float, the normwise relative error of every parameter

    Used in book/05_bptt.md, section "Checking gradients with central differences".
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
