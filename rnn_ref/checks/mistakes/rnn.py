"""The vanilla RNN's mistakes: a sequence forward and BPTT with one mistake each, used by every model built on
the RNN (char LM, many-to-one, encoder-decoder, attention)."""
import numpy as np

from ...cells.registry import get_cell
from ...numerics import sigmoid
from .messages import say

def _rnn_fwd(x, h0, U, W, b):
    """The sequence forward: h (T, B, H)."""
    h = np.zeros((x.shape[0],) + h0.shape)
    prev = h0
    for t in range(x.shape[0]):
        h[t] = prev = np.tanh(x[t] @ U + prev @ W + b)
    return h


def _rnn_bwd(dh, x, h0, U, W, h, m=None):
    """BPTT with one mistake m, written as an explicit loop over time."""
    T = x.shape[0]
    dx = np.zeros_like(x)
    dU, dW, db = np.zeros_like(U), np.zeros_like(W), np.zeros(W.shape[0])
    dnext = np.zeros_like(h0)
    order = {"forward_loop": range(T), "skip_last": range(T - 2, -1, -1),
             "skip_first": range(T - 1, 0, -1)}.get(m, range(T - 1, -1, -1))
    da0 = None
    for t in order:
        g = dh[t] + (dnext if m != "no_time_flow" else 0.0)
        if m == "dh_only_last" and t != T - 1:
            g = dnext
        da = {"no_tanh": g, "tanh_of_h": g * (1 - np.tanh(h[t]) ** 2)}.get(m, g * (1 - h[t] ** 2))
        hp = h[t - 1] if t > 0 else h0
        if m == "h_wrap":
            hp = h[t - 1]
        if m == "h_misaligned":
            hp = h[t]
        dx[t] = da @ U.T
        if m == "assign" or (m == "only_last" and t == T - 1):
            dU, dW, db = x[t].T @ da, hp.T @ da, da.sum(0)
        elif m != "only_last":
            dU += x[t].T @ da
            dW += hp.T @ da
            db += da.sum(0)
        dnext = da @ (W if m == "W_notT" else W.T)
        da0 = da
    if m == "db_mean":
        db = db / dh.shape[1]
    dh0 = da0 if m == "dh0_da" else dnext
    return dx, dh0, dU, dW, db


_OWN_BWD_MSGS = {
    "no_tanh": "{out} is missing the tanh derivative: multiply the incoming gradient by (1 - h**2) before the "
               "matrix products (da = dh * (1 - h**2)).",
    "tanh_of_h": "you used 1 - tanh(h)**2, but h is already tanh(a): the derivative is 1 - h**2.",
    "W_notT": "the gradient sent back to the previous hidden state must be da @ W_hh.T (the forward computed "
              "h_prev @ W_hh); you used W_hh without .T.",
    "skip_last": "your time loop starts at T-2 and skips the last step: use range(T-1, -1, -1).",
    "skip_first": "your time loop stops before t = 0: use range(T-1, -1, -1) (the stop value -1 is excluded).",
    "h_misaligned": "you used h[t] where step t's input state h[t-1] is needed (h_prev is misaligned by one "
                    "step): dW_hh sums h[t-1].T @ da_t, with h0 at t = 0.",
    "dh0_da": "dh0 must be da_0 @ W_hh.T (the gradient that reaches h0 through W_hh); you returned da_0 itself.",
}
_RNN = get_cell("rnn")
# what _rnn_bwd's modes say, for the models built on the RNN (char LM, many-to-one, attention)
_RNN_MSG = dict(_OWN_BWD_MSGS, h_wrap=say("bwd_wrap", _RNN, s="h"),
                db_mean=say("bias_mean", _RNN, dbs="db", is_are="is"),
                **{m: say(m, _RNN) for m in ("assign", "only_last", "no_time_flow", "dh_only_last", "forward_loop")})


def _rnn_step(x, hp, U, W, b, m=None):
    """One step with one mistake m: (h,)."""
    a = x @ U + (0.0 if m == "no_h" else hp @ (W.T if m == "W_T" else W))
    if m == "b_outside":
        return (np.tanh(a) + b,)
    f = {"no_tanh": lambda v: v, "sigmoid": sigmoid, "relu": lambda v: np.maximum(0, v)}.get(m, np.tanh)
    return (f(a + b),)


def _rnn_step_back(dh, x, hp, U, W, b, m=None):
    """One step's backward with one mistake m: (dx, dh_prev, dU_xh, dW_hh, db)."""
    h = np.tanh(x @ U + hp @ W + b)
    da = dh * {"no_tanh": 1.0, "tanh_of_h": 1 - np.tanh(h) ** 2, "tanh_1mh": 1 - h}.get(m, 1 - h * h)
    dhp = da if m == "dh_prev_da" else da @ (W if m == "W_notT" else W.T)
    dW = {"dW_T": da.T @ hp, "dW_h": h.T @ da}.get(m, hp.T @ da)
    return da @ U.T, dhp, x.T @ da, dW, da.sum(0)


def _fwd(m):
    return lambda *a: _rnn_step(*a, m=m)


def _bwd(m):
    return lambda *a: _rnn_step_back(*a, m=m)


STEP_FORWARD = [
    ("W_T", _fwd("W_T"), "you multiplied by W_hh.T: in the course's row convention the recurrence is h_prev @ W_hh."),
    ("no_tanh", _fwd("no_tanh"), "the tanh is missing: h = tanh(x @ U_xh + h_prev @ W_hh + b)."),
    ("no_h", _fwd("no_h"), "the recurrence is missing: add h_prev @ W_hh before the tanh."),
    ("sigmoid", _fwd("sigmoid"), "you used the sigmoid; the vanilla RNN's nonlinearity is tanh."),
    ("relu", _fwd("relu"), "you used a ReLU; the vanilla RNN's nonlinearity is tanh."),
    ("b_outside", _fwd("b_outside"),
     "the bias is added after the tanh; it belongs inside: tanh(x @ U_xh + h_prev @ W_hh + b)."),
]
STEP_BACKWARD = [(m, _bwd(m), _OWN_BWD_MSGS[m]) for m in ("no_tanh", "tanh_of_h", "W_notT")] + [
    ("tanh_1mh", _bwd("tanh_1mh"), "the tanh derivative is 1 - h**2, not 1 - h."),
    ("dW_T", _bwd("dW_T"), "dW_hh is transposed: it is h_prev.T @ da, not da.T @ h_prev."),
    ("dW_h", _bwd("dW_h"), "dW_hh used h (this step's output) instead of h_prev: dW_hh = h_prev.T @ da."),
    ("dh_prev_da", _bwd("dh_prev_da"), "dh_prev must be da @ W_hh.T (the gradient that reaches h_prev through "
                                       "W_hh); you returned da itself."),
]


def _rnn_bwd_hyp(m):
    def hyp(c):
        x, h0, U, W, b = c.values()
        h = _rnn_fwd(x, h0, U, W, b)
        return _rnn_bwd(c.arg("dh"), x, h0, U, W, h, m)
    return hyp


# BPTT written as one loop over stored states: its own ways to go wrong (the time loop's are in sequence.py)
BACKWARD = [(m, _rnn_bwd_hyp(m), _OWN_BWD_MSGS[m]) for m in ("skip_last", "skip_first", "h_misaligned", "dh0_da")] + [
    ("h_wrap_dW", _rnn_bwd_hyp("h_wrap"), _RNN_MSG["h_wrap"])]
