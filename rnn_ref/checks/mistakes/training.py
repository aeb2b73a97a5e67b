"""Mistakes of clipping, sampling, the char-LM loss and its training step."""
import numpy as np

from .. import engine as ck
from ...models.charlm import one_hot
from ...training.clip import clip_by_global_norm
from ...training.loss import softmax, softmax_cross_entropy
from .messages import modes
from .rnn import _RNN_MSG, _rnn_bwd, _rnn_fwd


def _norm_per_tensor(g, m):
    n = np.sqrt(np.sum(g * g))
    return g * (m / n) if n > m else g.copy()


def _gnorm(grads):
    return float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))


CLIP_BY_VALUE = [
    ("upper_only", lambda c: {k: np.minimum(g, c.arg("limit")) for k, g in c.arg("grads").items()},
     "only the upper limit is applied: clip to [-limit, limit], np.clip(g, -limit, limit)."),
    ("abs", lambda c: {k: np.clip(np.abs(g), -c.arg("limit"), c.arg("limit")) for k, g in c.arg("grads").items()},
     "the signs are lost (np.abs): clip each entry into [-limit, limit] and keep its sign, "
     "np.clip(g, -limit, limit)."),
    ("zero_lower", lambda c: {k: np.clip(g, 0, c.arg("limit")) for k, g in c.arg("grads").items()},
     "you clipped to [0, limit]; the range is [-limit, limit]."),
    ("norm_per_tensor", lambda c: {k: _norm_per_tensor(g, c.arg("limit")) for k, g in c.arg("grads").items()},
     "you clipped the norm of each tensor; clipping by value clips every entry on its own: "
     "np.clip(g, -limit, limit)."),
    ("global_norm", lambda c: clip_by_global_norm(c.arg("grads"), c.arg("limit"))[0],
     "you clipped by the global norm; clipping by value clips every entry on its own: np.clip(g, -limit, limit)."),
]


def _cgn(m):
    def hyp(c):
        grads, mx = c.arg("grads"), c.arg("max_norm")
        n = _gnorm(grads)
        if m == "per_tensor":
            return {k: _norm_per_tensor(g, mx) for k, g in grads.items()}, n
        if m == "always":
            return {k: g * (mx / n) for k, g in grads.items()}, n
        if m == "no_sqrt":
            n2 = n * n
            return {k: g * (mx / n2 if n2 > mx else 1.0) for k, g in grads.items()}, n2
        if m == "by_value":
            return {k: np.clip(g, -mx, mx) for k, g in grads.items()}, n
        if m == "sum_norms":
            s = float(sum(np.sqrt(np.sum(g * g)) for g in grads.values()))
            return {k: g * (mx / s if s > mx else 1.0) for k, g in grads.items()}, s
        if m == "inverse":
            return {k: g * (n / mx if n > mx else 1.0) for k, g in grads.items()}, n
        if m == "norm_after":
            out, _ = clip_by_global_norm(grads, mx)
            return out, _gnorm(out)
    return hyp


CLIP_BY_GLOBAL_NORM = modes(_cgn, {
    "per_tensor": "each tensor was scaled by its own norm; the global norm is sqrt(sum over ALL tensors of their "
                  "squared entries), and every tensor is scaled by the same factor max_norm / global_norm (that "
                  "keeps the direction).",
    "always": "you rescaled even though the norm was not above max_norm: when norm <= max_norm the gradients stay "
              "as they are.",
    "no_sqrt": "the norm is missing its square root: norm = sqrt(sum of squares).",
    "by_value": "you clipped every entry by value; clipping by global norm rescales all tensors together by "
                "max_norm / norm.",
    "sum_norms": "you added the per-tensor norms; the global norm is sqrt of the sum of ALL squared entries (sum "
                 "the squares first, then one sqrt).",
    "inverse": "the scale is upside down: multiply by max_norm / norm (< 1), not norm / max_norm.",
    "norm_after": "you returned the norm after clipping; return the norm before clipping.",
})


# ------------------------------------------------------------------------------------------------ sampling
def _inv_cdf(p, u, strict=True, flat=False):
    B, K = p.shape
    cdf = np.cumsum(p).reshape(B, K) if flat else np.cumsum(p, axis=1)
    k = (cdf <= u[:, None]).sum(1) if strict else (cdf < u[:, None]).sum(1)
    return np.minimum(k, K - 1).astype(np.int64)


def _samp(m):
    def hyp(c):
        o, t, u = c.arg("o"), c.arg("temperature"), c.arg("u")
        if m == "greedy":
            return o.argmax(axis=1).astype(np.int64) if t > 0 else None
        if t == 0:
            if m == "div0":
                return np.zeros(o.shape[0], dtype=np.int64)
            if m == "argmin":
                return o.argmin(axis=1).astype(np.int64)
            return None
        p = softmax(o / t)
        if m == "ignore_t":
            p = softmax(o)
        if m == "times_t":
            p = softmax(o * t)
        if m == "after_softmax":
            p = softmax(o) / t
        if m == "ge":
            return _inv_cdf(p, u, strict=False)
        if m == "flat":
            return _inv_cdf(p, u, flat=True)
        k = _inv_cdf(p, u)
        if m == "argmax_none":
            none = np.cumsum(p, axis=1)[:, -1] <= u
            return np.where(none, 0, k).astype(np.int64) if none.any() else None
        if m == "plus1":
            return np.minimum(k + 1, o.shape[1] - 1)
        if m == "minus1":
            return np.maximum(k - 1, 0)
        return k
    return hyp


SAMPLE_INDEX = [
    ("index_K", lambda c: ck.Predicate(lambda g: np.any(np.asarray(g) >= c.arg("o").shape[1])),
         "you returned an index equal to K (the number of classes), a class that does not exist: when round-off "
         "leaves the last CDF entry a hair below u, no entry is > u. Cap the index: np.minimum(k, K - 1)."),
] + modes(_samp, {
    "argmax_none": "where no CDF entry is > u (round-off can leave the last one a hair below u), np.argmax(cdf > u)"
                   " finds no True and returns 0: return the last class, K - 1, in that case (np.minimum(k, K - 1) "
                   "with k counted as np.sum(cdf <= u)).",
    "greedy": "you return the argmax whatever the temperature: temperature 0 is greedy, any other temperature draws"
              " from softmax(o / temperature) by the inverse CDF at u.",
    "div0": "temperature 0 means greedy: return o.argmax(axis=1) (do not divide by 0).",
    "argmin": "temperature 0 means greedy: the most likely class, argmax, not argmin.",
    "ignore_t": "the temperature is ignored: sample from softmax(o / temperature).",
    "times_t": "you multiplied the logits by the temperature; divide: softmax(o / temperature).",
    "after_softmax": "the temperature is applied after the softmax (probabilities / T no longer sum to 1): divide "
                     "the LOGITS, softmax(o / temperature).",
    "ge": "you return the smallest k with cdf[k] >= u; the rule is cdf[k] > u (strictly), e.g. np.searchsorted(cdf,"
          " u, side='right').",
    "flat": "np.cumsum without axis=1 runs over the whole (B, K) array; take the cumulative sum along each row.",
    "plus1": "off by one: you return the index after the right one (the smallest k with cdf[k] > u).",
    "minus1": "off by one: you return the largest k with cdf[k] <= u; the rule is the smallest k with cdf[k] > u.",
})


# ------------------------------------------------------------------------------------------------ char LM
def _lm(params, inputs, targets, h0, loss_k="1", rnn_m=None, hlast="last"):
    p = params
    T, B = inputs.shape
    V, H = p["U_xh"].shape
    x = one_hot(inputs, V)
    h = _rnn_fwd(x, h0, p["U_xh"], p["W_hh"], p["b"])
    o = h @ p["V_ho"] + p["b_y"]
    loss, do = softmax_cross_entropy(o, targets)
    k_loss, k_do = {"1": (1, 1), "T": (1 / T, 1 / T), "B": (B, B), "do_B": (1, B)}[loss_k]
    loss, do = loss * k_loss, do * k_do
    dV = np.einsum("tbh,tbk->hk", h, do)
    db_y = do.sum((0, 1))
    dh = do @ p["V_ho"].T
    _, _, dU, dW, db = _rnn_bwd(dh, x, h0, p["U_xh"], p["W_hh"], h, rnn_m)
    h_last = {"last": h[-1], "h0": h0, "first": h[0]}[hlast]
    return loss, {"U_xh": dU, "W_hh": dW, "b": db, "V_ho": dV, "b_y": db_y}, h_last


_LM_LOSS_MSGS = [
    ("T", "the loss is averaged over time too (T times too small), and the gradients with it: the loss is SUMMED "
          "over time and averaged over the batch."),
    ("B", "the loss is not averaged over the batch (B times too large), and the gradients with it: divide by B."),
    ("do_B", "the gradients are B times too large: dL/do = (softmax(o) - onehot(y)) / B, since the loss is "
             "averaged over the batch."),
]
_LM_RNN = ("no_tanh", "tanh_of_h", "W_notT", "assign", "only_last", "no_time_flow", "dh_only_last", "forward_loop",
           "skip_last", "h_wrap", "h_misaligned", "db_mean")


def _lm_hyp(**kw):
    return lambda c: _lm(*c.values()[:4], **kw)


CHAR_LM_LOSS = ([(k, _lm_hyp(loss_k=k), msg) for k, msg in _LM_LOSS_MSGS]
                + [(m, _lm_hyp(rnn_m=m), "in the backward pass through the RNN: " + _RNN_MSG[m]) for m in _LM_RNN]
                + [("h_last_h0", _lm_hyp(hlast="h0"), "h_last must be the hidden state after the last step, h[T-1], "
                                                      "not h0."),
                   ("h_last_first", _lm_hyp(hlast="first"), "h_last must be the hidden state after the LAST step, "
                                                            "h[T-1] (h[-1]), not h[0].")])


def _train(c, clip="global", sign=1.0):
    params, inputs, targets, h0, lr, mx = c.values()
    loss, grads, h_last = _lm(params, inputs, targets, h0)
    if clip == "global":
        grads, _ = clip_by_global_norm(grads, mx)
    elif clip == "value":
        grads = {k: np.clip(g, -mx, mx) for k, g in grads.items()}
    elif clip == "per_tensor":
        grads = {k: _norm_per_tensor(g, mx) for k, g in grads.items()}
    return {k: params[k] - sign * lr * grads[k] for k in params}, loss, h_last


def _value_clip_bites(c):
    """True when clipping by value with max_norm changes some gradient entry of this case."""
    _, grads, _ = _lm(*c.values()[:4])
    return any(np.any(np.abs(g) > c.arg("max_norm")) for g in grads.values())


CHAR_LM_TRAIN_STEP = [
    ("no_clip", lambda c: _train(c, clip=None),
     "the gradients were not clipped: clip them by global norm (clip_by_global_norm(grads, max_norm)) before the "
     "SGD update. (Clipping each entry by value is not the same: a step can be far too long even when every "
     "entry is small.)"),
    ("clip_value", lambda c: _train(c, clip="value") if _value_clip_bites(c) else None,
     "you clipped by value; this step clips by global norm: every gradient scaled by max_norm / norm when the "
     "global norm exceeds max_norm."),
    ("clip_per_tensor", lambda c: _train(c, clip="per_tensor"),
     "you clipped each tensor by its own norm; clip by the global norm of all gradients together."),
    ("ascent", lambda c: _train(c, sign=-1.0), "the update goes uphill: params - lr * grads, not +."),
]
