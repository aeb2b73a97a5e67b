"""Student-style implementations for tests/test_checks.py: written differently from rnn_ref (dict and list
caches, explicit per-step loops, other operation orders), each with a `mistake` keyword that plants one typical
error. mistake=None is a correct implementation, which every check must accept.

Use functools.partial(fn, mistake="...") to get the function a student would hand in.
"""
import sys

import numpy as np


def sig(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))  # another way to write the sigmoid, stable too


# ------------------------------------------------------------------------------------------------ vanilla RNN
def rnn_step_forward(x, h_prev, U_xh, W_hh, b, mistake=None):
    W = W_hh.T if mistake == "W_T" else W_hh
    a = h_prev @ W + x @ U_xh
    if mistake != "no_b":
        a = a + b
    if mistake == "no_tanh":
        h = a
    elif mistake == "sigmoid":
        h = sig(a)
    elif mistake == "relu":
        h = np.maximum(a, 0)
    else:
        h = np.tanh(a)
    if mistake == "float32":
        h = h.astype(np.float32)
    if mistake == "int":
        h = np.zeros(h.shape, dtype=int)
    if mistake == "transposed_out":
        h = h.T
    if mistake == "print":
        print("h =", h)
    if mistake == "stderr":
        print("debug", file=sys.stderr)
    if mistake == "only_h":
        return h
    if mistake == "none":
        return None
    if mistake == "stub":
        raise NotImplementedError
    return h, {"x": x, "h_prev": h_prev, "U": U_xh, "W": W_hh, "h": h}


def rnn_step_backward(dh, cache, mistake=None):
    x, hp, U, W, h = cache["x"], cache["h_prev"], cache["U"], cache["W"], cache["h"]
    if mistake == "no_tanh":
        da = dh
    elif mistake == "tanh_of_h":
        da = dh * (1 - np.tanh(h) ** 2)
    else:
        da = dh * (1 - h ** 2)
    dx = da @ U.T
    dh_prev = da @ (W if mistake == "W_notT" else W.T)
    dU = x.T @ da
    dW = da.T @ hp if mistake == "dW_T" else hp.T @ da
    if mistake == "db_not_summed":
        db = da
    elif mistake == "db_mean":
        db = da.mean(axis=0)
    else:
        db = np.sum(da, axis=0)
    if mistake == "four":
        return dx, dh_prev, dU, dW
    if mistake == "mutate_dh":
        dh *= 2
    return dx, dh_prev, dU, dW, db


def rnn_forward(x, h0, U_xh, W_hh, b, mistake=None):
    """Per-step loop; the cache is a list of step caches."""
    T = x.shape[0]
    hs, caches = [None] * T, [None] * T
    prev = h0
    buf = np.zeros_like(h0)
    order = reversed(range(T)) if mistake == "reversed" else range(T)
    for t in order:
        h, c = rnn_step_forward(x[t], prev, U_xh, W_hh, b, mistake if mistake in ("W_T", "no_tanh") else None)
        caches[t] = c
        if mistake == "alias":
            buf[...] = h
            hs[t] = buf
        else:
            hs[t] = h
        if mistake != "prev_h0":
            prev = h
    out = np.stack(hs) if mistake != "alias" else np.array([buf] * T)
    if mistake == "shifted":
        out = np.concatenate([h0[None], out[:-1]])
    if mistake == "with_h0":           # the list of states started with h0
        out = np.stack([h0] + hs)
    if mistake == "last_only":
        out = hs[-1]
    if mistake == "raise":
        raise ValueError("something the student wrote")
    return out, caches


def rnn_backward(dh, caches, mistake=None):
    """Per-step loop over the list of step caches, using the student's step backward."""
    T = len(caches)
    dx = [None] * T
    dU = dW = db = 0.0
    dnext = np.zeros_like(dh[0])
    order = {"forward_loop": range(T), "skip_last": range(T - 2, -1, -1),
             "skip_first": range(T - 1, 0, -1)}.get(mistake, range(T - 1, -1, -1))
    for t in order:
        g = dh[t] + (0 if mistake == "no_time_flow" else dnext)
        step_m = mistake if mistake in ("no_tanh", "W_notT", "tanh_of_h", "db_not_summed") else None
        dx[t], dnext, dUt, dWt, dbt = rnn_step_backward(g, caches[t], step_m)
        if mistake == "assign":
            dU, dW, db = dUt, dWt, dbt
        else:
            dU, dW, db = dU + dUt, dW + dWt, db + dbt
    dx = [np.zeros_like(caches[0]["x"]) if d is None else d for d in dx]
    return np.stack(dx), dnext, dU, dW, db


def rnn_forward_arr(x, h0, U_xh, W_hh, b, mistake=None):
    """Vectorised input projection first, a dict cache of whole arrays."""
    T, B, _ = x.shape
    H = W_hh.shape[0]
    xu = np.einsum("tbd,dh->tbh", x, U_xh) + b
    h = np.empty((T, B, H))
    for t in range(T):
        h[t] = np.tanh(xu[t] + (h0 if t == 0 else h[t - 1]) @ W_hh)
    return h, {"x": x, "h0": h0, "U": U_xh, "W": W_hh, "h": h}


def rnn_backward_arr(dh, cache, mistake=None):
    x, h0, U, W, h = cache["x"], cache["h0"], cache["U"], cache["W"], cache["h"]
    T = x.shape[0]
    dU, dW, db = np.zeros_like(U), np.zeros_like(W), np.zeros(W.shape[0])
    dx = np.zeros_like(x)
    carry = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        g = dh[t] + carry if (mistake != "dh_only_last" or t == T - 1) else carry
        da = (1 - h[t] * h[t]) * g
        if mistake == "h_wrap":
            hp = h[t - 1]
        elif mistake == "h_misaligned":
            hp = h[t]
        else:
            hp = h0 if t == 0 else h[t - 1]
        dx[t] = da @ U.T
        if mistake == "only_last" and t < T - 1:
            pass
        else:
            dU += x[t].T @ da
            dW += hp.T @ da
            db += da.sum(0)
        carry = da @ W.T
        if mistake == "dh0_da" and t == 0:
            carry = da
    if mistake == "db_mean":
        db /= x.shape[1]
    return dx, carry, dU, dW, db


# ------------------------------------------------------------------------------------------------ losses
def softmax(o, axis=-1, mistake=None):
    if mistake == "ignores_axis":      # written for the last axis, `axis` never used
        e = np.exp(o - o.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    if mistake == "max_last":          # the sum follows `axis`, the max was left on the last axis
        e = np.exp(o - o.max(axis=-1, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)
    if mistake == "unstable":
        e = np.exp(o)
    elif mistake == "global_max":
        e = np.exp(o - np.max(o))
    else:
        e = np.exp(o - np.max(o, axis=axis, keepdims=True))
    if mistake == "axis0":
        return e / e.sum(axis=0, keepdims=True)
    if mistake == "no_keepdims":
        return e / e.sum(axis=axis)
    if mistake == "sum_all":           # one sum over the whole array
        return e / e.sum()
    if mistake == "no_divide":         # exp(o - max), never normalised
        return e
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax_cross_entropy(o, y, mistake=None):
    """Per-time-step loop, log-sum-exp written out."""
    T, B, K = o.shape
    loss = 0.0
    do = np.zeros_like(o)
    for t in range(T):
        if mistake == "unstable":
            p = np.exp(o[t]) / np.exp(o[t]).sum(axis=1, keepdims=True)
            logp = np.log(p)
        else:
            m = o[t].max(axis=1, keepdims=True)
            logp = o[t] - m - np.log(np.exp(o[t] - m).sum(axis=1, keepdims=True))
            p = np.exp(logp)
        loss -= logp[np.arange(B), y[t]].sum()
        g = p.copy()
        g[np.arange(B), y[t]] -= 1
        do[t] = -g if mistake == "sign" else g
    if mistake == "loss_mean_T":
        loss, do = loss / T, do / T
    if mistake == "loss_sum_B":
        return loss, do
    if mistake == "do_noB":
        return loss / B, do
    if mistake == "loss_sign":         # the log-probability summed, its minus forgotten
        return -loss / B, do / B
    return loss / B, do / B


def perplexity(loss_per_token, mistake=None):
    if mistake == "exp_neg":
        return float(np.exp(-loss_per_token))
    if mistake == "pow2":
        return 2.0 ** loss_per_token
    if mistake == "pow10":
        return 10.0 ** loss_per_token
    if mistake == "array":
        return np.array([np.exp(loss_per_token)])
    return np.e ** loss_per_token


def numerical_gradient(f, x, h=1e-5, mistake=None):
    grad = np.zeros(x.shape)
    flat = x.reshape(-1)  # a view: writing into it changes x
    target = flat.copy() if mistake == "copy" else flat
    step = 1e-5 if mistake == "fixed_step" else h
    for i in range(flat.size):
        old = target[i]
        if mistake == "forward":
            f0 = f()
            target[i] = old + step
            grad.flat[i] = (f() - f0) / step
        elif mistake == "minus_on_copy":  # the minus step goes to a copy: x is still at old + h
            target[i] = old + step
            fp = f()
            xm = x.copy()
            xm.reshape(-1)[i] = old - step
            fm = f()
        elif mistake == "minus_adds_up":  # x[i] -= h after x[i] += h: back at old, not at old - h
            target[i] += step
            fp = f()
            target[i] -= step
            fm = f()
        else:
            target[i] = old + step
            fp = f()
            target[i] = old - step
            fm = f()
        if mistake != "forward":
            grad.flat[i] = (fp - fm) / (step if mistake == "denominator_h" else 2 * step)
        if mistake != "no_restore":
            target[i] = old
    return grad


# ------------------------------------------------------------------------------------------------ clipping
def clip_by_value(grads, limit, mistake=None):
    out = {}
    for name in grads:
        g = grads[name]
        if mistake == "in_place":
            np.clip(g, -limit, limit, out=g)
            out[name] = g
        elif mistake == "upper_only":
            out[name] = np.minimum(g, limit)
        elif mistake == "abs":
            out[name] = np.minimum(np.abs(g), limit)
        elif mistake == "norm":
            n = np.linalg.norm(g)
            out[name] = g * (limit / n) if n > limit else g.copy()
        else:
            out[name] = np.maximum(np.minimum(g, limit), -limit)
    if mistake == "list":
        return list(out.values())
    return out


def clip_by_global_norm(grads, max_norm, mistake=None):
    sq = 0.0
    for g in grads.values():
        sq += np.sum(g ** 2)
    norm = np.sqrt(sq)
    if mistake == "per_tensor":
        out = {}
        for k, g in grads.items():
            n = np.linalg.norm(g)
            out[k] = g * (max_norm / n) if n > max_norm else g
        return out, norm
    if mistake == "always":
        return {k: g * (max_norm / norm) for k, g in grads.items()}, norm
    if mistake == "no_sqrt":
        norm = sq
    scale = min(1.0, max_norm / norm)
    if mistake == "in_place":
        for g in grads.values():
            g *= scale
        return grads, norm
    out = {k: scale * g for k, g in grads.items()}
    if mistake == "norm_after":
        norm = np.sqrt(sum(np.sum(g * g) for g in out.values()))
    return out, norm


# ------------------------------------------------------------------------------------------------ sampling
def sample_index(o, temperature, u, mistake=None):
    B, K = o.shape
    if temperature == 0 and mistake != "div0":
        return np.argmax(o, axis=1)
    if mistake == "after_softmax":
        p = softmax(o) / temperature
    elif mistake == "times_t":
        p = softmax(o * temperature)
    else:
        p = softmax(o / temperature)
    if mistake == "argmax_none":       # the first True of cdf > u, by argmax (0 when there is none)
        return np.argmax(np.cumsum(p, axis=1) > u[:, None], axis=1)
    if mistake == "own_rng":           # draws its own random numbers: u is never used
        return np.array([np.random.choice(K, p=p[b]) for b in range(B)])
    out = np.zeros(B, dtype=np.int64)
    for b in range(B):
        cdf = np.cumsum(p[b])
        side = "left" if mistake == "ge" else "right"
        k = np.searchsorted(cdf, u[b], side=side)
        out[b] = k if mistake == "unguarded" else min(k, K - 1)
    if mistake == "random":
        out = np.random.default_rng(0).integers(0, K, B)
    if mistake == "float":
        return out.astype(float)
    return out


# ------------------------------------------------------------------------------------------------ char LM
PARAMS = ("U_xh", "W_hh", "b", "V_ho", "b_y")


def char_lm_loss(params, inputs, targets, h0, mistake=None):
    """One explicit loop forward, one backward, one-hot by indexing."""
    U, W, b, Vh, b_y = (params[k] for k in PARAMS)
    T, B = inputs.shape
    hs, ps = {-1: h0}, {}
    loss = 0.0
    for t in range(T):
        hs[t] = np.tanh(U[inputs[t]] + hs[t - 1] @ W + b)  # one-hot @ U_xh picks rows of U_xh
        o = hs[t] @ Vh + b_y
        o = o - o.max(1, keepdims=True)
        logp = o - np.log(np.exp(o).sum(1, keepdims=True))
        ps[t] = np.exp(logp)
        loss += -logp[np.arange(B), targets[t]].sum()
    scale = {"loss_mean_T": 1.0 / (T * B), "loss_sum_B": 1.0}.get(mistake, 1.0 / B)
    g = {k: np.zeros_like(v) for k, v in params.items()}
    dnext = np.zeros_like(h0)
    for t in reversed(range(T)):
        do = ps[t].copy()
        do[np.arange(B), targets[t]] -= 1
        do *= scale
        g["V_ho"] += hs[t].T @ do
        g["b_y"] += do.sum(0)
        dh = do @ Vh.T + dnext
        da = dh if mistake == "no_tanh" else dh * (1 - hs[t] ** 2)
        np.add.at(g["U_xh"], inputs[t], da)
        if mistake == "assign":
            g["W_hh"] = hs[t - 1].T @ da
        else:
            g["W_hh"] += hs[t - 1].T @ da
        g["b"] += da.sum(0)
        dnext = da @ W.T
    if mistake == "db_y_mean_T":       # the output bias's gradient averaged over time
        g["b_y"] = g["b_y"] / T
    h_last = hs[0] if mistake == "h_first" else hs[T - 1]
    return loss * scale, g, h_last


def char_lm_train_step(params, inputs, targets, h0, lr, max_norm, mistake=None):
    loss, grads, h_last = char_lm_loss(params, inputs, targets, h0)
    if mistake == "clip_value":
        grads = clip_by_value(grads, max_norm)
    elif mistake == "per_tensor":      # "clip each gradient to max_norm"
        grads, _ = clip_by_global_norm(grads, max_norm, mistake="per_tensor")
    elif mistake == "ascent":
        grads = {k: -g for k, g in clip_by_global_norm(grads, max_norm)[0].items()}
    elif mistake == "big_lr_no_clip":  # no clipping, and a learning rate "to make it learn faster"
        lr = 40 * lr
    elif mistake == "fixed_lr":        # the learning rate of the example, written in
        grads, _ = clip_by_global_norm(grads, max_norm)
        lr = 0.1
    elif mistake == "tiny_lr":         # a learning rate of 0.001, "to be safe"
        grads, _ = clip_by_global_norm(grads, max_norm)
        lr = 1e-3
    elif mistake != "no_clip":
        grads, _ = clip_by_global_norm(grads, max_norm)
    new = {k: params[k] - lr * grads[k] for k in params}
    if mistake == "in_place":          # updates params and returns it: the caller's dict changes too
        for k in params:
            params[k] -= lr * grads[k]
        return params, loss, h_last
    return new, loss, h_last


# ------------------------------------------------------------------------------------------------ architectures
def many_to_one_loss(x, h0, params, y, mistake=None):
    U, W, b, Vh, b_y = (params[k] for k in PARAMS)
    T, B, _ = x.shape
    h, cache = rnn_forward_arr(x, h0, U, W, b)
    hT = h[0] if mistake == "first_state" else h[-1]
    o = hT @ Vh + b_y
    p = softmax(o)
    loss = -np.log(p[np.arange(B), y]).sum()
    do = p.copy()
    do[np.arange(B), y] -= 1
    if mistake == "grad_B":            # the loss is averaged, its gradient is not
        loss = loss / B
    elif mistake != "sum_B":
        loss, do = loss / B, do / B
    dh = np.zeros_like(h)
    dh[0 if mistake == "first_state" else -1] = do @ Vh.T
    if mistake == "dh_every_step":     # the output's gradient fed in at every step, as in many-to-many
        dh[:] = do @ Vh.T
    if mistake == "no_time_flow":
        da = dh[-1] * (1 - h[-1] ** 2)
        hp = h[-2] if T > 1 else h0
        dU, dW, db = x[-1].T @ da, hp.T @ da, da.sum(0)
    else:
        _, _, dU, dW, db = rnn_backward_arr(dh, cache, "only_last" if mistake == "only_last" else None)
    return loss, {"U_xh": dU, "W_hh": dW, "b": db, "V_ho": hT.T @ do, "b_y": do.sum(0)}


def encoder_decoder_forward(x, y_in, h0, params, mistake=None):
    p = params
    h_enc, _ = rnn_forward_arr(x, h0, p["U_enc"], p["W_enc"], p["b_enc"])
    K = p["U_dec"].shape[0]
    state = {"zeros": np.zeros_like(h0), "h0": h0, "enc_first": h_enc[0]}.get(mistake, h_enc[-1])
    W_dec = p["W_enc"] if mistake == "enc_weights" else p["W_dec"]
    logits = []
    for t in range(y_in.shape[0]):
        prev = state if mistake != "context_every_step" else h_enc[-1]
        state = np.tanh(p["U_dec"][y_in[t]] + prev @ W_dec + p["b_dec"])
        logits.append(state @ p["V_ho"] + (0.0 if mistake == "no_b_y" else p["b_y"]))
    return np.array(logits), {"K": K}


def bidirectional_forward(x, h0_f, h0_b, params_f, params_b, mistake=None):
    hf, cf = rnn_forward(x, h0_f, *params_f)
    xb = x if mistake == "no_reverse_in" else x[::-1]
    hb, cb = rnn_forward(xb, h0_f if mistake == "same_h0" else h0_b,
                         *(params_f if mistake == "same_params" else params_b))
    if mistake not in ("no_reverse_out", "no_reverse_in"):
        hb = hb[::-1]
    parts = [hb, hf] if mistake == "swapped" else [hf, hb]
    return np.concatenate(parts, axis=0 if mistake == "axis0" else -1), {"f": cf, "b": cb, "H": hf.shape[-1]}


def bidirectional_backward(dh, cache, mistake=None):
    H = cache["H"]
    dx_f, dh0_f, *dp_f = rnn_backward(dh[..., :H], cache["f"])
    db_in = dh[..., H:] if mistake == "dh_not_reversed" else dh[::-1, :, H:]
    dx_b, dh0_b, *dp_b = rnn_backward(db_in, cache["b"])
    dx = dx_f + (dx_b if mistake == "dx_not_reversed" else dx_b[::-1])
    if mistake == "dx_forward_only":
        dx = dx_f
    if mistake == "dparams_swapped":   # returned in the wrong order
        return dx, dh0_f, dh0_b, tuple(dp_b), tuple(dp_f)
    if mistake == "dh0_swapped":
        return dx, dh0_b, dh0_f, tuple(dp_f), tuple(dp_b)
    return dx, dh0_f, dh0_b, tuple(dp_f), tuple(dp_b)


def stacked_rnn_forward(x, h0s, layers, mistake=None):
    caches = []
    inp = x
    first = None
    for l, (U, W, b) in enumerate(layers):
        h, c = rnn_forward_arr(x if mistake == "all_x" else inp, h0s[0] if mistake == "h0_0" else h0s[l], U, W, b)
        caches.append(c)
        inp = h
        if first is None:
            first = h
    if mistake == "all_layers":        # every layer's states, stacked
        return np.stack([c["h"] for c in caches]), caches
    return (first if mistake == "bottom" else inp), caches


def stacked_rnn_backward(dh, caches, mistake=None):
    L = len(caches)
    dh0s = [None] * L
    dlayers = [None] * L
    g = dh
    order = []
    for l in range(L - 1, -1, -1):
        dx, dh0, dU, dW, db = rnn_backward_arr(dh if mistake == "same_dh" else g, caches[l])
        dh0s[l] = dh0
        dlayers[l] = (dU, dW, db)
        order.append((dU, dW, db))
        if l == L - 1:
            first_dx = dx
        g = dx
    if mistake == "dlayers_reversed":
        dlayers = order
    if mistake == "dh0s_reversed":
        dh0s = dh0s[::-1]
    if mistake == "dh0s_top_only":     # dh0s = np.zeros(...), then only the top layer's stored
        dh0s = [np.zeros_like(d) for d in dh0s[:-1]] + [dh0s[-1]]
    if mistake == "dx_top":            # returned the top layer's dx, not the bottom's
        g = first_dx
    return g, np.array(dh0s), dlayers


# ------------------------------------------------------------------------------------------------ LSTM
LSTM_ORDERS = {None: "ifgo", "order_ifog": "ifog", "order_fiog": "figo"}


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b, mistake=None):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    order = LSTM_ORDERS.get(mistake, "ifgo")
    blocks = {name: a[:, k * H:(k + 1) * H] for k, name in enumerate(order)}
    i, f, o = sig(blocks["i"]), sig(blocks["f"]), sig(blocks["o"])
    g = np.tanh(blocks["g"])
    c = f * c_prev + i * g
    h = o * c if mistake == "no_tanh_c" else o * np.tanh(c)
    if mistake == "c_tanh":            # "the state is squashed too"
        c = np.tanh(c)
    cache = {"x": x, "h_prev": h_prev, "c_prev": c_prev, "Wx": Wx, "Wh": Wh, "i": i, "f": f, "g": g, "o": o, "c": c}
    return h, c, cache


def lstm_step_backward(dh, dc, cache, mistake=None):
    i, f, g, o, c = cache["i"], cache["f"], cache["g"], cache["o"], cache["c"]
    tc = np.tanh(c)
    if mistake == "no_dc_in":
        dct = dh * o * (1 - tc ** 2)
    elif mistake == "no_dh_in_dc":     # forgot that h = o * tanh(c) sends gradient into c too
        dct = dc
    else:
        dct = dc + dh * o * (1 - tc ** 2)
    d = {"i": dct * g * i * (1 - i), "f": dct * cache["c_prev"] * f * (1 - f), "g": dct * i * (1 - g ** 2),
         "o": dh * tc * o * (1 - o)}
    if mistake == "tanh_c_in_f":       # tanh(c) where c_prev belongs
        d["f"] = dct * tc * f * (1 - f)
    if mistake == "dc_in_o":           # the output gate's term from dc instead of dh
        d["o"] = dc * tc * o * (1 - o)
    if mistake == "c_in_f":            # the new cell state where c_prev belongs
        d["f"] = dct * c * f * (1 - f)
    if mistake == "g_sigmoid_grad":    # the candidate's derivative written like a sigmoid's
        d["g"] = dct * i * g * (1 - g)
    order = "ifog" if mistake == "order_ifog" else "ifgo"
    da = np.hstack([d[k] for k in order])
    dc_prev = f * dc if mistake == "dcprev_no_dh" else dct if mistake == "dcprev_no_f" else f * dct
    H = i.shape[1]
    dx = da[:, :3 * H] @ cache["Wx"][:, :3 * H].T if mistake == "dx_no_o" else da @ cache["Wx"].T
    return (dx, da @ cache["Wh"].T, dc_prev, cache["x"].T @ da, cache["h_prev"].T @ da, da.sum(axis=0))


def lstm_forward(x, h0, c0, Wx, Wh, b, mistake=None):
    T = x.shape[0]
    h, c = h0, c0
    hs, caches = [], []
    cs = []
    for t in range(T):
        hn, cn, cache = lstm_step_forward(x[t], h, c, Wx, Wh, b, mistake if mistake in LSTM_ORDERS else None)
        hs.append(hn)
        cs.append(cn)
        caches.append(cache)
        h = h0 if mistake == "h_not_carried" else hn
        c = c0 if mistake == "c_not_carried" else cn
    if mistake == "return_c":          # returned the cell states
        return np.array(cs), caches
    if mistake == "reversed_out":      # hs.insert(0, h) instead of append
        return np.array(hs[::-1]), caches
    return np.array(hs), caches


LSTM_STEP_MISTAKES = ("dcprev_no_dh", "no_dc_in", "no_dh_in_dc", "tanh_c_in_f", "dc_in_o", "g_sigmoid_grad",
                      "c_in_f", "dcprev_no_f")


def lstm_backward(dh, caches, mistake=None):
    T = len(caches)
    grads = None
    dnext = np.zeros_like(dh[0])
    dcn = np.zeros_like(dh[0])
    dxs = [None] * T
    for t in (range(T) if mistake == "forward_loop" else reversed(range(T))):
        step_m = mistake if mistake in LSTM_STEP_MISTAKES else None
        g = dh[t] if mistake == "no_time_flow" else dh[t] + dnext
        if mistake == "dh_only_last" and t < T - 1:
            g = dnext
        step = lstm_step_backward(g, 0 * dcn if mistake == "no_dc_flow" else dcn, caches[t], step_m)
        dxs[t], dnext, dcn = step[:3]
        if grads is None or mistake == "assign":
            grads = list(step[3:])
        else:
            grads = [a + b for a, b in zip(grads, step[3:])]
    if mistake == "dc0_zeros":         # the cell state's gradient never returned
        dcn = np.zeros_like(dcn)
    return (np.array(dxs), dnext, dcn, *grads)


# ------------------------------------------------------------------------------------------------ GRU
def gru_step_forward(x, h_prev, Wx, Wh, bx, bh, mistake=None):
    H = h_prev.shape[1]
    gx = x @ Wx + bx
    gh = h_prev @ Wh + bh
    r = sig(gx[:, :H] + gh[:, :H])
    z = sig(gx[:, H:2 * H] + gh[:, H:2 * H])
    if mistake == "reset_before":
        n = np.tanh(gx[:, 2 * H:] + (r * h_prev) @ Wh[:, 2 * H:] + bh[2 * H:])
    else:
        n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
    h = z * n + (1 - z) * h_prev if mistake == "z_swapped" else (1 - z) * n + z * h_prev
    return h, {"x": x, "h_prev": h_prev, "Wx": Wx, "Wh": Wh, "r": r, "z": z, "n": n, "ghn": gh[:, 2 * H:]}


def gru_step_backward(dh, cache, mistake=None):
    r, z, n, hp = cache["r"], cache["z"], cache["n"], cache["h_prev"]
    dn = dh * (1 - z) if mistake == "no_tanh" else dh * (1 - z) * (1 - n * n)
    dz = dh * (hp - n) * z * (1 - z)
    if mistake == "z_sign":            # h = (1 - z) * n + z * h_prev differentiated as z * n + ...
        dz = dh * (n - hp) * z * (1 - z)
    if mistake == "z_new_h":           # the new state h where h_prev belongs
        h = (1 - z) * n + z * hp
        dz = dh * (h - n) * z * (1 - z)
    dghn = dn * r
    dr = dn * cache["ghn"] * r * (1 - r)
    if mistake == "dr_no_ghn":         # the reset gate's term without what r multiplies
        dr = dn * r * (1 - r)
    dgx = np.concatenate([dr, dz, dn], axis=1)
    dgh = np.concatenate([dr, dz, dn if mistake == "dah_no_r" else dghn], axis=1)
    dh_prev = dgh @ cache["Wh"].T
    if mistake != "no_direct":
        dh_prev = dh_prev + z * dh
    return dgx @ cache["Wx"].T, dh_prev, cache["x"].T @ dgx, hp.T @ dgh, dgx.sum(0), dgh.sum(0)


def _gated_forward(step, x, h0, params, mistake):
    """The sequence loop of a cell whose state is h alone (both GRUs), with its mistakes."""
    hs, caches, h = [], [], h0
    for t in range(x.shape[0]):
        hn, c = step(x[t], h, *params, mistake)
        hs.append(hn)
        caches.append(c)
        h = h0 if mistake == "not_carried" else hn
    if mistake == "shifted":           # the list started with h0 and lost its last state
        return np.stack([h0] + hs[:-1]), caches
    return np.stack(hs), caches


def _gated_backward(step_backward, step_mistakes, dh, caches, mistake):
    """BPTT through a cell whose state is h alone, with its mistakes (step_mistakes go to the step)."""
    T = len(caches)
    dx, grads, dnext = [None] * T, None, np.zeros_like(dh[0])
    for t in (range(T) if mistake == "forward_loop" else range(T - 1, -1, -1)):
        g = dh[t] if mistake == "no_time_flow" else dh[t] + dnext
        if mistake == "dh_only_last" and t < T - 1:
            g = dnext
        dx[t], dnext, *p = step_backward(g, caches[t], mistake if mistake in step_mistakes else None)
        grads = p if grads is None or mistake == "assign" else [a + b for a, b in zip(grads, p)]
    return (np.stack(dx), dnext, *grads)


def gru_forward(x, h0, Wx, Wh, bx, bh, mistake=None):
    return _gated_forward(gru_step_forward, x, h0, (Wx, Wh, bx, bh), mistake)


def gru_backward(dh, caches, mistake=None):
    return _gated_backward(gru_step_backward, ("no_direct", "no_tanh", "z_sign", "dr_no_ghn", "dah_no_r", "z_new_h"),
                           dh, caches, mistake)


# ------------------------------------------------------------------------------------------------ Cho's GRU
def gru_cho_step_forward(x, h_prev, Wx, Wh, bx, bh, mistake=None):
    H = h_prev.shape[1]
    Wr, Wz, Wn = Wh[:, :H], Wh[:, H:2 * H], Wh[:, 2 * H:]
    a = x @ Wx + bx + bh
    r = sig(a[:, :H] + h_prev @ Wr)
    z = sig(a[:, H:2 * H] + h_prev @ Wz)
    if mistake == "reset_after":       # PyTorch's form, as a student who read torch.nn.GRU's docs writes it
        n = np.tanh(x @ Wx[:, 2 * H:] + bx[2 * H:] + r * (h_prev @ Wn + bh[2 * H:]))
    else:
        n = np.tanh(a[:, 2 * H:] + (r * h_prev) @ Wn)
    h = z * n + (1 - z) * h_prev if mistake == "z_swapped" else (1 - z) * n + z * h_prev
    return h, {"x": x, "h_prev": h_prev, "Wx": Wx, "Wh": Wh, "r": r, "z": z, "n": n}


def gru_cho_step_backward(dh, cache, mistake=None):
    r, z, n, hp, Wh = cache["r"], cache["z"], cache["n"], cache["h_prev"], cache["Wh"]
    H = hp.shape[1]
    dn = dh * (1 - z) if mistake == "no_tanh" else dh * (1 - z) * (1 - n ** 2)
    dz = dh * (hp - n) * z * (1 - z)
    drh = dn @ Wh[:, 2 * H:].T                          # through (r * h_prev) @ Wh_n
    dr = drh * hp * r * (1 - r)
    da = np.concatenate([dr, dz, dn], axis=1)
    rh = hp if mistake == "dWhn_hprev" else r * hp
    dWh = np.concatenate([hp.T @ dr, hp.T @ dz, rh.T @ dn], axis=1)
    dh_prev = dr @ Wh[:, :H].T + dz @ Wh[:, H:2 * H].T + (drh if mistake == "drh_no_r" else drh * r)
    if mistake != "no_direct":
        dh_prev = dh_prev + z * dh
    db = da.sum(0)
    return da @ cache["Wx"].T, dh_prev, cache["x"].T @ da, dWh, db, db.copy()


def gru_cho_forward(x, h0, Wx, Wh, bx, bh, mistake=None):
    return _gated_forward(gru_cho_step_forward, x, h0, (Wx, Wh, bx, bh), mistake)


def gru_cho_backward(dh, caches, mistake=None):
    return _gated_backward(gru_cho_step_backward, ("no_tanh", "dWhn_hprev", "drh_no_r", "no_direct"), dh, caches,
                           mistake)


# ------------------------------------------------------------------------------------------------ attention
def additive_attention_forward(s, h_enc, W_s, W_h, v, mistake=None):
    T_in = h_enc.shape[0]
    q = 0.0 if mistake == "no_s" else s @ W_s                       # (B, A), the same for every position
    a = np.stack([np.tanh(h_enc[j] @ W_h + q) for j in range(T_in)])
    e = np.einsum("tba,a->tb", a, v)
    axis = -1 if mistake == "softmax_batch" else 0                  # softmax(e) with numpy's default axis
    w = np.exp(e - e.max(axis=axis, keepdims=True))
    alpha = w / w.sum(axis=axis, keepdims=True)
    context = np.einsum("tb,tbh->bh", alpha, h_enc)
    return context, alpha, {"s": s, "h": h_enc, "W_s": W_s, "W_h": W_h, "v": v, "a": a, "alpha": alpha}


def additive_attention_backward(dcontext, cache, mistake=None):
    h, a, alpha, v = cache["h"], cache["a"], cache["alpha"], cache["v"]
    dalpha = np.einsum("bh,tbh->tb", dcontext, h)
    de = alpha * (dalpha - np.sum(alpha * dalpha, axis=0, keepdims=True))
    if mistake == "softmax_no_sub":
        de = alpha * dalpha
    dz = de[:, :, None] * v[None, None, :] * (1 - a ** 2)
    ds = np.zeros_like(cache["s"])
    dW_s, dW_h = np.zeros_like(cache["W_s"]), np.zeros_like(cache["W_h"])
    dh = np.zeros_like(h)
    for j in range(h.shape[0]):
        ds += dz[j] @ cache["W_s"].T
        dW_s += cache["s"].T @ dz[j]
        dW_h += h[j].T @ dz[j]
        dh[j] = dz[j] @ cache["W_h"].T
        if mistake != "no_direct":
            dh[j] += alpha[j][:, None] * dcontext
    dv = np.einsum("tba,tb->a", a, de)
    return ds, dh, dW_s, dW_h, dv


def attention_encoder_decoder_loss(x, y_in, y_out, h0, params, mistake=None):
    """Built like a student would: rnn_ref's RNN and loss pieces around the attention step above."""
    import rnn_ref
    p = params
    K = p["U_dec"].shape[0]
    h_enc, enc_cache = rnn_ref.rnn_forward(x, h0, p["U_enc"], p["W_enc"], p["b_enc"])
    s, dec_cache = rnn_ref.rnn_forward(rnn_ref.one_hot(y_in, K), h_enc[-1], p["U_dec"], p["W_dec"], p["b_dec"])
    steps = [additive_attention_forward(s[t], h_enc, p["W_s"], p["W_h"], p["v"]) for t in range(len(s))]
    ctx = np.stack([c for c, _, _ in steps])
    o = s @ p["V_ho"] + ctx @ p["V_co"] + p["b_y"]
    loss, do = rnn_ref.softmax_cross_entropy(o, y_out)
    grads = {k: np.zeros_like(a) for k, a in p.items()}
    grads["V_ho"] = np.einsum("tbh,tbk->hk", s, do)
    grads["V_co"] = np.einsum("tbh,tbk->hk", ctx, do)
    grads["b_y"] = do.sum(axis=(0, 1))
    ds = do @ p["V_ho"].T
    dh_enc = np.zeros_like(h_enc)
    for t, (_, _, cache) in enumerate(steps):
        ds_t, dh_t, dW_s, dW_h, dv = additive_attention_backward(do[t] @ p["V_co"].T, cache,
                                                                 "no_direct" if mistake == "no_direct" else None)
        if mistake != "no_att_ds":
            ds[t] += ds_t
        dh_enc += dh_t
        grads["W_s"] += dW_s
        grads["W_h"] += dW_h
        grads["v"] += dv
    _, dh_dec0, grads["U_dec"], grads["W_dec"], grads["b_dec"] = rnn_ref.rnn_backward(ds, dec_cache)
    if mistake != "no_dec_init":
        dh_enc[-1] += dh_dec0
    _, _, grads["U_enc"], grads["W_enc"], grads["b_enc"] = rnn_ref.rnn_backward(dh_enc, enc_cache)
    if mistake == "ascent":
        grads = {k: -g for k, g in grads.items()}
    if mistake == "frozen_attention":          # the attention's weights never learn
        grads.update({k: np.zeros_like(grads[k]) for k in ("W_s", "W_h", "v", "V_co")})
    return loss, grads


# ------------------------------------------------------------------------------------------------ predicates
# A hypothesis given as a property of the wrong output (engine.Predicate) cannot be planted from the catalogue:
# each one has its planted example here, and tests/test_catalogue.py checks that every one does.
def _p(fn, mistake):
    import functools
    return functools.partial(fn, mistake=mistake)


PREDICATE_EXAMPLES = {
    ("check_softmax", "axis0"): (_p(softmax, "axis0"),),
    ("check_softmax", "all"): (_p(softmax, "sum_all"),),
    ("check_softmax", "rows"): (_p(softmax, "no_divide"),),
    ("check_sample_index", "index_K"): (_p(sample_index, "unguarded"),),
}
