"""Checks that exercise test cells call: check_<function>(<student function>).

Each check runs the student's function and the reference on several seeded cases (random shapes, B=1, T=1,
H=1, large logits; hidden=True runs another, harder set) and compares every output. It returns None when they
agree (elementwise relative error below 1e-6) and otherwise raises AssertionError naming the first wrong
output, the case, the largest error and, when it can tell, the likely cause. A backward check takes the
student's forward too and hands the student's own cache to the student's backward.

Checks never print or write to stderr: warnings of the student's code are caught and reported in the message.
"""
import numpy as np

from . import _hypotheses as hy
from ._checking import IGNORE, Case, Spec, case_rng, run_check
from .architectures import encoder_decoder_forward, many_to_one_loss
from .bidirectional import bidirectional_backward, bidirectional_forward
from .charlm import char_lm_loss, char_lm_train_step, sample_index
from .clip import clip_by_global_norm, clip_by_value
from .deep import stacked_rnn_backward, stacked_rnn_forward
from .gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward
from .loss import perplexity, softmax, softmax_cross_entropy
from .lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from .rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward

__all__ = [
    "check_rnn_step_forward", "check_rnn_step_backward", "check_rnn_forward", "check_rnn_backward",
    "check_softmax", "check_softmax_cross_entropy", "check_perplexity", "check_numerical_gradient",
    "check_clip_by_value", "check_clip_by_global_norm", "check_sample_index", "check_char_lm_loss",
    "check_char_lm_train_step", "check_many_to_one_loss", "check_encoder_decoder_forward",
    "check_bidirectional_forward", "check_bidirectional_backward", "check_stacked_rnn_forward",
    "check_stacked_rnn_backward", "check_lstm_step_forward", "check_lstm_step_backward", "check_lstm_forward",
    "check_lstm_backward", "check_gru_step_forward", "check_gru_step_backward", "check_gru_forward",
    "check_gru_backward", "check_own_work",
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
    seeds = (110, 111, 112) if hidden else (10, 11, 12)
    r = [case_rng(s) for s in seeds]
    cases = [Case(seeds[0], [("o", r[0].standard_normal((3, 5)) * 2)], note="(B, K) logits"),
             Case(seeds[1], [("o", r[1].standard_normal((4, 2, 6)) * 2)], note="(T, B, K) logits")]
    big = r[2].standard_normal((4, 5)) * 3
    big[0] += 1000.0
    big[1] -= 1000.0
    big[2, 1] = 1200.0
    cases.append(Case(seeds[2], [("o", big)], note="large logits (around +1000 and -1000)"))
    if hidden:
        cases.append(Case(seeds[0], [("o", r[0].standard_normal((1, 1)))], note="K=1"))
        o = r[1].standard_normal((2, 3, 4)) * 500
        cases.append(Case(seeds[1], [("o", o)], note="(T, B, K) logits of size 500"))
    return cases


def check_softmax(f, hidden=False):
    """f(o) -> softmax along the last axis, same shape as o; must survive logits of 1000."""
    spec = Spec("softmax", ("softmax(o)",), _softmax_cases, lambda c: softmax(c.arg("o")), single=True,
                hyps=hy.SOFTMAX)
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
        B, K = (12, 5) if i != 1 else (1, 4)
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
    return cases


def check_sample_index(f, hidden=False):
    """f(o (B, K), temperature, u (B,)) -> (B,) int: the smallest k with cumsum(softmax(o / T))[k] > u."""
    spec = Spec("sample_index", ("indices",), _sample_cases,
                lambda c: sample_index(c.arg("o"), c.arg("temperature"), c.arg("u")), single=True,
                hyps=hy.SAMPLE_INDEX)
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
            args += [("lr", 0.1), ("max_norm", float(norm / 10) if seed % 2 == 0 else float(norm * 2))]
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


def check_char_lm_train_step(f, hidden=False):
    """f(params, inputs, targets, h0, lr, max_norm) -> new params, loss, h_last (clip by global norm, SGD)."""
    spec = Spec("char_lm_train_step", ("new_params", "loss", "h_last"), lambda hd: _lm_cases(hd, True),
                lambda c: char_lm_train_step(*c.values()), hyps=hy.CHAR_LM_TRAIN_STEP)
    return run_check("check_char_lm_train_step", spec, (f,), hidden)


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
                hyps=hy.LSTM_STEP_BACKWARD, case_notes=_NOTES_STEP)
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
                hyps=hy.LSTM_BACKWARD, probes=_rnn_probes("Wh"), case_notes=_NOTES_SEQ)
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
                hyps=hy.GRU_STEP_BACKWARD, case_notes=_NOTES_STEP)
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
                hyps=hy.GRU_BACKWARD, probes=_rnn_probes("Wh"), case_notes=_NOTES_SEQ)
    return run_check("check_gru_backward", spec, (fwd, bwd), hidden)


# ------------------------------------------------------------------------------------------------ own work
def _uses_reference(code, names, name, ref):
    """True when the code (or a function nested in it) reaches rnn_ref's function `name`: by an alias of it,
    or by attribute access on an rnn_ref module (rnn_ref.name, rr.name, or an `import rnn_ref` inside).
    names: what the function's global and free variables refer to."""
    used = code.co_names + code.co_freevars
    if any(names.get(g) is ref for g in used):
        return True
    if name in code.co_names and ("rnn_ref" in used or any(
            getattr(names.get(g), "__name__", "").startswith("rnn_ref") for g in used)):
        return True
    return any(_uses_reference(c, names, name, ref) for c in code.co_consts if hasattr(c, "co_names"))


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
            raise AssertionError(f"{name} is rnn_ref.{name} itself, not your implementation. Write the function "
                                 f"in your notebook; the graded function must be your own code.")
        code = getattr(f, "__code__", None)
        if code is None:
            continue
        names = dict(getattr(f, "__globals__", {}))
        for var, cell in zip(code.co_freevars, getattr(f, "__closure__", None) or ()):
            try:
                names[var] = cell.cell_contents
            except ValueError:  # a free variable not bound yet
                pass
        if _uses_reference(code, names, name, ref):
            raise AssertionError(f"Your {name} calls rnn_ref.{name}, the reference it is graded against. "
                                 f"Write the computation yourself (calling other, earlier rnn_ref pieces is fine "
                                 f"where the exercise says so).")
    return None
