"""Mistakes of the architectures: many-to-one, encoder-decoder, bidirectional, stacked."""
import numpy as np

from .. import engine as ck
from ...cells.rnn import rnn_backward, rnn_forward
from ...models.charlm import one_hot
from ...training.loss import softmax_cross_entropy
from .messages import modes
from .rnn import _RNN_MSG, _rnn_bwd, _rnn_fwd

I = ck.IGNORE


def _m2o(c, rnn_m=None, k_loss=1.0, k_grad=1.0, state="last"):
    x, h0, p, y = c.values()
    T, B, _ = x.shape
    h = _rnn_fwd(x, h0, p["U_xh"], p["W_hh"], p["b"])
    hs = h[-1] if state == "last" else h[0]
    o = hs @ p["V_ho"] + p["b_y"]
    loss, do = softmax_cross_entropy(o[None], y[None])
    do = do[0] * k_grad
    dh = np.zeros_like(h)
    dh[-1 if state == "last" else 0] = do @ p["V_ho"].T
    if rnn_m == "dh_every_step":
        dh[:] = do @ p["V_ho"].T
        rnn_m = None
    _, _, dU, dW, db = _rnn_bwd(dh, x, h0, p["U_xh"], p["W_hh"], h, rnn_m)
    return loss * k_loss, {"U_xh": dU, "W_hh": dW, "b": db, "V_ho": hs.T @ do, "b_y": do.sum(0)}


def _m2o_B(kind):
    def hyp(c):
        B = c.arg("x").shape[1]
        return _m2o(c, k_loss=B, k_grad=B) if kind == "both" else _m2o(c, k_grad=B)
    return hyp


MANY_TO_ONE_LOSS = [
    ("sum_B", _m2o_B("both"), "the loss is summed over the batch (B times too large), and the gradients with it: "
                              "average over the batch."),
    ("grad_B", _m2o_B("grad"), "the gradients are B times too large: dL/do = (softmax(o) - onehot(y)) / B."),
    ("first_state", lambda c: _m2o(c, state="first"),
     "you classified from h[0]; a many-to-one model reads the sequence to the end and classifies from the last "
     "hidden state h[T-1] (h[-1])."),
    ("dh_every_step", lambda c: _m2o(c, rnn_m="dh_every_step"),
     "the output's gradient enters at every time step, as if each step had a loss; in a many-to-one model only "
     "h[T-1] feeds the output, so the upstream dh is do @ V_ho.T at the last step and zero before it (the "
     "earlier steps get their gradient through time, from W_hh)."),
    ("no_time_flow", lambda c: _m2o(c, rnn_m="no_time_flow"),
     "only the last time step contributes to the RNN's gradients: the loss sees h[T-1] only, but the gradient must "
     "flow back from there through every earlier step (dnext = da_t @ W_hh.T) and each step's contribution must "
     "be added (+=) to dU_xh, dW_hh and db."),
] + [(m, (lambda m: lambda c: _m2o(c, rnn_m=m))(m), "in the backward pass through the RNN: " + _RNN_MSG[m])
     for m in ("no_tanh", "tanh_of_h", "W_notT", "assign", "forward_loop", "h_wrap", "h_misaligned", "db_mean")]


def _encdec(c, start="enc_last", with_b_y=True, m=None):
    x, y_in, h0, p = c.values()
    K = p["U_dec"].shape[0]
    he = _rnn_fwd(x, h0, p["U_enc"], p["W_enc"], p["b_enc"])
    s = {"enc_last": he[-1], "zeros": np.zeros_like(h0), "h0": h0, "enc_first": he[0]}[start]
    if m == "context_every_step":
        hd = np.tanh(one_hot(y_in, K) @ p["U_dec"] + he[-1] @ p["W_dec"] + p["b_dec"])
        return hd @ p["V_ho"] + p["b_y"], I
    W = p["W_enc"] if m == "enc_weights" else p["W_dec"]
    hd = _rnn_fwd(one_hot(y_in, K), s, p["U_dec"], W, p["b_dec"])
    return hd @ p["V_ho"] + (p["b_y"] if with_b_y else 0.0), I


ENCODER_DECODER_FORWARD = [
    ("zeros", lambda c: _encdec(c, "zeros"), "your decoder starts from zeros; it must start from the encoder's "
                                             "last hidden state, which carries the whole input."),
    ("h0", lambda c: _encdec(c, "h0"), "your decoder starts from h0; it must start from the encoder's last hidden "
                                       "state h_enc[-1]."),
    ("enc_first", lambda c: _encdec(c, "enc_first"), "your decoder starts from the encoder's FIRST state h_enc[0]; "
                                                     "it must start from the last one, h_enc[-1]."),
    ("no_b_y", lambda c: _encdec(c, with_b_y=False), "the output bias b_y is missing: logits = h_dec @ V_ho + b_y."),
    ("enc_weights", lambda c: _encdec(c, m="enc_weights"),
     "your decoder's recurrence uses W_enc; the decoder has its own weights: h_dec_t = tanh(onehot(y_in[t]) "
     "@ U_dec + h_dec_{t-1} @ W_dec + b_dec)."),
    ("context_every_step", lambda c: _encdec(c, m="context_every_step"),
     "every decoder step starts from the encoder's last state: it is the decoder's INITIAL state only; "
     "after that each step continues from the decoder's own previous state."),
]


def _bi(c, m=None):
    x, h0f, h0b, pf, pb = c.values()
    hf = _rnn_fwd(x, h0f, *pf)
    xb = x if m == "no_reverse_in" else x[::-1]
    hb = _rnn_fwd(xb, h0f if m == "same_h0" else h0b, *(pf if m == "same_params" else pb))
    if m not in ("no_reverse_out", "no_reverse_in"):
        hb = hb[::-1]
    return (np.concatenate([hb, hf], 2) if m == "swapped" else np.concatenate([hf, hb], 2)), I


BIDIRECTIONAL_FORWARD = [
    ("no_reverse_out", lambda c: _bi(c, "no_reverse_out"),
     "the backward direction's states are still in reversed time order: after running the backward cell on "
     "x[::-1], flip its states back (h_b[::-1]) so that position t holds the state for x[t]."),
    ("no_reverse_in", lambda c: _bi(c, "no_reverse_in"),
     "the backward cell reads the sequence forward: feed it x[::-1] (and flip its states back)."),
    ("swapped", lambda c: _bi(c, "swapped"), "the halves are swapped: h = [forward states, backward states] along "
                                             "the last axis, forward first."),
    ("same_params", lambda c: _bi(c, "same_params"), "the backward cell uses params_f; it has its own params_b."),
    ("same_h0", lambda c: _bi(c, "same_h0"), "the backward cell starts from h0_f; it starts from h0_b."),
    ("axis0", lambda c: (np.concatenate([_bi(c)[0][..., :c.arg("h0_f").shape[1]],
                                         _bi(c)[0][..., c.arg("h0_f").shape[1]:]], 0), I),
     "you concatenated the two directions along the time axis; join them along the last axis, "
     "np.concatenate([h_f, h_b], axis=-1), so that h[t] holds both states for step t."),
]


def _bi_bwd(m):
    def hyp(c):
        x, h0_f, h0_b, params_f, params_b = c.values()
        H = h0_f.shape[1]
        _, cf = rnn_forward(x, h0_f, *params_f)
        _, cb = rnn_forward(x[::-1], h0_b, *params_b)
        dh = c.arg("dh")
        dfh, dbh = (dh[:, :, H:], dh[:, :, :H]) if m == "swapped" else (dh[:, :, :H], dh[:, :, H:])
        dx_f, ds_f, *dp_f = rnn_backward(dfh, cf)
        dx_b, ds_b, *dp_b = rnn_backward(dbh if m == "dh_not_reversed" else dbh[::-1], cb)
        dx = {"dx_not_reversed": dx_f + dx_b, "dx_forward_only": dx_f}.get(m, dx_f + dx_b[::-1])
        if m == "dparams_swapped":
            return dx, ds_f, ds_b, tuple(dp_b), tuple(dp_f)
        if m == "dh0_swapped":
            return dx, ds_b, ds_f, tuple(dp_f), tuple(dp_b)
        return dx, ds_f, ds_b, tuple(dp_f), tuple(dp_b)
    return hyp


BIDIRECTIONAL_BACKWARD = modes(_bi_bwd, {
    "dh_not_reversed": "the backward half of dh was not reversed in time: the backward cell ran on x[::-1], so give"
                       " its backward pass dh[::-1, :, H:].",
    "dx_not_reversed": "the backward cell's dx is still in reversed time order: add dx_b[::-1] to the forward "
                       "cell's dx.",
    "dx_forward_only": "dx holds only the forward cell's part: x feeds both directions, so add the backward cell's "
                       "dx (reversed).",
    "swapped": "the halves of dh are swapped: dh[:, :, :H] belongs to the forward cell.",
    "dh0_swapped": "dh0_f and dh0_b are swapped: return the forward cell's dh0 first, dx, dh0_f, dh0_b, dparams_f, "
                   "dparams_b.",
    "dparams_swapped": "dparams_f and dparams_b are swapped: return the forward cell's gradients first, dx, dh0_f, "
                       "dh0_b, dparams_f, dparams_b.",
})


def _stack_fwd(c, m=None):
    x, h0s, layers = c.values()
    inp = x
    outs = []
    seq = list(enumerate(layers))
    for l, (U, W, b) in (seq[::-1] if m == "reversed" else seq):
        h = _rnn_fwd(x if m == "all_x" else inp, h0s[0] if m == "h0_0" else h0s[l], U, W, b)
        outs.append(h)
        inp = h
    if m == "all_layers":
        return np.stack(outs), I
    return (outs[0] if m == "bottom" else inp), I


STACKED_FORWARD = [
    ("all_x", lambda c: _stack_fwd(c, "all_x"), "every layer reads x; layer l > 0 must read the hidden states of "
                                                "layer l-1."),
    ("h0_0", lambda c: _stack_fwd(c, "h0_0"), "every layer starts from h0s[0]; layer l starts from h0s[l]."),
    ("bottom", lambda c: _stack_fwd(c, "bottom"), "you returned the bottom layer's states; return the top layer's."),
    ("all_layers", lambda c: _stack_fwd(c, "all_layers"),
     "you returned every layer's states stacked; return only the top layer's, h of shape (T, B, H)."),
]


def _stack_bwd(m):
    def hyp(c):
        x, h0s, layers = c.values()
        caches, inp = [], x
        for h0, params in zip(h0s, layers):
            inp, cache = rnn_forward(inp, h0, *params)
            caches.append(cache)
        dh0s, dl = [], []
        g = c.arg("dh")
        top_dx = None
        for cache in reversed(caches):
            dx, dh0, dU, dW, db = rnn_backward(c.arg("dh") if m == "same_dh" else g, cache)
            g = dx
            top_dx = dx if top_dx is None else top_dx
            dh0s.append(dh0)
            dl.append((dU, dW, db))
        if m != "dh0s_reversed":
            dh0s = dh0s[::-1]
        if m != "dlayers_reversed":
            dl = dl[::-1]
        return (top_dx if m == "dx_top" else g), np.stack(dh0s), dl
    return hyp


STACKED_BACKWARD = modes(_stack_bwd, {
    "dlayers_reversed": "dlayers is in top-to-bottom order (the order the backward loop visits the layers): reverse"
                        " it, so that dlayers[0] belongs to the bottom layer like layers[0].",
    "dh0s_reversed": "dh0s is in top-to-bottom order: dh0s[l] must belong to layer l (bottom first).",
    "dx_top": "dx is the top layer's dx; return the bottom layer's, the gradient with respect to x itself (each "
              "layer's dx is the upstream gradient of the layer below).",
    "same_dh": "every layer was given the top's dh; a lower layer's upstream gradient is the dx of the layer above "
               "it.",
})
