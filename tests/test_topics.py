"""The reference functions of the five 'what comes next' sections: initialisers (07b), embeddings and word
vocabularies (06b), variable-length batches (08b), decoding (08c) and dropout with weight tying (10b).

Each backward pass against central differences and against PyTorch autograd on the same float64 weights (the
checks and tolerances of tests/helpers.py); each function on bad input (a ValueError whose message starts with the argument's name, as in test_bad_input.py).
"""
import itertools
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import rnn_ref as R
from helpers import TORCH_TOL, agree, cell_weights, check_gradients, tt
from rnn_ref import torch_io

F64 = torch.float64


LENGTHS = [np.array([5, 3, 1, 4]), np.array([1]), np.array([2, 2])]   # includes B = 1, T = 1, no padding
LIDS = ["mixed", "T1B1", "full"]


# ---------------------------------------------------------------- initialisers (no gradient: properties)

@pytest.mark.parametrize("n,m,gain", [(6, 6, 1.0), (4, 7, 0.5), (7, 3, 2.0), (1, 1, 1.0)])
def test_orthogonal_init_like_torch(n, m, gain):
    W = R.orthogonal_init(n, m, gain=gain, rng=0)
    Wt = torch.nn.init.orthogonal_(torch.empty(n, m, dtype=F64), gain=gain).numpy()
    assert W.shape == Wt.shape == (n, m) and W.dtype == np.float64
    # every singular value is gain, in ours as in torch's
    np.testing.assert_allclose(np.linalg.svd(W, compute_uv=False), gain, rtol=1e-12)
    np.testing.assert_allclose(np.linalg.svd(Wt, compute_uv=False), gain, rtol=1e-12)
    np.testing.assert_array_equal(W, R.orthogonal_init(n, m, gain=gain, rng=0))       # seeded
    assert not np.allclose(W, R.orthogonal_init(n, m, gain=gain, rng=1)) or n == m == 1


def test_orthogonal_init_is_haar_distributed():
    """Without the sign fix the QR's Q is biased: its diagonal leans positive. Haar: the mean trace is 0."""
    traces = [np.trace(R.orthogonal_init(3, rng=s)) for s in range(2000)]
    assert abs(np.mean(traces)) < 0.1, np.mean(traces)


def test_identity_init_and_spectral_radius():
    W = R.identity_init(5, scale=0.9)
    np.testing.assert_array_equal(W, 0.9 * np.eye(5))
    assert R.spectral_radius(W) == pytest.approx(0.9)
    assert R.spectral_radius(R.orthogonal_init(8, gain=1.3, rng=2)) == pytest.approx(1.3)
    assert R.spectral_radius(np.array([[0.0, 2.0], [0.5, 0.0]])) == pytest.approx(1.0)


# ---------------------------------------------------------------- embeddings

@pytest.mark.parametrize("shape,V,d", [((3, 2), 5, 4), ((1, 1), 1, 1), ((7,), 3, 2)])
def test_embedding_is_one_hot_times_E(shape, V, d):
    rng = np.random.default_rng(10)
    idx, E = rng.integers(0, V, size=shape), rng.standard_normal((V, d))
    out, cache = R.embedding_forward(idx, E)
    np.testing.assert_allclose(out, R.one_hot(idx, V) @ E, rtol=0, atol=1e-15)
    dout = rng.standard_normal(out.shape)
    check_gradients(lambda: np.sum(R.embedding_forward(idx, E)[0] * dout), {"E": E},
              {"E": R.embedding_backward(dout, cache)}, "embedding_backward")
    # the matrix product's gradient: onehot^T @ dout
    oh = R.one_hot(idx, V).reshape(-1, V)
    np.testing.assert_allclose(R.embedding_backward(dout, cache), oh.T @ dout.reshape(-1, d), atol=1e-14)


def test_embedding_matches_torch():
    rng = np.random.default_rng(11)
    idx, E = np.array([[1, 3, 1], [0, 1, 4]]), rng.standard_normal((6, 3))   # index 1 three times, 2 and 5 never
    out, cache = R.embedding_forward(idx, E)
    Et = tt(E)
    o = F.embedding(torch.from_numpy(idx), Et)
    dout = rng.standard_normal(out.shape)
    (o * torch.from_numpy(dout)).sum().backward()
    agree("embedding out", out, o)
    agree("embedding dE", R.embedding_backward(dout, cache), Et.grad)
    assert not R.embedding_backward(dout, cache)[[2, 5]].any()


def test_word_vocab():
    toks = R.tokenize_words("The cat sat. The cat ran; a dog sat, the END")
    assert toks[:4] == ["the", "cat", "sat", "."] and toks[-1] == "end"
    vocab = R.make_word_vocab(toks)
    assert vocab[:2] == ["<pad>", "<unk>"] and vocab[2] == "the" and vocab[3:5] == ["cat", "sat"]
    assert R.make_word_vocab(toks, min_count=2) == ["<pad>", "<unk>", "the", "cat", "sat"]
    small = R.make_word_vocab(toks, max_size=4)
    assert small == ["<pad>", "<unk>", "the", "cat"]
    ids = R.encode_words(["the", "dog", "cat", "zebra"], small)
    np.testing.assert_array_equal(ids, [2, R.UNK, 3, R.UNK])
    assert R.PAD == 0


# ---------------------------------------------------------------- masks, padding, last real state

@pytest.mark.parametrize("lengths", LENGTHS, ids=LIDS)
def test_masked_softmax_cross_entropy(lengths):
    rng = np.random.default_rng(20)
    T, B, K = lengths.max(), len(lengths), 5
    m = R.length_mask(lengths, T)
    o, y = rng.standard_normal((T, B, K)) * 2, rng.integers(0, K, size=(T, B))
    loss, do = R.masked_softmax_cross_entropy(o, y, m)
    check_gradients(lambda: R.masked_softmax_cross_entropy(o, y, m)[0], {"o": o}, {"o": do}, "masked_softmax_cross_entropy")
    assert not do[m == 0].any()
    y_ignore = np.where(m == 1, y, -100)
    ot = tt(o)
    lt = F.cross_entropy(ot.reshape(T * B, K), torch.from_numpy(y_ignore.reshape(-1)), ignore_index=-100)
    lt.backward()
    assert R.rel_error(loss, lt.item()) < TORCH_TOL
    agree("masked cross-entropy do", do, ot.grad)
    # all real: the per-token mean of softmax_cross_entropy (which sums over time and averages over the batch)
    full, _ = R.softmax_cross_entropy(o, y)
    assert R.masked_softmax_cross_entropy(o, y, np.ones((T, B)))[0] == pytest.approx(full / T, rel=1e-12)


@pytest.mark.parametrize("lengths", LENGTHS, ids=LIDS)
def test_masked_rnn_gradients(lengths):
    rng = np.random.default_rng(21)
    T, B, D, H = lengths.max(), len(lengths), 3, 4
    m = R.length_mask(lengths, T)
    U, W, b = cell_weights("rnn", D, H, rng)
    v = {"x": rng.standard_normal((T, B, D)), "h0": rng.standard_normal((B, H)), "U_xh": U, "W_hh": W, "b": b}
    dh = rng.standard_normal((T, B, H))
    f = lambda: np.sum(R.masked_rnn_forward(v["x"], m, v["h0"], v["U_xh"], v["W_hh"], v["b"])[0] * dh)
    h, cache = R.masked_rnn_forward(v["x"], m, v["h0"], U, W, b)
    g = R.masked_rnn_backward(dh, cache)
    check_gradients(f, v, dict(zip(["x", "h0", "U_xh", "W_hh", "b"], g)), "masked_rnn_backward")
    # padding holds the state: h[T-1] is the last real state; all-ones mask is rnn_forward
    last, _ = R.last_state_forward(h, lengths)
    np.testing.assert_array_equal(h[-1], last)
    h_plain, _ = R.rnn_forward(v["x"], v["h0"], U, W, b)
    np.testing.assert_allclose(R.masked_rnn_forward(v["x"], np.ones((T, B)), v["h0"], U, W, b)[0], h_plain, atol=1e-15)


@pytest.mark.parametrize("lengths", LENGTHS, ids=LIDS)
def test_last_state_gradients(lengths):
    rng = np.random.default_rng(22)
    T, B, H = lengths.max(), len(lengths), 3
    h = rng.standard_normal((T, B, H))
    dout = rng.standard_normal((B, H))
    out, cache = R.last_state_forward(h, lengths)
    check_gradients(lambda: np.sum(R.last_state_forward(h, lengths)[0] * dout), {"h": h},
              {"h": R.last_state_backward(dout, cache)}, "last_state_backward")


@pytest.mark.parametrize("lengths", LENGTHS, ids=LIDS)
def test_padded_rnn_matches_torch_packed(lengths):
    """pack_padded_sequence: torch's h_n is the last real state; ours from last_state_forward on a plain
    rnn_forward and from masked_rnn_forward's h[T-1]; every gradient of a loss on the real outputs and h_n."""
    rng = np.random.default_rng(23)
    T, B, D, H = lengths.max(), len(lengths), 3, 4
    U, W, b = cell_weights("rnn", D, H, rng)
    x, h0 = rng.standard_normal((T, B, D)), rng.standard_normal((B, H))
    m = R.length_mask(lengths, T)
    dh, dlast = rng.standard_normal((T, B, H)) * m[..., None], rng.standard_normal((B, H))

    module = torch_io.to_torch_rnn(torch.nn.RNN(D, H).double(), U, W, b)
    xt, h0t = tt(x), tt(h0[None])
    packed = pack_padded_sequence(xt, torch.from_numpy(lengths), enforce_sorted=False)
    out_p, hn = module(packed, h0t)
    out, _ = pad_packed_sequence(out_p, total_length=T)
    ((out * torch.from_numpy(dh)).sum() + (hn[0] * torch.from_numpy(dlast)).sum()).backward()
    torch_g = [module.weight_ih_l0.grad.T, module.weight_hh_l0.grad.T, module.bias_ih_l0.grad]

    # 1. plain forward + gather
    h, cache = R.rnn_forward(x, h0, U, W, b)
    last, lcache = R.last_state_forward(h, lengths)
    agree("packed h (real steps)", h * m[..., None], out)
    agree("packed h_n = last real state", last, hn[0])
    dx, dh0, *dp = R.rnn_backward(dh + R.last_state_backward(dlast, lcache), cache)
    agree("gather dx", dx, xt.grad)
    agree("gather dh0", dh0, h0t.grad[0])
    for name, ours, theirs in zip(("dU_xh", "dW_hh", "db"), dp, torch_g):
        agree(f"gather {name}", ours, theirs)
    # 2. the masked forward that holds its state
    hm, mcache = R.masked_rnn_forward(x, m, h0, U, W, b)
    agree("masked h[T-1] = h_n", hm[-1], hn[0])
    dhm = dh.copy()
    dhm[-1] += dlast
    dx, dh0, *dp = R.masked_rnn_backward(dhm, mcache)
    agree("masked dx", dx, xt.grad)
    agree("masked dh0", dh0, h0t.grad[0])
    for name, ours, theirs in zip(("dU_xh", "dW_hh", "db"), dp, torch_g):
        agree(f"masked {name}", ours, theirs)


@pytest.mark.parametrize("lengths", LENGTHS, ids=LIDS)
def test_bidirectional_padded_matches_torch_packed(lengths):
    """The backward direction reads reverse_padded(x): it starts at the last real step, as torch's packed
    bidirectional RNN does; the naive reversal of the whole padded array starts in the padding."""
    rng = np.random.default_rng(24)
    T, B, D, H = lengths.max(), len(lengths), 2, 3
    pf, pb = cell_weights("rnn", D, H, rng), cell_weights("rnn", D, H, rng)
    x = rng.standard_normal((T, B, D))
    m = R.length_mask(lengths, T)
    dh = rng.standard_normal((T, B, 2 * H)) * m[..., None]
    module = torch.nn.RNN(D, H, bidirectional=True).double()
    torch_io.to_torch_rnn(module, *pf)
    with torch.no_grad():
        for name, val in zip(("weight_ih", "weight_hh", "bias_ih"), (pb[0].T, pb[1].T, pb[2])):
            getattr(module, name + "_l0_reverse").copy_(torch.from_numpy(np.ascontiguousarray(val)))
        module.bias_hh_l0_reverse.zero_()
    xt = tt(x)
    out_p, hn = module(pack_padded_sequence(xt, torch.from_numpy(lengths), enforce_sorted=False))
    out, _ = pad_packed_sequence(out_p, total_length=T)
    (out * torch.from_numpy(dh)).sum().backward()

    zeros = np.zeros((B, H))
    h_f, cf = R.masked_rnn_forward(x, m, zeros, *pf)
    h_b, cb = R.masked_rnn_forward(R.reverse_padded(x, lengths), m, zeros, *pb)
    h = np.concatenate([h_f, R.reverse_padded(h_b, lengths)], axis=2) * m[..., None]
    agree("bi h (real steps)", h, out)
    agree("bi h_n forward", h_f[-1], hn[0])
    agree("bi h_n backward", h_b[-1], hn[1])
    dx_f, _, *dp_f = R.masked_rnn_backward(dh[:, :, :H], cf)
    dx_b, _, *dp_b = R.masked_rnn_backward(R.reverse_padded(dh[:, :, H:], lengths), cb)
    agree("bi dx", dx_f + R.reverse_padded(dx_b, lengths), xt.grad)
    agree("bi dW_hh forward", dp_f[1], module.weight_hh_l0.grad.T)
    agree("bi dW_hh backward", dp_b[1], module.weight_hh_l0_reverse.grad.T)
    agree("bi dU_xh backward", dp_b[0], module.weight_ih_l0_reverse.grad.T)
    if lengths.min() < lengths.max():   # the naive reversal differs where there is padding
        h_naive, _ = R.rnn_forward(x[::-1], zeros, *pb)
        assert not np.allclose(h_naive[::-1][0], R.reverse_padded(h_b, lengths)[0])


def test_pad_batch_reverse_padded_and_mask():
    tokens, lengths = R.pad_batch([[4, 5, 6], [7], [8, 9]], pad=0)
    np.testing.assert_array_equal(tokens, [[4, 7, 8], [5, 0, 9], [6, 0, 0]])
    np.testing.assert_array_equal(lengths, [3, 1, 2])
    np.testing.assert_array_equal(R.length_mask(lengths, 3), [[1, 1, 1], [1, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(R.reverse_padded(tokens, lengths), [[6, 7, 9], [5, 0, 8], [4, 0, 0]])
    np.testing.assert_array_equal(R.reverse_padded(R.reverse_padded(tokens, lengths), lengths), tokens)


# ---------------------------------------------------------------- dropout

@pytest.mark.parametrize("variational", [False, True], ids=["per-step", "variational"])
def test_dropout_gradients_and_torch(variational):
    rng = np.random.default_rng(30)
    x, dout = rng.standard_normal((4, 3, 5)), rng.standard_normal((4, 3, 5))
    out, cache = R.dropout_forward(x, 0.4, rng=7, same_mask_over_time=variational)
    dx = R.dropout_backward(dout, cache)
    check_gradients(lambda: np.sum(R.dropout_forward(x, 0.4, rng=7, same_mask_over_time=variational)[0] * dout),
              {"x": x}, {"x": dx}, "dropout_backward")
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / 0.6, rtol=1e-14)
    if variational:
        assert (kept == kept[0]).all(), "a variational mask is the same at every time step"
    # torch autograd through the same mask
    xt = tt(x)
    (xt * torch.from_numpy(cache.scaled_mask) * torch.from_numpy(dout)).sum().backward()
    agree("dropout dx", dx, xt.grad)


def test_dropout_statistics_and_eval_mode():
    x = np.ones((200, 50, 20))
    out, _ = R.dropout_forward(x, 0.3, rng=0)
    assert abs((out == 0).mean() - 0.3) < 0.01 and abs(out.mean() - 1.0) < 0.02   # E[out] = x
    t = torch.nn.functional.dropout(torch.from_numpy(x), 0.3, training=True).numpy()
    assert set(np.unique(out)) == set(np.unique(t)) == {0.0, 1 / 0.7}           # the same scaling as torch
    ev, cache = R.dropout_forward(x, 0.3, rng=0, train=False)
    np.testing.assert_array_equal(ev, x)
    np.testing.assert_array_equal(R.dropout_backward(x, cache), x)


# ---------------------------------------------------------------- the embedding language model

LM_CASES = [dict(tied=False, p_drop=0.0, masked=False), dict(tied=True, p_drop=0.0, masked=True),
            dict(tied=False, p_drop=0.3, masked=True, variational=True),
            dict(tied=True, p_drop=0.3, masked=False, variational=False)]
LM_IDS = ["plain", "tied-masked", "dropout-variational-masked", "tied-dropout-per-step"]


def _lm_case(case, seed):
    rng = np.random.default_rng(seed)
    V, H, lengths = 7, 4, np.array([4, 2, 3])
    T, B = lengths.max(), len(lengths)
    params = R.init_embedding_lm(V, H, H, seed=seed, tied=case["tied"])
    params["b"] = rng.standard_normal(H) * 0.1
    params["b_y"] = rng.standard_normal(V) * 0.1
    inputs, targets = rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B))
    mask = R.length_mask(lengths, T) if case["masked"] else None
    kw = dict(mask=mask, p_drop=case["p_drop"], rng=5, variational=case.get("variational", True))
    return params, inputs, targets, rng.standard_normal((B, H)) * 0.3, kw, lengths


@pytest.mark.parametrize("case", LM_CASES, ids=LM_IDS)
def test_embedding_lm_gradients(case):
    params, inputs, targets, h0, kw, _ = _lm_case(case, 40)
    loss, grads, _ = R.embedding_lm_loss(params, inputs, targets, h0, **kw)
    assert set(grads) == set(params)
    check_gradients(lambda: R.embedding_lm_loss(params, inputs, targets, h0, **kw)[0], params, grads,
              f"embedding_lm_loss {case}")


@pytest.mark.parametrize("case", LM_CASES, ids=LM_IDS)
def test_embedding_lm_matches_torch(case):
    params, inputs, targets, h0, kw, lengths = _lm_case(case, 41)
    loss, grads, h_last = R.embedding_lm_loss(params, inputs, targets, h0, **kw)
    T, B = inputs.shape
    V, d = params["E"].shape
    H = params["W_hh"].shape[0]
    # the same dropout masks: embedding_lm_loss draws the input mask, then the output mask, from one Generator
    rng, p = np.random.default_rng(kw["rng"]), kw["p_drop"]
    masks = []
    for width in (d, H):
        shape = (1, B, width) if kw["variational"] else (T, B, width)
        masks.append(np.ones(shape) if p == 0 else (rng.random(shape) >= p) / (1 - p))
    t = {k: tt(v) for k, v in params.items()}
    x = F.embedding(torch.from_numpy(inputs), t["E"]) * torch.from_numpy(masks[0])
    module = torch.nn.RNN(d, H).double()
    with torch.no_grad():
        module.weight_ih_l0.copy_(t["U_xh"].T)
        module.weight_hh_l0.copy_(t["W_hh"].T)
        module.bias_ih_l0.zero_()
        module.bias_hh_l0.zero_()
    out = []
    h = tt(h0)
    for step in range(T):   # the cell by hand, so that our leaf tensors get the gradients
        h = torch.tanh(x[step] @ t["U_xh"] + h @ t["W_hh"] + t["b"])
        out.append(h)
    hs = torch.stack(out)
    with torch.no_grad():   # ... and the same states as nn.RNN with these weights and b as bias_ih
        module.bias_ih_l0.copy_(t["b"])
        agree("states vs nn.RNN", hs, module(x.detach(), torch.from_numpy(h0)[None])[0])
    W_out = t["E"].T if case["tied"] else t["V_ho"]
    o = (hs * torch.from_numpy(masks[1])) @ W_out + t["b_y"]
    y = torch.from_numpy(targets if kw["mask"] is None else np.where(kw["mask"] == 1, targets, -100))
    lt = F.cross_entropy(o.reshape(T * B, V), y.reshape(-1), ignore_index=-100)
    lt.backward()
    assert R.rel_error(loss, lt.item()) < TORCH_TOL
    for k in params:
        agree(f"embedding_lm d{k}", grads[k], t[k].grad)
    last = hs.detach().numpy()[-1] if kw["mask"] is None else hs.detach().numpy()[lengths - 1, np.arange(B)]
    agree("embedding_lm h_last", h_last, last)


# ---------------------------------------------------------------- decoding

def _lm(V=4, H=5, seed=50):
    p = R.init_char_lm(V, H, seed=seed, scale=1.0)
    p["b_y"] = np.random.default_rng(seed).standard_normal(V)
    return p


def test_sequence_log_prob_matches_torch():
    p, prefix, cont = _lm(), [1, 2, 0], [3, 3, 1, 0]
    V, H = p["U_xh"].shape
    module = torch_io.to_torch_rnn(torch.nn.RNN(V, H).double(), p["U_xh"], p["W_hh"], p["b"])
    seq = prefix + cont
    x = torch.from_numpy(R.one_hot(np.array(seq[:-1])[:, None], V))
    with torch.no_grad():
        hs = module(x)[0][:, 0]
        logp = torch.log_softmax(hs @ torch.from_numpy(p["V_ho"]) + torch.from_numpy(p["b_y"]), dim=1)
        want = sum(logp[len(prefix) - 1 + i, c].item() for i, c in enumerate(cont))
    assert R.rel_error(R.sequence_log_prob(p, prefix, cont), want) < TORCH_TOL


@pytest.mark.parametrize("n", [1, 3, 4])
def test_beam_search_finds_the_optimum_when_wide_enough(n):
    p, prefix = _lm(V=3, seed=51), [0, 2]
    V = 3
    scores = {s: R.sequence_log_prob(p, prefix, list(s)) for s in itertools.product(range(V), repeat=n)}
    ranked = sorted(scores, key=lambda s: -scores[s])
    beams = R.beam_search(p, prefix, n, V ** n)
    assert [tuple(s) for s, _ in beams[:5]] == ranked[:5]
    for s, v in beams:
        assert v == pytest.approx(scores[tuple(s)], rel=1e-12)


def test_greedy_is_beam_width_one():
    p = _lm(V=5, seed=52)
    (seq, _), = R.beam_search(p, [1, 4], 12, 1)
    assert seq == R.generate(p, [1, 4], 12, temperature=0)
    greedy = R.sequence_log_prob(p, [1, 4], seq)
    assert R.beam_search(p, [1, 4], 12, 8)[0][1] >= greedy - 1e-12


def test_scheduled_sampling_inputs():
    p = _lm(V=5, seed=53)
    rng = np.random.default_rng(54)
    inputs, h0 = rng.integers(0, 5, (6, 4)), rng.standard_normal((4, 5)) * 0.1
    np.testing.assert_array_equal(R.scheduled_sampling_inputs(p, inputs, h0, 0.0, rng=1), inputs)
    own = R.scheduled_sampling_inputs(p, inputs, h0, 1.0, rng=1, temperature=0)
    np.testing.assert_array_equal(own[0], inputs[0])
    for b in range(4):     # p_sample = 1 and greedy: the model's own greedy continuation of inputs[0]
        np.testing.assert_array_equal(own[1:, b], R.generate(p, [inputs[0, b]], 5, temperature=0, h0=h0[b:b + 1]))
    truth = rng.integers(0, 5, (200, 50))
    half = R.scheduled_sampling_inputs(p, truth, np.zeros((50, 5)), 0.5, rng=2)
    np.testing.assert_array_equal(half[0], truth[0])
    changed = np.mean(half[1:] != truth[1:])      # p_sample times the chance that the sample differs (~4/5)
    assert 0.3 < changed < 0.5, changed


# ---------------------------------------------------------------- bad input

E2, IDX = np.zeros((5, 3)), np.array([[0, 1], [2, 3]])
P_LM = {"U_xh": np.zeros((5, 4)), "W_hh": np.zeros((4, 4)), "b": np.zeros(4), "V_ho": np.zeros((4, 5)),
        "b_y": np.zeros(5)}
BAD = [
    ("orthogonal_init", lambda: R.orthogonal_init(0), "n"),
    ("orthogonal_init", lambda: R.orthogonal_init(3, 2.5), "m"),
    ("orthogonal_init", lambda: R.orthogonal_init(3, gain=-1), "gain"),
    ("identity_init", lambda: R.identity_init(True), "H"),
    ("identity_init", lambda: R.identity_init(3, scale=0), "scale"),
    ("spectral_radius", lambda: R.spectral_radius(np.zeros((2, 3))), "W"),
    ("embedding_forward", lambda: R.embedding_forward(np.array([[0, 5]]), E2), "idx"),
    ("embedding_forward", lambda: R.embedding_forward(np.array([[0.0, 1.0]]), E2), "idx"),
    ("embedding_forward", lambda: R.embedding_forward(IDX, np.zeros(5)), "E"),
    ("embedding_backward", lambda: R.embedding_backward(np.zeros((2, 3, 3)), R.embedding_forward(IDX, E2)[1]),
     "dout"),
    ("embedding_backward", lambda: R.embedding_backward(np.zeros((2, 2, 3)), None), "cache"),
    ("tokenize_words", lambda: R.tokenize_words(b"bytes"), "text"),
    ("make_word_vocab", lambda: R.make_word_vocab([]), "tokens"),
    ("make_word_vocab", lambda: R.make_word_vocab(["a"], max_size=2), "max_size"),
    ("make_word_vocab", lambda: R.make_word_vocab(["a"], min_count=0), "min_count"),
    ("encode_words", lambda: R.encode_words(["a"], ["a", "b"]), "vocab"),
    ("init_embedding_lm", lambda: R.init_embedding_lm(5, 3, 4, tied=True), "d"),
    ("embedding_lm_loss", lambda: R.embedding_lm_loss({"E": E2}, IDX, IDX), "params"),
    ("embedding_lm_loss", lambda: R.embedding_lm_loss(R.init_embedding_lm(5, 3, 4), IDX, IDX + 3), "targets"),
    ("embedding_lm_loss", lambda: R.embedding_lm_loss(R.init_embedding_lm(5, 3, 4), IDX, IDX, mask=np.ones(2)),
     "mask"),
    ("embedding_lm_loss", lambda: R.embedding_lm_loss(R.init_embedding_lm(5, 3, 4), IDX, IDX, p_drop=1.0), "p_drop"),
    ("embedding_lm_loss", lambda: R.embedding_lm_loss(R.init_embedding_lm(5, 3, 4), IDX, IDX, h0=np.zeros((2, 3))),
     "h0"),
    ("pad_batch", lambda: R.pad_batch([]), "seqs"),
    ("pad_batch", lambda: R.pad_batch([[1, 2], [0.5]]), "seqs"),
    ("length_mask", lambda: R.length_mask([1, 4], 3), "lengths"),
    ("length_mask", lambda: R.length_mask([0, 2], 3), "lengths"),
    ("length_mask", lambda: R.length_mask([1, 2], 0), "T"),
    ("masked_softmax_cross_entropy", lambda: R.masked_softmax_cross_entropy(np.zeros((2, 2, 3)), IDX % 3,
                                                                            np.zeros((2, 2))), "mask"),
    ("masked_softmax_cross_entropy", lambda: R.masked_softmax_cross_entropy(np.zeros((2, 2, 3)), IDX % 3,
                                                                            np.full((2, 2), 0.5)), "mask"),
    ("masked_softmax_cross_entropy", lambda: R.masked_softmax_cross_entropy(np.zeros((2, 2, 3)), IDX,
                                                                            np.ones((2, 2))), "y"),
    ("masked_rnn_forward", lambda: R.masked_rnn_forward(np.zeros((2, 2, 3)), np.ones((2, 3)), np.zeros((2, 4)),
                                                        np.zeros((3, 4)), np.zeros((4, 4)), np.zeros(4)), "mask"),
    ("masked_rnn_forward", lambda: R.masked_rnn_forward(np.zeros((2, 2, 3)), np.ones((2, 2)), np.zeros((2, 5)),
                                                        np.zeros((3, 4)), np.zeros((4, 4)), np.zeros(4)), "h0"),
    ("masked_rnn_backward", lambda: R.masked_rnn_backward(np.zeros((2, 2, 4)), "cache"), "cache"),
    ("masked_rnn_backward", lambda: R.masked_rnn_backward(np.zeros((2, 2, 5)), R.masked_rnn_forward(
        np.zeros((2, 2, 3)), np.ones((2, 2)), np.zeros((2, 4)), np.zeros((3, 4)), np.zeros((4, 4)), np.zeros(4))[1]),
     "dh"),
    ("last_state_forward", lambda: R.last_state_forward(np.zeros((3, 2, 4)), np.array([1, 4])), "lengths"),
    ("last_state_forward", lambda: R.last_state_forward(np.zeros((3, 2, 4)), np.array([1, 2, 3])), "lengths"),
    ("last_state_forward", lambda: R.last_state_forward(np.zeros((3, 4)), np.array([1, 2])), "h"),
    ("last_state_backward", lambda: R.last_state_backward(np.zeros((3, 4)), R.last_state_forward(
        np.zeros((3, 2, 4)), np.array([1, 2]))[1]), "dout"),
    ("reverse_padded", lambda: R.reverse_padded(np.zeros(3), [1]), "x"),
    ("reverse_padded", lambda: R.reverse_padded(np.zeros((3, 2)), [1, 2.5]), "lengths"),
    ("dropout_forward", lambda: R.dropout_forward(np.zeros((2, 2, 2)), 1.0), "p"),
    ("dropout_forward", lambda: R.dropout_forward(np.zeros((2, 2, 2)), "0.5"), "p"),
    ("dropout_forward", lambda: R.dropout_forward(np.zeros((2, 2)), 0.5, same_mask_over_time=True), "x"),
    ("dropout_forward", lambda: R.dropout_forward(np.zeros((2, 2)), 0.5, train="yes"), "train"),
    ("dropout_backward", lambda: R.dropout_backward(np.zeros((2, 3)), R.dropout_forward(np.zeros((2, 2)), 0.5)[1]),
     "dout"),
    ("dropout_backward", lambda: R.dropout_backward(np.zeros((2, 2)), (None, (2, 2))), "cache"),
    ("sequence_log_prob", lambda: R.sequence_log_prob(P_LM, [], [1]), "prefix"),
    ("sequence_log_prob", lambda: R.sequence_log_prob(P_LM, [1], [7]), "continuation"),
    ("beam_search", lambda: R.beam_search(P_LM, [1], 3, 0), "beam_width"),
    ("beam_search", lambda: R.beam_search(P_LM, [1], 0, 2), "n"),
    ("beam_search", lambda: R.beam_search(P_LM, [1], 2, 2, h0=np.zeros((2, 4))), "h0"),
    ("beam_search", lambda: R.beam_search({"U_xh": P_LM["U_xh"]}, [1], 2, 2), "params"),
    ("scheduled_sampling_inputs", lambda: R.scheduled_sampling_inputs(P_LM, IDX, np.zeros((2, 4)), 1.5), "p_sample"),
    ("scheduled_sampling_inputs", lambda: R.scheduled_sampling_inputs(P_LM, IDX, np.zeros((3, 4)), 0.5), "h0"),
    ("scheduled_sampling_inputs", lambda: R.scheduled_sampling_inputs(P_LM, IDX + 4, np.zeros((2, 4)), 0.5),
     "inputs"),
]


@pytest.mark.parametrize("fn,call,arg", BAD, ids=[f"{f}-{a}-{i}" for i, (f, _, a) in enumerate(BAD)])
def test_bad_input(fn, call, arg):
    with pytest.raises(ValueError) as e:
        call()
    msg = str(e.value)
    assert re.match(rf"{arg}(?!\w)", msg), f"{fn}: the message does not start with {arg!r}: {msg!r}"


def test_inputs_are_not_modified():
    rng = np.random.default_rng(60)
    params, inputs, targets, h0, kw, _ = _lm_case(LM_CASES[2], 60)
    before = {k: v.copy() for k, v in params.items()}
    x = rng.standard_normal((3, 2, 4))
    xc = x.copy()
    R.embedding_lm_loss(params, inputs, targets, h0, **kw)
    R.dropout_forward(x, 0.5, rng=0)
    R.reverse_padded(x, [3, 1])
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])
    np.testing.assert_array_equal(x, xc)
