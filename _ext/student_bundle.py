"""A local Sphinx extension (loaded from _config.yml): the student bundle, built with the book and served from
the site as ``rnn-course-student.zip`` at its top (linked from the exercises page).

The zip holds one folder, ``rnn-course-student/``, with the student notebooks (book/exercises/*.ipynb,
whose chapter links point to the published book), a wheel of ``rnn_ref`` built from this checkout (no network:
``pip wheel --no-deps --no-build-isolation``) and a README with the one install line. A student needs nothing
else but pip's registry (for numpy and JupyterLab).

It also points the book's own links to chapters back inside the site: the student notebooks link to the
published chapters (``<course_published_url>book/05_bptt.html``, grading/links.py), which in the built book
become relative links, so the offline site stays offline. ``course_published_url`` is a Sphinx config value that
this extension registers; _config.yml sets it (sphinx: config:).
"""
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

BUNDLE = "rnn-course-student"

README = """# Recurrent Neural Networks, derived and built: the exercises

The {count} exercise notebooks of the course and `rnn_ref`, the course's reference code, which the notebooks use
for their checks. The book: {base}

You need Python {floor} or newer. In this folder, once:

    python3 -m venv .venv
    . .venv/bin/activate                 (Windows: .venv\\Scripts\\activate)
    pip install {wheel} jupyterlab

Then, each time: activate the environment as above and run `jupyter lab`; open a notebook (a1_forward.ipynb
first). Keep the file names: the grader finds your work by them. How to work and hand in:
{base}book/exercises/index.html
"""


def python_floor(root):
    """'3.11' from pyproject.toml's requires-python = ">=3.11"."""
    with open(root / "pyproject.toml", "rb") as f:
        spec = tomllib.load(f)["project"]["requires-python"]
    if not spec.startswith(">="):
        raise ValueError(f"pyproject.toml: requires-python should be '>=X.Y', got {spec!r}")
    return spec[2:].strip()


def build_wheel(root, out):
    """Build rnn_ref's wheel from a copy holding only pyproject.toml and rnn_ref/ (not the instructor tools)."""
    with tempfile.TemporaryDirectory(prefix="rnn-wheel-") as tmp:
        stage = Path(tmp) / "src"
        stage.mkdir()
        shutil.copy(root / "pyproject.toml", stage)
        shutil.copytree(root / "rnn_ref", stage / "rnn_ref", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                               "--no-index", "-w", str(Path(tmp) / "dist"), str(stage)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"building the rnn_ref wheel failed:\n{proc.stdout}\n{proc.stderr}")
        [wheel] = (Path(tmp) / "dist").glob("rnn_ref-*.whl")
        return Path(shutil.copy(wheel, out))


def build_bundle(root, out_dir, base):
    """Write out_dir/rnn-course-student.zip; return its path."""
    root, out_dir = Path(root), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rnn-bundle-") as tmp:
        wheel = build_wheel(root, Path(tmp))
        notebooks = sorted((root / "book" / "exercises").glob("a*.ipynb"))
        readme = README.format(base=base, floor=python_floor(root), wheel=wheel.name, count=len(notebooks))
        target = out_dir / f"{BUNDLE}.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(f"{BUNDLE}/README.md", readme)
            z.write(wheel, f"{BUNDLE}/{wheel.name}")
            for nb in notebooks:
                z.write(nb, f"{BUNDLE}/{nb.name}")
    return target


def _bundle(app):
    from sphinx.util import logging

    if app.builder.format != "html":
        return
    root = Path(app.confdir)
    if not (root / "pyproject.toml").exists() or not (root / "rnn_ref").is_dir():
        logging.getLogger(__name__).info("student bundle: skipped (no pyproject.toml and rnn_ref/ beside _config.yml)")
        return
    out_dir = Path(app.outdir).parent / "student-bundle"
    build_bundle(root, out_dir, app.config.course_published_url)
    app.config.html_extra_path = list(app.config.html_extra_path) + [str(out_dir)]


def _published_links_to_relative(app, doctree, docname):
    from docutils import nodes

    base = (app.config.course_published_url or "").rstrip("/") + "/"
    if base == "/" or app.builder.format != "html":
        return
    for ref in doctree.traverse(nodes.reference):
        uri = ref.get("refuri", "")
        if not uri.startswith(base) or not uri.split("#")[0].endswith(".html"):
            continue
        path, _, anchor = uri[len(base):].partition("#")
        target = path[:-len(".html")]
        if target in app.env.all_docs:
            ref["refuri"] = app.builder.get_relative_uri(docname, target) + (f"#{anchor}" if anchor else "")


def setup(app):
    app.add_config_value("course_published_url", "", "html", types=[str])
    app.connect("builder-inited", _bundle)
    app.connect("doctree-resolved", _published_links_to_relative)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
