"""Central differences in float64 for every backward pass of the core (rnn, lstm, gru, loss) and for the
losses and backward passes built on it (many-to-one, encoder-decoder, char-LM, bidirectional, stacked).

Criterion: the normwise relative error ||analytic - numeric|| / (||analytic|| + ||numeric||)
(rnn_ref.norm_rel_error) below 1e-7 for every input and parameter. With step 1e-5 in float64 and inputs of
order 1, a right gradient lands near 1e-10 (truncation ~h^2, round-off ~eps/h), while a gradient with one term
dropped or scaled by 1.01 lands at 1e-3 or more: test_criterion_rejects_wrong_gradients shows both sides.
Elementwise errors are not used: an entry near 0 has a relative error set by round-off, not by correctness.
"""
import numpy as np
import pytest

import rnn_ref as R

TOL = 1e-7
SHAPES = [(3, 2, 3, 4), (1, 1, 2, 1), (4, 1, 1, 3)]  # (T, B, D, H): includes T=1, B=1, H=1
IDS = ["T3B2D3H4", "T1B1D2H1", "T4B1D1H3"]


def check(f, inputs, grads, what):
    """Every array in `inputs` (name -> float64 array read by f) against its analytic gradient in `grads`."""
    for name, x in inputs.items():
        num = R.numerical_gradient(f, x)
        assert grads[name].shape == x.shape, f"{what} d{name}: shape {grads[name].shape}, expected {x.shape}"
        err = R.norm_rel_error(grads[name], num)
        print(f"GRADCHECK {what} d{name} {err:.3e}")
        assert err < TOL, f"{what} d{name}: normwise relative error {err:.3e} vs central differences"


def cell_params(rng, kind, D, H, scale=0.5):
    n = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    names = {"rnn": ("U_xh", "W_hh", "b"), "lstm": ("Wx", "Wh", "b"), "gru": ("Wx", "Wh", "bx", "bh")}[kind]
    shapes = [(D, n * H), (H, n * H), (n * H,), (n * H,)]
    return {name: rng.standard_normal(s) * scale for name, s in zip(names, shapes)}


# ---------------------------------------------------------------- one step

@pytest.mark.parametrize("T,B,D,H", SHAPES, ids=IDS)
def test_rnn_step(T, B, D, H):
    rng = np.random.default_rng(1)
    p = cell_params(rng, "rnn", D, H)
    v = {"x": rng.standard_normal((B, D)), "h_prev": rng.standard_normal((B, H))}
    dh = rng.standard_normal((B, H))
    f = lambda: np.sum(R.rnn_step_forward(v["x"], v["h_prev"], *p.values())[0] * dh)
    g = R.rnn_step_backward(dh, R.rnn_step_forward(v["x"], v["h_prev"], *p.values())[1])
    check(f, {**v, **p}, dict(zip(["x", "h_prev", "U_xh", "W_hh", "b"], g)), "rnn_step_backward")


@pytest.mark.parametrize("T,B,D,H", SHAPES, ids=IDS)
def test_lstm_step(T, B, D, H):
    rng = np.random.default_rng(2)
    p = cell_params(rng, "lstm", D, H)
    v = {"x": rng.standard_normal((B, D)), "h_prev": rng.standard_normal((B, H)), "c_prev": rng.standard_normal((B, H))}
    dh, dc = rng.standard_normal((B, H)), rng.standard_normal((B, H))

    def f():
        h, c, _ = R.lstm_step_forward(*v.values(), *p.values())
        return np.sum(h * dh) + np.sum(c * dc)
    g = R.lstm_step_backward(dh, dc, R.lstm_step_forward(*v.values(), *p.values())[2])
    check(f, {**v, **p}, dict(zip(["x", "h_prev", "c_prev", "Wx", "Wh", "b"], g)), "lstm_step_backward")


@pytest.mark.parametrize("T,B,D,H", SHAPES, ids=IDS)
def test_gru_step(T, B, D, H):
    rng = np.random.default_rng(3)
    p = cell_params(rng, "gru", D, H)
    v = {"x": rng.standard_normal((B, D)), "h_prev": rng.standard_normal((B, H))}
    dh = rng.standard_normal((B, H))
    f = lambda: np.sum(R.gru_step_forward(*v.values(), *p.values())[0] * dh)
    g = R.gru_step_backward(dh, R.gru_step_forward(*v.values(), *p.values())[1])
    check(f, {**v, **p}, dict(zip(["x", "h_prev", "Wx", "Wh", "bx", "bh"], g)), "gru_step_backward")


# ---------------------------------------------------------------- whole sequences

@pytest.mark.parametrize("T,B,D,H", SHAPES, ids=IDS)
def test_rnn_sequence(T, B, D, H):
    rng = np.random.default_rng(4)
    p = cell_params(rng, "rnn", D, H)
    v = {"x": rng.standard_normal((T, B, D)), "h0": rng.standard_normal((B, H))}
    dh = rng.standard_normal((T, B, H))
    f = lambda: np.sum(R.rnn_forward(*v.values(), *p.values())[0] * dh)
    g = R.rnn_backward(dh, R.rnn_forward(*v.values(), *p.values())[1])
    check(f, {**v, **p}, dict(zip(["x", "h0", "U_xh", "W_hh", "b"], g)), "rnn_backward")


@pytest.mark.parametrize("with_dc_last", [True, False], ids=["dc_last", "no-dc_last"])
@pytest.mark.parametrize("T,B,D,H", SHAPES, ids=IDS)
def test_lstm_sequence(T, B, D, H, with_dc_last):
    rng = np.random.default_rng(5)
    p = cell_params(rng, "lstm", D, H)
    v = {"x": rng.standard_normal((T, B, D)), "h0": rng.standard_normal((B, H)), "c0": rng.standard_normal((B, H))}
    dh = rng.standard_normal((T, B, H))
    dc_last = rng.standard_normal((B, H)) if with_dc_last else None

    def f():
        h, cache = R.lstm_forward(*v.values(), *p.values())
        return np.sum(h * dh) + (np.sum(cache.c[-1] * dc_last) if with_dc_last else 0.0)
    g = R.lstm_backward(dh, R.lstm_forward(*v.values(), *p.values())[1], dc_last=dc_last)
    check(f, {**v, **p}, dict(zip(["x", "h0", "c0", "Wx", "Wh", "b"], g)), "lstm_backward")


@pytest.mark.parametrize("T,B,D,H", SHAPES, ids=IDS)
def test_gru_sequence(T, B, D, H):
    rng = np.random.default_rng(6)
    p = cell_params(rng, "gru", D, H)
    v = {"x": rng.standard_normal((T, B, D)), "h0": rng.standard_normal((B, H))}
    dh = rng.standard_normal((T, B, H))
    f = lambda: np.sum(R.gru_forward(*v.values(), *p.values())[0] * dh)
    g = R.gru_backward(dh, R.gru_forward(*v.values(), *p.values())[1])
    check(f, {**v, **p}, dict(zip(["x", "h0", "Wx", "Wh", "bx", "bh"], g)), "gru_backward")


@pytest.mark.parametrize("T,B,K,scale", [(3, 2, 5, 1.0), (1, 1, 2, 1.0), (2, 3, 4, 10.0)])
def test_softmax_cross_entropy(T, B, K, scale):
    rng = np.random.default_rng(7)
    o = rng.standard_normal((T, B, K)) * scale
    y = rng.integers(0, K, size=(T, B))
    check(lambda: R.softmax_cross_entropy(o, y)[0], {"o": o}, {"o": R.softmax_cross_entropy(o, y)[1]},
          "softmax_cross_entropy")


# ---------------------------------------------------------------- models built on the core

@pytest.mark.parametrize("T,B,D,H", SHAPES, ids=IDS)
def test_many_to_one_loss(T, B, D, H):
    rng = np.random.default_rng(8)
    K = 3
    params = {**cell_params(rng, "rnn", D, H), "V_ho": rng.standard_normal((H, K)), "b_y": rng.standard_normal(K)}
    x, h0, y = rng.standard_normal((T, B, D)), rng.standard_normal((B, H)), rng.integers(0, K, size=B)
    f = lambda: R.many_to_one_loss(x, h0, params, y)[0]
    check(f, params, R.many_to_one_loss(x, h0, params, y)[1], "many_to_one_loss")


@pytest.mark.parametrize("T,B,D,H", SHAPES, ids=IDS)
def test_encoder_decoder(T, B, D, H):
    rng = np.random.default_rng(9)
    K, T_out = 4, T + 1
    shapes = {"U_enc": (D, H), "W_enc": (H, H), "b_enc": (H,), "U_dec": (K, H), "W_dec": (H, H), "b_dec": (H,),
              "V_ho": (H, K), "b_y": (K,)}
    params = {k: rng.standard_normal(s) * 0.5 for k, s in shapes.items()}
    x, h0 = rng.standard_normal((T, B, D)), rng.standard_normal((B, H))
    y_in, y_out = rng.integers(0, K, size=(T_out, B)), rng.integers(0, K, size=(T_out, B))
    f = lambda: R.encoder_decoder_loss(x, y_in, y_out, h0, params)[0]
    check(f, params, R.encoder_decoder_loss(x, y_in, y_out, h0, params)[1], "encoder_decoder_loss")
    # encoder_decoder_backward's dx and dh0 against the logits times a fixed upstream gradient
    do = rng.standard_normal((T_out, B, K))
    dx, dh0, _ = R.encoder_decoder_backward(do, R.encoder_decoder_forward(x, y_in, h0, params)[1])
    check(lambda: np.sum(R.encoder_decoder_forward(x, y_in, h0, params)[0] * do), {"x": x, "h0": h0},
          {"x": dx, "h0": dh0}, "encoder_decoder_backward")


@pytest.mark.parametrize("T,B,V,H", [(4, 2, 5, 3), (1, 1, 3, 1), (3, 1, 2, 4)])
def test_char_lm_loss(T, B, V, H):
    rng = np.random.default_rng(10)
    params = R.init_char_lm(V, H, seed=1, scale=0.5)
    params["b"], params["b_y"] = rng.standard_normal(H) * 0.5, rng.standard_normal(V) * 0.5
    inputs, targets = rng.integers(0, V, size=(T, B)), rng.integers(0, V, size=(T, B))
    h0 = rng.standard_normal((B, H)) * 0.5
    f = lambda: R.char_lm_loss(params, inputs, targets, h0)[0]
    check(f, params, R.char_lm_loss(params, inputs, targets, h0)[1], "char_lm_loss")


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("T,B,D,H", SHAPES, ids=IDS)
def test_bidirectional(cell, T, B, D, H):
    rng = np.random.default_rng(11)
    pf, pb = cell_params(rng, cell, D, H), cell_params(rng, cell, D, H)
    x, dh = rng.standard_normal((T, B, D)), rng.standard_normal((T, B, 2 * H))
    s = {k: rng.standard_normal((B, H)) for k in ("h0_f", "c0_f", "h0_b", "c0_b")}
    s0f = (s["h0_f"], s["c0_f"]) if cell == "lstm" else s["h0_f"]
    s0b = (s["h0_b"], s["c0_b"]) if cell == "lstm" else s["h0_b"]
    run = lambda: R.bidirectional_forward(x, s0f, s0b, tuple(pf.values()), tuple(pb.values()), cell=cell)
    dx, ds_f, ds_b, dp_f, dp_b = R.bidirectional_backward(dh, run()[1])
    grads = {"x": dx, **{k + "_f": g for k, g in zip(pf, dp_f)}, **{k + "_b": g for k, g in zip(pb, dp_b)}}
    inputs = {"x": x, **{k + "_f": a for k, a in pf.items()}, **{k + "_b": a for k, a in pb.items()}}
    if cell == "lstm":
        grads.update(h0_f=ds_f[0], c0_f=ds_f[1], h0_b=ds_b[0], c0_b=ds_b[1])
        inputs.update(s)
    else:
        grads.update(h0_f=ds_f, h0_b=ds_b)
        inputs.update(h0_f=s["h0_f"], h0_b=s["h0_b"])
    check(lambda: np.sum(run()[0] * dh), inputs, grads, f"bidirectional_backward[{cell}]")


@pytest.mark.parametrize("L", [1, 2, 3])
@pytest.mark.parametrize("T,B,D,H", SHAPES, ids=IDS)
def test_stacked_rnn(T, B, D, H, L):
    rng = np.random.default_rng(12)
    layers = [tuple(cell_params(rng, "rnn", D if l == 0 else H, H).values()) for l in range(L)]
    x, h0s, dh = rng.standard_normal((T, B, D)), rng.standard_normal((L, B, H)), rng.standard_normal((T, B, H))
    run = lambda: R.stacked_rnn_forward(x, h0s, layers)
    dx, dh0s, dlayers = R.stacked_rnn_backward(dh, run()[1])
    inputs, grads = {"x": x, "h0s": h0s}, {"x": dx, "h0s": dh0s}
    for l in range(L):
        for name, a, g in zip(("U_xh", "W_hh", "b"), layers[l], dlayers[l]):
            inputs[f"{name}[{l}]"], grads[f"{name}[{l}]"] = a, g
    check(lambda: np.sum(run()[0] * dh), inputs, grads, f"stacked_rnn_backward[L={L}]")


# ---------------------------------------------------------------- the criterion has teeth

def test_criterion_rejects_wrong_gradients():
    """Plausible bugs give errors far above 1e-7 while the right gradient sits far below it."""
    rng = np.random.default_rng(13)
    T, B, D, H = 4, 2, 3, 5
    p = cell_params(rng, "rnn", D, H)
    x, h0, dh = rng.standard_normal((T, B, D)), rng.standard_normal((B, H)), rng.standard_normal((T, B, H))
    f = lambda: np.sum(R.rnn_forward(x, h0, *p.values())[0] * dh)
    h, cache = R.rnn_forward(x, h0, *p.values())
    dx, dh0, dU, dW, db = R.rnn_backward(dh, cache)
    num_W, num_x = R.numerical_gradient(f, p["W_hh"]), R.numerical_gradient(f, x)
    assert R.norm_rel_error(dW, num_W) < 1e-9  # the right one: two orders of margin below TOL

    # da_t = dL/da_t (pre-activations), rebuilt to construct the wrong variants
    da = np.zeros_like(h)
    nxt = np.zeros((B, H))
    for t in reversed(range(T)):
        da[t] = (dh[t] + nxt) * (1 - h[t] ** 2)
        nxt = da[t] @ p["W_hh"].T
    h_prev = np.concatenate([h0[None], h[:-1]])
    wrong = {
        "scaled by 1.01": dW * 1.01,
        "h0 term dropped": dW - h0.T @ da[0],
        "one step dropped": dW - h_prev[1].T @ da[1],
        "first step's dx dropped": None,
    }
    for what, g in wrong.items():
        if g is None:
            bad = dx.copy()
            bad[0] = 0.0
            err = R.norm_rel_error(bad, num_x)
        else:
            err = R.norm_rel_error(g, num_W)
        assert err > 100 * TOL, f"the criterion accepted a wrong gradient ({what}): {err:.3e}"
