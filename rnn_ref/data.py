"""Data that needs no download: a character corpus that ships with Python, and seeded synthetic tasks that
need long memory (the adding problem, delayed recall, parity).

The corpus is the text of Python's own help topics, `pydoc_data.topics` (what `help("assert")` prints): about
465 kB of English prose with some code, in every CPython installation. It is the same on every machine with
the same Python minor version (3.11: 465,048 characters, 103 distinct ones). `this` (the Zen of Python, 0.8 kB)
is too short to train on; the help topics are long enough that a small RNN does not simply memorise them.

Every synthetic task returns time-major inputs x (T, B, D) float64 and targets, drawn from a numpy Generator
(pass one, or an int seed) so that the same seed gives the same data on every machine.
The corpus and its windows are used from book/06_char_lm.md, section "A corpus that ships with Python", on; the
adding problem in book/07_limits.md, delayed recall in book/12_gru.md, parity in book/10_deep.md.
"""
import numpy as np

from ._validate import as_targets


def load_corpus(max_chars=None):
    """The book's corpus: the help-topic texts of `pydoc_data.topics`, joined in sorted key order with blank
    lines between.

    Inputs:
    - max_chars: int > 0 or None; keep only the first max_chars characters

    Returns:
    - text: str (465,048 characters on Python 3.11)

    Used in book/06_char_lm.md, section "A corpus that ships with Python".
    """
    from pydoc_data.topics import topics
    text = "\n\n".join(topics[k].strip("\n") for k in sorted(topics)) + "\n"
    if max_chars is not None:
        if isinstance(max_chars, bool) or not isinstance(max_chars, (int, np.integer)) or max_chars <= 0:
            raise ValueError(f"max_chars: expected a positive int or None, got {max_chars!r}")
        text = text[:max_chars]
    return text


def make_vocab(text):
    """The vocabulary of a text: its distinct characters, sorted.

    Inputs:
    - text: a non-empty str

    Returns:
    - chars: list of V one-character strs; index i encodes chars[i]

    Used in book/06_char_lm.md, section "A corpus that ships with Python".
    """
    if not isinstance(text, str) or not text:
        raise ValueError("text: expected a non-empty str")
    return sorted(set(text))


def encode(text, chars):
    """Characters to indices: ids[n] = chars.index(text[n]).

    Inputs:
    - text: str of N characters, every one in chars
    - chars: the vocabulary (a list of V characters, from make_vocab)

    Returns:
    - ids: (N,) int64 array of indices in [0, V)

    Used in book/06_char_lm.md, section "A corpus that ships with Python".
    """
    if not isinstance(text, str):
        raise ValueError(f"text: expected a str, got {type(text).__name__}")
    ix = {ch: i for i, ch in enumerate(chars)}
    unknown = set(text) - ix.keys()
    if unknown:
        raise ValueError(f"text: characters not in the vocabulary chars: {''.join(sorted(unknown))!r}")
    return np.fromiter((ix[ch] for ch in text), dtype=np.int64, count=len(text))


def decode(ids, chars):
    """Indices to characters, the inverse of encode: text[n] = chars[ids[n]].

    Inputs:
    - ids: (N,) integer indices in [0, V)
    - chars: the vocabulary (a list of V characters)

    Returns:
    - text: str of N characters

    Used in book/06_char_lm.md, sections "From one long text to training windows" and "Sampling, and what
    temperature does".
    """
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"ids: expected a 1-D sequence of character indices, got shape {ids.shape}")
    ids = as_targets("ids", ids, ids.shape, len(chars))
    return "".join(chars[i] for i in ids)


def batchify(ids, B):
    """Cut a long index array into B parallel streams, time-major.

        streams[t, b] = ids[b * (N // B) + t]

    Stream b is the b-th contiguous chunk of the text, so a hidden state carried from one window to the
    next (truncated BPTT) keeps reading the same text. The last N % B characters are dropped.

    Inputs:
    - ids: (N,) integer array
    - B: int > 0, the number of streams (the batch size); N // B must be at least 2

    Returns:
    - streams: (N // B, B) array of ids' dtype, a copy

    Derived in book/06_char_lm.md, section "From one long text to training windows".
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
    """The training windows of a language model: walk through the streams without overlap, the targets
    being the inputs shifted by one step.

        inputs = streams[p : p + T],   targets = streams[p + 1 : p + T + 1],   p = 0, T, 2T, ...

    Inputs:
    - streams: (N, B) index array, N >= 2 (from batchify)
    - T: int > 0, the window length

    Yields tuples of:
    - inputs: (T, B) indices (the last window may be shorter)
    - targets: (T, B) indices, the next character of each input

    Derived in book/06_char_lm.md, section "From one long text to training windows".
    """
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

        y = u_i + u_j,   u_t ~ U(0, 1),   i < T // 2 <= j the two marked steps

    Two input channels: channel 0 holds values drawn from U(0, 1), channel 1 is a marker that is 1 at exactly
    two steps (one in the first half of the sequence, one in the second) and 0 elsewhere. The target is the
    sum of the two marked values. Predicting the mean, 1, always gives MSE = Var(u1 + u2) = 2/12 = 1/6: the
    baseline a model must beat to show that it carried a value across the sequence.

    Inputs:
    - T: int >= 2, the sequence length
    - B: int >= 1, the batch size
    - rng: a numpy Generator, an int seed or None

    Returns a tuple of:
    - x: (T, B, 2) float64, channel 0 the values, channel 1 the two markers
    - y: (B,) float64, the sum of the two marked values

    Derived in book/07_limits.md, section "Long-term dependencies: the adding problem".
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

    Inputs:
    - delay: int >= 1, the steps between the symbol and the cue
    - B: int >= 1, the batch size
    - rng: a numpy Generator, an int seed or None
    - num_symbols: int >= 2, K

    Returns a tuple of:
    - x: (delay + 1, B, K + 1) float64
    - y: (B,) int64 in [0, K), the symbol shown at step 0

    Used in book/12_gru.md, section "RNN, LSTM and GRU on the same tasks".
    """
    delay, B, K = _count("delay", delay), _count("B", B), _count("num_symbols", num_symbols, 2)
    rng = np.random.default_rng(rng)
    y = rng.integers(0, K, size=B)
    x = np.zeros((delay + 1, B, K + 1))
    x[0, np.arange(B), y] = 1.0
    x[-1, :, K] = 1.0
    return x, y.astype(np.int64)


def parity(T, B, rng=None, per_step=False):
    """The parity (XOR) of a random bit sequence.

        y_t = x_0 XOR x_1 XOR ... XOR x_t = (x_0 + ... + x_t) mod 2

    Inputs:
    - T: int >= 1, the sequence length
    - B: int >= 1, the batch size
    - rng: a numpy Generator, an int seed or None
    - per_step: bool, which target (below)

    Returns a tuple of:
    - x: (T, B, 1) float64 bits in {0, 1}
    - y: per_step False: (B,) int64, the XOR of all T bits (many-to-one; chance accuracy 1/2);
      per_step True: (T, B) int64, the running XOR up to each step (aligned many-to-many)

    Used in book/08_shapes.md, section "Aligned many-to-many: a label at every step", and book/10_deep.md,
    section "A task whose update is an XOR".
    """
    T, B = _count("T", T), _count("B", B)
    rng = np.random.default_rng(rng)
    bits = rng.integers(0, 2, size=(T, B))
    running = np.cumsum(bits, axis=0) % 2
    y = running if per_step else running[-1]
    return bits[:, :, None].astype(np.float64), y.astype(np.int64)


def train_valid_split(ids, valid_frac=0.1):
    """The book's one split of a corpus: the first (1 - valid_frac) of ids for training, the rest held out.

    Every chapter and scripts/experiments.py use this split, so their bits per character are comparable.

    Inputs:
    - ids: (N,) integer array
    - valid_frac: float in (0, 1), the held-out fraction

    Returns a tuple of:
    - train: (n,) the first n = int(N * (1 - valid_frac)) ids
    - valid: (N - n,) the rest

    Used in book/04_loss.md, section "Perplexity and bits per character", and book/06_char_lm.md, section
    "A corpus that ships with Python".
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
    """The bigram baseline: the probability of each character after each character, counted.

        log p(j | i) = log (count(i, j) + alpha) / sum_k (count(i, k) + alpha)

    Inputs:
    - train_ids: (N,) integer array in [0, V), N >= 2
    - V: int >= 1, the vocabulary size
    - alpha: float > 0, add-alpha smoothing (keeps unseen pairs from getting probability zero)

    Returns:
    - log_probs: (V, V) float64, row i the log-probabilities of the next character after character i

    Derived in book/04_loss.md, section "Perplexity and bits per character".
    """
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
    """The bigram baseline's loss on a text: the mean cross-entropy per predicted character, in nats.

        loss = -(1 / (N - 1)) sum_t log p(ids[t + 1] | ids[t])

    Inputs:
    - log_probs: (V, V) from bigram_log_probs
    - ids: (N,) integer array in [0, V), N >= 2

    Returns:
    - float, nats per character (divide by ln 2 for bits per character)

    Derived in book/04_loss.md, section "Perplexity and bits per character".
    """
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
