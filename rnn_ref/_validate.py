"""Argument checks shared by every public function: one clear ValueError at the boundary, never inside a loop."""
import numpy as np


def as_float_array(name, a, ndim=None, shape=None, finite=True):
    """Return `a` as a float32/float64 array, or raise a ValueError naming `name` and what was expected.

    `shape` is a tuple whose entries are ints (must match) or None (any size, but not zero).
    """
    if isinstance(a, np.ndarray):
        arr = a
    else:
        try:
            arr = np.asarray(a)
        except Exception as e:  # ragged lists and the like
            raise ValueError(f"{name}: expected a numeric array, got {type(a).__name__} ({e})") from None
    if arr.dtype.kind not in "f" or arr.dtype == np.float16:
        if arr.dtype.kind in "iub":
            raise ValueError(f"{name}: expected a float32 or float64 array, got dtype {arr.dtype} "
                             f"(convert with .astype(np.float64))")
        raise ValueError(f"{name}: expected a float32 or float64 array, got dtype {arr.dtype}")
    want = shape if shape is not None else ndim
    if want is not None:
        nd = len(shape) if shape is not None else ndim
        if arr.ndim != nd:
            raise ValueError(f"{name}: expected a {nd}-D array{_fmt(shape)}, got shape {arr.shape}")
    if shape is not None:
        for got, exp in zip(arr.shape, shape):
            if (exp is not None and got != exp) or got == 0:
                raise ValueError(f"{name}: expected shape {_fmt(shape, bare=True)}, got {arr.shape}")
    elif arr.size == 0:
        raise ValueError(f"{name}: expected a non-empty array, got shape {arr.shape}")
    if finite and not _all_finite(arr):
        raise ValueError(f"{name}: contains NaN or infinity; expected finite values")
    return arr


def _all_finite(arr):
    """True when no entry is NaN or infinite. A finite sum proves it in one pass without a temporary array
    (NaN and inf propagate through a sum); only a non-finite sum, maybe an overflow, needs the entrywise test."""
    return bool(np.isfinite(np.add.reduce(arr, axis=None))) or bool(np.isfinite(arr).all())


def as_targets(name, y, shape, num_classes):
    """Integer class labels of the given shape with values in [0, num_classes)."""
    arr = np.asarray(y)
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and arr.size and np.isfinite(arr).all() and np.all(arr == np.round(arr)):
            raise ValueError(f"{name}: expected integer class labels, got dtype {arr.dtype} "
                             f"(convert with .astype(int))")
        raise ValueError(f"{name}: expected integer class labels, got dtype {arr.dtype}")
    if arr.shape != tuple(shape):
        raise ValueError(f"{name}: expected shape {tuple(shape)}, got {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
        raise ValueError(f"{name}: labels must lie in [0, {num_classes}), got range "
                         f"[{arr.min()}, {arr.max()}]")
    return arr


def _finite_number(name, value, ok, expected):
    """float(value) when it is a finite real number with ok(v) true; else a ValueError saying `expected`."""
    if _is_real(value):
        v = float(value)
        if np.isfinite(v) and ok(v):
            return v
    raise ValueError(f"{name}: expected {expected}, got {value!r}")


def positive(name, value):
    """A finite number > 0 (clip thresholds, learning rates, temperatures)."""
    return _finite_number(name, value, lambda v: v > 0, "a positive finite number")


def nonnegative(name, value):
    """A finite real number >= 0 (a loss per token, for instance)."""
    return _finite_number(name, value, lambda v: v >= 0, "a finite number >= 0")

def check_params(params, names):
    """The parameter dict has every name, float arrays, finite values."""
    if not isinstance(params, dict):
        raise ValueError(f"params: expected a dict with keys {', '.join(names)}, got {type(params).__name__}")
    missing = [k for k in names if k not in params]
    if missing:
        raise ValueError(f"params: missing {', '.join(missing)} (expected keys {', '.join(names)})")
    return {k: as_float_array(f"params[{k!r}]", params[k]) for k in names}


def cell_params(params, gates, D):
    """A cell's parameters {name: array} in API order, checked: the recurrent weight (H, G*H) first, since it
    alone fixes H, then the input weight (D, G*H) and the biases (G*H,) against it, so that each error names
    the argument that is actually wrong. G = len(gates): the gate blocks side by side in the columns.
    Returns (the arrays in API order, H)."""
    (wx_name, Wx), (wh_name, Wh), *biases = params.items()
    G = len(gates)
    Wh = as_float_array(wh_name, Wh, ndim=2)
    H = Wh.shape[0]
    if Wh.shape[1] != G * H:
        layout = f"(H, {G}H) with the gates {', '.join(gates)} side by side" if G > 1 else "(H, H)"
        raise ValueError(f"{wh_name}: expected shape {layout}, got {Wh.shape}")
    Wx = as_float_array(wx_name, Wx, shape=(D, G * H))
    biases = [as_float_array(name, b, shape=(G * H,)) for name, b in biases]
    return [Wx, Wh, *biases], H


def cell_arrays(x, states, params, gates, ndim):
    """The arguments of a cell's forward function, checked and brought to their common dtype (float32 stays
    float32): x (B, D) for a step (ndim=2) or (T, B, D) for a sequence (ndim=3), states {name: (B, H)} and
    params {name: array} as cell_params takes them. Returns (x, *states, *params) as arrays."""
    x = as_float_array("x", x, ndim=ndim)
    B, D = x.shape[-2:]
    params, H = cell_params(params, gates, D)
    states = [as_float_array(name, s, shape=(B, H)) for name, s in states.items()]
    arrays = (x, *states, *params)
    dt = np.result_type(*arrays)
    return tuple(a.astype(dt, copy=False) for a in arrays)


def cache_of(cache, cls, producer):
    """The cache must be what `producer` returned (a backward pass cannot work from anything else)."""
    if not isinstance(cache, cls):
        raise ValueError(f"cache: expected the cache returned by {producer}, got {type(cache).__name__}")
    return cache


def _is_real(value):
    """A Python or numpy real number, or a 0-d real array; not a string, a bool, None or a sequence."""
    if isinstance(value, (bool, np.bool_, str, bytes)) or value is None:
        return False
    return np.ndim(value) == 0 and np.asarray(value).dtype.kind in "iuf"


def _fmt(shape, bare=False):
    if shape is None:
        return ""
    s = "(" + ", ".join("?" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    return s if bare else f" of shape {s}"
