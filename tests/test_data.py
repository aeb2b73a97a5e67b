"""Data that needs no download: the corpus that ships with Python, the vocabulary helpers, LM batching, and
the seeded synthetic tasks (adding problem, delayed recall, parity)."""
import hashlib
import sys

import numpy as np
import pytest

import rnn_ref as R


def test_corpus_ships_with_python_and_is_long_english_text():
    text = R.load_corpus()
    assert len(text) > 50_000
    assert text.startswith('The "assert" statement')
    assert sum(ch.isascii() for ch in text) / len(text) > 0.99
    words = text.split()
    assert sum(w.lower() == "the" for w in words) / len(words) > 0.02  # English prose, not just code
    assert R.load_corpus() == text  # deterministic
    assert R.load_corpus(max_chars=1000) == text[:1000]


def test_corpus_is_what_the_docs_say_on_311():
    if sys.version_info[:2] != (3, 11):
        pytest.xfail("the documented size and digest are those of Python 3.11's pydoc_data.topics")
    text = R.load_corpus()
    assert len(text) == 465_048 and len(R.make_vocab(text)) == 103, (len(text), len(R.make_vocab(text)))
    print("CORPUS sha256", hashlib.sha256(text.encode()).hexdigest())


def test_vocab_encode_decode_round_trip():
    text = R.load_corpus(max_chars=5000)
    chars = R.make_vocab(text)
    assert chars == sorted(set(chars)) and "".join(chars) == "".join(sorted(set(text)))
    ids = R.encode(text, chars)
    assert ids.dtype == np.int64 and ids.shape == (5000,)
    assert R.decode(ids, chars) == text
    assert R.decode([chars.index("a"), chars.index("b")], chars) == "ab"


def test_batchify_and_windows():
    ids = np.arange(23)
    s = R.batchify(ids, 3)
    assert s.shape == (7, 3)
    assert np.array_equal(s[:, 1], np.arange(7, 14))  # stream 1 is the second contiguous chunk
    wins = list(R.lm_windows(s, 4))
    assert [w[0].shape[0] for w in wins] == [4, 2]
    for inp, tgt in wins:
        assert np.array_equal(tgt, inp + 1)
    assert np.array_equal(np.concatenate([w[0] for w in wins]), s[:-1])


def test_adding_problem():
    x, y = R.adding_problem(50, 400, np.random.default_rng(0))
    assert x.shape == (50, 400, 2) and y.shape == (400,) and x.dtype == y.dtype == np.float64
    marks = x[:, :, 1]
    assert np.array_equal(marks.sum(axis=0), np.full(400, 2.0))
    assert (marks[:25].sum(axis=0) == 1).all() and (marks[25:].sum(axis=0) == 1).all()
    assert np.allclose(y, (x[:, :, 0] * marks).sum(axis=0))
    assert ((x[:, :, 0] >= 0) & (x[:, :, 0] < 1)).all()
    x2, y2 = R.adding_problem(50, 400, 0)
    x3, _ = R.adding_problem(50, 400, 1)
    assert np.array_equal(x, x2) and np.array_equal(y, y2) and not np.array_equal(x, x3)
    # The baseline: predicting the mean 1 gives MSE Var(u1 + u2) = 1/6.
    _, yb = R.adding_problem(10, 200_000, 3)
    assert abs(np.mean((yb - 1.0) ** 2) - R.data.ADDING_BASELINE_MSE) < 0.003
    assert R.data.ADDING_BASELINE_MSE == 1 / 6


def test_delayed_recall():
    x, y = R.delayed_recall(7, 50, 0, num_symbols=4)
    assert x.shape == (8, 50, 5) and y.shape == (50,) and y.dtype == np.int64
    assert np.array_equal(x[0, :, :4].argmax(axis=1), y) and (x[0].sum(axis=1) == 1).all()
    assert not x[1:-1].any()
    assert (x[-1, :, 4] == 1).all() and not x[-1, :, :4].any()
    assert set(np.unique(y)) == {0, 1, 2, 3}


def test_parity():
    x, y = R.parity(9, 64, 0)
    assert x.shape == (9, 64, 1) and y.shape == (64,) and y.dtype == np.int64
    assert np.array_equal(y, x[:, :, 0].astype(int).sum(axis=0) % 2)
    xs, ys = R.parity(9, 64, 0, per_step=True)
    assert np.array_equal(xs, x) and ys.shape == (9, 64) and np.array_equal(ys[-1], y)
    assert np.array_equal(ys[3], x[:4, :, 0].astype(int).sum(axis=0) % 2)


BAD = [
    (lambda: R.load_corpus(max_chars=0), "max_chars"),
    (lambda: R.make_vocab(""), "text"),
    (lambda: R.encode("abc", ["a", "b"]), "text"),
    (lambda: R.encode(b"ab", ["a", "b"]), "text"),
    (lambda: R.decode([0, 2], ["a", "b"]), "ids"),
    (lambda: R.decode([[0]], ["a", "b"]), "ids"),
    (lambda: R.batchify(np.arange(10.0), 2), "ids"),
    (lambda: R.batchify(np.arange(10), 0), "B"),
    (lambda: R.batchify(np.arange(3), 2), "ids"),
    (lambda: list(R.lm_windows(np.zeros((5, 2), int), 0)), "T"),
    (lambda: list(R.lm_windows(np.zeros(5, int), 2)), "streams"),
    (lambda: R.adding_problem(1, 4), "T"),
    (lambda: R.adding_problem(10, 0), "B"),
    (lambda: R.delayed_recall(0, 4), "delay"),
    (lambda: R.delayed_recall(3, 4, num_symbols=1), "num_symbols"),
    (lambda: R.parity(2.5, 4), "T"),
]


@pytest.mark.parametrize("call,match", BAD, ids=[f"{i}-{m}" for i, (_, m) in enumerate(BAD)])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match="^" + match):
        call()
