"""The vanilla RNN's mistakes: a sequence forward and BPTT with one mistake each, used by every model built on
the RNN (char LM, many-to-one, encoder-decoder, attention)."""
import numpy as np

from .. import engine as ck
from ...numerics import sigmoid

I = ck.IGNORE



def _rnn_fwd(x, h0, U, W, b, m=None):
    """A sequence forward with one mistake m (None: right)."""
    T = x.shape[0]
    h = np.zeros((T,) + h0.shape)
    prev = h0
    xs = x[::-1] if m == "reversed" else x
    for t in range(T):
        a = xs[t] @ U + (prev @ (W.T if m == "W_T" else W) if m != "no_h" else 0.0) + (b if m != "no_b" else 0.0)
        h[t] = a if m == "no_tanh" else np.tanh(a)
        if m not in ("prev_h0",):
            prev = h[t]
    if m == "alias":
        h[:] = h[-1]
    if m == "shifted":
        h = np.concatenate([h0[None], h[:-1]])
    if m == "reversed":
        h = h[::-1].copy()  # for t in reversed(range(T)): h[t] = step(x[t], previous)
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


_RNN_BWD_MSGS = [
    ("no_tanh", "{out} is missing the tanh derivative: multiply the incoming gradient by (1 - h**2) before the "
                "matrix products (da = dh * (1 - h**2))."),
    ("tanh_of_h", "you used 1 - tanh(h)**2, but h is already tanh(a): the derivative is 1 - h**2."),
    ("W_notT", "the gradient sent back to the previous hidden state must be da @ W_hh.T (the forward computed "
               "h_prev @ W_hh); you used W_hh without .T."),
    ("assign", "{out} holds only one time step's contribution (t=0, the last one your backward loop visits): "
               "accumulate with += over every step (initialise with zeros before the loop)."),
    ("only_last", "{out} holds only the last time step's contribution: accumulate with += over every step."),
    ("no_time_flow", "no gradient flows back through time: at step t, add the gradient coming from step t+1 "
                     "(dnext = da_{t+1} @ W_hh.T) to dh[t] before the tanh derivative."),
    ("dh_only_last", "only the loss gradient of the last step enters: at every step t add dh[t] to the gradient "
                     "coming back from step t+1."),
    ("forward_loop", "your time loop runs forward (t = 0, 1, ...); backpropagation through time must run from "
                     "t = T-1 down to 0, so that the gradient from step t+1 is ready at step t."),
    ("skip_last", "your time loop starts at T-2 and skips the last step: use range(T-1, -1, -1)."),
    ("skip_first", "your time loop stops before t = 0: use range(T-1, -1, -1) (the stop value -1 is excluded)."),
    ("h_wrap", "at t = 0 you used h[t-1] = h[-1], which Python reads as the LAST state: at t = 0 the previous "
               "state is h0."),
    ("h_misaligned", "you used h[t] where step t's input state h[t-1] is needed (h_prev is misaligned by one "
                     "step): dW_hh sums h[t-1].T @ da_t, with h0 at t = 0."),
    ("db_mean", "db is averaged; a bias gradient is a sum over the batch (and over time): da.sum(axis=0)."),
    ("dh0_da", "dh0 must be da_0 @ W_hh.T (the gradient that reaches h0 through W_hh); you returned da_0 itself."),
]


def _rnn_bwd_hyp(m):
    def hyp(c):
        x, h0, U, W, b = c.values()
        h = _rnn_fwd(x, h0, U, W, b)
        return _rnn_bwd(c.arg("dh"), x, h0, U, W, h, m)
    return hyp


RNN_BACKWARD = [(m, _rnn_bwd_hyp(m), msg) for m, msg in _RNN_BWD_MSGS]


def _rnn_step_bwd_hyp(m):
    def hyp(c):
        x, hp, U, W, b = c.values()
        dx, dhp, dU, dW, db = _rnn_bwd(c.arg("dh")[None], x[None], hp, U, W, _rnn_fwd(x[None], hp, U, W, b), m)
        h = np.tanh(x @ U + hp @ W + b)
        da = c.arg("dh") * (1 - h * h)
        if m == "dW_T":
            dW = da.T @ hp
        if m == "dW_h":
            dW = h.T @ da
        if m == "tanh_1mh":
            da = c.arg("dh") * (1 - h)
            return da @ U.T, da @ W.T, x.T @ da, hp.T @ da, da.sum(0)
        return dx[0], dhp, dU, dW, db
    return hyp


RNN_STEP_BACKWARD = [(m, _rnn_step_bwd_hyp(m), msg) for m, msg in _RNN_BWD_MSGS
                     if m in ("no_tanh", "tanh_of_h", "W_notT", "db_mean", "dh0_da")] + [
    ("tanh_1mh", _rnn_step_bwd_hyp("tanh_1mh"), "the tanh derivative is 1 - h**2, not 1 - h."),
    ("dW_T", _rnn_step_bwd_hyp("dW_T"), "dW_hh is transposed: it is h_prev.T @ da, not da.T @ h_prev."),
    ("dW_h", _rnn_step_bwd_hyp("dW_h"), "dW_hh used h (this step's output) instead of h_prev: "
                                        "dW_hh = h_prev.T @ da."),
]
for _i, (_m, _f, _msg) in enumerate(RNN_STEP_BACKWARD):
    if _m == "dh0_da":
        RNN_STEP_BACKWARD[_i] = (_m, _f, "dh_prev must be da @ W_hh.T (the gradient that reaches h_prev through "
                                         "W_hh); you returned da itself.")

_RNN_FWD_MSGS = [
    ("W_T", "you multiplied by W_hh.T: in the course's row convention the recurrence is h_prev @ W_hh."),
    ("no_tanh", "the tanh is missing: h = tanh(x @ U_xh + h_prev @ W_hh + b)."),
    ("no_b", "the bias b is missing."),
    ("no_h", "the recurrence is missing: add h_prev @ W_hh before the tanh."),
    ("prev_h0", "every step uses h0 as its previous state: after each step, the new h becomes the previous "
                "state of the next step."),
    ("alias", "every time step holds the same (last) state: you stored one array that kept changing in place; "
              "write each step into h[t] (or store a copy)."),
    ("shifted", "your states are shifted by one step: h[t] must be the state AFTER reading x[t] "
                "(h[0] = tanh(x[0] @ U_xh + h0 @ W_hh + b)), not h0."),
    ("reversed", "your loop reads x from the end: the forward pass runs t = 0, 1, ..., T-1."),
]


def _rnn_fwd_hyp(m):
    return lambda c: (_rnn_fwd(*c.values(), m), I)


def _rnn_step_fwd_hyp(m):
    return lambda c: (_rnn_fwd(c.arg("x")[None], *c.values()[1:], m)[0], I)


RNN_FORWARD = [(m, _rnn_fwd_hyp(m), msg) for m, msg in _RNN_FWD_MSGS] + [
    ("with_h0", lambda c: (np.concatenate([c.arg("h0")[None], _rnn_fwd(*c.values())]), I),
     "your h has T + 1 states: it starts with h0. Return only the T new states, h[t] the state after reading "
     "x[t] (h0 is an input, not an output)."),
    ("last_only", lambda c: (_rnn_fwd(*c.values())[-1], I),
     "you returned only the last state; rnn_forward returns every step's state, h of shape (T, B, H)."),
]
RNN_STEP_FORWARD = [(m, _rnn_step_fwd_hyp(m), msg.replace("every step uses h0", "h_prev is not used"))
                    for m, msg in _RNN_FWD_MSGS[:4]] + [
    ("sigmoid", lambda c: (sigmoid(c.arg("x") @ c.arg("U_xh") + c.arg("h_prev") @ c.arg("W_hh") + c.arg("b")), I),
     "you used the sigmoid; the vanilla RNN's nonlinearity is tanh."),
    ("relu", lambda c: (np.maximum(0, c.arg("x") @ c.arg("U_xh") + c.arg("h_prev") @ c.arg("W_hh") + c.arg("b")), I),
     "you used a ReLU; the vanilla RNN's nonlinearity is tanh."),
    ("b_outside", lambda c: (np.tanh(c.arg("x") @ c.arg("U_xh") + c.arg("h_prev") @ c.arg("W_hh")) + c.arg("b"), I),
     "the bias is added after the tanh; it belongs inside: tanh(x @ U_xh + h_prev @ W_hh + b)."),
]


_RNN_MSG = dict(_RNN_BWD_MSGS)
