"""Our own diagrams for the book, drawn with matplotlib (imported only here: rnn_ref itself never needs it).

Import what you need from the submodules, e.g. ``from rnn_ref.diagrams.base import node, arrow`` or
``from rnn_ref.diagrams.unrolled import draw_rnn_graph``. This file deliberately imports no submodule, so a
chapter that needs one diagram loads one module.
"""
