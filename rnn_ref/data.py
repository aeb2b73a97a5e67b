"""Data that needs no download: a character corpus that ships with Python, and seeded synthetic tasks that
need long memory (the adding problem, delayed recall, parity).

The corpus is the text of Python's own help topics, `pydoc_data.topics` (what `help("assert")` prints): about
465 kB of English prose with some code, in every CPython installation. It is the same on every machine with
the same Python minor version (3.11: 465,048 characters, 103 distinct ones). `this` (the Zen of Python, 0.8 kB)
is too short to train on; the help topics are long enough that a small RNN does not simply memorise them.

Every synthetic task returns time-major inputs x (T, B, D) float64 and targets, drawn from a numpy Generator
(pass one, or an int seed) so that the same seed gives the same data on every machine.
"""
import numpy as np

from ._validate import as_targets


def load_corpus(max_chars=None):
    """The help-topic texts of `pydoc_data.topics`, joined in sorted key order with blank lines between.

    max_chars (int > 0 or None): keep only the first max_chars characters. Returns a str.
    """
    from pydoc_data.topics import topics
    text = "\n\n".join(topics[k].strip("\n") for k in sorted(topics)) + "\n"
    if max_chars is not None:
        if isinstance(max_chars, bool) or not isinstance(max_chars, (int, np.integer)) or max_chars <= 0:
            raise ValueError(f"max_chars: expected a positive int or None, got {max_chars!r}")
        text = text[:max_chars]
    return text


def make_vocab(text):
    """The sorted list of distinct characters of text (a non-empty str): index i encodes chars[i]."""
    if not isinstance(text, str) or not text:
        raise ValueError("text: expected a non-empty str")
    return sorted(set(text))


def encode(text, chars):
    """str -> (N,) int64 array of indices into chars (the vocabulary from make_vocab)."""
    if not isinstance(text, str):
        raise ValueError(f"text: expected a str, got {type(text).__name__}")
    ix = {ch: i for i, ch in enumerate(chars)}
    unknown = set(text) - ix.keys()
    if unknown:
        raise ValueError(f"text: characters not in the vocabulary chars: {''.join(sorted(unknown))!r}")
    return np.fromiter((ix[ch] for ch in text), dtype=np.int64, count=len(text))


def decode(ids, chars):
    """A sequence of indices into chars -> str."""
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"ids: expected a 1-D sequence of character indices, got shape {ids.shape}")
    ids = as_targets("ids", ids, ids.shape, len(chars))
    return "".join(chars[i] for i in ids)


def batchify(ids, B):
    """Cut a long (N,) index array into B parallel streams, time-major: (N // B, B).

    Stream b is the b-th contiguous chunk of the text, so a hidden state carried from one window to the
    next (truncated BPTT) keeps reading the same text. The last N % B characters are dropped.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise ValueError(f"ids: expected a 1-D integer array, got shape {ids.shape}, dtype {ids.dtype}")
    if isinstance(B, bool) or not isinstance(B, (int, np.integer)) or B <= 0:
        raise ValueError(f"B: expected a positive int, got {B!r}")
    n = len(ids) // B
    if n < 2:
        raise ValueError(f"ids: too short ({len(ids)}) for B={B} streams of at least 2 characters")
    return ids[:n * B].reshape(B, n).T.copy()


def lm_windows(streams, T):
    """Yield (inputs, targets), each (T, B), walking through streams (N, B) without overlap: targets are the
    inputs shifted by one step. The last window may be shorter than T."""
    streams = np.asarray(streams)
    if streams.ndim != 2 or streams.shape[0] < 2:
        raise ValueError(f"streams: expected an (N, B) index array with N >= 2, got shape {streams.shape}")
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T <= 0:
        raise ValueError(f"T: expected a positive int, got {T!r}")
    for p in range(0, streams.shape[0] - 1, T):
        q = min(p + T, streams.shape[0] - 1)
        yield streams[p:q], streams[p + 1:q + 1]


def _count(name, v, minimum=1):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {v!r}")
    return int(v)


def adding_problem(T, B, rng=None):
    """The adding problem (Hochreiter and Schmidhuber 1997; the form of Le et al. 2015).

    Two input channels: channel 0 holds values drawn from U(0, 1), channel 1 is a marker that is 1 at exactly
    two steps (one in the first half of the sequence, one in the second) and 0 elsewhere. The target is the
    sum of the two marked values. Predicting the mean, 1, always gives MSE = Var(u1 + u2) = 2/12 = 1/6: the
    baseline a model must beat to show that it carried a value across the sequence.

    T (int >= 2), B (int >= 1), rng (np.random.Generator or seed). Returns x (T, B, 2), y (B,) float64.
    """
    T, B = _count("T", T, 2), _count("B", B)
    rng = np.random.default_rng(rng)
    x = np.zeros((T, B, 2))
    x[:, :, 0] = rng.random((T, B))
    half = T // 2
    first = rng.integers(0, half, size=B)
    second = rng.integers(half, T, size=B)
    cols = np.arange(B)
    x[first, cols, 1] = 1.0
    x[second, cols, 1] = 1.0
    y = x[first, cols, 0] + x[second, cols, 0]
    return x, y


ADDING_BASELINE_MSE = 1.0 / 6.0  # predict the mean 1.0: MSE = Var(U(0,1) + U(0,1)) = 2 * 1/12


def delayed_recall(delay, B, rng=None, num_symbols=8):
    """Remember a symbol for `delay` steps. T = delay + 1; D = num_symbols + 1 input channels.

    Step 0 shows one of num_symbols symbols (one-hot in channels 0..num_symbols-1); the next delay - 1 steps
    are blank (all zeros); the last step shows the recall cue (channel num_symbols). The target is the symbol
    (a many-to-one classification read at the last step): chance accuracy 1/num_symbols, chance loss
    log(num_symbols).

    Returns x (delay + 1, B, num_symbols + 1) float64, y (B,) int64.
    """
    delay, B, K = _count("delay", delay), _count("B", B), _count("num_symbols", num_symbols, 2)
    rng = np.random.default_rng(rng)
    y = rng.integers(0, K, size=B)
    x = np.zeros((delay + 1, B, K + 1))
    x[0, np.arange(B), y] = 1.0
    x[-1, :, K] = 1.0
    return x, y.astype(np.int64)


def parity(T, B, rng=None, per_step=False):
    """The parity (XOR) of a random bit sequence: x (T, B, 1) float64 bits in {0, 1}.

    per_step False: y (B,) int64, the XOR of all T bits (many-to-one; chance accuracy 1/2).
    per_step True:  y (T, B) int64, the running XOR up to each step (aligned many-to-many).
    """
    T, B = _count("T", T), _count("B", B)
    rng = np.random.default_rng(rng)
    bits = rng.integers(0, 2, size=(T, B))
    running = np.cumsum(bits, axis=0) % 2
    y = running if per_step else running[-1]
    return bits[:, :, None].astype(np.float64), y.astype(np.int64)


def train_valid_split(ids, valid_frac=0.1):
    """The book's one split of a corpus: the first (1 - valid_frac) of ids for training, the rest held out.

    ids (N,) ints -> train (n,), valid (N - n,), with n = int(N * (1 - valid_frac)). Every chapter and
    scripts/experiments.py use this split, so their bits per character are comparable.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise ValueError(f"ids: expected a 1-D integer array, got shape {ids.shape}, dtype {ids.dtype}")
    if isinstance(valid_frac, bool) or not isinstance(valid_frac, (int, float, np.floating)) \
            or not 0 < valid_frac < 1:
        raise ValueError(f"valid_frac: expected a number in (0, 1), got {valid_frac!r}")
    n = int(len(ids) * (1 - valid_frac))
    if n < 2 or len(ids) - n < 2:
        raise ValueError(f"ids: too short ({len(ids)}) to split into two parts of at least 2 with "
                         f"valid_frac={valid_frac}")
    return ids[:n], ids[n:]


def bigram_log_probs(train_ids, V, alpha=1.0):
    """The bigram baseline: (V, V) log p(next = j | current = i), counted on train_ids (N,) ints in [0, V)
    with add-alpha smoothing (alpha > 0 keeps unseen pairs from getting probability zero)."""
    train_ids = np.asarray(train_ids)
    V = _count("V", V)
    if train_ids.ndim != 1 or train_ids.dtype.kind not in "iu" or len(train_ids) < 2:
        raise ValueError(f"train_ids: expected a 1-D integer array of length >= 2, got shape {train_ids.shape}, "
                         f"dtype {train_ids.dtype}")
    if train_ids.min() < 0 or train_ids.max() >= V:
        raise ValueError(f"train_ids: values must lie in [0, V={V}), got [{train_ids.min()}, {train_ids.max()}]")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating)) or not alpha > 0:
        raise ValueError(f"alpha: expected a number > 0, got {alpha!r}")
    counts = np.full((V, V), float(alpha))
    np.add.at(counts, (train_ids[:-1], train_ids[1:]), 1.0)
    return np.log(counts / counts.sum(axis=1, keepdims=True))


def bigram_loss(log_probs, ids):
    """Mean -log p(ids[t+1] | ids[t]) in nats per predicted character, for log_probs (V, V) from
    bigram_log_probs and ids (N,) ints in [0, V), N >= 2. Divide by ln 2 for bits per character."""
    log_probs = np.asarray(log_probs, dtype=float)
    if log_probs.ndim != 2 or log_probs.shape[0] != log_probs.shape[1]:
        raise ValueError(f"log_probs: expected a square (V, V) array, got shape {log_probs.shape}")
    ids = np.asarray(ids)
    V = log_probs.shape[0]
    if ids.ndim != 1 or ids.dtype.kind not in "iu" or len(ids) < 2:
        raise ValueError(f"ids: expected a 1-D integer array of length >= 2, got shape {ids.shape}, dtype {ids.dtype}")
    if ids.min() < 0 or ids.max() >= V:
        raise ValueError(f"ids: values must lie in [0, V={V}), got [{ids.min()}, {ids.max()}]")
    return float(-log_probs[ids[:-1], ids[1:]].mean())
