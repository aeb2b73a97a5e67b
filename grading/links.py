"""Chapter links that work outside the book.

The source notebooks link to the chapters relative to the repository (``[BPTT](../05_bptt.md)``), which is dead
in a downloaded notebook, on a JupyterHub and in feedback HTML. ``PublishedChapterLinks``, the first of
``nbgrader generate_assignment``'s preprocessors (nbgrader_config.py), rewrites them to the published chapter,
``<course_published_url>book/05_bptt.html``, with the address set once in _config.yml
(``sphinx: config: course_published_url``). The student versions in the
book (scripts/release_exercises.py runs the same generate_assignment) get the same links, and the book's own
build turns them back into relative links (_ext/student_bundle.py), so the site stays offline.
"""
import os
import re

from nbgrader.preprocessors import NbGraderPreprocessor

__all__ = ["CHAPTER_LINK", "PublishedChapterLinks", "link_chapters", "published_base_url"]

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
CHAPTER_LINK = re.compile(r"\]\(\.\./([0-9A-Za-z_-]+)\.md(#[^)]*)?\)")


def published_base_url(config_path=os.path.join(ROOT, "_config.yml")):
    """The book's published address, sphinx.config.course_published_url in _config.yml (ends with '/')."""
    import yaml
    with open(config_path, encoding="utf-8") as f:
        base = (((yaml.safe_load(f) or {}).get("sphinx") or {}).get("config") or {}).get("course_published_url") or ""
    if not base.startswith(("http://", "https://")):
        raise ValueError(f"{config_path}: sphinx.config.course_published_url must be the book's published http(s) "
                         f"address, got {base!r}")
    return base.rstrip("/") + "/"


def link_chapters(nb, base=None):
    """Rewrite `](../05_bptt.md#x)` in markdown cells to `](<base>book/05_bptt.html#x)` (in place; returns nb)."""
    base = base or published_base_url()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = CHAPTER_LINK.sub(lambda m: f"]({base}book/{m.group(1)}.html{m.group(2) or ''})", cell.source)
    return nb


class PublishedChapterLinks(NbGraderPreprocessor):
    """nbgrader preprocessor: relative chapter links -> the published book's chapter pages."""

    def preprocess(self, nb, resources):
        return link_chapters(nb), resources
