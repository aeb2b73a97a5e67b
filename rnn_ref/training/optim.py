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

The book does not derive these; it uses them: Adam in book/06_char_lm.md, section "Training", and in the
training runs from book/02_applications.md on; SGD and Adagrad in book/07_limits.md, section "A training run
that explodes, and the same run clipped".
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
    """One step of SGD with (heavy-ball) momentum; momentum=0 is plain SGD, p <- p - lr * g.

        v = momentum * v + g   (v = g on the first step)        p = p - lr * v

    Inputs:
    - params: dict name -> float array (any shapes); not modified
    - grads: dict with the same keys, each of its parameter's shape
    - state: None on the first call, then the state this function returned: {"velocity": dict of v}
    - lr: float > 0, the learning rate
    - momentum: float in [0, 1)

    Returns a tuple of:
    - params: a new dict, the updated parameters
    - state: the new {"velocity": dict} (state unchanged when momentum is 0)

    Used in book/07_limits.md, section "A training run that explodes, and the same run clipped".
    """
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
    """One step of Adagrad (Duchi et al. 2011): per-entry steps lr / sqrt(sum of squared gradients so far),
    so no entry moves by more than lr in one step.

        G = G + g^2        p = p - lr * g / (sqrt(G) + eps)

    Inputs:
    - params: dict name -> float array (any shapes); not modified
    - grads: dict with the same keys, each of its parameter's shape
    - state: None on the first call, then the state this function returned: {"sum": dict of G}
    - lr: float > 0, the learning rate
    - eps: float > 0, keeps the division finite

    Returns a tuple of:
    - params: a new dict, the updated parameters
    - state: the new {"sum": dict}

    Used in book/07_limits.md, section "A training run that explodes, and the same run clipped".
    """
    _check(params, grads)
    lr, eps = positive("lr", lr), positive("eps", eps)
    G = {k: (0.0 if state is None else state["sum"][k]) + grads[k] * grads[k] for k in params}
    return {k: params[k] - lr * grads[k] / (np.sqrt(G[k]) + eps) for k in params}, {"sum": G}


def adam_step(params, grads, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One step of Adam (Kingma and Ba 2015): momentum on the gradient, scaled per entry by the root of a
    running mean of its square, both corrected for starting at zero.

        m = b1 m + (1 - b1) g        v = b2 v + (1 - b2) g^2        t = t + 1
        p = p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

    Inputs:
    - params: dict name -> float array (any shapes); not modified
    - grads: dict with the same keys, each of its parameter's shape
    - state: None on the first call, then the state this function returned: {"step": t, "m": dict, "v": dict}
    - lr: float > 0, the learning rate
    - beta1, beta2: floats in [0, 1), the decay of m and v
    - eps: float > 0, keeps the division finite

    Returns a tuple of:
    - params: a new dict, the updated parameters
    - state: the new {"step": t, "m": dict, "v": dict}

    Used in book/06_char_lm.md, section "Training".
    """
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
    """An optimizer by name, as a step function with its hyper-parameters bound.

    Inputs:
    - name: "sgd" (momentum 0), "momentum" (default 0.9), "adagrad" or "adam"
    - lr: float > 0, the learning rate
    - hyper: the step function's other keywords (momentum, eps, beta1, beta2)

    Returns:
    - step(params, grads, state) -> (new params, new state), state None on the first call

    Used in book/07_limits.md, section "A training run that explodes, and the same run clipped".
    """
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
    """The book's small training loop: draw a batch, compute the loss and gradients, clip, step.

        for step = 1 .. steps:   batch = batch_fn(rng);   loss, grads = loss_fn(params, *batch)
                                 grads = clip_by_global_norm(grads, max_norm);   params = optimizer step

    Inputs:
    - loss_fn: (params, *batch) -> (loss, grads dict with the keys of params)
    - params: dict name -> float array, the starting parameters; not modified
    - batch_fn: rng -> a tuple of arrays (the batch), with rng = np.random.default_rng(seed)
    - steps: int >= 1, the number of updates
    - lr: float > 0, the learning rate
    - max_norm: float > 0, the global-norm clipping threshold
    - seed: the seed of the rng that batch_fn draws from
    - optimizer: "adam", "sgd", "momentum" or "adagrad"
    - callback: None, or callback(step, params), run after every update (step = 1 .. steps) to record
      anything about the parameters as they train

    Returns a tuple of:
    - params: the trained parameter dict
    - losses: (steps,) float array, the loss loss_fn returned at each update

    Used in book/08_shapes.md for every problem shape, from section "One-to-one: a feed-forward network" on.
    """
    from .clip import clip_by_global_norm
    if not callable(loss_fn):
        raise ValueError(f"loss_fn: expected a function (params, *batch) -> (loss, grads), "
                         f"got {type(loss_fn).__name__}")
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
