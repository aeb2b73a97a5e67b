"""Bad input to every public function of the core and of the models built on it: a ValueError whose message
starts with the name of the offending argument.

The table is built from one valid call per function (`VALID`) and a list of ways to spoil one argument; a few
cases that need a specific construction (batch or hidden sizes that disagree, targets out of range, thresholds
<= 0, broken caches) are listed by hand in `SPECIAL`.
"""
import re

import numpy as np
import pytest

import rnn_ref as R

T, B, D, H, K = 3, 2, 4, 5, 6
rng = np.random.default_rng(0)


def a(*shape):
    return rng.standard_normal(shape)


def ints(high, *shape):
    return rng.integers(0, high, size=shape)


# One valid call per function: name -> (function, kwargs factory). Factories run per test: nothing is shared.
def _rnn_seq():
    return dict(x=a(T, B, D), h0=a(B, H), U_xh=a(D, H), W_hh=a(H, H), b=a(H))


def _lstm_seq():
    return dict(x=a(T, B, D), h0=a(B, H), c0=a(B, H), Wx=a(D, 4 * H), Wh=a(H, 4 * H), b=a(4 * H))


def _gru_seq():
    return dict(x=a(T, B, D), h0=a(B, H), Wx=a(D, 3 * H), Wh=a(H, 3 * H), bx=a(3 * H), bh=a(3 * H))


def _step(seq):
    kw = seq()
    kw["x"] = kw["x"][0]
    kw["h_prev"] = kw.pop("h0")
    if "c0" in kw:
        kw["c_prev"] = kw.pop("c0")
    return kw


def _lm_params():
    return {"U_xh": a(K, H), "W_hh": a(H, H), "b": a(H), "V_ho": a(H, K), "b_y": a(K)}


def _ed_params():
    return {"U_enc": a(D, H), "W_enc": a(H, H), "b_enc": a(H), "U_dec": a(K, H), "W_dec": a(H, H),
            "b_dec": a(H), "V_ho": a(H, K), "b_y": a(K)}


def _grads():
    return {"W": a(3, 3) * 10, "b": a(3)}


def _f_of(x):
    return lambda: float(np.sum(x ** 2))


VALID = {
    "rnn_step_forward": (R.rnn_step_forward, lambda: _step(_rnn_seq)),
    "rnn_forward": (R.rnn_forward, _rnn_seq),
    "rnn_step_backward": (R.rnn_step_backward, lambda: dict(dh=a(B, H), cache=R.rnn_step_forward(**_step(_rnn_seq))[1])),
    "rnn_backward": (R.rnn_backward, lambda: dict(dh=a(T, B, H), cache=R.rnn_forward(**_rnn_seq())[1])),
    "lstm_step_forward": (R.lstm_step_forward, lambda: _step(_lstm_seq)),
    "lstm_forward": (R.lstm_forward, _lstm_seq),
    "lstm_step_backward": (R.lstm_step_backward,
                           lambda: dict(dh=a(B, H), dc=a(B, H), cache=R.lstm_step_forward(**_step(_lstm_seq))[2])),
    "lstm_backward": (R.lstm_backward,
                      lambda: dict(dh=a(T, B, H), cache=R.lstm_forward(**_lstm_seq())[1], dc_last=a(B, H))),
    "gru_step_forward": (R.gru_step_forward, lambda: _step(_gru_seq)),
    "gru_forward": (R.gru_forward, _gru_seq),
    "gru_step_backward": (R.gru_step_backward, lambda: dict(dh=a(B, H), cache=R.gru_step_forward(**_step(_gru_seq))[1])),
    "gru_backward": (R.gru_backward, lambda: dict(dh=a(T, B, H), cache=R.gru_forward(**_gru_seq())[1])),
    "sigmoid": (R.sigmoid, lambda: dict(a=a(B, H))),
    "softmax": (R.softmax, lambda: dict(o=a(B, K))),
    "log_softmax": (R.log_softmax, lambda: dict(o=a(B, K))),
    "softmax_cross_entropy": (R.softmax_cross_entropy, lambda: dict(o=a(T, B, K), y=ints(K, T, B))),
    "perplexity": (R.perplexity, lambda: dict(loss_per_token=1.5)),
    "bits_per_char": (R.bits_per_char, lambda: dict(loss_per_token=1.5)),
    "clip_by_value": (R.clip_by_value, lambda: dict(grads=_grads(), limit=5.0)),
    "clip_by_global_norm": (R.clip_by_global_norm, lambda: dict(grads=_grads(), max_norm=5.0)),
    "global_norm": (R.global_norm, lambda: dict(grads=_grads())),
    "rel_error": (R.rel_error, lambda: dict(a=a(3, 4), b=a(3, 4))),
    "norm_rel_error": (R.norm_rel_error, lambda: dict(a=a(3, 4), b=a(3, 4))),
    "numerical_gradient": (R.numerical_gradient, lambda: (lambda x: dict(f=_f_of(x), x=x, h=1e-5))(a(3))),
    "numerical_gradient_array": (R.numerical_gradient_array,
                                 lambda: (lambda x: dict(f=lambda: x * 2.0, x=x, df=a(3), h=1e-5))(a(3))),
    "grad_check": (R.grad_check, lambda: (lambda x: dict(f=_f_of(x), params={"x": x}, grads={"x": 2 * x}))(a(3))),
    # the models built on the core
    "char_lm_loss": (R.char_lm_loss,
                     lambda: dict(params=_lm_params(), inputs=ints(K, T, B), targets=ints(K, T, B), h0=a(B, H))),
    "char_lm_train_step": (R.char_lm_train_step,
                           lambda: dict(params=_lm_params(), inputs=ints(K, T, B), targets=ints(K, T, B), h0=a(B, H),
                                        lr=0.1, max_norm=5.0)),
    "sgd_step": (R.sgd_step, lambda: dict(params={"W": a(3, 3)}, grads={"W": a(3, 3)}, lr=0.1)),
    "sample_index": (R.sample_index, lambda: dict(o=a(B, K), temperature=1.0, u=np.array([0.1, 0.9]))),
    "generate": (R.generate, lambda: dict(params=_lm_params(), seed_idx=[1, 2], n=3, temperature=1.0)),
    "one_hot": (R.one_hot, lambda: dict(idx=ints(K, T, B), V=K)),
    "init_char_lm": (R.init_char_lm, lambda: dict(V=K, H=H)),
    "many_to_one_loss": (R.many_to_one_loss, lambda: dict(x=a(T, B, D), h0=a(B, H), params={
        "U_xh": a(D, H), "W_hh": a(H, H), "b": a(H), "V_ho": a(H, K), "b_y": a(K)}, y=ints(K, B))),
    "encoder_decoder_forward": (R.encoder_decoder_forward,
                                lambda: dict(x=a(T, B, D), y_in=ints(K, T + 1, B), h0=a(B, H), params=_ed_params())),
    "encoder_decoder_loss": (R.encoder_decoder_loss, lambda: dict(x=a(T, B, D), y_in=ints(K, T + 1, B),
                                                                  y_out=ints(K, T + 1, B), h0=a(B, H),
                                                                  params=_ed_params())),
    "encoder_decoder_backward": (R.encoder_decoder_backward, lambda: dict(
        do=a(T + 1, B, K), cache=R.encoder_decoder_forward(a(T, B, D), ints(K, T + 1, B), a(B, H), _ed_params())[1])),
    "bidirectional_forward": (R.bidirectional_forward, lambda: dict(
        x=a(T, B, D), state0_f=a(B, H), state0_b=a(B, H), params_f=(a(D, H), a(H, H), a(H)),
        params_b=(a(D, H), a(H, H), a(H)), cell="rnn")),
    "bidirectional_backward": (R.bidirectional_backward, lambda: dict(dh=a(T, B, 2 * H), cache=R.bidirectional_forward(
        a(T, B, D), a(B, H), a(B, H), (a(D, H), a(H, H), a(H)), (a(D, H), a(H, H), a(H)))[1])),
    "stacked_rnn_forward": (R.stacked_rnn_forward, lambda: dict(
        x=a(T, B, D), h0s=a(2, B, H), layers=[(a(D, H), a(H, H), a(H)), (a(H, H), a(H, H), a(H))])),
    "stacked_rnn_backward": (R.stacked_rnn_backward, lambda: dict(dh=a(T, B, H), cache=R.stacked_rnn_forward(
        a(T, B, D), a(2, B, H), [(a(D, H), a(H, H), a(H)), (a(H, H), a(H, H), a(H))])[1])),
}

# Float array arguments spoiled three generic ways (wrong ndim, int dtype, NaN) for every function that has them.
FLOAT_ARGS = {
    "rnn_step_forward": "x h_prev U_xh W_hh b", "rnn_forward": "x h0 U_xh W_hh b",
    "rnn_step_backward": "dh", "rnn_backward": "dh",
    "lstm_step_forward": "x h_prev c_prev Wx Wh b", "lstm_forward": "x h0 c0 Wx Wh b",
    "lstm_step_backward": "dh dc", "lstm_backward": "dh dc_last",
    "gru_step_forward": "x h_prev Wx Wh bx bh", "gru_forward": "x h0 Wx Wh bx bh",
    "gru_step_backward": "dh", "gru_backward": "dh",
    "softmax_cross_entropy": "o", "sample_index": "o u",
    "many_to_one_loss": "x h0", "encoder_decoder_forward": "x h0", "encoder_decoder_loss": "x h0",
    "encoder_decoder_backward": "do", "bidirectional_forward": "x", "bidirectional_backward": "dh",
    "stacked_rnn_forward": "x h0s", "stacked_rnn_backward": "dh", "char_lm_loss": "h0",
}
SCALAR_OK = ("sigmoid", "softmax", "log_softmax")  # a tuple: xdist needs one order. Elementwise: any ndim is right, so only int and NaN
for fn in SCALAR_OK:
    FLOAT_ARGS[fn] = "a" if fn == "sigmoid" else "o"


def _spoil(kind):
    def ndim(v):
        return v[None]

    def as_int(v):
        return np.round(v * 3).astype(np.int64)

    def nan(v):
        v = np.array(v, dtype=np.float64)
        v.flat[0] = np.nan
        return v
    return {"ndim": ndim, "int": as_int, "nan": nan}[kind]


GENERIC = [(fn, arg, kind) for fn, args in FLOAT_ARGS.items() for arg in args.split()
           for kind in ("ndim", "int", "nan") if not (kind == "ndim" and fn in SCALAR_OK)]


@pytest.mark.parametrize("fn,arg,kind", GENERIC, ids=[f"{f}-{a}-{k}" for f, a, k in GENERIC])
def test_generic_bad_array(fn, arg, kind):
    func, make = VALID[fn]
    kw = make()
    func(**make())  # the valid call works
    kw[arg] = _spoil(kind)(kw[arg])
    _raises(func, kw, arg)


def _with(fn, **changes):
    """kwargs of fn's valid call with some entries replaced; a callable value gets the valid kwargs."""
    def build():
        kw = VALID[fn][1]()
        for k, v in changes.items():
            kw[k] = v(kw) if callable(v) and not isinstance(v, np.ndarray) else v
        return kw
    return build


SEQ_FWD = ["rnn_forward", "lstm_forward", "gru_forward"]
SPECIAL = [
    # empty sequences, batch and hidden sizes that disagree
    *[(fn, "x", _with(fn, x=lambda kw: kw["x"][:0])) for fn in SEQ_FWD + ["bidirectional_forward",
                                                                         "stacked_rnn_forward", "many_to_one_loss"]],
    *[(fn, "h0", _with(fn, h0=lambda kw: kw["h0"][:1])) for fn in SEQ_FWD],              # batch 1 vs 2
    *[(fn, "h0", _with(fn, h0=lambda kw: kw["h0"][:, :-1])) for fn in SEQ_FWD],          # hidden 4 vs 5
    ("lstm_forward", "c0", _with("lstm_forward", c0=lambda kw: kw["c0"][:1])),
    ("rnn_forward", "W_hh", _with("rnn_forward", W_hh=lambda kw: kw["W_hh"][:, :-1])),
    ("rnn_forward", "b", _with("rnn_forward", b=lambda kw: kw["b"][:-1])),
    ("rnn_forward", "U_xh", _with("rnn_forward", U_xh=lambda kw: kw["U_xh"][:-1])),      # D disagrees with x
    ("lstm_forward", "Wx", _with("lstm_forward", Wx=lambda kw: kw["Wx"][:, :-1])),       # not 4H wide
    ("lstm_forward", "Wh", _with("lstm_forward", Wh=lambda kw: kw["Wh"][:, :-4])),
    ("gru_forward", "Wx", _with("gru_forward", Wx=lambda kw: kw["Wx"][:, :-1])),         # not 3H wide
    ("gru_forward", "bh", _with("gru_forward", bh=lambda kw: kw["bh"][:-3])),
    ("rnn_step_forward", "h_prev", _with("rnn_step_forward", h_prev=lambda kw: kw["h_prev"][:1])),
    ("lstm_step_forward", "c_prev", _with("lstm_step_forward", c_prev=lambda kw: kw["c_prev"][:, :-1])),
    ("gru_step_forward", "h_prev", _with("gru_step_forward", h_prev=lambda kw: kw["h_prev"][:, :-1])),
    ("rnn_backward", "dh", _with("rnn_backward", dh=lambda kw: kw["dh"][:-1])),
    ("lstm_backward", "dh", _with("lstm_backward", dh=lambda kw: kw["dh"][:, :1])),
    ("lstm_backward", "dc_last", _with("lstm_backward", dc_last=lambda kw: kw["dc_last"][:, :-1])),
    ("gru_backward", "dh", _with("gru_backward", dh=lambda kw: kw["dh"][..., :-1])),
    ("lstm_step_backward", "dc", _with("lstm_step_backward", dc=lambda kw: kw["dc"][:1])),
    *[(fn, "cache", _with(fn, cache=lambda kw: tuple(kw["cache"]))) for fn in
      ("rnn_step_backward", "rnn_backward", "lstm_step_backward", "lstm_backward", "gru_step_backward", "gru_backward")],
    ("rnn_backward", "cache", _with("rnn_backward", cache=lambda kw: R.gru_forward(**_gru_seq())[1])),
    ("bidirectional_backward", "dh", _with("bidirectional_backward", dh=lambda kw: kw["dh"][..., :-1])),
    ("stacked_rnn_forward", "h0s", _with("stacked_rnn_forward", h0s=lambda kw: kw["h0s"][:1])),   # L disagrees
    ("stacked_rnn_backward", "dh", _with("stacked_rnn_backward", dh=lambda kw: kw["dh"][:, :1])),
    ("bidirectional_forward", "cell", _with("bidirectional_forward", cell="elman")),
    ("bidirectional_forward", "params_b", _with("bidirectional_forward", params_b=lambda kw: kw["params_b"][:2])),
    # targets: out of range, negative, float, wrong shape
    ("softmax_cross_entropy", "y", _with("softmax_cross_entropy", y=lambda kw: kw["y"] + K)),
    ("softmax_cross_entropy", "y", _with("softmax_cross_entropy", y=lambda kw: kw["y"] - K)),
    ("softmax_cross_entropy", "y", _with("softmax_cross_entropy", y=lambda kw: kw["y"].astype(float))),
    ("softmax_cross_entropy", "y", _with("softmax_cross_entropy", y=lambda kw: kw["y"][:, :1])),
    ("softmax_cross_entropy", "o", _with("softmax_cross_entropy", o=lambda kw: kw["o"][:0])),
    ("char_lm_loss", "targets", _with("char_lm_loss", targets=lambda kw: kw["targets"] + K)),
    ("char_lm_loss", "inputs", _with("char_lm_loss", inputs=lambda kw: kw["inputs"].astype(float))),
    ("char_lm_loss", "inputs", _with("char_lm_loss", inputs=lambda kw: kw["inputs"][:0])),
    ("char_lm_loss", "h0", _with("char_lm_loss", h0=lambda kw: kw["h0"][:1])),
    ("char_lm_loss", "params", _with("char_lm_loss", params=lambda kw: {k: v for k, v in kw["params"].items()
                                                                       if k != "V_ho"})),
    ("many_to_one_loss", "y", _with("many_to_one_loss", y=lambda kw: kw["y"] + K)),
    ("many_to_one_loss", "y", _with("many_to_one_loss", y=lambda kw: kw["y"] * 0.5)),
    ("encoder_decoder_loss", "y_out", _with("encoder_decoder_loss", y_out=lambda kw: kw["y_out"] - K)),
    ("encoder_decoder_forward", "y_in", _with("encoder_decoder_forward", y_in=lambda kw: kw["y_in"] + K)),
    ("encoder_decoder_forward", "y_in", _with("encoder_decoder_forward", y_in=lambda kw: kw["y_in"][:0])),
    ("encoder_decoder_backward", "do", _with("encoder_decoder_backward", do=lambda kw: kw["do"][..., :-1])),
    ("sample_index", "u", _with("sample_index", u=np.array([0.5, 1.0]))),
    ("sample_index", "temperature", _with("sample_index", temperature=-1.0)),
    ("generate", "seed_idx", _with("generate", seed_idx=[])),
    # non-positive thresholds, rates and steps
    *[(fn, arg, _with(fn, **{arg: v})) for fn, arg in (("clip_by_value", "limit"), ("clip_by_global_norm", "max_norm"),
                                                        ("char_lm_train_step", "max_norm"), ("char_lm_train_step", "lr"),
                                                        ("sgd_step", "lr"), ("numerical_gradient", "h"))
      for v in (0.0, -1.0, float("nan"), "5")],
    *[(fn, "loss_per_token", _with(fn, loss_per_token=v)) for fn in ("perplexity", "bits_per_char")
      for v in (-0.1, float("nan"), float("inf"), "1", None)],
    # dicts of gradients
    *[(fn, "grads", _with(fn, grads=v)) for fn in ("clip_by_value", "clip_by_global_norm", "global_norm")
      for v in ({}, [np.ones(3)], None)],
    *[(fn, r"grads\['W'\]", _with(fn, grads=lambda kw, v=v: {**kw["grads"], "W": v}))
      for fn in ("clip_by_value", "clip_by_global_norm", "global_norm")
      for v in (np.ones((2, 2), dtype=int), np.array([1.0, np.nan]), np.array([np.inf]))],
    # error measures and numerical gradients
    ("rel_error", "b", _with("rel_error", b=lambda kw: kw["b"][:, :1])),
    ("norm_rel_error", "b", _with("norm_rel_error", b=lambda kw: kw["b"].T)),
    ("rel_error", "a", _with("rel_error", a=lambda kw: np.where(kw["a"] > 0, np.nan, kw["a"]))),
    ("numerical_gradient", "x", _with("numerical_gradient", x=np.ones(3, dtype=np.float32))),
    ("numerical_gradient", "x", _with("numerical_gradient", x=np.arange(3))),
    ("numerical_gradient", "x", _with("numerical_gradient", x=[1.0, 2.0])),
    ("numerical_gradient", "x", _with("numerical_gradient", x=np.array([1.0, np.nan]))),
    ("numerical_gradient", "x", _with("numerical_gradient", x=np.zeros(0))),
    ("numerical_gradient", "f", _with("numerical_gradient", f=3.0)),
    ("numerical_gradient_array", "df", _with("numerical_gradient_array", df=lambda kw: kw["df"][:2])),
    ("numerical_gradient_array", "df", _with("numerical_gradient_array", df=np.ones(3, dtype=int))),
    ("grad_check", "grads", _with("grad_check", grads={})),
    ("grad_check", r"grads\['x'\]", _with("grad_check", grads=lambda kw: {"x": kw["grads"]["x"][:2]})),
    ("grad_check", "params", _with("grad_check", params={})),
]


def _id(i, case):
    f, a = (case.values if hasattr(case, "values") else case)[:2]
    return f"{f}-{a.replace(chr(92), '')}-{i}"


@pytest.mark.parametrize("fn,arg,build", SPECIAL, ids=[_id(i, c) for i, c in enumerate(SPECIAL)])
def test_special_bad_input(fn, arg, build):
    func = VALID[fn][0]
    func(**VALID[fn][1]())  # the valid call works
    _raises(func, build(), arg)


def _raises(func, kw, arg):
    with pytest.raises(ValueError) as e:
        func(**kw)
    msg = str(e.value)
    assert re.match(rf"{arg}(?!\w)", msg), f"the message does not start with the argument's name {arg!r}: {msg!r}"
    assert len(msg) > len(arg) + 10, f"the message says too little: {msg!r}"


def test_inputs_are_not_modified():
    """Validation and the hoisted buffers never write into the caller's arrays."""
    for fn in ("rnn_forward", "lstm_forward", "gru_forward", "softmax_cross_entropy"):
        func, make = VALID[fn]
        kw = make()
        before = {k: np.copy(v) for k, v in kw.items() if isinstance(v, np.ndarray)}
        func(**kw)
        for k, v in before.items():
            assert np.array_equal(kw[k], v), f"{fn} modified its argument {k}"
    for fn in ("rnn_backward", "lstm_backward", "gru_backward"):  # nor the cache: backward can run twice
        func, make = VALID[fn]
        kw = make()
        first = func(**kw)
        second = func(**kw)
        assert all(np.array_equal(a, b) for a, b in zip(first, second)), f"{fn} changed its cache or dh"


def test_float32_stays_float32():
    """float32 inputs give float32 outputs and gradients (float64 is the default)."""
    f32 = {k: v.astype(np.float32) for k, v in _lstm_seq().items()}
    h, cache = R.lstm_forward(**f32)
    assert h.dtype == np.float32 and all(g.dtype == np.float32 for g in R.lstm_backward(h, cache))
    f32 = {k: v.astype(np.float32) for k, v in _gru_seq().items()}
    h, cache = R.gru_forward(**f32)
    assert h.dtype == np.float32 and all(g.dtype == np.float32 for g in R.gru_backward(h, cache))
    f32 = {k: v.astype(np.float32) for k, v in _rnn_seq().items()}
    h, cache = R.rnn_forward(**f32)
    assert h.dtype == np.float32 and all(g.dtype == np.float32 for g in R.rnn_backward(h, cache))
    loss, do = R.softmax_cross_entropy(a(T, B, K).astype(np.float32), ints(K, T, B))
    assert do.dtype == np.float32 and np.isfinite(loss)
