"""Drawing primitives for the book's diagrams: labelled nodes, arrows, self-loops, one colour scheme.

Every diagram in the book is built from these, so the same quantity looks the same everywhere:
inputs x are green, hidden states h blue, outputs o orange, targets y grey, losses red, weight labels purple.

Coordinates are data units on an axes with equal aspect (make one with `canvas`); a node is placed by its
centre. Text is matplotlib mathtext (``r"$h_t$"``), never LaTeX, so no TeX installation is needed.
Keep CJK characters out of figures (the default fonts lack the glyphs).

Typical use::

    from rnn_ref.diagrams.base import canvas, node, arrow, self_loop
    fig, ax = canvas(4, 3)
    x = node(ax, (2, 0.5), r"$x_t$", kind="x")
    h = node(ax, (2, 2), r"$h_t$", kind="h")
    arrow(ax, x, h, r"$U_{xh}$")
    self_loop(ax, h, r"$W_{hh}$")
"""
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

# One colour per kind of quantity: (fill, edge). Use these names in every diagram.
COLORS = {
    "x": ("#d9f0d3", "#1b7837"),       # inputs
    "h": ("#d1e5f0", "#2166ac"),       # hidden states (and cell states of LSTM)
    "o": ("#fee0b6", "#b35806"),       # outputs / logits
    "y": ("#e0e0e0", "#4d4d4d"),       # targets
    "loss": ("#fddbc7", "#b2182b"),    # losses
    "gate": ("#e7d4e8", "#762a83"),    # gates and nonlinearities (LSTM/GRU cells)
    "op": ("#ffffff", "#333333"),      # pointwise operations (+, x, tanh): small white circles
    "plain": ("#ffffff", "#333333"),
}
WEIGHT_COLOR = "#762a83"   # labels of weight matrices on arrows (U_xh, W_hh, V_ho)
EDGE_COLOR = "#333333"     # arrows
FONT_SIZE = 13


@dataclass
class Node:
    """A drawn node: centre (x, y), half-width w and half-height hgt (equal for circles), shape name.

    `boundary(toward)` returns the point on the node's outline in the direction of `toward`, which is
    where arrows start and end.
    """
    x: float
    y: float
    w: float
    hgt: float
    shape: str = "circle"

    @property
    def center(self):
        return np.array([self.x, self.y], dtype=float)

    def boundary(self, toward):
        d = np.asarray(toward, dtype=float) - self.center
        n = np.hypot(*d)
        if n == 0:
            return self.center
        if self.shape == "circle":
            return self.center + d / n * self.w
        # box: scale the direction until it hits the rectangle
        sx = self.w / abs(d[0]) if d[0] else np.inf
        sy = self.hgt / abs(d[1]) if d[1] else np.inf
        return self.center + d * min(sx, sy)


def canvas(width, height, scale=1.0, margin=0.1, origin=(0, 0)):
    """A new figure with one axes spanning [x0, x0 + width] x [y0, y0 + height] data units, origin = (x0, y0),
    and `margin` more on every side; equal aspect, no axis lines.

    scale: inches per data unit of width and height (the margin is not counted). Returns (fig, ax).
    """
    x0, y0 = origin
    fig, ax = plt.subplots(figsize=(width * scale, height * scale))
    ax.set_xlim(x0 - margin, x0 + width + margin)
    ax.set_ylim(y0 - margin, y0 + height + margin)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1)
    return fig, ax


def node(ax, xy, label, kind="h", shape="circle", radius=0.32, width=None, height=None, fontsize=FONT_SIZE):
    """Draw a node at centre xy with a text label; returns a `Node` for `arrow` and `self_loop`.

    kind: a key of COLORS ("x", "h", "o", "y", "loss", "gate", "op", "plain") choosing fill and edge.
    shape: "circle" (size `radius`) or "box" (full `width` x `height`, default 2*radius square).
    """
    if kind not in COLORS:
        raise ValueError(f"kind: expected one of {', '.join(COLORS)}, got {kind!r}")
    fill, edge = COLORS[kind]
    x, y = xy
    if shape == "circle":
        ax.add_patch(Circle((x, y), radius, facecolor=fill, edgecolor=edge, linewidth=1.6, zorder=3))
        nd = Node(x, y, radius, radius, "circle")
    elif shape == "box":
        w = 2 * radius if width is None else width
        h = 2 * radius if height is None else height
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.08",
                                    facecolor=fill, edgecolor=edge, linewidth=1.6, zorder=3))
        nd = Node(x, y, w / 2, h / 2, "box")
    else:
        raise ValueError(f"shape: expected 'circle' or 'box', got {shape!r}")
    if label:
        ax.text(x, y, label, ha="center", va="center", fontsize=fontsize, zorder=4)
    return nd


def _point(p):
    return p.center if isinstance(p, Node) else np.asarray(p, dtype=float)


def arrow(ax, a, b, label=None, curve=0.0, color=EDGE_COLOR, label_pos=0.5, label_offset=(0.12, 0.0),
          label_color=WEIGHT_COLOR, fontsize=FONT_SIZE - 1, style="-|>", linestyle="-", lw=1.4):
    """Draw an arrow from a to b (each a Node, whose outline is used, or an (x, y) point).

    curve: arc3 curvature (0 = straight; positive bends left of the direction a -> b).
    label: text placed at fraction label_pos along the straight line a -> b, shifted by label_offset.
    Returns the FancyArrowPatch.
    """
    pa, pb = _point(a), _point(b)
    start = a.boundary(pb) if isinstance(a, Node) else pa
    end = b.boundary(pa) if isinstance(b, Node) else pb
    patch = FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=14, color=color, lw=lw,
                            linestyle=linestyle, connectionstyle=f"arc3,rad={curve}", zorder=2,
                            shrinkA=1, shrinkB=1)
    ax.add_patch(patch)
    if label:
        m = start + label_pos * (end - start) + np.asarray(label_offset, dtype=float)
        ax.text(m[0], m[1], label, ha="left", va="center", fontsize=fontsize, color=label_color, zorder=4)
    return patch


def self_loop(ax, nd, label=None, side="right", size=0.45, color=EDGE_COLOR, fontsize=FONT_SIZE - 1,
              label_color=WEIGHT_COLOR):
    """Draw a recurrent self-loop on node nd, leaving and re-entering on `side` ("right", "left", "top",
    "bottom"), with an optional label (e.g. r"$W_{hh}$") just outside the loop."""
    dirs = {"right": (1, 0), "left": (-1, 0), "top": (0, 1), "bottom": (0, -1)}
    if side not in dirs:
        raise ValueError(f"side: expected one of {', '.join(dirs)}, got {side!r}")
    d = np.array(dirs[side], dtype=float)
    perp = np.array([-d[1], d[0]])
    c = nd.center
    r = max(nd.w, nd.hgt)
    start = nd.boundary(c + d + 0.6 * perp)
    end = nd.boundary(c + d - 0.6 * perp)
    far = c + d * (r + 1.6 * size)
    # a cubic Bezier out of the node, around a point `size` beyond its outline, and back in
    verts = [start, far + perp * size * 1.1, far - perp * size * 1.1, end]
    path = Path(verts, [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4])
    patch = FancyArrowPatch(path=path, arrowstyle="-|>", mutation_scale=14, color=color, lw=1.4, zorder=2)
    ax.add_patch(patch)
    if label:
        p = c + d * (r + 1.4 * size + 0.2)
        ha = {"right": "left", "left": "right"}.get(side, "center")
        ax.text(p[0], p[1], label, ha=ha, va="center", fontsize=fontsize, color=label_color, zorder=4)
    return patch


def text(ax, xy, s, fontsize=FONT_SIZE, color="#222222", **kw):
    """Plain text at xy, centred (mathtext allowed). Returns the Text artist."""
    kw.setdefault("ha", "center")
    kw.setdefault("va", "center")
    return ax.text(xy[0], xy[1], s, fontsize=fontsize, color=color, **kw)
