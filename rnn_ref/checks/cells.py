"""The recurrent cells' checks, generated from the cell registry: for every registered cell (rnn_ref.cells.registry)
the four checks check_<cell>_step_forward, check_<cell>_step_backward, check_<cell>_forward and
check_<cell>_backward, their cases, and their diagnosis (the mistake catalogue's mistakes/sequence.py and the
cell's own mistakes module; for a gated cell, which gate block of the bias gradient is wrong)."""
import numpy as np

from .cases import CASES, _NOTES_SEQ, _NOTES_STEP, _backward_ref, _first, _sizes
from .engine import Case, Spec, case_rng, close, run_check
from .mistakes import sequence
from .mistakes.messages import GATE_TITLES, say, span
from ..cells.registry import CELLS

# check-only knowledge of a cell: the scale of its biases in the cases, the exercise that uses its checks
_BIAS_SCALE = {"rnn": 0.3}
_EXERCISE = {"rnn": ("a1_forward", "a3_bptt"), "lstm": ("a7_lstm",) * 2, "gru": ("a8_gru",) * 2}


def cell_cases(cell, hidden, seq, grads):
    """The cases of a cell's check: x, the state (h0, c0, ... or h_prev, c_prev, ...), the parameters in API
    order, and for a backward check the upstream gradients (dh; a step also gets dc, ... for its other state)."""
    cases = []
    for seed, T, B, D, H, note, s in _sizes(hidden):
        rng = case_rng(seed)
        args = [("x", rng.standard_normal((T, B, D) if seq else (B, D)))]
        args += [(f"{n}0" if seq else f"{n}_prev", rng.standard_normal((B, H)) * (0.8 if n == "h" else 1.0))
                 for n in cell.state]
        shapes = cell.param_shapes(D, H)
        args += [(p, rng.standard_normal(shapes[p]) * (s if i < 2 else _BIAS_SCALE.get(cell.name, 0.5)))
                 for i, p in enumerate(cell.params)]
        dargs = []
        if grads:
            dargs = [("dh", rng.standard_normal((T, B, H) if seq else (B, H)))]
            if not seq:
                dargs += [(f"d{n}", rng.standard_normal((B, H))) for n in cell.state[1:]]
        cases.append(Case(seed, args, dargs, note))
    return cases


# ------------------------------------------------------------------------------------------------ probes
def _zero_W(name):
    return lambda c: c.replace(note=f"{name} = 0", **{name: np.zeros_like(c.arg(name))})


def _only_last_dh(c):
    dh = np.zeros_like(c.arg("dh"))
    if dh.shape[0] < 2:
        return None
    dh[-1] = c.arg("dh")[-1]
    return c.replace(note="dh nonzero only at the last step", dh=dh)


# ------------------------------------------------------------------------------------------------ gates
# A gated cell's bias gradient holds one block per gate, and each block is that gate's gradient summed over the
# batch: the blocks that disagree with the reference say which gate's term is wrong.
def _gate_terms(cell):
    """GATE_TERMS of the cell's mistakes module: each gate's term by gate letter; the gates that share one upstream
    quantity (and it); whether the sentence names them together; what else dh_prev gets."""
    return getattr(sequence.cell_mistakes(cell), "GATE_TERMS", None) or dict(terms={}, shared=("", ""),
                                                                               together=False, direct="")


def _wrong_blocks(leaf, gates):
    H = leaf.ref.shape[-1] // len(gates)
    return [g for k, g in enumerate(gates) if not close(leaf.ref[..., k * H:(k + 1) * H],
                                                        leaf.got[..., k * H:(k + 1) * H])]


def _gate_sentence(cell, bias, wrong):
    text = _gate_terms(cell)
    gates, (letters, upstream) = cell.gates, text["shared"]
    right = [g for g in gates if g not in wrong]
    if text["together"] and set(wrong) == set(letters):
        return (f"the blocks of {bias} for {', '.join(letters[:-1])} and {letters[-1]} are wrong and "
                f"{', '.join(right)} {'is' if len(right) == 1 else 'are'} right: the {len(letters)} share "
                f"{upstream}, so {upstream.split(' = ')[0]} is wrong (the dh path into c, or the incoming dc).")
    blocks = ", ".join(f"{g} (columns {span(gates.index(g))})" for g in wrong)
    one = len(wrong) == 1
    what = " and ".join(f"{GATE_TITLES.get(g, g)} ({g})" for g in wrong)
    terms = [text["terms"][g] for g in wrong if g in text["terms"]]
    where = upstream if set(wrong) & set(letters) else ""
    return (f"in {bias}, the gate block{'' if one else 's'} {blocks} {'is' if one else 'are'} wrong and "
            f"{', '.join(right)} {'is' if len(right) == 1 else 'are'} right, so the gradient of the {what} is "
            f"wrong" + (": " + "; ".join(terms) if terms else "") + (f", with {where}." if where else "."))


def _gate_explain(cell, seq):
    """explain() for a gated cell's backward: which gate blocks of the bias gradients are wrong. For a
    sequence it looks at the T=1 case: wrong there means the one-step math is wrong."""
    gates, biases = cell.gates, [f"d{b}" for b in cell.params[2:]]
    step_name = f"{cell.name}_step_backward"

    def blocks(leaves):
        for bias in biases:
            leaf = leaves.get(bias)
            if leaf is not None and leaf.kind == "array":
                wrong = _wrong_blocks(leaf, gates)
                if wrong and len(wrong) < len(gates):
                    return _gate_sentence(cell, bias, wrong)
        return ""

    def explain(spec, fns, case, failure, cases):
        from .engine import CheckFailure, run_case
        leaves = {l.path: l for l in failure.leaves}
        if not seq:
            sentence = blocks(leaves)
            if sentence:
                return [sentence], []
            if all(b in leaves and _wrong_blocks(leaves[b], gates) == [] for b in biases):
                agree = "agrees" if len(biases) == 1 else "agree"
                return [], [f"The gate gradients are right ({' and '.join(biases)} {agree} with the reference), so "
                            f"the mistake is in sending them back: dx = da @ {cell.params[0]}.T, dh_prev = da @ "
                            f"{cell.params[1]}.T{_gate_terms(cell)['direct']}."]
            return [], []
        one = [c for c in cases if c.note == "T=1" and c is not case]
        if not one:
            return [], []
        try:
            run_case(spec, fns, one[0], {})
            return [], []  # right at T=1: the loop is to blame, and the T=1 note says so
        except CheckFailure as e:
            if e.leaves is None:
                return [], []
            sentence = blocks({l.path: l for l in e.leaves})
            wrong_at_1 = {b[0].path for b in e.bad}
        seq_name = f"{cell.name}_backward"
        initial = {f"d{s}0" for s in cell.state}
        if wrong_at_1 <= initial:  # the step's gradients are right: what the loop returns at the end is not
            names = " and ".join(sorted(wrong_at_1))
            prevs = " and ".join(f"d{s}_prev" for s in cell.state)
            return [], [f"In the T=1 case dx and the weight gradients are right and only {names} "
                        f"{'is' if len(wrong_at_1) == 1 else 'are'} wrong: return what the last step of your "
                        f"backward loop (t = 0) sends back, its {prevs}, as {names}."]
        return [f"your {seq_name} is wrong even in the T=1 case (one step, nothing crosses time), so the one-step "
                f"math is wrong, not the loop: if your {seq_name} calls your {step_name}, fix {step_name} first "
                f"(check_{step_name} says more)." + (f" At T=1, {sentence}" if sentence else "")], []
    return explain


# ------------------------------------------------------------------------------------------------ the four checks
def _doc(cell, kind, sig, outs, what):
    ex = _EXERCISE.get(cell.name, ("",) * 2)[kind.endswith("backward")]
    used = f"Exercise {ex} uses it; the" if ex else "The"
    return (f"Check {cell.name}_{kind}, the {cell.title}'s {what}: {sig} -> {outs}.\n\n"
            f"    Runs the reference and the student's function on seeded cases (B=1, T=1, H=1 among them;\n"
            f"    hidden=True runs another set) and raises AssertionError naming the first wrong output and its\n"
            f"    likely cause.\n"
            f"    {used} book derives the function in book/{cell.chapter}.md.")


def make_checks(cell):
    """{check name: check function} of the four checks of one registered cell."""
    n, k = cell.name, len(cell.state)
    G = "" if len(cell.gates) == 1 else str(len(cell.gates))
    xs = ", ".join(f"{p} ({'D' if i == 0 else 'H'}, {G}H)" if i < 2 else f"{p} ({G}H,)"
                   for i, p in enumerate(cell.params))
    step_args = ", ".join(["x (B, D)"] + [f"{s}_prev (B, H)" for s in cell.state]) + ", " + xs
    seq_args = ", ".join(["x (T, B, D)"] + [f"{s}0 (B, H)" for s in cell.state]) + ", " + xs
    step_out = ("h", *cell.state[1:], "cache")
    dparams = tuple(f"d{p}" for p in cell.params)
    step_grads = ("dx", *(f"d{s}_prev" for s in cell.state), *dparams)
    seq_grads = ("dx", *(f"d{s}0" for s in cell.state), *dparams)
    dstate = ", ".join(f"d{s} (B, H)" for s in cell.state)
    gated = len(cell.gates) > 1
    W = cell.params[1]
    probes_b = [(_only_last_dh, say("probe_last_dh", cell)), (_zero_W(W), say("probe_no_recurrence", cell))]

    def cases(seq, grads):
        return lambda hd: cell_cases(cell, hd, seq, grads)

    def step_forward(f, hidden=False):
        spec = Spec(f"{n}_step_forward", step_out, cases(False, False), _first(cell.step_forward),
                    hyps=sequence.step_forward_hyps(cell), case_notes=_NOTES_STEP)
        return run_check(f"check_{n}_step_forward", spec, (f,), hidden)

    def step_backward(fwd, bwd, hidden=False):
        spec = Spec(f"{n}_step_backward", step_grads, cases(False, True),
                    _backward_ref(cell.step_forward, cell.step_backward),
                    fwd=(f"{n}_step_forward", step_out, _first(cell.step_forward), k),
                    hyps=sequence.step_backward_hyps(cell), case_notes=_NOTES_STEP,
                    explain=_gate_explain(cell, False) if gated else None)
        return run_check(f"check_{n}_step_backward", spec, (fwd, bwd), hidden)

    def forward(f, hidden=False):
        spec = Spec(f"{n}_forward", ("h", "cache"), cases(True, False), _first(cell.forward),
                    hyps=sequence.forward_hyps(cell), probes=[(_zero_W(W), say("probe_no_recurrence", cell))],
                    case_notes=_NOTES_SEQ)
        return run_check(f"check_{n}_forward", spec, (f,), hidden)

    def backward(fwd, bwd, hidden=False):
        spec = Spec(f"{n}_backward", seq_grads, cases(True, True), _backward_ref(cell.forward, cell.backward),
                    fwd=(f"{n}_forward", ("h", "cache"), _first(cell.forward), 1),
                    hyps=sequence.backward_hyps(cell), probes=probes_b, case_notes=_NOTES_SEQ,
                    explain=_gate_explain(cell, True) if gated else None)
        return run_check(f"check_{n}_backward", spec, (fwd, bwd), hidden)

    docs = {
        step_forward: ("step_forward", f"f({step_args})", f"{', '.join(step_out[:-1])} (B, H), cache", "one step"),
        step_backward: ("step_backward", f"fwd as for check_{n}_step_forward; bwd({dstate}, cache)",
                        ", ".join(step_grads) + " (each shaped like its input)", "one step's backward"),
        forward: ("forward", f"f({seq_args})", "h (T, B, H), cache", "sequence forward"),
        backward: ("backward", f"fwd as for check_{n}_forward; bwd(dh (T, B, H), cache)",
                   ", ".join(seq_grads) + " (each shaped like its input)", "backpropagation through time"),
    }
    checks = {}
    for fn, (kind, sig, outs, what) in docs.items():
        fn.__name__ = fn.__qualname__ = f"check_{n}_{kind}"
        fn.__doc__ = _doc(cell, kind, sig, outs, what)
        checks[fn.__name__] = fn
        CASES[fn.__name__] = cases(kind in ("forward", "backward"), kind.endswith("backward"))
    return checks


CELL_CHECKS = {name: fn for cell in CELLS.values() for name, fn in make_checks(cell).items()}
globals().update(CELL_CHECKS)
