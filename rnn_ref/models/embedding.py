"""Embeddings, word-level vocabularies, and a language model that uses both.

An embedding is a learned table E (V, d): token k is represented by the row E[k]. one_hot(k) @ E picks out
that row, so the book's x_t @ U_xh with one-hot inputs is a lookup; embedding_forward does the lookup without
building the (T, B, V) one-hot array, and embedding_backward adds each upstream gradient into the row it came
from (a row used twice collects both).

embedding_lm_loss is the language model of chapter 6 with an embedding in front, a mask for padding
(rnn_ref.masking), dropout on the non-recurrent connections (rnn_ref.dropout) and optional weight tying:
params E (V, d), U_xh (d, H), W_hh (H, H), b (H,), V_ho (H, V), b_y (V,); without the key V_ho the output
layer is tied to the embedding, o_t = h_t @ E.T + b_y (Press and Wolf, 2017; Inan et al., 2017), which
needs d == H.
"""
from collections import Counter, namedtuple
import re

import numpy as np

from .._validate import as_float_array, as_targets, cache_of, check_params
from ..training.dropout import dropout_backward, dropout_forward
from .masking import _mask, masked_rnn_backward, masked_rnn_forward, masked_softmax_cross_entropy
from ..cells.rnn import rnn_backward, rnn_forward

EmbeddingCache = namedtuple("EmbeddingCache", "idx V")      # the indices looked up and the vocabulary size
PAD, UNK = 0, 1                       # the two special tokens every word vocabulary starts with
SPECIALS = ("<pad>", "<unk>")
_WORD = re.compile(r"[a-z0-9_]+|[^\sa-z0-9_]")


def embedding_forward(idx, E):
    """Look up rows: idx (any shape, ints in [0, V)), E (V, d) -> out idx.shape + (d,), cache.

    Equal to one_hot(idx, V) @ E, without the one-hot array.
    Derived in book/06b_embeddings.md, section "One-hot times a matrix is a lookup"."""
    E = as_float_array("E", E, ndim=2)
    idx = np.asarray(idx)
    if idx.size == 0:
        raise ValueError(f"idx: expected a non-empty array of token indices, got shape {idx.shape}")
    idx = as_targets("idx", idx, idx.shape, E.shape[0])
    return E[idx], EmbeddingCache(idx, E.shape[0])


def embedding_backward(dout, cache):
    """dout idx.shape + (d,) -> dE (V, d): dE[k] is the sum of dout over every position where idx == k.
    Derived in book/06b_embeddings.md, section "One-hot times a matrix is a lookup"."""
    idx, V = cache_of(cache, EmbeddingCache, "embedding_forward")
    dout = as_float_array("dout", dout, ndim=idx.ndim + 1)
    if dout.shape[:-1] != idx.shape:
        raise ValueError(f"dout: expected shape {idx.shape + ('d',)}, got {dout.shape}")
    dE = np.zeros((V, dout.shape[-1]), dtype=np.result_type(dout, np.float64))
    np.add.at(dE, idx.ravel(), dout.reshape(-1, dout.shape[-1]))   # += would keep only one of repeated rows
    return dE


# ------------------------------------------------------------------ words

def tokenize_words(text):
    """Lower-case words (runs of letters, digits, _) and single punctuation marks: "Don't stop." ->
    ['don', "'", 't', 'stop', '.']. Returns a list of str.
    Derived in book/06b_embeddings.md, section "Words, and the vocabulary you keep"."""
    if not isinstance(text, str):
        raise ValueError(f"text: expected a str, got {type(text).__name__}")
    return _WORD.findall(text.lower())


def make_word_vocab(tokens, max_size=None, min_count=1):
    """The vocabulary: ['<pad>', '<unk>'] followed by the words of tokens from the most frequent down
    (ties alphabetical), keeping words seen at least min_count times and at most max_size entries in all
    (specials included). Index PAD = 0 pads batches, UNK = 1 stands for every word left out.
    Derived in book/06b_embeddings.md, section "Words, and the vocabulary you keep"."""
    if not isinstance(tokens, (list, tuple)) or not tokens or not all(isinstance(t, str) for t in tokens):
        raise ValueError("tokens: expected a non-empty list of str (from tokenize_words)")
    if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, (int, np.integer))
                                 or max_size <= len(SPECIALS)):
        raise ValueError(f"max_size: expected an int > {len(SPECIALS)} or None, got {max_size!r}")
    if isinstance(min_count, bool) or not isinstance(min_count, (int, np.integer)) or min_count < 1:
        raise ValueError(f"min_count: expected a positive int, got {min_count!r}")
    counts = Counter(t for t in tokens if t not in SPECIALS)
    words = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    if max_size is not None:
        words = words[:max_size - len(SPECIALS)]
    return list(SPECIALS) + words


def encode_words(tokens, vocab):
    """list of str -> (N,) int64 indices into vocab; words not in it become UNK.
    Derived in book/06b_embeddings.md, section "Words, and the vocabulary you keep"."""
    if not isinstance(tokens, (list, tuple)):
        raise ValueError(f"tokens: expected a list of str, got {type(tokens).__name__}")
    if not isinstance(vocab, (list, tuple)) or tuple(vocab[:2]) != SPECIALS:
        raise ValueError("vocab: expected a list starting with '<pad>', '<unk>' (from make_word_vocab)")
    ix = {w: i for i, w in enumerate(vocab)}
    return np.fromiter((ix.get(t, UNK) for t in tokens), dtype=np.int64, count=len(tokens))


# ------------------------------------------------------------------ the model

LM_KEYS = ("E", "U_xh", "W_hh", "b", "b_y")


def init_embedding_lm(V, d, H, seed=0, tied=False):
    """Parameters for embedding_lm_loss: E (V, d) ~ N(0, 0.1^2); U_xh (d, H), W_hh (H, H), V_ho (H, V) ~
    U(-1/sqrt(H), 1/sqrt(H)); zero biases b (H,), b_y (V,). tied=True leaves out V_ho (needs d == H).
    Derived in book/06b_embeddings.md, section "A small word-level language model", and
    book/10b_regularisation.md, section "Weight tying"."""
    for name, v in (("V", V), ("d", d), ("H", H)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
            raise ValueError(f"{name}: expected a positive int, got {v!r}")
    if tied and d != H:
        raise ValueError(f"d: a tied output layer needs d == H, got d={d}, H={H}")
    rng = np.random.default_rng(seed)
    s = 1.0 / np.sqrt(H)
    p = {"E": rng.standard_normal((V, d)) * 0.1, "U_xh": rng.uniform(-s, s, (d, H)),
         "W_hh": rng.uniform(-s, s, (H, H)), "b": np.zeros(H)}
    if not tied:
        p["V_ho"] = rng.uniform(-s, s, (H, V))
    p["b_y"] = np.zeros(V)
    return p


def embedding_lm_loss(params, inputs, targets, h0=None, mask=None, p_drop=0.0, rng=None, variational=True):
    """Loss, gradients and last states of the embedding language model (see the module docstring):

        x = E[inputs] -> dropout -> masked RNN -> dropout -> o = h @ V_ho + b_y (or h @ E.T + b_y) -> loss

    inputs, targets (T, B) ints in [0, V); h0 (B, H) or None for zeros; mask (T, B) 0/1 or None (all real).
    The loss is the mean cross-entropy over the real tokens (masked_softmax_cross_entropy). p_drop: dropout
    probability on the inputs and on the outputs of the RNN (0: none, the evaluation mode); rng: a Generator or
    an int seed for the masks; variational=True uses one mask per sequence for all time steps.
    Returns (loss, grads dict keyed like params, h_last (B, H): the state after each sequence's last real step).
    Derived in book/06b_embeddings.md, section "A small word-level language model", and
    book/10b_regularisation.md, sections "Dropout, and where it may go in an RNN" and "Weight tying".
    """
    tied = isinstance(params, dict) and "V_ho" not in params
    p = check_params(params, LM_KEYS if tied else LM_KEYS + ("V_ho",))
    V, d = p["E"].shape
    H = p["W_hh"].shape[0]
    W_out = p["E"].T if tied else p["V_ho"]
    if W_out.shape != (H, V):
        raise ValueError(f"params: the output layer must be (H, V) = {(H, V)}, got {W_out.shape}"
                         + (" (tied to E.T: needs d == H)" if tied else ""))
    inputs = np.asarray(inputs)
    if inputs.ndim != 2 or inputs.size == 0:
        raise ValueError(f"inputs: expected a non-empty (T, B) array of token indices, got shape {inputs.shape}")
    T, B = inputs.shape
    targets = as_targets("targets", targets, (T, B), V)
    m = np.ones((T, B)) if mask is None else _mask(mask, (T, B))
    h0 = np.zeros((B, H)) if h0 is None else as_float_array("h0", h0, shape=(B, H))
    if isinstance(p_drop, bool) or not isinstance(p_drop, (int, float, np.integer, np.floating)) \
            or not 0 <= p_drop < 1:
        raise ValueError(f"p_drop: expected a dropout probability in [0, 1), got {p_drop!r}")
    rng = np.random.default_rng(rng)
    x, e_cache = embedding_forward(inputs, p["E"])
    xd, d1 = dropout_forward(x, p_drop, rng, same_mask_over_time=variational)
    # without a mask, the plain RNN (faster) computes the same states
    rnn_f, rnn_b = (rnn_forward, rnn_backward) if mask is None else (masked_rnn_forward, masked_rnn_backward)
    h, r_cache = rnn_f(xd, h0, p["U_xh"], p["W_hh"], p["b"]) if mask is None else \
        rnn_f(xd, m, h0, p["U_xh"], p["W_hh"], p["b"])
    hd, d2 = dropout_forward(h, p_drop, rng, same_mask_over_time=variational)
    hd2 = hd.reshape(T * B, H)
    o = (hd2 @ W_out).reshape(T, B, V) + p["b_y"]
    loss, do = masked_softmax_cross_entropy(o, targets, m)
    do2 = do.reshape(T * B, V)
    dW_out = hd2.T @ do2
    dh = dropout_backward((do2 @ W_out.T).reshape(T, B, H), d2)
    dxd, _, dU, dW, db = rnn_b(dh, r_cache)
    dE = embedding_backward(dropout_backward(dxd, d1), e_cache)
    grads = {"E": dE + dW_out.T if tied else dE, "U_xh": dU, "W_hh": dW, "b": db}
    if not tied:
        grads["V_ho"] = dW_out
    grads["b_y"] = do2.sum(axis=0)
    return loss, grads, h[-1].copy()
