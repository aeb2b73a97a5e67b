"""The vanilla RNN as a graph: folded (one cell with a self-loop) and unrolled over time.

    h_t = tanh(x_t @ U_xh + h_{t-1} @ W_hh + b),   o_t = h_t @ V_ho + b_y,   L_t = loss(o_t, y_t)

The same three matrices label every time step of the unrolled graph: that is parameter sharing.
"""
import matplotlib.pyplot as plt

from .base import arrow, node, self_loop, text

ROW = {"x": 0.5, "h": 2.0, "o": 3.5, "loss": 5.0, "y": 5.0}


def draw_folded(ax, x0=0.6, with_loss=True):
    """The folded RNN on ax, its column centred at x = x0: x -> h (self-loop W_hh) -> o [-> L <- y]."""
    x = node(ax, (x0, ROW["x"]), r"$x_t$", kind="x")
    h = node(ax, (x0, ROW["h"]), r"$h_t$", kind="h")
    o = node(ax, (x0, ROW["o"]), r"$o_t$", kind="o")
    arrow(ax, x, h, r"$U_{xh}$")
    arrow(ax, h, o, r"$V_{ho}$")
    self_loop(ax, h, r"$W_{hh}$", side="right")
    if with_loss:
        loss = node(ax, (x0, ROW["loss"]), r"$L_t$", kind="loss")
        y = node(ax, (x0 + 1.0, ROW["y"]), r"$y_t$", kind="y")
        arrow(ax, o, loss)
        arrow(ax, y, loss)
    return h


def draw_unrolled(ax, T=3, x0=0.0, dx=1.8, with_loss=True, labels=None, h0=True):
    """The RNN unrolled over T steps on ax, step t's column at x = x0 + dx * (t + 1) (the h0 node at x0).

    labels: time subscripts as strings (default "1".."T"). Every step carries the same U_xh, W_hh, V_ho.
    Returns the list of hidden-state nodes.
    """
    labels = labels or [str(t + 1) for t in range(T)]
    prev = node(ax, (x0, ROW["h"]), r"$h_0$", kind="h") if h0 else None
    hs = []
    for t, s in enumerate(labels):
        cx = x0 + dx * (t + 1)
        x = node(ax, (cx, ROW["x"]), rf"$x_{{{s}}}$", kind="x")
        h = node(ax, (cx, ROW["h"]), rf"$h_{{{s}}}$", kind="h")
        o = node(ax, (cx, ROW["o"]), rf"$o_{{{s}}}$", kind="o")
        arrow(ax, x, h, r"$U_{xh}$", label_offset=(0.08, 0.0))
        arrow(ax, h, o, r"$V_{ho}$", label_offset=(0.08, 0.0))
        if prev is not None:
            arrow(ax, prev, h, r"$W_{hh}$", label_offset=(-0.32, 0.22))
        if with_loss:
            loss = node(ax, (cx, ROW["loss"]), rf"$L_{{{s}}}$", kind="loss")
            y = node(ax, (cx + 0.85, ROW["loss"]), rf"$y_{{{s}}}$", kind="y", radius=0.26)
            arrow(ax, o, loss)
            arrow(ax, y, loss)
        prev = h
        hs.append(h)
    return hs


def draw_rnn_graph(T=3, with_loss=True, figsize=None):
    """The folded RNN, an 'unfold' arrow, and the same RNN unrolled over T steps, in one figure.

    Returns the matplotlib Figure (the book's chapter 3 shows it)."""
    height = 5.8 if with_loss else 4.2
    width = 3.7 + 1.8 * (T + 1) + 0.8
    fig, ax = plt.subplots(figsize=figsize or (width * 0.62, height * 0.62))
    ax.set_xlim(-0.1, width)
    ax.set_ylim(-0.1, height)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1)
    draw_folded(ax, x0=0.7, with_loss=with_loss)
    arrow(ax, (2.6, ROW["h"]), (3.3, ROW["h"]), lw=2.2)
    text(ax, (2.95, ROW["h"] + 0.35), "unfold", fontsize=11)
    draw_unrolled(ax, T=T, x0=3.8, with_loss=with_loss)
    return fig
