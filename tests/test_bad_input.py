"""Bad input to every public function of the core and of the models built on it: a ValueError whose message
starts with the name of the offending argument.

The table is built from one valid call per function (`VALID`) and a list of ways to spoil one argument; a few
cases that need a specific construction (targets out of range, thresholds <= 0, broken caches) are listed by
hand in `SPECIAL`. The cells' calls and cases are generated from the registry rnn_ref.cells.CELLS, so a newly
registered cell is tested unedited; test_wrong_size_names_the_argument gives each parameter and state of every
cell a wrong size in turn and requires the error to name exactly that argument.
"""
import re

import numpy as np
import pytest

import rnn_ref as R
from helpers import CELL_NAMES, cell_params, error
from rnn_ref.cells import get_cell

T, B, D, H, K = 3, 2, 4, 5, 6
rng = np.random.default_rng(0)


def a(*shape):
    return rng.standard_normal(shape)


def ints(high, *shape):
    return rng.integers(0, high, size=shape)


# One valid call per function: name -> (function, kwargs factory). Factories run per test: nothing is shared.
# The cells' entries come from the registry (rnn_ref.cells.CELLS): a newly registered cell is tested unedited.
def _seq(cell):
    """A valid call of a cell's forward: x (T, B, D), the initial states <s>0 (B, H), the parameters."""
    return dict(x=a(T, B, D), **{s + "0": a(B, H) for s in get_cell(cell).state}, **cell_params(cell, D, H, rng, 1.0))


def _step(cell):
    """A valid call of a cell's step_forward: x (B, D), the previous states <s>_prev (B, H), the parameters."""
    kw = _seq(cell)
    kw["x"] = kw["x"][0]
    for s in get_cell(cell).state:
        kw[s + "_prev"] = kw.pop(s + "0")
    return kw


def _cell_calls(cell):
    c = get_cell(cell)
    return {
        f"{cell}_step_forward": (c.step_forward, lambda: _step(cell)),
        f"{cell}_forward": (c.forward, lambda: _seq(cell)),
        f"{cell}_step_backward": (c.step_backward, lambda: dict(**{"d" + s: a(B, H) for s in c.state},
                                                                cache=c.step_forward(**_step(cell))[-1])),
        f"{cell}_backward": (c.backward, lambda: dict(dh=a(T, B, H), cache=c.forward(**_seq(cell))[1])),
    }


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
    **{name: call for cell in CELL_NAMES for name, call in _cell_calls(cell).items()},
    # lstm_backward's optional dL/dc_T from beyond the sequence
    "lstm_backward": (R.lstm_backward,
                      lambda: dict(dh=a(T, B, H), cache=R.lstm_forward(**_seq("lstm"))[1], dc_last=a(B, H))),
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
CELL_FUNCTIONS = [name for cell in CELL_NAMES for name in _cell_calls(cell)]
FLOAT_ARGS = {
    **{fn: " ".join(k for k, v in VALID[fn][1]().items() if isinstance(v, np.ndarray)) for fn in CELL_FUNCTIONS},
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


SEQ_FWD = [f"{cell}_forward" for cell in CELL_NAMES]
SPECIAL = [
    # empty sequences; the sizes of the states and the parameters are test_wrong_size_names_the_argument's
    *[(fn, "x", _with(fn, x=lambda kw: kw["x"][:0])) for fn in SEQ_FWD + ["bidirectional_forward",
                                                                         "stacked_rnn_forward", "many_to_one_loss"]],
    # upstream gradients of the wrong shape, caches that are not what forward returned
    *[(f"{cell}_backward", "dh", _with(f"{cell}_backward", dh=lambda kw: kw["dh"][:-1])) for cell in CELL_NAMES],
    *[(f"{cell}_backward", "dh", _with(f"{cell}_backward", dh=lambda kw: kw["dh"][:, :1])) for cell in CELL_NAMES],
    *[(f"{cell}_backward", "dh", _with(f"{cell}_backward", dh=lambda kw: kw["dh"][..., :-1])) for cell in CELL_NAMES],
    *[(f"{cell}_step_backward", "d" + s, _with(f"{cell}_step_backward", **{"d" + s: lambda kw, s=s: kw["d" + s][:1]}))
      for cell in CELL_NAMES for s in get_cell(cell).state],
    ("lstm_backward", "dc_last", _with("lstm_backward", dc_last=lambda kw: kw["dc_last"][:, :-1])),
    *[(fn, "cache", _with(fn, cache=lambda kw: tuple(kw["cache"]))) for fn in CELL_FUNCTIONS if "backward" in fn],
    *[(f"{cell}_backward", "cache", _with(f"{cell}_backward", cache=lambda kw, other=other: VALID[other][1]()["cache"]))
      for cell, other in zip(CELL_NAMES, [f"{c}_backward" for c in CELL_NAMES[1:] + CELL_NAMES[:1]])],  # another cell's
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


def _wrong_sizes(cell):
    """(function, argument, what, spoil) for every parameter and state of a cell's step and sequence forward:
    each spoil gives that one argument a wrong size while the others stay right. Widths that are off by one, and
    widths that are a whole gate block too narrow (a consistent-looking G*(H-1)), must both be blamed on the
    argument itself, never on one checked after it."""
    c = get_cell(cell)
    G = c.num_gates
    wider = ("1 wider", lambda v: np.concatenate([v, v[..., :1]], axis=-1))
    narrower = ("1 narrower", lambda v: v[..., :-1])
    block = (f"{G} narrower", lambda v: v[..., :-G])
    shorter = ("1 row less", lambda v: v[:-1])
    wx, wh, *biases = c.params
    out = []
    for fn, states in ((f"{cell}_step_forward", [s + "_prev" for s in c.state]),
                       (f"{cell}_forward", [s + "0" for s in c.state])):
        out += [(fn, wx, *spoil) for spoil in (wider, block, shorter)]
        out += [(fn, wh, *spoil) for spoil in (wider, block, shorter)]
        out += [(fn, b, *spoil) for b in biases for spoil in (wider, narrower) + ((block,) if G > 1 else ())]
        out += [(fn, s, *spoil) for s in states for spoil in (narrower, shorter)]
    return out


WRONG_SIZES = [case for cell in CELL_NAMES for case in _wrong_sizes(cell)]


@pytest.mark.parametrize("fn,arg,what,spoil", WRONG_SIZES,
                         ids=[f"{f}-{a}-{w.replace(' ', '_')}" for f, a, w, _ in WRONG_SIZES])
def test_wrong_size_names_the_argument(fn, arg, what, spoil):
    """An LSTM Wx of shape (D, 4H + 1) or (D, 4(H - 1)) is reported as a wrong Wx, not as a wrong Wh."""
    func, make = VALID[fn]
    kw = make()
    func(**make())  # the valid call works
    kw[arg] = spoil(kw[arg])
    _raises(func, kw, arg)


def test_wrong_lstm_Wx_is_named_Wx():
    """The case of issue 9, literally: Wh (3, 12) fixes H = 3, so Wx (D, 8) is the wrong one."""
    with pytest.raises(ValueError, match=r"^Wx: expected shape \(2, 12\)"):
        R.lstm_forward(a(T, B, 2), a(B, 3), a(B, 3), a(2, 8), a(3, 12), a(12))
    with pytest.raises(ValueError, match=r"^Wx: expected shape \(2, 12\)"):
        R.lstm_forward(a(T, B, 2), a(B, 3), a(B, 3), a(2, 13), a(3, 12), a(12))


def test_inputs_are_not_modified():
    """Validation and the hoisted buffers never write into the caller's arrays."""
    for fn in [*SEQ_FWD, *[f"{cell}_step_forward" for cell in CELL_NAMES], "softmax_cross_entropy"]:
        func, make = VALID[fn]
        kw = make()
        before = {k: np.copy(v) for k, v in kw.items() if isinstance(v, np.ndarray)}
        func(**kw)
        for k, v in before.items():
            assert np.array_equal(kw[k], v), f"{fn} modified its argument {k}"
    for fn in [f for f in CELL_FUNCTIONS if "backward" in f]:  # nor the cache: backward can run twice
        func, make = VALID[fn]
        kw = make()
        first = func(**kw)
        second = func(**kw)
        assert all(np.array_equal(a, b) for a, b in zip(first, second)), f"{fn} changed its cache or dh"


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_float32_stays_float32(cell):
    """float32 inputs give float32 outputs and gradients (float64 is the default), close to the float64 ones."""
    c = get_cell(cell)
    for make, forward, backward, n_out in ((lambda: _seq(cell), c.forward, c.backward, 1),
                                           (lambda: _step(cell), c.step_forward, c.step_backward, len(c.state))):
        kw64 = make()
        kw32 = {k: v.astype(np.float32) for k, v in kw64.items()}
        out32, out64 = forward(**kw32), forward(**kw64)
        grads32 = backward(*out32[:n_out], out32[-1])
        grads64 = backward(*out64[:n_out], out64[-1])
        assert all(o.dtype == np.float32 for o in out32[:n_out]), f"{forward.__name__}: not float32"
        assert all(g.dtype == np.float32 for g in grads32), f"{backward.__name__}: a gradient is not float32"
        for o32, o64 in zip(out32[:n_out] + grads32, out64[:n_out] + grads64):
            assert error(o32.astype(np.float64), o64) < 1e-5, f"{forward.__name__}: float32 is off"


def test_float32_loss():
    loss, do = R.softmax_cross_entropy(a(T, B, K).astype(np.float32), ints(K, T, B))
    assert do.dtype == np.float32 and np.isfinite(loss)
