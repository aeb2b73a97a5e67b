"""The shapes of problem an RNN can be fitted to, and backpropagation through time drawn on the unrolled graph.

    draw_problem_shapes()    one-to-one, one-to-many, many-to-one, delayed and aligned many-to-many (chapter 8)
    draw_bptt_graph(T)       the unrolled RNN with the gradient flowing back through time (chapter 5)
    draw_tbptt(T, k)         truncated BPTT: the state crosses window boundaries, the gradient does not
    draw_parallel_vs_sequential(T)   the input projection (one matmul for all steps) vs the recurrence (a chain)

Colours and primitives come from base.py: inputs green, hidden states blue, outputs orange, losses red.
Gradients are drawn as dashed red arrows.
"""
import matplotlib.pyplot as plt

from .base import COLORS, arrow, canvas, node, text

GRAD_COLOR = COLORS["loss"][1]  # gradients flow in the colour of the loss they come from

# Each shape: (title, example, number of columns, columns with an input, columns with an output).
SHAPES = [
    ("one-to-one", "feed-forward net\n(image classification)", 1, [0], [0]),
    ("one-to-many", "image captioning:\nimage -> words", 4, [0], [0, 1, 2, 3]),
    ("many-to-one", "sentiment classification:\nwords -> sentiment", 4, [0, 1, 2, 3], [3]),
    ("many-to-many (delayed)", "machine translation:\nwords -> words", 6, [0, 1, 2], [3, 4, 5]),
    ("many-to-many (aligned)", "video classification\nper frame", 4, [0, 1, 2, 3], [0, 1, 2, 3]),
]


def _box(ax, xy, kind, label, size=0.5):
    return node(ax, xy, label, kind=kind, shape="box", width=size, height=size, fontsize=10)


def _shape_panel(ax, x0, n_cols, ins, outs, dx=0.8, rows=(0.6, 1.65, 2.7)):
    """One problem shape with its first column at x = x0. Returns the x of its last column."""
    hs = []
    for j in range(n_cols):
        cx = x0 + j * dx
        h = _box(ax, (cx, rows[1]), "h", r"$h$")
        if hs:
            arrow(ax, hs[-1], h)
        hs.append(h)
        if j in ins:
            arrow(ax, _box(ax, (cx, rows[0]), "x", r"$x$"), h)
        if j in outs:
            arrow(ax, h, _box(ax, (cx, rows[2]), "o", r"$o$"))
    return x0 + (n_cols - 1) * dx


def draw_problem_shapes(shapes=SHAPES, dx=0.8, gap=1.3, scale=0.62):
    """The five shapes of problem side by side, each with the seed's example underneath.

    Green boxes are inputs x_t, blue boxes hidden states h_t (the arrows between them are W_hh), orange boxes
    outputs o_t. Returns the matplotlib Figure."""
    widths = [(n - 1) * dx for _, _, n, _, _ in shapes]
    total = sum(widths) + gap * (len(shapes) - 1) + 2.4
    height = 4.6
    fig, ax = canvas(total, height, scale, margin=0, origin=(-1.2, -1.0))
    x0 = 0.0
    for (title, example, n, ins, outs), w in zip(shapes, widths):
        _shape_panel(ax, x0, n, ins, outs, dx=dx)
        mid = x0 + w / 2
        text(ax, (mid, 3.25), title, fontsize=11, fontweight="bold")
        text(ax, (mid, -0.35), example, fontsize=9, color="#444444")
        x0 += w + gap
    return fig


def _grad_arrow(ax, a, b, label=None, curve=0.0, **kw):
    kw.setdefault("label_color", GRAD_COLOR)
    return arrow(ax, a, b, label, curve=curve, color=GRAD_COLOR, linestyle="--", lw=1.6, **kw)


def draw_bptt_graph(T=4, dx=2.3):
    """The unrolled RNN (x_t -> h_t -> o_t -> L_t) over T steps, forward arrows in black, and the gradient
    in dashed red: from each loss L_t down to o_t and h_t, and from h_{t+1} back to h_t through W_hh.

    Returns the matplotlib Figure."""
    rows = {"x": 0.5, "h": 2.2, "o": 3.9, "L": 5.6}
    width = dx * (T + 1) + 0.8
    fig, ax = canvas(width, 6.6, 0.9, margin=0, origin=(-0.6, -0.3))
    labels = [str(t + 1) for t in range(T)]
    prev = node(ax, (0, rows["h"]), r"$h_0$", kind="h")
    hs = [prev]
    for t, s in enumerate(labels):
        cx = dx * (t + 1)
        x = node(ax, (cx, rows["x"]), rf"$x_{{{s}}}$", kind="x")
        h = node(ax, (cx, rows["h"]), rf"$h_{{{s}}}$", kind="h")
        o = node(ax, (cx, rows["o"]), rf"$o_{{{s}}}$", kind="o")
        L = node(ax, (cx, rows["L"]), rf"$L_{{{s}}}$", kind="loss")
        arrow(ax, x, h, r"$U_{xh}$", label_pos=0.3, label_offset=(0.1, 0.0))
        arrow(ax, h, o, r"$V_{ho}$", label_offset=(0.1, -0.25))
        arrow(ax, o, L)
        arrow(ax, prev, h, r"$W_{hh}$", label_offset=(-0.35, 0.25))
        # the gradient: L_t -> o_t -> h_t on the left of the forward arrows
        _grad_arrow(ax, L, o, curve=0.45)
        _grad_arrow(ax, o, h, curve=0.45)
        text(ax, (cx - 0.45, (rows["o"] + rows["L"]) / 2), rf"$\hat y_{{{s}}} - y_{{{s}}}$", fontsize=10,
             color=GRAD_COLOR, ha="right")
        hs.append(h)
        prev = h
    # through time: h_{t+1} -> h_t, bending below the forward arrow
    for t in range(len(hs) - 1, 0, -1):
        _grad_arrow(ax, hs[t], hs[t - 1], curve=-0.45)
    for t, s in enumerate(labels):   # each node's total gradient, written under the node it belongs to
        text(ax, (dx * (t + 1) + 0.12, rows["h"] - 0.55), rf"$\partial L/\partial h_{{{s}}}$", fontsize=10,
             color=GRAD_COLOR, ha="left", va="top")
    return fig


def draw_tbptt(T=12, k=4, dx=1.25):
    """A chain of T hidden states cut into windows of k steps. Black arrows (the forward pass, the state)
    run through every boundary; dashed red arrows (the gradient) run backwards inside each window only.

    Returns the matplotlib Figure."""
    width = dx * T + 1.0
    fig, ax = canvas(width, 2.9, 0.75, margin=0, origin=(-0.5, -0.6))
    hs = [node(ax, (dx * t, 1.2), rf"$h_{{{t}}}$", kind="h", radius=0.3, fontsize=10) for t in range(T + 1)]
    for t in range(T):
        arrow(ax, hs[t], hs[t + 1])
    for w0 in range(0, T, k):
        w1 = min(w0 + k, T)
        left, right = dx * (w0 + 0.5), dx * w1 + 0.45
        ax.add_patch(plt.Rectangle((left, 0.0), right - left, 1.75, facecolor="#f7f7f7", edgecolor="#bbbbbb",
                                   linestyle=":", zorder=0))
        text(ax, ((left + right) / 2, 2.0), f"window {w0 // k + 1}", fontsize=9, color="#555555")
        for t in range(w1, w0 + 1, -1):  # h_t -> h_{t-1}, never out of the window into the carried state
            _grad_arrow(ax, hs[t], hs[t - 1], curve=-0.7)
        if w0 > 0:
            text(ax, (dx * (w0 + 0.5), 0.65), "x", fontsize=13, color=GRAD_COLOR, fontweight="bold")
            text(ax, (dx * (w0 + 0.5), -0.35), "gradient cut,\nstate carried", fontsize=8, color=GRAD_COLOR)
    return fig


def draw_parallel_vs_sequential(T=6, dx=0.9):
    """Left: the input projection xt_t = x_t @ U_xh + b (drawn as x-tilde) for every t at once (no arrow between
    steps: one matmul).
    Right: the recurrence h_t = tanh(xt_t + h_{t-1} @ W_hh), a chain that must run one step after another.

    Returns the matplotlib Figure."""
    width = 2 * dx * T + 2.2
    fig, ax = canvas(width, 3.2, 0.8, margin=0, origin=(-0.5, -0.6))
    for t in range(T):
        x = node(ax, (dx * t, 0.3), rf"$x_{{{t + 1}}}$", kind="x", radius=0.28, fontsize=10)
        a = node(ax, (dx * t, 1.6), rf"$\tilde x_{{{t + 1}}}$", kind="plain", radius=0.28, fontsize=10)
        arrow(ax, x, a)
    text(ax, (dx * (T - 1) / 2, 2.35), r"$\tilde x_t = x_t U_{xh} + b$ for all $t$ at once (depth 1)", fontsize=10)
    off = dx * T + 1.2
    prev = None
    for t in range(T):
        a = node(ax, (off + dx * t, 0.3), rf"$\tilde x_{{{t + 1}}}$", kind="plain", radius=0.28, fontsize=10)
        h = node(ax, (off + dx * t, 1.6), rf"$h_{{{t + 1}}}$", kind="h", radius=0.28, fontsize=10)
        arrow(ax, a, h)
        if prev is not None:
            arrow(ax, prev, h)
        prev = h
    text(ax, (off + dx * (T - 1) / 2, 2.35), r"$h_t = \tanh(\tilde x_t + h_{t-1} W_{hh})$: one after another (depth $T$)",
         fontsize=10)
    return fig

