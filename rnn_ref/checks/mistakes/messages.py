"""The message table: every sentence the catalogue says about a cell, written once.

Placeholders are filled from the cell's registry entry (rnn_ref.cells.registry) by words(cell): {W} the recurrent
weight, {Wx} the input weight, {s} a state's name (h, c), {step} and {seq} the cell's step and sequence
functions, {gates} its gate letters, {out} the wrong output (filled by the engine).
"""
MSG = {
    # what crosses time in a sequence forward
    "not_carried": "every step starts from {s}0: the new {s} must become the next step's {s}_prev.",
    "loop_reversed": "your loop reads x from the end: the forward pass runs t = 0, 1, ..., T-1.",
    "out_reversed": "your h is in reversed time order: h[t] must be the state after reading x[t], with t running "
                    "0, 1, ..., T-1 (appending to the front of a list, or reading x from the end, reverses it).",
    "shifted": "your states are shifted by one step: h[t] must be the state AFTER reading x[t] (h[0] is the "
               "first new state), not h0.",
    "fwd_wrap": "at t = 0 you read {s}[t-1] = {s}[-1], which Python reads as the LAST entry of {s} (still zeros "
                "then): at t = 0 the previous state is {s}0.",
    "alias": "every time step holds the same (last) state: you stored one array that kept changing in place; "
             "write each step into h[t] (or store a copy).",
    "last_only": "you returned only the last state; {seq} returns every step's state, h of shape (T, B, H).",
    "with_h0": "your h has T + 1 states: it starts with h0. Return only the T new states, h[t] the state after "
               "reading x[t] (h0 is an input, not an output).",
    # what crosses time in a sequence backward
    "assign": "{out} holds only one time step's contribution (t=0, the last one your backward loop visits): "
              "accumulate with += over every step (initialise with zeros before the loop).",
    "only_last": "{out} holds only the last time step's contribution: accumulate with += over every step.",
    "no_time_flow": "no gradient flows back through time: at step t, add the dh_prev that step t+1 sends back to "
                    "dh[t] before the step's backward.",
    "no_state_flow": "no gradient flows back through the cell state {s}: either your loop does not pass each "
                     "step's d{s}_prev in as the d{s} of step t-1 (zeros at the last step; d{s}0 is the final "
                     "d{s}_prev), or your {step_b} drops its d{s} argument (check_{step_b} catches that).",
    "forward_loop": "your time loop runs forward (t = 0, 1, ...); backpropagation through time must run from "
                    "t = T-1 down to 0, so that the gradient from step t+1 is ready at step t.",
    "dh_only_last": "only the loss gradient of the last step enters: at every step t add dh[t] to the gradient "
                    "coming back from step t+1.",
    "bwd_wrap": "at t = 0 you used {s}[t-1] = {s}[-1], which Python reads as the LAST state: at t = 0 {s}_prev is "
                "{s}0.",
    "dh0_upstream": "dh0 is the gradient that arrives at step 0 (dh[0] plus what step 1 sends back); it must be "
                    "what step 0 sends back to h0, the dh_prev of {step}.",
    # a step's math, in any gated cell
    "no_bias": "the bias {b} is missing.",
    "gate_order": "your gates are in the order {order}{known}; this course follows PyTorch: {gates}, i.e. "
                  "columns {columns}.",
    "bias_mean": "{dbs} {is_are} averaged; a bias gradient is a sum over the batch (and over time): "
                 "da.sum(axis=0).",
    # the update gate of both GRUs, h = (1 - z) * n + z * h_prev
    "z_swapped": "the update gate's roles are swapped: h = (1 - z) * n + z * h_prev (z near 1 keeps the old "
                 "state).",
    "z_sign": "the sign of dz is flipped: h = (1 - z) * n + z * h_prev, so dL/dz = dh * (h_prev - n).",
    "no_direct": "dh_prev is missing the direct path h = ... + z * h_prev: add dh * z to dh_prev.",
    "n_no_tanh": "the tanh derivative of n is missing: {dn} = dh * (1 - z) * (1 - n**2).",
    # a sequence check whose failure is the step's math
    "step_first": "{msg} That is the one-step math: if your {seq} calls your {step}, fix {step} first "
                  "(check_{step} says more).",
    # probes
    "probe_no_recurrence": "It agrees with the reference when {W} = 0 (no path through time), so each step's "
                           "local gradient is right; the mistake is in the path through time ({W} and the "
                           "gradient carried from step t+1 to step t).",
    "probe_last_dh": "It agrees with the reference when the upstream dh is nonzero only at the last step, so the "
                     "recurrence is right; the gradients arriving from the loss at the earlier steps are not "
                     "handled: at every step add dh[t] to the gradient coming back from step t+1.",
}

# gate letters -> what the message calls the gate and the block it reads
GATE_NAMES = {"i": "input", "f": "forget", "g": "candidate g (tanh)", "o": "output", "r": "reset", "z": "update",
              "n": "new"}
GATE_TITLES = {"i": "input gate", "f": "forget gate", "g": "candidate g", "o": "output gate", "r": "reset gate",
               "z": "update gate", "n": "new state n"}
KNOWN_ORDERS = {"ifog": " (CS231n's order)"}


def span(j):
    """The columns of gate block j: [0:H], [H:2H], [2H:3H], ..."""
    return "[0:H]" if j == 0 else f"[{'' if j == 1 else j}H:{j + 1}H]"


def words(cell, **more):
    """The placeholders of the message table for one registered cell."""
    return dict(W=cell.params[1], Wx=cell.params[0], step=f"{cell.name}_step_forward", seq=f"{cell.name}_forward",
                step_b=f"{cell.name}_step_backward",
                gates=", ".join(cell.gates), **more)


def say(key, cell=None, **more):
    """The sentence `key` of the table, filled for the cell (and any further placeholders); {out} is kept."""
    fill = words(cell) if cell is not None else {}
    fill.update(more)
    fill.setdefault("out", "{out}")
    return MSG[key].format(**fill)


def step_first(msg, cell, backward):
    """A step's mistake, as said by a sequence check: fix the step first."""
    kind = "backward" if backward else "forward"
    return MSG["step_first"].format(msg=msg, seq=f"{cell.name}_{kind}", step=f"{cell.name}_step_{kind}")


def order_of(gates, perm):
    """The gate letters in the column order a student who reads gate k from block perm[k] assumes."""
    got = ["?"] * len(gates)
    for k, j in enumerate(perm):
        got[j] = gates[k]
    return got


def gate_order(cell, perm):
    """The sentence for gates read in the order perm (perm[k]: the column block holding gate k)."""
    got = order_of(cell.gates, perm)
    columns = ", ".join(f"{span(j)} {GATE_NAMES.get(g, g)}" for j, g in enumerate(cell.gates))
    order = "".join(got)
    return say("gate_order", cell, order=", ".join(got), known=KNOWN_ORDERS.get(order, ""), columns=columns)


def modes(make, table):
    """[(name, make(name), message)] for a table {name: message} of the mistakes one function makes by name."""
    return [(m, make(m), msg) for m, msg in table.items()]
