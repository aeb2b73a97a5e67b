"""Checks that exercise test cells call: check_<function>(<student function>).

Each check runs the student's function and the reference on several seeded cases (random shapes, B=1, T=1,
H=1, large logits; hidden=True runs another, harder set) and compares every output. It returns None when they
agree (elementwise relative error below 1e-6) and otherwise raises AssertionError naming the first wrong
output, the case, the largest error and, when it can tell, the likely cause. A backward check takes the
student's forward too and hands the student's own cache to the student's backward.

Checks never print or write to stderr: warnings of the student's code are caught and reported in the message.
Messages are wrapped at 88 characters (nbgrader validate cuts longer lines), the likely cause right after the
first line. case_inputs(check_name, n) returns the inputs of visible case n, to rebuild a failing case.
check_char_lm_training runs a short training with the student's char_lm_train_step.
"""
import numpy as np

from . import mistakes as hy
from .engine import IGNORE, Case, Spec, case_rng, describe, run_check, wrap_message
from ..models.architectures import encoder_decoder_forward, many_to_one_loss
from ..models.attention import (additive_attention_backward, additive_attention_forward, attention_encoder_decoder_loss,
                        attention_greedy_decode)
from ..models.bidirectional import bidirectional_backward, bidirectional_forward
from ..models.charlm import char_lm_loss, char_lm_train_step, sample_index
from ..training.clip import clip_by_global_norm, clip_by_value
from ..models.deep import stacked_rnn_backward, stacked_rnn_forward
from ..cells.gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward
from ..training.loss import perplexity, softmax, softmax_cross_entropy
from ..cells.lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from ..cells.rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward

__all__ = [
    "check_rnn_step_forward", "check_rnn_step_backward", "check_rnn_forward", "check_rnn_backward",
    "check_softmax", "check_softmax_cross_entropy", "check_perplexity", "check_numerical_gradient",
    "check_clip_by_value", "check_clip_by_global_norm", "check_sample_index", "check_char_lm_loss",
    "check_char_lm_train_step", "check_many_to_one_loss", "check_encoder_decoder_forward",
    "check_bidirectional_forward", "check_bidirectional_backward", "check_stacked_rnn_forward",
    "check_stacked_rnn_backward", "check_lstm_step_forward", "check_lstm_step_backward", "check_lstm_forward",
    "check_lstm_backward", "check_gru_step_forward", "check_gru_step_backward", "check_gru_forward",
    "check_gru_backward", "check_additive_attention_forward", "check_additive_attention_backward",
    "check_attention_encoder_decoder_loss", "check_attention_training", "check_own_work",
    "check_char_lm_training", "case_inputs",
]

# ------------------------------------------------------------------------------------------------ the cases
# (seed, T, B, D, H, note, weight scale). Sizes differ from one another so that a transposed matrix with
# mismatched shapes raises, and the square W_hh is random (not symmetric) so that W_hh vs W_hh.T differ.
_VISIBLE = [(0, 4, 3, 5, 4, "", 0.6), (1, 3, 1, 2, 3, "B=1", 0.6), (2, 1, 2, 3, 4, "T=1", 0.6),
            (3, 3, 2, 2, 1, "H=1", 0.6)]
_HIDDEN = [(100, 6, 4, 2, 3, "", 0.5), (101, 5, 1, 3, 2, "B=1", 0.7), (102, 1, 3, 4, 5, "T=1", 0.6),
           (103, 2, 2, 3, 1, "H=1", 0.6), (104, 3, 2, 4, 3, "large weights", 2.0)]

_NOTES_SEQ = {"T=1": "so the single-step math is right and the mistake is in what crosses time steps "
                     "(the recurrence, the loop over t, or the accumulation of gradients over steps).",
              "B=1": "so the per-example math is right and the mistake is in how the batch is handled "
                     "(a sum over the batch axis, or a division by B)."}
_NOTES_STEP = {"B=1": _NOTES_SEQ["B=1"]}


def _sizes(hidden):
    return _HIDDEN if hidden else _VISIBLE


def _rnn_cases(hidden, seq, grads):
    cases = []
    for seed, T, B, D, H, note, s in _sizes(hidden):
        rng = case_rng(seed)
        args = [("x", rng.standard_normal((T, B, D) if seq else (B, D))),
                ("h0" if seq else "h_prev", rng.standard_normal((B, H)) * 0.8),
                ("U_xh", rng.standard_normal((D, H)) * s), ("W_hh", rng.standard_normal((H, H)) * s),
                ("b", rng.standard_normal(H) * 0.3)]
        dargs = [("dh", rng.standard_normal((T, B, H) if seq else (B, H)))] if grads else []
        cases.append(Case(seed, args, dargs, note))
    return cases


def _lstm_cases(hidden, seq, grads):
    cases = []
    for size in _sizes(hidden):
        seed, T, B, D, H, note, s = size
        rng = case_rng(seed)
        shp = (T, B, D) if seq else (B, D)
        args = [("x", rng.standard_normal(shp)), ("h0" if seq else "h_prev", rng.standard_normal((B, H)) * 0.8),
                ("c0" if seq else "c_prev", rng.standard_normal((B, H))),
                ("Wx", rng.standard_normal((D, 4 * H)) * s), ("Wh", rng.standard_normal((H, 4 * H)) * s),
                ("b", rng.standard_normal(4 * H) * 0.5)]
        dargs = []
        if grads:
            dargs = [("dh", rng.standard_normal((T, B, H) if seq else (B, H)))]
            if not seq:
                dargs.append(("dc", rng.standard_normal((B, H))))
        cases.append(Case(seed, args, dargs, note))
    return cases


def _gru_cases(hidden, seq, grads):
    cases = []
    for size in _sizes(hidden):
        seed, T, B, D, H, note, s = size
        rng = case_rng(seed)
        shp = (T, B, D) if seq else (B, D)
        args = [("x", rng.standard_normal(shp)), ("h0" if seq else "h_prev", rng.standard_normal((B, H)) * 0.8),
                ("Wx", rng.standard_normal((D, 3 * H)) * s), ("Wh", rng.standard_normal((H, 3 * H)) * s),
                ("bx", rng.standard_normal(3 * H) * 0.5), ("bh", rng.standard_normal(3 * H) * 0.5)]
        dargs = [("dh", rng.standard_normal((T, B, H) if seq else (B, H)))] if grads else []
        cases.append(Case(seed, args, dargs, note))
    return cases


def _first(fn):
    """The reference's outputs with the cache replaced by IGNORE."""
    def ref(case):
        out = fn(*case.values())
        return tuple(out[:-1]) + (IGNORE,)
    return ref


def _backward_ref(fwd, bwd):
    def ref(case):
        out = fwd(*case.values())
        return tuple(bwd(*case.dvalues(), out[-1]))
    return ref


# ------------------------------------------------------------------------------------------------ vanilla RNN
_RNN_GRADS_STEP = ("dx", "dh_prev", "dU_xh", "dW_hh", "db")
_RNN_GRADS = ("dx", "dh0", "dU_xh", "dW_hh", "db")


def _zero_W(name):
    return lambda c: c.replace(note=f"{name} = 0", **{name: np.zeros_like(c.arg(name))})


def _only_last_dh(c):
    dh = np.zeros_like(c.arg("dh"))
    if dh.shape[0] < 2:
        return None
    dh[-1] = c.arg("dh")[-1]
    return c.replace(note="dh nonzero only at the last step", dh=dh)


_PROBE_NO_RECURRENCE = ("It agrees with the reference when {W} = 0 (no path through time), so each step's local "
                        "gradient is right; the mistake is in the path through time ({W} and the gradient "
                        "carried from step t+1 to step t).")
_PROBE_LAST_DH = ("It agrees with the reference when the upstream dh is nonzero only at the last step, so the "
                  "recurrence is right; the gradients arriving from the loss at the earlier steps are not "
                  "handled: at every step add dh[t] to the gradient coming back from step t+1.")


def _rnn_probes(W):
    return [(_only_last_dh, _PROBE_LAST_DH), (_zero_W(W), _PROBE_NO_RECURRENCE.format(W=W))]


def check_rnn_step_forward(f, hidden=False):
    """f(x, h_prev, U_xh, W_hh, b) -> h, cache."""
    spec = Spec("rnn_step_forward", ("h", "cache"), lambda hd: _rnn_cases(hd, False, False),
                _first(rnn_step_forward), hyps=hy.RNN_STEP_FORWARD, case_notes=_NOTES_STEP)
    return run_check("check_rnn_step_forward", spec, (f,), hidden)


def check_rnn_step_backward(fwd, bwd, hidden=False):
    """fwd(x, h_prev, U_xh, W_hh, b) -> h, cache ; bwd(dh, cache) -> dx, dh_prev, dU_xh, dW_hh, db."""
    spec = Spec("rnn_step_backward", _RNN_GRADS_STEP, lambda hd: _rnn_cases(hd, False, True),
                _backward_ref(rnn_step_forward, rnn_step_backward),
                fwd=("rnn_step_forward", ("h", "cache"), _first(rnn_step_forward), 1),
                hyps=hy.RNN_STEP_BACKWARD, case_notes=_NOTES_STEP)
    return run_check("check_rnn_step_backward", spec, (fwd, bwd), hidden)


def check_rnn_forward(f, hidden=False):
    """f(x, h0, U_xh, W_hh, b) -> h (T, B, H), cache."""
    spec = Spec("rnn_forward", ("h", "cache"), lambda hd: _rnn_cases(hd, True, False), _first(rnn_forward),
                hyps=hy.RNN_FORWARD, probes=[(_zero_W("W_hh"), _PROBE_NO_RECURRENCE.format(W="W_hh"))],
                case_notes=_NOTES_SEQ)
    return run_check("check_rnn_forward", spec, (f,), hidden)


def check_rnn_backward(fwd, bwd, hidden=False):
    """fwd(x, h0, U_xh, W_hh, b) -> h, cache ; bwd(dh (T, B, H), cache) -> dx, dh0, dU_xh, dW_hh, db."""
    spec = Spec("rnn_backward", _RNN_GRADS, lambda hd: _rnn_cases(hd, True, True),
                _backward_ref(rnn_forward, rnn_backward),
                fwd=("rnn_forward", ("h", "cache"), _first(rnn_forward), 1),
                hyps=hy.RNN_BACKWARD, probes=_rnn_probes("W_hh"), case_notes=_NOTES_SEQ)
    return run_check("check_rnn_backward", spec, (fwd, bwd), hidden)


# ------------------------------------------------------------------------------------------------ losses
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
    1000. The check calls f(o) and f(o, axis) with another axis."""
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
    """f(o (T, B, K), y (T, B) int) -> loss (sum over time, mean over batch), do (T, B, K)."""
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
    """f(loss_per_token) -> perplexity, a float."""
    spec = Spec("perplexity", ("perplexity",), _perplexity_cases, lambda c: perplexity(c.arg("loss_per_token")),
                single=True, hyps=hy.PERPLEXITY)
    return run_check("check_perplexity", spec, (f,), hidden)


# ------------------------------------------------------------------------------------------------ gradient check
def check_numerical_gradient(f, hidden=False):
    """f(func, x, h=1e-5) -> d func / d x by central differences, where func() reads x in place."""
    return hy.check_numerical_gradient(f, hidden)


# ------------------------------------------------------------------------------------------------ clipping
def _grads_dict(rng, s):
    return {"U_xh": rng.standard_normal((3, 4)) * s, "W_hh": rng.standard_normal((4, 4)) * s,
            "b": rng.standard_normal(4) * s, "V_ho": rng.standard_normal((4, 3)) * s, "b_y": rng.standard_normal(3) * s}


def _clip_value_cases(hidden):
    if hidden:
        spec = [(130, 8.0, 5.0, ""), (131, 1.0, 0.05, "most entries clipped"), (132, 0.1, 5.0, "nothing to clip"),
                (133, 50.0, 1.0, "")]
    else:
        spec = [(30, 6.0, 5.0, ""), (31, 1.0, 0.5, ""), (32, 0.5, 5.0, "nothing to clip")]
    cases = []
    for seed, s, limit, note in spec:
        cases.append(Case(seed, [("grads", _grads_dict(case_rng(seed), s)), ("limit", limit)],
                          note=note))
    return cases


def check_clip_by_value(f, hidden=False):
    """f(grads dict, limit) -> a new dict, every entry clipped to [-limit, limit]; grads untouched."""
    spec = Spec("clip_by_value", ("clipped",), _clip_value_cases,
                lambda c: clip_by_value(c.arg("grads"), c.arg("limit")), single=True, hyps=hy.CLIP_BY_VALUE)
    return run_check("check_clip_by_value", spec, (f,), hidden)


def _clip_norm_cases(hidden):
    if hidden:
        spec = [(140, 3.0, 1.0, "norm above max_norm"), (141, 0.2, 10.0, "norm below max_norm"),
                (142, 100.0, 0.01, "norm far above max_norm")]
    else:
        spec = [(40, 2.0, 5.0, "norm above max_norm"), (41, 0.1, 5.0, "norm below max_norm")]
    cases = []
    for seed, s, m, note in spec:
        cases.append(Case(seed, [("grads", _grads_dict(case_rng(seed), s)), ("max_norm", m)],
                          note=note))
    return cases


def check_clip_by_global_norm(f, hidden=False):
    """f(grads dict, max_norm) -> (new dict, global norm before clipping); grads untouched."""
    spec = Spec("clip_by_global_norm", ("clipped", "norm"), _clip_norm_cases,
                lambda c: clip_by_global_norm(c.arg("grads"), c.arg("max_norm")), hyps=hy.CLIP_BY_GLOBAL_NORM)
    return run_check("check_clip_by_global_norm", spec, (f,), hidden)


# ------------------------------------------------------------------------------------------------ sampling
def _sample_cases(hidden):
    base = 150 if hidden else 50
    cases = []
    rng = case_rng(base)
    temps = [1.0, 0.5, 2.0, 0.0] if not hidden else [1.0, 0.3, 3.0, 0.0, 1.0]
    for i, t in enumerate(temps):
        # many rows, so that two different mistakes rarely give the same indices
        B, K = (30, 5) if i != 1 else (1, 4)
        o = rng.standard_normal((B, K)) * 2
        u = rng.random(B)
        note = "temperature 0 (greedy)" if t == 0 else f"temperature {t:g}" + (", B=1" if B == 1 else "")
        cases.append(Case(base + i, [("o", o), ("temperature", t), ("u", u)], note=note))
    # equal logits: the CDF is exactly 0.25, 0.5, 0.75, 1; u on a boundary tests "smallest k with cdf > u"
    o = np.zeros((4, 4))
    o[3] = [0.0, 0.0, 0.0, 0.0]
    cases.append(Case(base + 9, [("o", o), ("temperature", 1.0), ("u", np.array([0.0, 0.25, 0.5, 0.999]))],
                      note="equal logits, u on the CDF's steps"))
    big = rng.standard_normal((3, 5)) * 3
    big[0] += 1000
    big[1, 2] = 900
    cases.append(Case(base + 10, [("o", big), ("temperature", 1.0 if not hidden else 0.5), ("u", rng.random(3))],
                      note="large logits"))
    # u a hair below 1: in about a third of the rows round-off leaves cumsum(p)[-1] below u, whichever way p is
    # computed, and an unguarded search returns K, a class that does not exist
    o = case_rng(base + 11).standard_normal((24, 5)) * 2
    cases.append(Case(base + 11, [("o", o), ("temperature", 1.0 if not hidden else 0.7),
                                  ("u", np.full(24, np.nextafter(1.0, 0.0)))], note="u a hair below 1"))
    return cases


def _sample_explain(fns, case, failure, cases):
    """Sampling mistakes that no fixed output shows: ignoring u (own random numbers, or none)."""
    from .engine import _SPEC_OF_CALL, CheckFailure, run_case
    if case.arg("temperature") == 0:
        return [], []
    spec = _SPEC_OF_CALL[0]

    def again(c):
        try:
            return np.asarray(run_case(spec, fns, c, {})[0].got)
        except CheckFailure as e:
            return np.asarray(e.got) if hasattr(e, "leaves") else None

    first = np.asarray(failure.bad[0][0].got)
    second = again(case)
    if second is not None and second.shape == first.shape and not np.array_equal(first, second):
        return ["your function returned other indices when called again with the same o, temperature and u: "
                "it draws its own random numbers (np.random...). Use the u it is given: the smallest k with "
                "cumsum(p)[k] > u[b]."], []
    u2 = (case.arg("u") + 0.5) % 1.0
    other = again(case.replace(u=u2))
    want = sample_index(case.arg("o"), case.arg("temperature"), u2)
    if other is not None and np.array_equal(other, first) and not np.array_equal(want, first):
        return ["your result does not change when u changes: the draw must use u, the smallest k with "
                "cumsum(p)[k] > u[b] (p = softmax(o / temperature) of row b)."], []
    return [], []


def check_sample_index(f, hidden=False):
    """f(o (B, K), temperature, u (B,)) -> (B,) int: the smallest k with cumsum(softmax(o / T))[k] > u."""
    spec = Spec("sample_index", ("indices",), _sample_cases,
                lambda c: sample_index(c.arg("o"), c.arg("temperature"), c.arg("u")), single=True,
                hyps=hy.SAMPLE_INDEX, explain=_sample_explain)
    return run_check("check_sample_index", spec, (f,), hidden)


# ------------------------------------------------------------------------------------------------ char LM
def _lm_params(rng, V, H, s, s_out=1.0):
    return {"U_xh": rng.standard_normal((V, H)) * s, "W_hh": rng.standard_normal((H, H)) * s,
            "b": rng.standard_normal(H) * 0.3, "V_ho": rng.standard_normal((H, V)) * s_out,
            "b_y": rng.standard_normal(V) * 0.3}


def _lm_cases(hidden, train=False):
    sizes = ([(160, 6, 4, 5, 3, "", 0.5, 1.0), (161, 4, 1, 4, 6, "B=1", 0.7, 1.0), (162, 1, 3, 6, 2, "T=1", 0.6, 1.0),
              (163, 3, 2, 5, 4, "large logits", 0.6, 300.0)] if hidden else
             [(60, 4, 3, 5, 4, "", 0.6, 1.0), (61, 3, 1, 4, 3, "B=1", 0.6, 1.0), (62, 1, 2, 3, 5, "T=1", 0.6, 1.0),
              (63, 3, 2, 4, 3, "large logits", 0.6, 400.0)])
    cases = []
    for seed, T, B, V, H, note, s, so in sizes:
        rng = case_rng(seed)
        args = [("params", _lm_params(rng, V, H, s, so)), ("inputs", rng.integers(0, V, (T, B))),
                ("targets", rng.integers(0, V, (T, B))), ("h0", rng.standard_normal((B, H)) * 0.5)]
        if train:
            norm = _grad_norm(args)
            # clipping active in the even cases (max_norm a tenth of the norm), idle in the odd ones
            # two learning rates, so that a step that ignores lr shows
            args += [("lr", 0.1 if seed % 2 == 0 else 0.25),
                     ("max_norm", float(norm / 10) if seed % 2 == 0 else float(norm * 2))]
            note = (note + ", " if note else "") + ("clipping active" if seed % 2 == 0 else "no clipping needed")
        cases.append(Case(seed, args, note=note))
    return cases


def _grad_norm(args):
    _, g, _ = char_lm_loss(*[v for _, v in args])
    return np.sqrt(sum(np.sum(v * v) for v in g.values()))


def check_char_lm_loss(f, hidden=False):
    """f(params, inputs (T, B) int, targets (T, B) int, h0) -> loss, grads dict keyed like params, h_last."""
    spec = Spec("char_lm_loss", ("loss", "grads", "h_last"), _lm_cases,
                lambda c: char_lm_loss(*c.values()), hyps=hy.CHAR_LM_LOSS, case_notes=_NOTES_SEQ)
    return run_check("check_char_lm_loss", spec, (f,), hidden)


def _train_step_explain(fns, case, failure, cases):
    """A step whose update is a constant multiple of the right one: the learning rate is not the one given."""
    from .engine import _nice_factor
    params = case.arg("params")
    got = {l.path: l.got for l in failure.leaves}
    ref = {l.path: l.ref for l in failure.leaves}
    ratios = []
    for k, p in params.items():
        path = f"new_params['{k}']"
        if path not in got:
            return [], []
        right, mine = p - ref[path], p - got[path]
        big = np.abs(right) > 1e-3 * np.max(np.abs(right)) if np.any(right) else None
        if big is None or not np.any(big):
            continue
        ratios.append(mine[big] / right[big])
    if not ratios:
        return [], []
    r = np.concatenate(ratios)
    k = float(r[0])
    if not np.allclose(r, k, rtol=1e-6) or np.isclose(k, 1):
        return [], []
    lr = case.arg("lr")
    return [f"your update is exactly {_nice_factor(k) or f'{k:.4g}'} times the right one, in every parameter: "
            f"as if the learning rate were {k * lr:.4g} instead of the lr = {lr:g} given. Use the lr argument "
            f"(and no other factor): new = params - lr * clipped gradient."], []


def check_char_lm_train_step(f, hidden=False):
    """f(params, inputs, targets, h0, lr, max_norm) -> new params, loss, h_last (clip by global norm, SGD).
    The step must clip with the student's own clip_by_global_norm, not rnn_ref's."""
    problem = _own_pieces_problem(f, "char_lm_train_step")
    if problem:
        raise AssertionError(wrap_message(f"check_char_lm_train_step: {problem}"))
    spec = Spec("char_lm_train_step", ("new_params", "loss", "h_last"), lambda hd: _lm_cases(hd, True),
                lambda c: char_lm_train_step(*c.values()), hyps=hy.CHAR_LM_TRAIN_STEP, explain=_train_step_explain)
    return run_check("check_char_lm_train_step", spec, (f,), hidden)


# ------------------------------------------------------------------------------------------------ training run
# A short run: a slice of rnn_ref.data's corpus in B parallel streams, windows of T characters, the hidden state
# carried from window to window. Clipping is active in nearly every step (the gradient norm is above max_norm).
_TRAIN = {False: dict(seed=40, steps=250, chars=2000), True: dict(seed=140, steps=200, chars=2000)}
_TRAIN_H, _TRAIN_T, _TRAIN_B, _TRAIN_LR, _TRAIN_MAX_NORM = 32, 12, 16, 0.5, 5.0
_TRAIN_FALL = 0.8  # the last 20 steps' mean loss must be below this fraction of the first 20 steps'


def _training_setup(hidden):
    from ..models.charlm import init_char_lm
    from ..data import batchify, encode, load_corpus, make_vocab
    cfg = _TRAIN[hidden]
    rng = case_rng(cfg["seed"])
    text = load_corpus()
    start = 0 if not hidden else int(rng.integers(0, len(text) - cfg["chars"]))
    text = text[start:start + cfg["chars"]]
    chars = make_vocab(text)
    streams = batchify(encode(text, chars), _TRAIN_B)
    shapes = init_char_lm(len(chars), _TRAIN_H)  # only for the names and shapes of the parameters
    params = {k: rng.standard_normal(v.shape) * 0.1 if v.ndim == 2 else np.zeros(v.shape) for k, v in shapes.items()}
    return cfg, params, streams


def _training_spec(case):
    return Spec("char_lm_train_step", ("new_params", "loss", "h_last"), lambda hd: [case],
                lambda c: char_lm_train_step(*c.values()), hyps=hy.CHAR_LM_TRAIN_STEP, explain=_train_step_explain)


def check_char_lm_training(f, hidden=False):
    """Train a small character language model with the student's step f(params, inputs, targets, h0, lr,
    max_norm) -> (new params, loss, h_last), a few hundred steps on a slice of rnn_ref.data's corpus, and check
    that the loss per character falls. Every step is also compared with the reference step on the same inputs,
    so a step that trains but is wrong (clipping each tensor by its own norm, say) is named, and a step that
    modifies params in place fails. None when the run is right; AssertionError with the cause otherwise.
    Prints nothing. hidden=True: another slice of the corpus and other initial weights."""
    __tracebackhide__ = True
    from .engine import CheckFailure, copy_tree, run_case
    name = "check_char_lm_training"
    problem = _own_pieces_problem(f, "char_lm_train_step")
    if problem:
        raise AssertionError(wrap_message(f"{name}: {problem}"))
    cfg, params, streams = _training_setup(hidden)
    steps, T, B = cfg["steps"], _TRAIN_T, _TRAIN_B
    h = np.zeros((B, _TRAIN_H))
    pos, losses, first_wrong, diverged, wrong_steps = 0, [], None, None, []
    for k in range(1, steps + 1):
        if pos + T + 1 > streams.shape[0]:  # out of text: start over with a fresh state
            pos, h = 0, np.zeros((B, _TRAIN_H))
        inputs, targets = streams[pos:pos + T], streams[pos + 1:pos + T + 1]
        pos += T
        case = Case(cfg["seed"], [("params", params), ("inputs", inputs), ("targets", targets), ("h0", h),
                                  ("lr", _TRAIN_LR), ("max_norm", _TRAIN_MAX_NORM)])
        spec = _training_spec(case)
        try:
            leaves = run_case(spec, (f,), case, {})
            got = [l.got for l in leaves]
            out = ({p.split("'")[1]: v for p, v in zip([l.path for l in leaves], got) if p.startswith("new_params")},
                   got[-2], got[-1])
        except CheckFailure as e:
            if e.kind != "value":  # raised, returned the wrong structure, modified params in place: say so now
                _training_fail(name, spec, f, k, steps, hidden, "")
            if first_wrong is None:
                first_wrong = (k, case)
            if len(wrong_steps) < 10:  # a few more, to tell mistakes apart that agree at some steps
                wrong_steps.append(case)
            out = e.got
        new_params, loss, h = copy_tree(out[0]), float(np.asarray(out[1])), np.asarray(out[2])
        losses.append(loss / T)
        if not (np.isfinite(loss) and all(np.all(np.isfinite(v)) for v in new_params.values())):
            diverged = k
            break
        params = new_params
    L = np.array(losses)
    n = min(20, max(1, len(L) // 4))
    start, end = float(np.mean(L[:n])), float(np.mean(L[-n:])) if diverged is None else float("nan")
    uniform = float(np.log(params["U_xh"].shape[0]))  # the loss per character of guessing uniformly
    blew = int(np.argmax(L > 3 * uniform)) + 1 if diverged is None and np.any(L > 3 * uniform) else None
    if diverged is not None or blew is not None or end > start:
        if diverged is not None:
            what = f"the training diverged: the loss became NaN or infinite at step {diverged} of {steps}"
        elif blew is not None:
            what = (f"the training blew up: at step {blew} of {steps} the loss per character was "
                    f"{L[blew - 1]:.4g}, far above the {uniform:.3f} of guessing uniformly")
        else:
            what = f"the loss rose during training (per character: first {n} steps {start:.3f}, last {n} {end:.3f})"
        hint = ("Gradient clipping is what keeps one large gradient from blowing the weights up: clip by the "
                "global norm (your clip_by_global_norm, with max_norm) before the update, and subtract "
                "lr * gradient (an update with the wrong sign climbs).")
    elif end > _TRAIN_FALL * start:
        what = (f"the loss did not fall enough in {steps} steps (per character: first {n} steps {start:.3f}, "
                f"last {n} {end:.3f}; it must fall below {_TRAIN_FALL:g} times the start)")
        hint = ("Hint: check that the step subtracts lr times the clipped gradient from every parameter and "
                "returns the new parameters and the last hidden state (the next window starts from it).")
    elif first_wrong is not None:
        what = (f"the loss fell ({start:.3f} -> {end:.3f} per character), but your step does not compute what "
                f"char_lm_train_step must")
        hint = ""
    else:
        return None
    if first_wrong is None:
        raise AssertionError(wrap_message(f"{name}: {what}.\n  {hint}"))
    k, case = first_wrong
    _training_fail(name, _training_spec(case), f, k, steps, hidden, what, hint, wrong_steps)


def _training_fail(name, spec, f, k, steps, hidden, what, hint="", more_cases=()):
    """Raise the message of training step k: the run's outcome first, then the step's own diagnosis."""
    __tracebackhide__ = True
    from .engine import CheckFailure, _message, run_case
    case = spec.cases(hidden)[0]
    record = {}
    try:
        run_case(spec, (f,), case, record)
        lines = []
    except CheckFailure as fl:
        cases = [case] + [c for c in more_cases if c is not case]
        lines = _message(name, spec, (f,), case, 0, 1, fl, record, cases, hidden=True).split("\n  ")
    lines = [x.replace("case 1 of 1: ", f"training step {k} of {steps}: ", 1) for x in lines]
    if lines:
        lines[0] = lines[0].replace(f"{name}: ", "", 1)
    causes = [x for x in lines if x.startswith("Likely cause: ")]
    rest = [x for x in lines if not x.startswith("Likely cause: ")]
    if not causes and hint:
        causes = [hint if hint.startswith("Hint: ") else f"Likely cause: {hint}"]
    elif hint and not hint.startswith("Hint: "):  # a diverging run: clipping is always worth a word
        causes = causes[:1] + [hint]
    if what:
        head = f"{name}: {what}."
        if rest:
            rest[0] = f"At training step {k} of {steps}: {rest[0]}"
    else:
        head = f"{name}: at training step {k} of {steps}: " + (rest.pop(0) if rest else "your step failed.")
    raise AssertionError(wrap_message("\n  ".join([head] + causes + rest)))


# ------------------------------------------------------------------------------------------------ architectures
def _m2o_cases(hidden):
    cases = []
    for seed, T, B, D, H, note, s in _sizes(hidden):
        rng = case_rng(seed + 7)
        K = 3 if H != 3 else 4
        p = {"U_xh": rng.standard_normal((D, H)) * s, "W_hh": rng.standard_normal((H, H)) * s,
             "b": rng.standard_normal(H) * 0.3, "V_ho": rng.standard_normal((H, K)) * (30.0 if s > 1 else 1.5),
             "b_y": rng.standard_normal(K) * 0.3}
        cases.append(Case(seed, [("x", rng.standard_normal((T, B, D))), ("h0", rng.standard_normal((B, H)) * 0.5),
                                 ("params", p), ("y", rng.integers(0, K, B))], note=note))
    return cases


def check_many_to_one_loss(f, hidden=False):
    """f(x (T, B, D), h0, params {U_xh, W_hh, b, V_ho, b_y}, y (B,) int) -> loss (mean over batch), grads dict."""
    spec = Spec("many_to_one_loss", ("loss", "grads"), _m2o_cases, lambda c: many_to_one_loss(*c.values()),
                hyps=hy.MANY_TO_ONE_LOSS, case_notes=_NOTES_SEQ)
    return run_check("check_many_to_one_loss", spec, (f,), hidden)


def _encdec_cases(hidden):
    sizes = ([(170, 5, 3, 4, 2, 3, 5, ""), (171, 2, 1, 3, 3, 4, 2, "B=1"), (172, 1, 2, 2, 1, 2, 3, "T_in=1, T_out=1")]
             if hidden else [(70, 4, 3, 2, 3, 5, 4, ""), (71, 3, 1, 3, 2, 3, 3, "B=1"),
                             (72, 1, 2, 4, 1, 2, 3, "T_in=1, T_out=1")])
    cases = []
    for seed, T_in, B, D, T_out, H, K, note in sizes:
        rng = case_rng(seed)
        s = 0.6
        p = {"U_enc": rng.standard_normal((D, H)) * s, "W_enc": rng.standard_normal((H, H)) * s,
             "b_enc": rng.standard_normal(H) * 0.3, "U_dec": rng.standard_normal((K, H)) * s,
             "W_dec": rng.standard_normal((H, H)) * s, "b_dec": rng.standard_normal(H) * 0.3,
             "V_ho": rng.standard_normal((H, K)), "b_y": rng.standard_normal(K) * 0.3}
        cases.append(Case(seed, [("x", rng.standard_normal((T_in, B, D))), ("y_in", rng.integers(0, K, (T_out, B))),
                                 ("h0", rng.standard_normal((B, H)) * 0.5), ("params", p)], note=note))
    return cases


def check_encoder_decoder_forward(f, hidden=False):
    """f(x (T_in, B, D), y_in (T_out, B) int, h0, params) -> logits (T_out, B, K), cache."""
    spec = Spec("encoder_decoder_forward", ("logits", "cache"), _encdec_cases, _first(encoder_decoder_forward),
                hyps=hy.ENCODER_DECODER_FORWARD)
    return run_check("check_encoder_decoder_forward", spec, (f,), hidden)


def _bi_cases(hidden, grads):
    cases = []
    for seed, T, B, D, H, note, s in _sizes(hidden):
        rng = case_rng(seed + 3)
        x = rng.standard_normal((T, B, D))
        pf = (rng.standard_normal((D, H)) * s, rng.standard_normal((H, H)) * s, rng.standard_normal(H) * 0.3)
        pb = (rng.standard_normal((D, H)) * s, rng.standard_normal((H, H)) * s, rng.standard_normal(H) * 0.3)
        args = [("x", x), ("h0_f", rng.standard_normal((B, H)) * 0.5), ("h0_b", rng.standard_normal((B, H)) * 0.5),
                ("params_f", pf), ("params_b", pb)]
        dargs = [("dh", rng.standard_normal((T, B, 2 * H)))] if grads else []
        cases.append(Case(seed, args, dargs, note))
    return cases


def _bi_forward_ref(c):
    return bidirectional_forward(*c.values())[0], IGNORE


def check_bidirectional_forward(f, hidden=False):
    """f(x (T, B, D), h0_f, h0_b, params_f, params_b) -> h (T, B, 2H) = [forward h_t, backward h_t], cache.
    RNN cells; params are (U_xh, W_hh, b) tuples."""
    spec = Spec("bidirectional_forward", ("h", "cache"), lambda hd: _bi_cases(hd, False), _bi_forward_ref,
                hyps=hy.BIDIRECTIONAL_FORWARD)
    return run_check("check_bidirectional_forward", spec, (f,), hidden)


_PNAMES = ("dU_xh", "dW_hh", "db")


def check_bidirectional_backward(fwd, bwd, hidden=False):
    """fwd as in check_bidirectional_forward; bwd(dh (T, B, 2H), cache) -> dx, dh0_f, dh0_b, dparams_f, dparams_b
    (dparams: tuples (dU_xh, dW_hh, db))."""
    def ref(c):
        _, cache = bidirectional_forward(*c.values())
        return bidirectional_backward(c.arg("dh"), cache)
    spec = Spec("bidirectional_backward", ("dx", "dh0_f", "dh0_b", "dparams_f", "dparams_b"),
                lambda hd: _bi_cases(hd, True), ref, fwd=("bidirectional_forward", ("h", "cache"), _bi_forward_ref, 1),
                hyps=hy.BIDIRECTIONAL_BACKWARD, subnames={"dparams_f": _PNAMES, "dparams_b": _PNAMES},
                case_notes=_NOTES_SEQ)
    return run_check("check_bidirectional_backward", spec, (fwd, bwd), hidden)


def _stacked_cases(hidden, grads):
    sizes = ([(180, 4, 3, 2, 3, 3, "L=3"), (181, 3, 1, 3, 2, 2, "B=1"), (182, 1, 2, 4, 3, 2, "T=1"),
              (183, 3, 2, 3, 3, 2, "D=H")] if hidden else
             [(80, 4, 3, 5, 4, 2, ""), (81, 3, 1, 2, 3, 2, "B=1"), (82, 1, 2, 3, 2, 2, "T=1"),
              (83, 3, 2, 3, 3, 2, "D=H")])
    cases = []
    for seed, T, B, D, H, L, note in sizes:
        rng = case_rng(seed)
        layers = [(rng.standard_normal((D if l == 0 else H, H)) * 0.7, rng.standard_normal((H, H)) * 0.6,
                   rng.standard_normal(H) * 0.3) for l in range(L)]
        args = [("x", rng.standard_normal((T, B, D))), ("h0s", rng.standard_normal((L, B, H)) * 0.5),
                ("layers", layers)]
        dargs = [("dh", rng.standard_normal((T, B, H)))] if grads else []
        cases.append(Case(seed, args, dargs, note))
    return cases


def _stacked_forward_ref(c):
    return stacked_rnn_forward(*c.values())[0], IGNORE


def check_stacked_rnn_forward(f, hidden=False):
    """f(x (T, B, D), h0s (L, B, H), layers [(U_xh, W_hh, b), ...]) -> top layer's h (T, B, H), cache."""
    spec = Spec("stacked_rnn_forward", ("h", "cache"), lambda hd: _stacked_cases(hd, False), _stacked_forward_ref,
                hyps=hy.STACKED_FORWARD)
    return run_check("check_stacked_rnn_forward", spec, (f,), hidden)


def check_stacked_rnn_backward(fwd, bwd, hidden=False):
    """fwd as in check_stacked_rnn_forward; bwd(dh (T, B, H), cache) -> dx, dh0s (L, B, H),
    dlayers [(dU_xh, dW_hh, db), ...] bottom layer first."""
    def ref(c):
        _, cache = stacked_rnn_forward(*c.values())
        return stacked_rnn_backward(c.arg("dh"), cache)
    spec = Spec("stacked_rnn_backward", ("dx", "dh0s", "dlayers"), lambda hd: _stacked_cases(hd, True), ref,
                fwd=("stacked_rnn_forward", ("h", "cache"), _stacked_forward_ref, 1), hyps=hy.STACKED_BACKWARD,
                subnames={f"dlayers[{l}]": _PNAMES for l in range(4)}, case_notes=_NOTES_SEQ)
    return run_check("check_stacked_rnn_backward", spec, (fwd, bwd), hidden)


# ------------------------------------------------------------------------------------------------ gates
# A gated cell's bias gradient holds one block per gate, and each block is that gate's gradient summed over the
# batch: the blocks that disagree with the reference say which gate's term is wrong.
_LSTM_TERMS = {"i": "da_i = dc_total * g * i * (1 - i)", "f": "da_f = dc_total * c_prev * f * (1 - f)",
               "g": "da_g = dc_total * i * (1 - g**2)", "o": "da_o = dh * tanh(c) * o * (1 - o)"}
_LSTM_NAMES = {"i": "input gate", "f": "forget gate", "g": "candidate g", "o": "output gate"}
_GRU_TERMS = {"r": "da_r = dn * (h_prev @ Wh_n + bh_n) * r * (1 - r)", "z": "da_z = dh * (h_prev - n) * z * (1 - z)",
              "n": "da_n = dn = dh * (1 - z) * (1 - n**2) on the x side, r * dn on the h side"}
_GRU_NAMES = {"r": "reset gate", "z": "update gate", "n": "new state n"}


def _wrong_blocks(leaf, gates):
    from .engine import close
    H = leaf.ref.shape[-1] // len(gates)
    return [g for k, g in enumerate(gates) if not close(leaf.ref[..., k * H:(k + 1) * H],
                                                        leaf.got[..., k * H:(k + 1) * H])]


def _gate_sentence(cell, bias, wrong, gates):
    terms, names = (_LSTM_TERMS, _LSTM_NAMES) if cell == "lstm" else (_GRU_TERMS, _GRU_NAMES)
    right = [g for g in gates if g not in wrong]
    if cell == "lstm" and set(wrong) == {"i", "f", "g"}:
        return (f"the blocks of {bias} for i, f and g are wrong and o is right: the three share "
                f"dc_total = dc + dh * o * (1 - tanh(c)**2), so dc_total is wrong (the dh path into c, or "
                f"the incoming dc).")
    span = {0: "[0:H]", 1: "[H:2H]", 2: "[2H:3H]", 3: "[3H:4H]"}
    blocks = ", ".join(f"{g} (columns {span[gates.index(g)]})" for g in wrong)
    one = len(wrong) == 1
    what = " and ".join(f"{names[g]} ({g})" for g in wrong)
    where = ("dc_total = dc + dh * o * (1 - tanh(c)**2)" if cell == "lstm" and set(wrong) & set("ifg") else
             "dn = dh * (1 - z) * (1 - n**2)" if cell == "gru" and set(wrong) & set("rn") else "")
    return (f"in {bias}, the gate block{'' if one else 's'} {blocks} {'is' if one else 'are'} wrong and "
            f"{', '.join(right)} {'is' if len(right) == 1 else 'are'} right, so the gradient of the {what} is "
            f"wrong: " + "; ".join(terms[g] for g in wrong) + (f", with {where}." if where else "."))


def _gate_explain(cell, step_name=None):
    """explain() for a gated cell's backward: which gate blocks of the bias gradients are wrong. For a
    sequence (step_name given) it looks at the T=1 case: wrong there means the one-step math is wrong."""
    gates = "ifgo" if cell == "lstm" else "rzn"
    biases = ("db",) if cell == "lstm" else ("dbx", "dbh")

    def blocks(leaves):
        for bias in biases:
            leaf = leaves.get(bias)
            if leaf is not None and leaf.kind == "array":
                wrong = _wrong_blocks(leaf, gates)
                if wrong and len(wrong) < len(gates):
                    return _gate_sentence(cell, bias, wrong, gates)
        return ""

    def explain(fns, case, failure, cases):
        from .engine import _SPEC_OF_CALL, CheckFailure, run_case
        leaves = {l.path: l for l in failure.leaves}
        if step_name is None:
            sentence = blocks(leaves)
            if sentence:
                return [sentence], []
            if all(b in leaves and _wrong_blocks(leaves[b], gates) == [] for b in biases):
                agree = "agrees" if len(biases) == 1 else "agree"
                return [], [f"The gate gradients are right ({' and '.join(biases)} {agree} with the reference), so the "
                            f"mistake is in sending them back: dx = da @ Wx.T, dh_prev = da @ Wh.T"
                            + (" plus the direct path dh * z" if cell == "gru" else "") + "."]
            return [], []
        one = [c for c in cases if c.note == "T=1" and c is not case]
        if not one:
            return [], []
        try:
            run_case(_SPEC_OF_CALL[0], fns, one[0], {})
            return [], []  # right at T=1: the loop is to blame, and the T=1 note says so
        except CheckFailure as e:
            if not hasattr(e, "leaves"):
                return [], []
            sentence = blocks({l.path: l for l in e.leaves})
            wrong_at_1 = {b[0].path for b in e.bad}
        seq = step_name.replace("_step", "")
        initial = {"dh0", "dc0"}
        if wrong_at_1 <= initial:  # the step's gradients are right: what the loop returns at the end is not
            names = " and ".join(sorted(wrong_at_1))
            return [], [f"In the T=1 case dx and the weight gradients are right and only {names} "
                        f"{'is' if len(wrong_at_1) == 1 else 'are'} wrong: return what the last step of your "
                        f"backward loop (t = 0) sends back, its dh_prev"
                        + (" and dc_prev" if cell == "lstm" else "") + f", as {names}."]
        return [f"your {seq} is wrong even in the T=1 case (one step, nothing crosses time), so the one-step "
                f"math is wrong, not the loop: if your {seq} calls your {step_name}, fix {step_name} first "
                f"(check_{step_name} says more)." + (f" At T=1, {sentence}" if sentence else "")], []
    return explain


# ------------------------------------------------------------------------------------------------ LSTM
_LSTM_GRADS_STEP = ("dx", "dh_prev", "dc_prev", "dWx", "dWh", "db")
_LSTM_GRADS = ("dx", "dh0", "dc0", "dWx", "dWh", "db")


def check_lstm_step_forward(f, hidden=False):
    """f(x, h_prev, c_prev, Wx, Wh, b) -> h, c, cache (gates i, f, g, o)."""
    spec = Spec("lstm_step_forward", ("h", "c", "cache"), lambda hd: _lstm_cases(hd, False, False),
                _first(lstm_step_forward), hyps=hy.LSTM_STEP_FORWARD, case_notes=_NOTES_STEP)
    return run_check("check_lstm_step_forward", spec, (f,), hidden)


def check_lstm_step_backward(fwd, bwd, hidden=False):
    """fwd(x, h_prev, c_prev, Wx, Wh, b) -> h, c, cache ; bwd(dh, dc, cache) -> dx, dh_prev, dc_prev, dWx, dWh, db."""
    spec = Spec("lstm_step_backward", _LSTM_GRADS_STEP, lambda hd: _lstm_cases(hd, False, True),
                _backward_ref(lstm_step_forward, lstm_step_backward),
                fwd=("lstm_step_forward", ("h", "c", "cache"), _first(lstm_step_forward), 2),
                hyps=hy.LSTM_STEP_BACKWARD, case_notes=_NOTES_STEP, explain=_gate_explain("lstm"))
    return run_check("check_lstm_step_backward", spec, (fwd, bwd), hidden)


def check_lstm_forward(f, hidden=False):
    """f(x (T, B, D), h0, c0, Wx, Wh, b) -> h (T, B, H), cache."""
    spec = Spec("lstm_forward", ("h", "cache"), lambda hd: _lstm_cases(hd, True, False), _first(lstm_forward),
                hyps=hy.LSTM_FORWARD, probes=[(_zero_W("Wh"), _PROBE_NO_RECURRENCE.format(W="Wh"))],
                case_notes=_NOTES_SEQ)
    return run_check("check_lstm_forward", spec, (f,), hidden)


def check_lstm_backward(fwd, bwd, hidden=False):
    """fwd(x, h0, c0, Wx, Wh, b) -> h, cache ; bwd(dh (T, B, H), cache) -> dx, dh0, dc0, dWx, dWh, db."""
    spec = Spec("lstm_backward", _LSTM_GRADS, lambda hd: _lstm_cases(hd, True, True),
                _backward_ref(lstm_forward, lstm_backward),
                fwd=("lstm_forward", ("h", "cache"), _first(lstm_forward), 1),
                hyps=hy.LSTM_BACKWARD, probes=_rnn_probes("Wh"), case_notes=_NOTES_SEQ,
                explain=_gate_explain("lstm", "lstm_step_backward"))
    return run_check("check_lstm_backward", spec, (fwd, bwd), hidden)


# ------------------------------------------------------------------------------------------------ GRU
_GRU_GRADS_STEP = ("dx", "dh_prev", "dWx", "dWh", "dbx", "dbh")
_GRU_GRADS = ("dx", "dh0", "dWx", "dWh", "dbx", "dbh")


def check_gru_step_forward(f, hidden=False):
    """f(x, h_prev, Wx, Wh, bx, bh) -> h, cache (PyTorch's r, z, n)."""
    spec = Spec("gru_step_forward", ("h", "cache"), lambda hd: _gru_cases(hd, False, False),
                _first(gru_step_forward), hyps=hy.GRU_STEP_FORWARD, case_notes=_NOTES_STEP)
    return run_check("check_gru_step_forward", spec, (f,), hidden)


def check_gru_step_backward(fwd, bwd, hidden=False):
    """fwd(x, h_prev, Wx, Wh, bx, bh) -> h, cache ; bwd(dh, cache) -> dx, dh_prev, dWx, dWh, dbx, dbh."""
    spec = Spec("gru_step_backward", _GRU_GRADS_STEP, lambda hd: _gru_cases(hd, False, True),
                _backward_ref(gru_step_forward, gru_step_backward),
                fwd=("gru_step_forward", ("h", "cache"), _first(gru_step_forward), 1),
                hyps=hy.GRU_STEP_BACKWARD, case_notes=_NOTES_STEP, explain=_gate_explain("gru"))
    return run_check("check_gru_step_backward", spec, (fwd, bwd), hidden)


def check_gru_forward(f, hidden=False):
    """f(x (T, B, D), h0, Wx, Wh, bx, bh) -> h (T, B, H), cache."""
    spec = Spec("gru_forward", ("h", "cache"), lambda hd: _gru_cases(hd, True, False), _first(gru_forward),
                hyps=hy.GRU_FORWARD, probes=[(_zero_W("Wh"), _PROBE_NO_RECURRENCE.format(W="Wh"))],
                case_notes=_NOTES_SEQ)
    return run_check("check_gru_forward", spec, (f,), hidden)


def check_gru_backward(fwd, bwd, hidden=False):
    """fwd(x, h0, Wx, Wh, bx, bh) -> h, cache ; bwd(dh (T, B, H), cache) -> dx, dh0, dWx, dWh, dbx, dbh."""
    spec = Spec("gru_backward", _GRU_GRADS, lambda hd: _gru_cases(hd, True, True),
                _backward_ref(gru_forward, gru_backward), fwd=("gru_forward", ("h", "cache"), _first(gru_forward), 1),
                hyps=hy.GRU_BACKWARD, probes=_rnn_probes("Wh"), case_notes=_NOTES_SEQ,
                explain=_gate_explain("gru", "gru_step_backward"))
    return run_check("check_gru_backward", spec, (fwd, bwd), hidden)


# ------------------------------------------------------------------------------------------------ attention
# (seed, T_in, B, H_dec, H_enc, A, note, weight scale, scale of v). H_dec != H_enc so that s and h_enc cannot
# be swapped; "large scores" makes exp overflow unless the max is subtracted first.
_ATT_VISIBLE = [(73, 5, 3, 4, 6, 3, "", 0.7, 1.5), (74, 4, 1, 3, 2, 4, "B=1", 0.7, 1.5),
                (75, 1, 2, 3, 4, 2, "T_in=1", 0.7, 1.5)]
_ATT_HIDDEN = [(173, 6, 4, 5, 3, 4, "", 0.6, 1.5), (174, 3, 1, 2, 4, 3, "B=1", 0.8, 1.5),
               (175, 1, 3, 4, 2, 5, "T_in=1", 0.7, 1.5), (176, 4, 2, 3, 3, 2, "large scores", 1.0, 1.0)]
_NOTES_ATT = {"T_in=1": "where the single weight is 1 whatever the scores, so the mistake is in the scores, "
                        "the softmax or their gradients.",
              "B=1": _NOTES_SEQ["B=1"]}


def _attention_cases(hidden, grads):
    cases = []
    for seed, T_in, B, H_dec, H_enc, A, note, s, sv in (_ATT_HIDDEN if hidden else _ATT_VISIBLE):
        rng = case_rng(seed)
        args = [("s", rng.standard_normal((B, H_dec))), ("h_enc", rng.standard_normal((T_in, B, H_enc))),
                ("W_s", rng.standard_normal((H_dec, A)) * s), ("W_h", rng.standard_normal((H_enc, A)) * s),
                ("v", rng.standard_normal(A) * sv)]
        if note == "large scores":  # v scaled so that the largest score is +1000: exp(1000) overflows
            e = np.tanh(args[0][1] @ args[2][1] + args[1][1] @ args[3][1]) @ args[4][1]
            k = np.abs(e).argmax()
            args[4] = ("v", args[4][1] * (1000.0 / e.flat[k]))
        dargs = [("dcontext", rng.standard_normal((B, H_enc)))] if grads else []
        cases.append(Case(seed, args, dargs, note))
    return cases


def check_additive_attention_forward(f, hidden=False):
    """f(s (B, H_dec), h_enc (T_in, B, H_enc), W_s (H_dec, A), W_h (H_enc, A), v (A,)) -> context (B, H_enc),
    alpha (T_in, B), cache."""
    spec = Spec("additive_attention_forward", ("context", "alpha", "cache"), lambda hd: _attention_cases(hd, False),
                _first(additive_attention_forward), hyps=hy.ATTENTION_FORWARD, case_notes=_NOTES_ATT)
    return run_check("check_additive_attention_forward", spec, (f,), hidden)


def check_additive_attention_backward(fwd, bwd, hidden=False):
    """fwd as in check_additive_attention_forward; bwd(dcontext (B, H_enc), cache) -> ds, dh_enc, dW_s, dW_h, dv."""
    spec = Spec("additive_attention_backward", ("ds", "dh_enc", "dW_s", "dW_h", "dv"),
                lambda hd: _attention_cases(hd, True),
                _backward_ref(additive_attention_forward, additive_attention_backward),
                fwd=("additive_attention_forward", ("context", "alpha", "cache"),
                     _first(additive_attention_forward), 2),
                hyps=hy.ATTENTION_BACKWARD, case_notes=_NOTES_ATT)
    return run_check("check_additive_attention_backward", spec, (fwd, bwd), hidden)


def _attention_params(rng, D, H, K, A, s=0.6):
    shapes = {"U_enc": (D, H), "W_enc": (H, H), "b_enc": (H,), "U_dec": (K, H), "W_dec": (H, H), "b_dec": (H,),
              "W_s": (H, A), "W_h": (H, A), "v": (A,), "V_ho": (H, K), "V_co": (H, K), "b_y": (K,)}
    return {k: rng.standard_normal(shape) * s for k, shape in shapes.items()}


def _att_loss_cases(hidden):
    sizes = ([(164, 5, 4, 3, 2, 4, 5, 3, ""), (165, 2, 3, 1, 3, 3, 4, 2, "B=1"), (166, 1, 1, 2, 2, 2, 3, 1,
              "T_in=1, T_out=1"), (167, 6, 2, 2, 3, 3, 4, 3, "T_in > T_out")] if hidden else
             [(64, 4, 3, 2, 3, 5, 6, 3, ""), (65, 3, 2, 1, 2, 3, 4, 2, "B=1"), (66, 1, 1, 2, 3, 2, 3, 2,
              "T_in=1, T_out=1")])
    cases = []
    for seed, T_in, T_out, B, D, H, K, A, note in sizes:
        rng = case_rng(seed)
        cases.append(Case(seed, [("x", rng.standard_normal((T_in, B, D))), ("y_in", rng.integers(0, K, (T_out, B))),
                                 ("y_out", rng.integers(0, K, (T_out, B))), ("h0", rng.standard_normal((B, H)) * 0.5),
                                 ("params", _attention_params(rng, D, H, K, A))], note=note))
    return cases


def check_attention_encoder_decoder_loss(f, hidden=False):
    """f(x (T_in, B, D), y_in (T_out, B) int, y_out (T_out, B) int, h0 (B, H), params) -> loss (summed over time,
    mean over the batch), grads (a dict keyed like params: U_enc, W_enc, b_enc, U_dec, W_dec, b_dec, W_s, W_h, v,
    V_ho, V_co, b_y)."""
    spec = Spec("attention_encoder_decoder_loss", ("loss", "grads"), _att_loss_cases,
                lambda c: attention_encoder_decoder_loss(*c.values()), hyps=hy.ATTENTION_LOSS)
    return run_check("check_attention_encoder_decoder_loss", spec, (f,), hidden)


def _reverse_batch(rng, T, B, digits=8):
    d = rng.integers(0, digits, size=(T, B))
    y_out = d[::-1].copy()
    y_in = np.vstack([np.full((1, B), digits), y_out[:-1]])
    x = np.zeros((T, B, digits))
    np.put_along_axis(x, d[..., None], 1.0, axis=-1)
    return x, y_in, y_out


def check_attention_training(f, hidden=False):
    """A short training run with f = attention_encoder_decoder_loss(x, y_in, y_out, h0, params) -> (loss, grads):
    reverse sequences of 8 digits (9 in the hidden run) with Adam; passes when the trained model, decoded
    greedily, puts at least 90% of the test digits in the right place."""
    __tracebackhide__ = True
    try:
        return _check_attention_training(f, hidden)
    except AssertionError as e:
        raise AssertionError(wrap_message(str(e))) from None


def _check_attention_training(f, hidden):
    __tracebackhide__ = True
    from .engine import CheckFailure, student_call
    from ..training.clip import clip_by_global_norm
    from ..training.optim import adam_step
    name, fname = "check_attention_training", "attention_encoder_decoder_loss"
    seed, T = (168, 9) if hidden else (68, 8)
    DIGITS, H, A, B, steps, lr = 8, 32, 16, 32, 300, 2e-2
    K = DIGITS + 1
    rng = case_rng(seed)
    params = {k: v * 0.3 for k, v in _attention_params(rng, DIGITS, H, K, A, s=1.0).items()}
    x_test, _, y_test = _reverse_batch(rng, T, 300)
    h0 = np.zeros((B, H))
    state, losses = None, []
    for step in range(steps):
        x, y_in, y_out = _reverse_batch(rng, T, B)
        case = Case(seed, [("x", x), ("y_in", y_in), ("y_out", y_out), ("h0", h0), ("params", params)],
                    note=f"training step {step + 1} of {steps}")
        try:
            out = student_call(f, fname, case.values(), [k for k, _ in case.args], case, {})
        except CheckFailure as e:
            raise AssertionError(f"{name}: {e.msg}") from None
        bad = ""
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            bad = f"{fname} should return 2 values (loss, grads); yours returned {describe(out)}."
        elif not isinstance(out[1], dict) or set(out[1]) != set(params):
            bad = f"grads should be a dict with the keys {list(params)}; yours is {describe(out[1])}."
        elif any(np.shape(out[1][k]) != params[k].shape for k in params):
            k = next(k for k in params if np.shape(out[1][k]) != params[k].shape)
            bad = f"grads['{k}'] has shape {np.shape(out[1][k])}; expected {params[k].shape}."
        if bad:
            raise AssertionError(f"{name}: {bad}" if out is not None else
                                 f"{name}: {fname} returned None: did you forget the `return` statement?")
        loss, grads = float(np.asarray(out[0])), {k: np.asarray(v, dtype=np.float64) for k, v in out[1].items()}
        if not np.isfinite(loss) or not all(np.isfinite(g).all() for g in grads.values()):
            raise AssertionError(f"{name}: at training step {step + 1} your {fname} returned a loss or gradients "
                                 f"that are NaN or infinite (loss {loss!r}). Run check_{fname} first.")
        losses.append(loss / T)
        grads, _ = clip_by_global_norm(grads, 5.0)
        params, state = adam_step(params, grads, state, lr=lr)
    decoded, _ = attention_greedy_decode(x_test, np.zeros((x_test.shape[1], H)), params, DIGITS, T)
    acc = float(np.mean(decoded == y_test))
    first, last = np.mean(losses[:20]), np.mean(losses[-20:])
    if acc < 0.9:
        raise AssertionError(
            f"{name}: after {steps} Adam steps with your {fname} on reversing {T} digits, the model puts "
            f"{acc:.0%} of the test digits in the right place (at least 90% expected; the reference reaches "
            f"about 100%). Loss per output digit: {first:.3f} in the first 20 steps, {last:.3f} in the last 20. "
            f"If check_{fname} passes, look for gradients that are right in size but not in direction, such as "
            f"a sign; if it fails, fix what it reports first.")
    return None


# ------------------------------------------------------------------------------------------------ own work
def _is_rnn_ref_module(v):
    import types
    return isinstance(v, types.ModuleType) and v.__name__.split(".")[0] == "rnn_ref"


def _uses_reference(code, names, name, ref, depth=0):
    """True when the code (or a function nested in it) reaches rnn_ref's function `name`: a variable bound to
    it (an alias, a from-import), attribute access on an rnn_ref module (rnn_ref.name, rr.name, an
    `import rnn_ref` inside), or a from-import inside; or, one level down, through the student's own function
    of that name when that one reaches it. names: what the function's global and free variables refer to.
    It reads the bytecode, so an rnn_ref.other_piece(...) next to a call of the student's own `name` is fine."""
    import dis
    import sys
    instrs = list(dis.get_instructions(code))
    local_modules = set()   # local variables that hold an rnn_ref module imported inside the function
    importing = None        # the module of the IMPORT_NAME being processed
    for k, ins in enumerate(instrs):
        op, arg = ins.opname, ins.argval
        if op == "IMPORT_NAME":
            importing = str(arg)
            continue
        if op in ("STORE_FAST", "STORE_DEREF", "STORE_NAME") and k and instrs[k - 1].opname == "IMPORT_NAME" \
                and importing and importing.split(".")[0] == "rnn_ref":
            local_modules.add(arg)
        if op == "IMPORT_FROM" and arg == name and importing and importing.split(".")[0] == "rnn_ref":
            return True
        if op in ("LOAD_GLOBAL", "LOAD_NAME", "LOAD_DEREF", "LOAD_CLASSDEREF"):
            v = names.get(arg)
            if v is ref:
                return True
            if depth == 0 and arg == name and callable(v) and hasattr(v, "__code__") and v is not ref:
                inner = dict(getattr(v, "__globals__", {}))
                if _uses_reference(v.__code__, inner, name, ref, depth + 1):
                    return True
        if op in ("LOAD_ATTR", "LOAD_METHOD") and arg == name and k:
            prev = instrs[k - 1]
            pv = prev.argval
            if prev.opname in ("LOAD_GLOBAL", "LOAD_NAME", "LOAD_DEREF", "LOAD_CLASSDEREF") and (
                    _is_rnn_ref_module(names.get(pv)) or pv == "rnn_ref"):
                return True
            if prev.opname == "LOAD_FAST" and pv in local_modules:
                return True
            if prev.opname in ("LOAD_ATTR", "LOAD_METHOD") and any(  # rnn_ref.training.clip.name
                    m.startswith("rnn_ref.") and m.rsplit(".", 1)[-1] == pv for m in sys.modules):
                return True
    return any(_uses_reference(c, names, name, ref, depth) for c in code.co_consts if hasattr(c, "co_names"))


# Pieces an exercise asks the student to use their own version of, inside another graded function.
OWN_PIECES = {"char_lm_train_step": ("clip_by_global_norm",)}


def _names_of(f):
    names = dict(getattr(f, "__globals__", {}))
    code = getattr(f, "__code__", None)
    for var, cell in zip(getattr(code, "co_freevars", ()), getattr(f, "__closure__", None) or ()):
        try:
            names[var] = cell.cell_contents
        except ValueError:  # a free variable not bound yet
            pass
    return names


def _own_pieces_problem(f, name):
    """The sentence saying which rnn_ref piece f calls where the exercise wants the student's own, or ''."""
    import rnn_ref
    code = getattr(f, "__code__", None)
    if code is None or str(getattr(f, "__module__", "")).split(".")[0] == "rnn_ref":
        return ""
    for piece in OWN_PIECES.get(name, ()):
        if _uses_reference(code, _names_of(f), piece, getattr(rnn_ref, piece)):
            return (f"Your {name} calls rnn_ref.{piece}; the exercise asks you to use YOUR {piece} (the one "
                    f"you wrote above): call {piece}(...) by its own name, not rnn_ref.{piece}.")
    return ""


def check_own_work(*fns):
    """For hidden tests: each graded function must be the student's own, not rnn_ref's function of the same name
    (assigned, imported under another name, or called from a thin wrapper). None, or AssertionError.

    It reads which names the function's code uses, so it catches the direct ways of handing in the reference;
    like any such test it is a guard, not a proof."""
    import rnn_ref
    for f in fns:
        name = getattr(f, "__name__", "")
        ref = getattr(rnn_ref, name, None)
        if ref is None:
            continue
        if f is ref or str(getattr(f, "__module__", "")).startswith("rnn_ref"):
            raise AssertionError(wrap_message(
                f"{name} is rnn_ref.{name} itself, not your implementation. Write the function in your "
                f"notebook; the graded function must be your own code."))
        code = getattr(f, "__code__", None)
        if code is None:
            continue
        if _uses_reference(code, _names_of(f), name, ref):
            raise AssertionError(wrap_message(
                f"Your {name} calls rnn_ref.{name}, the reference it is graded against. Write the computation "
                f"yourself (calling other, earlier rnn_ref pieces is fine where the exercise says so)."))
        problem = _own_pieces_problem(f, name)
        if problem:
            raise AssertionError(wrap_message(problem))
    return None


# ------------------------------------------------------------------------------------------------ rebuilding a case
_CASES = {
    "check_rnn_step_forward": lambda hd: _rnn_cases(hd, False, False),
    "check_rnn_step_backward": lambda hd: _rnn_cases(hd, False, True),
    "check_rnn_forward": lambda hd: _rnn_cases(hd, True, False),
    "check_rnn_backward": lambda hd: _rnn_cases(hd, True, True),
    "check_softmax": lambda hd: _softmax_cases(hd),
    "check_softmax_cross_entropy": lambda hd: _sce_cases(hd),
    "check_perplexity": lambda hd: _perplexity_cases(hd),
    "check_numerical_gradient": lambda hd: hy._ng_cases(hd),
    "check_clip_by_value": lambda hd: _clip_value_cases(hd),
    "check_clip_by_global_norm": lambda hd: _clip_norm_cases(hd),
    "check_sample_index": lambda hd: _sample_cases(hd),
    "check_char_lm_loss": lambda hd: _lm_cases(hd),
    "check_char_lm_train_step": lambda hd: _lm_cases(hd, True),
    "check_many_to_one_loss": lambda hd: _m2o_cases(hd),
    "check_encoder_decoder_forward": lambda hd: _encdec_cases(hd),
    "check_bidirectional_forward": lambda hd: _bi_cases(hd, False),
    "check_bidirectional_backward": lambda hd: _bi_cases(hd, True),
    "check_stacked_rnn_forward": lambda hd: _stacked_cases(hd, False),
    "check_stacked_rnn_backward": lambda hd: _stacked_cases(hd, True),
    "check_lstm_step_forward": lambda hd: _lstm_cases(hd, False, False),
    "check_lstm_step_backward": lambda hd: _lstm_cases(hd, False, True),
    "check_lstm_forward": lambda hd: _lstm_cases(hd, True, False),
    "check_lstm_backward": lambda hd: _lstm_cases(hd, True, True),
    "check_gru_step_forward": lambda hd: _gru_cases(hd, False, False),
    "check_gru_step_backward": lambda hd: _gru_cases(hd, False, True),
    "check_gru_forward": lambda hd: _gru_cases(hd, True, False),
    "check_gru_backward": lambda hd: _gru_cases(hd, True, True),
    "check_additive_attention_forward": lambda hd: _attention_cases(hd, False),
    "check_additive_attention_backward": lambda hd: _attention_cases(hd, True),
    "check_attention_encoder_decoder_loss": lambda hd: _att_loss_cases(hd),
}


def case_inputs(check_name, case_number):
    """The inputs of a visible case, to rebuild a failing case outside the check.

    check_name: a check's name, as its message starts ("check_rnn_backward"); case_number: the case as the
    message numbers it ("case 2 of 4" is 2). Returns a dict name -> value with the function's arguments in
    order (call f(**inputs)) and, for a backward check, the upstream gradients too (dh, dc), after the
    forward's arguments: run your forward on the others, then your backward on dh and the cache.
    Each call returns fresh copies. Hidden cases cannot be rebuilt: their inputs are secret.
    """
    from .engine import copy_tree
    if check_name not in _CASES:
        known = ", ".join(sorted(_CASES))
        raise ValueError(f"check_name: expected the name of a check with cases ({known}); got {check_name!r}")
    cases = _CASES[check_name](False)
    n = len(cases)
    if isinstance(case_number, bool) or not isinstance(case_number, (int, np.integer)):
        raise ValueError(f"case_number: expected an int from 1 to {n} (as the message says 'case 2 of {n}'); "
                         f"got {case_number!r}")
    if not 1 <= case_number <= n:
        raise ValueError(f"case_number: {check_name} has {n} visible cases, numbered 1 to {n}; got {case_number}. "
                         f"A case of the hidden tests (hidden=True) cannot be rebuilt: its inputs are secret.")
    case = cases[case_number - 1]
    if check_name == "check_numerical_gradient":
        x = case.arg("x").copy()
        return {"f": hy._ng_func(x, case.extra["w"].copy()), "x": x, "h": case.arg("h")}
    return {k: copy_tree(v) for k, v in case.args + case.dargs}
