"""The cell registry: one record per recurrent cell. Models, checks, PyTorch interop and tests read it, so a new
cell is its own module plus one entry in CELLS.

Every cell module follows one calling convention (shown for the LSTM, whose state is the pair h, c):

    step_forward(x, *state_prev, *params)  -> (*state, cache)        lstm: (h, c, cache)
    step_backward(*dstate, cache)          -> (dx, *dstate_prev, *dparams)
    forward(x, *state0, *params)           -> (h, cache)             h (T, B, H): every hidden state
    backward(dh, cache, *dstate_T)         -> (dx, *dstate0, *dparams)
                                           dstate_T: the gradients of the final states other than h
                                           (lstm_backward's dc_last), zeros when left out

Arrays: x (B, D) for a step and (T, B, D) for a sequence, each state (B, H). Arguments are named after the
state: h_prev, c_prev in a step, h0, c0 for a sequence, dh, dc in step_backward. A sequence cache is a namedtuple
holding every state sequence under the state's name (cache.h, cache.c: (T, B, H)). Parameters have three roles,
in API order: the input weight (D, G*H), the recurrent weight (H, G*H) and one or more biases (G*H,), where G
is the number of gate blocks side by side in the columns. float32 inputs give float32 outputs.
A new cell: see the module of an existing one (rnn_ref/cells/gru_cho.py is the latest) and add its entry below.
"""
from dataclasses import dataclass
import importlib

import numpy as np


@dataclass(frozen=True)
class Cell:
    """One recurrent cell.

    name: the key every model takes (cell="lstm"); its functions are <name>_step_forward, ... in `module`.
    title: its name in prose ("GRU (Cho et al. 2014)").
    params: parameter names in API order (input weight, recurrent weight, biases).
    gates: the gate blocks in column order ("ifgo"); one letter for a cell without gates.
    state: the names of the recurrent state ("h",) or ("h", "c"); only h is an output of forward.
    chapter: the book page that derives it; torch: the torch.nn class that computes the same function, if any.
    forget_gate: the gate whose bias init_params raises by forget_bias (None: no such gate).
    """
    name: str
    title: str
    module: str
    params: tuple
    gates: str
    state: tuple
    chapter: str
    torch: str = None
    forget_gate: str = None

    def _fn(self, suffix):
        return getattr(importlib.import_module(self.module), f"{self.name}_{suffix}")

    # The cell's four functions, looked up by name in its module on each use (the registry imports no cell).
    step_forward = property(lambda self: self._fn("step_forward"),
                            doc="step_forward(x, *state_prev, *params) -> (*state, cache)")
    step_backward = property(lambda self: self._fn("step_backward"),
                             doc="step_backward(*dstate, cache) -> (dx, *dstate_prev, *dparams)")
    forward = property(lambda self: self._fn("forward"), doc="forward(x, *state0, *params) -> (h (T, B, H), cache)")
    backward = property(lambda self: self._fn("backward"), doc="backward(dh, cache) -> (dx, *dstate0, *dparams)")

    @property
    def num_gates(self):
        """G, the number of gate blocks side by side in the weights' columns (1 for the vanilla RNN)."""
        return len(self.gates)

    def param_shapes(self, D, H):
        """{name: shape}: input weight (D, G*H), recurrent weight (H, G*H), biases (G*H,)."""
        G = self.num_gates
        return {k: (D, G * H) if i == 0 else (H, G * H) if i == 1 else (G * H,) for i, k in enumerate(self.params)}

    def init_params(self, D, H, rng, forget_bias=0.0, dtype=np.float64):
        """A dict of parameters drawn from U(-1/sqrt(H), 1/sqrt(H)), PyTorch's default; the forget gate's
        block of the first bias gets forget_bias added (Jozefowicz et al. 2015)."""
        s = 1.0 / np.sqrt(H)
        p = {k: rng.uniform(-s, s, shape).astype(dtype) for k, shape in self.param_shapes(D, H).items()}
        if forget_bias and self.forget_gate is not None:
            j = self.gates.index(self.forget_gate)
            p[self.params[2]][j * H:(j + 1) * H] += forget_bias
        return p

    def zero_state(self, B, H, dtype=np.float64):
        """The initial state of zeros in the form forward takes: h0, or the tuple (h0, c0)."""
        zeros = tuple(np.zeros((B, H), dtype) for _ in self.state)
        return zeros[0] if len(zeros) == 1 else zeros

    def hidden_size(self, params, where="params"):
        """H, read from the recurrent weight (H, G*H), the second parameter."""
        if not isinstance(params, (tuple, list)) or len(params) != len(self.params) or np.ndim(params[1]) != 2:
            raise ValueError(f"{where}: expected the {self.name} parameter tuple ({', '.join(self.params)})")
        return np.shape(params[1])[0]

    def run_forward(self, x, state0, params, names=("state0", "params")):
        """forward with the state as one value (h0, or a tuple for a cell with more state) and the parameters
        as one tuple in API order. names: what to call state0 and params in errors."""
        if not isinstance(params, (tuple, list)) or len(params) != len(self.params):
            raise ValueError(f"{names[1]}: expected the tuple ({', '.join(self.params)}) for cell={self.name!r}")
        if len(self.state) > 1:
            if not isinstance(state0, (tuple, list)) or len(state0) != len(self.state):
                raise ValueError(f"{names[0]}: expected the tuple ({', '.join(s + '0' for s in self.state)}) of "
                                 f"(B, H) arrays for cell={self.name!r}")
            state0 = tuple(state0)
        else:
            state0 = (state0,)
        return self.forward(x, *state0, *params)

    def run_backward(self, dh, cache):
        """backward, grouped like run_forward's inputs: dx, dstate0 (dh0, or a tuple), dparams (a tuple)."""
        g = self.backward(dh, cache)
        k = len(self.state)
        return g[0], (g[1] if k == 1 else tuple(g[1:1 + k])), tuple(g[1 + k:])


CELLS = {c.name: c for c in (
    Cell("rnn", "vanilla RNN", "rnn_ref.cells.rnn", ("U_xh", "W_hh", "b"), "h", ("h",), "03_forward", "RNN"),
    Cell("lstm", "LSTM", "rnn_ref.cells.lstm", ("Wx", "Wh", "b"), "ifgo", ("h", "c"), "11_lstm", "LSTM", "f"),
    Cell("gru", "GRU", "rnn_ref.cells.gru", ("Wx", "Wh", "bx", "bh"), "rzn", ("h",), "12_gru", "GRU"),
    Cell("gru_cho", "GRU (Cho et al. 2014)", "rnn_ref.cells.gru_cho", ("Wx", "Wh", "bx", "bh"), "rzn", ("h",),
         "12_gru", None),
)}


def get_cell(cell):
    """The registered Cell of that name (a Cell is returned as it is), or a ValueError listing the registered names.

        >>> get_cell("lstm").param_shapes(D=3, H=2)
        {'Wx': (3, 8), 'Wh': (2, 8), 'b': (8,)}
    """
    if isinstance(cell, Cell):
        return cell
    if not isinstance(cell, str) or cell not in CELLS:
        raise ValueError(f"cell: expected one of {', '.join(map(repr, CELLS))}, got {cell!r}")
    return CELLS[cell]
