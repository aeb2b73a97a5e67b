"""Central differences in float64 for every backward pass of the core (every cell in the registry
rnn_ref.cells.CELLS, step and sequence, and the loss) and for the losses and backward passes built on it
(many-to-one, encoder-decoder, char-LM, bidirectional for every cell, stacked). A newly registered cell is
tested here without an edit. Cho's GRU, which torch.nn lacks, is also checked against PyTorch autograd of its
formula written in torch ops.

Criterion (tests/helpers.py): the normwise relative error ||analytic - numeric|| / (||analytic|| + ||numeric||)
(rnn_ref.norm_rel_error) below GRAD_TOL = 1e-7 for every input and parameter. With step 1e-5 in float64 and
inputs of order 1, a right gradient lands near 1e-10 (truncation ~h^2, round-off ~eps/h), while a gradient with one term
dropped or scaled by 1.01 lands at 1e-3 or more: test_criterion_rejects_wrong_gradients shows both sides.
Elementwise errors are not used: an entry near 0 has a relative error set by round-off, not by correctness.
"""
import numpy as np
import pytest
import torch

import rnn_ref as R
from helpers import CELL_NAMES, GRAD_TOL, agree, cell_params, cell_weights, check_gradients, error, tt
from rnn_ref.cells import get_cell

SHAPES = [(3, 2, 3, 4), (1, 1, 2, 1), (4, 1, 1, 3)]  # (T, B, D, H): includes T=1, B=1, H=1
IDS = ["T3B2D3H4", "T1B1D2H1", "T4B1D1H3"]


def seed(cell, k):
    return 10 * k + CELL_NAMES.index(cell)


def cell_case(cell, k, x_shape, state_suffix, D, H):
    """A cell's inputs for test k: the parameters {name: array} and the variables {x, <state><suffix>}, from
    a generator seeded per cell and test, which is also returned for the upstream gradients."""
    rng = np.random.default_rng(seed(cell, k))
    p = cell_params(cell, D, H, rng)
    B = x_shape[-2]
    v = {"x": rng.standard_normal(x_shape),
         **{s + state_suffix: rng.standard_normal((B, H)) for s in get_cell(cell).state}}
    return rng, v, p


def check_all(f, v, p, g, what):
    """g, a backward's gradients (one per variable in v, then one per parameter in p), by central differences."""
    assert len(g) == len(v) + len(p), f"{what} returned {len(g)} gradients"
    check_gradients(f, {**v, **p}, dict(zip([*v, *p], g)), what)


# ---------------------------------------------------------------- every registered cell: one step, a sequence

@pytest.mark.parametrize("cell", CELL_NAMES)
@pytest.mark.parametrize("T,B,D,H", SHAPES, ids=IDS)
def test_step(cell, T, B, D, H):
    """step_backward(*dstate, cache) -> (dx, *dstate_prev, *dparams), for a loss on every new state."""
    c = get_cell(cell)
    rng, v, p = cell_case(cell, 1, (B, D), "_prev", D, H)
    ds = [rng.standard_normal((B, H)) for _ in c.state]   # dL/d(each new state)

    def f():
        new = c.step_forward(*v.values(), *p.values())[:-1]
        return sum(np.sum(s * d) for s, d in zip(new, ds))
    check_all(f, v, p, c.step_backward(*ds, c.step_forward(*v.values(), *p.values())[-1]), f"{cell}_step_backward")


@pytest.mark.parametrize("cell", CELL_NAMES)
@pytest.mark.parametrize("T,B,D,H", SHAPES, ids=IDS)
def test_sequence(cell, T, B, D, H):
    """backward(dh, cache) -> (dx, *dstate0, *dparams), for a loss on every hidden state."""
    c = get_cell(cell)
    rng, v, p = cell_case(cell, 2, (T, B, D), "0", D, H)
    dh = rng.standard_normal((T, B, H))
    f = lambda: np.sum(c.forward(*v.values(), *p.values())[0] * dh)
    check_all(f, v, p, c.backward(dh, c.forward(*v.values(), *p.values())[1]), f"{cell}_backward")


@pytest.mark.parametrize("T,B,D,H", SHAPES, ids=IDS)
def test_lstm_dc_last(T, B, D, H):
    """lstm_backward's dc_last: dL/dc_T from beyond the sequence (an encoder's final cell state)."""
    rng = np.random.default_rng(5)
    p = cell_params("lstm", D, H, rng)
    v = {"x": rng.standard_normal((T, B, D)), "h0": rng.standard_normal((B, H)), "c0": rng.standard_normal((B, H))}
    dh, dc_last = rng.standard_normal((T, B, H)), rng.standard_normal((B, H))

    def f():
        h, cache = R.lstm_forward(*v.values(), *p.values())
        return np.sum(h * dh) + np.sum(cache.c[-1] * dc_last)
    g = R.lstm_backward(dh, R.lstm_forward(*v.values(), *p.values())[1], dc_last=dc_last)
    check_gradients(f, {**v, **p}, dict(zip(["x", "h0", "c0", "Wx", "Wh", "b"], g)), "lstm_backward")


# ---------------------------------------------------------------- Cho's GRU against PyTorch autograd

def _gru_cho_torch(x, h_prev, Wx, Wh, bx, bh):
    """book/12_gru.md eq-12-cho in torch ops (torch.nn has no such cell): the reset before the matmul."""
    H = h_prev.shape[1]
    r = torch.sigmoid(x @ Wx[:, :H] + bx[:H] + h_prev @ Wh[:, :H] + bh[:H])
    z = torch.sigmoid(x @ Wx[:, H:2 * H] + bx[H:2 * H] + h_prev @ Wh[:, H:2 * H] + bh[H:2 * H])
    n = torch.tanh(x @ Wx[:, 2 * H:] + bx[2 * H:] + (r * h_prev) @ Wh[:, 2 * H:] + bh[2 * H:])
    return (1 - z) * n + z * h_prev


@pytest.mark.parametrize("scale", [0.5, 10.0], ids=["moderate", "saturated"])
@pytest.mark.parametrize("T,B,D,H", SHAPES, ids=IDS)
def test_gru_cho_matches_torch_autograd(T, B, D, H, scale):
    """Forward and every gradient, step and sequence, to a normwise relative error below TORCH_TOL (1e-10)."""
    rng = np.random.default_rng(seed("gru_cho", 3))
    p = cell_params("gru_cho", D, H, rng, scale)
    x, h0 = rng.standard_normal((T, B, D)), rng.standard_normal((B, H))
    dh = rng.standard_normal((T, B, H))
    leaves = [tt(a) for a in (x, h0, *p.values())]
    hs, h_prev = [], leaves[1]
    for t in range(T):
        h_prev = _gru_cho_torch(leaves[0][t], h_prev, *leaves[2:])
        hs.append(h_prev)
    out = torch.stack(hs)
    (out * torch.from_numpy(dh)).sum().backward()
    h, cache = R.gru_cho_forward(x, h0, *p.values())
    agree("gru_cho_forward h", h, out)
    for name, ours, leaf in zip(["dx", "dh0", "dWx", "dWh", "dbx", "dbh"], R.gru_cho_backward(dh, cache), leaves):
        agree(f"gru_cho_backward {name}", ours, leaf.grad)
    # one step: its own forward and backward
    leaves = [tt(a) for a in (x[0], h0, *p.values())]
    out = _gru_cho_torch(*leaves)
    (out * torch.from_numpy(dh[0])).sum().backward()
    h1, cache = R.gru_cho_step_forward(x[0], h0, *p.values())
    agree("gru_cho_step_forward h", h1, out)
    for name, ours, leaf in zip(["dx", "dh_prev", "dWx", "dWh", "dbx", "dbh"],
                                R.gru_cho_step_backward(dh[0], cache), leaves):
        agree(f"gru_cho_step_backward {name}", ours, leaf.grad)


def test_gru_cho_differs_from_gru_unless_reset_open():
    """The two GRUs share a weight layout but not a function; with r = 1 they agree (book/12_gru.md)."""
    rng = np.random.default_rng(0)
    B, D, H = 4, 3, 5
    x, h_prev = rng.standard_normal((B, D)), rng.standard_normal((B, H))
    p = cell_params("gru", D, H, rng, 1.0)
    assert np.abs(R.gru_step_forward(x, h_prev, *p.values())[0]
                  - R.gru_cho_step_forward(x, h_prev, *p.values())[0]).max() > 0.05
    p["bx"][:H] = 50.0   # r = 1
    assert np.abs(R.gru_step_forward(x, h_prev, *p.values())[0]
                  - R.gru_cho_step_forward(x, h_prev, *p.values())[0]).max() < 1e-12


@pytest.mark.parametrize("T,B,K,scale", [(3, 2, 5, 1.0), (1, 1, 2, 1.0), (2, 3, 4, 10.0)])
def test_softmax_cross_entropy(T, B, K, scale):
    rng = np.random.default_rng(7)
    o = rng.standard_normal((T, B, K)) * scale
    y = rng.integers(0, K, size=(T, B))
    check_gradients(lambda: R.softmax_cross_entropy(o, y)[0], {"o": o}, {"o": R.softmax_cross_entropy(o, y)[1]},
          "softmax_cross_entropy")


# ---------------------------------------------------------------- models built on the core

@pytest.mark.parametrize("T,B,D,H", SHAPES, ids=IDS)
def test_many_to_one_loss(T, B, D, H):
    rng = np.random.default_rng(8)
    K = 3
    params = {**cell_params("rnn", D, H, rng), "V_ho": rng.standard_normal((H, K)), "b_y": rng.standard_normal(K)}
    x, h0, y = rng.standard_normal((T, B, D)), rng.standard_normal((B, H)), rng.integers(0, K, size=B)
    f = lambda: R.many_to_one_loss(x, h0, params, y)[0]
    check_gradients(f, params, R.many_to_one_loss(x, h0, params, y)[1], "many_to_one_loss")


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
    check_gradients(f, params, R.encoder_decoder_loss(x, y_in, y_out, h0, params)[1], "encoder_decoder_loss")
    # encoder_decoder_backward's dx and dh0 against the logits times a fixed upstream gradient
    do = rng.standard_normal((T_out, B, K))
    dx, dh0, _ = R.encoder_decoder_backward(do, R.encoder_decoder_forward(x, y_in, h0, params)[1])
    check_gradients(lambda: np.sum(R.encoder_decoder_forward(x, y_in, h0, params)[0] * do), {"x": x, "h0": h0},
          {"x": dx, "h0": dh0}, "encoder_decoder_backward")


@pytest.mark.parametrize("T,B,V,H", [(4, 2, 5, 3), (1, 1, 3, 1), (3, 1, 2, 4)])
def test_char_lm_loss(T, B, V, H):
    rng = np.random.default_rng(10)
    params = R.init_char_lm(V, H, seed=1, scale=0.5)
    params["b"], params["b_y"] = rng.standard_normal(H) * 0.5, rng.standard_normal(V) * 0.5
    inputs, targets = rng.integers(0, V, size=(T, B)), rng.integers(0, V, size=(T, B))
    h0 = rng.standard_normal((B, H)) * 0.5
    f = lambda: R.char_lm_loss(params, inputs, targets, h0)[0]
    check_gradients(f, params, R.char_lm_loss(params, inputs, targets, h0)[1], "char_lm_loss")


@pytest.mark.parametrize("cell", CELL_NAMES)
@pytest.mark.parametrize("T,B,D,H", SHAPES, ids=IDS)
def test_bidirectional(cell, T, B, D, H):
    rng = np.random.default_rng(11)
    c = get_cell(cell)
    pf, pb = cell_params(cell, D, H, rng), cell_params(cell, D, H, rng)
    x, dh = rng.standard_normal((T, B, D)), rng.standard_normal((T, B, 2 * H))
    s0 = {f"{s}0_{d}": rng.standard_normal((B, H)) for d in "fb" for s in c.state}
    pack = lambda d, v: v[f"h0_{d}"] if len(c.state) == 1 else tuple(v[f"{s}0_{d}"] for s in c.state)
    run = lambda: R.bidirectional_forward(x, pack("f", s0), pack("b", s0), tuple(pf.values()), tuple(pb.values()),
                                          cell=cell)
    dx, ds_f, ds_b, dp_f, dp_b = R.bidirectional_backward(dh, run()[1])
    ds = {"f": ds_f if len(c.state) > 1 else (ds_f,), "b": ds_b if len(c.state) > 1 else (ds_b,)}
    grads = {"x": dx, **{k + "_f": g for k, g in zip(pf, dp_f)}, **{k + "_b": g for k, g in zip(pb, dp_b)},
             **{f"{s}0_{d}": g for d in "fb" for s, g in zip(c.state, ds[d])}}
    inputs = {"x": x, **{k + "_f": a for k, a in pf.items()}, **{k + "_b": a for k, a in pb.items()}, **s0}
    check_gradients(lambda: np.sum(run()[0] * dh), inputs, grads, f"bidirectional_backward[{cell}]")


@pytest.mark.parametrize("L", [1, 2, 3])
@pytest.mark.parametrize("T,B,D,H", SHAPES, ids=IDS)
def test_stacked_rnn(T, B, D, H, L):
    rng = np.random.default_rng(12)
    layers = [cell_weights("rnn", D if l == 0 else H, H, rng) for l in range(L)]
    x, h0s, dh = rng.standard_normal((T, B, D)), rng.standard_normal((L, B, H)), rng.standard_normal((T, B, H))
    run = lambda: R.stacked_rnn_forward(x, h0s, layers)
    dx, dh0s, dlayers = R.stacked_rnn_backward(dh, run()[1])
    inputs, grads = {"x": x, "h0s": h0s}, {"x": dx, "h0s": dh0s}
    for l in range(L):
        for name, a, g in zip(("U_xh", "W_hh", "b"), layers[l], dlayers[l]):
            inputs[f"{name}[{l}]"], grads[f"{name}[{l}]"] = a, g
    check_gradients(lambda: np.sum(run()[0] * dh), inputs, grads, f"stacked_rnn_backward[L={L}]")


# ---------------------------------------------------------------- the criterion has teeth

def test_criterion_rejects_wrong_gradients():
    """Plausible bugs give errors far above 1e-7 while the right gradient sits far below it."""
    rng = np.random.default_rng(13)
    T, B, D, H = 4, 2, 3, 5
    p = cell_params("rnn", D, H, rng)
    x, h0, dh = rng.standard_normal((T, B, D)), rng.standard_normal((B, H)), rng.standard_normal((T, B, H))
    f = lambda: np.sum(R.rnn_forward(x, h0, *p.values())[0] * dh)
    h, cache = R.rnn_forward(x, h0, *p.values())
    dx, dh0, dU, dW, db = R.rnn_backward(dh, cache)
    num_W, num_x = R.numerical_gradient(f, p["W_hh"]), R.numerical_gradient(f, x)
    assert error(dW, num_W) < 1e-9  # the right one: two orders of margin below GRAD_TOL

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
            err = error(bad, num_x)
        else:
            err = error(g, num_W)
        assert err > 100 * GRAD_TOL, f"the criterion accepted a wrong gradient ({what}): {err:.3e}"
