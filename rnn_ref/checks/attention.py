"""Checks of additive attention, the attention encoder-decoder and its training run."""
import numpy as np

from .cases import CASES, _NOTES_SEQ, _backward_ref, _first
from .engine import Case, Spec, case_rng, describe, run_check, wrapped
from .mistakes import attention as hy
from ..models.attention import (additive_attention_backward, additive_attention_forward,
                                attention_encoder_decoder_loss, attention_greedy_decode)


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
    alpha (T_in, B), cache.

    Used by exercise a9_attention; the book derives additive_attention_forward in book/13_attention.md.
    """
    spec = Spec("additive_attention_forward", ("context", "alpha", "cache"), lambda hd: _attention_cases(hd, False),
                _first(additive_attention_forward), hyps=hy.ATTENTION_FORWARD, case_notes=_NOTES_ATT)
    return run_check("check_additive_attention_forward", spec, (f,), hidden)


def check_additive_attention_backward(fwd, bwd, hidden=False):
    """fwd as in check_additive_attention_forward; bwd(dcontext (B, H_enc), cache) -> ds, dh_enc, dW_s, dW_h, dv.

    Used by exercise a9_attention; the book derives additive_attention_backward in book/13_attention.md.
    """
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
    V_ho, V_co, b_y).

    Used by exercise a9_attention; the book derives attention_encoder_decoder_loss in book/13_attention.md.
    """
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
    greedily, puts at least 90% of the test digits in the right place.

    Used by exercise a9_attention; the book derives attention_encoder_decoder_loss in book/13_attention.md.
    """
    __tracebackhide__ = True
    return wrapped(_check_attention_training, f, hidden)


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


CASES.update({
    "check_additive_attention_forward": lambda hd: _attention_cases(hd, False),
    "check_additive_attention_backward": lambda hd: _attention_cases(hd, True),
    "check_attention_encoder_decoder_loss": lambda hd: _att_loss_cases(hd),
})
