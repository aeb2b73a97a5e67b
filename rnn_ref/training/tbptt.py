"""Truncated backpropagation through time (Williams and Peng 1990; what min-char-rnn does).

A long sequence of length T is cut into windows of k steps. The forward pass runs through the windows in
order and carries the hidden state across each boundary, so the model always sees the whole past. The
backward pass runs inside each window only: the state that enters a window is treated as a constant, so no
gradient crosses a boundary. The gradient is therefore the sum over windows of each window's own gradient,

    g_trunc = sum_w  d L_w(theta, s_w) / d theta   with s_w (the state entering window w) held fixed,

which equals full BPTT's gradient exactly when k >= T (one window) and otherwise drops the terms that would
flow from a window's loss back into earlier windows. In numpy nothing needs detaching: the carried state is
a plain array, and each window's backward pass stops at it.

Works with any loss function of the form loss_fn(params, inputs, targets, state0) -> (loss, grads, state_last)
whose inputs and targets are time-major (the time axis first), such as rnn_ref.char_lm_loss.
Derived in book/05_bptt.md, section "Truncated BPTT: carry the state, cut the gradient".
"""
import numpy as np


def tbptt_windows(T, k):
    """The windows of truncated BPTT as slices of the time axis: [0:k], [k:2k], ..., the last possibly shorter.

    Inputs:
    - T: int > 0, the sequence length
    - k: int > 0, the window length

    Returns:
    - a list of ceil(T / k) slices that cover 0 .. T-1 once, in order

    The cut of book/05_bptt.md, section "Truncated BPTT: carry the state, cut the gradient".
    """
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T <= 0:
        raise ValueError(f"T: expected a positive int (the sequence length), got {T!r}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
        raise ValueError(f"k: expected a positive int (the window length), got {k!r}")
    return [slice(s, min(s + k, T)) for s in range(0, T, k)]


def _check(loss_fn, inputs, targets):
    if not callable(loss_fn):
        raise ValueError("loss_fn: expected a function (params, inputs, targets, state0) -> loss, grads, state")
    inputs, targets = np.asarray(inputs), np.asarray(targets)
    if inputs.ndim < 1 or inputs.shape[0] == 0:
        raise ValueError(f"inputs: expected a non-empty time-major array, got shape {inputs.shape}")
    if targets.ndim < 1 or targets.shape[0] != inputs.shape[0]:
        raise ValueError(f"targets: expected {inputs.shape[0]} time steps like inputs, got shape {targets.shape}")
    return inputs, targets


def tbptt_grads(loss_fn, params, inputs, targets, state0, k):
    """Evaluate a long sequence in windows of k steps and add up the truncated gradients (no update).

        g_trunc = sum_w dL_w / dtheta,   the state entering window w held fixed

    Inputs:
    - loss_fn: (params, inputs (k, ...), targets (k, ...), state0) -> (loss, grads dict, state_last)
    - params: whatever loss_fn takes (a dict name -> array for rnn_ref's losses)
    - inputs: (T, ...) time-major, e.g. (T, B) character indices
    - targets: (T, ...) time-major, the same number of steps
    - state0: the state entering the first window, e.g. h0 (B, H)
    - k: int > 0, the window length; k >= T gives full BPTT's gradient

    Returns a tuple of:
    - loss: float, summed over all windows
    - grads: dict name -> array, each parameter's gradient summed over windows
    - state: the state after step T, to carry into the next sequence

    Derived in book/05_bptt.md, section "Truncated BPTT: carry the state, cut the gradient".
    """
    inputs, targets = _check(loss_fn, inputs, targets)
    total, acc, state = 0.0, None, state0
    for w in tbptt_windows(inputs.shape[0], k):
        loss, grads, state = loss_fn(params, inputs[w], targets[w], state)
        total += loss
        if acc is None:
            acc = {n: np.array(g, copy=True) for n, g in grads.items()}
        else:
            for n, g in grads.items():
                acc[n] += g
    return total, acc, state


def tbptt_train(loss_fn, params, inputs, targets, state0, k, update):
    """Train over one long sequence, one parameter update per window of k steps (the state is carried over,
    as min-char-rnn does).

    Inputs:
    - loss_fn: (params, inputs (k, ...), targets (k, ...), state0) -> (loss, grads dict, state_last)
    - params: the parameters to start from
    - inputs, targets: (T, ...) time-major, the same number of steps
    - state0: the state entering the first window, e.g. h0 (B, H)
    - k: int > 0, the window length
    - update: (params, grads) -> new params, e.g. `lambda p, g: sgd_step(p, g, 0.1)`, or a closure around
      an optimizer from rnn_ref.training.optim that keeps its state

    Returns a tuple of:
    - params: the parameters after ceil(T / k) updates
    - losses: list of float, each window's loss before its update
    - state: the state after step T

    The training of book/05_bptt.md, section "Truncated BPTT: carry the state, cut the gradient".
    """
    inputs, targets = _check(loss_fn, inputs, targets)
    if not callable(update):
        raise ValueError("update: expected a function (params, grads) -> new params")
    losses, state = [], state0
    for w in tbptt_windows(inputs.shape[0], k):
        loss, grads, state = loss_fn(params, inputs[w], targets[w], state)
        params = update(params, grads)
        losses.append(float(loss))
    return params, losses, state
