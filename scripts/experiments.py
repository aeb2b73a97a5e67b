"""The behaviour experiments the book quotes: seeded, slow, run by hand (not in the default test run).

1. The adding problem (rnn_ref.data.adding_problem): at a length where the vanilla RNN stays at the baseline
   (predict the mean: MSE 1/6), an LSTM (and a GRU) learns to carry the two marked values to the end.
2. The character-level language model on the corpus that ships with Python (rnn_ref.data.load_corpus):
   the training loss per character before and after, the held-out loss and perplexity, and a greedy and a
   sampled continuation.

    python scripts/experiments.py                     # the full run, writes benchmarks/results/experiments.json
    python scripts/experiments.py --quick --out -     # a small smoke run, JSON to stdout

Each experiment runs with BLAS limited to one thread (the numbers are about learning, not speed; it also keeps
the machine usable). Every random number comes from a seeded numpy Generator.
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import rnn_ref as R  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "experiments.json"


def adding_experiment(cell, T=100, steps=3000, B=32, H=64, lr=1e-2, max_norm=1.0, seed=0, eval_every=100,
                      n_test=1000, log=None):
    """Train a one-layer `cell` model with a linear read-out of the last state on fresh adding-problem batches
    (Adam, clipping by global norm). Returns a dict: the test MSE every eval_every steps, the final and best
    test MSE, the baseline (predict 1.0) on the same test set, and the time taken."""
    rng = np.random.default_rng(seed)
    x_test, y_test = R.adding_problem(T, n_test, np.random.default_rng(10_000 + seed))
    baseline = float(np.mean((y_test - 1.0) ** 2))
    params = R.init_sequence_model(cell, 2, H, 1, seed=seed)
    opt = R.make_optimizer("adam", lr)
    state = None

    def test_mse(p):
        return float(np.mean((R.sequence_predict(x_test, None, p, cell)[:, 0] - y_test) ** 2))

    curve, t0 = [(0, test_mse(params))], time.perf_counter()
    for step in range(1, steps + 1):
        x, y = R.adding_problem(T, B, rng)
        _, grads = R.sequence_regression_loss(x, None, params, y, cell)
        grads, _ = R.clip_by_global_norm(grads, max_norm)
        params, state = opt(params, grads, state)
        if step % eval_every == 0 or step == steps:
            curve.append((step, test_mse(params)))
            if log:
                log(f"  adding {cell} T={T} seed={seed} step {step}: test MSE {curve[-1][1]:.4f} "
                    f"(baseline {baseline:.4f})")
    mses = [m for _, m in curve]
    return {"cell": cell, "T": T, "seed": seed, "steps": steps, "batch": B, "hidden": H, "lr": lr,
            "max_norm": max_norm, "baseline_mse": baseline, "final_mse": mses[-1], "best_mse": min(mses),
            "final_over_baseline": mses[-1] / baseline, "curve": curve,
            "seconds": round(time.perf_counter() - t0, 1)}


def charlm_experiment(steps=2000, H=128, seq_len=25, B=32, optimizer="adam", lr=3e-3, max_norm=5.0, seed=0,
                      report_every=100, valid_frac=0.1, log=None):
    """Train the character-level RNN language model on load_corpus(): the first (1 - valid_frac) of the text
    for training, the rest held out. Returns the losses per character (nats) and perplexities, and samples."""
    text = R.load_corpus()
    chars = R.make_vocab(text)
    ids = R.encode(text, chars)
    train, valid = R.train_valid_split(ids, valid_frac)      # the book's one split
    split = len(train)
    params = R.init_char_lm(len(chars), H, seed=seed)
    valid_before = R.evaluate_char_lm(params, valid, seq_len=100, batch_size=16)
    t0 = time.perf_counter()

    def cb(step, loss, p):
        if log:
            log(f"  charlm step {step}: train loss/char {loss:.3f} (perplexity {np.exp(loss):.2f})")
    res = R.train_char_lm(params, train, steps, seq_len=seq_len, batch_size=B, optimizer=optimizer, lr=lr,
                          max_norm=max_norm, report_every=report_every, callback=cb)
    seconds = time.perf_counter() - t0
    valid_after = R.evaluate_char_lm(res.params, valid, seq_len=100, batch_size=16)
    prime = R.encode("The ", chars)
    greedy = R.decode(R.generate(res.params, prime, 200, temperature=0.0, rng=seed), chars)
    sampled = R.decode(R.generate(res.params, prime, 200, temperature=0.7, rng=seed), chars)
    h = res.history
    return {"corpus": "pydoc_data.topics", "python": platform.python_version(), "corpus_chars": len(text),
            "vocab": len(chars), "train_chars": int(split), "valid_chars": int(len(valid)), "steps": steps,
            "hidden": H, "seq_len": seq_len, "batch": B, "optimizer": optimizer, "lr": lr, "max_norm": max_norm,
            "seed": seed, "uniform_loss": float(np.log(len(chars))),
            "initial_train_loss": h["initial_loss"], "final_train_loss": h["loss"][-1],
            "final_train_perplexity": h["perplexity"][-1],
            "valid_loss_before": valid_before, "valid_loss_after": valid_after,
            "valid_perplexity_after": R.perplexity(valid_after), "valid_bits_per_char_after": R.bits_per_char(valid_after),
            "curve": list(zip(h["step"], h["loss"])), "sample_greedy": "The " + greedy,
            "sample_t0.7": "The " + sampled, "seconds": round(seconds, 1),
            "steps_per_second": round(steps / seconds, 1)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a small smoke run (seconds, not minutes)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds of the adding problem")
    ap.add_argument("--T", type=int, default=100, help="length of the adding problem's sequences")
    ap.add_argument("--steps", type=int, default=3000, help="updates on the adding problem")
    ap.add_argument("--lm-steps", type=int, default=5000, help="updates of the language model")
    ap.add_argument("--cells", nargs="+", default=["rnn", "lstm", "gru"], choices=["rnn", "lstm", "gru"])
    ap.add_argument("--skip-lm", action="store_true")
    ap.add_argument("--skip-adding", action="store_true")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="where to write the JSON ('-' for stdout)")
    a = ap.parse_args(argv)
    if a.quick:
        a.seeds, a.T, a.steps, a.lm_steps = a.seeds[:1], 20, 100, 100
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    out = {"command": "python scripts/experiments.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "python": platform.python_version(), "numpy": np.__version__, "blas_threads": 1}
    t0 = time.perf_counter()
    if not a.skip_adding:
        runs = []
        for cell in a.cells:
            for seed in a.seeds:
                log(f"adding problem: {cell}, T={a.T}, seed {seed}")
                runs.append(adding_experiment(cell, T=a.T, steps=a.steps, seed=seed, log=log))
        summary = {}
        for cell in a.cells:
            mine = [r for r in runs if r["cell"] == cell]
            summary[cell] = {"final_mse": [r["final_mse"] for r in mine],
                             "final_over_baseline": [r["final_over_baseline"] for r in mine],
                             "median_final_mse": float(np.median([r["final_mse"] for r in mine])),
                             "solved": sum(r["final_over_baseline"] < 0.1 for r in mine),  # MSE < baseline / 10
                             "seconds_per_run": float(np.mean([r["seconds"] for r in mine]))}
        out["adding_problem"] = {"T": a.T, "steps": a.steps, "seeds": a.seeds,
                                 "baseline_mse_theory": 1.0 / 6.0, "baseline_mse_test": runs[0]["baseline_mse"],
                                 "summary": summary, "runs": runs}
    if not a.skip_lm:
        log(f"char LM: {a.lm_steps} steps")
        out["char_lm"] = charlm_experiment(steps=a.lm_steps, log=log)
    out["seconds_total"] = round(time.perf_counter() - t0, 1)
    text = json.dumps(out, indent=1)
    if a.out == "-":
        print(text)
    else:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(text + "\n")
        log(f"wrote {a.out}")
    return out


if __name__ == "__main__":
    main()
