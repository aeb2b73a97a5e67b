"""What the test modules share: parameter builders that read the cell registry, the gradient checks by central
differences and the comparison with PyTorch, with one error measure and one pair of tolerances.

Criterion: the normwise relative error ||analytic - numeric|| / (||analytic|| + ||numeric||) (rnn_ref.norm_rel_error):
below GRAD_TOL against central differences in float64 (a right gradient lands near 1e-10, a gradient with a term
dropped at 1e-3 or more: see test_core_gradients.py), below TORCH_TOL against PyTorch autograd on the same float64
weights. Elementwise errors are not used: an entry near 0 has a relative error set by round-off, not correctness.
"""
import numpy as np

import rnn_ref as R
from rnn_ref.cells import CELLS, get_cell

GRAD_TOL, TORCH_TOL = 1e-7, 1e-10
CELL_NAMES = list(CELLS)                                    # every registered cell: a new one is tested at once
TORCH_CELLS = [name for name, c in CELLS.items() if c.torch]  # those with a torch.nn module computing the same


def error(ours, theirs):
    """The suite's error measure: normwise relative error (rnn_ref.norm_rel_error)."""
    return R.norm_rel_error(ours, theirs)


def cell_params(cell, D, H, rng, scale=0.5):
    """The cell's parameters {name: array} in API order (Cell.params), shapes from Cell.param_shapes(D, H), drawn
    from a standard normal times scale (larger than init_params' draws: a more demanding check)."""
    return {k: rng.standard_normal(shape) * scale for k, shape in get_cell(cell).param_shapes(D, H).items()}


def cell_weights(cell, D, H, rng, scale=0.5):
    """The same draws as cell_params, as the tuple (Wx, Wh, b, ...) that the cells' functions and the composite
    models (bidirectional, stacked, torch_io) take."""
    return tuple(cell_params(cell, D, H, rng, scale).values())


def cell_state(cell, B, H, rng, scale=1.0):
    """A random initial state in the form the cell's forward takes: h0 (B, H), or a tuple (h0, c0, ...)."""
    parts = tuple(rng.standard_normal((B, H)) * scale for _ in get_cell(cell).state)
    return parts if len(parts) > 1 else parts[0]


def state_parts(cell, state):
    """A state (or its gradient) as a tuple of (B, H) arrays, whatever the cell's state arity."""
    return tuple(state) if len(get_cell(cell).state) > 1 else (state,)


def check_gradients(f, inputs, grads, what, tol=GRAD_TOL):
    """Every float64 array in `inputs` (name -> array read by the scalar function f()) against its analytic
    gradient grads[name], by central differences (rnn_ref.numerical_gradient)."""
    for name, x in inputs.items():
        assert np.shape(grads[name]) == x.shape, f"{what} d{name}: shape {np.shape(grads[name])}, expected {x.shape}"
        err = error(grads[name], R.numerical_gradient(f, x))
        print(f"GRADCHECK {what} d{name} {err:.3e}")
        assert err < tol, f"{what} d{name}: normwise relative error {err:.3e} vs central differences"


def check_backward(f, dout, inputs, grads, what, tol=GRAD_TOL):
    """A backward pass: f() -> array reads every array in `inputs`; grads[name] must be the vector-Jacobian
    product sum(dout * df/dinputs[name]), checked by central differences (rnn_ref.numerical_gradient_array)."""
    for name, x in inputs.items():
        assert np.shape(grads[name]) == x.shape, f"{what} d{name}: shape {np.shape(grads[name])}, expected {x.shape}"
        err = error(grads[name], R.numerical_gradient_array(f, x, dout))
        print(f"GRADCHECK {what} d{name} {err:.3e}")
        assert err < tol, f"{what} d{name}: normwise relative error {err:.3e} vs central differences"


def named(prefix, arrays):
    """{prefix + i: array} for a tuple of arrays: a state tuple, a parameter tuple, as inputs to the checks."""
    return {f"{prefix}{i}": a for i, a in enumerate(arrays)}


def agree(name, ours, theirs, tol=TORCH_TOL):
    """Our array against PyTorch's (a tensor, detached here, or an array), by the suite's error measure."""
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert np.shape(ours) == theirs.shape, f"{name}: shape {np.shape(ours)} vs torch {theirs.shape}"
    err = error(ours, theirs)
    print(f"ORACLE {name} {err:.3e}")
    assert err < tol, f"{name}: normwise relative error {err:.3e} vs PyTorch"


def tt(a):
    """A float64 torch leaf tensor that collects its gradient."""
    import torch
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=True)


def torch_module_with(cell, layers, reverse=None):
    """The torch.nn module of a registered cell (Cell.torch) holding our parameter tuples, one per layer (and,
    if given, the reverse direction's: a bidirectional module): weight_ih = params[0].T, weight_hh = params[1].T,
    bias_ih = params[2], bias_hh = params[3] or zero (the registry's cells use PyTorch's gate order, so the
    layouts agree)."""
    import torch
    c = get_cell(cell)
    D, H = np.shape(layers[0][0])[0], np.shape(layers[0][1])[0]
    module = getattr(torch.nn, c.torch)(D, H, num_layers=len(layers), bidirectional=reverse is not None).double()
    directions = [("", layers)] + ([("_reverse", reverse)] if reverse is not None else [])
    with torch.no_grad():
        for suffix, params_per_layer in directions:
            for l, params in enumerate(params_per_layer):
                bias_hh = params[3] if len(params) > 3 else np.zeros_like(params[2])
                for name, value in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"),
                                       (params[0].T, params[1].T, params[2], bias_hh)):
                    getattr(module, f"{name}_l{l}{suffix}").copy_(torch.from_numpy(np.ascontiguousarray(value)))
    return module


def torch_state(cell, state):
    """Our initial state (h0, or a tuple like (h0, c0), each (B, H)) as torch's: (1, B, H) leaf tensors, a
    tuple for a cell with more state. Returns (torch's state, the list of its leaves)."""
    leaves = [tt(a[None]) for a in state_parts(cell, state)]
    return (tuple(leaves) if len(leaves) > 1 else leaves[0]), leaves
