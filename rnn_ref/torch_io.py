"""Copy weights between rnn_ref and PyTorch's torch.nn.RNN / LSTM / GRU (and RNNCell / LSTMCell / GRUCell).

PyTorch stores each matrix transposed with respect to ours (it multiplies W @ x, we multiply x @ W):
  ours                       PyTorch (layer l, suffix "_reverse" for the backward direction)
  U_xh, Wx   (D, nH)   <->   weight_ih_l{l}   (nH, D)          n = 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n)
  W_hh, Wh   (H, nH)   <->   weight_hh_l{l}   (nH, H)
  b          (nH,)     <->   bias_ih_l{l} + bias_hh_l{l}     RNN and LSTM: the two biases only ever appear summed
  bx, bh     (3H,)     <->   bias_ih_l{l}, bias_hh_l{l}      GRU: b_hn sits inside r * (h @ W_hn + b_hn), so both stay

Exporting an RNN or LSTM puts the whole bias in bias_ih and zeros in bias_hh. The module keeps its own dtype
(call .double() on it first to compare in float64); importing returns numpy arrays of the module's dtype.
torch is imported only inside these functions: rnn_ref itself never needs it. The cells that a torch.nn class
computes are those with Cell.torch set in the registry rnn_ref.cells.CELLS, which also gives their gate counts,
parameter names and shapes (Cho's GRU, cell "gru_cho", has no torch.nn counterpart).
"""
import numpy as np

from ._validate import as_float_array
from .cells.registry import CELLS


def _torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a test requirement, students do not have it
        raise ImportError("rnn_ref.torch_io needs PyTorch (pip install -r requirements-dev.txt)") from None
    return torch


def _names(module, kind, layer, reverse):
    """The module's parameter names for one layer and direction, after checking the module is the right kind."""
    nn = _torch().nn
    full = getattr(nn, CELLS[kind].torch)                 # nn.LSTM for "lstm"
    cell = getattr(nn, CELLS[kind].torch + "Cell")        # nn.LSTMCell
    if isinstance(module, cell):
        if layer != 0 or reverse:
            raise ValueError(f"layer, reverse: a {type(module).__name__} has one layer and one direction "
                             f"(got layer={layer}, reverse={reverse})")
        suffix = ""
    elif isinstance(module, full):
        if not 0 <= int(layer) < module.num_layers:
            raise ValueError(f"layer: expected 0 <= layer < {module.num_layers}, got {layer}")
        if reverse and not module.bidirectional:
            raise ValueError("reverse: the module is not bidirectional, it has no reverse direction")
        if getattr(module, "proj_size", 0):
            raise ValueError("module: LSTMs with proj_size > 0 have no counterpart in rnn_ref")
        suffix = f"_l{int(layer)}" + ("_reverse" if reverse else "")
    else:
        raise ValueError(f"module: expected a torch.nn.{full.__name__} or torch.nn.{cell.__name__}, "
                         f"got {type(module).__name__}")
    if kind == "rnn" and module.nonlinearity != "tanh":
        raise ValueError(f"module: rnn_ref's RNN uses tanh, the module uses {module.nonlinearity!r}")
    return tuple(name + suffix for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))


def _sizes(module, names):
    w_ih = getattr(module, names[0])
    return w_ih.shape[1], module.hidden_size  # D, H


def _set(module, name, value):
    torch = _torch()
    p = getattr(module, name)
    with torch.no_grad():
        p.copy_(torch.from_numpy(np.ascontiguousarray(value)).to(dtype=p.dtype, device=p.device))


def _get(module, name):
    p = getattr(module, name, None)
    return None if p is None else p.detach().cpu().numpy().copy()


def _export(module, kind, params, layer, reverse):
    """Copy a registered cell's parameters (a tuple in API order) into the module. One bias b goes to bias_ih
    (bias_hh is zeroed); two biases go to bias_ih and bias_hh."""
    names = _names(module, kind, layer, reverse)
    D, H = _sizes(module, names)
    c = CELLS[kind]
    arrays = [as_float_array(name, p, shape=shape) for (name, shape), p in zip(c.param_shapes(D, H).items(), params)]
    W_x, W_h, b_ih, *b_hh = arrays
    b_hh = b_hh[0] if b_hh else np.zeros_like(b_ih)
    _set(module, names[0], W_x.T)
    _set(module, names[1], W_h.T)
    if getattr(module, names[2], None) is None:  # bias=False
        if np.any(b_ih != 0) or np.any(b_hh != 0):
            raise ValueError(f"{c.params[2]}: the module has bias=False, so the biases must be zero")
        return module
    _set(module, names[2], b_ih)
    _set(module, names[3], b_hh)
    return module


def _import(module, kind, layer, reverse):
    """The cell's parameters from the module, a tuple in API order: with one bias, b = bias_ih + bias_hh."""
    names = _names(module, kind, layer, reverse)
    W_x, W_h, b_ih, b_hh = (_get(module, name) for name in names)
    if b_ih is None:  # bias=False
        b_ih = b_hh = np.zeros(W_x.shape[0], dtype=W_x.dtype)
    biases = (b_ih + b_hh,) if len(CELLS[kind].params) == 3 else (b_ih, b_hh)
    return (W_x.T.copy(), W_h.T.copy(), *biases)


def to_torch_rnn(module, U_xh, W_hh, b, layer=0, reverse=False):
    """Copy a vanilla RNN's weights into a torch.nn.RNN or RNNCell, which must use tanh.

    Inputs:
    - module: torch.nn.RNN (nonlinearity="tanh") or torch.nn.RNNCell, input size D, hidden size H
    - U_xh: (D, H), W_hh: (H, H): written transposed to weight_ih and weight_hh
    - b: (H,): written to bias_ih; bias_hh is zeroed, since the two only ever appear summed
    - layer, reverse: the layer and the direction to write (reverse: the backward one of a bidirectional RNN)

    Returns: the module, changed in place. The layout (rows as examples, so ours is PyTorch's transposed) is
    that of book/03_forward.md, section "One step of the recurrence".
    """
    return _export(module, "rnn", (U_xh, W_hh, b), layer, reverse)


def from_torch_rnn(module, layer=0, reverse=False):
    """The vanilla RNN's weights of a tanh torch.nn.RNN or RNNCell, as numpy arrays of the module's dtype.

    Inputs: module, layer, reverse, as in to_torch_rnn.
    Returns (U_xh (D, H), W_hh (H, H), b (H,)), with b = bias_ih + bias_hh (zeros for bias=False).
    The mapping: book/11_lstm.md, section "From PyTorch's form to the textbook's".
    """
    return _import(module, "rnn", layer, reverse)


def to_torch_lstm(module, Wx, Wh, b, layer=0, reverse=False):
    """Copy an LSTM's weights into a torch.nn.LSTM or LSTMCell, gates in the order i, f, g, o.

        Wx (D, 4H) = [Wx_i | Wx_f | Wx_g | Wx_o]  ->  weight_ih = Wx.T, PyTorch's W_ii|W_if|W_ig|W_io stacked in rows
        Wh (H, 4H) = [Wh_i | Wh_f | Wh_g | Wh_o]  ->  weight_hh = Wh.T, PyTorch's W_hi|W_hf|W_hg|W_ho
        b (4H,)                                   ->  bias_ih = b, bias_hh = 0 (the two only ever appear summed)

    Inputs: module (torch.nn.LSTM or torch.nn.LSTMCell, input size D, hidden size H), the arrays above, and
    layer, reverse as in to_torch_rnn. Returns: the module, changed in place.
    Explained in book/11_lstm.md, section "From PyTorch's form to the textbook's".
    """
    return _export(module, "lstm", (Wx, Wh, b), layer, reverse)


def from_torch_lstm(module, layer=0, reverse=False):
    """The LSTM weights of a torch.nn.LSTM or LSTMCell, as numpy arrays of the module's dtype.

    Inputs: module, layer, reverse, as in to_torch_rnn.
    Returns (Wx (D, 4H), Wh (H, 4H), b (4H,)), gates i, f, g, o, with b = bias_ih + bias_hh.
    The mapping: book/11_lstm.md, section "From PyTorch's form to the textbook's".
    """
    return _import(module, "lstm", layer, reverse)


def to_torch_gru(module, Wx, Wh, bx, bh, layer=0, reverse=False):
    """Copy a GRU's weights into a torch.nn.GRU or GRUCell, gates in the order r, z, n. Both biases are kept:
    b_hn sits inside the reset product r * (h @ W_hn + b_hn), so it cannot be merged with b_in.

        Wx (D, 3H) = [Wx_r | Wx_z | Wx_n]  ->  weight_ih = Wx.T, PyTorch's W_ir|W_iz|W_in stacked in rows
        Wh (H, 3H) = [Wh_r | Wh_z | Wh_n]  ->  weight_hh = Wh.T, PyTorch's W_hr|W_hz|W_hn
        bx, bh (3H,)                       ->  bias_ih = bx, bias_hh = bh

    Inputs: module (torch.nn.GRU or torch.nn.GRUCell, input size D, hidden size H), the arrays above, and
    layer, reverse as in to_torch_rnn. Returns: the module, changed in place.
    PyTorch's GRU is the form of book/12_gru.md, section "The gates"; Cho et al.'s (cell "gru_cho") has no
    torch.nn class.
    """
    return _export(module, "gru", (Wx, Wh, bx, bh), layer, reverse)


def from_torch_gru(module, layer=0, reverse=False):
    """The GRU weights of a torch.nn.GRU or GRUCell, as numpy arrays of the module's dtype.

    Inputs: module, layer, reverse, as in to_torch_rnn.
    Returns (Wx (D, 3H), Wh (H, 3H), bx (3H,), bh (3H,)), gates r, z, n: bx = bias_ih, bh = bias_hh.
    The mapping: book/11_lstm.md, section "From PyTorch's form to the textbook's".
    """
    return _import(module, "gru", layer, reverse)
