"""PyTorch autograd as the oracle: the same float64 weights (copied with rnn_ref.torch_io), every forward output
and every gradient, for every registered cell that a torch.nn class computes (Cell.torch: nn.RNN (tanh),
nn.LSTM, nn.GRU), their cells, bidirectional=True, num_layers=2, F.cross_entropy, clip_grad_norm_ and
clip_grad_value_. (Cho's GRU has no torch.nn class: tests/test_core_gradients.py checks it against autograd of
its formula.)

Criterion (tests/helpers.py): the normwise relative error ||ours - torch|| / (||ours|| + ||torch||)
(rnn_ref.norm_rel_error) below TORCH_TOL = 1e-10. Normwise, because two correct float64 programs that sum in
different orders agree to a few ulps of the *largest* terms, not of each entry: an entry that is itself the result
of cancellation (a gradient entry near 0) can differ in relative terms by far more than 1e-10 while the vectors
agree to 1e-16 of their norm. The elementwise rel_error is used only where no cancellation occurs: scalar losses
and norms, and clipping by value (which must agree exactly).
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import rnn_ref as R
from helpers import TORCH_CELLS, TORCH_TOL, agree, cell_weights, state_parts, tt
from rnn_ref import torch_io
from rnn_ref.cells import get_cell

F64 = torch.float64
SHAPES = [(5, 3, 4, 6), (1, 1, 3, 1), (6, 1, 2, 3)]  # (T, B, D, H): includes T=1, B=1, H=1
IDS = ["T5B3D4H6", "T1B1D3H1", "T6B1D2H3"]


def to_torch(kind):
    return getattr(torch_io, f"to_torch_{kind}")


def module_class(kind, step=False):
    """torch.nn.LSTM for "lstm", torch.nn.LSTMCell with step=True."""
    return getattr(torch.nn, get_cell(kind).torch + ("Cell" if step else ""))


def pack(kind, states):
    """A torch module's state argument: h, or the tuple (h, c) (the inverse of helpers.state_parts)."""
    return states[0] if len(get_cell(kind).state) == 1 else tuple(states)


def torch_grads(module, kind, suffix=""):
    """The module's parameter gradients in rnn_ref's layout (and order): transposed weights, then the biases.
    A cell with one bias b (RNN, LSTM) gets the gradient of b (equal to that of bias_ih and of bias_hh); a cell
    with two (GRU) gets both."""
    g = {n: getattr(module, n + suffix).grad for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    out = [g["weight_ih"].T, g["weight_hh"].T, g["bias_ih"]]
    if len(get_cell(kind).params) == 4:
        out.append(g["bias_hh"])
    else:  # b_ih and b_hh enter the pre-activation identically
        agree("bias_ih.grad vs bias_hh.grad", g["bias_ih"].numpy(), g["bias_hh"])
    return out


def param_names(kind):
    return tuple("d" + k for k in get_cell(kind).params)


# ---------------------------------------------------------------- whole sequences: nn.RNN, nn.LSTM, nn.GRU

@pytest.mark.parametrize("scale", [0.5, 10.0], ids=["moderate", "saturated"])  # 10: gates at 0 or 1, |a| up to ~100
@pytest.mark.parametrize("kind", TORCH_CELLS)
@pytest.mark.parametrize("T,B,D,H", SHAPES, ids=IDS)
def test_sequence_matches_torch(kind, T, B, D, H, scale):
    c = get_cell(kind)
    rng = np.random.default_rng(T * 100 + B * 10 + H)
    params = cell_weights(kind, D, H, rng, scale)
    x, dh = rng.standard_normal((T, B, D)), rng.standard_normal((T, B, H))
    s0 = [rng.standard_normal((B, H)) * (0.5 if i == 0 else 1.0) for i in range(len(c.state))]
    module = to_torch(kind)(module_class(kind)(D, H).double(), *params)
    xt, s0t = tt(x), [tt(s[None]) for s in s0]
    out, last = module(xt, pack(kind, s0t))
    (out * torch.from_numpy(dh)).sum().backward()
    h, cache = c.forward(x, *s0, *params)
    dx, *rest = c.backward(dh, cache)
    ds0, dparams = rest[:len(c.state)], rest[len(c.state):]
    agree(f"{kind} h", h, out)
    for s, ours, theirs in zip(c.state, ds0, s0t):
        agree(f"{kind} d{s}0", ours, theirs.grad[0])
    for s, theirs in zip(c.state, state_parts(kind, last)):   # the cache holds every state sequence by its name
        agree(f"{kind} {s}_T", getattr(cache, s)[-1], theirs[0])
    agree(f"{kind} dx", dx, xt.grad)
    for name, ours, theirs in zip(param_names(kind), dparams, torch_grads(module, kind, "_l0")):
        agree(f"{kind} {name}", ours, theirs)


@pytest.mark.parametrize("scale", [0.5, 10.0], ids=["moderate", "saturated"])
@pytest.mark.parametrize("T,B,D,H", SHAPES, ids=IDS)
def test_lstm_dc_last_matches_torch(T, B, D, H, scale):
    """lstm_backward's dc_last against a loss on torch.nn.LSTM's final cell state."""
    rng = np.random.default_rng(T * 100 + B * 10 + H)
    params = cell_weights("lstm", D, H, rng, scale)
    x, h0, c0 = rng.standard_normal((T, B, D)), rng.standard_normal((B, H)) * 0.5, rng.standard_normal((B, H))
    dh, dc_last = rng.standard_normal((T, B, H)), rng.standard_normal((B, H))
    module = torch_io.to_torch_lstm(torch.nn.LSTM(D, H).double(), *params)
    xt, h0t, c0t = tt(x), tt(h0[None]), tt(c0[None])
    out, (hn, cn) = module(xt, (h0t, c0t))
    ((out * torch.from_numpy(dh)).sum() + (cn[0] * torch.from_numpy(dc_last)).sum()).backward()
    h, cache = R.lstm_forward(x, h0, c0, *params)
    dx, dh0, dc0, *dparams = R.lstm_backward(dh, cache, dc_last=dc_last)
    agree("lstm dx", dx, xt.grad)
    agree("lstm dh0", dh0, h0t.grad[0])
    agree("lstm dc0", dc0, c0t.grad[0])
    for name, ours, theirs in zip(param_names("lstm"), dparams, torch_grads(module, "lstm", "_l0")):
        agree(f"lstm {name}", ours, theirs)


# ---------------------------------------------------------------- one step: nn.RNNCell, nn.LSTMCell, nn.GRUCell

@pytest.mark.parametrize("kind", TORCH_CELLS)
@pytest.mark.parametrize("B,D,H", [(3, 4, 5), (1, 1, 1), (1, 3, 2)])
def test_cell_matches_torch(kind, B, D, H):
    c = get_cell(kind)
    rng = np.random.default_rng(B * 100 + D * 10 + H)
    params = cell_weights(kind, D, H, rng)
    x = rng.standard_normal((B, D))
    s_prev = [rng.standard_normal((B, H)) for _ in c.state]
    ds = [rng.standard_normal((B, H)) for _ in c.state]        # dL/d(each new state)
    cell = to_torch(kind)(module_class(kind, step=True)(D, H).double(), *params)
    xt, st = tt(x), [tt(s) for s in s_prev]
    new_t = state_parts(kind, cell(xt, pack(kind, st)))
    sum((s * torch.from_numpy(d)).sum() for s, d in zip(new_t, ds)).backward()
    *new, cache = c.step_forward(x, *s_prev, *params)
    dx, *rest = c.step_backward(*ds, cache)
    for s, ours, theirs in zip(c.state, new, new_t):
        agree(f"{kind} cell {s}", ours, theirs)
    agree(f"{kind} cell dx", dx, xt.grad)
    for s, ours, theirs in zip(c.state, rest, st):
        agree(f"{kind} cell d{s}_prev", ours, theirs.grad)
    for name, ours, theirs in zip(param_names(kind), rest[len(c.state):], torch_grads(cell, kind)):
        agree(f"{kind} cell {name}", ours, theirs)


# ---------------------------------------------------------------- bidirectional=True, every cell torch has

@pytest.mark.parametrize("kind", TORCH_CELLS)
@pytest.mark.parametrize("T,B,D,H", SHAPES, ids=IDS)
def test_bidirectional_matches_torch(kind, T, B, D, H):
    c = get_cell(kind)
    rng = np.random.default_rng(7 + T + B + H)
    pf, pb = cell_weights(kind, D, H, rng), cell_weights(kind, D, H, rng)
    x, dh = rng.standard_normal((T, B, D)), rng.standard_normal((T, B, 2 * H))
    s0 = [rng.standard_normal((2, B, H)) * (0.5 if i == 0 else 1.0) for i in range(len(c.state))]  # [f, b]
    module = module_class(kind)(D, H, bidirectional=True).double()
    to_torch(kind)(module, *pf)
    to_torch(kind)(module, *pb, reverse=True)
    xt, s0t = tt(x), [tt(s) for s in s0]
    out = module(xt, pack(kind, s0t))[0]
    (out * torch.from_numpy(dh)).sum().backward()

    h, cache = R.bidirectional_forward(x, pack(kind, [s[0] for s in s0]), pack(kind, [s[1] for s in s0]), pf, pb,
                                       cell=kind)
    dx, ds_f, ds_b, dp_f, dp_b = R.bidirectional_backward(dh, cache)
    agree(f"bi-{kind} h", h, out)
    agree(f"bi-{kind} dx", dx, xt.grad)
    for s, f, b, theirs in zip(c.state, state_parts(kind, ds_f), state_parts(kind, ds_b), s0t):
        agree(f"bi-{kind} d{s}0", np.stack([f, b]), theirs.grad)
    for suffix, dp in (("_l0", dp_f), ("_l0_reverse", dp_b)):
        for name, ours, theirs in zip(param_names(kind), dp, torch_grads(module, kind, suffix)):
            agree(f"bi-{kind} {name}{suffix}", ours, theirs)


# ---------------------------------------------------------------- num_layers=2 (RNN cell)

@pytest.mark.parametrize("T,B,D,H", SHAPES, ids=IDS)
def test_stacked_matches_torch(T, B, D, H):
    rng = np.random.default_rng(99 + T * B * H)
    layers = [cell_weights("rnn", D, H, rng), cell_weights("rnn", H, H, rng)]
    x, h0s, dh = rng.standard_normal((T, B, D)), rng.standard_normal((2, B, H)), rng.standard_normal((T, B, H))
    module = torch.nn.RNN(D, H, num_layers=2).double()
    for l, p in enumerate(layers):
        torch_io.to_torch_rnn(module, *p, layer=l)
    xt, h0t = tt(x), tt(h0s)
    out, hn = module(xt, h0t)
    (out * torch.from_numpy(dh)).sum().backward()
    h, cache = R.stacked_rnn_forward(x, h0s, layers)
    dx, dh0s, dlayers = R.stacked_rnn_backward(dh, cache)
    agree("stacked h", h, out)
    agree("stacked h_T per layer", np.stack([c.h[-1] for c in cache.layers]), hn)
    agree("stacked dx", dx, xt.grad)
    agree("stacked dh0s", dh0s, h0t.grad)
    for l, dp in enumerate(dlayers):
        for name, ours, theirs in zip(param_names("rnn"), dp, torch_grads(module, "rnn", f"_l{l}")):
            agree(f"stacked {name} layer {l}", ours, theirs)


# ---------------------------------------------------------------- the loss: F.cross_entropy

@pytest.mark.parametrize("T,B,K,scale", [(4, 3, 7, 1.0), (1, 1, 2, 1.0), (3, 2, 65, 1000.0)],
                         ids=["T4B3K7", "T1B1K2", "logits+-1000"])
def test_cross_entropy_matches_torch(T, B, K, scale):
    rng = np.random.default_rng(K)
    o = rng.standard_normal((T, B, K)) * scale
    if scale > 1:
        o[0, 0, :] = 0.0
        o[0, 0, 0], o[0, 0, 1] = 1000.0, -1000.0  # the target's probability underflows to exp(-1000)
    y = rng.integers(0, K, size=(T, B))
    y[0, 0] = 1
    ot = tt(o)
    ref = F.cross_entropy(ot.reshape(T * B, K), torch.from_numpy(y.reshape(-1)), reduction="sum") / B
    ref.backward()
    loss, do = R.softmax_cross_entropy(o, y)
    assert np.isfinite(loss) and np.isfinite(do).all()
    err = R.rel_error(loss, ref.item())  # a scalar sum of positive terms: elementwise is meaningful
    print(f"ORACLE cross-entropy loss {err:.3e}")
    assert err < TORCH_TOL, f"loss: relative error {err:.3e} vs F.cross_entropy"
    agree("cross-entropy do", do, ot.grad)
    agree("softmax", R.softmax(o), torch.softmax(torch.from_numpy(o), -1))
    agree("log_softmax", R.log_softmax(o), torch.log_softmax(torch.from_numpy(o), -1))


def test_sigmoid_matches_torch():
    a = np.concatenate([np.linspace(-50, 50, 1001), [-1000.0, -745.0, -40.0, 0.0, 40.0, 745.0, 1000.0]])
    ours, theirs = R.sigmoid(a), torch.sigmoid(torch.from_numpy(a)).numpy()
    assert np.isfinite(ours).all() and np.all((ours >= 0) & (ours <= 1))
    # elementwise (no cancellation here), except where sigmoid underflows to 0 or a denormal in either library
    tiny = np.minimum(np.abs(ours), theirs) < 1e-290
    err = np.max(np.abs(ours - theirs)[~tiny] / theirs[~tiny])
    print(f"ORACLE sigmoid {err:.3e}")
    assert err < TORCH_TOL, f"sigmoid: relative error {err:.3e} vs torch.sigmoid"
    assert np.all(np.abs(ours - theirs)[tiny] < 1e-290)


# ---------------------------------------------------------------- clipping

def _grad_dict(rng, scale):
    return {"U_xh": rng.standard_normal((3, 4)) * scale, "W_hh": rng.standard_normal((4, 4)) * scale,
            "b": rng.standard_normal(4) * scale}


def _torch_params(grads):
    ps = []
    for g in grads.values():
        p = torch.zeros(g.shape, dtype=F64, requires_grad=True)
        p.grad = torch.tensor(g, dtype=F64)
        ps.append(p)
    return ps


@pytest.mark.parametrize("scale,max_norm", [(10.0, 1.0), (0.01, 5.0), (3.0, 2.5)])
def test_clip_by_global_norm_matches_torch(scale, max_norm):
    grads = _grad_dict(np.random.default_rng(int(scale * 100)), scale)
    ps = _torch_params(grads)
    total = torch.nn.utils.clip_grad_norm_(ps, max_norm).item()
    clipped, norm = R.clip_by_global_norm(grads, max_norm)
    err = R.rel_error(norm, total)
    print(f"ORACLE global norm {err:.3e}")
    assert err < TORCH_TOL
    # PyTorch scales by max_norm / (norm + 1e-6) (clamped to 1); we scale by max_norm / norm. Undo the 1e-6
    # explicitly so the comparison can be exact to 1e-10 rather than loose by 1e-6 / norm.
    eps_fix = (norm + 1e-6) / norm if norm > max_norm else 1.0
    for (k, g), p in zip(clipped.items(), ps):
        agree(f"clip_by_global_norm {k}", g, p.grad * eps_fix)
    assert all(np.array_equal(grads[k], _grad_dict(np.random.default_rng(int(scale * 100)), scale)[k])
               for k in grads), "clip_by_global_norm changed its input"


@pytest.mark.parametrize("limit", [5.0, 0.3])
def test_clip_by_value_matches_torch(limit):
    grads = _grad_dict(np.random.default_rng(5), 4.0)
    ps = _torch_params(grads)
    torch.nn.utils.clip_grad_value_(ps, limit)
    clipped = R.clip_by_value(grads, limit)
    for (k, g), p in zip(clipped.items(), ps):
        assert np.array_equal(g, p.grad.numpy()), f"clip_by_value {k} differs from clip_grad_value_"
    assert any(np.abs(g).max() > limit for g in grads.values()), "the test must clip something"


# ---------------------------------------------------------------- torch_io itself

@pytest.mark.parametrize("kind", TORCH_CELLS)
@pytest.mark.parametrize("make", ["module", "cell", "bidirectional-2-layer"])
def test_torch_io_round_trip(kind, make):
    rng = np.random.default_rng(3)
    D, H = 3, 4
    to, back = to_torch(kind), getattr(torch_io, f"from_torch_{kind}")
    if make == "cell":
        module, slots = module_class(kind, step=True)(D, H).double(), [(0, False)]
    elif make == "module":
        module, slots = module_class(kind)(D, H).double(), [(0, False)]
    else:
        module = module_class(kind)(D, H, num_layers=2, bidirectional=True).double()
        slots = [(0, False), (0, True), (1, False), (1, True)]
    for layer, reverse in slots:
        params = cell_weights(kind, 2 * H if layer else D, H, rng)
        to(module, *params, layer=layer, reverse=reverse)
        got = back(module, layer=layer, reverse=reverse)
        assert len(got) == len(params)
        for a, b in zip(got, params):
            assert a.dtype == np.float64 and np.array_equal(a, b)
    # torch -> ours -> a fresh torch module computes the same function (the RNN/LSTM biases are merged)
    torch.manual_seed(0)
    src = module_class(kind, step=make == "cell")(D, H).double()
    dst = module_class(kind, step=make == "cell")(D, H).double()
    to(dst, *back(src))
    x = torch.randn(2, D, dtype=F64) if make == "cell" else torch.randn(4, 2, D, dtype=F64)
    a, b = src(x), dst(x)
    a, b = (a[0], b[0]) if isinstance(a, tuple) else (a, b)
    agree(f"torch_io {kind} {make} round trip", a.detach().numpy(), b)


def test_torch_io_keeps_float32():
    module = torch.nn.GRU(2, 3)  # float32 parameters
    Wx, Wh, bx, bh = torch_io.from_torch_gru(module)
    assert Wx.dtype == np.float32 and Wx.shape == (2, 9) and Wh.shape == (3, 9) and bh.shape == (9,)
    torch_io.to_torch_gru(module, Wx.astype(np.float64), Wh, bx, bh)
    assert module.weight_ih_l0.dtype == torch.float32


@pytest.mark.parametrize("call,match", [
    (lambda: torch_io.to_torch_rnn(torch.nn.LSTM(2, 3), np.zeros((2, 3)), np.zeros((3, 3)), np.zeros(3)), "module"),
    (lambda: torch_io.to_torch_rnn(torch.nn.RNN(2, 3, nonlinearity="relu"), np.zeros((2, 3)), np.zeros((3, 3)),
                                   np.zeros(3)), "module"),
    (lambda: torch_io.to_torch_rnn(torch.nn.RNN(2, 3), np.zeros((3, 3)), np.zeros((3, 3)), np.zeros(3)), "U_xh"),
    (lambda: torch_io.to_torch_lstm(torch.nn.LSTM(2, 3), np.zeros((2, 12)), np.zeros((3, 9)), np.zeros(12)), "Wh"),
    (lambda: torch_io.to_torch_gru(torch.nn.GRU(2, 3), np.zeros((2, 9)), np.zeros((3, 9)), np.zeros(9),
                                   np.zeros(8)), "bh"),
    (lambda: torch_io.from_torch_rnn(torch.nn.RNN(2, 3), layer=1), "layer"),
    (lambda: torch_io.from_torch_gru(torch.nn.GRU(2, 3), reverse=True), "reverse"),
    (lambda: torch_io.from_torch_lstm(torch.nn.LSTMCell(2, 3), layer=1), "layer"),
], ids=["wrong-module", "relu", "U_xh-shape", "Wh-shape", "bh-shape", "layer", "reverse", "cell-layer"])
def test_torch_io_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
