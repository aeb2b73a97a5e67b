"""Open every page of the built book in headless Chromium, offline, and check what a reader sees.

Per page: formulas are typeset by the local MathJax (mjx-container elements, no raw TeX in the visible text,
no MathJax error nodes), every image has loaded, and the console has no errors. The browser can reach only
127.0.0.1 (every other host name fails to resolve), so anything fetched from the network shows as an error.

Needs Debian's chromium and chromium-driver (`make chromium`, or `apt-get install chromium chromium-driver`).
"""
import functools
import http.server
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from book_build import built_book

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

# Visible text without code, scripts and typeset math: what must hold no TeX delimiters.
VISIBLE_TEXT_JS = """
const body = document.body.cloneNode(true);
body.querySelectorAll('pre, code, script, style, mjx-container, .MathJax, textarea, noscript, .headerlink')
    .forEach(e => e.remove());
return body.textContent;
"""

WAIT_FOR_MATHJAX_JS = """
const done = arguments[arguments.length - 1];
if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) { done('no-mathjax'); return; }
MathJax.startup.promise.then(() => done('ok'), (e) => done('error: ' + e));
"""

IMAGES_JS = """
return Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth]);
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    b = built_book()
    html = b.html_dir
    assert (html / "index.html").exists(), f"no built site at {html}; build log:\n{b.log_tail}"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(html)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield html, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def driver():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    if missing:
        pytest.fail(f"headless Chromium is needed for the browser test but {', '.join(missing)} is missing: "
                    "run `make chromium` (or, as root, `apt-get install chromium chromium-driver`)", pytrace=False)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"      # selenium-manager must never download a browser or a driver
    profile = tempfile.mkdtemp(prefix="book-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--disable-extensions", "--window-size=1280,1000",
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", f"--user-data-dir={profile}"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    drv.set_page_load_timeout(60)
    drv.set_script_timeout(60)
    yield drv
    drv.quit()
    shutil.rmtree(profile, ignore_errors=True)


REFRESH = re.compile(r'<meta[^>]+http-equiv="refresh"[^>]+url=([^"\']+)', re.I)


def page_paths(html):
    """Every page of the site. index.html is only a redirect to the landing page (Jupyter Book writes it), so
    it is checked by test_index_redirects_to_the_landing_page and not loaded here."""
    pages = sorted(p.relative_to(html).as_posix() for p in html.glob("book/**/*.html"))
    return [*pages, "search.html", "genindex.html"]


def test_index_redirects_to_the_landing_page(site):
    html, _ = site
    m = REFRESH.search((html / "index.html").read_text(encoding="utf-8"))
    assert m, "index.html is not a redirect: check it in test_every_page_renders_offline instead"
    assert (html / m.group(1)).exists(), f"index.html redirects to {m.group(1)}, which does not exist"


def check_page(drv, base, rel, html):
    """Problems on one page, as a list of strings (empty when the page is fine)."""
    problems = []
    drv.get_log("browser")                               # drop what earlier pages left
    drv.get(f"{base}/{rel}")
    source = (html / rel).read_text(encoding="utf-8")
    has_math = bool(re.search(r'class="math[ "]', source))
    state = drv.execute_async_script(WAIT_FOR_MATHJAX_JS)
    if has_math:
        if state != "ok":
            problems.append(f"MathJax did not run ({state})")
        n = drv.execute_script("return document.querySelectorAll('mjx-container').length")
        if n == 0:
            problems.append("the page has math but no mjx-container: formulas were not typeset")
        errs = drv.execute_script("return Array.from(document.querySelectorAll('mjx-merror'))"
                                  ".map(e => e.getAttribute('data-mjx-error') || e.textContent)")
        if errs:
            problems.append(f"MathJax errors: {errs[:5]}")
    text = drv.execute_script(VISIBLE_TEXT_JS)
    for tex in ("$$", "\\(", "\\[", "\\begin{", "\\frac", "\\sum"):
        if tex in text:
            i = text.index(tex)
            problems.append(f"raw TeX {tex!r} in the visible text: ...{text[max(0, i - 60):i + 60]!r}...")
    for src, complete, width in drv.execute_script(IMAGES_JS):
        if not complete or not width:
            problems.append(f"image did not load: {src}")
    for entry in drv.get_log("browser"):
        if entry.get("level") == "SEVERE":
            problems.append(f"console: {entry.get('message')}")
    return problems


def test_every_page_renders_offline(site, driver):
    html, base = site
    pages = page_paths(html)
    assert len(pages) >= 20, pages
    report = {}
    for rel in pages:
        problems = check_page(driver, base, rel, html)
        if problems:
            report[rel] = problems
    assert not report, "pages with problems:\n" + "\n".join(
        f"{rel}:\n  " + "\n  ".join(p) for rel, p in report.items())


def test_math_is_typeset_somewhere(site, driver):
    """The check above is only as good as MathJax running at all: the forward-pass chapter must have formulas."""
    html, base = site
    driver.get(f"{base}/book/03_forward.html")
    assert driver.execute_async_script(WAIT_FOR_MATHJAX_JS) == "ok"
    assert driver.execute_script("return document.querySelectorAll('mjx-container svg').length") > 0


def test_search_works_offline(site, driver):
    from selenium.webdriver.support.ui import WebDriverWait

    html, base = site
    driver.get(f"{base}/search.html?q=hidden")
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script("return document.querySelectorAll('#search-results li, ul.search li').length") > 0)
