"""Sentences shared by several cells' mistakes."""
import numpy as np

from .rnn import _RNN_MSG

STEP_FIRST = ("{msg} That is the one-step math: if your {seq} calls your {step}, fix {step} first "
              "(check_{step} says more).")



_TIME_ORDER_MSGS = {
    "reversed": "your h is in reversed time order: h[t] must be the state after reading x[t], with t running "
                "0, 1, ..., T-1 (appending to the front of a list, or reading x from the end, reverses it).",
    "shifted": "your states are shifted by one step: h[t] must be the state AFTER reading x[t] (h[0] is the "
               "first new state), not h0.",
}


def _time_order(h, h0, m):
    return h[::-1].copy() if m == "reversed" else np.concatenate([h0[None], h[:-1]])


_SEQ_LOOP_MSGS = [
    ("forward_loop", _RNN_MSG["forward_loop"]),
    ("dh_only_last", _RNN_MSG["dh_only_last"]),
]
