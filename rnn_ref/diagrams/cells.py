"""Diagrams of the variants: the bidirectional RNN, the 2-D four-direction sweep, the three deep RNNs,
and the LSTM and GRU cells. Built from the primitives of base.py, so the colours mean what they mean
everywhere in the book (inputs green, hidden states blue, outputs orange, gates purple).

Every function returns the matplotlib Figure; the chapter shows it and closes it.
"""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patheffects
from matplotlib.patches import FancyArrowPatch, Rectangle

from .base import COLORS, EDGE_COLOR, FONT_SIZE, arrow, canvas, node, text

BACKWARD_COLOR = "#b2182b"   # arrows of the backward direction (right to left, bottom to top)


def draw_bidirectional(T=4):
    """A bidirectional RNN unrolled over T steps: a forward row of states (left to right), a backward row
    (right to left), both reading x_t, and an output o_t that sees [h_t, g_t]."""
    dx = 1.9
    fig, ax = canvas(dx * (T + 1) + 0.6, 5.6, scale=0.95)
    hs, gs = [], []
    for t in range(T):
        cx = dx * (t + 1)
        x = node(ax, (cx, 0.5), rf"$x_{{{t + 1}}}$", kind="x")
        h = node(ax, (cx, 2.0), rf"$\overrightarrow{{h}}_{{{t + 1}}}$", kind="h")
        g = node(ax, (cx, 3.4), rf"$\overleftarrow{{h}}_{{{t + 1}}}$", kind="h")
        o = node(ax, (cx, 4.9), rf"$o_{{{t + 1}}}$", kind="o")
        arrow(ax, x, h)
        arrow(ax, x, g, curve=-0.35)
        arrow(ax, h, o, curve=0.35)
        arrow(ax, g, o)
        hs.append(h)
        gs.append(g)
    h0 = node(ax, (0.35, 2.0), r"$\overrightarrow{h}_0$", kind="h", radius=0.3, fontsize=FONT_SIZE - 2)
    gT = node(ax, (dx * (T + 1) - 0.1, 3.4), rf"$\overleftarrow{{h}}_{{{T + 1}}}$", kind="h", radius=0.3,
              fontsize=FONT_SIZE - 2)
    for a, b in zip([h0] + hs[:-1], hs):
        arrow(ax, a, b, lw=1.8)
    for a, b in zip([gT] + gs[::-1][:-1], gs[::-1]):
        arrow(ax, a, b, color=BACKWARD_COLOR, lw=1.8)
    text(ax, (dx * (T + 1) - 0.1, 2.0), "forward", fontsize=FONT_SIZE - 2, color=EDGE_COLOR)
    text(ax, (0.35, 3.4), "backward", fontsize=FONT_SIZE - 2, color=BACKWARD_COLOR)
    return fig


def _grid(ax, x0, y0, n, cell, highlight=None, shade=None):
    """An n x n grid of pixels with lower-left corner (x0, y0); shade: set of (row, col) to tint blue."""
    for i in range(n):
        for j in range(n):
            fill = COLORS["h"][0] if shade and (i, j) in shade else "white"
            if highlight == (i, j):
                fill = COLORS["o"][0]
            ax.add_patch(Rectangle((x0 + j * cell, y0 + (n - 1 - i) * cell), cell, cell, facecolor=fill,
                                   edgecolor="#888888", lw=0.8, zorder=1))


def _sweep_arrow(ax, a, b, color):
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=12, color=color, lw=1.6, zorder=3))


def draw_grid_sweep(n=5):
    """The ReNet-style 2-D RNN in two panels. Left: the horizontal sweep, every row read left-to-right and
    right-to-left; pixel (i, j) then knows its whole row. Right: the vertical sweep over those features,
    every column read top-down and bottom-up; pixel (i, j) then knows every row, i.e. the whole image."""
    cell = 0.8
    fig, ax = canvas(2 * n * cell + 2.2, n * cell + 1.3, scale=0.95)
    y0 = 0.2
    pi, pj = n // 2, n // 2 + 1
    _grid(ax, 0.3, y0, n, cell, highlight=(pi, pj), shade={(pi, j) for j in range(n)})
    for i in range(n):
        yc = y0 + (n - 1 - i) * cell + cell / 2
        _sweep_arrow(ax, (0.3 + 0.1, yc + 0.13), (0.3 + n * cell - 0.1, yc + 0.13), EDGE_COLOR)
        _sweep_arrow(ax, (0.3 + n * cell - 0.1, yc - 0.13), (0.3 + 0.1, yc - 0.13), BACKWARD_COLOR)
    text(ax, (0.3 + n * cell / 2, y0 + n * cell + 0.45), "1. horizontal: rows, both ways",
         fontsize=FONT_SIZE - 2)
    x1 = 0.3 + n * cell + 1.6
    _grid(ax, x1, y0, n, cell, highlight=(pi, pj), shade={(i, j) for i in range(n) for j in range(n)})
    for j in range(n):
        xc = x1 + j * cell + cell / 2
        _sweep_arrow(ax, (xc - 0.13, y0 + n * cell - 0.1), (xc - 0.13, y0 + 0.1), EDGE_COLOR)
        _sweep_arrow(ax, (xc + 0.13, y0 + 0.1), (xc + 0.13, y0 + n * cell - 0.1), BACKWARD_COLOR)
    text(ax, (x1 + n * cell / 2, y0 + n * cell + 0.45), "2. vertical: columns, both ways",
         fontsize=FONT_SIZE - 2)
    _sweep_arrow(ax, (0.3 + n * cell + 0.3, y0 + n * cell / 2), (x1 - 0.3, y0 + n * cell / 2), "#555555")
    return fig


def _panel_title(ax, xy, s):
    text(ax, xy, s, fontsize=FONT_SIZE - 1, fontweight="bold")


def draw_deep_variants(T=3):
    """The three ways to add depth (Deep Learning book, Fig. 10.13; Pascanu et al. 2014), each unrolled over
    T steps: (a) stacked recurrent layers; (b) a deep transition z (an MLP between h_{t-1} and h_t) with a
    deep output q; (c) the deep transition with a skip connection h_{t-1} -> h_t (highlighted)."""
    dx, r = 1.35, 0.29
    width = 3 * (dx * T + 0.9)
    fig, ax = canvas(width, 7.2, scale=0.8)
    fs = FONT_SIZE - 2
    for k, name in enumerate(["(a) stacked", "(b) deep transition", "(c) deep transition + skip"]):
        left = k * (dx * T + 0.9)
        _panel_title(ax, (left + dx * (T + 1) / 2, 6.85), name)
        prev = {}
        for t in range(T):
            cx = left + dx * (t + 0.7)
            s = "t" if t == T - 1 else (f"t-{T - 1 - t}")
            x = node(ax, (cx, 0.4), rf"$x_{{{s}}}$", kind="x", radius=r, fontsize=fs)
            if k == 0:
                h1 = node(ax, (cx, 2.0), rf"$h^{{(1)}}_{{{s}}}$", kind="h", radius=r, fontsize=fs - 1)
                h2 = node(ax, (cx, 3.8), rf"$h^{{(2)}}_{{{s}}}$", kind="h", radius=r, fontsize=fs - 1)
                o = node(ax, (cx, 5.8), rf"$o_{{{s}}}$", kind="o", radius=r, fontsize=fs)
                arrow(ax, x, h1)
                arrow(ax, h1, h2)
                arrow(ax, h2, o)
                if prev:
                    arrow(ax, prev["h1"], h1)
                    arrow(ax, prev["h2"], h2)
                prev = {"h1": h1, "h2": h2}
            else:
                z = node(ax, (cx, 1.7), rf"$z_{{{s}}}$", kind="gate", radius=r, fontsize=fs)
                h = node(ax, (cx, 3.2), rf"$h_{{{s}}}$", kind="h", radius=r, fontsize=fs)
                q = node(ax, (cx, 4.5), rf"$q_{{{s}}}$", kind="gate", radius=r, fontsize=fs)
                o = node(ax, (cx, 5.8), rf"$o_{{{s}}}$", kind="o", radius=r, fontsize=fs)
                arrow(ax, x, z)
                arrow(ax, z, h)
                arrow(ax, h, q)
                arrow(ax, q, o)
                if prev:
                    arrow(ax, prev["h"], z)
                    if k == 2:
                        arrow(ax, prev["h"], h, color=BACKWARD_COLOR, lw=2.0)
                prev = {"h": h}
    return fig


def _op(ax, xy, s, r=0.22):
    return node(ax, xy, s, kind="op", radius=r, fontsize=FONT_SIZE - 1)


def _gate(ax, xy, s):
    return node(ax, xy, s, kind="gate", shape="box", width=0.75, height=0.5, fontsize=FONT_SIZE - 1)


def _line(ax, pts, color=EDGE_COLOR, lw=1.4, head=True, bridge=False):
    """A polyline through pts, with an arrow head on its last segment. bridge=True draws it over the lines
    it crosses with a white halo, so that a crossing does not look like a junction."""
    pts = [np.asarray(p, dtype=float) for p in pts]
    z, fx = (2.5, [patheffects.withStroke(linewidth=lw + 5, foreground="white")]) if bridge else (2, None)
    for a, b in zip(pts[:-2], pts[1:-1]):
        ax.plot([a[0], b[0]], [a[1], b[1]], color=color, lw=lw, zorder=z, solid_capstyle="round",
                path_effects=fx)
    style = "-|>" if head else "-"
    ax.add_patch(FancyArrowPatch(pts[-2], pts[-1], arrowstyle=style, mutation_scale=13, color=color, lw=lw,
                                 zorder=z, shrinkA=0, shrinkB=0, path_effects=fx))


def _dot(ax, xy):
    """A junction: a line splits here."""
    ax.plot([xy[0]], [xy[1]], "o", color=EDGE_COLOR, ms=4, zorder=3)


def _carry(ax, y, x0, x1, ops, label, label_x):
    """The state a gated cell carries from step to step: a thick line along y from x0 to x1, broken around the
    operation circles ops[:2] that sit on it; ops: three ((x, y), symbol), the third fed from below into the
    second. The label at (label_x, y)."""
    for xy, s in ops:
        _op(ax, xy, s)
    (a, _), (b, _) = ops[0][0], ops[1][0]
    for p, q in ((x0, a - 0.22), (a + 0.22, b - 0.22), (b + 0.22, x1)):
        _line(ax, [(p, y), (q, y)], color=COLORS["h"][1], lw=3.0)
    text(ax, (label_x, y), label, fontsize=FONT_SIZE)


def draw_lstm_cell():
    """One LSTM step in PyTorch's gate order: [x_t, h_{t-1}] feed four gates i, f, g, o; the cell state runs
    along the top, c_t = f * c_{t-1} + i * g (the highway, drawn thick); h_t = o * tanh(c_t)."""
    fig, ax = canvas(9.4, 5.6, scale=0.85)
    top, mid = 4.6, 2.2
    # inputs and the shared pre-activation
    text(ax, (0.35, 0.35), r"$h_{t-1}$", fontsize=FONT_SIZE)
    text(ax, (0.35, top), r"$c_{t-1}$", fontsize=FONT_SIZE)
    node(ax, (2.8, 0.35), r"$x_t$", kind="x", radius=0.3)
    gx = [2.2, 3.4, 4.6, 5.8]
    names = [r"$f\ \sigma$", r"$i\ \sigma$", r"$g\ \tanh$", r"$o\ \sigma$"]
    for k in range(4):
        _gate(ax, (gx[k], mid), names[k])
    ax.plot([0.75, 1.3, 1.3, 5.8], [0.35, 0.35, 1.2, 1.2], color=EDGE_COLOR, lw=1.4, zorder=2)
    ax.plot([2.8, 2.8], [0.65, 1.2], color=EDGE_COLOR, lw=1.4, zorder=2)
    for gxk in gx:
        _line(ax, [(gxk, 1.2), (gxk, mid - 0.25)])
    text(ax, (4.6, 0.7), r"$a = x_t W_x + h_{t-1} W_h + b$", fontsize=FONT_SIZE - 2, color=COLORS["gate"][1])
    # the cell-state highway
    _carry(ax, top, 0.75, 8.7, (((2.2, top), r"$\times$"), ((4.0, top), r"$+$"), ((4.0, 3.4), r"$\times$")),
           r"$c_t$", 9.05)
    _line(ax, [(2.2, mid + 0.25), (2.2, top - 0.22)])
    _line(ax, [(3.4, mid + 0.25), (3.4, 3.4), (4.0 - 0.22, 3.4)])
    _line(ax, [(4.6, mid + 0.25), (4.6, 3.4), (4.0 + 0.22, 3.4)])
    _line(ax, [(4.0, 3.4 + 0.22), (4.0, top - 0.22)])
    # the output
    node(ax, (7.0, 3.6), r"$\tanh$", kind="gate", shape="box", width=0.75, height=0.45,
                  fontsize=FONT_SIZE - 2)
    _op(ax, (7.0, mid), r"$\times$")
    _line(ax, [(7.0, top), (7.0, 3.6 + 0.23)])
    _line(ax, [(7.0, 3.6 - 0.23), (7.0, mid + 0.22)])
    _line(ax, [(5.8 + 0.375, mid), (7.0 - 0.22, mid)])
    _line(ax, [(7.0 + 0.22, mid), (8.0, mid), (8.0, 0.35), (8.7, 0.35)])
    text(ax, (9.05, 0.35), r"$h_t$", fontsize=FONT_SIZE)
    return fig


def draw_gru_cell():
    """One GRU step in PyTorch's form: gates r and z from [x_t, h_{t-1}]; the candidate
    n = tanh(x_t W_xn + b_in + r * (h_{t-1} W_hn + b_hn)) (the reset acts after the matmul);
    h_t = (1 - z) * n + z * h_{t-1} (the carry along the top, drawn thick)."""
    fig, ax = canvas(9.4, 5.6, scale=0.85)
    top, mid = 4.6, 2.2
    text(ax, (0.35, top), r"$h_{t-1}$", fontsize=FONT_SIZE)
    node(ax, (0.35, 0.35), r"$x_t$", kind="x", radius=0.3)
    _gate(ax, (2.2, mid), r"$r\ \sigma$")
    _gate(ax, (3.6, mid), r"$z\ \sigma$")
    node(ax, (5.2, 3.3), r"$h W_{hn}$", kind="gate", shape="box", width=1.0, height=0.45,
              fontsize=FONT_SIZE - 3)
    _op(ax, (5.2, mid), r"$\times$")
    _gate(ax, (6.4, mid), r"$n\ \tanh$")
    # two buses: x_t along the bottom (to r, z and the candidate), h_{t-1} one level up (to r and z)
    ax.plot([0.65, 6.4], [0.35, 0.35], color=COLORS["x"][1], lw=1.4, zorder=2)
    ax.plot([1.2, 1.2, 3.45], [top, 0.95, 0.95], color=EDGE_COLOR, lw=1.4, zorder=2)
    _dot(ax, (1.2, top))
    for gxk in (2.2, 3.6):
        if gxk == 2.2:
            _dot(ax, (gxk - 0.15, 0.95))
        _line(ax, [(gxk - 0.15, 0.95), (gxk - 0.15, mid - 0.25)])
        _dot(ax, (gxk + 0.15, 0.35))
        _line(ax, [(gxk + 0.15, 0.35), (gxk + 0.15, mid - 0.25)], color=COLORS["x"][1], bridge=True)
    _line(ax, [(6.4, 0.35), (6.4, mid - 0.25)], color=COLORS["x"][1])
    text(ax, (5.85, 0.62), r"$x_t W_{xn}$", fontsize=FONT_SIZE - 3, color=COLORS["gate"][1])
    text(ax, (2.75, 0.12), r"$x_t$", fontsize=FONT_SIZE - 4, color=COLORS["x"][1])
    text(ax, (2.75, 1.12), r"$h_{t-1}$", fontsize=FONT_SIZE - 4, color=EDGE_COLOR)
    # reset applied after the matmul; h_{t-1} reaches W_hn through its own branch
    _dot(ax, (1.2, 3.9))
    _line(ax, [(1.2, 3.9), (5.2, 3.9), (5.2, 3.3 + 0.23)])
    _line(ax, [(5.2, 3.3 - 0.23), (5.2, mid + 0.22)])
    _line(ax, [(2.2 + 0.375, mid), (2.75, mid), (2.75, 1.55), (5.2, 1.55), (5.2, mid - 0.22)], bridge=True)
    _line(ax, [(5.2 + 0.22, mid), (6.4 - 0.375, mid)])
    # the carry: h_t = z * h_{t-1} + (1 - z) * n
    _carry(ax, top, 0.9, 8.8, (((3.6, top), r"$\times$"), ((7.8, top), r"$+$"), ((7.8, 3.3), r"$\times$")),
           r"$h_t$", 9.1)
    _line(ax, [(3.6, mid + 0.25), (3.6, top - 0.22)], bridge=True)
    text(ax, (3.35, 3.45), r"$z$", fontsize=FONT_SIZE - 2)
    _dot(ax, (3.6, 2.85))
    _line(ax, [(3.6, 2.85), (7.3, 2.85), (7.3, 3.3), (7.8 - 0.22, 3.3)], color="#777777", lw=1.2, bridge=True)
    text(ax, (6.4, 3.08), r"$1-z$", fontsize=FONT_SIZE - 2)
    _line(ax, [(6.4 + 0.375, mid), (7.8, mid), (7.8, 3.3 - 0.22)])
    _line(ax, [(7.8, 3.3 + 0.22), (7.8, top - 0.22)])
    return fig


def close(fig):
    """Close a figure after the notebook has displayed it."""
    plt.close(fig)
