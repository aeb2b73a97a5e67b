"""How sequences are fed to an RNN: the batchify stream layout, the encoder-decoder, teacher forcing.

    draw_batchify(N, B, T)        one text cut into B streams (columns) and read in windows of T rows (chapter 6)
    draw_encoder_decoder(T_in, T_out)   an encoder RNN whose last state starts a decoder RNN (chapter 8)
    draw_teacher_forcing(T)       a decoder fed the true previous token (training) or its own output (testing)

Colours and primitives come from base.py: inputs green, hidden states blue, outputs orange, targets grey.
"""
from matplotlib.patches import Rectangle

from .base import COLORS, EDGE_COLOR, arrow, canvas, node, text

STREAM_COLORS = ["#d9f0d3", "#d1e5f0", "#fee0b6", "#e7d4e8", "#fddbc7", "#e0e0e0"]


def draw_batchify(N=24, B=4, T=3, cell=0.42):
    """Top: a text of N characters as a strip of cells, coloured by the stream (contiguous chunk) it goes to.
    Bottom: the (N // B, B) array batchify makes, one stream per column, with the first window's inputs
    (rows 0 .. T-1) and targets (rows 1 .. T) framed.

    Returns the matplotlib Figure."""
    if N % B or N // B < T + 1:
        raise ValueError(f"N: expected a multiple of B={B} with N // B >= T + 1 = {T + 1}, got {N}")
    n = N // B
    width = max(N * cell, B * cell * 3 + 6.0) + 0.6
    grid_top = 1.0 + n * cell
    height = grid_top + 1.9
    fig, ax = canvas(width, height, 0.78, margin=0)
    y_strip = height - 0.75
    for i in range(N):
        ax.add_patch(Rectangle((0.3 + i * cell, y_strip), cell, cell, facecolor=STREAM_COLORS[(i // n) % 6],
                               edgecolor="#555555", lw=0.6))
        if i % n == 0:
            text(ax, (0.3 + i * cell + 0.05, y_strip + cell + 0.18), f"stream {i // n}", fontsize=8, ha="left")
    text(ax, (0.3 + N * cell / 2, y_strip - 0.28), f"the text: characters 0 .. {N - 1}, cut into B = {B} pieces",
         fontsize=9)
    x0 = 2.2
    for b in range(B):
        for r in range(n):
            ax.add_patch(Rectangle((x0 + b * cell * 1.6, grid_top - (r + 1) * cell), cell * 1.6, cell,
                                   facecolor=STREAM_COLORS[b % 6], edgecolor="#555555", lw=0.6))
            text(ax, (x0 + (b + 0.5) * cell * 1.6, grid_top - (r + 0.5) * cell), str(b * n + r), fontsize=7)
    for r in range(n):
        text(ax, (x0 - 0.25, grid_top - (r + 0.5) * cell), f"row {r}", fontsize=7, ha="right")
    gw = B * cell * 1.6
    ax.add_patch(Rectangle((x0 - 0.06, grid_top - T * cell), gw + 0.12, T * cell, fill=False,
                           edgecolor=COLORS["x"][1], lw=2.0))
    ax.add_patch(Rectangle((x0 - 0.12, grid_top - (T + 1) * cell), gw + 0.24, T * cell, fill=False,
                           edgecolor=COLORS["o"][1], lw=2.0, linestyle="--"))
    tx = x0 + gw + 0.4
    text(ax, (tx, grid_top - T * cell / 2), f"inputs of window 1: rows 0 .. {T - 1}", fontsize=9, ha="left",
         color=COLORS["x"][1])
    text(ax, (tx, grid_top - (T + 1) * cell + T * cell / 2 - 0.35), f"targets: rows 1 .. {T}, one row lower",
         fontsize=9, ha="left", color=COLORS["o"][1])
    text(ax, (tx, 0.75), f"array ({n}, {B}): column b = stream b, read downwards;\n"
                         f"window 2 starts at row {T}, and each column's hidden state\n"
                         "is carried into it", fontsize=9, ha="left")
    return fig


def draw_encoder_decoder(T_in=3, T_out=3, dx=1.25):
    """The encoder reads x_1 .. x_T_in into its states; its last state is the decoder's initial state; the
    decoder reads a start token and then its previous output token, and emits y_1 .. y_T_out.

    Returns the matplotlib Figure."""
    width = dx * (T_in + T_out + 1) + 1.2
    fig, ax = canvas(width, 4.6, 0.8, margin=0)
    rows = {"in": 0.55, "h": 2.0, "out": 3.45}
    prev = None
    for t in range(T_in):
        cx = 0.7 + dx * t
        x = node(ax, (cx, rows["in"]), rf"$x_{{{t + 1}}}$", kind="x", radius=0.3, fontsize=11)
        h = node(ax, (cx, rows["h"]), "", kind="h", radius=0.3)
        arrow(ax, x, h)
        if prev is not None:
            arrow(ax, prev, h)
        prev = h
    text(ax, (0.7 + dx * (T_in - 1) / 2, 4.3), "encoder (reads the input)", fontsize=10, color=COLORS["h"][1])
    ctx = prev
    text(ax, (0.7 + dx * (T_in - 1) + 0.32, rows["h"] - 0.5), r"$h^{enc}_{T}$", fontsize=10, color=COLORS["h"][1],
         ha="left")
    first = True
    for t in range(T_out):
        cx = 0.7 + dx * (T_in + 1 + t)
        tok = "<start>" if t == 0 else rf"$y_{{{t}}}$"
        x = node(ax, (cx, rows["in"]), tok, kind="y", shape="box", width=0.95 if t == 0 else 0.6, height=0.5,
                 fontsize=9 if t == 0 else 11)
        h = node(ax, (cx, rows["h"]), "", kind="h", radius=0.3)
        o = node(ax, (cx, rows["out"]), rf"$\hat y_{{{t + 1}}}$", kind="o", radius=0.3, fontsize=11)
        arrow(ax, x, h)
        arrow(ax, h, o)
        arrow(ax, prev, h, "initial state" if first else None, label_pos=0.2, label_offset=(0.0, 0.28),
              color=COLORS["h"][1] if first else EDGE_COLOR, label_color=COLORS["h"][1], fontsize=9)
        first = False
        prev = h
    del ctx
    text(ax, (0.7 + dx * (T_in + 1 + (T_out - 1) / 2), 4.3), "decoder (writes the output)", fontsize=10,
         color=COLORS["o"][1])
    return fig


def draw_teacher_forcing(T=4, dx=1.3):
    """Two decoders side by side. Left, teacher forcing (training): the input at step t is the true token
    y_{t-1} (grey boxes). Right, free running (testing): the input at step t is the decoder's own output at
    step t-1 (orange boxes: the output it predicted one step earlier).

    Returns the matplotlib Figure."""
    panel = dx * T + 0.6
    width = 2 * panel + 1.0
    fig, ax = canvas(width, 4.8, 0.72, margin=0)
    rows = {"in": 0.75, "h": 2.1, "out": 3.45}
    for p, title in enumerate(("teacher forcing (training)", "free running (testing)")):
        x0 = 0.7 + p * (panel + 1.0)
        prev, outs = None, []
        for t in range(T):
            cx = x0 + dx * t
            if t == 0:
                inp = node(ax, (cx, rows["in"]), "<start>", kind="y", shape="box", width=0.95, height=0.5, fontsize=9)
            elif p == 0:
                inp = node(ax, (cx, rows["in"]), rf"$y_{{{t}}}$", kind="y", shape="box", width=0.6, height=0.5,
                           fontsize=11)
            else:
                inp = node(ax, (cx, rows["in"]), rf"$\hat y_{{{t}}}$", kind="o", shape="box", width=0.6,
                           height=0.5, fontsize=11)
            h = node(ax, (cx, rows["h"]), "", kind="h", radius=0.3)
            o = node(ax, (cx, rows["out"]), rf"$\hat y_{{{t + 1}}}$", kind="o", radius=0.3, fontsize=11)
            arrow(ax, inp, h)
            arrow(ax, h, o)
            if prev is not None:
                arrow(ax, prev, h)
            prev = h
            outs.append(o)
        text(ax, (x0 + dx * (T - 1) / 2, 4.4), title, fontsize=10)
        note = "input at step t: the true token y_(t-1)" if p == 0 else "input at step t: its own output at t-1"
        text(ax, (x0 + dx * (T - 1) / 2, 0.02), note, fontsize=8, color="#555555", va="bottom")
    return fig
