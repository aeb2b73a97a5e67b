"""How long autograding takes: one submission of each assignment, and a class of made-up submissions of one
assignment (a mix of correct, half-done and untouched), through nbgrader's Python API in a temporary course
directory; plus one fresh `nbgrader autograde` CLI call for comparison. Writes benchmarks/results/grading.md.

    python benchmarks/bench_grading.py                     # 8 assignments x 3 submissions, a class of 100
    python benchmarks/bench_grading.py --class-size 20 --class-assignment a1_forward --out /tmp/g.md
"""
import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings

import nbformat

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
from grading_helpers import ASSIGNMENTS, Course, first_answer_only, read_csv, solution_path, solved  # noqa: E402

warnings.filterwarnings("ignore")


def load():
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def per_assignment(repeats):
    """{name: [seconds per single-student autograde call]} (each call grades one solution submission)."""
    out = {}
    for name in ASSIGNMENTS:
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            c = Course(tmp)
            c.generate_assignment(name)
            release = nbformat.read(c.release_path(name), as_version=4)
            sub = solved(release, nbformat.read(solution_path(name), as_version=4))
            times = []
            for i in range(repeats):
                student = f"s{i}"
                c.submit(student, name, sub)
                t = time.perf_counter()
                r = c.autograde(name, student)
                times.append(time.perf_counter() - t)
                assert r["success"], r.get("log")
            c.close()
        out[name] = times
        print(f"{name}: " + ", ".join(f"{t:.2f}" for t in times) + " s", flush=True)
    return out


def a_class(name, size):
    """Grade `size` made-up submissions in one autograde run, then feedback and export. Returns timings."""
    with tempfile.TemporaryDirectory(prefix="bench-class-") as tmp:
        c = Course(tmp)
        c.generate_assignment(name)
        release = nbformat.read(c.release_path(name), as_version=4)
        solution = nbformat.read(solution_path(name), as_version=4)
        kinds = {"correct": solved(release, solution), "partial": first_answer_only(release, solution),
                 "untouched": release}
        mix = ["correct"] * 6 + ["partial"] * 3 + ["untouched"] * 1
        counts = {k: 0 for k in kinds}
        for i in range(size):
            kind = mix[i % len(mix)]
            counts[kind] += 1
            c.submit(f"student{i:03d}_{kind}", name, kinds[kind])
        t0 = time.perf_counter()
        r = c.autograde(name)
        t1 = time.perf_counter()
        assert r["success"], r.get("log")
        f = c.generate_feedback(name)
        t2 = time.perf_counter()
        assert f["success"], f.get("log")
        rows = read_csv(c.export())
        t3 = time.perf_counter()
        assert len(rows) == size
        c.close()
    return {"autograde": t1 - t0, "feedback": t2 - t1, "export": t3 - t2, "counts": counts}


def cli_once(name):
    """One fresh `nbgrader autograde` process for one submission (what a per-student shell loop costs)."""
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        c = Course(tmp)
        c.generate_assignment(name)
        release = nbformat.read(c.release_path(name), as_version=4)
        c.submit("cli", name, solved(release, nbformat.read(solution_path(name), as_version=4)))
        c.close()
        cfg = os.path.join(tmp, "nbgrader_config.py")
        root = os.path.dirname(HERE)
        with open(cfg, "w") as fh:
            fh.write(f"exec(open({os.path.join(root, 'nbgrader_config.py')!r}).read())\n"
                     f"c.CourseDirectory.root = {tmp!r}\n"
                     f"c.CourseDirectory.source_directory = {os.path.join(root, 'solutions')!r}\n")
        env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
        t = time.perf_counter()
        p = subprocess.run([os.path.join(os.path.dirname(sys.executable), "nbgrader"), "autograde", name,
                            "--student", "cli", "--force"], cwd=tmp, env=env, capture_output=True, text=True)
        dt = time.perf_counter() - t
        assert p.returncode == 0, p.stderr[-2000:]
    return dt


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--class-size", type=int, default=100)
    ap.add_argument("--class-assignment", default="a3_bptt", choices=ASSIGNMENTS)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "grading.md"))
    args = ap.parse_args()

    load_before = load()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    singles = per_assignment(args.repeats)
    print("CLI ...", flush=True)
    cli = cli_once("a1_forward")
    print(f"CLI: {cli:.2f} s", flush=True)
    print(f"class of {args.class_size} ...", flush=True)
    cls = a_class(args.class_assignment, args.class_size)
    print(cls, flush=True)
    load_after = load()

    lines = [
        "# Grading times",
        "",
        f"Measured {started} with `python benchmarks/bench_grading.py` on {os.cpu_count()} cores "
        f"({platform.python_implementation()} {platform.python_version()}, {platform.machine()}); load average "
        f"(1/5/15 min) {load_before} before and {load_after} after (a load well above 1 on 2 cores means other "
        "jobs shared the machine: read the numbers as upper bounds).",
        "",
        f"Autograding through nbgrader's Python API (`NbGraderAPI.autograde`, in one process, with the course's "
        "grader: each call starts its grading workers, runs the notebook in a sandbox and its checks, hidden tests "
        "included, in the trusted process). One correct submission per call, "
        f"{args.repeats} calls (students) per assignment, each assignment in a new course directory.",
        "",
        "| Assignment | first call (s) | later calls (s, mean) |",
        "|---|---|---|",
    ]
    for name, ts in singles.items():
        later = ts[1:] or ts
        lines.append(f"| `{name}` | {ts[0]:.2f} | {sum(later) / len(later):.2f} |")
    c = cls["counts"]
    n = args.class_size
    lines += [
        "",
        f"A fresh `nbgrader autograde a1_forward --student cli` process (the CLI, one student): {cli:.1f} s.",
        "",
        f"A class of {n} made-up submissions of `{args.class_assignment}` ({c['correct']} correct, "
        f"{c['partial']} half-done, {c['untouched']} untouched), all students in one `autograde` run:",
        "",
        "| Step | seconds | per submission |",
        "|---|---|---|",
        f"| autograde | {cls['autograde']:.1f} | {cls['autograde'] / n:.2f} |",
        f"| generate_feedback | {cls['feedback']:.1f} | {cls['feedback'] / n:.2f} |",
        f"| export (CSV) | {cls['export']:.2f} | |",
        "",
        "The course's grader works on as many submissions at once as there are cores; `a4_char_lm` and "
        "`a9_attention` cost more because their training-run checks call the student's step hundreds of times "
        "across the sandbox (`benchmarks/bench_class.py` times a class of 300).",
        "",
    ]
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        fh.write("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
