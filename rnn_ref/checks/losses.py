"""Checks of softmax, softmax_cross_entropy and perplexity."""
import numpy as np

from .cases import CASES
from .engine import Case, Spec, case_rng, run_check
from .mistakes import losses as hy
from ..training.loss import perplexity, softmax, softmax_cross_entropy


def _softmax_cases(hidden):
    seeds = (110, 111, 112, 113) if hidden else (10, 11, 12, 13)
    r = [case_rng(s) for s in seeds]
    cases = [Case(seeds[0], [("o", r[0].standard_normal((3, 5)) * 2)], note="(B, K) logits"),
             Case(seeds[1], [("o", r[1].standard_normal((4, 2, 6)) * 2)], note="(T, B, K) logits")]
    big = r[2].standard_normal((4, 5)) * 3
    big[0] += 1000.0
    big[1] -= 1000.0
    big[2, 1] = 1200.0
    cases.append(Case(seeds[2], [("o", big)], note="large logits (around +1000 and -1000)"))
    # another axis than the last: the text asks for softmax along any axis (sizes differ, so a wrong axis shows)
    cases.append(Case(seeds[3], [("o", r[3].standard_normal((3, 4, 5)) * 2), ("axis", 0)], note="axis=0"))
    if hidden:
        cases.append(Case(seeds[0], [("o", r[0].standard_normal((1, 1)))], note="K=1"))
        o = r[1].standard_normal((2, 3, 4)) * 500
        cases.append(Case(seeds[1], [("o", o)], note="(T, B, K) logits of size 500"))
        cases.append(Case(seeds[3], [("o", r[3].standard_normal((2, 5, 3)) * 300), ("axis", 1)],
                          note="axis=1, logits of size 300"))
        cases.append(Case(seeds[3], [("o", r[3].standard_normal((4, 3))), ("axis", -2)], note="axis=-2"))
    else:
        cases.append(Case(seeds[3], [("o", r[3].standard_normal((2, 3, 4)) * 2), ("axis", 1)], note="axis=1"))
    return cases


def _softmax_ref(c):
    return softmax(c.arg("o"), *[v for k, v in c.args if k == "axis"])


def check_softmax(f, hidden=False):
    """f(o, axis=-1) -> softmax along `axis` (the last by default), same shape as o; must survive logits of
    1000. The check calls f(o) and f(o, axis) with another axis.

    Used by exercise a2_loss; the book derives softmax in book/04_loss.md.
    """
    spec = Spec("softmax", ("softmax(o)",), _softmax_cases, _softmax_ref, single=True, hyps=hy.SOFTMAX)
    return run_check("check_softmax", spec, (f,), hidden)


def _sce_cases(hidden):
    sizes = ([(120, 5, 3, 4, 2.0), (121, 3, 1, 6, 2.0), (122, 1, 2, 3, 2.0), (123, 4, 2, 5, 800.0)] if hidden
             else [(20, 4, 3, 5, 2.0), (21, 3, 1, 4, 2.0), (22, 1, 2, 3, 2.0), (23, 3, 2, 4, 1000.0)])
    cases = []
    for seed, T, B, K, s in sizes:
        rng = case_rng(seed)
        note = "B=1" if B == 1 else "T=1" if T == 1 else f"large logits (scale {s:g})" if s > 10 else ""
        cases.append(Case(seed, [("o", rng.standard_normal((T, B, K)) * s), ("y", rng.integers(0, K, (T, B)))],
                          note=note))
    return cases


def check_softmax_cross_entropy(f, hidden=False):
    """f(o (T, B, K), y (T, B) int) -> loss (sum over time, mean over batch), do (T, B, K).

    Used by exercise a2_loss; the book derives softmax_cross_entropy in book/04_loss.md.
    """
    spec = Spec("softmax_cross_entropy", ("loss", "do"), _sce_cases,
                lambda c: softmax_cross_entropy(c.arg("o"), c.arg("y")), hyps=hy.SOFTMAX_CROSS_ENTROPY)
    return run_check("check_softmax_cross_entropy", spec, (f,), hidden)


def _perplexity_cases(hidden):
    if not hidden:
        return [Case(i, [("loss_per_token", v)]) for i, v in enumerate([0.7, 2.5, 0.0, float(np.log(65.0))])]
    rng = case_rng(100)
    vals = [rng.uniform(1.0, 4.0), 0.0, float(np.log(rng.integers(20, 200))), rng.uniform(0.001, 0.05)]
    return [Case(100 + i, [("loss_per_token", float(v))]) for i, v in enumerate(vals)]


def check_perplexity(f, hidden=False):
    """f(loss_per_token) -> perplexity, a float.

    Used by exercise a2_loss; the book derives perplexity in book/04_loss.md.
    """
    spec = Spec("perplexity", ("perplexity",), _perplexity_cases, lambda c: perplexity(c.arg("loss_per_token")),
                single=True, hyps=hy.PERPLEXITY)
    return run_check("check_perplexity", spec, (f,), hidden)


CASES.update({
    "check_softmax": lambda hd: _softmax_cases(hd),
    "check_softmax_cross_entropy": lambda hd: _sce_cases(hd),
    "check_perplexity": lambda hd: _perplexity_cases(hd),
})
