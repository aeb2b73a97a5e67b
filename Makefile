# The two commands of the README:  make book  (set up everything, build the book)  and  make test.
# Everything lives in a virtual environment (.venv); its bin/ goes first on PATH because nbgrader runs `alembic`.
VENV    ?= .venv
BIN     := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)
# Small matmuls run ~10x slower with OpenBLAS's thread pool on 2 cores: one thread for the book and the tests.
export OPENBLAS_NUM_THREADS := 1
export OMP_NUM_THREADS := 1
MATHJAX := 3.2.2

.PHONY: book test install install-dev mathjax chromium sandbox student-versions benchmarks benchmarks-full clean

book: install mathjax
	@$(MAKE) -s sandbox || echo "warning: bubblewrap is missing; autograding refuses to run without its sandbox (apt-get install bubblewrap)"
	jupyter-book build .
	@echo "The book is in _build/html/index.html (open it in a browser; it needs no network)."

test: install-dev mathjax chromium sandbox
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
