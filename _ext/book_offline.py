"""A local Sphinx extension that keeps the built book working with no network (loaded from _config.yml).

1. Jupyter Book 1 adds every *.js and *.css file it finds under _static/ to every page. MathJax, fetched
   into _static/mathjax by `make mathjax`, is about 80 such files (one of them, node-main.js, fails in a
   browser). Only `mathjax_path` (tex-svg.js) should load, so the rest are dropped here.
2. sphinx-thebe puts `const THEBE_JS_URL = "https://unpkg.com/..."` and sphinx-thebe.js on every page even
   when thebe is off. The book has no live-code server, so both are removed: no page mentions a CDN.

3. Chapters are MyST-markdown notebooks, so the theme's download menu offers only the .md source. Here each
   chapter's executed notebook (myst-nb's <build>/jupyter_execute/<page>.ipynb) is copied next to the sources
   and offered as ".ipynb" as well, with its outputs, ready to open in Jupyter.

4. The chapters' kernels talk to the build over IPC (Unix sockets in a private directory), not plain TCP: ipykernel 7
   warns "Kernel is running over TCP without encryption" once per kernel started over TCP (12 lines a build).
   myst-nb's executor asks jupyter_client for AsyncKernelManager when it starts a kernel; here that name is a
   subclass whose default transport is IPC.

This folder sits outside _static/, so it is not copied into the site; `exclude_patterns` keeps Sphinx from reading it.
"""


def _name(entry):
    return entry[0] if isinstance(entry, (tuple, list)) else entry


def _drop_vendored_assets(app, config):
    config.html_js_files = [f for f in config.html_js_files
                            if not str(_name(f)).startswith("mathjax/")]
    config.html_css_files = [f for f in config.html_css_files
                             if not str(_name(f)).startswith("mathjax/")]


def _is_thebe(script):
    body = getattr(script, "attributes", {}).get("body", "") or ""
    return "sphinx-thebe" in str(script) or "THEBE_JS_URL" in body


def _drop_thebe(app, pagename, templatename, context, doctree):
    if "script_files" in context:
        context["script_files"] = [s for s in context["script_files"] if not _is_thebe(s)]
    if "css_files" in context:
        context["css_files"] = [s for s in context["css_files"] if "sphinx-thebe" not in str(s)]


def _offer_executed_notebook(app, pagename, templatename, context, doctree):
    import shutil
    from pathlib import Path

    if context.get("page_source_suffix") != ".md" or context.get("ipynb_source"):
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.exists():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def _kernels_over_ipc(app, config):
    import atexit
    import os
    import shutil
    import tempfile
    import uuid

    import jupyter_client
    from traitlets import CaselessStrEnum, default

    if getattr(jupyter_client.AsyncKernelManager, "_book_ipc", False):
        return
    # Unix socket paths must stay short (about 100 bytes): a fresh directory straight under /tmp.
    sockets = tempfile.mkdtemp(prefix="rnnbook-", dir="/tmp" if os.path.isdir("/tmp") else None)
    atexit.register(shutil.rmtree, sockets, True)

    class IPCKernelManager(jupyter_client.AsyncKernelManager):
        _book_ipc = True
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        @default("ip")
        def _ip_in_private_dir(self):
            return os.path.join(sockets, uuid.uuid4().hex[:12])

    jupyter_client.AsyncKernelManager = IPCKernelManager


def setup(app):
    app.connect("config-inited", _kernels_over_ipc)
    app.connect("html-page-context", _offer_executed_notebook, priority=400)   # before the theme's buttons (501)
    app.connect("config-inited", _drop_vendored_assets, priority=900)
    app.connect("html-page-context", _drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
