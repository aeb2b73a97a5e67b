"""Mistakes of additive attention and the attention encoder-decoder."""
import numpy as np

from .. import engine as ck
from ...models.charlm import one_hot
from ...training.loss import softmax, softmax_cross_entropy
from .rnn import _rnn_bwd, _rnn_fwd

I = ck.IGNORE


def _att(s, h, W_s, W_h, v, m=None):
    """Additive attention with one mistake m: (context, alpha, a)."""
    z = h @ W_h + (0.0 if m == "no_s" else s @ W_s)
    a = z if m == "no_tanh" else np.tanh(z)
    e = a @ v                                            # (T_in, B)
    if m == "no_softmax":
        alpha = e
    elif m == "softmax_batch":                           # softmax(e) with its default axis=-1: over the batch
        alpha = softmax(e, axis=-1)
    elif m == "softmax_naive":
        alpha = np.exp(e) / np.exp(e).sum(axis=0)
    else:
        alpha = softmax(e, axis=0)
    return (alpha[:, :, None] * h).sum(axis=0), alpha, a


def _att_back(dctx, s, h, W_s, W_h, v, m=None):
    _, alpha, a = _att(s, h, W_s, W_h, v)
    dalpha = (h * dctx).sum(axis=2)
    if m == "softmax_no_sub":
        de = alpha * dalpha
    elif m == "softmax_batch":
        de = alpha * (dalpha - (alpha * dalpha).sum(axis=1, keepdims=True))
    else:
        de = alpha * (dalpha - (alpha * dalpha).sum(axis=0))
    dz = de[:, :, None] * v * (1.0 if m == "no_tanh" else (1 - a * a))
    dzs = dz.sum(axis=0)
    dh = (0.0 if m == "no_direct" else alpha[:, :, None] * dctx) + dz @ W_h.T
    dW_h = np.einsum("tbh,tba->ha", h, dz)
    dv = np.einsum("tba,tb->a", a, de)
    return dzs @ W_s.T, dh, s.T @ dzs, dW_h, dv


ATTENTION_FORWARD = [
    ("softmax_batch", lambda c: _att(*c.values(), m="softmax_batch")[:2] + (I,),
     "your softmax runs over the batch (axis -1, softmax's default): the weights must sum to 1 over the input "
     "positions, which in the time-major scores (T_in, B) is axis 0 (alpha = softmax(e, axis=0))."),
    ("no_s", lambda c: _att(*c.values(), m="no_s")[:2] + (I,),
     "your scores ignore the decoder state s: a_j = tanh(s @ W_s + h_j @ W_h). Without s every output step "
     "gets the same weights, and the context is a fixed summary again."),
    ("no_tanh", lambda c: _att(*c.values(), m="no_tanh")[:2] + (I,),
     "the tanh of the score network is missing: e_j = tanh(s @ W_s + h_j @ W_h) @ v."),
    ("no_softmax", lambda c: _att(*c.values(), m="no_softmax")[:2] + (I,),
     "alpha holds the raw scores e: turn them into weights with a softmax over the input positions (axis 0)."),
    ("softmax_naive", lambda c: _att(*c.values(), m="softmax_naive")[:2] + (I,),
     "exp overflows for large scores: subtract the largest score of each column (e.max(axis=0)) before exp."),
]

ATTENTION_BACKWARD = [
    ("no_direct", lambda c: _att_back(c.arg("dcontext"), *c.values(), m="no_direct"),
     "dh_enc is missing the direct gradient of the context: context = sum_j alpha_j h_j, so every encoder state "
     "gets alpha_j * dcontext besides its gradient through the score (dh_enc = alpha[:, :, None] * dcontext + "
     "dz @ W_h.T)."),
    ("softmax_no_sub", lambda c: _att_back(c.arg("dcontext"), *c.values(), m="softmax_no_sub"),
     "the softmax's backward is incomplete: de_j = alpha_j * (dalpha_j - sum_i alpha_i * dalpha_i); the sum "
     "term comes from the normalisation (the weights sum to 1)."),
    ("softmax_batch", lambda c: _att_back(c.arg("dcontext"), *c.values(), m="softmax_batch"),
     "the softmax's backward sums over the batch: the sum_i alpha_i * dalpha_i runs over the input positions, "
     "axis 0 of the (T_in, B) arrays."),
    ("no_tanh", lambda c: _att_back(c.arg("dcontext"), *c.values(), m="no_tanh"),
     "the tanh derivative is missing: dz = de[:, :, None] * v * (1 - a**2), with a = tanh(s @ W_s + h_j @ W_h)."),
]


def _att_model(c, m=None):
    """The attention encoder-decoder's loss and gradients with one mistake m."""
    x, y_in, y_out, h0, p = c.values()
    K = p["b_y"].shape[0]
    h = _rnn_fwd(x, h0, p["U_enc"], p["W_enc"], p["b_enc"])
    xd = one_hot(y_in, K)
    s = _rnn_fwd(xd, h[-1], p["U_dec"], p["W_dec"], p["b_dec"])
    T_out, B, H = s.shape
    ctx = np.stack([_att(s[t], h, p["W_s"], p["W_h"], p["v"])[0] for t in range(T_out)])
    o = s @ p["V_ho"] + ctx @ p["V_co"] + p["b_y"]
    loss, do = softmax_cross_entropy(o, y_out)
    g = {"V_ho": np.einsum("tbh,tbk->hk", s, do), "V_co": np.einsum("tbh,tbk->hk", ctx, do), "b_y": do.sum((0, 1)),
         "W_s": 0.0, "W_h": 0.0, "v": 0.0}
    ds = do @ p["V_ho"].T
    dctx = do @ p["V_co"].T
    dh = np.zeros_like(h)
    for t in range(T_out):
        ds_t, dh_t, dW_s, dW_h, dv = _att_back(dctx[t], s[t], h, p["W_s"], p["W_h"], p["v"],
                                               "no_direct" if m == "no_direct" else None)
        if m != "no_att_ds":
            ds[t] = ds[t] + ds_t
        dh = dh_t if m == "dh_assign" else dh + dh_t
        g["W_s"], g["W_h"], g["v"] = g["W_s"] + dW_s, g["W_h"] + dW_h, g["v"] + dv
    _, dh_last, g["U_dec"], g["W_dec"], g["b_dec"] = _rnn_bwd(ds, xd, h[-1], p["U_dec"], p["W_dec"], s)
    if m != "no_dec_init":
        dh[-1] = dh[-1] + dh_last
    _, _, g["U_enc"], g["W_enc"], g["b_enc"] = _rnn_bwd(dh, x, h0, p["U_enc"], p["W_enc"], h)
    return loss, {k: g[k] for k in p}


ATTENTION_LOSS = [
    ("no_direct", lambda c: _att_model(c, "no_direct"),
     "the encoder misses the context's direct gradient: every encoder state gets alpha_j * dcontext from "
     "context = sum_j alpha_j h_j, besides its gradient through the scores (check additive_attention_backward's "
     "dh_enc)."),
    ("no_dec_init", lambda c: _att_model(c, "no_dec_init"),
     "the decoder starts from the encoder's last state, h_enc[-1], so the decoder's dh0 (the second output of "
     "rnn_backward) must be added to the encoder's gradient at the last step: dh_enc[-1] += dh_dec0."),
    ("no_att_ds", lambda c: _att_model(c, "no_att_ds"),
     "the decoder states get only the output layer's gradient: s_t also feeds the attention's score, so add the "
     "ds that additive_attention_backward returns for step t to ds[t] before rnn_backward."),
    ("dh_assign", lambda c: _att_model(c, "dh_assign"),
     "the encoder states keep the gradient of one output step only: every output step attends to every encoder "
     "state, so dh_enc is the sum (+=) of the dh_enc of all T_out attention steps."),
]
