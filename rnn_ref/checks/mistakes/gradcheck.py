"""Mistakes of numerical_gradient: NUMGRAD compares gradients; _what_f_saw reads the values of x that f saw
(f reads x in place, so checks/training.py watches them)."""
import numpy as np

from .. import engine as ck
from ...training.gradcheck import numerical_gradient

# ------------------------------------------------------------------------------------------------ numerical gradient
# A scalar function of x (read in place) whose gradient x^2 + 2 + e^x + w is never near zero and whose second and
# third derivatives are large enough that a forward difference or a wrong step shows. Written as an expression so
# that the grader's sandbox can build the same function next to the student's x.
NG_EXPR = "float(np.sum(x ** 3 / 3.0 + 2.0 * x + np.exp(x) + w * x))"
_NG_CODE = compile(NG_EXPR, "<the checked function>", "eval")


def _ng_func(x, w):
    return lambda: eval(_NG_CODE, {"np": np}, {"x": x, "w": w})


def _ng_cases(hidden):
    spec = ([(190, (4,), 1e-5, ""), (191, (2, 3), 1e-5, ""), (192, (2, 2, 2), 1e-5, "3-D x"),
             (193, (3, 2), 1e-2, "step h=1e-2"), (194, (1,), 1e-4, "a single entry, h=1e-4")] if hidden else
            [(90, (3,), 1e-5, ""), (91, (2, 3), 1e-5, ""), (92, (2, 2), 1e-2, "step h=1e-2")])
    cases = []
    for seed, shape, h, note in spec:
        rng = ck.case_rng(seed)
        cases.append(ck.Case(seed, [("x", rng.uniform(-1, 1, shape)), ("h", h)], note=note,
                             w=rng.uniform(0, 1, shape)))
    return cases


def _ng_ref(x, w, h):
    x = x.copy()
    return numerical_gradient(_ng_func(x, w), x, h)


def _ng_forward(x, w, h):
    x = x.copy()
    f = _ng_func(x, w)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        f0 = f()
        old = x[i]
        x[i] = old + h
        g[i] = (f() - f0) / h
        x[i] = old
    return g


def _ng_scaled(k):
    return lambda x, w, h: _ng_ref(x, w, h) * k


def _ng_fixed_step(step):
    return lambda x, w, h: _ng_ref(x, w, step)


NUMGRAD = [
    ("forward difference", _ng_forward,
     "you used a forward difference (f(x+h) - f(x)) / h, whose error is of order h; use the central difference "
     "(f(x+h) - f(x-h)) / (2h), whose error is of order h^2."),
    ("denominator h", _ng_scaled(2.0), "the gradient is twice too large: divide f(x+h) - f(x-h) by 2h, not h."),
    ("fixed step", _ng_fixed_step(1e-5), "you ignored the argument h (used 1e-5 whatever h is): use the step "
                                         "the caller passes."),
]


def _what_f_saw(seen, h):
    """The mistake that the values of x seen by f show, or ''. seen: x - x0 at each call of f."""
    if not seen:
        return ""
    moved = [np.flatnonzero(np.abs(d) > 1e-3 * h) for d in seen]
    if all(len(m) == 0 for m in moved):
        return ("f never saw x change: every call of f saw the original x. f reads x itself, so change x in "
                "place (x[i] = old + h), not a copy of x.")
    for d, m in zip(seen, moved):
        if len(m) > 1:
            return (f"when f ran, {len(m)} entries of x were changed at once: put each entry back (x[i] = old) "
                    f"before moving on to the next, so that each evaluation changes one entry only.")
    offsets = {}
    for d, m in zip(seen, moved):
        if len(m) == 1:
            offsets.setdefault(int(m[0]), []).append(float(d.flat[m[0]]))
    plus_twice = [i for i, o in offsets.items() if sum(np.isclose(v, h, rtol=1e-3) for v in o) >= 2
                  and not any(np.isclose(v, -h, rtol=1e-3) for v in o)]
    if plus_twice:
        return ("f saw x[i] + h at both evaluations of an entry: x still held old + h when f ran the second "
                "time. Set x[i] = old - h (in x itself, not a copy) before the second call.")
    minus_twice = [i for i, o in offsets.items() if sum(np.isclose(v, -h, rtol=1e-3) for v in o) >= 2
                   and not any(np.isclose(v, h, rtol=1e-3) for v in o)]
    if minus_twice:
        return ("f saw x[i] - h at both evaluations of an entry: set x[i] = old + h before the first call and "
                "x[i] = old - h before the second.")
    plus_only = [i for i, o in offsets.items() if any(np.isclose(v, h, rtol=1e-3) for v in o)
                 and not any(np.isclose(v, -h, rtol=1e-3) for v in o)]
    if plus_only and len(plus_only) == len(offsets):
        return ("f saw x[i] + h and the unchanged x, never x[i] - h: after x[i] += h, x[i] -= h only goes back "
                "to old. Set x[i] = old + h, call f, set x[i] = old - h, call f, then x[i] = old.")
    steps = sorted({float(f"{abs(v):.3g}") for o in offsets.values() for v in o})
    if len(steps) == 1 and not np.isclose(steps[0], h, rtol=1e-3):
        return (f"f saw x[i] moved by {steps[0]:g}, but the step h is {h:g}: move x[i] by exactly the h "
                f"the caller passes, x[i] = old + h and x[i] = old - h.")
    return ""
