"""Deep RNNs, the three ways to add depth of the Deep Learning book's Fig. 10.13 (Pascanu et al. 2014).

(a) Stacked recurrent layers: layer l reads the hidden states of layer l-1.
    stacked_rnn_* (vanilla RNN; layers is a list of (U_xh, W_hh, b) tuples, layer 0's U_xh is (D, H), the
    others' (H, H)) and stacked_* (any registered cell, rnn_ref.cells.CELLS).
(b) Deep transition: one tanh hidden layer z_t inside the step, so that input-to-hidden, hidden-to-hidden
    and hidden-to-output are each a small MLP (Pascanu et al.'s DOT-RNN):
        z_t = tanh(x_t @ U_xz + h_{t-1} @ W_hz + b_z)        (B, Z)   the transition's hidden layer
        h_t = tanh(z_t @ W_zh + b_h)                          (B, H)
        q_t = tanh(h_t @ V_hq + b_q);  o_t = q_t @ V_qo + b_y   (B, Q), (B, K)   the deep output
    The path from h_{t-1} to h_t now crosses two nonlinearities: twice as long through time.
(c) Deep transition with a skip connection: a direct h_{t-1} -> h_t path beside the MLP shortens it again,
        h_t = tanh(z_t @ W_zh + h_{t-1} @ W_hh + b_h)
"""
from collections import namedtuple

import numpy as np

from .._validate import as_float_array, as_targets, cache_of, check_params
from ..cells.registry import get_cell
from ..training.loss import softmax_cross_entropy

# cell: the registered Cell; layers: the list of the layers' caches (their cell forward's), bottom first
StackedCache = namedtuple("StackedCache", "cell layers")
StackedRNNCache = namedtuple("StackedRNNCache", "layers")


def _stack(c, x, state0s, layers, names):
    """Layer l reads layer l-1's h; an error inside a layer is prefixed with names[0][l] (its state) or
    names[1][l] (its parameters). Returns the top layer's h and the list of the layers' caches."""
    caches, inp = [], x
    for l, params in enumerate(layers):
        where = (f"{names[0]}[{l}]", f"{names[1]}[{l}]")
        if state0s is None:
            s0 = c.zero_state(x.shape[1], c.hidden_size(params, where[1]), x.dtype)
        else:
            s0 = state0s[l]
        try:
            inp, cache = c.run_forward(inp, s0, params, where)
        except ValueError as e:
            msg = str(e)
            if not msg.startswith(where):   # the cell's own message names its argument: say which layer's
                arg = msg.split(":")[0]
                msg = f"{where[0] if arg in tuple(s + '0' for s in c.state) else where[1]}: {msg}"
            raise ValueError(msg) from None
        caches.append(cache)
    return inp, caches


def stacked_rnn_forward(x, h0s, layers):
    """L stacked vanilla RNN layers: layer 0 reads x, layer l > 0 reads the states of layer l-1.

    Inputs:
    - x: (T, B, D) inputs
    - h0s: (L, B, H) the layers' initial states
    - layers: a list of L tuples (U_xh, W_hh, b): U_xh (D, H) for layer 0 and (H, H) above, W_hh (H, H), b (H,)

    Returns a tuple of:
    - h: (T, B, H) the top layer's states
    - cache: StackedRNNCache (layers: the list of the layers' rnn_forward caches) for stacked_rnn_backward

    Derived in book/10_deep.md, section "Three ways to add depth" (a).
    """
    if not isinstance(layers, (list, tuple)) or not layers:
        raise ValueError("layers: expected a non-empty list of (U_xh, W_hh, b) tuples, one per layer")
    x = as_float_array("x", x, ndim=3)
    h0s = as_float_array("h0s", h0s, shape=(len(layers), x.shape[1], None))
    h, caches = _stack(get_cell("rnn"), x, h0s, layers, ("h0s", "layers"))
    return h, StackedRNNCache(caches)


def stacked_rnn_backward(dh, cache):
    """stacked_backward for the vanilla RNN: dh (T, B, H) on the top layer and the StackedRNNCache of
    stacked_rnn_forward -> dx (T, B, D), dh0s (L, B, H) in one array, dlayers [(dU_xh, dW_hh, db), ...] bottom
    first. Derived in book/10_deep.md, section "Three ways to add depth" (a).
    """
    caches = cache_of(cache, StackedRNNCache, "stacked_rnn_forward").layers
    dx, dh0s, dlayers = _unstack(get_cell("rnn"), dh, caches)
    return dx, np.stack(dh0s), dlayers


def _unstack(c, dh, caches):
    """Backward through the layers, top first: a layer's dx is the gradient of the layer below. The top
    layer's backward checks dh against its h."""
    dstates, dlayers = [], []
    for layer_cache in reversed(caches):
        dh, ds, dp = c.run_backward(dh, layer_cache)
        dstates.append(ds)
        dlayers.append(dp)
    return dh, dstates[::-1], dlayers[::-1]


def stacked_forward(x, state0s, layers, cell="rnn"):
    """Stacked layers of any registered cell (what num_layers=2 means in PyTorch).

    Inputs:
    - x: (T, B, D) inputs
    - state0s: a list of L initial states in Cell.zero_state's form (h0 (B, H_l), or a tuple like the LSTM's
      (h0, c0)), or None for zeros
    - layers: a list of L parameter tuples in the cell's API order (Cell.params); layer 0's input weight is
      (D, G*H_0), layer l's (H_{l-1}, G*H_l), its recurrent weight (H_l, G*H_l), its biases (G*H_l,)
    - cell: a registered cell name or Cell

    Returns a tuple of:
    - h: (T, B, H_top) the top layer's states
    - cache: StackedCache (the cell; layers: the list of the layers' caches, bottom first) for stacked_backward

    Derived in book/10_deep.md, section "Three ways to add depth" (a).
    """
    if not isinstance(layers, (list, tuple)) or not layers:
        raise ValueError("layers: expected a non-empty list of parameter tuples, one per layer")
    x = as_float_array("x", x, ndim=3)
    if state0s is not None and (not isinstance(state0s, (list, tuple)) or len(state0s) != len(layers)):
        raise ValueError(f"state0s: expected a list of {len(layers)} initial states (one per layer) or None")
    c = get_cell(cell)
    h, caches = _stack(c, x, state0s, layers, ("state0s", "layers"))
    return h, StackedCache(c, caches)


def stacked_backward(dh, cache):
    """BPTT through the stack, top layer first.

    Inputs:
    - dh: (T, B, H_top) upstream gradient on the top layer's states
    - cache: the StackedCache returned by stacked_forward (anything else is a ValueError)

    Returns a tuple of:
    - dx: (T, B, D)
    - dstate0s: a list of L initial-state gradients in their form (dh0 (B, H_l), or a tuple like (dh0, dc0))
    - dlayers: a list of L parameter-gradient tuples in the cell's API order, bottom first

    Derived in book/10_deep.md, section "Three ways to add depth" (a).
    """
    c, caches = cache_of(cache, StackedCache, "stacked_forward")
    return _unstack(c, dh, caches)


DEEP_TRANSITION = ("U_xz", "W_hz", "b_z", "W_zh", "b_h", "V_hq", "b_q", "V_qo", "b_y")
# x, h0, p: the inputs and the checked parameters; z (T, B, Z), h (T, B, H), q (T*B, Q): every step's layers;
# skip: whether W_hh joins h_{t-1} to h_t
DTCache = namedtuple("DTCache", "x h0 p z h q skip")


def init_deep_transition(D, H, K, Z=None, Q=None, skip=False, seed=0):
    """Parameters for deep_transition_forward: U_xz (D, Z), W_hz (H, Z), b_z (Z,), W_zh (Z, H), b_h (H,),
    V_hq (H, Q), b_q (Q,), V_qo (Q, K), b_y (K,), and W_hh (H, H) when skip. Z and Q default to H.
    Weights from N(0, 1/fan_in), biases zero; seed for numpy's default_rng.

    Derived in book/10_deep.md, section "Three ways to add depth" (b), (c).
    """
    Z = H if Z is None else Z
    Q = H if Q is None else Q
    for name, v in (("D", D), ("H", H), ("K", K), ("Z", Z), ("Q", Q)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
            raise ValueError(f"{name}: expected a positive int, got {v!r}")
    rng = np.random.default_rng(seed)
    w = lambda m, n: rng.standard_normal((m, n)) / np.sqrt(m)  # noqa: E731
    p = {"U_xz": w(D, Z), "W_hz": w(H, Z), "b_z": np.zeros(Z), "W_zh": w(Z, H), "b_h": np.zeros(H),
         "V_hq": w(H, Q), "b_q": np.zeros(Q), "V_qo": w(Q, K), "b_y": np.zeros(K)}
    if skip:
        p["W_hh"] = w(H, H)
    return p


def _dt_params(params, skip, D):
    p = check_params(params, DEEP_TRANSITION + (("W_hh",) if skip else ()))
    Z = as_float_array("params['U_xz']", p["U_xz"], shape=(D, None)).shape[1]
    H = as_float_array("params['W_zh']", p["W_zh"], shape=(Z, None)).shape[1]
    Q = as_float_array("params['V_hq']", p["V_hq"], shape=(H, None)).shape[1]
    K = as_float_array("params['V_qo']", p["V_qo"], shape=(Q, None)).shape[1]
    shapes = {"W_hz": (H, Z), "b_z": (Z,), "b_h": (H,), "b_q": (Q,), "b_y": (K,), "W_hh": (H, H)}
    for k, shape in shapes.items():
        if k in p:
            as_float_array(f"params[{k!r}]", p[k], shape=shape)
    return p, Z, H, Q, K


def deep_transition_forward(x, h0, params, skip=False):
    """Deep transition RNN (b), or with skip=True the deep transition with a skip connection (c).

    Inputs:
    - x: (T, B, D) inputs; h0: (B, H) initial state
    - params: the dict of init_deep_transition (with W_hh (H, H) when skip)
    - skip: False for (b), True for (c)

    Returns a tuple of:
    - o: (T, B, K) logits
    - cache: DTCache (x, h0, params, z (T, B, Z), h (T, B, H), q (T*B, Q), skip); the hidden states are cache.h

    Derived in book/10_deep.md, section "Three ways to add depth" (b), (c).
    """
    x = as_float_array("x", x, ndim=3)
    T, B, D = x.shape
    p, Z, H, Q, K = _dt_params(params, bool(skip), D)
    h0 = as_float_array("h0", h0, shape=(B, H))
    # The input's share of z does not depend on the recurrence: one matmul for all T steps.
    z = (x.reshape(T * B, D) @ p["U_xz"]).reshape(T, B, Z)
    z += p["b_z"]
    h = np.empty((T, B, H), dtype=z.dtype)
    W_prev = np.concatenate([p["W_hz"], p["W_hh"]], axis=1) if skip else p["W_hz"]  # h_{t-1} feeds both
    W_zh, b_h = p["W_zh"], p["b_h"]
    prev = h0
    for t in range(T):
        r = prev @ W_prev
        z[t] += r[:, :Z]
        np.tanh(z[t], out=z[t])
        np.matmul(z[t], W_zh, out=h[t])
        h[t] += b_h
        if skip:
            h[t] += r[:, Z:]
        np.tanh(h[t], out=h[t])
        prev = h[t]
    q = np.tanh(h.reshape(T * B, H) @ p["V_hq"] + p["b_q"])
    o = (q @ p["V_qo"]).reshape(T, B, K) + p["b_y"]
    return o, DTCache(x, h0, p, z, h, q, bool(skip))


def deep_transition_backward(do, cache):
    """Backward through the deep output, then BPTT through the two-layer transition (both pre-activations of a
    step are reached from h_{t-1}).

    Inputs:
    - do: (T, B, K) upstream gradient on the logits
    - cache: the DTCache returned by deep_transition_forward (anything else is a ValueError)

    Returns a tuple of:
    - dx: (T, B, D); dh0: (B, H)
    - grads: a dict keyed like params, each gradient shaped like its parameter

    Derived in book/10_deep.md, section "Three ways to add depth" (b), (c).
    """
    x, h0, p, z, h, q, skip = cache_of(cache, DTCache, "deep_transition_forward")
    T, B, D = x.shape
    Z, H, K = z.shape[2], h.shape[2], p["b_y"].shape[0]
    do = as_float_array("do", do, shape=(T, B, K))
    do2 = do.reshape(T * B, K)
    daq = (do2 @ p["V_qo"].T) * (1.0 - q * q)
    h2 = h.reshape(T * B, H)
    g = {"V_qo": q.T @ do2, "b_y": do2.sum(axis=0), "V_hq": h2.T @ daq, "b_q": daq.sum(axis=0)}
    dh_out = (daq @ p["V_hq"].T).reshape(T, B, H)
    # d[t] = [dL/d(pre-activation of z_t), dL/d(pre-activation of h_t)]: both are reached from h_{t-1}.
    d = np.empty((T, B, Z + H), dtype=dh_out.dtype)
    daz, dah = d[:, :, :Z], d[:, :, Z:]
    W_prev_T = (np.concatenate([p["W_hz"], p["W_hh"]], axis=1) if skip else p["W_hz"]).T
    W_zh_T = p["W_zh"].T
    dnext = np.zeros((B, H), dtype=d.dtype)
    for t in range(T - 1, -1, -1):
        np.add(dh_out[t], dnext, out=dah[t])
        dah[t] *= 1.0 - h[t] * h[t]
        np.matmul(dah[t], W_zh_T, out=daz[t])
        daz[t] *= 1.0 - z[t] * z[t]
        dnext = (d[t] if skip else daz[t]) @ W_prev_T
    h_prev = np.concatenate([h0[None], h[:-1]]).reshape(T * B, H)
    daz2, dah2 = daz.reshape(T * B, Z), dah.reshape(T * B, H)
    g["U_xz"] = x.reshape(T * B, D).T @ daz2
    g["W_hz"] = h_prev.T @ daz2
    g["b_z"] = daz2.sum(axis=0)
    g["W_zh"] = z.reshape(T * B, Z).T @ dah2
    g["b_h"] = dah2.sum(axis=0)
    if skip:
        g["W_hh"] = h_prev.T @ dah2
    dx = (daz2 @ p["U_xz"].T).reshape(T, B, D)
    return dx, dnext, {k: g[k] for k in p}


def deep_transition_loss(x, h0, params, y, skip=False):
    """Cross-entropy of the deep-transition RNN's logits against y (T, B) ints (summed over time, averaged
    over the batch). x (T, B, D), h0 (B, H), params and skip as in deep_transition_forward.
    Returns (loss, a float; grads, a dict keyed like params). Derived in book/10_deep.md, section "A task whose
    update is an XOR"."""
    o, cache = deep_transition_forward(x, h0, params, skip)
    T, B, K = o.shape
    y = as_targets("y", y, (T, B), K)
    loss, do = softmax_cross_entropy(o, y)
    return loss, deep_transition_backward(do, cache)[2]


# ------------------------------------------------------------------------------------------------ a stacked model
def init_stacked(D, H, K, L, seed=0):
    """Parameters for stacked_loss: L stacked vanilla RNN layers of H units and an output layer on the top one.
    Keys U0 (D, H), W0 (H, H), b0 (H,), then U1 (H, H), W1, b1, ... up to layer L-1, V_ho (H, K), b_y (K,).
    Weights N(0, 1/fan_in), biases zero; seed for numpy's default_rng.
    Derived in book/10_deep.md, section "Three ways to add depth" (a)."""
    for name, v in (("D", D), ("H", H), ("K", K), ("L", L)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
            raise ValueError(f"{name}: expected a positive int, got {v!r}")
    rng = np.random.default_rng(seed)
    w = lambda m, n: rng.standard_normal((m, n)) / np.sqrt(m)  # noqa: E731
    p = {}
    for l in range(L):
        p[f"U{l}"], p[f"W{l}"], p[f"b{l}"] = w(D if l == 0 else H, H), w(H, H), np.zeros(H)
    p["V_ho"], p["b_y"] = w(H, K), np.zeros(K)
    return p


def _stacked_params(params):
    if not isinstance(params, dict) or "W0" not in params:
        raise ValueError("params: expected a dict with keys U0, W0, b0, ..., V_ho, b_y (see init_stacked)")
    L = 0
    while f"W{L}" in params:
        L += 1
    names = tuple(f"{k}{l}" for l in range(L) for k in "UWb") + ("V_ho", "b_y")
    return check_params(params, names), L


def stacked_predict(x, params):
    """Logits of the stacked model at every step, from zero states: x (T, B, D), params as in init_stacked
    -> o (T, B, K). Derived in book/10_deep.md, section "Three ways to add depth" (a)."""
    return _stacked_run(x, params)[0]


def _stacked_run(x, params):
    p, L = _stacked_params(params)
    x = as_float_array("x", x, ndim=3)
    H = p["W0"].shape[0]
    layers = [(p[f"U{l}"], p[f"W{l}"], p[f"b{l}"]) for l in range(L)]
    h, cache = stacked_rnn_forward(x, np.zeros((L, x.shape[1], H), dtype=x.dtype), layers)
    if p["V_ho"].shape[0] != H or p["b_y"].shape != (p["V_ho"].shape[1],):
        raise ValueError(f"params: V_ho must be ({H}, K) and b_y (K,), got {p['V_ho'].shape}, {p['b_y'].shape}")
    return h @ p["V_ho"] + p["b_y"], (p, L, h, cache)


def stacked_loss(x, params, y):
    """Aligned many-to-many with a stacked RNN: cross-entropy of stacked_predict's logits against y (T, B) ints,
    summed over time, averaged over the batch. x (T, B, D), params as in init_stacked, y (T, B).
    Returns (loss, a float; grads, a dict keyed like params). Derived in book/10_deep.md, section "Three ways to
    add depth" (a), eq. eq-10-stacked."""
    o, (p, L, h, cache) = _stacked_run(x, params)
    T, B, K = o.shape
    loss, do = softmax_cross_entropy(o, as_targets("y", y, (T, B), K))
    _, _, dlayers = stacked_rnn_backward(do @ p["V_ho"].T, cache)
    H = h.shape[2]
    g = {"V_ho": h.reshape(-1, H).T @ do.reshape(-1, K), "b_y": do.sum((0, 1))}
    for l, (dU, dW, db) in enumerate(dlayers):
        g[f"U{l}"], g[f"W{l}"], g[f"b{l}"] = dU, dW, db
    return loss, g


# ------------------------------------------------------------------------------------------------ path lengths
DEEP_VARIANTS = ("stacked", "deep transition", "skip")


def unrolled_edges(variant, steps, layers=2):
    """The edges (a, b) of an unrolled deep RNN over time steps 0 .. steps-1; each edge is one affine map and a
    nonlinearity. Nodes are (name, t): ("x", t), ("h1", t) ... ("h<layers>", t), ("o", t) for "stacked";
    ("x", t), ("z", t), ("h", t), ("q", t), ("o", t) for "deep transition" and "skip" (which adds h_{t-1} -> h_t).
    Returns a list of ((name, t), (name, t)) pairs. Derived in book/10_deep.md, section "Path lengths through
    time"."""
    if variant not in DEEP_VARIANTS:
        raise ValueError(f"variant: expected one of {', '.join(DEEP_VARIANTS)}, got {variant!r}")
    for name, v in (("steps", steps), ("layers", layers)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name}: expected an int >= 1, got {v!r}")
    E = []
    for t in range(steps):
        if variant == "stacked":
            E += [(("x", t), ("h1", t))] + [((f"h{l}", t), (f"h{l + 1}", t)) for l in range(1, layers)]
            E += [((f"h{layers}", t), ("o", t))]
            if t:
                E += [((f"h{l}", t - 1), (f"h{l}", t)) for l in range(1, layers + 1)]
        else:
            E += [(("x", t), ("z", t)), (("z", t), ("h", t)), (("h", t), ("q", t)), (("q", t), ("o", t))]
            if t:
                E += [(("h", t - 1), ("z", t))]
                if variant == "skip":
                    E += [(("h", t - 1), ("h", t))]
    return E


def path_lengths(edges, src, dst):
    """(shortest, longest) number of edges on a path from src to dst in the acyclic graph `edges` (a list of
    (a, b) pairs), by breadth-first search and by a memoised longest-path search; (None, None) if no path.
    Derived in book/10_deep.md, section "Path lengths through time"."""
    if not isinstance(edges, (list, tuple)) or not all(isinstance(e, tuple) and len(e) == 2 for e in edges):
        raise ValueError("edges: expected a list of (a, b) node pairs")
    succ = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
    dist, frontier = {src: 0}, [src]
    while frontier:
        nxt = []
        for a in frontier:
            for b in succ.get(a, []):
                if b not in dist:
                    dist[b] = dist[a] + 1
                    nxt.append(b)
        frontier = nxt
    if dst not in dist:
        return None, None
    longest = {}                                    # memoised: the longest path from a node to dst
    def far(a):
        if a == dst:
            return 0
        if a not in longest:
            longest[a] = max([far(b) + 1 for b in succ.get(a, [])] + [-10 ** 9])
        return longest[a]
    return dist[dst], far(src)
