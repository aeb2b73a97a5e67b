# The two commands of the README:  make book  (set up everything, build the book)  and  make test.
# Everything lives in a virtual environment (.venv); its bin/ goes first on PATH because nbgrader runs `alembic`.
VENV    ?= .venv
BIN     := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)
# Small matmuls run ~10x slower with OpenBLAS's thread pool on 2 cores: one thread for the book and the tests.
export OPENBLAS_NUM_THREADS := 1
export OMP_NUM_THREADS := 1
MATHJAX := 3.2.2
HUB_PROXY := 5.3.0
ROSTER ?= hub/roster.csv
HUB_STATE ?= /srv/rnn-course
LATE_PENALTY ?= course

.PHONY: book test test-fast install install-dev mathjax chromium sandbox student-versions benchmarks benchmarks-full \
        clean hub hub-install hub-stop

book: install mathjax
	@$(MAKE) -s sandbox || echo "warning: bubblewrap is missing; autograding refuses to run without its sandbox (apt-get install bubblewrap)"
	jupyter-book build .
	@echo "The book is in _build/html/index.html (open it in a browser; it needs no network)."

# Both tiers of tests/ (pyproject.toml): the fast one and the end-to-end pipeline (book, browser, nbgrader runs,
# fresh venvs, the instructors' page, the hub). -m here replaces the default selection, which skips the pipeline.
test: install-dev mathjax chromium sandbox hub-install
	python -m pytest -n 2 -m 'not slow'

# The fast tier alone (what `pytest` runs): the reference, the checks, the notebooks, the grader's parts.
test-fast: install-dev sandbox
	python -m pytest -n 2

$(BIN)/python:
	python3 -m venv $(VENV)

install: $(BIN)/python
	python -m pip install -q -r requirements.txt
	python -m pip check

install-dev: $(BIN)/python
	python -m pip install -q -r requirements-dev.txt
	python -m pip check

# MathJax from the npm registry, copied next to the book's static files (not committed, no CDN at view time).
mathjax: _static/mathjax/tex-svg.js
_static/mathjax/tex-svg.js:
	rm -rf _build/mathjax-pkg && mkdir -p _build/mathjax-pkg _static/mathjax
	cd _build/mathjax-pkg && npm pack --silent mathjax@$(MATHJAX) >/dev/null && tar xzf mathjax-$(MATHJAX).tgz
	cp -r _build/mathjax-pkg/package/es5/. _static/mathjax/
	rm -rf _build/mathjax-pkg

# Headless Chromium for the browser test of the built book (Debian packages; needs root).
chromium:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

# bubblewrap: the sandbox that autograding runs every submission in (Debian package; needs root to install).
sandbox:
	@command -v bwrap >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; }

# The course hub on this machine (book/exercises/instructors.md, "Running a term on a hub"; needs root):
# JupyterHub, the students' and graders' Unix accounts from $(ROSTER), nbgrader's exchange, the formgrader as a
# hub service and a PostgreSQL gradebook, all under $(HUB_STATE). Ctrl-C (or `make hub-stop`) stops it.
hub: hub-install sandbox
	@test -f $(ROSTER) || { echo "no roster at $(ROSTER): copy hub/roster.example.csv there and edit it"; exit 1; }
	python -m hub.course start --roster $(ROSTER) --state $(HUB_STATE) --late-penalty $(LATE_PENALTY)

hub-stop:
	python -m hub.course stop --state $(HUB_STATE)

# JupyterHub and the PostgreSQL driver (pip), PostgreSQL (Debian), configurable-http-proxy (npm, into hub/node).
hub-install: $(BIN)/python
	python -m pip install -q -r requirements.txt -r requirements-hub.txt
	python -m pip check
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }
	@test -x hub/node/node_modules/.bin/configurable-http-proxy || \
	  npm install --silent --no-audit --no-fund --prefix hub/node configurable-http-proxy@$(HUB_PROXY)

# Regenerate the student notebooks under book/exercises/ from solutions/ (nbgrader generate_assignment).
student-versions: install
	python scripts/release_exercises.py

benchmarks: install-dev
	python benchmarks/bench_reference.py --quick

# The full grid (about 10 minutes, printed as a markdown table) and the grading times (about 7 minutes,
# written to benchmarks/results/grading.md).
benchmarks-full: install-dev
	python benchmarks/bench_reference.py
	python benchmarks/bench_grading.py

clean:
	rm -rf _build
