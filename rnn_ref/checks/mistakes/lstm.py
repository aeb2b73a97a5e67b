"""The LSTM's mistakes."""
from itertools import permutations

import numpy as np

from .. import engine as ck
from ...numerics import sigmoid
from .messages import modes, order_of

I = ck.IGNORE

def _lstm_step(x, hp, cp, Wx, Wh, b, m=None, perm=(0, 1, 2, 3)):
    """One LSTM step with the gate blocks read in the order perm (perm[k]: the block holding gate k of i,f,g,o)."""
    H = hp.shape[1]
    a = x @ Wx + hp @ Wh + b
    blk = [a[:, j * H:(j + 1) * H] for j in perm]
    i, f, o = sigmoid(blk[0]), sigmoid(blk[1]), sigmoid(blk[3])
    g = sigmoid(blk[2]) if m == "g_sigmoid" else np.tanh(blk[2])
    c = {"no_i": f * cp + g, "no_f": cp + i * g}.get(m, f * cp + i * g)
    h = o * c if m == "no_tanh_c" else o * np.tanh(c)
    return h, c, (i, f, g, o, np.tanh(c))


def _lstm_step_back(dh, dc, x, hp, cp, Wx, Wh, b, m=None, perm=(0, 1, 2, 3)):
    H = hp.shape[1]
    _, _, (i, f, g, o, tc) = _lstm_step(x, hp, cp, Wx, Wh, b)
    dct = dc + dh * o * ((1 - tc * tc) if m != "no_tanh_c" else 1.0)
    if m == "no_dc_in":
        dct = dh * o * (1 - tc * tc)
    if m == "no_dh_in_dc":
        dct = dc
    blocks = [dct * g * i * (1 - i), dct * cp * f * (1 - f), dct * i * (1 - g * g), dh * tc * o * (1 - o)]
    if m == "tanh_c_in_f":
        blocks[1] = dct * tc * f * (1 - f)
    if m == "dc_in_o":
        blocks[3] = dc * tc * o * (1 - o)
    if m == "dct_in_o":
        blocks[3] = dct * tc * o * (1 - o)
    if m == "g_sigmoid_grad":
        blocks[2] = dct * i * g * (1 - g)
    da = np.zeros((hp.shape[0], 4 * H))
    for k, j in enumerate(perm):
        da[:, j * H:(j + 1) * H] = blocks[k]
    dcp = dc * f if m == "dcprev_no_dh" else dct if m == "dcprev_no_f" else dct * f
    db = da.mean(0) if m == "db_mean" else da.sum(0)
    return da @ Wx.T, da @ Wh.T, dcp, x.T @ da, hp.T @ da, db


def _fwd(m):
    return lambda *a: _lstm_step(*a, m=m)[:2]


def _bwd(m=None, perm=(0, 1, 2, 3)):
    return lambda *a: _lstm_step_back(*a, m=m, perm=perm)


STEP_FORWARD = [
    ("c_tanh", lambda *a: (lambda h, c: (h, np.tanh(c)))(*_lstm_step(*a)[:2]),
     "you returned tanh(c) as the cell state; c = f * c_prev + i * g has no tanh (the tanh is only applied for "
     "h = o * tanh(c))."),
    ("no_tanh_c", _fwd("no_tanh_c"), "h = o * tanh(c): the tanh of the cell state is missing."),
    ("no_i", _fwd("no_i"), "the input gate is missing: c = f * c_prev + i * g."),
    ("no_f", _fwd("no_f"), "the forget gate is missing: c = f * c_prev + i * g."),
    ("g_sigmoid", _fwd("g_sigmoid"), "the candidate g uses tanh (values in [-1, 1]), not the sigmoid."),
]

_DC_TOTAL = "dc_total = dc + dh * o * (1 - tanh(c)**2)"
STEP_BACKWARD = modes(_bwd, {
    "no_dh_in_dc": "the gradient through h never reaches c: h = o * tanh(c), so the cell state's total gradient is "
                   f"{_DC_TOTAL}; you used dc alone (in the i, f, g terms and in dc_prev = f * dc_total).",
    "tanh_c_in_f": "the forget gate's term uses tanh(c); c = f * c_prev + i * g, so it is da_f = dc_total * c_prev "
                   "* f * (1 - f) (c_prev, the previous cell state).",
    "dc_in_o": "the output gate's term uses dc; h = o * tanh(c), so the output gate sees only dh: da_o = dh * "
               "tanh(c) * o * (1 - o).",
    "dct_in_o": "the output gate's term uses dc_total; h = o * tanh(c), so the output gate sees only dh: da_o = dh "
                "* tanh(c) * o * (1 - o).",
    "g_sigmoid_grad": "the candidate g is a tanh, so its derivative is 1 - g**2, not g * (1 - g): da_g = dc_total *"
                      " i * (1 - g**2).",
    "dcprev_no_f": "dc_prev is missing the forget gate: c = f * c_prev + i * g, so dc_prev = f * dc_total.",
    "dcprev_no_dh": f"dc_prev is only f * dc: the gradient through h reaches c too. With {_DC_TOTAL}, "
                    "dc_prev = f * dc_total (and every gate's gradient uses dc_total).",
    "no_tanh_c": "the derivative of tanh(c) is missing: dh reaches c as dh * o * (1 - tanh(c)**2).",
}) + [(f"bwd_perm{''.join(map(str, p))}", _bwd(perm=p),
      "your backward writes the gate gradients in the order {o}; they must sit where the forward read the gates: "
      "i, f, g, o.".format(o=", ".join(order_of("ifgo", p)))) for p in permutations(range(4)) if p != (0, 1, 2, 3)]
# a step mistake that is, over a sequence, the time loop's "no gradient through c" (sequence.py says it)
STEP_ONLY = [
    ("no_dc_in", _bwd("no_dc_in"), "the incoming dc (the gradient of the cell state from the next step) is "
                                   f"dropped: add it, {_DC_TOTAL}."),
]
FORWARD = [
    ("return_c", lambda c: (_lstm_seq(*c.values())[1], I),
     "you returned the cell states c; lstm_forward returns the hidden states h (h_t = o_t * tanh(c_t))."),
]


def _lstm_seq(x, h0, c0, Wx, Wh, b):
    h, c = np.zeros((x.shape[0],) + h0.shape), np.zeros((x.shape[0],) + h0.shape)
    hp, cp = h0, c0
    for t in range(x.shape[0]):
        h[t], c[t], _ = _lstm_step(x[t], hp, cp, Wx, Wh, b)
        hp, cp = h[t], c[t]
    return h, c

# which block of the bias gradient says which gate's term is wrong (checks/cells.py words it)
GATE_TERMS = dict(terms={"i": "da_i = dc_total * g * i * (1 - i)", "f": "da_f = dc_total * c_prev * f * (1 - f)",
                         "g": "da_g = dc_total * i * (1 - g**2)", "o": "da_o = dh * tanh(c) * o * (1 - o)"},
                  shared=("ifg", "dc_total = dc + dh * o * (1 - tanh(c)**2)"), together=True, direct="")
