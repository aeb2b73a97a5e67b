"""Build the book once per test run, shared by tests/test_book.py and tests/test_browser.py.

`built_book()` runs `jupyter-book build . -W --keep-going` twice into one output directory: the first build
executes what the cache does not already hold, the second (nothing changed) must execute nothing. Under
pytest-xdist two workers may ask at once: a file lock serialises them, and the second worker reuses the
first one's result (a JSON report stamped with the run's id) instead of building again.

The output directory defaults to the repository root (so the site is `_build/html` and the execution cache
`_build/.jupyter_cache` is the one `make book` uses); set RNN_BOOK_BUILD_DIR=/tmp/somewhere to build elsewhere.
"""
import fcntl
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


@dataclass
class BookBuild:
    html: str                      # the built site
    returncode: int                # of the first build (non-zero: a warning or an error)
    seconds: float                 # first build, wall clock
    rebuild_seconds: float         # second build, nothing changed
    executed: list = field(default_factory=list)            # notebooks the first build executed
    reexecuted: list = field(default_factory=list)          # notebooks the second build executed (must be [])
    warnings: list = field(default_factory=list)            # Sphinx warning/error lines of the first build
    rebuild_returncode: int = 0
    changed_during_build: list = field(default_factory=list)  # sources edited while the builds ran
    log_tail: str = ""

    @property
    def html_dir(self):
        return Path(self.html)


def build_dir():
    return Path(os.environ.get("RNN_BOOK_BUILD_DIR", ROOT)).resolve()


def _run_build(out, root=ROOT):
    # One BLAS thread: on 2 shared cores OpenBLAS's pool makes the chapters' small matmuls ~10x slower.
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", PYTHONHASHSEED="0",
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    jb = VENV_BIN / "jupyter-book"
    cmd = [str(jb) if jb.exists() else "jupyter-book", "build", ".", "-W", "--keep-going", "--path-output", str(out)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - t0
    log = proc.stdout + "\n" + proc.stderr
    executed = sorted(set(re.findall(r"^(\S+): Executing notebook", log, flags=re.M)))
    warnings = [ln for ln in log.splitlines() if re.search(r"\b(WARNING|ERROR|CRITICAL): ", ln)]
    return proc.returncode, seconds, executed, warnings, log


def _source_hashes():
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for pat in ("book/**/*.md", "book/**/*.ipynb", "_config.yml", "_toc.yml") for p in ROOT.glob(pat)}


def _build(out):
    before = _source_hashes()
    rc, seconds, executed, warnings, log = _run_build(out)
    rc2, seconds2, reexecuted, warnings2, log2 = _run_build(out)
    after = _source_hashes()
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    return BookBuild(html=str(out / "_build" / "html"), returncode=rc, seconds=round(seconds, 1),
                     rebuild_seconds=round(seconds2, 1), executed=executed, reexecuted=reexecuted,
                     warnings=warnings, rebuild_returncode=rc2, changed_during_build=changed,
                     log_tail=log[-6000:])


_CACHE = {}


def built_book():
    """The BookBuild of this test run (building the book if no other worker of the run has)."""
    if "build" in _CACHE:
        return _CACHE["build"]
    out = build_dir()
    (out / "_build").mkdir(parents=True, exist_ok=True)
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid{os.getpid()}"
    report = out / "_build" / "book-build-report.json"
    with open(out / "_build" / ".book-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)          # the other worker waits here while one builds
        try:
            data = json.loads(report.read_text()) if report.exists() else {}
        except ValueError:
            data = {}
        if data.get("run_id") == run_id:
            result = BookBuild(**data["build"])
        else:
            result = _build(out)
            report.write_text(json.dumps({"run_id": run_id, "build": asdict(result)}, indent=1))
        fcntl.flock(lock, fcntl.LOCK_UN)
    _CACHE["build"] = result
    return result
