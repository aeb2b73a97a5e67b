"""rnn_ref.models.attention: the additive attention step and the attention encoder-decoder, against central differences
(float64, normwise relative error < 1e-7) and against PyTorch's autograd on the same weights (< 1e-10); bad input;
greedy decoding against the teacher-forced forward pass."""
import re

import numpy as np
import pytest
import torch

import rnn_ref as R
from helpers import CELL_NAMES, agree, cell_state, check_backward, check_gradients, named, state_parts, tt

# (T_in, B, H_dec, H_enc, A): includes T_in = 1, B = 1, A = 1
STEP_SHAPES = [(4, 3, 5, 6, 3), (1, 2, 3, 2, 4), (5, 1, 2, 3, 1)]
STEP_IDS = ["T4B3", "T1B2", "T5B1A1"]
# (T_in, T_out, B, D, H, K, A)
MODEL_SHAPES = [(4, 3, 2, 3, 5, 6, 3), (1, 1, 1, 2, 2, 3, 2), (3, 5, 1, 1, 3, 4, 1)]
MODEL_IDS = ["T4x3B2", "T1x1B1", "T3x5B1"]


def step_inputs(rng, T_in, B, H_dec, H_enc, A, scale=0.7):
    return {"s": rng.standard_normal((B, H_dec)), "h_enc": rng.standard_normal((T_in, B, H_enc)),
            "W_s": rng.standard_normal((H_dec, A)) * scale, "W_h": rng.standard_normal((H_enc, A)) * scale,
            "v": rng.standard_normal(A) * 1.5}


def model_case(rng, T_in, T_out, B, D, H, K, A, scale=0.6):
    p = R.init_attention_encoder_decoder(D, H, K, A, seed=int(rng.integers(1000)))
    p = {k: rng.standard_normal(v.shape) * scale for k, v in p.items()}    # not the small init: all terms matter
    return (p, rng.standard_normal((T_in, B, D)), rng.integers(0, K, (T_out, B)), rng.integers(0, K, (T_out, B)),
            rng.standard_normal((B, H)) * 0.5)


# ---------------------------------------------------------------- central differences

@pytest.mark.parametrize("T_in,B,H_dec,H_enc,A", STEP_SHAPES, ids=STEP_IDS)
def test_attention_step_gradients(T_in, B, H_dec, H_enc, A):
    rng = np.random.default_rng(T_in * 10 + B)
    v = step_inputs(rng, T_in, B, H_dec, H_enc, A)
    dctx = rng.standard_normal((B, H_enc))
    g = R.additive_attention_backward(dctx, R.additive_attention_forward(*v.values())[2])
    check_backward(lambda: R.additive_attention_forward(*v.values())[0], dctx, v, dict(zip(v, g)),
                   "additive_attention_backward")


@pytest.mark.parametrize("T_in,T_out,B,D,H,K,A", MODEL_SHAPES, ids=MODEL_IDS)
def test_attention_encoder_decoder_gradients(T_in, T_out, B, D, H, K, A):
    rng = np.random.default_rng(T_in * 100 + T_out)
    p, x, y_in, y_out, h0 = model_case(rng, T_in, T_out, B, D, H, K, A)
    loss, grads = R.attention_encoder_decoder_loss(x, y_in, y_out, h0, p)
    f = lambda: R.attention_encoder_decoder_loss(x, y_in, y_out, h0, p)[0]  # noqa: E731
    check_gradients(f, p, grads, "attention_encoder_decoder_loss")
    o, _, cache = R.attention_encoder_decoder_forward(x, y_in, h0, p)
    do = rng.standard_normal(o.shape)
    dx, dh0, _ = R.attention_encoder_decoder_backward(do, cache)
    check_backward(lambda: R.attention_encoder_decoder_forward(x, y_in, h0, p)[0], do, {"x": x, "h0": h0},
                   {"x": dx, "h0": dh0}, "attention_encoder_decoder_backward")


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_attention_encoder_decoder_gradients_with_every_cell(cell):
    """The encoder and the decoder may be any registered cell; the decoder starts from the encoder's whole
    final state ((h, c) for the LSTM), so the encoder's initial state gets a gradient in every part."""
    rng = np.random.default_rng(31)
    T_in, T_out, B, D, H, K, A = 3, 2, 2, 2, 3, 4, 2
    p = R.init_attention_encoder_decoder(D, H, K, A, seed=3, cell=cell)
    assert list(p) == list(R.models.attention.attention_encoder_decoder_keys(cell))
    p = {k: rng.standard_normal(v.shape) * 0.6 for k, v in p.items()}
    x, h0 = rng.standard_normal((T_in, B, D)), cell_state(cell, B, H, rng, scale=0.5)
    y_in, y_out = rng.integers(0, K, (T_out, B)), rng.integers(0, K, (T_out, B))
    loss, grads = R.attention_encoder_decoder_loss(x, y_in, y_out, h0, p, cell)
    check_gradients(lambda: R.attention_encoder_decoder_loss(x, y_in, y_out, h0, p, cell)[0], p, grads,
                    f"attention_encoder_decoder_loss[{cell}]")
    o, _, cache = R.attention_encoder_decoder_forward(x, y_in, h0, p, cell)
    do = rng.standard_normal(o.shape)
    dx, dh0, _ = R.attention_encoder_decoder_backward(do, cache)
    check_backward(lambda: R.attention_encoder_decoder_forward(x, y_in, h0, p, cell)[0], do,
                   {"x": x, **named("h0_", state_parts(cell, h0))}, {"x": dx, **named("h0_", state_parts(cell, dh0))},
                   f"attention_encoder_decoder_backward[{cell}]")
    out, alpha = R.attention_greedy_decode(x, h0, p, 0, 3, cell)
    o, alpha_tf, _ = R.attention_encoder_decoder_forward(x, np.vstack([np.zeros((1, B), int), out[:-1]]), h0, p, cell)
    assert np.array_equal(out, o.argmax(axis=2)) and np.allclose(alpha, alpha_tf)


def test_criterion_rejects_a_dropped_term():
    """The gradient check can fail: dropping the context's direct gradient into h_enc is caught."""
    rng = np.random.default_rng(5)
    v = step_inputs(rng, 4, 3, 5, 6, 3)
    dctx = rng.standard_normal((3, 6))
    _, alpha, cache = R.additive_attention_forward(*v.values())
    dh_enc = R.additive_attention_backward(dctx, cache)[1] - alpha[:, :, None] * dctx
    num = R.numerical_gradient(lambda: np.sum(R.additive_attention_forward(*v.values())[0] * dctx), v["h_enc"])
    assert R.norm_rel_error(dh_enc, num) > 1e-2


# ---------------------------------------------------------------- PyTorch

def torch_attention(s, h_enc, W_s, W_h, v):
    """Bahdanau's score in torch: e_j = v . tanh(s W_s + h_j W_h), softmax over the input positions."""
    e = torch.tanh(s @ W_s + h_enc @ W_h) @ v                      # (T_in, B)
    alpha = torch.softmax(e, dim=0)
    return (alpha[:, :, None] * h_enc).sum(dim=0), alpha


@pytest.mark.parametrize("scale", [0.7, 5.0], ids=["moderate", "saturated"])
@pytest.mark.parametrize("T_in,B,H_dec,H_enc,A", STEP_SHAPES, ids=STEP_IDS)
def test_attention_step_matches_torch(T_in, B, H_dec, H_enc, A, scale):
    rng = np.random.default_rng(T_in * 10 + B + 1)
    v = step_inputs(rng, T_in, B, H_dec, H_enc, A, scale)
    dctx = rng.standard_normal((B, H_enc))
    tv = {k: tt(a) for k, a in v.items()}
    ctx_t, alpha_t = torch_attention(*tv.values())
    (ctx_t * torch.from_numpy(dctx)).sum().backward()
    ctx, alpha, cache = R.additive_attention_forward(*v.values())
    agree("context", ctx, ctx_t)
    agree("alpha", alpha, alpha_t)
    for name, g in zip(v, R.additive_attention_backward(dctx, cache)):
        agree(f"d{name}", g, tv[name].grad)


@pytest.mark.parametrize("T_in,T_out,B,D,H,K,A", MODEL_SHAPES, ids=MODEL_IDS)
def test_attention_encoder_decoder_matches_torch(T_in, T_out, B, D, H, K, A):
    """The whole model written out in torch (nn.RNN for both RNNs, the attention by hand), cross_entropy summed
    over time and averaged over the batch."""
    rng = np.random.default_rng(T_in * 100 + T_out + 7)
    p, x, y_in, y_out, h0 = model_case(rng, T_in, T_out, B, D, H, K, A)
    enc = R.to_torch_rnn(torch.nn.RNN(D, H).double(), p["U_enc"], p["W_enc"], p["b_enc"])
    dec = R.to_torch_rnn(torch.nn.RNN(K, H).double(), p["U_dec"], p["W_dec"], p["b_dec"])
    tp = {k: tt(p[k]) for k in ("W_s", "W_h", "v", "V_ho", "V_co", "b_y")}
    xt, h0t = tt(x), tt(h0)
    h_enc, _ = enc(xt, h0t[None])
    s, _ = dec(torch.nn.functional.one_hot(torch.from_numpy(y_in), K).double(), h_enc[-1:])
    ctx = torch.stack([torch_attention(s[t], h_enc, tp["W_s"], tp["W_h"], tp["v"])[0] for t in range(T_out)])
    o = s @ tp["V_ho"] + ctx @ tp["V_co"] + tp["b_y"]
    loss_t = torch.nn.functional.cross_entropy(o.reshape(-1, K), torch.from_numpy(y_out).reshape(-1),
                                               reduction="sum") / B
    loss_t.backward()

    loss, grads = R.attention_encoder_decoder_loss(x, y_in, y_out, h0, p)
    agree("loss", loss, loss_t)
    for k in tp:
        agree(f"d{k}", grads[k], tp[k].grad)
    for k, (module, w) in {"U_enc": (enc, "weight_ih_l0"), "W_enc": (enc, "weight_hh_l0"),
                           "U_dec": (dec, "weight_ih_l0"), "W_dec": (dec, "weight_hh_l0")}.items():
        agree(f"d{k}", grads[k], getattr(module, w).grad.T)
    agree("db_enc", grads["b_enc"], enc.bias_ih_l0.grad)
    agree("db_dec", grads["b_dec"], dec.bias_ih_l0.grad)
    o_ref, _, cache = R.attention_encoder_decoder_forward(x, y_in, h0, p)
    agree("logits", o_ref, o)
    _, do = R.softmax_cross_entropy(o_ref, y_out)
    dx, dh0, _ = R.attention_encoder_decoder_backward(do, cache)
    agree("dx", dx, xt.grad)
    agree("dh0", dh0, h0t.grad)


# ---------------------------------------------------------------- what the forward pass means

def test_attention_weights_sum_to_one_over_the_input_positions():
    rng = np.random.default_rng(3)
    v = step_inputs(rng, 6, 4, 3, 5, 2, scale=3.0)
    ctx, alpha, _ = R.additive_attention_forward(*v.values())
    assert alpha.shape == (6, 4) and np.all(alpha >= 0)
    assert np.allclose(alpha.sum(axis=0), 1.0)
    assert np.allclose(ctx, np.einsum("tb,tbh->bh", alpha, v["h_enc"]))


def test_attention_on_one_position_is_that_state():
    """With T_in = 1 the weight is 1 and the context is the one encoder state, whatever the scores."""
    rng = np.random.default_rng(4)
    v = step_inputs(rng, 1, 3, 2, 4, 3)
    ctx, alpha, _ = R.additive_attention_forward(*v.values())
    assert np.allclose(alpha, 1.0) and np.allclose(ctx, v["h_enc"][0])


def test_init_encoder_decoder_matches_the_attention_models_weights():
    p = R.init_attention_encoder_decoder(3, 4, 5, 2, seed=1)
    q = R.init_encoder_decoder(3, 4, 5, seed=1)
    assert list(q) == list(R.models.architectures.ENCODER_DECODER)
    for k in ("U_enc", "W_enc", "b_enc", "U_dec", "W_dec", "b_dec", "V_ho"):
        assert np.array_equal(p[k], q[k]), k
    R.encoder_decoder_forward(np.zeros((2, 1, 3)), np.zeros((2, 1), dtype=int), np.zeros((1, 4)), q)


@pytest.mark.parametrize("attention", [True, False], ids=["attention", "plain"])
def test_greedy_decode_feeds_back_its_own_tokens(attention):
    """Free-running decoding equals the teacher-forced forward pass fed with the decoded tokens, shifted."""
    rng = np.random.default_rng(8)
    D, H, K, A, B, n = 3, 5, 6, 4, 7, 5
    p = R.init_attention_encoder_decoder(D, H, K, A, seed=2) if attention else R.init_encoder_decoder(D, H, K, 2)
    p = {k: a + rng.standard_normal(a.shape) for k, a in p.items()}
    x, h0 = rng.standard_normal((4, B, D)), rng.standard_normal((B, H)) * 0.3
    if attention:
        out, alpha = R.attention_greedy_decode(x, h0, p, 0, n)
        o, alpha_tf, _ = R.attention_encoder_decoder_forward(x, np.vstack([np.zeros((1, B), int), out[:-1]]), h0, p)
        assert np.allclose(alpha, alpha_tf)
    else:
        out = R.encoder_decoder_generate(x, h0, p, n, 0)
        o, _ = R.encoder_decoder_forward(x, np.vstack([np.zeros((1, B), int), out[:-1]]), h0, p)
    assert out.shape == (n, B) and out.dtype == np.int64
    assert np.array_equal(out, o.argmax(axis=2))
    assert len(np.unique(out)) > 1


# ---------------------------------------------------------------- bad input

def _step_kw():
    return step_inputs(np.random.default_rng(0), 3, 2, 4, 5, 3)


def _model_kw():
    p, x, y_in, y_out, h0 = model_case(np.random.default_rng(0), 3, 2, 2, 3, 4, 5, 2)
    return {"x": x, "y_in": y_in, "y_out": y_out, "h0": h0, "params": p}


def _drop(kw, key):
    p = dict(kw["params"])
    del p[key]
    return p


def _resize(kw, key, axis=-1):
    p = dict(kw["params"])
    p[key] = np.delete(p[key], 0, axis=axis)
    return p


def _fwd_cache():
    kw = _step_kw()
    return R.additive_attention_forward(**kw)[2]


STEP = R.additive_attention_forward
LOSS = R.attention_encoder_decoder_loss
BAD = [
    (STEP, "s", lambda kw: {**kw, "s": kw["s"][:1]}),                           # batch 1 vs 2
    (STEP, "s", lambda kw: {**kw, "s": kw["s"].astype(int)}),
    (STEP, "h_enc", lambda kw: {**kw, "h_enc": kw["h_enc"][0]}),                # not time-major 3-D
    (STEP, "h_enc", lambda kw: {**kw, "h_enc": np.full_like(kw["h_enc"], np.nan)}),
    (STEP, "W_s", lambda kw: {**kw, "W_s": kw["W_s"][:-1]}),                    # H_dec disagrees with s
    (STEP, "W_h", lambda kw: {**kw, "W_h": kw["W_h"][:, :-1]}),                 # A disagrees with W_s
    (STEP, "W_h", lambda kw: {**kw, "W_h": kw["W_h"][:-1]}),                    # H_enc disagrees with h_enc
    (STEP, "v", lambda kw: {**kw, "v": kw["v"][:-1]}),
    (R.additive_attention_backward, "dcontext", lambda kw: {"dcontext": np.zeros((2, 4)), "cache": _fwd_cache()}),
    (R.additive_attention_backward, "cache", lambda kw: {"dcontext": np.zeros((2, 5)), "cache": (1, 2)}),
    (LOSS, "params", lambda kw: {**kw, "params": _drop(kw, "V_co")}),
    (LOSS, "params", lambda kw: {**kw, "params": [1, 2]}),
    (LOSS, r"params\['v'\]", lambda kw: {**kw, "params": _resize(kw, "v")}),
    (LOSS, r"params\['V_co'\]", lambda kw: {**kw, "params": _resize(kw, "V_co")}),
    (LOSS, r"params\['b_y'\]", lambda kw: {**kw, "params": _resize(kw, "b_y")}),
    (LOSS, r"params\['W_h'\]", lambda kw: {**kw, "params": _resize(kw, "W_h", 0)}),
    (LOSS, "x", lambda kw: {**kw, "x": kw["x"][:, :, :-1]}),                    # D disagrees with U_enc
    (LOSS, "y_in", lambda kw: {**kw, "y_in": kw["y_in"] + 10}),                 # tokens out of range
    (LOSS, "y_in", lambda kw: {**kw, "y_in": kw["y_in"][:, :1]}),               # batch 1 vs 2
    (LOSS, "y_out", lambda kw: {**kw, "y_out": kw["y_out"][:1]}),               # T_out disagrees
    (LOSS, "h0", lambda kw: {**kw, "h0": kw["h0"][:, :-1]}),
]


@pytest.mark.parametrize("fn,arg,spoil", BAD, ids=[f"{f.__name__}-{a.replace(chr(92), '')}-{i}"
                                                   for i, (f, a, _) in enumerate(BAD)])
def test_bad_input(fn, arg, spoil):
    kw = _step_kw() if fn is not LOSS else _model_kw()
    if fn is R.additive_attention_backward:
        kw = {}
    else:
        fn(**kw)  # the valid call works
    with pytest.raises(ValueError) as e:
        fn(**spoil(kw))
    msg = str(e.value)
    assert re.match(rf"{arg}(?!\w)", msg), f"the message does not start with {arg!r}: {msg!r}"


def test_backward_cache_from_the_model():
    kw = _model_kw()
    o, _, cache = R.attention_encoder_decoder_forward(kw["x"], kw["y_in"], kw["h0"], kw["params"])
    with pytest.raises(ValueError, match="^do"):
        R.attention_encoder_decoder_backward(o[:1], cache)
    with pytest.raises(ValueError, match="^cache"):
        R.attention_encoder_decoder_backward(o, _fwd_cache())


@pytest.mark.parametrize("decode", [R.attention_greedy_decode, R.encoder_decoder_generate])
@pytest.mark.parametrize("arg,value", [("n", 0), ("n", 2.0), ("start", 99), ("start", -1)])
def test_decode_bad_input(decode, arg, value):
    kw = _model_kw()
    p = kw["params"] if decode is R.attention_greedy_decode else R.init_encoder_decoder(3, 4, 5, seed=0)
    args = {"x": kw["x"], "h0": kw["h0"], "params": p, "start": 0, "n": 3}
    decode(**args)
    with pytest.raises(ValueError, match=f"^{arg}"):
        decode(**{**args, arg: value})


@pytest.mark.parametrize("fn", [R.init_attention_encoder_decoder, R.init_encoder_decoder])
def test_init_bad_sizes(fn):
    args = (3, 4, 5, 2) if fn is R.init_attention_encoder_decoder else (3, 4, 5)
    fn(*args)
    with pytest.raises(ValueError, match="^H"):
        fn(args[0], 0, *args[2:])
