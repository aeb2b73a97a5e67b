"""The shapes of problem: many-to-one and delayed many-to-many (encoder-decoder) on the vanilla RNN.

Parameter dicts, rows as examples (D input size, H hidden size, K classes or vocabulary size):
  many-to-one:      U_xh (D, H), W_hh (H, H), b (H,), V_ho (H, K), c (K,)
  encoder-decoder:  U_enc (D, H), W_enc (H, H), b_enc (H,)   the encoder reads x (T_in, B, D)
                    U_dec (K, H), W_dec (H, H), b_dec (H,)   the decoder reads one-hot tokens y_in (T_out, B)
                    V_ho (H, K), c (K,)                      the decoder's output layer
"""
import numpy as np

from ._validate import as_float_array, as_targets
from .charlm import check_params, one_hot
from .loss import softmax_cross_entropy
from .rnn import rnn_backward, rnn_forward

MANY_TO_ONE = ("U_xh", "W_hh", "b", "V_ho", "c")
ENCODER_DECODER = ("U_enc", "W_enc", "b_enc", "U_dec", "W_dec", "b_dec", "V_ho", "c")


def many_to_one_loss(x, h0, params, y):
    """Classify each sequence from its last hidden state: o = h_T @ V_ho + c, cross-entropy against y (B,).

    x (T, B, D), h0 (B, H). Returns (loss averaged over the batch, grads: a dict keyed like params).
    """
    p = check_params(params, MANY_TO_ONE)
    x = as_float_array("x", x, ndim=3)
    T, B, D = x.shape
    K = p["V_ho"].shape[1]
    y = as_targets("y", y, (B,), K)
    h, cache = rnn_forward(x, h0, p["U_xh"], p["W_hh"], p["b"])
    o = h[-1] @ p["V_ho"] + p["c"]
    loss, do = softmax_cross_entropy(o[None], y[None])
    do = do[0]
    dh = np.zeros_like(h)
    dh[-1] = do @ p["V_ho"].T  # only the last step sees the loss
    _, _, dU, dW, db = rnn_backward(dh, cache)
    return loss, {"U_xh": dU, "W_hh": dW, "b": db, "V_ho": h[-1].T @ do, "c": do.sum(axis=0)}


def encoder_decoder_forward(x, y_in, h0, params):
    """Delayed many-to-many: an encoder RNN reads all of x (T_in, B, D); its last state starts a decoder RNN
    that reads the tokens y_in (T_out, B) (the previous target tokens: teacher forcing) and emits logits.

    Returns (logits (T_out, B, K), cache).
    """
    p = check_params(params, ENCODER_DECODER)
    K = p["U_dec"].shape[0]
    y_in = np.asarray(y_in)
    if y_in.ndim != 2 or y_in.size == 0:
        raise ValueError(f"y_in: expected a non-empty (T_out, B) array of token indices, got shape {y_in.shape}")
    x = as_float_array("x", x, ndim=3)
    y_in = as_targets("y_in", y_in, (y_in.shape[0], x.shape[1]), K)
    h_enc, enc_cache = rnn_forward(x, h0, p["U_enc"], p["W_enc"], p["b_enc"])
    h_dec, dec_cache = rnn_forward(one_hot(y_in, K, h_enc.dtype), h_enc[-1], p["U_dec"], p["W_dec"], p["b_dec"])
    T_out, B, H = h_dec.shape
    o = (h_dec.reshape(T_out * B, H) @ p["V_ho"]).reshape(T_out, B, K) + p["c"]
    return o, (enc_cache, dec_cache, p, h_dec)


def encoder_decoder_backward(do, cache):
    """do (T_out, B, K) -> (dx, dh0, grads dict keyed like the encoder-decoder params)."""
    enc_cache, dec_cache, p, h_dec = cache
    T_out, B, H = h_dec.shape
    K = p["V_ho"].shape[1]
    do = as_float_array("do", do, shape=(T_out, B, K))
    do2 = do.reshape(T_out * B, K)
    dh_dec = (do2 @ p["V_ho"].T).reshape(T_out, B, H)
    _, dh_enc_last, dU_dec, dW_dec, db_dec = rnn_backward(dh_dec, dec_cache)
    dh_enc = np.zeros_like(enc_cache.h)
    dh_enc[-1] = dh_enc_last  # the encoder's only gradient enters through its last state
    dx, dh0, dU_enc, dW_enc, db_enc = rnn_backward(dh_enc, enc_cache)
    grads = {"U_enc": dU_enc, "W_enc": dW_enc, "b_enc": db_enc, "U_dec": dU_dec, "W_dec": dW_dec,
             "b_dec": db_dec, "V_ho": h_dec.reshape(T_out * B, H).T @ do2, "c": do2.sum(axis=0)}
    return dx, dh0, grads


def encoder_decoder_loss(x, y_in, y_out, h0, params):
    """Cross-entropy of the decoder's logits against y_out (T_out, B): (loss, grads dict)."""
    o, cache = encoder_decoder_forward(x, y_in, h0, params)
    loss, do = softmax_cross_entropy(o, y_out)
    return loss, encoder_decoder_backward(do, cache)[2]
