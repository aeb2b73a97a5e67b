"""The built book serves the student bundle and keeps the exercises' chapter links inside the site (the student
notebooks link to the published book; _ext/student_bundle.py makes those links relative in the book)."""
import re
import zipfile

import pytest

from book_build import built_book
from grading_helpers import ASSIGNMENTS

pytestmark = pytest.mark.book


@pytest.fixture(scope="module")
def site():
    b = built_book()
    assert b.html_dir.joinpath("index.html").exists(), b.log_tail
    return b.html_dir


def test_the_exercises_page_links_the_bundle_the_build_made(site):
    page = site / "book" / "exercises" / "index.html"
    hrefs = re.findall(r'href="([^"]*rnn-course-student\.zip)"', page.read_text())
    assert hrefs, "no link to the student bundle"
    for href in hrefs:
        target = (page.parent / href).resolve()
        assert target.exists(), href
        with zipfile.ZipFile(target) as z:
            names = z.namelist()
        assert sum(n.endswith(".whl") for n in names) == 1
        assert sorted(n.rsplit("/", 1)[1] for n in names if n.endswith(".ipynb")) == sorted(
            a + ".ipynb" for a in ASSIGNMENTS)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_read_first_links_stay_in_the_site(site, name):
    page = site / "book" / "exercises" / f"{name}.html"
    m = re.search(r"Read first: (.*?)</p>", page.read_text(), flags=re.S)
    assert m, f"{name}: no 'Read first' line"
    hrefs = re.findall(r'href="([^"]+)"', m.group(1))
    assert hrefs
    for href in hrefs:
        assert not href.startswith(("http:", "https:")), f"{name}: {href} leaves the offline site"
        assert (page.parent / href.split("#")[0]).resolve().exists(), f"{name}: {href} is dead"
