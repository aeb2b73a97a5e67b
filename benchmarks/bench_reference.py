"""rnn_ref (numpy) against PyTorch CPU: forward + backward of a whole model, in one process, same dtype, one thread.

The model, for cell in {rnn, gru, lstm}: one-hot inputs x (T, B, V) -> the recurrent layer (hidden size H) ->
o = h @ V_ho + b_y -> softmax cross-entropy (summed over time, mean over batch) -> every gradient (the weights,
the biases, the output layer, and dx and dh0 too, because rnn_ref's backward passes always return them; the
torch input tensors get requires_grad so both libraries do the same matmuls).

Threads: OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and MKL_NUM_THREADS are set to 1 in os.environ before numpy or
torch is imported, and torch.set_num_threads(1). OPENBLAS_CORETYPE is left as the machine has it, and reported.
Timing: runs alternate numpy, torch, numpy, torch, ... ; each entry is the median over the repeats.

  python benchmarks/bench_reference.py            the whole grid (several minutes)
  python benchmarks/bench_reference.py --quick    a small subset (under a minute)
  python benchmarks/bench_reference.py --points "32,100,512,1000" --dtypes float32    one point
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import ctypes  # noqa: E402
import glob  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import rnn_ref as R  # noqa: E402

torch.set_num_threads(1)

CELLS = ("rnn", "gru", "lstm")
GATES = {"rnn": 1, "gru": 3, "lstm": 4}


# ---------------------------------------------------------------- the two models

def numpy_model(cell, T, B, H, V, dtype, seed=0):
    """A closure running forward + backward of the whole model with rnn_ref; returns the loss."""
    rng = np.random.default_rng(seed)
    G = GATES[cell] * H
    idx = rng.integers(0, V, size=(T, B))
    x = R.one_hot(idx, V, dtype)
    y = rng.integers(0, V, size=(T, B))
    h0 = np.zeros((B, H), dtype)
    c0 = np.zeros((B, H), dtype)
    Wx = (rng.standard_normal((V, G)) * 0.1).astype(dtype)
    Wh = (rng.standard_normal((H, G)) / np.sqrt(H)).astype(dtype)
    b = np.zeros(G, dtype)
    V_ho = (rng.standard_normal((H, V)) * 0.1).astype(dtype)
    c = np.zeros(V, dtype)

    def step():
        if cell == "rnn":
            h, cache = R.rnn_forward(x, h0, Wx, Wh, b)
        elif cell == "gru":
            h, cache = R.gru_forward(x, h0, Wx, Wh, b, b)
        else:
            h, cache = R.lstm_forward(x, h0, c0, Wx, Wh, b)
        h2 = h.reshape(T * B, H)
        o = (h2 @ V_ho).reshape(T, B, V)
        o += c
        loss, do = R.softmax_cross_entropy(o, y)
        do2 = do.reshape(T * B, V)
        dV_ho = h2.T @ do2
        dc = do2.sum(axis=0)
        dh = (do2 @ V_ho.T).reshape(T, B, H)
        if cell == "rnn":
            grads = R.rnn_backward(dh, cache)
        elif cell == "gru":
            grads = R.gru_backward(dh, cache)
        else:
            grads = R.lstm_backward(dh, cache)
        return loss, grads, dV_ho, dc
    return step


def torch_model(cell, T, B, H, V, dtype, seed=0):
    torch.manual_seed(seed)
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    rnn = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[cell](V, H).to(tdt)
    out = torch.nn.Linear(H, V).to(tdt)
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, V, (T, B), generator=g)
    x = F.one_hot(idx, V).to(tdt).requires_grad_(True)
    y = torch.randint(0, V, (T * B,), generator=g)
    h0 = torch.zeros(1, B, H, dtype=tdt, requires_grad=True)
    c0 = torch.zeros(1, B, H, dtype=tdt, requires_grad=True)
    params = list(rnn.parameters()) + list(out.parameters())

    def step():
        for p in params + [x, h0, c0]:
            p.grad = None
        h = rnn(x, (h0, c0) if cell == "lstm" else h0)[0]
        loss = F.cross_entropy(out(h).reshape(T * B, V), y, reduction="sum") / B
        loss.backward()
        return loss
    return step


def model_flops(cell, T, B, H, V):
    """Flops of the matmuls of forward + backward: each of the three products (input projection, recurrence,
    output layer) appears once forward and twice backward (the gradient of each factor), 2 m n k each."""
    G = GATES[cell] * H
    return 6 * T * B * (V * G + H * G + H * V)


# ---------------------------------------------------------------- timing

def time_once(fn, inner):
    t0 = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - t0) / inner


def compare(*fns, repeats=5, budget=0.05):
    """Median seconds per call of each function, run in turn a, b, a, b, ... after a warm-up, so that a change
    of the machine's load hits all of them alike."""
    for f in fns:
        f()
    one = max(max(time_once(f, 1) for f in fns), 1e-6)
    inner = max(1, int(budget / one))
    times = [[] for _ in fns]
    for _ in range(repeats):
        for f, ts in zip(fns, times):
            ts.append(time_once(f, inner))
    return [statistics.median(ts) for ts in times]


def gemm(dtype, m=3200, k=512, n=1000):
    """A plain numpy matmul of the largest grid point's output-layer shape, (T*B, H) @ (H, V): the reference
    GEMM rate, timed alternately with the models (the same run, the same load). Returns (function, flops)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    out = np.empty((m, n), dtype)
    return (lambda: np.dot(a, b, out=out)), 2.0 * m * k * n


def char_lm_rates(repeats, T=25, B=1, H=100, V=65, lr=0.1, max_norm=5.0):
    """Training steps per second: rnn_ref.char_lm_train_step vs the same step in torch (one-hot input, nn.RNN,
    nn.Linear, cross-entropy sum/B, backward, clip_grad_norm_, SGD step). float64 in both."""
    rng = np.random.default_rng(0)
    inputs, targets = rng.integers(0, V, size=(T, B)), rng.integers(0, V, size=(T, B))
    state = {"p": R.init_char_lm(V, H, seed=0), "h": np.zeros((B, H))}

    def np_step():
        state["p"], _, state["h"] = R.char_lm_train_step(state["p"], inputs, targets, state["h"], lr, max_norm)

    torch.manual_seed(0)
    rnn, out = torch.nn.RNN(V, H).double(), torch.nn.Linear(H, V).double()
    params = list(rnn.parameters()) + list(out.parameters())
    opt = torch.optim.SGD(params, lr=lr)
    x = F.one_hot(torch.from_numpy(inputs), V).double()
    y = torch.from_numpy(targets).reshape(-1)
    th = {"h": torch.zeros(1, B, H, dtype=torch.float64)}

    def torch_step():
        opt.zero_grad(set_to_none=True)
        h, hn = rnn(x, th["h"])
        loss = F.cross_entropy(out(h).reshape(T * B, V), y, reduction="sum") / B
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, max_norm)
        opt.step()
        th["h"] = hn.detach()

    tn, tt = compare(np_step, torch_step, repeats=repeats)
    return 1.0 / tn, 1.0 / tt


# ---------------------------------------------------------------- the report

def machine_facts():
    try:
        lib = ctypes.CDLL(glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs",
                                                 "libscipy_openblas*.so"))[0])
        lib.scipy_openblas_get_corename64_.restype = ctypes.c_char_p
        core = lib.scipy_openblas_get_corename64_().decode()
        threads = lib.scipy_openblas_get_num_threads64_()
    except (IndexError, OSError, AttributeError):
        core, threads = "unknown", "unknown"
    cpu = "unknown"
    if os.path.exists("/proc/cpuinfo"):
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    return [f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
            f"cpu: {cpu}, {os.cpu_count()} cores; load average at start {', '.join(f'{x:.2f}' for x in load)}",
            f"python {platform.python_version()}, numpy {np.__version__} (OpenBLAS kernel {core}, {threads} thread), "
            f"torch {torch.__version__} ({torch.get_num_threads()} thread)",
            f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(not set)')}, "
            f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', '(not set)')}"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a small subset, under a minute")
    ap.add_argument("--repeats", type=int, default=None, help="timed runs per library and point (default 5; 3 quick)")
    ap.add_argument("--cells", default=",".join(CELLS))
    ap.add_argument("--dtypes", default="float32,float64")
    ap.add_argument("--points", default=None, help="B,T,H,V[;B,T,H,V...]: only these grid points")
    ap.add_argument("--no-charlm", action="store_true", help="skip the char-LM training-step rate")
    args = ap.parse_args()
    repeats = args.repeats or (3 if args.quick else 5)
    cells = args.cells.split(",")
    dtypes = [np.dtype(d).type for d in args.dtypes.split(",")]
    if args.quick:
        grid = [(1, 25, 64, 65), (1, 100, 256, 1000), (32, 25, 256, 65)]
    else:
        grid = [(B, T, H, V) for B in (1, 32) for T in (25, 100) for H in (64, 256, 512) for V in (65, 1000)]
    if args.points:
        grid = [tuple(int(v) for v in p.split(",")) for p in args.points.split(";")]

    print("\n".join("- " + f for f in machine_facts()))
    print(f"- repeats {repeats}, median; ratio = numpy time / torch time (below 1: numpy is faster)\n")
    big = (32, 100, 512, 1000)
    print("| dtype | B | T | H | V | " + " | ".join(f"{c} numpy ms | {c} torch ms | {c} ratio" for c in cells) + " |")
    print("|" + "---|" * (5 + 3 * len(cells)))
    largest = {}
    for dt in dtypes:
        for B, T, H, V in grid:
            row = [np.dtype(dt).name, B, T, H, V]
            for cell in cells:
                fns = [numpy_model(cell, T, B, H, V, dt), torch_model(cell, T, B, H, V, dt)]
                if (B, T, H, V) == big:
                    g, g_flops = gemm(dt)
                    tn, tt, tg = compare(*fns, g, repeats=repeats)
                    largest[(np.dtype(dt).name, cell)] = (model_flops(cell, T, B, H, V), tn, tt, g_flops / tg)
                else:
                    tn, tt = compare(*fns, repeats=repeats)
                row += [f"{tn * 1e3:.2f}", f"{tt * 1e3:.2f}", f"**{tn / tt:.2f}**"]
            print("| " + " | ".join(str(v) for v in row) + " |", flush=True)

    if largest:
        print("\nFraction of the GEMM rate at B=32, T=100, H=512, V=1000: the model's matmul flops per second over")
        print("the rate of a (3200 x 512) @ (512 x 1000) numpy matmul timed alternately with the models\n")
        print("| dtype | cell | GFLOP | GEMM GFLOP/s | numpy GFLOP/s | numpy % of GEMM | torch GFLOP/s | torch % of GEMM |")
        print("|---|---|---|---|---|---|---|---|")
        for (dt, cell), (fl, tn, tt, rate) in largest.items():
            print(f"| {dt} | {cell} | {fl / 1e9:.1f} | {rate / 1e9:.1f} | {fl / tn / 1e9:.1f} | "
                  f"{100 * fl / tn / rate:.0f}% | {fl / tt / 1e9:.1f} | {100 * fl / tt / rate:.0f}% |")

    if args.no_charlm:
        return
    n_rate, t_rate = char_lm_rates(repeats)
    print(f"\nchar-LM training step (B=1, T=25, H=100, V=65, float64): numpy {n_rate:.0f} steps/s, "
          f"torch {t_rate:.0f} steps/s, numpy/torch = {n_rate / t_rate:.2f}x")


if __name__ == "__main__":
    main()
