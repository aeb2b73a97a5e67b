"""The cases the checks run: the sizes of the cell checks' cases, the notes on special cases, the
reference wrappers every check uses, and case_inputs, which rebuilds a visible case of any check."""
import numpy as np

from .engine import IGNORE

# ------------------------------------------------------------------------------------------------ the cases
# (seed, T, B, D, H, note, weight scale). Sizes differ from one another so that a transposed matrix with
# mismatched shapes raises, and the square W_hh is random (not symmetric) so that W_hh vs W_hh.T differ.
_VISIBLE = [(0, 4, 3, 5, 4, "", 0.6), (1, 3, 1, 2, 3, "B=1", 0.6), (2, 1, 2, 3, 4, "T=1", 0.6),
            (3, 3, 2, 2, 1, "H=1", 0.6)]
_HIDDEN = [(100, 6, 4, 2, 3, "", 0.5), (101, 5, 1, 3, 2, "B=1", 0.7), (102, 1, 3, 4, 5, "T=1", 0.6),
           (103, 2, 2, 3, 1, "H=1", 0.6), (104, 3, 2, 4, 3, "large weights", 2.0)]

_NOTES_SEQ = {"T=1": "so the single-step math is right and the mistake is in what crosses time steps "
                     "(the recurrence, the loop over t, or the accumulation of gradients over steps).",
              "B=1": "so the per-example math is right and the mistake is in how the batch is handled "
                     "(a sum over the batch axis, or a division by B)."}
_NOTES_STEP = {"B=1": _NOTES_SEQ["B=1"]}


def _sizes(hidden):
    return _HIDDEN if hidden else _VISIBLE


def _first(fn):
    """The reference's outputs with the cache replaced by IGNORE."""
    def ref(case):
        out = fn(*case.values())
        return tuple(out[:-1]) + (IGNORE,)
    return ref


def _backward_ref(fwd, bwd):
    def ref(case):
        out = fwd(*case.values())
        return tuple(bwd(*case.dvalues(), out[-1]))
    return ref


CASES = {}  # check name -> cases(hidden): every check module adds its own


def case_inputs(check_name, case_number):
    """The inputs of a visible case, to rebuild a failing case outside the check.

    check_name: a check's name, as its message starts ("check_rnn_backward"); case_number: the case as the
    message numbers it ("case 2 of 4" is 2). Returns a dict name -> value with the function's arguments in
    order (call f(**inputs)) and, for a backward check, the upstream gradients too (dh, dc), after the
    forward's arguments: run your forward on the others, then your backward on dh and the cache.
    Each call returns fresh copies. Hidden cases cannot be rebuilt: their inputs are secret.
    How to use it: book/exercises/index.md, section "3. Run the checks yourself".
    """
    from .engine import copy_tree
    from .mistakes import gradcheck
    if check_name not in CASES:
        known = ", ".join(sorted(CASES))
        raise ValueError(f"check_name: expected the name of a check with cases ({known}); got {check_name!r}")
    cases = CASES[check_name](False)
    n = len(cases)
    if isinstance(case_number, bool) or not isinstance(case_number, (int, np.integer)):
        raise ValueError(f"case_number: expected an int from 1 to {n} (as the message says 'case 2 of {n}'); "
                         f"got {case_number!r}")
    if not 1 <= case_number <= n:
        raise ValueError(f"case_number: {check_name} has {n} visible cases, numbered 1 to {n}; got {case_number}. "
                         f"A case of the hidden tests (hidden=True) cannot be rebuilt: its inputs are secret.")
    case = cases[case_number - 1]
    if check_name == "check_numerical_gradient":
        x = case.arg("x").copy()
        return {"f": gradcheck._ng_func(x, case.extra["w"].copy()), "x": x, "h": case.arg("h")}
    return {k: copy_tree(v) for k, v in case.args + case.dargs}
