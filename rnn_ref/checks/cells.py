"""The recurrent cells' checks: one step and a whole sequence, forward and backward."""
import numpy as np

from .cases import CASES, _NOTES_SEQ, _NOTES_STEP, _backward_ref, _first, _sizes
from .engine import Case, Spec, case_rng, run_check
from .mistakes import gru as gru_hy, lstm as lstm_hy, rnn as rnn_hy
from ..cells.gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward
from ..cells.lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from ..cells.rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward


def _rnn_cases(hidden, seq, grads):
    cases = []
    for seed, T, B, D, H, note, s in _sizes(hidden):
        rng = case_rng(seed)
        args = [("x", rng.standard_normal((T, B, D) if seq else (B, D))),
                ("h0" if seq else "h_prev", rng.standard_normal((B, H)) * 0.8),
                ("U_xh", rng.standard_normal((D, H)) * s), ("W_hh", rng.standard_normal((H, H)) * s),
                ("b", rng.standard_normal(H) * 0.3)]
        dargs = [("dh", rng.standard_normal((T, B, H) if seq else (B, H)))] if grads else []
        cases.append(Case(seed, args, dargs, note))
    return cases


def _lstm_cases(hidden, seq, grads):
    cases = []
    for size in _sizes(hidden):
        seed, T, B, D, H, note, s = size
        rng = case_rng(seed)
        shp = (T, B, D) if seq else (B, D)
        args = [("x", rng.standard_normal(shp)), ("h0" if seq else "h_prev", rng.standard_normal((B, H)) * 0.8),
                ("c0" if seq else "c_prev", rng.standard_normal((B, H))),
                ("Wx", rng.standard_normal((D, 4 * H)) * s), ("Wh", rng.standard_normal((H, 4 * H)) * s),
                ("b", rng.standard_normal(4 * H) * 0.5)]
        dargs = []
        if grads:
            dargs = [("dh", rng.standard_normal((T, B, H) if seq else (B, H)))]
            if not seq:
                dargs.append(("dc", rng.standard_normal((B, H))))
        cases.append(Case(seed, args, dargs, note))
    return cases


def _gru_cases(hidden, seq, grads):
    cases = []
    for size in _sizes(hidden):
        seed, T, B, D, H, note, s = size
        rng = case_rng(seed)
        shp = (T, B, D) if seq else (B, D)
        args = [("x", rng.standard_normal(shp)), ("h0" if seq else "h_prev", rng.standard_normal((B, H)) * 0.8),
                ("Wx", rng.standard_normal((D, 3 * H)) * s), ("Wh", rng.standard_normal((H, 3 * H)) * s),
                ("bx", rng.standard_normal(3 * H) * 0.5), ("bh", rng.standard_normal(3 * H) * 0.5)]
        dargs = [("dh", rng.standard_normal((T, B, H) if seq else (B, H)))] if grads else []
        cases.append(Case(seed, args, dargs, note))
    return cases


# ------------------------------------------------------------------------------------------------ vanilla RNN
_RNN_GRADS_STEP = ("dx", "dh_prev", "dU_xh", "dW_hh", "db")
_RNN_GRADS = ("dx", "dh0", "dU_xh", "dW_hh", "db")


def _zero_W(name):
    return lambda c: c.replace(note=f"{name} = 0", **{name: np.zeros_like(c.arg(name))})


def _only_last_dh(c):
    dh = np.zeros_like(c.arg("dh"))
    if dh.shape[0] < 2:
        return None
    dh[-1] = c.arg("dh")[-1]
    return c.replace(note="dh nonzero only at the last step", dh=dh)


_PROBE_NO_RECURRENCE = ("It agrees with the reference when {W} = 0 (no path through time), so each step's local "
                        "gradient is right; the mistake is in the path through time ({W} and the gradient "
                        "carried from step t+1 to step t).")
_PROBE_LAST_DH = ("It agrees with the reference when the upstream dh is nonzero only at the last step, so the "
                  "recurrence is right; the gradients arriving from the loss at the earlier steps are not "
                  "handled: at every step add dh[t] to the gradient coming back from step t+1.")


def _rnn_probes(W):
    return [(_only_last_dh, _PROBE_LAST_DH), (_zero_W(W), _PROBE_NO_RECURRENCE.format(W=W))]


def check_rnn_step_forward(f, hidden=False):
    """f(x, h_prev, U_xh, W_hh, b) -> h, cache."""
    spec = Spec("rnn_step_forward", ("h", "cache"), lambda hd: _rnn_cases(hd, False, False),
                _first(rnn_step_forward), hyps=rnn_hy.RNN_STEP_FORWARD, case_notes=_NOTES_STEP)
    return run_check("check_rnn_step_forward", spec, (f,), hidden)


def check_rnn_step_backward(fwd, bwd, hidden=False):
    """fwd(x, h_prev, U_xh, W_hh, b) -> h, cache ; bwd(dh, cache) -> dx, dh_prev, dU_xh, dW_hh, db."""
    spec = Spec("rnn_step_backward", _RNN_GRADS_STEP, lambda hd: _rnn_cases(hd, False, True),
                _backward_ref(rnn_step_forward, rnn_step_backward),
                fwd=("rnn_step_forward", ("h", "cache"), _first(rnn_step_forward), 1),
                hyps=rnn_hy.RNN_STEP_BACKWARD, case_notes=_NOTES_STEP)
    return run_check("check_rnn_step_backward", spec, (fwd, bwd), hidden)


def check_rnn_forward(f, hidden=False):
    """f(x, h0, U_xh, W_hh, b) -> h (T, B, H), cache."""
    spec = Spec("rnn_forward", ("h", "cache"), lambda hd: _rnn_cases(hd, True, False), _first(rnn_forward),
                hyps=rnn_hy.RNN_FORWARD, probes=[(_zero_W("W_hh"), _PROBE_NO_RECURRENCE.format(W="W_hh"))],
                case_notes=_NOTES_SEQ)
    return run_check("check_rnn_forward", spec, (f,), hidden)


def check_rnn_backward(fwd, bwd, hidden=False):
    """fwd(x, h0, U_xh, W_hh, b) -> h, cache ; bwd(dh (T, B, H), cache) -> dx, dh0, dU_xh, dW_hh, db."""
    spec = Spec("rnn_backward", _RNN_GRADS, lambda hd: _rnn_cases(hd, True, True),
                _backward_ref(rnn_forward, rnn_backward),
                fwd=("rnn_forward", ("h", "cache"), _first(rnn_forward), 1),
                hyps=rnn_hy.RNN_BACKWARD, probes=_rnn_probes("W_hh"), case_notes=_NOTES_SEQ)
    return run_check("check_rnn_backward", spec, (fwd, bwd), hidden)


# ------------------------------------------------------------------------------------------------ gates
# A gated cell's bias gradient holds one block per gate, and each block is that gate's gradient summed over the
# batch: the blocks that disagree with the reference say which gate's term is wrong.
_LSTM_TERMS = {"i": "da_i = dc_total * g * i * (1 - i)", "f": "da_f = dc_total * c_prev * f * (1 - f)",
               "g": "da_g = dc_total * i * (1 - g**2)", "o": "da_o = dh * tanh(c) * o * (1 - o)"}
_LSTM_NAMES = {"i": "input gate", "f": "forget gate", "g": "candidate g", "o": "output gate"}
_GRU_TERMS = {"r": "da_r = dn * (h_prev @ Wh_n + bh_n) * r * (1 - r)", "z": "da_z = dh * (h_prev - n) * z * (1 - z)",
              "n": "da_n = dn = dh * (1 - z) * (1 - n**2) on the x side, r * dn on the h side"}
_GRU_NAMES = {"r": "reset gate", "z": "update gate", "n": "new state n"}


def _wrong_blocks(leaf, gates):
    from .engine import close
    H = leaf.ref.shape[-1] // len(gates)
    return [g for k, g in enumerate(gates) if not close(leaf.ref[..., k * H:(k + 1) * H],
                                                        leaf.got[..., k * H:(k + 1) * H])]


def _gate_sentence(cell, bias, wrong, gates):
    terms, names = (_LSTM_TERMS, _LSTM_NAMES) if cell == "lstm" else (_GRU_TERMS, _GRU_NAMES)
    right = [g for g in gates if g not in wrong]
    if cell == "lstm" and set(wrong) == {"i", "f", "g"}:
        return (f"the blocks of {bias} for i, f and g are wrong and o is right: the three share "
                f"dc_total = dc + dh * o * (1 - tanh(c)**2), so dc_total is wrong (the dh path into c, or "
                f"the incoming dc).")
    span = {0: "[0:H]", 1: "[H:2H]", 2: "[2H:3H]", 3: "[3H:4H]"}
    blocks = ", ".join(f"{g} (columns {span[gates.index(g)]})" for g in wrong)
    one = len(wrong) == 1
    what = " and ".join(f"{names[g]} ({g})" for g in wrong)
    where = ("dc_total = dc + dh * o * (1 - tanh(c)**2)" if cell == "lstm" and set(wrong) & set("ifg") else
             "dn = dh * (1 - z) * (1 - n**2)" if cell == "gru" and set(wrong) & set("rn") else "")
    return (f"in {bias}, the gate block{'' if one else 's'} {blocks} {'is' if one else 'are'} wrong and "
            f"{', '.join(right)} {'is' if len(right) == 1 else 'are'} right, so the gradient of the {what} is "
            f"wrong: " + "; ".join(terms[g] for g in wrong) + (f", with {where}." if where else "."))


def _gate_explain(cell, step_name=None):
    """explain() for a gated cell's backward: which gate blocks of the bias gradients are wrong. For a
    sequence (step_name given) it looks at the T=1 case: wrong there means the one-step math is wrong."""
    gates = "ifgo" if cell == "lstm" else "rzn"
    biases = ("db",) if cell == "lstm" else ("dbx", "dbh")

    def blocks(leaves):
        for bias in biases:
            leaf = leaves.get(bias)
            if leaf is not None and leaf.kind == "array":
                wrong = _wrong_blocks(leaf, gates)
                if wrong and len(wrong) < len(gates):
                    return _gate_sentence(cell, bias, wrong, gates)
        return ""

    def explain(fns, case, failure, cases):
        from .engine import _SPEC_OF_CALL, CheckFailure, run_case
        leaves = {l.path: l for l in failure.leaves}
        if step_name is None:
            sentence = blocks(leaves)
            if sentence:
                return [sentence], []
            if all(b in leaves and _wrong_blocks(leaves[b], gates) == [] for b in biases):
                agree = "agrees" if len(biases) == 1 else "agree"
                return [], [f"The gate gradients are right ({' and '.join(biases)} {agree} with the reference), so the "
                            f"mistake is in sending them back: dx = da @ Wx.T, dh_prev = da @ Wh.T"
                            + (" plus the direct path dh * z" if cell == "gru" else "") + "."]
            return [], []
        one = [c for c in cases if c.note == "T=1" and c is not case]
        if not one:
            return [], []
        try:
            run_case(_SPEC_OF_CALL[0], fns, one[0], {})
            return [], []  # right at T=1: the loop is to blame, and the T=1 note says so
        except CheckFailure as e:
            if not hasattr(e, "leaves"):
                return [], []
            sentence = blocks({l.path: l for l in e.leaves})
            wrong_at_1 = {b[0].path for b in e.bad}
        seq = step_name.replace("_step", "")
        initial = {"dh0", "dc0"}
        if wrong_at_1 <= initial:  # the step's gradients are right: what the loop returns at the end is not
            names = " and ".join(sorted(wrong_at_1))
            return [], [f"In the T=1 case dx and the weight gradients are right and only {names} "
                        f"{'is' if len(wrong_at_1) == 1 else 'are'} wrong: return what the last step of your "
                        f"backward loop (t = 0) sends back, its dh_prev"
                        + (" and dc_prev" if cell == "lstm" else "") + f", as {names}."]
        return [f"your {seq} is wrong even in the T=1 case (one step, nothing crosses time), so the one-step "
                f"math is wrong, not the loop: if your {seq} calls your {step_name}, fix {step_name} first "
                f"(check_{step_name} says more)." + (f" At T=1, {sentence}" if sentence else "")], []
    return explain


# ------------------------------------------------------------------------------------------------ LSTM
_LSTM_GRADS_STEP = ("dx", "dh_prev", "dc_prev", "dWx", "dWh", "db")
_LSTM_GRADS = ("dx", "dh0", "dc0", "dWx", "dWh", "db")


def check_lstm_step_forward(f, hidden=False):
    """f(x, h_prev, c_prev, Wx, Wh, b) -> h, c, cache (gates i, f, g, o)."""
    spec = Spec("lstm_step_forward", ("h", "c", "cache"), lambda hd: _lstm_cases(hd, False, False),
                _first(lstm_step_forward), hyps=lstm_hy.LSTM_STEP_FORWARD, case_notes=_NOTES_STEP)
    return run_check("check_lstm_step_forward", spec, (f,), hidden)


def check_lstm_step_backward(fwd, bwd, hidden=False):
    """fwd(x, h_prev, c_prev, Wx, Wh, b) -> h, c, cache ; bwd(dh, dc, cache) -> dx, dh_prev, dc_prev, dWx, dWh, db."""
    spec = Spec("lstm_step_backward", _LSTM_GRADS_STEP, lambda hd: _lstm_cases(hd, False, True),
                _backward_ref(lstm_step_forward, lstm_step_backward),
                fwd=("lstm_step_forward", ("h", "c", "cache"), _first(lstm_step_forward), 2),
                hyps=lstm_hy.LSTM_STEP_BACKWARD, case_notes=_NOTES_STEP, explain=_gate_explain("lstm"))
    return run_check("check_lstm_step_backward", spec, (fwd, bwd), hidden)


def check_lstm_forward(f, hidden=False):
    """f(x (T, B, D), h0, c0, Wx, Wh, b) -> h (T, B, H), cache."""
    spec = Spec("lstm_forward", ("h", "cache"), lambda hd: _lstm_cases(hd, True, False), _first(lstm_forward),
                hyps=lstm_hy.LSTM_FORWARD, probes=[(_zero_W("Wh"), _PROBE_NO_RECURRENCE.format(W="Wh"))],
                case_notes=_NOTES_SEQ)
    return run_check("check_lstm_forward", spec, (f,), hidden)


def check_lstm_backward(fwd, bwd, hidden=False):
    """fwd(x, h0, c0, Wx, Wh, b) -> h, cache ; bwd(dh (T, B, H), cache) -> dx, dh0, dc0, dWx, dWh, db."""
    spec = Spec("lstm_backward", _LSTM_GRADS, lambda hd: _lstm_cases(hd, True, True),
                _backward_ref(lstm_forward, lstm_backward),
                fwd=("lstm_forward", ("h", "cache"), _first(lstm_forward), 1),
                hyps=lstm_hy.LSTM_BACKWARD, probes=_rnn_probes("Wh"), case_notes=_NOTES_SEQ,
                explain=_gate_explain("lstm", "lstm_step_backward"))
    return run_check("check_lstm_backward", spec, (fwd, bwd), hidden)


# ------------------------------------------------------------------------------------------------ GRU
_GRU_GRADS_STEP = ("dx", "dh_prev", "dWx", "dWh", "dbx", "dbh")
_GRU_GRADS = ("dx", "dh0", "dWx", "dWh", "dbx", "dbh")


def check_gru_step_forward(f, hidden=False):
    """f(x, h_prev, Wx, Wh, bx, bh) -> h, cache (PyTorch's r, z, n)."""
    spec = Spec("gru_step_forward", ("h", "cache"), lambda hd: _gru_cases(hd, False, False),
                _first(gru_step_forward), hyps=gru_hy.GRU_STEP_FORWARD, case_notes=_NOTES_STEP)
    return run_check("check_gru_step_forward", spec, (f,), hidden)


def check_gru_step_backward(fwd, bwd, hidden=False):
    """fwd(x, h_prev, Wx, Wh, bx, bh) -> h, cache ; bwd(dh, cache) -> dx, dh_prev, dWx, dWh, dbx, dbh."""
    spec = Spec("gru_step_backward", _GRU_GRADS_STEP, lambda hd: _gru_cases(hd, False, True),
                _backward_ref(gru_step_forward, gru_step_backward),
                fwd=("gru_step_forward", ("h", "cache"), _first(gru_step_forward), 1),
                hyps=gru_hy.GRU_STEP_BACKWARD, case_notes=_NOTES_STEP, explain=_gate_explain("gru"))
    return run_check("check_gru_step_backward", spec, (fwd, bwd), hidden)


def check_gru_forward(f, hidden=False):
    """f(x (T, B, D), h0, Wx, Wh, bx, bh) -> h (T, B, H), cache."""
    spec = Spec("gru_forward", ("h", "cache"), lambda hd: _gru_cases(hd, True, False), _first(gru_forward),
                hyps=gru_hy.GRU_FORWARD, probes=[(_zero_W("Wh"), _PROBE_NO_RECURRENCE.format(W="Wh"))],
                case_notes=_NOTES_SEQ)
    return run_check("check_gru_forward", spec, (f,), hidden)


def check_gru_backward(fwd, bwd, hidden=False):
    """fwd(x, h0, Wx, Wh, bx, bh) -> h, cache ; bwd(dh (T, B, H), cache) -> dx, dh0, dWx, dWh, dbx, dbh."""
    spec = Spec("gru_backward", _GRU_GRADS, lambda hd: _gru_cases(hd, True, True),
                _backward_ref(gru_forward, gru_backward), fwd=("gru_forward", ("h", "cache"), _first(gru_forward), 1),
                hyps=gru_hy.GRU_BACKWARD, probes=_rnn_probes("Wh"), case_notes=_NOTES_SEQ,
                explain=_gate_explain("gru", "gru_step_backward"))
    return run_check("check_gru_backward", spec, (fwd, bwd), hidden)


CASES.update({
    "check_rnn_step_forward": lambda hd: _rnn_cases(hd, False, False),
    "check_rnn_step_backward": lambda hd: _rnn_cases(hd, False, True),
    "check_rnn_forward": lambda hd: _rnn_cases(hd, True, False),
    "check_rnn_backward": lambda hd: _rnn_cases(hd, True, True),
    "check_lstm_step_forward": lambda hd: _lstm_cases(hd, False, False),
    "check_lstm_step_backward": lambda hd: _lstm_cases(hd, False, True),
    "check_lstm_forward": lambda hd: _lstm_cases(hd, True, False),
    "check_lstm_backward": lambda hd: _lstm_cases(hd, True, True),
    "check_gru_step_forward": lambda hd: _gru_cases(hd, False, False),
    "check_gru_step_backward": lambda hd: _gru_cases(hd, False, True),
    "check_gru_forward": lambda hd: _gru_cases(hd, True, False),
    "check_gru_backward": lambda hd: _gru_cases(hd, True, True),
})
