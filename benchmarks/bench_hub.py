"""The course hub under a class: N simulated students (30 by default) fetch and submit at the same moment.

Starts the hub on 127.0.0.1 as tests/test_hub.py does (`python -m hub.course start`, temporary accounts, state
folder and PostgreSQL cluster), releases a1_forward, starts every student's server, then lets N threads, one per
student, each fetch the assignment, save a filled-in notebook and submit it, all at once, through the students'
servers (nbgrader's assignment_list endpoints and the contents API). Then the instructor collects, autogrades
(the course's sandboxed grader) and exports, and the script checks that nothing is lost: N submissions in the
exchange, N collected, N rows with the expected score. Everything is removed at the end. Needs root.
Writes benchmarks/results/hub.md.

    python benchmarks/bench_hub.py                   # 30 students
    python benchmarks/bench_hub.py --students 5 --out /tmp/hub.md
"""
import argparse
import csv
import datetime
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import nbformat

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))
from grading_helpers import solution_path, solved  # noqa: E402
from hub import course  # noqa: E402
from hub.client import Hub, free_ports  # noqa: E402

A = "a1_forward"


def load():
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def hub_command(*args):
    proc = subprocess.run([sys.executable, "-m", "hub.course", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=1800)
    if proc.returncode:
        raise RuntimeError(f"hub.course {args[0]} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def run(n):
    tag = "b" + secrets.token_hex(2)
    students = [f"{tag}-s{i:02d}" for i in range(1, n + 1)]
    prof = f"{tag}-prof"
    tmp = tempfile.mkdtemp(prefix="rnn-hub-bench-")
    os.chmod(tmp, 0o755)
    roster, state = os.path.join(tmp, "roster.csv"), os.path.join(tmp, "srv")
    with open(roster, "w", encoding="utf-8") as f:
        f.write("id,role,first_name,last_name,email\n" + f"{prof},instructor,P,Rof,p@example.edu\n")
        f.writelines(f"{s},student,S,{s},{s}@example.edu\n" for s in students)
    port, hub_port, api_port, svc_port, pg_port = free_ports(5)
    r = {"n": n, "load_before": load()}
    try:
        t = time.time()
        hub_command("start", "--roster", roster, "--state", state, "--port", str(port), "--hub-port", str(hub_port),
                    "--proxy-api-port", str(api_port), "--service-port", str(svc_port), "--pg-port", str(pg_port),
                    "--detach")
        r["start"] = time.time() - t
        settings = course.load_settings(state)
        hub = Hub(f"http://127.0.0.1:{port}", open(settings["admin_token_file"]).read().strip(), timeout=600)
        instructor = hub.user(prof)
        instructor.formgrader_ok("POST", f"/assignment/{A}/assign")
        instructor.formgrader_ok("POST", f"/assignment/{A}/release")

        # every student's server, asked for at once (the hub spawns them concurrently)
        t = time.time()
        errors = []
        threads = [threading.Thread(target=lambda s=s: _guard(errors, s, hub.start_server, s, 900)) for s in students]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        if errors:
            raise RuntimeError(f"servers failed to start: {errors[:3]}")
        r["spawn"] = time.time() - t
        r["rss_mb"] = [_rss_mb(s) for s in students]
        users = {s: hub.user(s) for s in students}
        sol = nbformat.read(solution_path(A), as_version=4)

        # the class fetches, saves and submits at the same moment
        per, start_gate = {}, threading.Event()

        def student(s):
            start_gate.wait()
            t0 = time.time()
            u = users[s]
            u.fetch(A)
            nb = u.read_notebook(f"{A}/{A}.ipynb")
            u.write_notebook(f"{A}/{A}.ipynb", solved(nbformat.from_dict(nb), sol))
            u.submit(A)
            per[s] = time.time() - t0

        threads = [threading.Thread(target=lambda s=s: _guard(errors, s, student, s)) for s in students]
        for th in threads:
            th.start()
        t = time.time()
        start_gate.set()
        for th in threads:
            th.join()
        r["burst"] = time.time() - t
        r["per"] = list(per.values())
        r["errors"] = list(errors)

        inbound = os.listdir(os.path.join(settings["exchange"], "rnn-course", "inbound"))
        r["inbound"] = len({name.split("+")[0] for name in inbound})
        t = time.time()
        instructor.formgrader_ok("POST", f"/assignment/{A}/collect")
        r["collect"] = time.time() - t
        r["collected"] = sum(os.path.exists(os.path.join(settings["course_dir"], "submitted", s, A, A + ".ipynb"))
                             for s in students)
        t = time.time()
        hub_command("run", "--state", state, "--", "nbgrader", "autograde", A)
        r["autograde"] = time.time() - t
        hub_command("run", "--state", state, "--", "nbgrader", "export", "--to", "grades.csv")
        with open(os.path.join(settings["course_dir"], "grades.csv"), newline="") as f:
            rows = [x for x in csv.DictReader(f) if x["assignment"] == A and x["student_id"] in students]
        r["exported"] = len(rows)
        r["full_marks"] = sum(float(x["raw_score"]) == 10.0 for x in rows)   # 10 automatic points; written ungraded
    finally:
        try:
            hub_command("destroy", "--roster", roster, "--state", state)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    r["load_after"] = load()
    return r


def _rss_mb(user):
    """Resident memory of a user's processes (their Jupyter server), in MB."""
    out = subprocess.run(["ps", "-o", "rss=", "-u", user], capture_output=True, text=True).stdout
    return sum(int(x) for x in out.split()) / 1024


def _guard(errors, who, f, *args):
    try:
        f(*args)
    except Exception as e:  # reported in the results
        errors.append(f"{who}: {e}")


def report(r):
    n = r["n"]
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lost = n - min(r["inbound"], r["collected"], r["exported"])
    return "\n".join([
        "# The course hub under a class",
        "",
        f"Measured {now} with `python benchmarks/bench_hub.py --students {n}` on {os.cpu_count()} cores "
        f"(CPython {platform.python_version()}, {platform.machine()}); load average (1/5/15 min) {r['load_before']} "
        f"before and {r['load_after']} after (the load after counts the {n} servers this run started; a load before "
        "well above the number of cores means other jobs shared the machine: read the times as upper bounds).",
        "",
        f"One machine: JupyterHub 6 with the local process spawner, one Jupyter server per student, nbgrader's "
        f"filesystem exchange, the formgrader service and a PostgreSQL gradebook, all on 127.0.0.1 "
        f"(`python -m hub.course start`). {n} students, each in a thread of its own, fetch `{A}`, save a filled-in "
        "notebook and submit it, all released at the same moment, through their servers' nbgrader endpoints.",
        "",
        "| Step | seconds |",
        "|---|---|",
        f"| start the hub (accounts, PostgreSQL, JupyterHub, formgrader) | {r['start']:.1f} |",
        f"| start {n} students' servers, asked for at once | {r['spawn']:.1f} |",
        f"| **{n} students fetch, save and submit at once: all served** | **{r['burst']:.1f}** |",
        f"| one student's fetch + save + submit: median / 90th percentile / slowest | "
        f"{statistics.median(r['per']):.2f} / {pct(r['per'], 0.9):.2f} / {max(r['per']):.2f} |",
        f"| collect ({n} submissions, formgrader) | {r['collect']:.2f} |",
        f"| `nbgrader autograde {A}` ({n} submissions, sandboxed, parallel) | {r['autograde']:.1f} "
        f"({60 * n / r['autograde']:.0f} submissions a minute) |",
        "",
        f"Nothing lost: {r['inbound']} of {n} submissions in the exchange, {r['collected']} collected, "
        f"{r['exported']} exported, {r['full_marks']} with the full 10 automatic points; "
        f"{len(r['errors'])} request errors{': ' + '; '.join(r['errors'][:3]) if r['errors'] else ''}. "
        f"({'OK' if lost == 0 and not r['errors'] and r['full_marks'] == n else 'PROBLEM'})",
        "",
        f"An idle student's server holds {statistics.median(r['rss_mb']):.0f} MB of resident memory (median; "
        f"{sum(r['rss_mb']) / 1024:.1f} GB for the {n}). Starting servers is what costs CPU: ask students to open "
        "the hub before a deadline rather than in its last minute.",
        "",
    ])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--students", type=int, default=30)
    p.add_argument("--out", default=os.path.join(HERE, "results", "hub.md"))
    a = p.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench_hub.py makes Unix accounts: run it as root")
    if not 1 <= a.students <= 200:
        raise ValueError(f"--students: expected 1 to 200, got {a.students}")
    text = report(run(a.students))
    with open(a.out, "w", encoding="utf-8") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
