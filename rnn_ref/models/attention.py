"""Additive attention (Bahdanau, Cho and Bengio, 2015) and an encoder-decoder that uses it.

One attention step reads a decoder state s (B, H_dec) and every encoder state h_enc (T_in, B, H_enc),
time-major, and returns a context vector, a weighted average of the encoder states:

    a_j     = tanh(s @ W_s + h_j @ W_h)        (B, A)      W_s (H_dec, A), W_h (H_enc, A)
    e_j     = a_j @ v                          (B,)        v (A,): the score of encoder position j
    alpha   = softmax(e) over j (axis 0)       (T_in, B)   each column sums to 1 over the input positions
    context = sum_j alpha_j h_j                (B, H_enc)

The attention encoder-decoder is chapter 8's encoder-decoder (an RNN encoder whose final state starts an RNN
decoder that reads the previous target tokens y_in, teacher forcing; the vanilla RNN by default, any registered
cell with cell=...) plus, at every output step t,
the context c_t of the decoder state s_t, which joins s_t in the output layer (the score is Bahdanau's, the
place where the context enters is Luong et al.'s, 2015):

    o_t = s_t @ V_ho + c_t @ V_co + b_y

Parameters (H the hidden size of both RNNs, A the attention size, K the number of output tokens), with the rnn
(another cell: attention_encoder_decoder_keys(cell), its own encoder and decoder parameters):
    U_enc (D, H), W_enc (H, H), b_enc (H,)     the encoder reads x (T_in, B, D)
    U_dec (K, H), W_dec (H, H), b_dec (H,)     the decoder reads one-hot tokens y_in (T_out, B)
    W_s (H, A), W_h (H, A), v (A,)             the attention's score
    V_ho (H, K), V_co (H, K), b_y (K,)         the output layer
"""
from collections import namedtuple

import numpy as np

from .._validate import as_float_array, as_targets, cache_of, check_params
from ..cells.registry import get_cell
from .architectures import _generation_args, _tokens, encoder_decoder_keys, final_state, final_state_backward
from .charlm import one_hot
from ..training.loss import softmax_cross_entropy

# one step: its inputs, a (T_in, B, A) the tanh layer, alpha (T_in, B) the weights
AttentionCache = namedtuple("AttentionCache", "s h_enc W_s W_h v a alpha")
# the model: the Cell, params, both RNNs' caches, h_enc (T_in, B, H), s (T_out, B, H) the decoder states,
# ctx (T_out, B, H) the contexts, steps the AttentionCache of every output step
ModelCache = namedtuple("ModelCache", "cell p enc_cache dec_cache h_enc s ctx steps")


# ------------------------------------------------------------------------------------------------ one step
def _attend(s, h_enc, hW, W_s, W_h, v):
    """The attention step with hW = h_enc @ W_h already computed (T_in, B, A): the model computes it once
    per sequence and reuses it at every output step."""
    a = np.tanh(hW + s @ W_s)                       # (T_in, B, A): s @ W_s (B, A) broadcasts over positions
    e = a @ v                                       # (T_in, B) scores
    e = e - e.max(axis=0)                           # softmax over the input positions, axis 0
    w = np.exp(e)
    alpha = w / w.sum(axis=0)
    context = (alpha[:, :, None] * h_enc).sum(axis=0)   # the weighted average of the encoder states
    return context, alpha, AttentionCache(s, h_enc, W_s, W_h, v, a, alpha)


def additive_attention_forward(s, h_enc, W_s, W_h, v):
    """One step of additive attention (the module docstring's four lines).

    Inputs: s (B, H_dec) the decoder state; h_enc (T_in, B, H_enc) the encoder states; W_s (H_dec, A),
    W_h (H_enc, A), v (A,) the score's parameters.
    Returns a tuple of:
    - context: (B, H_enc) the weighted average of the encoder states
    - alpha: (T_in, B) the weights, a softmax over the T_in input positions
    - cache: AttentionCache (the inputs, a (T_in, B, A), alpha) for additive_attention_backward
    Derived in book/13_attention.md, section "Additive attention"."""
    h_enc = as_float_array("h_enc", h_enc, ndim=3)
    T_in, B, H_enc = h_enc.shape
    s = as_float_array("s", s, shape=(B, None))
    W_s = as_float_array("W_s", W_s, shape=(s.shape[1], None))
    A = W_s.shape[1]
    W_h = as_float_array("W_h", W_h, shape=(H_enc, A))
    v = as_float_array("v", v, shape=(A,))
    return _attend(s, h_enc, h_enc @ W_h, W_s, W_h, v)


def additive_attention_backward(dcontext, cache):
    """Inputs: dcontext (B, H_enc) = dL/dcontext; cache the AttentionCache of additive_attention_forward.
    Returns ds (B, H_dec), dh_enc (T_in, B, H_enc), dW_s (H_dec, A), dW_h (H_enc, A), dv (A,).
    Derived in book/13_attention.md, section "The backward pass".

    The encoder states get two gradients: directly, as the vectors the context averages (alpha_j * dcontext),
    and through the scores."""
    s, h_enc, W_s, W_h, v, a, alpha = cache_of(cache, AttentionCache, "additive_attention_forward")
    T_in, B, H_enc = h_enc.shape
    A = v.shape[0]
    dcontext = as_float_array("dcontext", dcontext, shape=(B, H_enc))
    ds, dh_enc, dW_s, dz, dv = _attend_backward(dcontext, cache)
    dz2 = dz.reshape(T_in * B, A)
    dh_enc += (dz2 @ W_h.T).reshape(T_in, B, H_enc)                 # through the scores' h_j @ W_h
    return ds, dh_enc, dW_s, h_enc.reshape(T_in * B, H_enc).T @ dz2, dv


def _attend_backward(dcontext, cache):
    """All of the backward step but the two products with W_h: ds, the direct part of dh_enc, dW_s, dz (the
    gradient of s @ W_s + h_j @ W_h, (T_in, B, A)) and dv."""
    s, h_enc, W_s, W_h, v, a, alpha = cache
    A = v.shape[0]
    dalpha = (h_enc * dcontext).sum(axis=2)                         # dL/dalpha_j = dcontext . h_j
    de = alpha * (dalpha - (alpha * dalpha).sum(axis=0))            # through the softmax over axis 0
    dz = (de[:, :, None] * v) * (1.0 - a * a)                       # (T_in, B, A), through v and tanh
    dzs = dz.sum(axis=0)                                            # s @ W_s is shared by every position
    dh_direct = alpha[:, :, None] * dcontext                        # the context averages the h_j themselves
    dv = a.reshape(-1, A).T @ de.reshape(-1)
    return dzs @ W_s.T, dh_direct, s.T @ dzs, dz, dv


# ------------------------------------------------------------------------------------------------ the model
def attention_encoder_decoder_keys(cell="rnn"):
    """The parameter keys with `cell`: the encoder's and the decoder's (encoder_decoder_keys' rule), then W_s, W_h,
    v, V_ho, V_co, b_y. Returns a tuple of strings.
    The model: book/13_attention.md, section "An encoder-decoder that attends"."""
    return encoder_decoder_keys(cell)[:-2] + ("W_s", "W_h", "v", "V_ho", "V_co", "b_y")


def _model_params(params, c):
    """The checked dict, the encoder's and decoder's parameter tuples, and D, H, K."""
    keys = attention_encoder_decoder_keys(c)
    p = check_params(params, keys)
    n = len(c.params)
    enc, dec = keys[:n], keys[n:2 * n]
    H = as_float_array(f"params[{enc[1]!r}]", p[enc[1]], ndim=2).shape[0]
    K = as_float_array(f"params[{dec[0]!r}]", p[dec[0]], ndim=2).shape[0]
    A = as_float_array("params['W_s']", p["W_s"], shape=(H, None)).shape[1]
    D = as_float_array(f"params[{enc[0]!r}]", p[enc[0]], ndim=2).shape[0]
    shapes = [*zip(enc, c.param_shapes(D, H).values()), *zip(dec, c.param_shapes(K, H).values()),
              ("W_h", (H, A)), ("v", (A,)), ("V_ho", (H, K)), ("V_co", (H, K)), ("b_y", (K,))]
    for k, shape in shapes:
        as_float_array(f"params[{k!r}]", p[k], shape=shape)
    return p, tuple(p[k] for k in enc), tuple(p[k] for k in dec), D, H, K


def init_attention_encoder_decoder(D, H, K, A, seed=0, cell="rnn"):
    """Parameters for the attention encoder-decoder (keys attention_encoder_decoder_keys(cell)), drawn from
    U(-1/sqrt(H), 1/sqrt(H)) as PyTorch draws an RNN's. With the rnn the biases b_enc, b_dec start at zero;
    another cell's two RNNs come from its Cell.init_params. b_y starts at zero.
    Inputs: D input size, H hidden size, K tokens, A attention size, seed for numpy's default_rng, cell a
    registered cell name. Returns the dict: encoder (input weight (D, G*H), ...), decoder (input weight (K, G*H),
    ...), W_s (H, A), W_h (H, A), v (A,), V_ho (H, K), V_co (H, K), b_y (K,).
    Derived in book/13_attention.md, section "An encoder-decoder that attends"."""
    c = get_cell(cell)
    for name, n in (("D", D), ("H", H), ("K", K), ("A", A)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(f"{name}: expected a positive int, got {n!r}")
    rng = np.random.default_rng(seed)
    u = lambda *shape: rng.uniform(-1 / np.sqrt(H), 1 / np.sqrt(H), size=shape)  # noqa: E731
    # the plain encoder-decoder's weights first, so that init_encoder_decoder(D, H, K, seed) draws the same ones
    if c.name == "rnn":
        p = {"U_enc": u(D, H), "W_enc": u(H, H), "U_dec": u(K, H), "W_dec": u(H, H),
             "b_enc": np.zeros(H), "b_dec": np.zeros(H)}
    else:
        weights = [*c.init_params(D, H, rng).values(), *c.init_params(K, H, rng).values()]
        p = dict(zip(encoder_decoder_keys(c), weights))
    p["V_ho"] = u(H, K)
    p.update(W_s=u(H, A), W_h=u(H, A), v=u(A), V_co=u(H, K), b_y=np.zeros(K))
    return {k: p[k] for k in attention_encoder_decoder_keys(c)}


def init_encoder_decoder(D, H, K, seed=0, cell="rnn"):
    """Parameters for chapter 8's plain encoder-decoder (rnn_ref.encoder_decoder_forward), keys
    encoder_decoder_keys(cell), drawn like init_attention_encoder_decoder's: the same seed gives the same encoder,
    decoder and V_ho. Returns the dict: encoder (input weight (D, G*H), recurrent (H, G*H), biases), decoder
    (input weight (K, G*H), ...), V_ho (H, K), b_y (K,).
    Derived in book/08_shapes.md, section "Many-to-many with a delay: the encoder-decoder"."""
    p = init_attention_encoder_decoder(D, H, K, 1, seed, cell)
    return {k: p[k] for k in encoder_decoder_keys(cell)}


def attention_encoder_decoder_forward(x, y_in, h0, params, cell="rnn"):
    """The encoder-decoder that attends: o_t = s_t @ V_ho + c_t @ V_co + b_y, c_t the context of s_t.

    Inputs: x (T_in, B, D) floats; y_in (T_out, B) ints in [0, K), the previous target tokens (teacher forcing);
    h0 the encoder's initial state, (B, H) or (h0, c0) for the LSTM; params (see the module's docstring and
    init_attention_encoder_decoder); cell a registered cell name.
    Returns a tuple of:
    - o: (T_out, B, K) logits
    - alpha: (T_out, T_in, B) the attention weights of every output step
    - cache: ModelCache (see its comment) for attention_encoder_decoder_backward
    Derived in book/13_attention.md, section "An encoder-decoder that attends"."""
    c = get_cell(cell)
    p, enc, dec, D, H, K = _model_params(params, c)
    x = as_float_array("x", x, shape=(None, None, D))
    T_in, B, _ = x.shape
    y_in = _tokens("y_in", y_in, K, B)
    h_enc, enc_cache = c.run_forward(x, h0, enc, ("h0", "params"))
    s, dec_cache = c.run_forward(one_hot(y_in, K), final_state(c, h_enc, enc_cache), dec)
    T_out = s.shape[0]
    hW = h_enc @ p["W_h"]                                   # the same for every output step: computed once
    ctx, alpha, steps = np.empty((T_out, B, H)), np.empty((T_out, T_in, B)), []
    for t in range(T_out):
        ctx[t], alpha[t], a = _attend(s[t], h_enc, hW, p["W_s"], p["W_h"], p["v"])
        steps.append(a)
    o = s @ p["V_ho"] + ctx @ p["V_co"] + p["b_y"]
    return o, alpha, ModelCache(c, p, enc_cache, dec_cache, h_enc, s, ctx, steps)


def attention_encoder_decoder_backward(do, cache):
    """Backward through the output layer, every attention step, the decoder and the encoder (whose states get
    the attention's gradient at every step and the decoder's at the final one).

    Inputs: do (T_out, B, K) = dL/dlogits; cache the ModelCache of attention_encoder_decoder_forward (anything
    else is a ValueError).
    Returns dx (T_in, B, D), dh0 (the initial state's gradient in its form, (B, H) or (dh0, dc0)), grads (a
    dict keyed like params, shaped like them).
    Derived in book/13_attention.md, sections "The backward pass" and "An encoder-decoder that attends"."""
    c, p, enc_cache, dec_cache, h_enc, s, ctx, steps = cache_of(cache, ModelCache,
                                                               "attention_encoder_decoder_forward")
    T_out, B, H = s.shape
    T_in = h_enc.shape[0]
    K = p["b_y"].shape[0]
    do = as_float_array("do", do, shape=(T_out, B, K))
    do2, s2, ctx2 = do.reshape(T_out * B, K), s.reshape(T_out * B, H), ctx.reshape(T_out * B, H)
    g = {"V_ho": s2.T @ do2, "V_co": ctx2.T @ do2, "b_y": do2.sum(axis=0)}
    ds = (do2 @ p["V_ho"].T).reshape(T_out, B, H)
    dctx = (do2 @ p["V_co"].T).reshape(T_out, B, H)
    dh_enc, dz = np.zeros_like(h_enc), 0.0
    g["W_s"], g["v"] = np.zeros_like(p["W_s"]), np.zeros_like(p["v"])
    for t in range(T_out):                                  # every output step attends to every encoder state
        ds_t, dh_t, dW_s, dz_t, dv = _attend_backward(dctx[t], steps[t])
        ds[t] += ds_t
        dh_enc += dh_t
        dz = dz + dz_t
        g["W_s"] += dW_s
        g["v"] += dv
    # h_enc @ W_h is the same at every output step: sum its gradient over the steps (dz), then do the two
    # matrix products once instead of once per step
    dz2 = dz.reshape(T_in * B, -1)
    g["W_h"] = h_enc.reshape(T_in * B, H).T @ dz2
    dh_enc += (dz2 @ p["W_h"].T).reshape(T_in, B, H)
    _, ds0, dp_dec = c.run_backward(ds, dec_cache)
    # the decoder also starts from the encoder's final state
    dx, dh0, dp_enc = final_state_backward(c, ds0, h_enc, enc_cache, dh_enc)
    keys = attention_encoder_decoder_keys(c)
    g.update(zip(keys, dp_enc + dp_dec))
    return dx, dh0, {k: g[k] for k in keys}


def attention_encoder_decoder_loss(x, y_in, y_out, h0, params, cell="rnn"):
    """Cross-entropy of the logits against y_out (T_out, B) ints, summed over time and averaged over the batch;
    the other inputs as in attention_encoder_decoder_forward. Returns (loss, a float; grads, a dict keyed like
    params). Derived in book/13_attention.md, section "An encoder-decoder that attends"."""
    o, _, cache = attention_encoder_decoder_forward(x, y_in, h0, params, cell)
    loss, do = softmax_cross_entropy(o, as_targets("y_out", y_out, o.shape[:2], o.shape[2]))
    return loss, attention_encoder_decoder_backward(do, cache)[2]


# ------------------------------------------------------------------------------------------------ decoding
def attention_greedy_decode(x, h0, params, start, n, cell="rnn"):
    """Free-running greedy decoding: from the token `start`, each step reads the token it emitted last.

    Inputs: x (T_in, B, D); h0 the encoder's initial state ((B, H) or (h0, c0)); params and cell as in
    attention_encoder_decoder_forward; start a token in [0, K); n the number of tokens.
    Returns tokens (n, B) int64 and alpha (n, T_in, B), the attention weights of every output step.
    Derived in book/13_attention.md, section "Where the decoder looks"."""
    c = get_cell(cell)
    p, enc, dec, D, H, K = _model_params(params, c)
    x = as_float_array("x", x, shape=(None, None, D))
    _generation_args(n, start, K)
    h_enc, enc_cache = c.run_forward(x, h0, enc, ("h0", "params"))
    hW = h_enc @ p["W_h"]
    state = final_state(c, h_enc, enc_cache)
    state = tuple(state) if len(c.state) > 1 else (state,)
    tok, eye = np.full(x.shape[1], int(start)), np.eye(K)
    out = np.empty((n, x.shape[1]), dtype=np.int64)
    alpha = np.empty((n,) + h_enc.shape[:2])
    for t in range(n):
        state = c.step_forward(eye[tok], *state, *dec)[:-1]      # eye[tok]: the one-hot rows of the tokens
        ctx, alpha[t], _ = _attend(state[0], h_enc, hW, p["W_s"], p["W_h"], p["v"])
        tok = out[t] = np.argmax(state[0] @ p["V_ho"] + ctx @ p["V_co"] + p["b_y"], axis=1)
    return out, alpha
