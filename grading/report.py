"""Reports for the instructor after autograding: what the class got wrong, and what looks copied from rnn_ref.

    python -m grading.report a1_forward [--course PATH]

writes, from the autograded notebooks of every student, into <course>/reports/<assignment>/:
  causes.csv, causes.html  how many students hit each diagnosed cause, per test cell (with a bar chart)
  copies.csv               each graded function's similarity to rnn_ref's own source: a flag to read, not a score
`nbgrader autograde` writes them too, at the end of every run.
"""
import argparse
import ast
import base64
import csv
import difflib
import glob
import html
import inspect
import io
import json
import os
import re
from collections import Counter, defaultdict

COPY_FLAG = 0.9        # similarity from which a function is flagged
COPY_MIN_TOKENS = 40   # shorter functions look alike whoever writes them: never flagged


# ------------------------------------------------------------------------------------------------ causes
def cause(message):
    """The diagnosis of one failing test cell's message, in a few words that group students."""
    text = " ".join(message.split())
    m = re.search(r"Likely cause: (.+?)(?:\.(?:\s|$)|$)", text)
    if m:
        return m.group(1).strip()
    if "not implemented yet" in text:
        return "not implemented (the stub is still there)"
    m = re.search(r"raised (\w+)", text)
    if m:
        return f"the function raised {m.group(1)}"
    m = re.match(r"check_\w+: (\S+(?: \([^)]*\))?) is wrong", text)
    if m:
        return f"{m.group(1)} is wrong (no cause identified)"
    text = re.sub(r"^check_\w+: ", "", text)
    return _short(re.split(r"(?<=[.:?])\s", text)[0].rstrip(".:"), 90)


def _notebooks(course, assignment):
    for path in sorted(glob.glob(os.path.join(course, "autograded", "*", assignment, "*.ipynb"))):
        student = path.split(os.sep)[-3]
        with open(path, encoding="utf-8") as f:
            yield student, json.load(f)


def _test_cells(nb):
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader") or {}
        if cell.get("cell_type") == "code" and meta.get("grade"):
            yield meta.get("grade_id"), cell


def class_causes(course, assignment):
    """({grade_id: Counter(cause -> students)}, number of students)."""
    counts, students = defaultdict(Counter), 0
    for _, nb in _notebooks(course, assignment):
        students += 1
        for gid, cell in _test_cells(nb):
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            if errors:
                e = errors[0]
                why = cause(e.get("evalue", ""))
                counts[gid][why if e.get("ename") == "AssertionError" else f"{e.get('ename')}: {why}"] += 1
    return counts, students


def _chart(counter, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    items = counter.most_common(12)[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(items) + 1.2))
    ax.barh([_short(c) for c, _ in items], [n for _, n in items], color="#4477aa")
    ax.set_xlabel("students")
    ax.set_title(title)
    ax.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _short(text, n=70):
    return text if len(text) <= n else text[:n - 1] + "…"


def write_causes(course, assignment, out):
    counts, students = class_causes(course, assignment)
    with open(os.path.join(out, "causes.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["test_cell", "cause", "students"])
        for gid in sorted(counts):
            for c, n in counts[gid].most_common():
                w.writerow([gid, c, n])
    parts = [f"<h1>{html.escape(assignment)}: what the class got wrong</h1>",
             f"<p>{students} autograded submissions. For each test cell, how many students failed it for each "
             f"diagnosed cause.</p>"]
    for gid in sorted(counts):
        rows = "".join(f"<tr><td>{html.escape(c)}</td><td>{n}</td></tr>" for c, n in counts[gid].most_common())
        png = _chart(counts[gid], gid)
        alt = html.escape(f"Bar chart: students per cause of failure in {gid}")
        parts.append(f"<h2>{html.escape(gid)}</h2><img alt=\"{alt}\" src=\"data:image/png;base64,{png}\">"
                     f"<table><tr><th>cause</th><th>students</th></tr>{rows}</table>")
    if not counts:
        parts.append("<p>Every submission passed every test cell.</p>")
    page = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" + html.escape(assignment) +
            "</title><style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{padding:.2em .6em;"
            "text-align:left}</style></head><body>" + "".join(parts) + "</body></html>")
    with open(os.path.join(out, "causes.html"), "w", encoding="utf-8") as f:
        f.write(page)


# ------------------------------------------------------------------------------------------------ copies
class _Normalize(ast.NodeTransformer):
    """Names become v0, v1, ... in order of appearance; docstrings go: what is left is the code's shape."""

    def __init__(self):
        self.names = {}

    def _name(self, n):
        return self.names.setdefault(n, f"v{len(self.names)}")

    def visit_Name(self, node):
        return ast.copy_location(ast.Name(id=self._name(node.id), ctx=node.ctx), node)

    def visit_arg(self, node):
        node.arg, node.annotation = self._name(node.arg), None
        return node

    def visit_FunctionDef(self, node):
        node.name = "f"
        if node.body and isinstance(node.body[0], ast.Expr) and isinstance(getattr(node.body[0], "value", None),
                                                                            ast.Constant):
            node.body = node.body[1:] or [ast.Pass()]
        self.generic_visit(node)
        return node


def tokens(func_source):
    """The normalized tokens of one function's source."""
    tree = _Normalize().visit(ast.parse(func_source))
    return re.findall(r"\w+|[^\w\s]", ast.unparse(tree))


def similarity(a, b):
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _functions(nb):
    out = {}
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader") or {}
        if cell.get("cell_type") != "code" or meta.get("grade"):
            continue
        src = "".join(cell.get("source", "")) if isinstance(cell.get("source"), list) else cell.get("source", "")
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                out[node.name] = ast.get_source_segment(src, node)
    return out


def _graded_names(nb):
    names = []
    for _, cell in _test_cells(nb):
        src = "".join(cell.get("source", "")) if isinstance(cell.get("source"), list) else cell.get("source", "")
        names += re.findall(r"check_own_work\(([^)]*)\)", src)
    return {n.strip() for group in names for n in group.split(",") if n.strip()}


def write_copies(course, assignment, out):
    import rnn_ref
    refs = {}
    rows = []
    for student, nb in _notebooks(course, assignment):
        mine = _functions(nb)
        for name in sorted(_graded_names(nb)):
            if name not in mine or not callable(getattr(rnn_ref, name, None)):
                continue
            if name not in refs:
                refs[name] = tokens(inspect.getsource(getattr(rnn_ref, name)))
            theirs = tokens(mine[name])
            s = similarity(theirs, refs[name])
            rows.append([student, name, f"{s:.2f}", "yes" if s >= COPY_FLAG and len(theirs) >= COPY_MIN_TOKENS
                         else ""])
    with open(os.path.join(out, "copies.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", "function", "similarity_to_rnn_ref", "flagged"])
        w.writerows(rows)
    return [r for r in rows if r[3]]


def write_reports(course, assignment):
    """Write the reports of one assignment: (their folder, the flagged rows of copies.csv)."""
    out = os.path.join(course, "reports", assignment)
    os.makedirs(out, exist_ok=True)
    write_causes(course, assignment, out)
    return out, write_copies(course, assignment, out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("assignment")
    ap.add_argument("--course", default=".", help="the course directory (default: here)")
    a = ap.parse_args()
    out, flagged = write_reports(os.path.abspath(a.course), a.assignment)
    print(f"{out}: causes.html, causes.csv, copies.csv ({len(flagged)} function(s) flagged)")


if __name__ == "__main__":
    main()
