"""The LSTM's mistakes."""
from itertools import permutations

import numpy as np

from .. import engine as ck
from ...numerics import sigmoid
from .messages import STEP_FIRST, _SEQ_LOOP_MSGS, _TIME_ORDER_MSGS, _time_order

I = ck.IGNORE

_ORDER = "ifgo"


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


def _perm_name(perm):
    s = ["?"] * 4
    for k, j in enumerate(perm):
        s[j] = _ORDER[k]
    return ", ".join(s)


_PERMS4 = [p for p in permutations(range(4)) if p != (0, 1, 2, 3)]
_GATE_TEXT = ("your gates are in the order {order}{cs}; this course follows PyTorch: i, f, g, o, i.e. columns "
              "[0:H] input, [H:2H] forget, [2H:3H] candidate g (tanh), [3H:4H] output.")


class _GateMsg:
    @staticmethod
    def format(order):
        return _GATE_TEXT.format(order=order, cs=" (CS231n's order)" if order == "i, f, o, g" else "")


_GATE_MSG = _GateMsg()

LSTM_STEP_FORWARD = [
    ("c_tanh", lambda c: (_lstm_step(*c.values())[0], np.tanh(_lstm_step(*c.values())[1]), I),
     "you returned tanh(c) as the cell state; c = f * c_prev + i * g has no tanh (the tanh is only applied for "
     "h = o * tanh(c))."),
    ("no_tanh_c", lambda c: _lstm_step(*c.values(), m="no_tanh_c")[:2] + (I,),
     "h = o * tanh(c): the tanh of the cell state is missing."),
    ("no_i", lambda c: _lstm_step(*c.values(), m="no_i")[:2] + (I,),
     "the input gate is missing: c = f * c_prev + i * g."),
    ("no_f", lambda c: _lstm_step(*c.values(), m="no_f")[:2] + (I,),
     "the forget gate is missing: c = f * c_prev + i * g."),
    ("g_sigmoid", lambda c: _lstm_step(*c.values(), m="g_sigmoid")[:2] + (I,),
     "the candidate g uses tanh (values in [-1, 1]), not the sigmoid."),
] + [(f"perm{p}", (lambda p: lambda c: _lstm_step(*c.values(), perm=p)[:2] + (I,))(p),
      _GATE_MSG.format(order=_perm_name(p))) for p in _PERMS4]

_LSTM_STEP_MSGS = [
    ("no_dh_in_dc", "the gradient through h never reaches c: h = o * tanh(c), so the cell state's total "
                    "gradient is dc_total = dc + dh * o * (1 - tanh(c)**2); you used dc alone (in the i, f, g "
                    "terms and in dc_prev = f * dc_total)."),
    ("tanh_c_in_f", "the forget gate's term uses tanh(c); c = f * c_prev + i * g, so it is "
                    "da_f = dc_total * c_prev * f * (1 - f) (c_prev, the previous cell state)."),
    ("dc_in_o", "the output gate's term uses dc; h = o * tanh(c), so the output gate sees only dh: "
                "da_o = dh * tanh(c) * o * (1 - o)."),
    ("dct_in_o", "the output gate's term uses dc_total; h = o * tanh(c), so the output gate sees only dh: "
                 "da_o = dh * tanh(c) * o * (1 - o)."),
    ("g_sigmoid_grad", "the candidate g is a tanh, so its derivative is 1 - g**2, not g * (1 - g): "
                       "da_g = dc_total * i * (1 - g**2)."),
    ("dcprev_no_f", "dc_prev is missing the forget gate: c = f * c_prev + i * g, so dc_prev = f * dc_total."),
]

LSTM_STEP_BACKWARD = [
    (m, (lambda m: lambda c: _lstm_step_back(c.arg("dh"), c.arg("dc"), *c.values(), m=m))(m), msg)
    for m, msg in _LSTM_STEP_MSGS] + [
    ("dcprev_no_dh", lambda c: _lstm_step_back(c.arg("dh"), c.arg("dc"), *c.values(), m="dcprev_no_dh"),
     "dc_prev is only f * dc: the gradient through h reaches c too. With dc_total = dc + dh * o * (1 - tanh(c)**2), "
     "dc_prev = f * dc_total (and every gate's gradient uses dc_total)."),
    ("no_dc_in", lambda c: _lstm_step_back(c.arg("dh"), c.arg("dc"), *c.values(), m="no_dc_in"),
     "the incoming dc (the gradient of the cell state from the next step) is dropped: add it, "
     "dc_total = dc + dh * o * (1 - tanh(c)**2)."),
    ("no_tanh_c", lambda c: _lstm_step_back(c.arg("dh"), c.arg("dc"), *c.values(), m="no_tanh_c"),
     "the derivative of tanh(c) is missing: dh reaches c as dh * o * (1 - tanh(c)**2)."),
    ("db_mean", lambda c: _lstm_step_back(c.arg("dh"), c.arg("dc"), *c.values(), m="db_mean"),
     "db is averaged over the batch; it must be summed."),
] + [(f"perm{p}", (lambda p: lambda c: _lstm_step_back(c.arg("dh"), c.arg("dc"), *c.values(), perm=p))(p),
      "your backward writes the gate gradients in the order {o}; they must sit where the forward read the gates: "
      "i, f, g, o.".format(o=_perm_name(p))) for p in _PERMS4]


def _lstm_seq(x, h0, c0, Wx, Wh, b, m=None, perm=(0, 1, 2, 3)):
    T = x.shape[0]
    h, c = np.zeros((T,) + h0.shape), np.zeros((T,) + h0.shape)
    hp, cp = h0, c0
    for t in range(T):
        h[t], c[t], _ = _lstm_step(x[t], hp, cp, Wx, Wh, b, m if m in ("no_tanh_c", "no_i", "no_f") else None, perm)
        hp = h0 if m == "h_not_carried" else h[t]
        cp = c0 if m == "c_not_carried" else c[t]
    return h, c



_LSTM_STEP_M = ("dcprev_no_dh", "no_tanh_c", "db_mean") + tuple(m for m, _ in _LSTM_STEP_MSGS)


def _lstm_seq_back(c, m=None):
    x, h0, c0, Wx, Wh, b = c.values()
    dh = c.arg("dh")
    T = x.shape[0]
    h, cs = _lstm_seq(x, h0, c0, Wx, Wh, b)
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(b.shape)
    dnext, dcn = np.zeros_like(h0), np.zeros_like(h0)
    for t in (range(T) if m == "forward_loop" else range(T - 1, -1, -1)):
        hp = h[t - 1] if (t > 0 or m == "h_wrap") else h0
        cp = cs[t - 1] if (t > 0 or m == "c_wrap") else c0
        g = dh[t] + (dnext if m != "no_time_flow" else 0.0)
        if m == "dh_only_last" and t < T - 1:
            g = dnext
        step_m = m if m in _LSTM_STEP_M else None
        dxt, dhp, dcp, dWxt, dWht, dbt = _lstm_step_back(g, dcn if m != "no_dc_flow" else 0 * dcn, x[t], hp, cp,
                                                         Wx, Wh, b, step_m)
        dx[t] = dxt
        if m == "assign":
            dWx, dWh, db = dWxt, dWht, dbt
        else:
            dWx, dWh, db = dWx + dWxt, dWh + dWht, db + dbt
        dnext, dcn = dhp, dcp
    return dx, dnext, dcn, dWx, dWh, db



LSTM_FORWARD = [(m, (lambda m: lambda c: (_time_order(_lstm_seq(*c.values())[0], c.arg("h0"), m), I))(m), msg)
                for m, msg in _TIME_ORDER_MSGS.items()] + [
    ("return_c", lambda c: (_lstm_seq(*c.values())[1], I),
     "you returned the cell states c; lstm_forward returns the hidden states h (h_t = o_t * tanh(c_t))."),
    ("c_not_carried", lambda c: (_lstm_seq(*c.values(), m="c_not_carried")[0], I),
     "every step starts from c0: the new cell state c must become the next step's c_prev."),
    ("h_not_carried", lambda c: (_lstm_seq(*c.values(), m="h_not_carried")[0], I),
     "every step starts from h0: the new h must become the next step's h_prev."),
    ("no_tanh_c", lambda c: (_lstm_seq(*c.values(), m="no_tanh_c")[0], I), "h = o * tanh(c): the tanh is missing."),
    ("no_i", lambda c: (_lstm_seq(*c.values(), m="no_i")[0], I), "the input gate is missing: c = f * c_prev + i * g."),
    ("no_f", lambda c: (_lstm_seq(*c.values(), m="no_f")[0], I), "the forget gate is missing: c = f * c_prev + i * g."),
] + [(f"perm{p}", (lambda p: lambda c: (_lstm_seq(*c.values(), perm=p)[0], I))(p),
      _GATE_MSG.format(order=_perm_name(p)))
     for p in _PERMS4]



LSTM_BACKWARD = [(m, (lambda m: lambda c: _lstm_seq_back(c, m))(m), msg) for m, msg in _SEQ_LOOP_MSGS] + [
    ("no_dc_flow", lambda c: _lstm_seq_back(c, "no_dc_flow"),
     "no gradient flows back through the cell state: either your loop does not pass each step's dc_prev in as "
     "the dc of step t-1 (zeros at the last step; dc0 is the final dc_prev), or your lstm_step_backward drops "
     "its dc argument (check_lstm_step_backward catches that). The gradient through h reaches c too: "
     "dc_prev = f * (dc + dh * o * (1 - tanh(c)**2))."),
] + [(m, (lambda m: lambda c: _lstm_seq_back(c, m))(m),
      STEP_FIRST.format(msg=msg, seq="lstm_backward", step="lstm_step_backward"))
     for m, msg in _LSTM_STEP_MSGS + [("dcprev_no_dh", "dc_prev is only f * dc: the gradient through h reaches c "
                                                       "too, dc_prev = f * (dc + dh * o * (1 - tanh(c)**2))."),
                                      ("no_tanh_c", "the derivative of tanh(c) is missing: dh reaches c as "
                                                    "dh * o * (1 - tanh(c)**2)."),
                                      ("db_mean", "db is averaged over the batch; it must be summed.")]] + [

    ("no_time_flow", lambda c: _lstm_seq_back(c, "no_time_flow"),
     "no gradient flows back through h: at step t add the dh_prev of step t+1 to dh[t]."),
    ("assign", lambda c: _lstm_seq_back(c, "assign"),
     "{out} holds only one time step's contribution (t=0, the last one your backward loop visits): accumulate "
     "with += over every step."),
    ("c_wrap", lambda c: _lstm_seq_back(c, "c_wrap"),
     "at t = 0 you used c[t-1] = c[-1], which Python reads as the LAST cell state: at t = 0 c_prev is c0."),
    ("h_wrap", lambda c: _lstm_seq_back(c, "h_wrap"),
     "at t = 0 you used h[t-1] = h[-1], which Python reads as the LAST state: at t = 0 h_prev is h0."),
]
