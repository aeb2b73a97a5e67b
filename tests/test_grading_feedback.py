"""Feedback HTML (nbgrader generate_feedback with the course's settings): math renders offline with the local
MathJax, inlined, and HTML that a student put in a markdown answer or an output is inert."""
import html.parser
import os

import nbformat
import pytest

from grading_helpers import ROOT, Course, find_cell, solution_path, solved

pytestmark = [pytest.mark.filterwarnings("ignore::nbformat.validator.MissingIDFieldWarning")]

ATTACK = '<script>alert(1)</script><img src=x onerror="alert(2)"><a href="javascript:alert(3)">x</a>'


class Page(html.parser.HTMLParser):
    """Scripts (inline code and src) and every attribute of a feedback page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scripts, self.attrs, self._in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        self.attrs += [(tag, k, v or "") for k, v in attrs]
        if tag == "script":
            self._in_script = True
            self.scripts.append(dict(attrs).get("src", "") or "")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def active_attack(page):
    """What of ATTACK would run in a browser: scripts calling alert, event handlers, javascript: links."""
    found = [s[:80] for s in page.scripts if any(f"alert({i})" in s for i in (1, 2, 3))]
    found += [f"{t} {k}={v}" for t, k, v in page.attrs if k.startswith("on") or v.strip().lower().startswith("javascript:")]
    return found


def test_sanitizer_keeps_markdown_and_drops_what_runs():
    from grading.feedback import clean_html
    out = clean_html("<h2>T</h2><p>a <em>b</em> <code>c</code></p><ul><li>d</li></ul><table><tr><th>e</th></tr>"
                     "</table><img src='data:image/png;base64,AAAA' alt='plot'>" + ATTACK)
    for kept in ("<h2>T</h2>", "<p>a <em>b</em> <code>c</code></p>", "<li>d</li>", "<th>e</th>",
                 '<img src="data:image/png;base64,AAAA" alt="plot">'):
        assert kept in out
    page = Page()
    page.feed(out)
    assert active_attack(page) == []


def test_the_feedback_template_is_in_git():
    """nbgrader's folders are ignored at the top only: the course's feedback template folder must be committed."""
    import subprocess
    for path in ("grading/templates/feedback/feedback_offline.html.j2", "grading/templates/feedback/conf.json",
                 "grading/templates/feedback/mathjax"):
        assert os.path.lexists(os.path.join(ROOT, path)), path
        ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT)
        assert ignored.returncode == 1, f"{path} is git-ignored"
    for generated in ("feedback/alice/a1/a1.html", "submitted/alice/a1/a1.ipynb", "keys/a1.html", "grades-a1.csv"):
        assert subprocess.run(["git", "check-ignore", "-q", generated], cwd=ROOT).returncode == 0, generated


def test_detector_sees_the_attack_when_unsanitized():
    page = Page()
    page.feed("<p>" + ATTACK + "</p>")
    assert len(active_attack(page)) == 3


@pytest.mark.grading
@pytest.mark.skipif(not os.path.exists(os.path.join(ROOT, "_static", "mathjax", "tex-svg.js")),
                    reason="needs the local MathJax: make mathjax")
def test_feedback_renders_math_offline_and_student_html_is_inert(tmp_path):
    course = Course(tmp_path / "course")
    try:
        name = "a1_forward"
        course.generate_assignment(name)
        release = nbformat.read(course.release_path(name), as_version=4)
        nb = solved(release, nbformat.read(solution_path(name), as_version=4))
        q = next(c for c in nb.cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution"))
        q.source = "The same weights at every step: $h_t = \\tanh(x_t U + h_{t-1} W + b)$.\n\n" + ATTACK
        _, cell = find_cell(nb, "rnn_forward")
        cell.source = ("from IPython.display import HTML, display\n"
                       f"display(HTML({ATTACK!r}))\nprint({ATTACK!r})\n" + cell.source)
        course.submit("mallory", name, nb)
        assert course.autograde(name)["success"]
        course._ok(course.generate_feedback(name, "mallory"), "generate_feedback")
        text = open(course.feedback_path("mallory", name), encoding="utf-8").read()
    finally:
        course.close()
    page = Page()
    page.feed(text)
    assert active_attack(page) == []
    assert "<p>The same weights at every step: $h_t = \\tanh" in text    # markdown rendered, math left for MathJax
    remote = [s for s in page.scripts if s.startswith(("http:", "https:", "//"))]
    assert remote == [] and "cdnjs" not in text
    assert any("MathJax" in s and "inlineMath" in s for s in page.scripts)   # the configuration
    assert any(len(s) > 1_000_000 and "MathJax" in s for s in page.scripts)  # tex-svg.js itself, inlined
    assert "(Score: 10.0 / 12.0)" in text
    from grading.links import published_base_url
    assert f'href="{published_base_url()}book/03_forward.html"' in text   # "Read first" works outside the book
