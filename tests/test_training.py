"""Training: the optimizers against torch.optim, the language-model training loop and its behaviour on the
corpus that ships with Python, and (slow) the adding problem, where the LSTM learns and the vanilla RNN does not.
"""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

import rnn_ref as R

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------------- optimizers

OPTS = [
    ("sgd", {}, "SGD", {}),
    ("momentum", {"momentum": 0.9}, "SGD", {"momentum": 0.9}),
    ("momentum", {"momentum": 0.5}, "SGD", {"momentum": 0.5}),
    ("adagrad", {}, "Adagrad", {}),
    ("adagrad", {"eps": 1e-6}, "Adagrad", {"eps": 1e-6}),
    ("adam", {}, "Adam", {}),
    ("adam", {"beta1": 0.5, "beta2": 0.9, "eps": 1e-6}, "Adam", {"betas": (0.5, 0.9), "eps": 1e-6}),
]


@pytest.mark.parametrize("name,kw,tname,tkw", OPTS, ids=[f"{o[0]}{i}" for i, o in enumerate(OPTS)])
def test_optimizer_matches_torch(name, kw, tname, tkw):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    lr = 0.05
    params = {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(4)}
    tparams = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    topt = getattr(torch.optim, tname)(list(tparams.values()), lr=lr, **tkw)
    step, state = R.make_optimizer(name, lr, **kw), None
    worst = 0.0
    for _ in range(6):
        grads = {k: rng.standard_normal(v.shape) * 3 for k, v in params.items()}
        before = {k: v.copy() for k, v in params.items()}
        params, state = step(params, grads, state)
        for k, v in before.items():  # functional: the inputs are untouched
            assert np.array_equal(v, before[k])
        for k, t in tparams.items():
            t.grad = torch.tensor(grads[k])
        topt.step()
        for k in params:
            worst = max(worst, R.rel_error(params[k], tparams[k].detach().numpy()))
    print(f"TORCH_OPTIM {name} {kw} rel_error {worst:.2e}")
    assert worst < 1e-12, f"{name}: {worst:.2e} from torch.optim.{tname}"


def test_optimizer_steps_do_not_modify_their_inputs():
    rng = np.random.default_rng(1)
    p = {"a": rng.standard_normal(3)}
    g = {"a": rng.standard_normal(3)}
    p0, g0 = p["a"].copy(), g["a"].copy()
    for f in (R.sgd_momentum_step, R.adagrad_step, R.adam_step):
        _, s = f(p, g, None, 0.1)
        _, s2 = f(p, g, s, 0.1)
        assert np.array_equal(p["a"], p0) and np.array_equal(g["a"], g0), f.__name__
        if s is not None:
            assert s2 is not s


def test_adam_first_step_is_lr_times_sign():
    """With bias correction the first Adam step is lr * g / (|g| + eps'): about lr in every coordinate."""
    p = {"a": np.zeros(4)}
    g = {"a": np.array([3.0, -0.01, 1e-3, -50.0])}
    new, _ = R.adam_step(p, g, None, lr=0.1, eps=1e-12)
    assert np.allclose(new["a"], -0.1 * np.sign(g["a"]), rtol=1e-8)


OPT_BAD = [
    (lambda: R.adam_step({"a": np.zeros(2)}, {"a": np.zeros(2)}, None, lr=0), "lr"),
    (lambda: R.adam_step({"a": np.zeros(2)}, {"a": np.zeros(2)}, None, beta1=1.0), "beta1"),
    (lambda: R.adam_step({"a": np.zeros(2)}, {"a": np.zeros(2)}, None, beta2=-0.1), "beta2"),
    (lambda: R.adagrad_step({"a": np.zeros(2)}, {"a": np.zeros(2)}, None, eps=0), "eps"),
    (lambda: R.sgd_momentum_step({"a": np.zeros(2)}, {"a": np.zeros(2)}, None, 0.1, momentum=1.5), "momentum"),
    (lambda: R.sgd_momentum_step({"a": np.zeros(2)}, {"b": np.zeros(2)}, None, 0.1), "grads"),
    (lambda: R.sgd_momentum_step({"a": np.zeros(2)}, {"a": np.zeros(3)}, None, 0.1), r"grads\['a'\]"),
    (lambda: R.sgd_momentum_step({"a": np.zeros(2)}, {"a": np.array([np.nan, 0])}, None, 0.1), r"grads\['a'\]"),
    (lambda: R.sgd_momentum_step({}, {}, None, 0.1), "params"),
    (lambda: R.make_optimizer("rmsprop", 0.1), "name"),
    (lambda: R.make_optimizer("adam", -1), "lr"),
]


@pytest.mark.parametrize("call,match", OPT_BAD, ids=[f"{i}-{m}" for i, (_, m) in enumerate(OPT_BAD)])
def test_optimizer_bad_input(call, match):
    with pytest.raises(ValueError, match="^" + match):
        call()


# ------------------------------------------------------------------------------------------- char LM loop

@pytest.fixture(scope="module")
def corpus():
    text = R.load_corpus()
    chars = R.make_vocab(text)
    return R.encode(text, chars), chars


def test_char_lm_loss_falls_on_the_shipped_corpus(corpus):
    """300 steps (a second or two): the loss per character falls from log(V) to well under 80% of where it
    started, and below the unigram entropy of the text: the model uses the previous characters, it does not
    only count letters."""
    ids, chars = corpus
    V = len(chars)
    p = R.init_char_lm(V, 64, seed=0)
    res = R.train_char_lm(p, ids, 300, seq_len=25, batch_size=16, optimizer="adagrad", lr=0.1, report_every=50)
    h = res.history
    freq = np.bincount(ids, minlength=V) / len(ids)
    unigram = -np.sum(freq[freq > 0] * np.log(freq[freq > 0]))
    print(f"CHARLM initial {h['initial_loss']:.3f} final {h['loss'][-1]:.3f} unigram {unigram:.3f}")
    assert abs(h["initial_loss"] - np.log(V)) < 0.01  # tiny initial weights: nearly uniform predictions
    assert h["loss"][-1] < 0.8 * h["initial_loss"]
    assert h["loss"][-1] < unigram - 0.3
    assert h["step"] == [50, 100, 150, 200, 250, 300] and len(h["step_loss"]) == 300
    assert np.allclose(h["perplexity"], np.exp(h["loss"]))


def test_train_char_lm_is_truncated_bptt_with_the_state_carried(corpus):
    """Two calls of 20 steps continue exactly where one call of 40 steps would be; the steps are char_lm_loss
    on consecutive windows with the state carried, clipped, then the optimizer."""
    ids, chars = corpus
    data = ids[:3000]
    p = R.init_char_lm(len(chars), 8, seed=1, scale=0.1)
    one = R.train_char_lm(p, data, 40, seq_len=10, batch_size=3, optimizer="adam", lr=0.01)
    a = R.train_char_lm(p, data, 20, seq_len=10, batch_size=3, optimizer="adam", lr=0.01)
    b = R.train_char_lm(a.params, data, 20, seq_len=10, batch_size=3, optimizer="adam", lr=0.01,
                        opt_state=a.opt_state, h0=a.h, pos=a.pos)
    for k in p:
        assert np.array_equal(one.params[k], b.params[k]), k
    assert one.history["step_loss"] == a.history["step_loss"] + b.history["step_loss"]
    # By hand, the first two steps.
    streams = R.batchify(data, 3)
    q, st, h = p, None, np.zeros((3, 8))
    step = R.make_optimizer("adam", 0.01)
    for s in range(2):
        loss, g, h = R.char_lm_loss(q, streams[10 * s:10 * s + 10], streams[10 * s + 1:10 * s + 11], h)
        assert abs(loss / 10 - one.history["step_loss"][s]) < 1e-12
        q, st = step(q, R.clip_by_global_norm(g, 5.0)[0], st)


def test_train_char_lm_wraps_around_with_a_fresh_state():
    data = np.arange(23) % 5
    p = R.init_char_lm(5, 3, seed=0)
    res = R.train_char_lm(p, data, 5, seq_len=5, batch_size=2, optimizer="sgd", lr=0.1)
    assert res.pos == 5  # streams of 11: windows at 0 and 5, then back to 0 (3 times more)
    assert len(res.history["step_loss"]) == 5


def test_evaluate_char_lm_matches_the_loss_per_character(corpus):
    ids, chars = corpus
    p = R.init_char_lm(len(chars), 16, seed=2, scale=0.3)
    data = ids[:61]  # B=2 streams of 30: 29 predictions each
    streams = R.batchify(data, 2)
    loss, _, _ = R.char_lm_loss(p, streams[:-1], streams[1:], np.zeros((2, 16)))
    assert abs(R.evaluate_char_lm(p, data, seq_len=7, batch_size=2) - loss / 29) < 1e-12


def test_greedy_generation_is_deterministic_and_sampling_is_seeded(corpus):
    ids, chars = corpus
    p = R.init_char_lm(len(chars), 16, seed=3, scale=0.5)
    g1 = R.generate(p, ids[:5], 30, temperature=0.0, rng=1)
    g2 = R.generate(p, ids[:5], 30, temperature=0.0, rng=2)
    s1 = R.generate(p, ids[:5], 30, temperature=1.0, rng=1)
    s2 = R.generate(p, ids[:5], 30, temperature=1.0, rng=1)
    assert g1 == g2 and s1 == s2 and s1 != g1


LM_BAD = [
    (lambda: R.train_char_lm(R.init_char_lm(5, 3), np.zeros(100, int), 0), "steps"),
    (lambda: R.train_char_lm(R.init_char_lm(5, 3), np.zeros(100), 1), "data"),
    (lambda: R.train_char_lm(R.init_char_lm(5, 3), np.zeros(10, int), 1, seq_len=25), "data"),
    (lambda: R.train_char_lm(R.init_char_lm(5, 3), np.zeros(100, int), 1, seq_len=0), "seq_len"),
    (lambda: R.train_char_lm(R.init_char_lm(5, 3), np.zeros(100, int), 1, optimizer="lbfgs"), "name"),
    (lambda: R.train_char_lm(R.init_char_lm(5, 3), np.zeros(100, int), 1, max_norm=0), "max_norm"),
    (lambda: R.train_char_lm(R.init_char_lm(5, 3), np.full(100, 7), 1), "inputs"),
    (lambda: R.train_char_lm(R.init_char_lm(5, 3), np.zeros(100, int), 1, pos=-1), "pos"),
    (lambda: R.train_char_lm(R.init_char_lm(5, 3), np.zeros(100, int), 1, h0=np.zeros((2, 3))), "h0"),
    (lambda: R.evaluate_char_lm(R.init_char_lm(5, 3), np.full(100, 5)), "data"),
]


@pytest.mark.parametrize("call,match", LM_BAD, ids=[f"{i}-{m}" for i, (_, m) in enumerate(LM_BAD)])
def test_char_lm_training_bad_input(call, match):
    with pytest.raises(ValueError, match="^" + match):
        call()


# ------------------------------------------------------------------------------------------- adding problem

def _experiments():
    spec = importlib.util.spec_from_file_location("experiments", ROOT / "scripts" / "experiments.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_adding_problem_learning_signal_short_sequences():
    """Fast and reliable: at T=10 an LSTM gets well under the baseline MSE 1/6 within 300 Adam steps."""
    res = _experiments().adding_experiment("lstm", T=10, steps=300, B=32, H=16, lr=1e-2, seed=0,
                                           eval_every=300, n_test=500)
    print(f"ADDING T=10 lstm final {res['final_mse']:.4f} baseline {res['baseline_mse']:.4f}")
    assert res["final_mse"] < 0.3 * res["baseline_mse"]


@pytest.mark.slow
def test_adding_problem_lstm_learns_where_the_rnn_stays_at_the_baseline():
    """The full experiment of scripts/experiments.py at T=100 (minutes): the vanilla RNN's test MSE stays
    near the baseline 1/6, the LSTM's falls far below it."""
    ex = _experiments()
    rnn = ex.adding_experiment("rnn", T=100, steps=3000, seed=0)
    lstm = ex.adding_experiment("lstm", T=100, steps=3000, seed=0)
    print(f"ADDING T=100 rnn {rnn['final_mse']:.4f} lstm {lstm['final_mse']:.4f} baseline {rnn['baseline_mse']:.4f}")
    assert rnn["final_mse"] > 0.7 * rnn["baseline_mse"]
    assert lstm["final_mse"] < 0.1 * lstm["baseline_mse"]
