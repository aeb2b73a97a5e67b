"""The models built on the core cells: truncated BPTT, the 2-D (ReNet) RNN, deep RNNs (stacked with any cell,
deep transition, deep transition with skip), the shapes of problem (aligned many-to-many, many-to-one with any
cell for classification and regression, one-to-many) and the bidirectional wrapper's input checks.

Every model that takes a cell is tested with every registered cell (rnn_ref.cells.CELLS), so a new cell is covered
by its registry entry alone. Gradients: central differences in float64 (tests/helpers.py: normwise relative error
below 1e-7 for every input, state and parameter), and PyTorch where a torch.nn module computes the same.
The composites' caches are named and checked: a wrong cache or a wrong upstream gradient is a ValueError that names it.
"""
import numpy as np
import pytest

import rnn_ref as R
from helpers import CELL_NAMES, TORCH_CELLS, agree, cell_state, cell_weights, check_backward, check_gradients, \
    named, state_parts, torch_module_with, torch_state, tt
from rnn_ref.cells import get_cell


# ------------------------------------------------------------------------------------------- truncated BPTT

def lm_case(T=12, B=2, V=5, H=4, seed=0):
    rng = np.random.default_rng(seed)
    p = R.init_char_lm(V, H, seed=seed, scale=0.5)
    inputs = rng.integers(0, V, size=(T, B))
    targets = rng.integers(0, V, size=(T, B))
    return p, inputs, targets, rng.standard_normal((B, H)) * 0.5


def test_tbptt_windows():
    assert R.tbptt_windows(7, 3) == [slice(0, 3), slice(3, 6), slice(6, 7)]
    assert R.tbptt_windows(3, 5) == [slice(0, 3)]


@pytest.mark.parametrize("k", [12, 13, 100])
def test_tbptt_one_window_is_full_bptt(k):
    p, inputs, targets, h0 = lm_case()
    loss, grads, h = R.tbptt_grads(R.char_lm_loss, p, inputs, targets, h0, k)
    loss_f, grads_f, h_f = R.char_lm_loss(p, inputs, targets, h0)
    assert loss == loss_f and np.array_equal(h, h_f)
    for name in grads_f:
        assert np.array_equal(grads[name], grads_f[name]), name


@pytest.mark.parametrize("k", [1, 4, 5])
def test_tbptt_is_the_sum_of_window_gradients_with_the_state_held_constant(k):
    """The prediction: g_trunc = sum_w dL_w/dtheta with the state entering window w a constant, taken from the
    (unchanged) forward pass; the loss and the final state equal full BPTT's; the output layer's gradients
    (which never cross time) equal full BPTT's; the recurrent ones do not."""
    p, inputs, targets, h0 = lm_case()
    T = inputs.shape[0]
    loss, grads, h_last = R.tbptt_grads(R.char_lm_loss, p, inputs, targets, h0, k)
    # The forward states of one full pass, independently.
    hs, _ = R.rnn_forward(R.one_hot(inputs, 5), h0, p["U_xh"], p["W_hh"], p["b"])
    expected = {n: np.zeros_like(a) for n, a in p.items()}
    for s in range(0, T, k):
        start = h0 if s == 0 else hs[s - 1].copy()  # a constant: its gradient goes nowhere
        _, g, _ = R.char_lm_loss(p, inputs[s:s + k], targets[s:s + k], start)
        for n in g:
            expected[n] += g[n]
    loss_f, grads_f, h_f = R.char_lm_loss(p, inputs, targets, h0)
    assert abs(loss - loss_f) < 1e-12 * abs(loss_f)
    assert np.allclose(h_last, h_f, rtol=0, atol=1e-14)
    for n in p:
        assert R.norm_rel_error(grads[n], expected[n]) < 1e-13, n
    for n in ("V_ho", "b_y"):
        assert R.norm_rel_error(grads[n], grads_f[n]) < 1e-13, n
    for n in ("W_hh", "U_xh", "b"):
        assert R.norm_rel_error(grads[n], grads_f[n]) > 1e-3, f"{n}: truncation should change the gradient"


def test_tbptt_truncated_gradient_by_central_differences():
    """The truncated gradient is the exact gradient of the surrogate loss whose window-entry states are
    frozen at their forward values."""
    p, inputs, targets, h0 = lm_case(T=7)
    k = 3
    hs, _ = R.rnn_forward(R.one_hot(inputs, 5), h0, p["U_xh"], p["W_hh"], p["b"])
    starts = [h0] + [hs[s - 1].copy() for s in range(k, 7, k)]

    def surrogate():
        return sum(R.char_lm_loss(p, inputs[s:s + k], targets[s:s + k], st)[0]
                   for s, st in zip(range(0, 7, k), starts))
    _, grads, _ = R.tbptt_grads(R.char_lm_loss, p, inputs, targets, h0, k)
    check_gradients(surrogate, p, grads, "tbptt_grads")


def test_tbptt_train_updates_once_per_window():
    p, inputs, targets, h0 = lm_case(T=10)
    calls = []

    def update(params, grads):
        calls.append(1)
        return R.sgd_step(params, grads, 0.1)
    new, losses, h = R.tbptt_train(R.char_lm_loss, p, inputs, targets, h0, 4, update)
    assert len(losses) == len(calls) == 3
    # By hand: the same three windows, state carried, parameters updated in between.
    q, st = p, h0
    for s in (0, 4, 8):
        loss, g, st = R.char_lm_loss(q, inputs[s:s + 4], targets[s:s + 4], st)
        assert abs(loss - losses[s // 4]) < 1e-12
        q = R.sgd_step(q, g, 0.1)
    for n in p:
        assert np.array_equal(new[n], q[n])
    assert np.array_equal(h, st)


# ------------------------------------------------------------------------------------------- 2-D RNN (ReNet)

@pytest.mark.parametrize("cell", CELL_NAMES)
def test_grid_rnn_gradients(cell):
    rng = np.random.default_rng(3)
    R_, C, B, D, H1, H2 = 3, 2, 2, 2, 2, 3
    params = R.init_grid_rnn(D, H1, H2, cell, seed=1)
    x = rng.standard_normal((R_, C, B, D))
    dout = rng.standard_normal((R_, C, B, 2 * H2))
    out, cache = R.grid_rnn_forward(x, params, cell)
    assert out.shape == (R_, C, B, 2 * H2)
    dx, dp = R.grid_rnn_backward(dout, cache)
    inputs, grads = {"x": x}, {"x": dx}
    for d in R.models.grid2d.DIRECTIONS:
        inputs.update(named(d, params[d]))
        grads.update(named(d, dp[d]))
    check_backward(lambda: R.grid_rnn_forward(x, params, cell)[0], dout, inputs, grads, f"grid_rnn[{cell}]")


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_grid_rnn_every_output_sees_every_pixel(cell):
    rng = np.random.default_rng(4)
    R_, C, B, D = 4, 5, 2, 3
    params = R.init_grid_rnn(D, 3, 2, cell, seed=2)
    x = rng.standard_normal((R_, C, B, D))
    out, _ = R.grid_rnn_forward(x, params, cell)
    for i in range(R_):
        for j in range(C):
            x2 = x.copy()
            x2[i, j, 0, 1] += 1e-3  # one pixel, one channel, in example 0
            out2, _ = R.grid_rnn_forward(x2, params, cell)
            changed = np.abs(out2[:, :, 0] - out[:, :, 0]).max(axis=2)  # (R, C): did position (r, c) move?
            assert (changed > 1e-12).all(), f"pixel ({i}, {j}) does not reach {np.argwhere(changed <= 1e-12)}"
            assert np.array_equal(out2[:, :, 1], out[:, :, 1]), "examples in a batch must not interact"


def test_grid_rnn_one_sweep_alone_only_sees_its_row():
    """The contrast that makes the test above meaningful: after the horizontal pair only, a pixel reaches its
    own row and no other."""
    rng = np.random.default_rng(5)
    params = R.init_grid_rnn(2, 3, 2, "rnn", seed=0)
    x = rng.standard_normal((3, 4, 1, 2))
    xh = x.transpose(1, 0, 2, 3).reshape(4, 3, 2)
    h0 = np.zeros((3, 3))
    h, _ = R.bidirectional_forward(xh, h0, h0, params["lr"], params["rl"])
    x2 = xh.copy()
    x2[1, 0, 0] += 1e-3  # column 1 of row 0
    h2, _ = R.bidirectional_forward(x2, h0, h0, params["lr"], params["rl"])
    moved = np.abs(h2 - h).max(axis=2) > 0  # (C, R)
    assert moved[:, 0].all() and not moved[:, 1:].any()


# ------------------------------------------------------------------------------------------- deep RNNs

def test_stacked_forward_with_rnn_cell_equals_stacked_rnn():
    rng = np.random.default_rng(6)
    T, B, D, H = 4, 2, 3, 5
    layers = [cell_weights("rnn", D, H, rng), cell_weights("rnn", H, H, rng)]
    x, h0s = rng.standard_normal((T, B, D)), rng.standard_normal((2, B, H))
    dh = rng.standard_normal((T, B, H))
    h, cache = R.stacked_forward(x, list(h0s), layers, "rnn")
    h_ref, cache_ref = R.stacked_rnn_forward(x, h0s, layers)
    assert np.array_equal(h, h_ref)
    dx, ds, dl = R.stacked_backward(dh, cache)
    dx_ref, ds_ref, dl_ref = R.stacked_rnn_backward(dh, cache_ref)
    assert np.array_equal(dx, dx_ref) and np.array_equal(np.stack(ds), ds_ref)
    for a, b in zip(dl, dl_ref):
        assert all(np.array_equal(u, v) for u, v in zip(a, b))


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_stacked_gradients(cell):
    rng = np.random.default_rng(7)
    T, B, D, H1, H2 = 3, 2, 2, 3, 2
    layers = [cell_weights(cell, D, H1, rng), cell_weights(cell, H1, H2, rng)]  # different sizes per layer
    s0 = [cell_state(cell, B, H1, rng), cell_state(cell, B, H2, rng)]
    x, dh = rng.standard_normal((T, B, D)), rng.standard_normal((T, B, H2))
    h, cache = R.stacked_forward(x, s0, layers, cell)
    dx, ds, dl = R.stacked_backward(dh, cache)
    inputs, grads = {"x": x}, {"x": dx}
    for l in range(2):
        inputs.update(named(f"L{l}p", layers[l]), **named(f"L{l}s", state_parts(cell, s0[l])))
        grads.update(named(f"L{l}p", dl[l]), **named(f"L{l}s", state_parts(cell, ds[l])))
    check_backward(lambda: R.stacked_forward(x, s0, layers, cell)[0], dh, inputs, grads, f"stacked[{cell}]")


@pytest.mark.parametrize("cell", TORCH_CELLS)
def test_stacked_matches_torch_two_layers(cell):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    T, B, D, H = 5, 3, 4, 6
    layers = [cell_weights(cell, D, H, rng), cell_weights(cell, H, H, rng)]
    module = torch_module_with(cell, layers)
    x, dh = rng.standard_normal((T, B, D)), rng.standard_normal((T, B, H))
    s0 = [cell_state(cell, B, H, rng) for _ in range(2)]
    parts = [np.stack([state_parts(cell, s)[i] for s in s0]) for i in range(len(get_cell(cell).state))]
    xt, parts_t = torch.tensor(x, requires_grad=True), [torch.tensor(a, requires_grad=True) for a in parts]
    out, _ = module(xt, tuple(parts_t) if len(parts_t) > 1 else parts_t[0])
    (out * torch.tensor(dh)).sum().backward()
    h, cache = R.stacked_forward(x, s0, layers, cell)
    dx, ds, dl = R.stacked_backward(dh, cache)
    agree(f"stacked[{cell}] h", h, out)
    agree(f"stacked[{cell}] dx", dx, xt.grad)
    for i, pt in enumerate(parts_t):
        agree(f"stacked[{cell}] dstate0s part {i}", np.stack([state_parts(cell, d)[i] for d in ds]), pt.grad)
    for l in range(2):
        agree(f"stacked[{cell}] layer {l} input weight", dl[l][0], getattr(module, f"weight_ih_l{l}").grad.T)
        agree(f"stacked[{cell}] layer {l} recurrent weight", dl[l][1], getattr(module, f"weight_hh_l{l}").grad.T)


@pytest.mark.parametrize("skip", [False, True])
@pytest.mark.parametrize("T,B", [(4, 2), (1, 1)])
def test_deep_transition_gradients(skip, T, B):
    rng = np.random.default_rng(9)
    D, H, K = 3, 4, 5
    p = R.init_deep_transition(D, H, K, Z=3, Q=2, skip=skip, seed=1)
    x, h0 = rng.standard_normal((T, B, D)), rng.standard_normal((B, H)) * 0.5
    y = rng.integers(0, K, size=(T, B))
    loss, grads = R.deep_transition_loss(x, h0, p, y, skip)
    assert set(grads) == set(p) and ("W_hh" in p) == skip
    check_gradients(lambda: R.deep_transition_loss(x, h0, p, y, skip)[0], p, grads, f"deep_transition[skip={skip}]")
    do = rng.standard_normal((T, B, K))
    dx, dh0, _ = R.deep_transition_backward(do, R.deep_transition_forward(x, h0, p, skip)[1])
    check_backward(lambda: R.deep_transition_forward(x, h0, p, skip)[0], do, {"x": x, "h0": h0},
                   {"x": dx, "h0": dh0}, f"deep_transition[skip={skip}]")


def test_deep_transition_matches_its_formula_step_by_step():
    rng = np.random.default_rng(10)
    p = R.init_deep_transition(2, 3, 4, Z=5, Q=2, skip=True, seed=0)
    x, h0 = rng.standard_normal((3, 2, 2)), rng.standard_normal((2, 3))
    o, cache = R.deep_transition_forward(x, h0, p, skip=True)
    h = h0
    for t in range(3):
        z = np.tanh(x[t] @ p["U_xz"] + h @ p["W_hz"] + p["b_z"])
        h = np.tanh(z @ p["W_zh"] + h @ p["W_hh"] + p["b_h"])
        o_t = np.tanh(h @ p["V_hq"] + p["b_q"]) @ p["V_qo"] + p["b_y"]
        assert np.allclose(o[t], o_t, rtol=1e-13, atol=1e-13)
        assert np.allclose(cache.h[t], h, rtol=1e-13, atol=1e-13)


# ------------------------------------------------------------------------------------------- shapes of problem

def model(cell, D, H, K, seed=0):
    p = R.init_sequence_model(cell, D, H, K, seed=seed)
    return {k: v * 2.0 for k, v in p.items()}  # larger weights: a more demanding check


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_many_to_many_gradients(cell):
    rng = np.random.default_rng(11)
    T, B, D, H, K = 4, 2, 3, 3, 4
    p = model(cell, D, H, K)
    x, y = rng.standard_normal((T, B, D)), rng.integers(0, K, size=(T, B))
    s0 = cell_state(cell, B, H, rng)
    loss, grads = R.many_to_many_loss(x, s0, p, y, cell)
    check_gradients(lambda: R.many_to_many_loss(x, s0, p, y, cell)[0], p, grads, f"many_to_many[{cell}]")


@pytest.mark.parametrize("cell", CELL_NAMES)
@pytest.mark.parametrize("kind", ["classifier", "regression"])
def test_sequence_head_gradients(cell, kind):
    rng = np.random.default_rng(12)
    T, B, D, H = 5, 3, 2, 3
    K = 4 if kind == "classifier" else 2
    p = model(cell, D, H, K)
    x = rng.standard_normal((T, B, D))
    y = rng.integers(0, K, size=B) if kind == "classifier" else rng.standard_normal((B, K))
    f = R.sequence_classifier_loss if kind == "classifier" else R.sequence_regression_loss
    loss, grads = f(x, None, p, y, cell)
    check_gradients(lambda: f(x, None, p, y, cell)[0], p, grads, f"sequence_{kind}[{cell}]")


def test_sequence_classifier_with_rnn_equals_many_to_one():
    rng = np.random.default_rng(13)
    p = model("rnn", 3, 4, 5)
    x, h0, y = rng.standard_normal((6, 2, 3)), rng.standard_normal((2, 4)), np.array([1, 4])
    loss, grads = R.sequence_classifier_loss(x, h0, p, y, "rnn")
    loss_ref, grads_ref = R.many_to_one_loss(x, h0, p, y)
    assert loss == loss_ref
    for k in p:
        assert np.array_equal(grads[k], grads_ref[k]), k


def test_sequence_regression_is_the_mse_of_the_prediction():
    rng = np.random.default_rng(14)
    p = model("gru", 2, 3, 1)
    x, y = rng.standard_normal((4, 5, 2)), rng.standard_normal(5)
    o = R.sequence_predict(x, None, p, "gru")
    assert o.shape == (5, 1)
    loss, _ = R.sequence_regression_loss(x, None, p, y, "gru")
    assert abs(loss - np.mean((o[:, 0] - y) ** 2)) < 1e-15


def test_init_sequence_model_lstm_forget_bias():
    p = R.init_sequence_model("lstm", 2, 4, 1, seed=0, forget_bias=1.0)
    q = R.init_sequence_model("lstm", 2, 4, 1, seed=0, forget_bias=0.0)
    assert np.allclose(p["b"][4:8] - q["b"][4:8], 1.0) and np.array_equal(p["b"][:4], q["b"][:4])


@pytest.mark.parametrize("mode", ["h0", "every"])
def test_one_to_many_gradients(mode):
    rng = np.random.default_rng(15)
    T, B, E, H, K = 4, 2, 3, 4, 5
    p = R.init_one_to_many(E, H, K, seed=2, scale=0.5)
    v = rng.standard_normal((B, E))
    y_out = rng.integers(0, K, size=(T, B))
    y_in = np.vstack([np.zeros((1, B), int), y_out[:-1]])  # teacher forcing, start token 0
    loss, grads = R.one_to_many_loss(v, y_in, y_out, p, mode)
    check_gradients(lambda: R.one_to_many_loss(v, y_in, y_out, p, mode)[0], p, grads, f"one_to_many[{mode}]")
    do = rng.standard_normal((T, B, K))
    dv, _ = R.one_to_many_backward(do, R.one_to_many_forward(v, y_in, p, mode)[1])
    check_backward(lambda: R.one_to_many_forward(v, y_in, p, mode)[0], do, {"v": v}, {"v": dv}, f"one_to_many[{mode}]")


@pytest.mark.parametrize("mode", ["h0", "every"])
def test_one_to_many_generation_feeds_back_its_own_tokens(mode):
    """Greedy free-running generation = teacher forcing on the generated tokens, each one the argmax."""
    rng = np.random.default_rng(16)
    p = R.init_one_to_many(3, 6, 4, seed=3, scale=1.0)
    v = rng.standard_normal((3, 3))
    gen = R.one_to_many_generate(v, p, 7, start=0, mode=mode, temperature=0)
    assert gen.shape == (7, 3) and gen.dtype == np.int64
    y_in = np.vstack([np.zeros((1, 3), int), gen[:-1]])
    o, _ = R.one_to_many_forward(v, y_in, p, mode)
    assert np.array_equal(o.argmax(axis=2), gen)
    a = R.one_to_many_generate(v, p, 7, 0, mode, temperature=1.0, rng=5)
    b = R.one_to_many_generate(v, p, 7, 0, mode, temperature=1.0, rng=5)
    assert np.array_equal(a, b) and (a != gen).any()


# ------------------------------------------------------------------------------------------- bidirectional

@pytest.mark.parametrize("cell", CELL_NAMES)
def test_bidirectional_gradients(cell):
    rng = np.random.default_rng(17)
    T, B, D, H = 4, 2, 3, 2
    pf, pb = cell_weights(cell, D, H, rng), cell_weights(cell, D, H, rng)
    sf, sb = cell_state(cell, B, H, rng), cell_state(cell, B, H, rng)
    x, dh = rng.standard_normal((T, B, D)), rng.standard_normal((T, B, 2 * H))
    h, cache = R.bidirectional_forward(x, sf, sb, pf, pb, cell)
    assert h.shape == (T, B, 2 * H)
    dx, dsf, dsb, dpf, dpb = R.bidirectional_backward(dh, cache)
    inputs = {"x": x, **named("pf", pf), **named("pb", pb), **named("sf", state_parts(cell, sf)),
              **named("sb", state_parts(cell, sb))}
    grads = {"x": dx, **named("pf", dpf), **named("pb", dpb), **named("sf", state_parts(cell, dsf)),
             **named("sb", state_parts(cell, dsb))}
    check_backward(lambda: R.bidirectional_forward(x, sf, sb, pf, pb, cell)[0], dh, inputs, grads,
                   f"bidirectional[{cell}]")


@pytest.mark.parametrize("cell", TORCH_CELLS)
def test_bidirectional_matches_torch(cell):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(22)
    T, B, D, H = 5, 3, 4, 3
    pf, pb = cell_weights(cell, D, H, rng), cell_weights(cell, D, H, rng)
    sf, sb = cell_state(cell, B, H, rng), cell_state(cell, B, H, rng)
    x, dh = rng.standard_normal((T, B, D)), rng.standard_normal((T, B, 2 * H))
    module = torch_module_with(cell, [pf], reverse=[pb])
    xt = tt(x)
    leaves = [tt(np.stack([f, b])) for f, b in zip(state_parts(cell, sf), state_parts(cell, sb))]  # (2, B, H)
    out, _ = module(xt, tuple(leaves) if len(leaves) > 1 else leaves[0])
    (out * torch.from_numpy(dh)).sum().backward()
    h, cache = R.bidirectional_forward(x, sf, sb, pf, pb, cell)
    dx, dsf, dsb, dpf, dpb = R.bidirectional_backward(dh, cache)
    agree(f"bidirectional[{cell}] h", h, out)
    agree(f"bidirectional[{cell}] dx", dx, xt.grad)
    for i, leaf in enumerate(leaves):
        agree(f"bidirectional[{cell}] dstate0 part {i}",
              np.stack([state_parts(cell, dsf)[i], state_parts(cell, dsb)[i]]), leaf.grad)
    for suffix, dp in (("", dpf), ("_reverse", dpb)):
        agree(f"bidirectional[{cell}] dweight_ih{suffix}", dp[0], getattr(module, f"weight_ih_l0{suffix}").grad.T)
        agree(f"bidirectional[{cell}] dweight_hh{suffix}", dp[1], getattr(module, f"weight_hh_l0{suffix}").grad.T)


# ------------------------------------------------------------------------------------------- encoder-decoder

def test_encoder_decoder_keys():
    assert R.models.architectures.encoder_decoder_keys("rnn") == R.models.architectures.ENCODER_DECODER == (
        "U_enc", "W_enc", "b_enc", "U_dec", "W_dec", "b_dec", "V_ho", "b_y")
    assert R.models.architectures.encoder_decoder_keys("lstm")[:3] == ("Wx_enc", "Wh_enc", "b_enc")
    for cell in CELL_NAMES:
        keys = R.models.architectures.encoder_decoder_keys(cell)
        assert len(set(keys)) == len(keys) == 2 * len(get_cell(cell).params) + 2, keys
        assert list(R.init_encoder_decoder(3, 4, 5, cell=cell)) == list(keys)


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_encoder_decoder_gradients(cell):
    rng = np.random.default_rng(18)
    T_in, T_out, B, D, H, K = 3, 4, 2, 3, 3, 5
    p = {k: v + 0.5 * rng.standard_normal(v.shape) for k, v in R.init_encoder_decoder(D, H, K, 1, cell).items()}
    x, h0 = rng.standard_normal((T_in, B, D)), cell_state(cell, B, H, rng, scale=0.5)
    y_in, y_out = rng.integers(0, K, (T_out, B)), rng.integers(0, K, (T_out, B))
    loss, grads = R.encoder_decoder_loss(x, y_in, y_out, h0, p, cell)
    assert list(grads) == list(p)
    check_gradients(lambda: R.encoder_decoder_loss(x, y_in, y_out, h0, p, cell)[0], p, grads,
                    f"encoder_decoder_loss[{cell}]")
    o, cache = R.encoder_decoder_forward(x, y_in, h0, p, cell)
    do = rng.standard_normal(o.shape)
    dx, dh0, _ = R.encoder_decoder_backward(do, cache)
    check_backward(lambda: R.encoder_decoder_forward(x, y_in, h0, p, cell)[0], do,
                   {"x": x, **named("h0_", state_parts(cell, h0))}, {"x": dx, **named("h0_", state_parts(cell, dh0))},
                   f"encoder_decoder_backward[{cell}]")


@pytest.mark.parametrize("cell", TORCH_CELLS)
def test_encoder_decoder_matches_torch(cell):
    """Two torch.nn modules of the cell: the decoder starts from the encoder's h_n (and c_n for the LSTM)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(23)
    T_in, T_out, B, D, H, K = 4, 3, 2, 3, 4, 5
    c = get_cell(cell)
    p = {k: v + 0.5 * rng.standard_normal(v.shape) for k, v in R.init_encoder_decoder(D, H, K, 2, cell).items()}
    keys, n = R.models.architectures.encoder_decoder_keys(cell), len(c.params)
    x, h0 = rng.standard_normal((T_in, B, D)), cell_state(cell, B, H, rng, scale=0.5)
    y_in, y_out = rng.integers(0, K, (T_out, B)), rng.integers(0, K, (T_out, B))
    enc = torch_module_with(cell, [tuple(p[k] for k in keys[:n])])
    dec = torch_module_with(cell, [tuple(p[k] for k in keys[n:2 * n])])
    xt, (s0, leaves), V_ho, b_y = tt(x), torch_state(cell, h0), tt(p["V_ho"]), tt(p["b_y"])
    _, final = enc(xt, s0)
    h_dec, _ = dec(torch.nn.functional.one_hot(torch.from_numpy(y_in), K).double(), final)
    o = h_dec @ V_ho + b_y
    loss_t = torch.nn.functional.cross_entropy(o.reshape(-1, K), torch.from_numpy(y_out).reshape(-1),
                                               reduction="sum") / B
    loss_t.backward()
    loss, grads = R.encoder_decoder_loss(x, y_in, y_out, h0, p, cell)
    agree(f"encoder_decoder[{cell}] loss", loss, loss_t)
    agree(f"encoder_decoder[{cell}] dV_ho", grads["V_ho"], V_ho.grad)
    for module, part in ((enc, keys[:n]), (dec, keys[n:2 * n])):
        agree(f"encoder_decoder[{cell}] d{part[0]}", grads[part[0]], module.weight_ih_l0.grad.T)
        agree(f"encoder_decoder[{cell}] d{part[1]}", grads[part[1]], module.weight_hh_l0.grad.T)
    o_ref, cache = R.encoder_decoder_forward(x, y_in, h0, p, cell)
    _, do = R.softmax_cross_entropy(o_ref, y_out)
    dx, dh0, _ = R.encoder_decoder_backward(do, cache)
    agree(f"encoder_decoder[{cell}] dx", dx, xt.grad)
    for i, leaf in enumerate(leaves):
        agree(f"encoder_decoder[{cell}] dstate0 part {i}", state_parts(cell, dh0)[i], leaf.grad[0])


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_encoder_decoder_decoder_starts_from_the_whole_final_state(cell):
    """The decoder's first state follows from the encoder's final state, every part of it: run by hand, the
    decoder started from final_state gives the model's logits; started from h alone (c = 0), it would not."""
    rng = np.random.default_rng(19)
    c = get_cell(cell)
    p = R.init_encoder_decoder(2, 3, 4, 2, cell)
    x, y_in = rng.standard_normal((3, 2, 2)), rng.integers(0, 4, (2, 2))
    h0 = c.zero_state(2, 3)
    keys = R.models.architectures.encoder_decoder_keys(cell)
    n = len(c.params)
    enc, dec = tuple(p[k] for k in keys[:n]), tuple(p[k] for k in keys[n:2 * n])
    h_enc, enc_cache = c.run_forward(x, h0, enc)
    s0 = R.models.architectures.final_state(c, h_enc, enc_cache)
    h_dec, _ = c.run_forward(R.one_hot(y_in, 4), s0, dec)
    o, _ = R.encoder_decoder_forward(x, y_in, h0, p, cell)
    np.testing.assert_array_equal(o, h_dec @ p["V_ho"] + p["b_y"])
    np.testing.assert_array_equal(state_parts(cell, s0)[0], h_enc[-1])


@pytest.mark.parametrize("cell", CELL_NAMES)
def test_encoder_decoder_generate_with_every_cell(cell):
    """Greedy free-running decoding = teacher forcing on its own output, each token the argmax."""
    rng = np.random.default_rng(27)
    p = {k: 2 * rng.standard_normal(v.shape) for k, v in R.init_encoder_decoder(3, 4, 7, 2, cell).items()}
    x, h0 = rng.standard_normal((4, 3, 3)), cell_state(cell, 3, 4, rng, scale=0.3)
    out = R.encoder_decoder_generate(x, h0, p, 6, 0, cell)
    o, _ = R.encoder_decoder_forward(x, np.vstack([np.zeros((1, 3), int), out[:-1]]), h0, p, cell)
    assert out.shape == (6, 3) and out.dtype == np.int64
    assert np.array_equal(out, o.argmax(axis=2)) and len(np.unique(out)) > 1


# ------------------------------------------------------------------------------------------- named caches

def _small(seed=20):
    """One valid forward of every composite: {backward name: (backward, producer, dout, cache)}."""
    rng = np.random.default_rng(seed)
    T, B, D, H, K = 3, 2, 2, 3, 4
    x = rng.standard_normal((T, B, D))
    rnn = cell_weights("rnn", D, H, rng)
    h0 = np.zeros((B, H))
    ed = R.init_encoder_decoder(D, H, K)
    tag = R.init_tagger(D, H, K, bidirectional=True)
    made = {
        "bidirectional_backward": (R.bidirectional_forward(x, h0, h0, rnn, rnn)[1], (T, B, 2 * H)),
        "stacked_backward": (R.stacked_forward(x, None, [rnn], "rnn")[1], (T, B, H)),
        "stacked_rnn_backward": (R.stacked_rnn_forward(x, h0[None], [rnn])[1], (T, B, H)),
        "grid_rnn_backward": (R.grid_rnn_forward(x[:, :, None], R.init_grid_rnn(D, 2, 2))[1], (T, B, 1, 4)),
        "encoder_decoder_backward": (R.encoder_decoder_forward(x, np.zeros((2, B), int), h0, ed)[1], (2, B, K)),
        "one_to_many_backward": (R.one_to_many_forward(x[0], np.zeros((T, B), int), R.init_one_to_many(D, H, K))[1],
                                 (T, B, K)),
        "tagger_backward": (R.tagger_forward(x, tag)[1], (T, B, K)),
        "deep_transition_backward": (R.deep_transition_forward(x, h0, R.init_deep_transition(D, H, K))[1],
                                     (T, B, K)),
    }
    return {name: (getattr(R.models.architectures, name, None) or getattr(R, name), cache, shape)
            for name, (cache, shape) in made.items()}


COMPOSITES = list(_small())
WRONG = {"bidirectional_backward": "grid_rnn_backward", "encoder_decoder_backward": "rnn",
         "grid_rnn_backward": "bidirectional_backward", "stacked_backward": "stacked_rnn_backward",
         "stacked_rnn_backward": "stacked_backward", "one_to_many_backward": "tagger_backward",
         "tagger_backward": "one_to_many_backward", "deep_transition_backward": "encoder_decoder_backward"}


@pytest.mark.parametrize("name", COMPOSITES)
def test_backward_takes_only_its_own_cache(name):
    made = _small()
    backward, cache, shape = made[name]
    dout = np.ones(shape)
    backward(dout, cache)                                  # the right cache works
    producer = name.replace("_backward", "_forward")
    other = (R.rnn_forward(np.ones((3, 2, 2)), np.zeros((2, 3)), *cell_weights("rnn", 2, 3, np.random.default_rng(0)))[1]
             if WRONG[name] == "rnn" else made[WRONG[name]][1])
    for wrong in (other, tuple(cache), None):
        with pytest.raises(ValueError, match=rf"^cache: expected the cache returned by {producer}, got "):
            backward(dout, wrong)


@pytest.mark.parametrize("name", COMPOSITES)
def test_backward_names_a_wrong_upstream_gradient(name):
    backward, cache, shape = _small()[name]
    with pytest.raises(ValueError, match=r"^d\w+: expected"):
        backward(np.ones((shape[0] + 1,) + shape[1:]), cache)   # one step too many
    with pytest.raises(ValueError, match=r"^d\w+: expected"):
        backward(np.ones(shape[:-1] + (shape[-1] + 1,)), cache)  # the wrong width


# ------------------------------------------------------------------------------------------- bad input

def _p(cell="rnn"):
    return R.init_sequence_model(cell, 2, 3, 2)


X = np.zeros((3, 2, 2))
BAD = [
    (lambda: R.tbptt_windows(5, 0), "k"),
    (lambda: R.tbptt_windows(0, 2), "T"),
    (lambda: R.tbptt_grads(R.char_lm_loss, {}, np.zeros((3, 1), int), np.zeros((2, 1), int), None, 2), "targets"),
    (lambda: R.tbptt_grads("nope", {}, np.zeros((3, 1), int), np.zeros((3, 1), int), None, 2), "loss_fn"),
    (lambda: R.tbptt_train(R.char_lm_loss, {}, np.zeros((3, 1), int), np.zeros((3, 1), int), None, 2, None), "update"),
    (lambda: R.grid_rnn_forward(np.zeros((3, 2, 2)), R.init_grid_rnn(2, 2, 2)), "x"),
    (lambda: R.grid_rnn_forward(np.zeros((3, 2, 1, 2)), {"lr": 1}), "params"),
    (lambda: R.grid_rnn_forward(np.zeros((3, 2, 1, 3)), R.init_grid_rnn(2, 2, 2)), "U_xh"),
    (lambda: R.init_grid_rnn(2, 2, 2, cell="lstn"), "cell"),
    (lambda: R.stacked_forward(X, None, [], "rnn"), "layers"),
    (lambda: R.stacked_forward(X, None, [(np.zeros((2, 3)),)], "rnn"), r"layers\[0\]"),
    (lambda: R.stacked_forward(X, [None], [_p()["U_xh"]], "lstm"), r"layers\[0\]"),
    (lambda: R.stacked_forward(X, [np.zeros((2, 3))], [tuple(_p("lstm")[k] for k in ("Wx", "Wh", "b"))], "lstm"),
     r"state0s\[0\]"),
    (lambda: R.stacked_forward(X, [], [tuple(_p()[k] for k in ("U_xh", "W_hh", "b"))], "rnn"), "state0s"),
    (lambda: R.stacked_forward(X, [np.zeros((2, 4))], [tuple(_p()[k] for k in ("U_xh", "W_hh", "b"))], "rnn"),
     r"state0s\[0\]: h0"),                                                     # the cell's message, its layer first
    (lambda: R.stacked_rnn_forward(X, np.zeros((2, 2, 3)), [tuple(_p()[k] for k in ("U_xh", "W_hh", "b"))] * 2),
     r"layers\[1\]: U_xh"),                                                   # layer 1 reads H = 3, not D = 2
    (lambda: R.deep_transition_forward(X, np.zeros((2, 3)), R.init_deep_transition(2, 3, 2), skip=True), "params: missing W_hh"),
    (lambda: R.deep_transition_forward(X, np.zeros((2, 4)), R.init_deep_transition(2, 3, 2)), "h0"),
    (lambda: R.deep_transition_forward(np.zeros((3, 2, 5)), np.zeros((2, 3)), R.init_deep_transition(2, 3, 2)),
     r"params\['U_xz'\]"),
    (lambda: R.deep_transition_loss(X, np.zeros((2, 3)), R.init_deep_transition(2, 3, 2), np.full((3, 2), 2)), "y"),
    (lambda: R.init_deep_transition(2, 0, 2), "H"),
    (lambda: R.many_to_many_loss(X, None, _p(), np.zeros((3, 2)), "rnn"), "y"),
    (lambda: R.many_to_many_loss(X, None, _p(), np.zeros((3, 2), int), "cnn"), "cell"),
    (lambda: R.sequence_classifier_loss(X, None, _p(), np.array([0, 2]), "rnn"), "y"),
    (lambda: R.sequence_classifier_loss(X, np.zeros((2, 3)), _p("lstm"), np.array([0, 1]), "lstm"), "state0"),
    (lambda: R.sequence_classifier_loss(X, None, _p("gru"), np.array([0, 1]), "rnn"), "params"),
    (lambda: R.sequence_regression_loss(X, None, _p(), np.zeros(2), "rnn"), "y"),
    (lambda: R.sequence_regression_loss(X, None, _p(), np.zeros((2, 2), int), "rnn"), "y"),
    (lambda: R.sequence_predict(np.zeros((3, 2)), None, _p(), "rnn"), "x"),
    (lambda: R.init_sequence_model("rnn", 2, -1, 2), "H"),
    (lambda: R.one_to_many_loss(np.zeros((2, 3)), np.zeros((4, 2), int), np.zeros((4, 2), int),
                                R.init_one_to_many(3, 4, 5), mode="both"), "mode"),
    (lambda: R.one_to_many_loss(np.zeros((3, 3)), np.zeros((4, 2), int), np.zeros((4, 2), int),
                                R.init_one_to_many(3, 4, 5)), "v"),
    (lambda: R.one_to_many_loss(np.zeros((2, 3)), np.full((4, 2), 5), np.zeros((4, 2), int),
                                R.init_one_to_many(3, 4, 5)), "y_in"),
    (lambda: R.one_to_many_loss(np.zeros((2, 3)), np.zeros((4, 2), int), np.zeros((4, 3), int),
                                R.init_one_to_many(3, 4, 5)), "y"),
    (lambda: R.one_to_many_generate(np.zeros((2, 3)), R.init_one_to_many(3, 4, 5), 0, 0), "n"),
    (lambda: R.one_to_many_generate(np.zeros((2, 3)), R.init_one_to_many(3, 4, 5), 3, 5), "start"),
    (lambda: R.one_to_many_generate(np.zeros((2, 3)), R.init_one_to_many(3, 4, 5), 3, 0, temperature=-1),
     "temperature"),
    (lambda: R.bidirectional_forward(X, np.zeros((2, 3)), np.zeros((2, 3)), (1, 2), (1, 2, 3)), "params_f"),
    (lambda: R.bidirectional_forward(X, np.zeros((2, 3)), np.zeros((2, 3)),
                                     tuple(_p("lstm")[k] for k in ("Wx", "Wh", "b")),
                                     tuple(_p("lstm")[k] for k in ("Wx", "Wh", "b")), cell="lstm"), "state0_f"),
    (lambda: R.bidirectional_forward(X, np.zeros((2, 3)), np.zeros((2, 4)),
                                     tuple(_p()[k] for k in ("U_xh", "W_hh", "b")),
                                     tuple(R.init_sequence_model("rnn", 2, 4, 2)[k] for k in ("U_xh", "W_hh", "b"))),
     "params_b"),
    (lambda: R.bidirectional_forward(X, np.zeros((2, 3)), np.zeros((2, 3)), (), (), cell="elman"), "cell"),
    (lambda: R.bidirectional_forward(np.zeros((3, 2)), np.zeros((2, 3)), np.zeros((2, 3)), (), ()), "x"),
]


@pytest.mark.parametrize("call,match", BAD, ids=[f"{i}-{m}" for i, (_, m) in enumerate(BAD)])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match="^" + match):
        call()
