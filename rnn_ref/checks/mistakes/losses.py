"""Mistakes of softmax, softmax_cross_entropy and perplexity."""
import numpy as np

from .. import engine as ck
from ...training.loss import softmax, softmax_cross_entropy


def _naive_softmax(o, axis=-1):
    e = np.exp(o)
    return e / e.sum(axis=axis, keepdims=True)


def _axis(c):
    """The axis a softmax case asks for, as a non-negative number."""
    o = c.arg("o")
    ax = dict(c.args).get("axis", -1)
    return ax % o.ndim


def _sums_to_one_along(g, ax):
    return g.ndim >= 2 and g.shape[ax] > 1 and np.allclose(g.sum(ax), 1)


def _softmax_mixed(c, max_axis, sum_axis):
    o = c.arg("o")
    e = np.exp(o - o.max(axis=max_axis, keepdims=True))
    return e / e.sum(axis=sum_axis, keepdims=True)


SOFTMAX = [
    ("unstable", lambda c: _naive_softmax(c.arg("o"), _axis(c)),
     "exp overflows for large logits (exp(1000) is inf, and inf/inf is NaN): subtract each row's max "
     "(along `axis`) first, softmax(o) = softmax(o - max(o)), which changes nothing mathematically."),
    ("global_max", lambda c: _naive_softmax(c.arg("o") - c.arg("o").max(), _axis(c)),
     "you subtracted the max of the whole array; subtract each row's own max (o.max(axis=axis, keepdims=True)), "
     "or rows far below the global max underflow to 0/0."),
    ("ignores_axis", lambda c: softmax(c.arg("o")) if _axis(c) != c.arg("o").ndim - 1 else None,
     "your softmax ignores its `axis` argument: it normalises along the last axis whatever axis it is given. "
     "Take the max and the sum along `axis` (np.max(o, axis=axis, keepdims=True), and the same for the sum)."),
    ("max_last", lambda c: _softmax_mixed(c, -1, _axis(c)) if _axis(c) != c.arg("o").ndim - 1 else None,
     "you take the sum along `axis` but the max along the last axis: a max subtracted along another axis is "
     "not a constant along `axis`, so it changes the result. Take both along `axis`."),
    ("sum_last", lambda c: _softmax_mixed(c, _axis(c), -1) if _axis(c) != c.arg("o").ndim - 1 else None,
     "you take the max along `axis` but the sum along the last axis: take the sum along `axis` too."),
    ("axis0", lambda c: ck.Predicate(lambda g: _axis(c) != 0 and _sums_to_one_along(g, 0)),
     "your output sums to 1 along axis 0; the softmax runs along `axis` (by default the last axis, the "
     "classes): use axis=axis, not axis=0."),
    ("all", lambda c: ck.Predicate(lambda g: np.isclose(g.sum(), 1) and g.size > g.shape[_axis(c)]),
     "the whole array sums to 1; each row must sum to 1: sum along `axis` with keepdims=True."),
    ("rows", lambda c: ck.Predicate(lambda g: np.all(np.isfinite(g)) and not np.allclose(g.sum(_axis(c)), 1)
                                    and not np.allclose(g.sum(0), 1) and not np.isclose(g.sum(), 1)),
     "your output does not sum to 1 along the axis: divide exp(o - max) by its sum along `axis` "
     "(keepdims=True)."),
]


def _sce(c, loss_k=1.0, do_k=1.0, m=None):
    o, y = c.arg("o"), c.arg("y")
    T, B, K = o.shape
    loss, do = softmax_cross_entropy(o, y)
    if m == "sign":
        do = -do
    if m == "no_onehot":
        do = softmax(o) / B
    if m == "unstable":
        p = _naive_softmax(o)
        t, b = np.indices((T, B))
        loss = -np.log(p[t, b, y]).sum() / B
        do = p.copy()
        do[t, b, y] -= 1
        do /= B
    return loss * loss_k, do * do_k


def _sce_hyp(loss_k, do_k, m=None, scale=None):
    def hyp(c):
        T, B, _ = c.arg("o").shape
        kk = {"T": 1.0 / T, "B": B, "TB": 1.0 / T, "1/T": 1.0 / T, "1": 1.0}
        return _sce(c, kk[loss_k] if isinstance(loss_k, str) else loss_k,
                    kk[do_k] if isinstance(do_k, str) else do_k, m)
    return hyp


SOFTMAX_CROSS_ENTROPY = [
    ("unstable", _sce_hyp(1, 1, "unstable"),
     "the softmax overflows for large logits: subtract each row's max before exp (better, use log_softmax: "
     "log p = z - log(sum(exp(z))) with z = o - max(o))."),
    ("loss_mean_T", _sce_hyp("T", "T"),
     "the loss is averaged over time too (T times too small): the course's loss is SUMMED over time and "
     "averaged over the batch only, L = (1/B) sum_t sum_b -log p[t, b, y[t, b]]."),
    ("loss_sum_B", _sce_hyp("B", "B"),
     "the loss is not averaged over the batch (B times too large): divide the sum by B."),
    ("do_noB", _sce_hyp(1, "B"),
     "do is missing the 1/B: since the loss is averaged over the batch, dL/do = (softmax(o) - onehot(y)) / B."),
    ("do_T", _sce_hyp(1, "T"),
     "do is divided by T as well; the loss is summed over time, so dL/do = (softmax(o) - onehot(y)) / B."),
    ("sign", _sce_hyp(1, 1, "sign"), "do has the wrong sign: dL/do = (softmax(o) - onehot(y)) / B."),
    ("loss_sign", _sce_hyp(-1, 1), "the loss has the wrong sign: it is MINUS the log-probability of the "
                                   "target, -log p[t, b, y[t, b]], a positive number."),
    ("no_onehot", _sce_hyp(1, 1, "no_onehot"),
     "do is softmax(o) / B: subtract 1 at each target class, do[t, b, y[t, b]] -= 1 (before dividing by B)."),
]

PERPLEXITY = [
    ("exp_neg", lambda c: float(np.exp(-c.arg("loss_per_token"))),
     "you computed exp(-loss); perplexity is exp(+loss per token)."),
    ("pow10", lambda c: float(10.0 ** c.arg("loss_per_token")),
     "you computed 10 ** loss, but the loss is in nats (natural log): perplexity = exp(loss)."),
    ("pow2", lambda c: float(2.0 ** c.arg("loss_per_token")),
     "you computed 2 ** loss, but the loss is in nats (natural log): perplexity = exp(loss)."),
    ("identity", lambda c: float(c.arg("loss_per_token")), "you returned the loss itself: perplexity = exp(loss)."),
    ("log", lambda c: float(np.log(c.arg("loss_per_token"))), "you took a log; perplexity = exp(loss)."),
]
