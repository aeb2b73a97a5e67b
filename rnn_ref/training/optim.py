"""Optimizers in functional style: every step takes the parameters, their gradients and the optimizer's
state, and returns new parameters and a new state. Nothing is modified in place.

    params, state = adam_step(params, grads, state, lr=1e-3)     # state=None on the first call

params and grads are dicts name -> float array of the same shapes (the dicts every loss in rnn_ref returns).
Each update follows torch.optim's formulas in the same order (SGD with momentum and dampening 0, Adagrad
with lr_decay 0, Adam without weight decay), so both give the same numbers:

  SGD+momentum  v = momentum * v + g   (v = g on the first step)     p = p - lr * v
  Adagrad       G = G + g^2                                          p = p - lr * g / (sqrt(G) + eps)
  Adam          m = b1 m + (1 - b1) g ;  v = b2 v + (1 - b2) g^2     (bias corrected by 1 - b^t)
                p = p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
"""
import numpy as np

from .._validate import as_float_array, positive


def _check(params, grads):
    if not isinstance(params, dict) or not params:
        raise ValueError("params: expected a non-empty dict mapping names to float arrays")
    if not isinstance(grads, dict) or set(grads) != set(params):
        got = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
        raise ValueError(f"grads: expected a dict with the same keys as params ({sorted(params)}), got {got}")
    for k in params:
        p = as_float_array(f"params[{k!r}]", params[k], finite=False)
        g = as_float_array(f"grads[{k!r}]", grads[k])
        if p.shape != g.shape:
            raise ValueError(f"grads[{k!r}]: expected shape {p.shape} (like params[{k!r}]), got {g.shape}")


def _fraction(name, v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a number in [0, 1), got {v!r}") from None
    if not 0.0 <= f < 1.0:
        raise ValueError(f"{name}: expected a number in [0, 1), got {v!r}")
    return f


def sgd_momentum_step(params, grads, state, lr, momentum=0.9):
    """SGD with (heavy-ball) momentum; momentum=0 is plain SGD. state: None or {"velocity": dict}.

    Returns (new params, new state)."""
    _check(params, grads)
    lr, momentum = positive("lr", lr), _fraction("momentum", momentum)
    if momentum == 0.0:
        return {k: params[k] - lr * grads[k] for k in params}, state
    if state is None:
        vel = {k: np.array(grads[k], copy=True) for k in params}
    else:
        vel = {k: momentum * state["velocity"][k] + grads[k] for k in params}
    return {k: params[k] - lr * vel[k] for k in params}, {"velocity": vel}


def adagrad_step(params, grads, state, lr=0.01, eps=1e-10):
    """Adagrad (Duchi et al. 2011): per-entry steps lr / sqrt(sum of squared gradients so far).
    state: None or {"sum": dict}. Returns (new params, new state)."""
    _check(params, grads)
    lr, eps = positive("lr", lr), positive("eps", eps)
    G = {k: (0.0 if state is None else state["sum"][k]) + grads[k] * grads[k] for k in params}
    return {k: params[k] - lr * grads[k] / (np.sqrt(G[k]) + eps) for k in params}, {"sum": G}


def adam_step(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam (Kingma and Ba 2015). state: None or {"step": t, "m": dict, "v": dict}.
    Returns (new params, new state)."""
    _check(params, grads)
    lr, eps = positive("lr", lr), positive("eps", eps)
    beta1, beta2 = _fraction("beta1", beta1), _fraction("beta2", beta2)
    t = 1 if state is None else state["step"] + 1
    m0 = {k: 0.0 for k in params} if state is None else state["m"]
    v0 = {k: 0.0 for k in params} if state is None else state["v"]
    m = {k: beta1 * m0[k] + (1.0 - beta1) * grads[k] for k in params}
    v = {k: beta2 * v0[k] + (1.0 - beta2) * grads[k] * grads[k] for k in params}
    step_size = lr / (1.0 - beta1 ** t)
    bc2_sqrt = (1.0 - beta2 ** t) ** 0.5
    new = {k: params[k] - step_size * m[k] / (np.sqrt(v[k]) / bc2_sqrt + eps) for k in params}
    return new, {"step": t, "m": m, "v": v}


OPTIMIZERS = {"sgd": sgd_momentum_step, "momentum": sgd_momentum_step, "adagrad": adagrad_step,
              "adam": adam_step}


def make_optimizer(name, lr, **hyper):
    """A step function step(params, grads, state) -> (new params, new state) with the hyper-parameters bound.

    name: "sgd" (momentum 0), "momentum" (default 0.9), "adagrad" or "adam"; hyper: the step function's
    keywords (momentum, eps, beta1, beta2)."""
    if name not in OPTIMIZERS:
        raise ValueError(f"name: expected one of {', '.join(OPTIMIZERS)}, got {name!r}")
    positive("lr", lr)
    if name == "sgd":
        hyper.setdefault("momentum", 0.0)
    fn = OPTIMIZERS[name]

    def step(params, grads, state):
        return fn(params, grads, state, lr, **hyper)
    step.__name__ = f"{name}_step"
    return step


def fit(loss_fn, params, batch_fn, steps, lr=1e-2, max_norm=5.0, seed=0, optimizer="adam", callback=None):
    """The book's small training loop: for each of `steps` updates draw a batch = batch_fn(rng) (a tuple),
    compute (loss, grads) = loss_fn(params, *batch), clip the gradients by global norm at max_norm and take an
    optimizer step ("adam", "sgd" or "adagrad" at learning rate lr). rng = np.random.default_rng(seed).

    callback(step, params), if given, runs after every update (step = 1 .. steps), to record anything about the
    parameters as they train. Returns (params, losses): the trained parameter dict (the input dict is not
    modified) and the (steps,) array of the losses loss_fn returned.
    """
    from .clip import clip_by_global_norm
    if not callable(loss_fn):
        raise ValueError(f"loss_fn: expected a function (params, *batch) -> (loss, grads), got {type(loss_fn).__name__}")
    if not callable(batch_fn):
        raise ValueError(f"batch_fn: expected a function rng -> batch tuple, got {type(batch_fn).__name__}")
    if not isinstance(params, dict) or not params:
        raise ValueError(f"params: expected a non-empty dict name -> array, got {type(params).__name__}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps: expected an int >= 1, got {steps!r}")
    max_norm = positive("max_norm", max_norm)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer: expected one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
    if callback is not None and not callable(callback):
        raise ValueError(f"callback: expected a function (step, params) or None, got {type(callback).__name__}")
    step_fn = make_optimizer(optimizer, lr)
    rng, state, losses = np.random.default_rng(seed), None, []
    for step in range(1, int(steps) + 1):
        loss, grads = loss_fn(params, *batch_fn(rng))
        grads, _ = clip_by_global_norm(grads, max_norm)
        params, state = step_fn(params, grads, state)
        losses.append(float(loss))
        if callback is not None:
            callback(step, params)
    return params, np.array(losses)
