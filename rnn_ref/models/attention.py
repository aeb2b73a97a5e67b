"""Additive attention (Bahdanau, Cho and Bengio, 2015) and an encoder-decoder that uses it.

One attention step reads a decoder state s (B, H_dec) and every encoder state h_enc (T_in, B, H_enc),
time-major, and returns a context vector, a weighted average of the encoder states:

    a_j     = tanh(s @ W_s + h_j @ W_h)        (B, A)      W_s (H_dec, A), W_h (H_enc, A)
    e_j     = a_j @ v                          (B,)        v (A,): the score of encoder position j
    alpha   = softmax(e) over j (axis 0)       (T_in, B)   each column sums to 1 over the input positions
    context = sum_j alpha_j h_j                (B, H_enc)

The attention encoder-decoder is chapter 8's encoder-decoder (a vanilla RNN encoder whose last state starts a
vanilla RNN decoder that reads the previous target tokens y_in, teacher forcing) plus, at every output step t,
the context c_t of the decoder state s_t, which joins s_t in the output layer (the score is Bahdanau's, the
place where the context enters is Luong et al.'s, 2015):

    o_t = s_t @ V_ho + c_t @ V_co + b_y

Parameters (H the hidden size of both RNNs, A the attention size, K the number of output tokens):
    U_enc (D, H), W_enc (H, H), b_enc (H,)     the encoder reads x (T_in, B, D)
    U_dec (K, H), W_dec (H, H), b_dec (H,)     the decoder reads one-hot tokens y_in (T_out, B)
    W_s (H, A), W_h (H, A), v (A,)             the attention's score
    V_ho (H, K), V_co (H, K), b_y (K,)         the output layer
"""
from collections import namedtuple

import numpy as np

from .._validate import as_float_array, as_targets, cache_of, check_params
from .architectures import ENCODER_DECODER
from .charlm import one_hot
from ..training.loss import softmax_cross_entropy
from ..cells.rnn import rnn_backward, rnn_forward

ATTENTION_ENCODER_DECODER = ("U_enc", "W_enc", "b_enc", "U_dec", "W_dec", "b_dec", "W_s", "W_h", "v",
                             "V_ho", "V_co", "b_y")

AttentionCache = namedtuple("AttentionCache", "s h_enc W_s W_h v a alpha")
ModelCache = namedtuple("ModelCache", "p enc_cache dec_cache s ctx steps")


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
    """One step of additive attention. s (B, H_dec) the decoder state, h_enc (T_in, B, H_enc) the encoder
    states, W_s (H_dec, A), W_h (H_enc, A), v (A,).

    Returns context (B, H_enc), alpha (T_in, B) (softmax over the T_in input positions), cache."""
    h_enc = as_float_array("h_enc", h_enc, ndim=3)
    T_in, B, H_enc = h_enc.shape
    s = as_float_array("s", s, shape=(B, None))
    W_s = as_float_array("W_s", W_s, shape=(s.shape[1], None))
    A = W_s.shape[1]
    W_h = as_float_array("W_h", W_h, shape=(H_enc, A))
    v = as_float_array("v", v, shape=(A,))
    return _attend(s, h_enc, h_enc @ W_h, W_s, W_h, v)


def additive_attention_backward(dcontext, cache):
    """dcontext (B, H_enc) is dL/dcontext -> ds (B, H_dec), dh_enc (T_in, B, H_enc), dW_s, dW_h, dv.

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
def _model_params(params):
    p = check_params(params, ATTENTION_ENCODER_DECODER)
    H = as_float_array("params['W_enc']", p["W_enc"], ndim=2).shape[0]
    K = as_float_array("params['U_dec']", p["U_dec"], shape=(None, H)).shape[0]
    A = as_float_array("params['W_s']", p["W_s"], shape=(H, None)).shape[1]
    D = as_float_array("params['U_enc']", p["U_enc"], shape=(None, H)).shape[0]
    for k, shape in (("W_enc", (H, H)), ("b_enc", (H,)), ("W_dec", (H, H)), ("b_dec", (H,)), ("W_h", (H, A)),
                     ("v", (A,)), ("V_ho", (H, K)), ("V_co", (H, K)), ("b_y", (K,))):
        as_float_array(f"params[{k!r}]", p[k], shape=shape)
    return p, D, H, K


def _tokens(name, y, K, B=None):
    y = np.asarray(y)
    if y.ndim != 2 or y.size == 0:
        raise ValueError(f"{name}: expected a non-empty (T_out, B) array of token indices, got shape {y.shape}")
    return as_targets(name, y, (y.shape[0], B if B is not None else y.shape[1]), K)


def init_attention_encoder_decoder(D, H, K, A, seed=0):
    """Parameters for the attention encoder-decoder (keys ATTENTION_ENCODER_DECODER), drawn from
    U(-1/sqrt(H), 1/sqrt(H)) as PyTorch draws an RNN's; the biases start at zero."""
    for name, n in (("D", D), ("H", H), ("K", K), ("A", A)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(f"{name}: expected a positive int, got {n!r}")
    rng = np.random.default_rng(seed)
    u = lambda *shape: rng.uniform(-1 / np.sqrt(H), 1 / np.sqrt(H), size=shape)  # noqa: E731
    # the plain encoder-decoder's weights first, so that init_encoder_decoder(D, H, K, seed) draws the same ones
    p = {"U_enc": u(D, H), "W_enc": u(H, H), "U_dec": u(K, H), "W_dec": u(H, H), "V_ho": u(H, K),
         "W_s": u(H, A), "W_h": u(H, A), "v": u(A), "V_co": u(H, K)}
    p["b_enc"], p["b_dec"], p["b_y"] = np.zeros(H), np.zeros(H), np.zeros(K)
    return {k: p[k] for k in ATTENTION_ENCODER_DECODER}


def init_encoder_decoder(D, H, K, seed=0):
    """Parameters for chapter 8's plain encoder-decoder (rnn_ref.encoder_decoder_forward), drawn like
    init_attention_encoder_decoder's: the same seed gives the same encoder, decoder and V_ho."""
    p = init_attention_encoder_decoder(D, H, K, 1, seed)
    # ENCODER_DECODER lists U_enc, W_enc, b_enc, U_dec, W_dec, b_dec, V_ho and the output bias, in this order
    return dict(zip(ENCODER_DECODER, [p[k] for k in ("U_enc", "W_enc", "b_enc", "U_dec", "W_dec", "b_dec",
                                                     "V_ho", "b_y")]))


def attention_encoder_decoder_forward(x, y_in, h0, params):
    """x (T_in, B, D) floats, y_in (T_out, B) the previous target tokens (teacher forcing), h0 (B, H) the
    encoder's initial state, params (see the module's docstring).

    Returns logits (T_out, B, K), alpha (T_out, T_in, B) (the attention weights of every output step), cache."""
    p, D, H, K = _model_params(params)
    x = as_float_array("x", x, shape=(None, None, D))
    T_in, B, _ = x.shape
    y_in = _tokens("y_in", y_in, K, B)
    h0 = as_float_array("h0", h0, shape=(B, H))
    h_enc, enc_cache = rnn_forward(x, h0, p["U_enc"], p["W_enc"], p["b_enc"])
    s, dec_cache = rnn_forward(one_hot(y_in, K), h_enc[-1], p["U_dec"], p["W_dec"], p["b_dec"])
    T_out = s.shape[0]
    hW = h_enc @ p["W_h"]                                   # the same for every output step: computed once
    ctx, alpha, steps = np.empty((T_out, B, H)), np.empty((T_out, T_in, B)), []
    for t in range(T_out):
        ctx[t], alpha[t], c = _attend(s[t], h_enc, hW, p["W_s"], p["W_h"], p["v"])
        steps.append(c)
    o = s @ p["V_ho"] + ctx @ p["V_co"] + p["b_y"]
    return o, alpha, ModelCache(p, enc_cache, dec_cache, s, ctx, steps)


def attention_encoder_decoder_backward(do, cache):
    """do (T_out, B, K) = dL/dlogits -> dx (T_in, B, D), dh0 (B, H), grads (a dict keyed like params)."""
    p, enc_cache, dec_cache, s, ctx, steps = cache_of(cache, ModelCache, "attention_encoder_decoder_forward")
    T_out, B, H = s.shape
    T_in = enc_cache.h.shape[0]
    K = p["b_y"].shape[0]
    do = as_float_array("do", do, shape=(T_out, B, K))
    do2, s2, ctx2 = do.reshape(T_out * B, K), s.reshape(T_out * B, H), ctx.reshape(T_out * B, H)
    g = {"V_ho": s2.T @ do2, "V_co": ctx2.T @ do2, "b_y": do2.sum(axis=0)}
    ds = (do2 @ p["V_ho"].T).reshape(T_out, B, H)
    dctx = (do2 @ p["V_co"].T).reshape(T_out, B, H)
    dh_enc, dz = np.zeros_like(enc_cache.h), 0.0
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
    g["W_h"] = enc_cache.h.reshape(T_in * B, H).T @ dz2
    dh_enc += (dz2 @ p["W_h"].T).reshape(T_in, B, H)
    _, dh_last, g["U_dec"], g["W_dec"], g["b_dec"] = rnn_backward(ds, dec_cache)
    dh_enc[-1] += dh_last                                   # the decoder also starts from the last state
    dx, dh0, g["U_enc"], g["W_enc"], g["b_enc"] = rnn_backward(dh_enc, enc_cache)
    return dx, dh0, {k: g[k] for k in ATTENTION_ENCODER_DECODER}


def attention_encoder_decoder_loss(x, y_in, y_out, h0, params):
    """Cross-entropy of the logits against y_out (T_out, B), summed over time and averaged over the batch:
    (loss, grads dict keyed like params)."""
    o, _, cache = attention_encoder_decoder_forward(x, y_in, h0, params)
    loss, do = softmax_cross_entropy(o, as_targets("y_out", y_out, o.shape[:2], o.shape[2]))
    return loss, attention_encoder_decoder_backward(do, cache)[2]


# ------------------------------------------------------------------------------------------------ decoding
def _decode_args(x, h0, n, start, K, D, H):
    x = as_float_array("x", x, shape=(None, None, D))
    h0 = as_float_array("h0", h0, shape=(x.shape[1], H))
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        raise ValueError(f"n: expected a positive int (the number of tokens), got {n!r}")
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or not 0 <= start < K:
        raise ValueError(f"start: expected a token index in [0, {K}), got {start!r}")
    return x, h0


def attention_greedy_decode(x, h0, params, start, n):
    """Free-running greedy decoding: from the token `start`, each step reads the token it emitted last.

    Returns tokens (n, B) int64 and alpha (n, T_in, B), the attention weights of every output step."""
    p, D, H, K = _model_params(params)
    x, h0 = _decode_args(x, h0, n, start, K, D, H)
    h_enc, _ = rnn_forward(x, h0, p["U_enc"], p["W_enc"], p["b_enc"])
    hW = h_enc @ p["W_h"]
    s, tok = h_enc[-1], np.full(x.shape[1], int(start))
    out = np.empty((n, x.shape[1]), dtype=np.int64)
    alpha = np.empty((n,) + h_enc.shape[:2])
    for t in range(n):
        s = np.tanh(p["U_dec"][tok] + s @ p["W_dec"] + p["b_dec"])     # onehot(tok) @ U_dec is a row lookup
        ctx, alpha[t], _ = _attend(s, h_enc, hW, p["W_s"], p["W_h"], p["v"])
        tok = out[t] = np.argmax(s @ p["V_ho"] + ctx @ p["V_co"] + p["b_y"], axis=1)
    return out, alpha
