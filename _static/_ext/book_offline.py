"""A local Sphinx extension that keeps the built book working with no network (loaded from _config.yml).

1. Jupyter Book 1 adds every *.js and *.css file it finds under _static/ to every page. MathJax, fetched
   into _static/mathjax by `make mathjax`, is about 80 such files (one of them, node-main.js, fails in a
   browser). Only `mathjax_path` (tex-svg.js) should load, so the rest are dropped here.
2. sphinx-thebe puts `const THEBE_JS_URL = "https://unpkg.com/..."` and sphinx-thebe.js on every page even
   when thebe is off. The book has no live-code server, so both are removed: no page mentions a CDN.

This folder (_static/_ext) is excluded from the copy into the site by `exclude_patterns: _ext/**`.
"""


def _name(entry):
    return entry[0] if isinstance(entry, (tuple, list)) else entry


def _drop_vendored_assets(app, config):
    config.html_js_files = [f for f in config.html_js_files
                            if not str(_name(f)).startswith(("mathjax/", "_ext/"))]
    config.html_css_files = [f for f in config.html_css_files
                             if not str(_name(f)).startswith(("mathjax/", "_ext/"))]


def _is_thebe(script):
    body = getattr(script, "attributes", {}).get("body", "") or ""
    return "sphinx-thebe" in str(script) or "THEBE_JS_URL" in body


def _drop_thebe(app, pagename, templatename, context, doctree):
    if "script_files" in context:
        context["script_files"] = [s for s in context["script_files"] if not _is_thebe(s)]
    if "css_files" in context:
        context["css_files"] = [s for s in context["css_files"] if "sphinx-thebe" not in str(s)]


def setup(app):
    app.connect("config-inited", _drop_vendored_assets, priority=900)
    app.connect("html-page-context", _drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
