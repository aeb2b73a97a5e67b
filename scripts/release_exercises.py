"""Generate the student versions of the exercises: solutions/<name>/<name>.ipynb -> book/exercises/<name>.ipynb.

    python scripts/release_exercises.py            # (re)write the nine student notebooks
    python scripts/release_exercises.py a3_bptt    # just one
    python scripts/release_exercises.py --check    # exit 1, naming them, if any committed notebook is stale

This runs `nbgrader generate_assignment` (through nbgrader's Python API, with the course's nbgrader_config.py)
in a temporary course directory, so neither the repository's release/ folder nor its gradebook is touched,
and writes the released notebook with outputs cleared, in a canonical form: rerunning it gives no diff.
Run it with the virtualenv's bin/ on PATH (nbgrader runs `alembic` from PATH to create its gradebook).
"""
import argparse
import contextlib
import os
import sys
import tempfile

import nbformat

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOLUTIONS = os.path.join(ROOT, "solutions")
EXERCISES = os.path.join(ROOT, "book", "exercises")
ASSIGNMENTS = ["a1_forward", "a2_loss", "a3_bptt", "a4_char_lm", "a5_architectures", "a6_bidirectional_deep",
               "a7_lstm", "a8_gru", "a9_attention"]


def ensure_alembic_on_path():
    """nbgrader creates a gradebook by running `alembic`; make sure the running Python's bin/ is on PATH."""
    bindir = os.path.dirname(sys.executable)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def course_config(root, source_directory=None, **overrides):
    """The course's nbgrader_config.py, pointed at another course directory `root`.

    source_directory: absolute or relative to root (default: the repository's solutions/).
    overrides: {"Execute.timeout": 5, ...} set on top.
    """
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=ROOT).load_config()
    cfg.CourseDirectory.root = os.path.abspath(root)
    cfg.CourseDirectory.source_directory = source_directory or SOLUTIONS
    extra = Config()
    for key, value in overrides.items():
        section, name = key.split(".")
        extra[section][name] = value
    cfg.merge(extra)
    return cfg


def _alembic_head_in_process():
    """nbgrader stamps a new gradebook with the alembic head revision, found by running `alembic heads` in a
    subprocess (several seconds on a busy machine, once per process). The same lookup in-process is instant;
    fall back to nbgrader's own way if alembic's API is not importable."""
    import nbgrader
    import nbgrader.api
    if getattr(nbgrader.api.get_alembic_version, "_in_process", False):
        return
    try:
        from alembic.script import ScriptDirectory
        head = ScriptDirectory(os.path.join(os.path.dirname(nbgrader.__file__), "alembic")).get_current_head()
    except Exception:  # pragma: no cover - keep nbgrader's subprocess
        return
    if not head:  # pragma: no cover
        return

    def get_alembic_version():
        return head
    get_alembic_version._in_process = True
    nbgrader.api.get_alembic_version = get_alembic_version


def make_api(cfg, log_level="WARN"):
    """An in-process NbGraderAPI for the course directory of cfg (log_level WARN: warnings and errors only)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    ensure_alembic_on_path()
    _alembic_head_in_process()
    api = NbGraderAPI(CourseDirectory(config=cfg), config=cfg)
    api.log_level = log_level
    return api


def canonical(nb):
    """The bytes we commit: outputs and execution counts cleared, nbformat's own layout, a final newline."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("widgets", None)
    return (nbformat.writes(nb) + "\n").encode("utf-8")


@contextlib.contextmanager
def _quiet_alembic():
    """alembic logs its migrations to stderr while nbgrader creates a gradebook; keep the output readable."""
    import logging
    logger = logging.getLogger("alembic")
    old = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(old)


def generate(names=None):
    """{name: the student notebook's bytes} as generate_assignment makes them from solutions/ right now."""
    names = names or ASSIGNMENTS
    out = {}
    with tempfile.TemporaryDirectory(prefix="rnn-release-") as tmp, _quiet_alembic():
        api = make_api(course_config(tmp))
        for name in names:
            result = api.generate_assignment(name)
            if not result["success"]:
                raise RuntimeError(f"nbgrader generate_assignment {name} failed:\n"
                                   f"{result.get('log', '')}\n{result.get('error', '')}")
            path = os.path.join(tmp, "release", name, name + ".ipynb")
            out[name] = canonical(nbformat.read(path, as_version=4))
    return out


def student_path(name):
    return os.path.join(EXERCISES, name + ".ipynb")


def stale(names=None):
    """Names whose committed book/exercises/<name>.ipynb differs from what generation gives now."""
    fresh = generate(names)
    bad = []
    for name, data in fresh.items():
        path = student_path(name)
        if not os.path.exists(path) or open(path, "rb").read() != data:
            bad.append(name)
    return bad


def write(names=None):
    for name, data in generate(names).items():
        path = student_path(name)
        old = open(path, "rb").read() if os.path.exists(path) else None
        if old != data:
            with open(path, "wb") as f:
                f.write(data)
            print(f"wrote {os.path.relpath(path, ROOT)}")
        else:
            print(f"unchanged {os.path.relpath(path, ROOT)}")
        placeholder = os.path.join(EXERCISES, name + ".md")  # a page of the same name would clash in the book
        if os.path.exists(placeholder):
            os.remove(placeholder)
            print(f"removed placeholder {os.path.relpath(placeholder, ROOT)}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("names", nargs="*", help="assignments (default: all nine)")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 if any student version is stale")
    args = p.parse_args(argv)
    unknown = [n for n in args.names if n not in ASSIGNMENTS]
    if unknown:
        p.error(f"unknown assignment(s) {', '.join(unknown)}; expected some of {', '.join(ASSIGNMENTS)}")
    names = args.names or None
    if args.check:
        bad = stale(names)
        for name in bad:
            print(f"stale: book/exercises/{name}.ipynb differs from nbgrader generate_assignment "
                  f"of solutions/{name}/{name}.ipynb (run: python scripts/release_exercises.py {name})")
        if bad:
            return 1
        print(f"up to date: {len(names or ASSIGNMENTS)} student notebook(s)")
        return 0
    write(names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
