"""The book's reusable scaffolding in rnn_ref: the corpus split and the bigram baseline, the training loop `fit`,
the one- and two-directional taggers, the stacked model with an output layer, the encoder-decoder's init and
greedy decoder, and the path lengths of the unrolled deep RNNs.

Gradients: central differences and PyTorch's autograd on the same float64 weights, written out with torch
operations (the checks and tolerances of tests/helpers.py).
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import rnn_ref as R
from helpers import agree, check_gradients, tt

F64 = torch.float64


def torch_check(loss_fn_torch, params, loss, grads, what):
    tp = {k: tt(v) for k, v in params.items()}
    tl = loss_fn_torch(tp)
    tl.backward()
    assert abs(tl.item() - loss) <= 1e-12 * max(1.0, abs(loss)), f"{what}: loss {loss} vs torch {tl.item()}"
    for k in params:
        agree(f"{what} d{k}", grads[k], tp[k].grad)


def torch_rnn(x, U, W, b, reverse=False):
    T = x.shape[0]
    h = torch.zeros(x.shape[1], W.shape[0], dtype=F64)
    out = [None] * T
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        h = torch.tanh(x[t] @ U + h @ W + b)
        out[t] = h
    return torch.stack(out)


def torch_xent(o, y):
    """Summed over time, averaged over the batch (rnn_ref.softmax_cross_entropy)."""
    T, B, K = o.shape
    return F.cross_entropy(o.reshape(T * B, K), torch.tensor(y.reshape(-1)), reduction="sum") / B


# ------------------------------------------------------------------------------------------------ taggers
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("T,B,D,H,K,T_y", [(5, 3, 2, 4, 3, 3), (1, 1, 2, 1, 2, 1), (4, 1, 3, 2, 4, 4)])
def test_tagger_gradients(bidirectional, T, B, D, H, K, T_y):
    rng = np.random.default_rng(T * 10 + H)
    p = R.init_tagger(D, H, K, bidirectional=bidirectional, seed=1)
    p = {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in p.items()}    # nonzero b_y too
    x = rng.standard_normal((T, B, D))
    y = rng.integers(0, K, (T_y, B))
    loss, grads = R.tagger_loss(x, p, y)
    assert sorted(grads) == sorted(p)
    check_gradients(lambda: R.tagger_loss(x, p, y)[0], p, grads, "tagger")
    xt = torch.tensor(x)

    def torch_loss(tp):
        if bidirectional:
            h = torch.cat([torch_rnn(xt, tp["U_xh_fw"], tp["W_hh_fw"], tp["b_fw"]),
                           torch_rnn(xt, tp["U_xh_bw"], tp["W_hh_bw"], tp["b_bw"], reverse=True)], dim=2)
        else:
            h = torch_rnn(xt, tp["U_xh"], tp["W_hh"], tp["b"])
        o = h @ tp["V_ho"] + tp["b_y"]
        return torch_xent(o[:T_y], y)
    torch_check(torch_loss, p, loss, grads, "tagger")


def test_tagger_forward_shapes_and_future():
    """The bidirectional tagger's first output depends on the last input; the one-directional one's does not."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 2, 3))
    x2 = x.copy()
    x2[-1] += 1.0
    for bi, moves in ((False, False), (True, True)):
        p = R.init_tagger(3, 4, 5, bidirectional=bi)
        o, _ = R.tagger_forward(x, p)
        o2, _ = R.tagger_forward(x2, p)
        assert o.shape == (6, 2, 5)
        assert (np.abs(o2[0] - o[0]).max() > 1e-6) == moves


@pytest.mark.parametrize("call,match", [
    (lambda: R.init_tagger(0, 4, 2), "D"),
    (lambda: R.init_tagger(2, 4, 2, bidirectional="yes"), "bidirectional"),
    (lambda: R.tagger_loss(np.zeros((3, 2, 2)), R.init_tagger(2, 4, 2), np.zeros((4, 2), int)), "y"),
    (lambda: R.tagger_loss(np.zeros((3, 2, 2)), R.init_tagger(2, 4, 2), np.full((3, 2), 2)), "y"),
    (lambda: R.tagger_forward(np.zeros((3, 2)), R.init_tagger(2, 4, 2)), "x"),
    (lambda: R.tagger_forward(np.zeros((3, 2, 2)), {"U_xh": np.zeros((2, 4))}), "params"),
])
def test_tagger_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ------------------------------------------------------------------------------------------------ stacked model
@pytest.mark.parametrize("T,B,D,H,K,L", [(4, 3, 2, 3, 2, 2), (1, 1, 1, 2, 3, 1), (3, 2, 2, 2, 2, 3)])
def test_stacked_loss_gradients(T, B, D, H, K, L):
    rng = np.random.default_rng(L)
    p = R.init_stacked(D, H, K, L, seed=2)
    p = {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in p.items()}
    x, y = rng.standard_normal((T, B, D)), rng.integers(0, K, (T, B))
    loss, grads = R.stacked_loss(x, p, y)
    assert sorted(grads) == sorted(p)
    check_gradients(lambda: R.stacked_loss(x, p, y)[0], p, grads, "stacked")
    np.testing.assert_allclose(R.stacked_predict(x, p).shape, (T, B, K))

    def torch_loss(tp):
        h = torch.tensor(x)
        for l in range(L):
            h = torch_rnn(h, tp[f"U{l}"], tp[f"W{l}"], tp[f"b{l}"])
        return torch_xent(h @ tp["V_ho"] + tp["b_y"], y)
    torch_check(torch_loss, p, loss, grads, "stacked")


@pytest.mark.parametrize("call,match", [
    (lambda: R.init_stacked(1, 4, 2, 0), "L"),
    (lambda: R.stacked_loss(np.zeros((3, 2, 1)), {"U0": np.zeros((1, 2))}, np.zeros((3, 2), int)), "params"),
    (lambda: R.stacked_loss(np.zeros((3, 2, 1)), R.init_stacked(1, 4, 2, 2), np.zeros((2, 2), int)), "y"),
    (lambda: R.stacked_predict(np.zeros((3, 2, 2)), R.init_stacked(1, 4, 2, 2)), "x"),
])
def test_stacked_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ------------------------------------------------------------------------------------------------ encoder-decoder
def test_encoder_decoder_generate_is_greedy_teacher_forcing_on_its_own_output():
    """Feeding the generated tokens back through encoder_decoder_forward reproduces them as the argmax."""
    rng = np.random.default_rng(3)
    D, H, K, T_in, B, n = 4, 5, 6, 3, 4, 5
    p = R.init_encoder_decoder(D, H, K, seed=0)
    p["b_y"] = rng.standard_normal(K)
    x, h0 = rng.standard_normal((T_in, B, D)), rng.standard_normal((B, H))
    out = R.encoder_decoder_generate(x, h0, p, n, start=K - 1)
    assert out.shape == (n, B) and out.dtype.kind == "i"
    y_in = np.vstack([np.full((1, B), K - 1), out[:-1]])
    logits, _ = R.encoder_decoder_forward(x, y_in, h0, p)
    np.testing.assert_array_equal(logits.argmax(axis=-1), out)
    assert sorted(p) == sorted(R.models.architectures.ENCODER_DECODER)


@pytest.mark.parametrize("call,match", [
    (lambda: R.init_encoder_decoder(2, 0, 3), "H"),
    (lambda: R.encoder_decoder_generate(np.zeros((2, 1, 2)), np.zeros((1, 3)), R.init_encoder_decoder(2, 3, 4), 0, 1),
     "n"),
    (lambda: R.encoder_decoder_generate(np.zeros((2, 1, 2)), np.zeros((1, 3)), R.init_encoder_decoder(2, 3, 4), 2, 4),
     "start"),
    (lambda: R.encoder_decoder_generate(np.zeros((2, 1, 2)), np.zeros((2, 3)), R.init_encoder_decoder(2, 3, 4), 2, 0),
     "h0"),
])
def test_encoder_decoder_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ------------------------------------------------------------------------------------------------ fit
def test_fit_is_the_clipped_adam_loop():
    rng0 = np.random.default_rng(0)
    p0 = R.init_sequence_model("rnn", 1, 6, 2, seed=0)
    batch = lambda rng: R.parity(6, 8, rng, per_step=True)                       # noqa: E731
    loss_fn = lambda p, x, y: R.many_to_many_loss(x, None, p, y)                  # noqa: E731
    seen = []
    p, losses = R.fit(loss_fn, p0, batch, steps=30, lr=1e-2, max_norm=1.0, seed=5,
                      callback=lambda step, params: seen.append((step, params["W_hh"].copy())))
    q, state, rng, manual = dict(p0), None, np.random.default_rng(5), []
    for _ in range(30):
        loss, g = loss_fn(q, *batch(rng))
        g, _ = R.clip_by_global_norm(g, 1.0)
        q, state = R.adam_step(q, g, state, lr=1e-2)
        manual.append(loss)
    np.testing.assert_array_equal(losses, manual)
    assert [s for s, _ in seen] == list(range(1, 31)) and np.array_equal(seen[-1][1], q["W_hh"])
    for k in p:
        np.testing.assert_array_equal(p[k], q[k])
    assert not any(np.shares_memory(p0[k], p[k]) for k in p0) and losses.shape == (30,)
    del rng0


@pytest.mark.parametrize("kw,match", [
    (dict(loss_fn=None), "loss_fn"), (dict(batch_fn=3), "batch_fn"), (dict(steps=0), "steps"),
    (dict(params={}), "params"), (dict(max_norm=-1.0), "max_norm"), (dict(optimizer="rmsprop"), "optimizer"),
    (dict(callback=5), "callback"),
])
def test_fit_bad_input(kw, match):
    args = dict(loss_fn=lambda p, x: (0.0, p), params={"w": np.zeros(2)}, batch_fn=lambda rng: (0,), steps=1)
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        R.fit(**args)


# ------------------------------------------------------------------------------------------------ split, bigram
def test_train_valid_split_matches_the_experiments_script():
    ids = np.arange(1001)
    tr, va = R.train_valid_split(ids)
    assert len(tr) == int(1001 * 0.9) and np.array_equal(np.concatenate([tr, va]), ids)
    tr, va = R.train_valid_split(ids, valid_frac=0.25)
    assert len(va) == 1001 - int(1001 * 0.75)


def test_bigram_counts_and_loss():
    ids = np.array([0, 1, 0, 1, 2, 0])
    lp = R.bigram_log_probs(ids, 3, alpha=1.0)
    # after 0: next is 1 twice (counts 1+2, 0+1, 0+1 over 5)
    np.testing.assert_allclose(np.exp(lp[0]), [1 / 5, 3 / 5, 1 / 5])
    np.testing.assert_allclose(np.exp(lp).sum(axis=1), 1.0)
    assert R.bigram_loss(lp, np.array([0, 1])) == pytest.approx(-np.log(3 / 5))
    text_ids = np.random.default_rng(0).integers(0, 4, 500)
    uniform = R.bigram_loss(np.full((4, 4), np.log(0.25)), text_ids)
    assert uniform == pytest.approx(np.log(4))


@pytest.mark.parametrize("call,match", [
    (lambda: R.train_valid_split(np.arange(10.0)), "ids"), (lambda: R.train_valid_split(np.arange(10), 1.5), "valid_frac"),
    (lambda: R.train_valid_split(np.arange(3)), "ids"),
    (lambda: R.bigram_log_probs(np.array([0, 5]), 3), "train_ids"), (lambda: R.bigram_log_probs(np.array([0, 1]), 0), "V"),
    (lambda: R.bigram_log_probs(np.array([0, 1]), 2, alpha=0), "alpha"),
    (lambda: R.bigram_loss(np.zeros((2, 3)), np.array([0, 1])), "log_probs"),
    (lambda: R.bigram_loss(np.zeros((2, 2)), np.array([0, 2])), "ids"),
])
def test_split_and_bigram_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ------------------------------------------------------------------------------------------------ path lengths
@pytest.mark.parametrize("k", [1, 4, 10])
def test_path_lengths_of_the_three_deep_variants(k):
    def pl(variant, src, dst):
        return R.path_lengths(R.unrolled_edges(variant, k + 1), src, dst)
    assert pl("stacked", ("h2", 0), ("h2", k)) == (k, k)
    assert pl("deep transition", ("h", 0), ("h", k)) == (2 * k, 2 * k)
    assert pl("skip", ("h", 0), ("h", k)) == (k, 2 * k)
    assert pl("stacked", ("x", 0), ("o", k)) == (k + 3, k + 3)
    assert pl("skip", ("h", k), ("h", 0)) == (None, None)


@pytest.mark.parametrize("call,match", [
    (lambda: R.unrolled_edges("wide", 3), "variant"), (lambda: R.unrolled_edges("skip", 0), "steps"),
    (lambda: R.path_lengths([("a",)], "a", "b"), "edges"),
])
def test_path_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
