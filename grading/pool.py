"""Grading workers: trusted processes that each grade one notebook at a time (sandbox and checks).

`python -m grading.pool SECRET_FILE` reads one job per line on stdin and writes one result per line on stdout,
both JSON: {"path", "assignment", "tests", "options"} -> {"outputs", "incidents"} or {"error"}. A fixed program
rather than multiprocessing, so that starting a worker never re-runs the instructor's script or forks a process
that has threads.
"""
import json
import os
import selectors
import subprocess
import sys
import traceback
from collections import deque
from dataclasses import asdict

from .sandbox import Limits


def options_to_json(options):
    return asdict(options)


def options_from_json(d):
    from .trusted import Options
    return Options(cell_timeout=d["cell_timeout"], notebook_timeout=d["notebook_timeout"],
                   limits=Limits(**d["limits"]))


def grade_job(job):
    from .trusted import grade_notebook
    with open(job["path"], encoding="utf-8") as f:
        cells = json.load(f).get("cells", [])
    outputs, incidents = grade_notebook(cells, job["tests"], job["assignment"], options_from_json(job["options"]))
    return {"outputs": {str(k): v for k, v in outputs.items()}, "incidents": incidents}


def decode_result(r):
    """(outputs {cell index: [outputs]}, incidents) of a worker's result; RuntimeError for a failed job."""
    if "error" in r:
        raise RuntimeError(r["error"])
    return {int(k): v for k, v in r["outputs"].items()}, r["incidents"]


WORKER_MEMORY = 6 << 30   # address space of a grading worker: a student's call of an allowed rnn_ref function with
                          # absurd sizes fails with MemoryError (sent back to the student's code), never the machine


def main():
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, WORKER_MEMORY))
    from rnn_ref.checks.engine import set_hidden_secret
    with open(sys.argv[1], encoding="ascii") as f:
        set_hidden_secret(f.read().strip())
    for line in sys.stdin:
        try:
            result = grade_job(json.loads(line))
        except Exception:
            result = {"error": traceback.format_exc(limit=5)}
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


class Pool:
    """n worker processes; submit(key, job) queues a job, results() yields (key, result) as jobs finish."""

    def __init__(self, n, secret_file):
        self.secret_file, self.workers = secret_file, []
        self.idle, self.busy, self.queue = deque(), {}, deque()
        self.sel = selectors.DefaultSelector()
        for _ in range(n):
            self._start()

    def _start(self):
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        w = subprocess.Popen([sys.executable, "-m", "grading.pool", self.secret_file], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=env, bufsize=1)
        self.workers.append(w)
        self.idle.append(w)
        self.sel.register(w.stdout, selectors.EVENT_READ, w)

    def submit(self, key, job):
        self.queue.append((key, job))
        self._dispatch()

    def _dispatch(self):
        while self.idle and self.queue:
            w = self.idle.popleft()
            key, job = self.queue.popleft()
            self.busy[w] = key
            w.stdin.write(json.dumps(job) + "\n")
            w.stdin.flush()

    def pending(self):
        return len(self.busy) + len(self.queue)

    def results(self, block=True):
        """(key, result) of the jobs that are done (waiting for one at least, when block)."""
        done = []
        while self.busy and not done:
            for sk, _ in self.sel.select(timeout=None if block else 0):
                w = sk.data
                line = w.stdout.readline()
                key = self.busy.pop(w)
                if not line:   # the worker died: its job fails, a new worker takes its place
                    done.append((key, {"error": f"a grading worker died (exit status {w.wait()})"}))
                    self.sel.unregister(w.stdout)
                    self._start()
                    continue
                done.append((key, json.loads(line)))
                self.idle.append(w)
            if not block:
                break
        self._dispatch()
        return done

    def close(self):
        for w in self.workers:
            try:
                w.stdin.close()
            except OSError:
                pass
        for w in self.workers:
            try:
                w.wait(timeout=10)
            except subprocess.TimeoutExpired:
                w.kill()


if __name__ == "__main__":
    main()
