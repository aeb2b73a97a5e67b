"""The HTML sanitizer of the course's feedback pages (the ``clean_html`` filter of nbconvert, replaced in
nbgrader_config.py; grading/templates/feedback/ applies it to every markdown cell too).

nbconvert's own ``clean_html`` keeps only bleach's few default tags and escapes the rest, so a sanitized
written answer shows up as ``<p>...</p>`` text. This one keeps what markdown and the usual outputs produce
(paragraphs, headings, lists, tables, code, emphasis, images) and removes everything that can run:
``<script>``, ``<style>``, ``<iframe>``, ``<object>``, event-handler attributes (``onerror=``, ...), ``style``,
and links or images whose address is not http(s), mailto, a page anchor, or (images only) ``data:image/``.
"""
import bleach

__all__ = ["clean_html"]

TAGS = {"a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl", "dt", "em",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "s", "samp",
        "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
        "u", "ul", "var"}
SAFE_LINK = ("http://", "https://", "mailto:", "#")


def _attribute_ok(tag, name, value):
    if name in ("class", "id", "title", "align", "colspan", "rowspan", "start"):
        return True
    if tag == "a" and name == "href":
        return value.strip().lower().startswith(SAFE_LINK)
    if tag == "img" and name in ("alt", "width", "height"):
        return True
    if tag == "img" and name == "src":
        v = value.strip().lower()
        return v.startswith(("http://", "https://", "data:image/")) and not v.startswith("data:image/svg")
    return False


def clean_html(element):
    """Sanitized HTML (str) of `element` (str or bytes): disallowed tags are dropped with their content for
    script/style and escaped otherwise, unsafe attributes removed."""
    text = element.decode() if isinstance(element, bytes) else str(element)
    cleaner = bleach.sanitizer.Cleaner(tags=TAGS, attributes=_attribute_ok, protocols={"http", "https", "mailto", "data"},
                                       strip=False, strip_comments=True)
    return cleaner.clean(text)
