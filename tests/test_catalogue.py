"""The mistake catalogue tests itself: for every check and every hypothesis of its Spec, a student function
that makes exactly that mistake is built from the hypothesis, and the check must fail naming that mistake among
its first two "Likely cause:" lines.

forward check: the student function returns the hypothesis' output for the case whose inputs it is given.
backward check: the student's forward returns the reference's outputs with a cache that holds its inputs; the
student's backward finds the case from that cache and the upstream gradients and returns the hypothesis' output.
A predicate hypothesis (a property of the wrong output) has its planted example in
tests/student_mistakes.py (PREDICATE_EXAMPLES).
"""
import re

import numpy as np
import pytest

import rnn_ref.checks as ck
import student_mistakes as sm
from rnn_ref.checks import engine as C
from rnn_ref.checks.mistakes import gradcheck
from test_checks import REFERENCE

# (check, hypothesis) pairs that are provably the same output as another hypothesis, each with its reason
SAME_OUTPUT = {
}

RUNS = {"check_attention_training", "check_char_lm_training"}  # training runs: no hypotheses


def _specs():
    out = {}
    for name, fns in sorted(REFERENCE.items()):
        if name in RUNS or name == "check_numerical_gradient":
            continue
        getattr(ck, name)(*fns)
        out[name] = C.SPECS[name]
    return out


SPECS = _specs()
HYPS = [(name, h[0]) for name, spec in SPECS.items() for h in spec.hyps]
HYPS += [("check_numerical_gradient", h[0]) for h in gradcheck.NUMGRAD]


def _all_cases(spec):
    return spec.cases(False) + spec.cases(True)


def _find(cases, values, dvalues=None):
    for c in cases:
        if len(c.values()) == len(values) and all(C.same_tree(a, b) for a, b in zip(c.values(), values)) and (
                dvalues is None or all(C.same_tree(a, b) for a, b in zip(c.dvalues(), dvalues))):
            return c
    raise LookupError("no case has these inputs")


def _uncache(out):
    if isinstance(out, tuple):
        return tuple(None if v is C.IGNORE else v for v in out)
    return out


def _planted(spec, hyp):
    """The student functions that make the mistake `hyp` (the reference where hyp says nothing)."""
    cases = _all_cases(spec)

    def answer(case):
        out = C.silently(hyp, case)
        return spec.ref(case) if out is None else out

    if spec.fwd is None:
        return (lambda *args: _uncache(answer(_find(cases, args))),)
    _, _, ref_fwd, cache_i = spec.fwd

    def fwd(*args):
        out = list(_uncache(ref_fwd(_find(cases, args))))
        out[cache_i] = ("inputs", args)
        return tuple(out)

    def bwd(*a):
        *d, cache = a
        return answer(_find(cases, cache[1], d))
    return fwd, bwd


def _planted_numgrad(hyp):
    cases = gradcheck._ng_cases(False) + gradcheck._ng_cases(True)

    def numerical_gradient(f, x, h=1e-5):
        case = next(c for c in cases if np.array_equal(c.arg("x"), x) and c.arg("h") == h)
        for _ in range(2 * x.size):  # calls f as often as a central difference does, x left as it was
            f()
        return hyp(x.copy(), case.extra["w"], h)
    return (numerical_gradient,)


def _causes(msg):
    lines = [" ".join(part.split()) for part in re.split(r"\n  (?=\S)", msg)]
    return [l[len("Likely cause: "):] for l in lines if l.startswith("Likely cause: ")][:2]


def _said(template, causes):
    pattern = re.escape(" ".join(template.split())).replace(re.escape("{out}"), r"\S*")
    return any(re.fullmatch(pattern, " ".join(c.split())) for c in causes)


def _failure(name, fns):
    for hidden in (False, True):
        try:
            getattr(ck, name)(*fns, hidden=hidden)
        except AssertionError as e:
            return str(e)
    return None


@pytest.mark.parametrize("name,hname", HYPS, ids=[f"{n[6:]}-{h}" for n, h in HYPS])
def test_every_hypothesis_is_diagnosed_as_itself(name, hname):
    if (name, hname) in SAME_OUTPUT:
        pytest.skip(SAME_OUTPUT[(name, hname)])  # listed above with its reason, counted in the report
    if name == "check_numerical_gradient":
        hyp, msg = next((h, m) for n, h, m in gradcheck.NUMGRAD if n == hname)
        fns = _planted_numgrad(hyp)
    else:
        spec = SPECS[name]
        hyp, msg = next((h, m) for n, h, m in spec.hyps if n == hname)
        probe = next((C.silently(hyp, c) for c in _all_cases(spec) if C.silently(hyp, c) is not None), None)
        if isinstance(probe, C.Predicate):
            assert (name, hname) in sm.PREDICATE_EXAMPLES, \
                f"{name}'s predicate hypothesis {hname!r} has no planted example in student_mistakes.py"
            fns = sm.PREDICATE_EXAMPLES[(name, hname)]
        else:
            fns = _planted(spec, hyp)
    msg_out = _failure(name, fns)
    assert msg_out is not None, f"{name} passes a function that makes the mistake {hname!r}"
    causes = _causes(msg_out)
    assert _said(msg, causes), f"{hname!r} is not among the first two causes:\n{msg_out}"


def test_every_predicate_example_is_a_predicate_of_the_catalogue():
    for (name, hname) in sm.PREDICATE_EXAMPLES:
        assert (name, hname) in HYPS, (name, hname)


def test_the_exceptions_are_few_and_named():
    assert all(k in HYPS for k in SAME_OUTPUT) and len(SAME_OUTPUT) <= 10
