"""A grader's key per assignment: one self-contained HTML page with every graded cell, its points, the model
solution and, for the written questions, the question, the model answer and the rubric, read from
``solutions/<assignment>/<assignment>.ipynb``. Graders keep it open beside the formgrader.

    python -m grading.key                    # every assignment -> keys/<assignment>.html
    python -m grading.key a3_bptt --out DIR  # one assignment, elsewhere

The keys hold the solutions: ``keys/`` is kept out of git (.gitignore) and out of the book (_config.yml
excludes it); do not put them where students can read them. Math renders offline when the local MathJax is
there (``make mathjax``): it is inlined, as in the feedback pages.
"""
import argparse
import html
import os
import sys

import nbformat

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MATHJAX = os.path.join(ROOT, "_static", "mathjax", "tex-svg.js")

__all__ = ["graded_items", "render_key", "write_keys", "main"]


def _strip_markers(source):
    keep = [line for line in source.splitlines()
            if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")]
    return "\n".join(keep).strip("\n")


def graded_items(nb):
    """[(kind, grade_id, points, parts)] in notebook order. kind: 'auto' (a test cell; parts: the answer code it
    tests and the test code) or 'manual' (a written answer; parts: the question and the model answer with rubric)."""
    items = []
    cells = nb.cells
    for i, cell in enumerate(cells):
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade"):
            continue
        gid, points = meta["grade_id"], meta.get("points", 0)
        if cell.cell_type == "code":
            answer = next((c for c in reversed(cells[:i]) if c.cell_type == "code"
                           and c.metadata.get("nbgrader", {}).get("solution")), None)
            items.append(("auto", gid, points, {"answer": _strip_markers(answer.source) if answer else "",
                                                "answer_id": answer.metadata.nbgrader["grade_id"] if answer else "",
                                                "test": cell.source}))
        else:
            question = next((c.source for c in reversed(cells[:i]) if c.cell_type == "markdown"
                             and not c.metadata.get("nbgrader", {}).get("solution")), "")
            items.append(("manual", gid, points, {"question": question, "answer": _strip_markers(cell.source)}))
    return items


def _markdown(text):
    from nbconvert.filters.markdown import markdown2html_mistune
    return markdown2html_mistune(text)


def render_key(name, nb, mathjax=MATHJAX):
    """The key of assignment `name` (solution notebook `nb`) as one HTML page (str)."""
    items = graded_items(nb)
    auto = sum(p for k, _, p, _ in items if k == "auto")
    manual = sum(p for k, _, p, _ in items if k == "manual")
    title = nb.cells[0].source.splitlines()[0].lstrip("# ").strip() if nb.cells else name
    rows = "\n".join(f"<tr><td><a href='#{html.escape(g)}'><code>{html.escape(g)}</code></a></td>"
                     f"<td>{'autograded test' if k == 'auto' else 'written answer (by hand)'}</td><td>{p:g}</td></tr>"
                     for k, g, p, _ in items)
    sections = []
    for kind, gid, points, parts in items:
        head = f"<h2 id='{html.escape(gid)}'><code>{html.escape(gid)}</code> ({points:g} point{'s' if points != 1 else ''})</h2>"
        if kind == "auto":
            body = (f"<p>All points when the cell runs without an error (visible and hidden checks), none otherwise. "
                    f"It tests <code>{html.escape(parts['answer_id'])}</code>.</p>"
                    f"<h3>Model solution</h3><pre>{html.escape(parts['answer'])}</pre>"
                    f"<h3>The test cell (hidden tests included)</h3><pre>{html.escape(parts['test'])}</pre>")
        else:
            body = (f"<h3>Question</h3><div class='md'>{_markdown(parts['question'])}</div>"
                    f"<h3>Model answer and rubric</h3><div class='md'>{_markdown(parts['answer'])}</div>")
        sections.append(head + body)
    script = ""
    if mathjax and os.path.exists(mathjax):
        with open(mathjax, encoding="utf-8") as f:
            script = ("<script>window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], "
                      "processEscapes: true}, svg: {fontCache: 'global'}};</script>\n<script>" + f.read() + "</script>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Grader's key: {html.escape(name)}</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;line-height:1.45}}
pre{{background:#f6f6f6;padding:.6rem;overflow-x:auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.25rem .6rem}}.warn{{color:#a00;font-weight:bold}}</style>
{script}</head><body>
<p class="warn">Grader's key: contains the solutions. Not for students.</p>
<h1>{html.escape(title)}</h1>
<p><code>{html.escape(name)}</code>: {auto + manual:g} points, {auto:g} autograded and {manual:g} by hand.
Generated from <code>solutions/{html.escape(name)}/{html.escape(name)}.ipynb</code> by <code>python -m grading.key</code>.</p>
<table><tr><th>Cell</th><th>Graded</th><th>Points</th></tr>
{rows}
<tr><th colspan="2">Total</th><th>{auto + manual:g}</th></tr></table>
{''.join(sections)}
</body></html>
"""


def write_keys(names, out):
    os.makedirs(out, exist_ok=True)
    paths = []
    for name in names:
        nb = nbformat.read(os.path.join(ROOT, "solutions", name, name + ".ipynb"), as_version=4)
        path = os.path.join(out, name + ".html")
        with open(path, "w", encoding="utf-8") as f:
            f.write(render_key(name, nb))
        paths.append(path)
    return paths


def main(argv=None):
    names_all = sorted(d for d in os.listdir(os.path.join(ROOT, "solutions"))
                       if os.path.exists(os.path.join(ROOT, "solutions", d, d + ".ipynb")))
    p = argparse.ArgumentParser(prog="python -m grading.key", description=__doc__.split("\n")[0])
    p.add_argument("names", nargs="*", help=f"assignments (default: all {len(names_all)})")
    p.add_argument("--out", default="keys", help="folder for the pages (default: keys/ in the current folder, the course root)")
    args = p.parse_args(argv)
    unknown = [n for n in args.names if n not in names_all]
    if unknown:
        p.error(f"unknown assignment(s) {', '.join(unknown)}; expected some of {', '.join(names_all)}")
    for path in write_keys(args.names or names_all, args.out):
        print(f"wrote {os.path.relpath(path)}")
    if not os.path.exists(MATHJAX):
        print("note: no local MathJax (make mathjax): formulas show as LaTeX source")
    return 0


if __name__ == "__main__":
    sys.exit(main())
