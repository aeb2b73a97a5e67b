"""The book builds clean, is complete, publishes no solution, needs no network, and rebuilds from the cache.

The build (tests/book_build.py) runs once per test run; every test here reads its result or the built site.
"""
import html as htmllib
from html.parser import HTMLParser
import json
import re
from pathlib import Path

import pytest
import yaml

from book_build import ROOT, built_book

pytestmark = pytest.mark.book

TEXT_SUFFIXES = {".html", ".ipynb", ".md", ".txt", ".js", ".json", ".py", ".css", ".inv"}


@pytest.fixture(scope="module")
def book():
    b = built_book()
    print(f"\nbook build: {b.seconds} s (executed {len(b.executed)} notebooks), "
          f"unchanged rebuild: {b.rebuild_seconds} s (executed {len(b.reexecuted)})")
    assert b.html_dir.joinpath("index.html").exists(), f"the build made no site; log:\n{b.log_tail}"
    return b


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for e in entries or []:
            if "file" in e:
                files.append(e["file"])
            walk(e.get("sections"))
            walk(e.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return files


def site_files(book):
    return [p for p in book.html_dir.rglob("*") if p.is_file()]


def visible_text(path):
    """The text a reader could get at in a site file: HTML without tags and entities, notebook cells joined."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".html":
        raw = htmllib.unescape(re.sub(r"<[^>]+>", "", raw))
    elif path.suffix == ".ipynb":
        try:
            nb = json.loads(raw)
            parts = []
            for c in nb.get("cells", []):
                parts.append("".join(c.get("source", [])))
                for o in c.get("outputs", []):
                    parts.append("".join(o.get("text", [])))
                    parts.extend("".join(v) if isinstance(v, list) else str(v) for v in o.get("data", {}).values())
            raw = "\n".join(parts)
        except ValueError:
            pass
    return raw


def norm(s):
    return re.sub(r"\s+", " ", s).strip()


def solution_lines():
    """Distinctive pieces of every solution and hidden-test region of solutions/*/*.ipynb.

    A piece is either one line of at least 50 characters or two consecutive lines (joined by a space) of at
    least 40 characters together, code not comments. Single short lines (`h = np.zeros((T, B, H))`) are too
    generic to prove a leak; a leaked region almost always brings two consecutive lines with it. Pieces that
    also occur outside the solution regions (given scaffolding, published on purpose) or in rnn_ref's own
    source (the reference implementation is public) are no secret and are left out.
    """
    public_lines = []
    for p in (ROOT / "rnn_ref").rglob("*.py"):
        public_lines += [norm(ln) for ln in p.read_text().splitlines()]
    secret = {}
    for nb_path in sorted(ROOT.glob("solutions/*/*.ipynb")):
        nb = json.loads(nb_path.read_text())
        for cell in nb["cells"]:
            src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            inside, region = False, []
            for ln in src.splitlines():
                s = ln.strip()
                if MARKER_BEGIN.match(s):
                    inside, region = True, []
                elif MARKER_END.match(s):
                    inside = False
                    code = [norm(x) for x in region if x.strip() and not x.strip().startswith("#")]
                    for a in code:
                        if len(a) >= 50:
                            secret[a] = nb_path.relative_to(ROOT).as_posix()
                    for a, b in zip(code, code[1:]):
                        if len(a) + len(b) >= 40:
                            secret[f"{a} {b}"] = nb_path.relative_to(ROOT).as_posix()
                elif inside:
                    region.append(ln)
                else:
                    public_lines.append(norm(s))
    public = " ".join(public_lines)          # consecutive public lines form public pairs
    return {piece: src for piece, src in secret.items() if piece not in public}


MARKER_BEGIN = re.compile(r"#+ ?BEGIN (SOLUTION|HIDDEN TESTS)")
MARKER_END = re.compile(r"#+ ?END (SOLUTION|HIDDEN TESTS)")
# A marker used as a marker starts its line (in code); prose that names the format mid-sentence is fine.
MARKER_AT_LINE_START = re.compile(r"^[ \t>\"]*#+ ?(BEGIN|END) (SOLUTION|HIDDEN TESTS)", re.M)


def test_build_has_no_warnings(book, record_property):
    # the timings: printed with -s, in the junit XML, and in <build dir>/_build/book-build-report.json
    record_property("book_build_seconds", book.seconds)
    record_property("book_rebuild_seconds", book.rebuild_seconds)
    record_property("notebooks_executed", len(book.executed))
    assert book.returncode == 0 and not book.warnings, (
        "jupyter-book build -W --keep-going failed; warnings:\n" + "\n".join(book.warnings[:30])
        + f"\n--- log tail ---\n{book.log_tail}")


def test_every_toc_entry_has_a_page(book):
    files = toc_files()
    assert len(files) >= 18, files
    missing = [f for f in files if not (book.html_dir / f"{f}.html").exists()]
    assert not missing, f"no HTML page for these _toc.yml entries: {missing}"


def test_every_notebook_page_offers_its_notebook(book):
    """The download menu of every executed chapter offers the .ipynb (with outputs) and the .md source."""
    missing = []
    for f in toc_files():
        src = ROOT / f"{f}.md"
        if not (src.exists() and "kernelspec:" in src.read_text(encoding="utf-8")[:600]):
            continue
        page = (book.html_dir / f"{f}.html").read_text(encoding="utf-8")
        nb = book.html_dir / "_sources" / f"{f}.ipynb"
        if f"_sources/{f}.ipynb" not in page or not nb.exists():
            missing.append(f)
        elif not json.loads(nb.read_text())["cells"]:
            missing.append(f"{f} (empty notebook)")
    assert not missing, f"no .ipynb download for: {missing}"


def test_unchanged_rebuild_executes_nothing(book):
    assert book.rebuild_returncode == 0, "the second (unchanged) build failed"
    # A source someone edited while the two builds ran is rightly re-executed; everything else must come from
    # the cache. (In CI nothing changes, so this excludes nothing.)
    again = [p for p in book.reexecuted if p not in book.changed_during_build]
    assert again == [], f"an unchanged rebuild re-executed {again}: the execution cache missed"
    assert len(book.changed_during_build) < len(toc_files()), "every source changed during the build"


def test_no_solution_text_in_site(book):
    lines = solution_lines()
    if list(ROOT.glob("solutions/*/*.ipynb")):
        assert lines, "solution notebooks exist but no solution line was found in them: is the marker format right?"
    leaks = []
    for p in site_files(book):
        if p.suffix not in TEXT_SUFFIXES:
            continue
        raw = p.read_text(encoding="utf-8", errors="replace")
        visible = visible_text(p)
        text = norm(visible)
        for source in (visible, raw.replace("\\n", "\n")):      # ipynb/json sources keep lines as "\n"
            for m in MARKER_AT_LINE_START.finditer(source):
                leaks.append(f"{p.relative_to(book.html_dir)}: marker {m.group(0).strip()!r}")
        for ln, src in lines.items():
            if ln in text or ln in raw:
                leaks.append(f"{p.relative_to(book.html_dir)}: line of {src}: {ln!r}")
    assert not leaks, "solution text reached the site:\n" + "\n".join(leaks[:40])


def test_nothing_from_solutions_tests_or_rnn_ref_in_site(book):
    bad = []
    for p in site_files(book):
        rel = p.relative_to(book.html_dir).as_posix()
        parts = rel.split("/")
        if parts[0] == "_sources":
            parts = parts[1:]
        if parts[0] in ("solutions", "tests", "rnn_ref", "source", "release", "submitted", "autograded", "feedback"):
            bad.append(rel)
        if p.suffix == ".py":
            bad.append(rel)
    toc = set(toc_files())
    pages = {p.relative_to(book.html_dir).with_suffix("").as_posix() for p in book.html_dir.glob("book/**/*.html")}
    bad += sorted(f"{p}.html (not in _toc.yml)" for p in pages - toc)
    assert not bad, f"files that must not be published: {bad[:40]}"


ASSET_PATTERNS = [
    (r"<script\b[^>]*\bsrc=[\"']([^\"']+)", "script"),
    (r"<link\b[^>]*\bhref=[\"']([^\"']+)", "link"),
    (r"<(?:img|iframe|source|embed|audio|video)\b[^>]*\bsrc=[\"']([^\"']+)", "media"),
    (r"url\(\s*[\"']?([^\"')\s]+)", "css url()"),
    (r"@import\s+[\"']([^\"']+)", "css @import"),
]


def external_assets(text):
    found = []
    for pat, kind in ASSET_PATTERNS:
        for url in re.findall(pat, text, flags=re.I):
            if re.match(r"(https?:)?//", url.strip()):
                found.append(f"{kind} {url}")
    for m in re.finditer(r"\b(?:https?:)?//(?:cdn|unpkg|cdnjs|fonts\.googleapis|fonts\.gstatic)[\w.-]*", text):
        found.append(f"CDN mention {m.group(0)}")
    return found


def test_no_network_assets(book):
    """No script, stylesheet, font, image or frame from the network; links (<a href>) to papers are fine."""
    bad = []
    for p in site_files(book):
        if p.suffix not in (".html", ".css"):
            continue
        text = p.read_text(encoding="utf-8", errors="replace")
        if p.suffix == ".html":
            # <link rel="canonical"> and similar metadata are not fetched; only count fetched relations
            text = re.sub(r"<link\b(?![^>]*rel=[\"'](?:stylesheet|preload|icon|shortcut icon|modulepreload|prefetch)"
                          r"[\"'])[^>]*>", "", text, flags=re.I)
        bad += [f"{p.relative_to(book.html_dir)}: {a}" for a in external_assets(text)]
    assert not bad, "the site loads from the network:\n" + "\n".join(sorted(set(bad))[:40])


def test_mathjax_is_local_and_loaded_once(book):
    pages_with_math = 0
    for p in book.html_dir.glob("book/**/*.html"):
        text = p.read_text(encoding="utf-8")
        scripts = re.findall(r"<script\b[^>]*\bsrc=[\"']([^\"']*mathjax[^\"']*)", text)
        assert len(scripts) <= 1, f"{p.name}: MathJax loaded {len(scripts)} times: {scripts[:5]}"
        if scripts:
            pages_with_math += 1
            target = (p.parent / scripts[0].split("?")[0]).resolve()
            assert target.name == "tex-svg.js" and target.exists(), f"{p.name}: MathJax at {target} is missing"
    assert pages_with_math >= 3, "fewer than 3 pages load MathJax: is the math being rendered at all?"


def test_search_index_is_local(book):
    assert (book.html_dir / "searchindex.js").stat().st_size > 1000
    search = (book.html_dir / "search.html").read_text()
    assert "searchindex.js" in search and not external_assets(search)


def test_the_detectors_catch_leaks_and_cdn_assets(tmp_path):
    """The checks above are only as good as their detectors: feed them a leak and CDN assets."""
    assert external_assets('<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-svg.js"></script>')
    assert external_assets('<link rel="stylesheet" href="//fonts.googleapis.com/css?family=Lato">')
    assert external_assets("@font-face { src: url(https://example.org/f.woff2) }")
    assert not external_assets('<script src="../_static/mathjax/tex-svg.js"></script>')
    assert not external_assets('<a href="https://norvig.com/chomsky.html">Norvig</a>')
    assert MARKER_AT_LINE_START.search('    "    ### BEGIN SOLUTION\n",')
    assert MARKER_AT_LINE_START.search("x = 1\n### END HIDDEN TESTS\n")
    assert not MARKER_AT_LINE_START.search("cells between `### BEGIN SOLUTION` and `### END SOLUTION` are removed")
    page = tmp_path / "p.html"
    page.write_text('<pre><span class="n">h</span> <span class="o">=</span> <span class="n">np</span>.tanh(a)\n'
                    '<span class="n">cache</span> = (x, h_prev)</pre>')
    assert "h = np.tanh(a) cache = (x, h_prev)" in norm(visible_text(page))
    pieces = solution_lines()
    if list(ROOT.glob("solutions/*/*.ipynb")):
        assert pieces, "no distinctive solution piece found in solutions/*/*.ipynb"
        assert all(len(p) >= 40 for p in pieces)


class _Figures(HTMLParser):
    """Collects every <img> of a page with whether it sits inside a <figure> that has a <figcaption>."""

    def __init__(self):
        super().__init__()
        self.open_figures, self.images = [], []  # each open figure: [has_caption, its images]

    def handle_starttag(self, tag, attrs):
        if tag == "figure":
            self.open_figures.append([False, []])
        elif tag == "figcaption" and self.open_figures:
            self.open_figures[-1][0] = True
        elif tag == "img":
            img = {"src": dict(attrs).get("src"), "alt": (dict(attrs).get("alt") or "").strip(), "caption": False}
            self.images.append(img)
            if self.open_figures:
                self.open_figures[-1][1].append(img)

    def handle_endtag(self, tag):
        if tag == "figure" and self.open_figures:
            has_caption, imgs = self.open_figures.pop()
            for img in imgs:
                img["caption"] = has_caption


def test_every_figure_has_alt_text_and_a_caption(book):
    chapters = [f for f in toc_files() if "/exercises/" not in f]
    n = 0
    for f in chapters:
        page = _Figures()
        page.feed((book.html_dir / f"{f}.html").read_text(encoding="utf-8"))
        for img in page.images:
            n += 1
            assert img["alt"], f"{f}: an image without alt text ({img['src']})"
            assert img["caption"], f"{f}: an image without a figure caption ({img['src']}, alt {img['alt'][:60]!r})"
    assert n >= 12, f"only {n} figures in the chapters: the build lost its plots?"


def test_editing_one_chapter_reexecutes_only_that_chapter(book, tmp_path):
    """A copy of the book's sources with the execution cache of the build above; one chapter gains a code cell.
    The rebuild must execute that chapter and no other (the cache matches notebooks by their code)."""
    import shutil
    from book_build import _run_build, build_dir

    src = tmp_path / "src"
    for name in ("book", "_static", "_ext"):
        shutil.copytree(ROOT / name, src / name)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(build_dir() / "_build" / ".jupyter_cache", tmp_path / "out" / "_build" / ".jupyter_cache")
    chapter = src / "book" / "04_loss.md"
    chapter.write_text(chapter.read_text() + "\n```{code-cell} ipython3\nprint('an edit')\n```\n")
    rc, seconds, executed, warnings, log = _run_build(tmp_path / "out", root=src)
    assert rc == 0 and not warnings, f"the rebuild failed or warned: {warnings[:3]}\n{log[-2000:]}"
    assert [Path(p).name for p in executed] == ["04_loss.md"], f"executed after editing 04_loss.md: {executed}"
    print(f"\nrebuild after editing one chapter: {seconds:.1f} s, executed {executed}")
