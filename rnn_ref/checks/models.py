"""Checks of the models built from cells: many-to-one, encoder-decoder, bidirectional, stacked."""
from .cases import CASES, _NOTES_SEQ, _first, _sizes
from .engine import IGNORE, Case, Spec, case_rng, run_check
from .mistakes import models as hy
from ..models.architectures import encoder_decoder_forward, many_to_one_loss
from ..models.bidirectional import bidirectional_backward, bidirectional_forward
from ..models.deep import stacked_rnn_backward, stacked_rnn_forward


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
    """f(x (T, B, D), h0, params {U_xh, W_hh, b, V_ho, b_y}, y (B,) int) -> loss (mean over batch), grads dict.

    Used by exercise a5_architectures; the book derives many_to_one_loss in book/08_shapes.md.
    """
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
    """f(x (T_in, B, D), y_in (T_out, B) int, h0, params) -> logits (T_out, B, K), cache.

    Used by exercise a5_architectures; the book derives encoder_decoder_forward in book/08_shapes.md.
    """
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
    RNN cells; params are (U_xh, W_hh, b) tuples.

    Used by exercise a6_bidirectional_deep; the book derives bidirectional_forward in book/09_bidirectional.md.
    """
    spec = Spec("bidirectional_forward", ("h", "cache"), lambda hd: _bi_cases(hd, False), _bi_forward_ref,
                hyps=hy.BIDIRECTIONAL_FORWARD)
    return run_check("check_bidirectional_forward", spec, (f,), hidden)


_PNAMES = ("dU_xh", "dW_hh", "db")


def check_bidirectional_backward(fwd, bwd, hidden=False):
    """fwd as in check_bidirectional_forward; bwd(dh (T, B, 2H), cache) -> dx, dh0_f, dh0_b, dparams_f, dparams_b
    (dparams: tuples (dU_xh, dW_hh, db)).

    Used by exercise a6_bidirectional_deep; the book derives bidirectional_backward in book/09_bidirectional.md.
    """
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
    """f(x (T, B, D), h0s (L, B, H), layers [(U_xh, W_hh, b), ...]) -> top layer's h (T, B, H), cache.

    Used by exercise a6_bidirectional_deep; the book derives stacked_rnn_forward in book/10_deep.md.
    """
    spec = Spec("stacked_rnn_forward", ("h", "cache"), lambda hd: _stacked_cases(hd, False), _stacked_forward_ref,
                hyps=hy.STACKED_FORWARD)
    return run_check("check_stacked_rnn_forward", spec, (f,), hidden)


def check_stacked_rnn_backward(fwd, bwd, hidden=False):
    """fwd as in check_stacked_rnn_forward; bwd(dh (T, B, H), cache) -> dx, dh0s (L, B, H),
    dlayers [(dU_xh, dW_hh, db), ...] bottom layer first.

    Used by exercise a6_bidirectional_deep; the book derives stacked_rnn_backward in book/10_deep.md.
    """
    def ref(c):
        _, cache = stacked_rnn_forward(*c.values())
        return stacked_rnn_backward(c.arg("dh"), cache)
    spec = Spec("stacked_rnn_backward", ("dx", "dh0s", "dlayers"), lambda hd: _stacked_cases(hd, True), ref,
                fwd=("stacked_rnn_forward", ("h", "cache"), _stacked_forward_ref, 1), hyps=hy.STACKED_BACKWARD,
                subnames={f"dlayers[{l}]": _PNAMES for l in range(4)}, case_notes=_NOTES_SEQ)
    return run_check("check_stacked_rnn_backward", spec, (fwd, bwd), hidden)


CASES.update({
    "check_many_to_one_loss": lambda hd: _m2o_cases(hd),
    "check_encoder_decoder_forward": lambda hd: _encdec_cases(hd),
    "check_bidirectional_forward": lambda hd: _bi_cases(hd, False),
    "check_bidirectional_backward": lambda hd: _bi_cases(hd, True),
    "check_stacked_rnn_forward": lambda hd: _stacked_cases(hd, False),
    "check_stacked_rnn_backward": lambda hd: _stacked_cases(hd, True),
})
