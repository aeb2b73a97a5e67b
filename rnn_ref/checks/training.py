"""Checks of training: the numerical gradient, clipping, sampling, the char-LM loss and step, a training run."""
import numpy as np

from . import engine
from .cases import CASES, _NOTES_SEQ
from .engine import Case, Spec, case_rng, run_check, wrap_message, wrapped
from .mistakes import gradcheck, training as hy
from .own_work import _own_pieces_problem
from ..models.charlm import char_lm_loss, char_lm_train_step, sample_index
from ..training.clip import clip_by_global_norm, clip_by_value


# ------------------------------------------------------------------------------------------------ gradient check
def check_numerical_gradient(f, hidden=False):
    """f(func, x, h=1e-5) -> d func / d x by central differences, where func() reads x in place.

    Used by exercise a3_bptt; the book derives numerical_gradient in book/05_bptt.md.
    """
    __tracebackhide__ = True
    return wrapped(_check_numerical_gradient, f, hidden)


def _check_numerical_gradient(f, hidden=False):
    __tracebackhide__ = True
    name = "check_numerical_gradient"
    for i, case in enumerate(gradcheck._ng_cases(hidden)):
        x0, h = case.arg("x"), case.arg("h")
        w = case.extra["w"]
        x = x0.copy()
        calls = [0]
        inner = gradcheck._ng_func(x, w)
        seen = []  # how x differed from x0 at each call of f (the first few hundred calls)

        def func():
            calls[0] += 1
            if len(seen) < 400:
                seen.append(x - x0)
            return inner()

        record = {}
        where = f"\n  case {i + 1} of {len(gradcheck._ng_cases(hidden))}: {case.label()}"
        rebuild = engine.rebuild_hint(name, i, hidden)
        where += f"\n  {rebuild}" if rebuild else ""
        try:
            with engine.quiet(record):
                in_sandbox = getattr(f, "numerical_gradient_in_sandbox", None)
                if in_sandbox is None:
                    got = f(func, x, h)
                else:  # f lives in the grader's sandbox: so must func, to read the x that f changes
                    got, x[...], calls[0], seen[:] = in_sandbox(x, w, h, gradcheck.NG_EXPR)
        except NotImplementedError:
            raise AssertionError(f"{name}: numerical_gradient is not implemented yet: it raised "
                                 f"NotImplementedError. Replace the `raise NotImplementedError` line with your "
                                 f"code.") from None
        except Exception as e:
            msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
            raise AssertionError(f"{name}: your numerical_gradient raised {type(e).__name__}: {msg}"
                                 f"{engine._where(e)}.{where}") from None
        if got is None:
            raise AssertionError(f"{name}: numerical_gradient returned None: did you forget the `return` "
                                 f"statement (or is the stub still unfilled)?")
        if not np.allclose(x, x0, rtol=1e-12, atol=1e-14):
            raise AssertionError(
                f"{name}: your numerical_gradient did not restore x: after it ran, x differs from before by up to "
                f"{np.max(np.abs(x - x0)):.3g}. After evaluating f at x[i] + h and x[i] - h, put the old value "
                f"back (x[i] = old), or every later entry is measured at the wrong point.{where}")
        if calls[0] == 0:
            raise AssertionError(f"{name}: your numerical_gradient never called f: it must call f() after "
                                 f"changing x in place (f reads x itself; it takes no arguments).{where}")
        try:
            leaves = engine.compare(gradcheck._ng_ref(x0, w, h), got, "the gradient")
        except engine.CheckFailure as e:
            raise AssertionError(f"{name}: {e.msg}{where}") from None
        leaf = leaves[0]
        err, idx, detail = engine.leaf_error(leaf, tol=1e-8)
        if err <= 1e-8:
            continue
        lines = [f"{name}: the gradient is wrong."]
        for _, hyp, msg in gradcheck.NUMGRAD:
            hv = engine.silently(hyp, x0, w, h)
            if hv is not None and engine.close(hv, leaf.got, 1e-8):
                lines.append(f"Likely cause: {msg}")
                break
        else:
            seen_cause = gradcheck._what_f_saw(seen, h)
            if seen_cause:
                lines.append(f"Likely cause: {seen_cause}")
        lines.append(f"the gradient: {detail}.{where}")
        if calls[0] < 2 * x0.size:
            lines.append(f"Your function called f {calls[0]} times for an x of {x0.size} entries; the central "
                         f"difference needs 2 calls per entry.")
        lines += engine.warnings_note(record)
        raise AssertionError("\n  ".join(lines))
    return None


# ------------------------------------------------------------------------------------------------ clipping
def _grads_dict(rng, s):
    return {"U_xh": rng.standard_normal((3, 4)) * s, "W_hh": rng.standard_normal((4, 4)) * s,
            "b": rng.standard_normal(4) * s, "V_ho": rng.standard_normal((4, 3)) * s, "b_y": rng.standard_normal(3) * s}


# (seed, gradient scale, limit or max_norm, note) of the clipping checks' cases
_CLIP_SIZES = {
    ("limit", False): [(30, 6.0, 5.0, ""), (31, 1.0, 0.5, ""), (32, 0.5, 5.0, "nothing to clip")],
    ("limit", True): [(130, 8.0, 5.0, ""), (131, 1.0, 0.05, "most entries clipped"), (132, 0.1, 5.0, "nothing to clip"),
                      (133, 50.0, 1.0, "")],
    ("max_norm", False): [(40, 2.0, 5.0, "norm above max_norm"), (41, 0.1, 5.0, "norm below max_norm")],
    ("max_norm", True): [(140, 3.0, 1.0, "norm above max_norm"), (141, 0.2, 10.0, "norm below max_norm"),
                         (142, 100.0, 0.01, "norm far above max_norm")],
}


def _clip_cases(bound, hidden):
    """Cases of a clipping check: a gradient dict and its bound (`limit` or `max_norm`)."""
    return [Case(seed, [("grads", _grads_dict(case_rng(seed), s)), (bound, v)], note=note)
            for seed, s, v, note in _CLIP_SIZES[bound, hidden]]


def check_clip_by_value(f, hidden=False):
    """f(grads dict, limit) -> a new dict, every entry clipped to [-limit, limit]; grads untouched.

    Used by exercise a4_char_lm; the book derives clip_by_value in book/07_limits.md.
    """
    spec = Spec("clip_by_value", ("clipped",), lambda hd: _clip_cases("limit", hd),
                lambda c: clip_by_value(c.arg("grads"), c.arg("limit")), single=True, hyps=hy.CLIP_BY_VALUE)
    return run_check("check_clip_by_value", spec, (f,), hidden)


def check_clip_by_global_norm(f, hidden=False):
    """f(grads dict, max_norm) -> (new dict, global norm before clipping); grads untouched.

    Used by exercise a4_char_lm; the book derives clip_by_global_norm in book/07_limits.md.
    """
    spec = Spec("clip_by_global_norm", ("clipped", "norm"), lambda hd: _clip_cases("max_norm", hd),
                lambda c: clip_by_global_norm(c.arg("grads"), c.arg("max_norm")), hyps=hy.CLIP_BY_GLOBAL_NORM)
    return run_check("check_clip_by_global_norm", spec, (f,), hidden)


# ------------------------------------------------------------------------------------------------ sampling
def _sample_cases(hidden):
    base = 150 if hidden else 50
    cases = []
    rng = case_rng(base)
    temps = [1.0, 0.5, 2.0, 0.0] if not hidden else [1.0, 0.3, 3.0, 0.0, 1.0]
    for i, t in enumerate(temps):
        # many rows, so that two different mistakes rarely give the same indices
        B, K = (30, 5) if i != 1 else (1, 4)
        o = rng.standard_normal((B, K)) * 2
        u = rng.random(B)
        note = "temperature 0 (greedy)" if t == 0 else f"temperature {t:g}" + (", B=1" if B == 1 else "")
        cases.append(Case(base + i, [("o", o), ("temperature", t), ("u", u)], note=note))
    # equal logits: the CDF is exactly 0.25, 0.5, 0.75, 1; u on a boundary tests "smallest k with cdf > u"
    o = np.zeros((4, 4))
    o[3] = [0.0, 0.0, 0.0, 0.0]
    cases.append(Case(base + 9, [("o", o), ("temperature", 1.0), ("u", np.array([0.0, 0.25, 0.5, 0.999]))],
                      note="equal logits, u on the CDF's steps"))
    big = rng.standard_normal((3, 5)) * 3
    big[0] += 1000
    big[1, 2] = 900
    cases.append(Case(base + 10, [("o", big), ("temperature", 1.0 if not hidden else 0.5), ("u", rng.random(3))],
                      note="large logits"))
    # u a hair below 1: in about a third of the rows round-off leaves cumsum(p)[-1] below u, whichever way p is
    # computed, and an unguarded search returns K, a class that does not exist
    o = case_rng(base + 11).standard_normal((24, 5)) * 2
    cases.append(Case(base + 11, [("o", o), ("temperature", 1.0 if not hidden else 0.7),
                                  ("u", np.full(24, np.nextafter(1.0, 0.0)))], note="u a hair below 1"))
    return cases


def _sample_explain(spec, fns, case, failure, cases):
    """Sampling mistakes that no fixed output shows: ignoring u (own random numbers, or none)."""
    from .engine import CheckFailure, run_case
    if case.arg("temperature") == 0:
        return [], []

    def again(c):
        try:
            return np.asarray(run_case(spec, fns, c, {})[0].got)
        except CheckFailure as e:
            return np.asarray(e.got) if e.kind == "value" else None

    first = np.asarray(failure.bad[0][0].got)
    second = again(case)
    if second is not None and second.shape == first.shape and not np.array_equal(first, second):
        return ["your function returned other indices when called again with the same o, temperature and u: "
                "it draws its own random numbers (np.random...). Use the u it is given: the smallest k with "
                "cumsum(p)[k] > u[b]."], []
    u2 = (case.arg("u") + 0.5) % 1.0
    other = again(case.replace(u=u2))
    want = sample_index(case.arg("o"), case.arg("temperature"), u2)
    if other is not None and np.array_equal(other, first) and not np.array_equal(want, first):
        return ["your result does not change when u changes: the draw must use u, the smallest k with "
                "cumsum(p)[k] > u[b] (p = softmax(o / temperature) of row b)."], []
    return [], []


def check_sample_index(f, hidden=False):
    """f(o (B, K), temperature, u (B,)) -> (B,) int: the smallest k with cumsum(softmax(o / T))[k] > u.

    Used by exercise a4_char_lm; the book derives sample_index in book/06_char_lm.md.
    """
    spec = Spec("sample_index", ("indices",), _sample_cases,
                lambda c: sample_index(c.arg("o"), c.arg("temperature"), c.arg("u")), single=True,
                hyps=hy.SAMPLE_INDEX, explain=_sample_explain)
    return run_check("check_sample_index", spec, (f,), hidden)


# ------------------------------------------------------------------------------------------------ char LM
def _lm_params(rng, V, H, s, s_out=1.0):
    return {"U_xh": rng.standard_normal((V, H)) * s, "W_hh": rng.standard_normal((H, H)) * s,
            "b": rng.standard_normal(H) * 0.3, "V_ho": rng.standard_normal((H, V)) * s_out,
            "b_y": rng.standard_normal(V) * 0.3}


def _lm_cases(hidden, train=False):
    sizes = ([(160, 6, 4, 5, 3, "", 0.5, 1.0), (161, 4, 1, 4, 6, "B=1", 0.7, 1.0), (162, 1, 3, 6, 2, "T=1", 0.6, 1.0),
              (163, 3, 2, 5, 4, "large logits", 0.6, 300.0)] if hidden else
             [(60, 4, 3, 5, 4, "", 0.6, 1.0), (61, 3, 1, 4, 3, "B=1", 0.6, 1.0), (62, 1, 2, 3, 5, "T=1", 0.6, 1.0),
              (63, 3, 2, 4, 3, "large logits", 0.6, 400.0)])
    cases = []
    for seed, T, B, V, H, note, s, so in sizes:
        rng = case_rng(seed)
        args = [("params", _lm_params(rng, V, H, s, so)), ("inputs", rng.integers(0, V, (T, B))),
                ("targets", rng.integers(0, V, (T, B))), ("h0", rng.standard_normal((B, H)) * 0.5)]
        if train:
            norm = _grad_norm(args)
            # clipping active in the even cases (max_norm a tenth of the norm), idle in the odd ones
            # two learning rates, so that a step that ignores lr shows
            args += [("lr", 0.1 if seed % 2 == 0 else 0.25),
                     ("max_norm", float(norm / 10) if seed % 2 == 0 else float(norm * 2))]
            note = (note + ", " if note else "") + ("clipping active" if seed % 2 == 0 else "no clipping needed")
        cases.append(Case(seed, args, note=note))
    return cases


def _grad_norm(args):
    _, g, _ = char_lm_loss(*[v for _, v in args])
    return np.sqrt(sum(np.sum(v * v) for v in g.values()))


def check_char_lm_loss(f, hidden=False):
    """f(params, inputs (T, B) int, targets (T, B) int, h0) -> loss, grads dict keyed like params, h_last.

    Used by the char-LM chapter's demonstrations; the book derives char_lm_loss in book/06_char_lm.md.
    """
    spec = Spec("char_lm_loss", ("loss", "grads", "h_last"), _lm_cases,
                lambda c: char_lm_loss(*c.values()), hyps=hy.CHAR_LM_LOSS, case_notes=_NOTES_SEQ)
    return run_check("check_char_lm_loss", spec, (f,), hidden)


def _train_step_explain(spec, fns, case, failure, cases):
    """A step whose update is a constant multiple of the right one: the learning rate is not the one given."""
    from .engine import _nice_factor
    params = case.arg("params")
    got = {l.path: l.got for l in failure.leaves}
    ref = {l.path: l.ref for l in failure.leaves}
    ratios = []
    for k, p in params.items():
        path = f"new_params['{k}']"
        if path not in got:
            return [], []
        right, mine = p - ref[path], p - got[path]
        big = np.abs(right) > 1e-3 * np.max(np.abs(right)) if np.any(right) else None
        if big is None or not np.any(big):
            continue
        ratios.append(mine[big] / right[big])
    if not ratios:
        return [], []
    r = np.concatenate(ratios)
    k = float(r[0])
    if not np.allclose(r, k, rtol=1e-6) or np.isclose(k, 1):
        return [], []
    lr = case.arg("lr")
    return [f"your update is exactly {_nice_factor(k) or f'{k:.4g}'} times the right one, in every parameter: "
            f"as if the learning rate were {k * lr:.4g} instead of the lr = {lr:g} given. Use the lr argument "
            f"(and no other factor): new = params - lr * clipped gradient."], []


def check_char_lm_train_step(f, hidden=False):
    """f(params, inputs, targets, h0, lr, max_norm) -> new params, loss, h_last (clip by global norm, SGD).
    The step must clip with the student's own clip_by_global_norm, not rnn_ref's.

    Used by exercise a4_char_lm; the book derives char_lm_train_step in book/06_char_lm.md.
    """
    problem = _own_pieces_problem(f, "char_lm_train_step")
    if problem:
        raise AssertionError(wrap_message(f"check_char_lm_train_step: {problem}"))
    spec = Spec("char_lm_train_step", ("new_params", "loss", "h_last"), lambda hd: _lm_cases(hd, True),
                lambda c: char_lm_train_step(*c.values()), hyps=hy.CHAR_LM_TRAIN_STEP, explain=_train_step_explain)
    return run_check("check_char_lm_train_step", spec, (f,), hidden)


# ------------------------------------------------------------------------------------------------ training run
# A short run: a slice of rnn_ref.data's corpus in B parallel streams, windows of T characters, the hidden state
# carried from window to window. Clipping is active in nearly every step (the gradient norm is above max_norm).
_TRAIN = {False: dict(seed=40, steps=250, chars=2000), True: dict(seed=140, steps=200, chars=2000)}
_TRAIN_H, _TRAIN_T, _TRAIN_B, _TRAIN_LR, _TRAIN_MAX_NORM = 32, 12, 16, 0.5, 5.0
_TRAIN_LITTLE = 0.9  # a failing run whose loss ends above this fraction of its start is said to have barely fallen


def _training_setup(hidden):
    from ..models.charlm import init_char_lm
    from ..data import batchify, encode, load_corpus, make_vocab
    cfg = _TRAIN[hidden]
    rng = case_rng(cfg["seed"])
    text = load_corpus()
    start = 0 if not hidden else int(rng.integers(0, len(text) - cfg["chars"]))
    text = text[start:start + cfg["chars"]]
    chars = make_vocab(text)
    streams = batchify(encode(text, chars), _TRAIN_B)
    shapes = init_char_lm(len(chars), _TRAIN_H)  # only for the names and shapes of the parameters
    params = {k: rng.standard_normal(v.shape) * 0.1 if v.ndim == 2 else np.zeros(v.shape) for k, v in shapes.items()}
    return cfg, params, streams


def _windows(streams, steps):
    """(k, inputs, targets, fresh) for training steps k = 1..steps: consecutive windows of _TRAIN_T characters
    of every stream; fresh is True where the run starts, or starts over when the text runs out, from a zero state."""
    pos = 0
    for k in range(1, steps + 1):
        fresh = k == 1 or pos + _TRAIN_T + 1 > streams.shape[0]
        pos = 0 if fresh else pos
        yield k, streams[pos:pos + _TRAIN_T], streams[pos + 1:pos + _TRAIN_T + 1], fresh
        pos += _TRAIN_T


def _training_spec(case):
    return Spec("char_lm_train_step", ("new_params", "loss", "h_last"), lambda hd: [case],
                lambda c: char_lm_train_step(*c.values()), hyps=hy.CHAR_LM_TRAIN_STEP, explain=_train_step_explain)


def check_char_lm_training(f, hidden=False):
    """Train a small character language model with the student's step f(params, inputs, targets, h0, lr,
    max_norm) -> (new params, loss, h_last), a few hundred steps on a slice of rnn_ref.data's corpus. Every step
    is compared with the reference step on the same inputs: None when every step is right (the run is then the
    reference's, whose loss per character fell by 20 to 73 % in 200 hidden runs measured). Otherwise an
    AssertionError says first what the wrong step did to the run (the loss diverged, blew up, rose, barely fell,
    or fell along another path), then names the mistake (clipping each tensor by its own norm, say); a step
    that raises, returns the wrong structure or modifies params in place fails at once. Prints nothing.
    hidden=True: another slice of the corpus and other initial weights.

    Used by exercise a4_char_lm; the book derives char_lm_train_step in book/06_char_lm.md.
    """
    __tracebackhide__ = True
    from .engine import CheckFailure, copy_tree, run_case
    name = "check_char_lm_training"
    problem = _own_pieces_problem(f, "char_lm_train_step")
    if problem:
        raise AssertionError(wrap_message(f"{name}: {problem}"))
    cfg, params, streams = _training_setup(hidden)
    steps, T = cfg["steps"], _TRAIN_T
    losses, first_wrong, diverged, wrong_steps = [], None, None, []
    for k, inputs, targets, fresh in _windows(streams, steps):
        h = np.zeros((_TRAIN_B, _TRAIN_H)) if fresh else h
        case = Case(cfg["seed"], [("params", params), ("inputs", inputs), ("targets", targets), ("h0", h),
                                  ("lr", _TRAIN_LR), ("max_norm", _TRAIN_MAX_NORM)])
        spec = _training_spec(case)
        try:
            leaves = run_case(spec, (f,), case, {})
            got = [l.got for l in leaves]
            out = ({p.split("'")[1]: v for p, v in zip([l.path for l in leaves], got) if p.startswith("new_params")},
                   got[-2], got[-1])
        except CheckFailure as e:
            if e.kind != "value":  # raised, returned the wrong structure, modified params in place: say so now
                _training_fail(name, spec, f, k, steps, hidden, "")
            if first_wrong is None:
                first_wrong = (k, case)
            if len(wrong_steps) < 10:  # a few more, to tell mistakes apart that agree at some steps
                wrong_steps.append(case)
            out = e.got
        new_params, loss, h = copy_tree(out[0]), float(np.asarray(out[1])), np.asarray(out[2])
        losses.append(loss / T)
        if not (np.isfinite(loss) and all(np.all(np.isfinite(v)) for v in new_params.values())):
            diverged = k
            break
        params = new_params
    if first_wrong is None:  # every step agreed with the reference's: this run is the reference's run
        return None
    L = np.array(losses)
    n = min(20, max(1, len(L) // 4))
    start, end = float(np.mean(L[:n])), float(np.mean(L[-n:])) if diverged is None else float("nan")
    uniform = float(np.log(params["U_xh"].shape[0]))  # the loss per character of guessing uniformly
    blew = int(np.argmax(L > 3 * uniform)) + 1 if diverged is None and np.any(L > 3 * uniform) else None
    if diverged is not None or blew is not None or end > start:
        if diverged is not None:
            what = f"the training diverged: the loss became NaN or infinite at step {diverged} of {steps}"
        elif blew is not None:
            what = (f"the training blew up: at step {blew} of {steps} the loss per character was "
                    f"{L[blew - 1]:.4g}, far above the {uniform:.3f} of guessing uniformly")
        else:
            what = f"the loss rose during training (per character: first {n} steps {start:.3f}, last {n} {end:.3f})"
        hint = ("Gradient clipping is what keeps one large gradient from blowing the weights up: clip by the "
                "global norm (your clip_by_global_norm, with max_norm) before the update, and subtract "
                "lr * gradient (an update with the wrong sign climbs).")
    elif end > _TRAIN_LITTLE * start:
        what = (f"the loss barely fell in {steps} steps (per character: first {n} steps {start:.3f}, "
                f"last {n} {end:.3f})")
        hint = ("Hint: check that the step subtracts lr times the clipped gradient from every parameter and "
                "returns the new parameters and the last hidden state (the next window starts from it).")
    else:
        what = (f"the loss fell ({start:.3f} -> {end:.3f} per character), but your step does not compute what "
                f"char_lm_train_step must")
        hint = ""
    k, case = first_wrong
    _training_fail(name, _training_spec(case), f, k, steps, hidden, what, hint, wrong_steps)


def _training_fail(name, spec, f, k, steps, hidden, what, hint="", more_cases=()):
    """Raise the message of training step k: the run's outcome first, then the step's own diagnosis."""
    __tracebackhide__ = True
    from .engine import CheckFailure, _message, run_case
    case = spec.cases(hidden)[0]
    record = {}
    try:
        run_case(spec, (f,), case, record)
        lines = []
    except CheckFailure as fl:
        cases = [case] + [c for c in more_cases if c is not case]
        lines = _message(name, spec, (f,), case, 0, 1, fl, record, cases, hidden=True).split("\n  ")
    lines = [x.replace("case 1 of 1: ", f"training step {k} of {steps}: ", 1) for x in lines]
    if lines:
        lines[0] = lines[0].replace(f"{name}: ", "", 1)
    causes = [x for x in lines if x.startswith("Likely cause: ")]
    rest = [x for x in lines if not x.startswith("Likely cause: ")]
    if not causes and hint:
        causes = [hint if hint.startswith("Hint: ") else f"Likely cause: {hint}"]
    elif hint and not hint.startswith("Hint: "):  # a diverging run: clipping is always worth a word
        causes = causes[:1] + [hint]
    if what:
        head = f"{name}: {what}."
        if rest:
            rest[0] = f"At training step {k} of {steps}: {rest[0]}"
    else:
        head = f"{name}: at training step {k} of {steps}: " + (rest.pop(0) if rest else "your step failed.")
    raise AssertionError(wrap_message("\n  ".join([head] + causes + rest)))


CASES.update({
    "check_numerical_gradient": lambda hd: gradcheck._ng_cases(hd),
    "check_clip_by_value": lambda hd: _clip_cases("limit", hd),
    "check_clip_by_global_norm": lambda hd: _clip_cases("max_norm", hd),
    "check_sample_index": lambda hd: _sample_cases(hd),
    "check_char_lm_loss": lambda hd: _lm_cases(hd),
    "check_char_lm_train_step": lambda hd: _lm_cases(hd, True),
})
