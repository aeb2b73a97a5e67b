"""Decoding the character language model of chapter 6 (the params of rnn_ref.init_char_lm: U_xh (V, H),
W_hh (H, H), b (H,), V_ho (H, V) and the output bias (V,), whose key is charlm.PARAM_NAMES[-1]): scoring a
continuation, greedy and beam search, and the inputs of scheduled sampling.

Greedy decoding takes the most likely character at every step; beam search keeps the beam_width most likely
prefixes instead, and with beam_width = 1 it is greedy. Both look for the continuation y_1..y_n that maximises
log p(y_1..y_n | prefix) = sum_t log softmax(o_t)[y_t].

Exposure bias: trained with teacher forcing, the model always reads the true previous character; generating,
it reads its own. Scheduled sampling (Bengio et al., 2015) trains on inputs in which each true character is
replaced, with probability p_sample, by one the model samples itself (scheduled_sampling_inputs); the loss is
then the ordinary char_lm_loss on those inputs (no gradient flows through the sampling).
"""
import numpy as np

from .._validate import as_float_array, as_targets, check_params
from .charlm import PARAM_NAMES, char_inputs, one_hot, sample_index
from ..training.loss import log_softmax
from ..cells.rnn import rnn_forward

PARAMS = PARAM_NAMES                 # the char LM's keys, output bias last
_BY = PARAM_NAMES[-1]                 # the key of the output bias (follows any renaming in charlm)


def _count(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
        raise ValueError(f"{name}: expected a positive int, got {v!r}")
    return int(v)


def _prime(p, prefix, h0):
    """The state after reading prefix (a non-empty sequence of indices), from h0 (1, H) or zeros."""
    V, H = p["U_xh"].shape
    prefix = np.asarray(prefix)
    if prefix.ndim != 1 or prefix.size == 0:
        raise ValueError(f"prefix: expected a non-empty 1-D sequence of indices, got shape {prefix.shape}")
    prefix = as_targets("prefix", prefix, prefix.shape, V)
    h0 = np.zeros((1, H)) if h0 is None else as_float_array("h0", h0, shape=(1, H))
    h, _ = rnn_forward(one_hot(prefix[:, None], V), h0, p["U_xh"], p["W_hh"], p["b"])
    return h[-1]


def sequence_log_prob(params, prefix, continuation, h0=None):
    """log p(continuation | prefix) under the model: the sum over its characters of log softmax(o_t)[y_t]
    (natural log). prefix, continuation: 1-D sequences of indices (prefix non-empty). Returns a float.
    Derived in book/08c_decoding.md, section "Greedy decoding and beam search"."""
    p = check_params(params, PARAMS)
    V = p["U_xh"].shape[0]
    h = _prime(p, prefix, h0)
    cont = np.asarray(continuation)
    if cont.ndim != 1 or cont.size == 0:
        raise ValueError(f"continuation: expected a non-empty 1-D sequence of indices, got shape {cont.shape}")
    cont = as_targets("continuation", cont, cont.shape, V)
    total = 0.0
    for y in cont:
        total += float(log_softmax(h @ p["V_ho"] + p[_BY])[0, y])
        h = np.tanh(p["U_xh"][y] + h @ p["W_hh"] + p["b"])
    return total


def beam_search(params, prefix, n, beam_width, h0=None):
    """The beam_width most likely continuations of n characters after prefix, found by beam search.

    At every step each kept continuation is extended by every character, and the beam_width extensions with
    the highest total log-probability are kept (ties: the lower index first). Returns a list of
    (continuation: list of n ints, log-probability: float), best first. beam_width = 1 is greedy decoding.
    Derived in book/08c_decoding.md, section "Greedy decoding and beam search".
    """
    p = check_params(params, PARAMS)
    V = p["U_xh"].shape[0]
    n = _count("n", n)
    k = _count("beam_width", beam_width)
    h = _prime(p, prefix, h0)                         # (1, H): one beam to start
    seqs = np.zeros((1, 0), dtype=np.int64)
    scores = np.zeros(1)
    for _ in range(n):
        cand = scores[:, None] + log_softmax(h @ p["V_ho"] + p[_BY])   # (beams, V)
        flat = cand.ravel()
        best = np.argsort(-flat, kind="stable")[:k]
        parent, tok = np.divmod(best, V)
        seqs = np.concatenate([seqs[parent], tok[:, None]], axis=1)
        scores = flat[best]
        h = np.tanh(p["U_xh"][tok] + h[parent] @ p["W_hh"] + p["b"])
    return [(s.tolist(), float(v)) for s, v in zip(seqs, scores)]


def scheduled_sampling_inputs(params, inputs, h0, p_sample, rng=None, temperature=1.0):
    """The inputs of one scheduled-sampling update: inputs (T, B) with each entry from t = 1 on replaced, with
    probability p_sample, by a character drawn from the model's own prediction at the previous step (made
    from the mixed inputs so far). inputs[0] is always kept. h0 (B, H): the state before the window.
    temperature 0 takes the most likely character instead of sampling. rng: a Generator or an int seed.
    Returns mixed (T, B) int64; train on char_lm_loss(params, mixed, targets, h0).
    Derived in book/08c_decoding.md, section "Scheduled sampling"."""
    p = check_params(params, PARAMS)
    V, H = p["U_xh"].shape
    inputs = char_inputs(inputs, V)
    T, B = inputs.shape
    h = as_float_array("h0", h0, shape=(B, H))
    if isinstance(p_sample, bool) or not isinstance(p_sample, (int, float, np.integer, np.floating)) \
            or not 0 <= p_sample <= 1:
        raise ValueError(f"p_sample: expected a probability in [0, 1], got {p_sample!r}")
    rng = np.random.default_rng(rng)
    mixed = inputs.astype(np.int64).copy()
    for t in range(T - 1):
        h = np.tanh(p["U_xh"][mixed[t]] + h @ p["W_hh"] + p["b"])
        if p_sample == 0:
            continue
        own = sample_index(h @ p["V_ho"] + p[_BY], temperature, rng.random(B))
        swap = rng.random(B) < p_sample
        mixed[t + 1] = np.where(swap, own, inputs[t + 1])
    return mixed
