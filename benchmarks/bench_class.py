"""A class autograded the way an instructor does it: `nbgrader autograde a1_forward` on N made-up submissions
(correct, half-done, untouched and buggy), with the course's sandboxed, parallel grader; plus what one sandbox
costs by itself. Writes benchmarks/results/class.md.

    python benchmarks/bench_class.py                  # 300 submissions
    python benchmarks/bench_class.py --size 30 --out /tmp/class.md
"""
import argparse
import collections
import os
import platform
import sys
import tempfile
import time

import nbformat

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
from grading_helpers import cli_course, first_answer_only, read_csv, replace_in_cell, solution_path, solved  # noqa

BUGS = {  # a1_forward mistakes as students make them: (cell, old, new)
    "no tanh": ("rnn_step_forward", "h = np.tanh(a)", "h = a"),
    "transposed W_hh": ("rnn_step_forward", "h_prev @ W_hh", "h_prev @ W_hh.T"),
    "h0 ignored": ("rnn_forward", "h_t = h0", "h_t = np.zeros_like(h0)"),
    "state not carried": ("rnn_forward", "h_t, step_cache = rnn_step_forward(x[t], h_t,",
                          "h_new, step_cache = rnn_step_forward(x[t], h0,"),
}


def submissions(release, solution):
    full = solved(release, solution)
    kinds = {"correct": full, "half-done": first_answer_only(release, solution), "untouched": release}
    for bug, (cell, old, new) in BUGS.items():
        nb = solved(release, solution)
        replace_in_cell(nb, cell, old, new)
        if bug == "state not carried":
            replace_in_cell(nb, cell, "h[t] = h_t", "h[t] = h_new")
        kinds[bug] = nb
    mix = ["correct"] * 4 + ["half-done"] * 2 + ["untouched"] + list(BUGS)[:3] + ["correct"] + [list(BUGS)[3]]
    return kinds, mix


def _children_cpu():
    import resource
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def sandbox_cost(n):
    """Seconds to start a sandbox, run one cell in it and stop it (mean of n)."""
    from grading.sandbox import Allowed, Sandbox
    t = time.perf_counter()
    for _ in range(n):
        with Sandbox(Allowed(), None) as box:
            box.ask({"op": "run", "label": "<cell 1>", "source": "x = 1", "timeout": 10}, 10)
    return (time.perf_counter() - t) / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=300)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "class.md"))
    a = ap.parse_args()
    name = "a1_forward"
    load0 = os.getloadavg()
    cost = sandbox_cost(20)
    with tempfile.TemporaryDirectory(prefix="bench-class-") as tmp:
        course, run = cli_course(tmp)
        run("nbgrader", "generate_assignment", name, "--force")
        release = nbformat.read(os.path.join(course, "release", name, name + ".ipynb"), as_version=4)
        kinds, mix = submissions(release, nbformat.read(solution_path(name), as_version=4))
        counts = collections.Counter()
        for i in range(a.size):
            kind = mix[i % len(mix)]
            counts[kind] += 1
            path = os.path.join(course, "submitted", f"s{i:03d}", name, name + ".ipynb")
            os.makedirs(os.path.dirname(path))
            nbformat.write(kinds[kind], path)
        cpu0 = _children_cpu()
        t = time.perf_counter()
        run("nbgrader", "autograde", name)
        seconds = time.perf_counter() - t
        cpu = _children_cpu() - cpu0
        run("nbgrader", "export", "--to", "grades.csv")
        rows = read_csv(os.path.join(course, "grades.csv"))
    scores = collections.defaultdict(set)
    for r in rows:
        scores[mix[int(r["student_id"][1:]) % len(mix)]].add(float(r["score"]))
    load1 = os.getloadavg()
    lines = [
        "# Autograding a class",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `python benchmarks/bench_class.py "
        f"--size {a.size}` on {os.cpu_count()} cores ({platform.python_implementation()} "
        f"{platform.python_version()}, {platform.machine()}); load average before {load0[0]:.1f}, after "
        f"{load1[0]:.1f} (above {os.cpu_count()} means other jobs shared the machine).",
        "",
        f"One `nbgrader autograde {name}` command, as the instructors page gives it, on {a.size} submissions "
        "(each in its own sandbox, every test cell decided by the trusted grader, submissions graded in "
        "parallel):",
        "",
        "| what | value |",
        "|---|---|",
        f"| whole command (process start included) | {seconds:.1f} s |",
        f"| per submission | {seconds / a.size:.3f} s |",
        f"| CPU time of the command and its sandboxes, per submission | {cpu / a.size:.3f} s |",
        f"| one sandbox: start, run a cell, stop | {cost:.3f} s |",
        "",
        "| submission kind | count | scores (of 10) |",
        "|---|---|---|",
    ]
    lines += [f"| {k} | {counts[k]} | {', '.join(f'{s:g}' for s in sorted(scores[k]))} |" for k in kinds]
    text = "\n".join(lines) + "\n"
    with open(a.out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
