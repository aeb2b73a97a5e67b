"""rnn_ref.checks: every check accepts the reference and correct implementations written differently, rejects
typical mistakes with a message naming the culprit output and the cause, reports stubs, wrong shapes and dtypes
in one clear sentence, and never writes to stderr."""
import functools

import numpy as np
import pytest

import rnn_ref as rr
import rnn_ref.checks as ck
from rnn_ref.cells.registry import CELLS
import student_mistakes as sm

P = functools.partial


def flat(msg):
    """A check's message with its line wrapping undone (messages are wrapped at 88 characters)."""
    return " ".join(str(msg).split())


def ref_bi_forward(x, h0_f, h0_b, params_f, params_b):
    return rr.bidirectional_forward(x, h0_f, h0_b, params_f, params_b)


REFERENCE = {
    "check_rnn_step_forward": (rr.rnn_step_forward,),
    "check_rnn_step_backward": (rr.rnn_step_forward, rr.rnn_step_backward),
    "check_rnn_forward": (rr.rnn_forward,),
    "check_rnn_backward": (rr.rnn_forward, rr.rnn_backward),
    "check_softmax": (rr.softmax,),
    "check_softmax_cross_entropy": (rr.softmax_cross_entropy,),
    "check_perplexity": (rr.perplexity,),
    "check_numerical_gradient": (rr.numerical_gradient,),
    "check_clip_by_value": (rr.clip_by_value,),
    "check_clip_by_global_norm": (rr.clip_by_global_norm,),
    "check_sample_index": (rr.sample_index,),
    "check_char_lm_loss": (rr.char_lm_loss,),
    "check_char_lm_train_step": (rr.char_lm_train_step,),
    "check_many_to_one_loss": (rr.many_to_one_loss,),
    "check_encoder_decoder_forward": (rr.encoder_decoder_forward,),
    "check_bidirectional_forward": (ref_bi_forward,),
    "check_bidirectional_backward": (ref_bi_forward, rr.bidirectional_backward),
    "check_stacked_rnn_forward": (rr.stacked_rnn_forward,),
    "check_stacked_rnn_backward": (rr.stacked_rnn_forward, rr.stacked_rnn_backward),
    "check_lstm_step_forward": (rr.lstm_step_forward,),
    "check_lstm_step_backward": (rr.lstm_step_forward, rr.lstm_step_backward),
    "check_lstm_forward": (rr.lstm_forward,),
    "check_lstm_backward": (rr.lstm_forward, rr.lstm_backward),
    "check_gru_step_forward": (rr.gru_step_forward,),
    "check_gru_step_backward": (rr.gru_step_forward, rr.gru_step_backward),
    "check_gru_forward": (rr.gru_forward,),
    "check_gru_backward": (rr.gru_forward, rr.gru_backward),
    "check_additive_attention_forward": (rr.additive_attention_forward,),
    "check_additive_attention_backward": (rr.additive_attention_forward, rr.additive_attention_backward),
    "check_attention_encoder_decoder_loss": (rr.attention_encoder_decoder_loss,),
    "check_attention_training": (rr.attention_encoder_decoder_loss,),
}
# every other registered cell gets its four checks from the registry (rnn_ref.checks.cells)
for _cell in CELLS.values():
    REFERENCE.setdefault(f"check_{_cell.name}_step_forward", (_cell.step_forward,))
    REFERENCE.setdefault(f"check_{_cell.name}_step_backward", (_cell.step_forward, _cell.step_backward))
    REFERENCE.setdefault(f"check_{_cell.name}_forward", (_cell.forward,))
    REFERENCE.setdefault(f"check_{_cell.name}_backward", (_cell.forward, _cell.backward))

# Correct implementations written differently from the reference (dict and list caches, per-step loops,
# other operation orders): see tests/student_mistakes.py with mistake=None.
ALTERNATES = {
    "check_rnn_step_forward": [(sm.rnn_step_forward,)],
    "check_rnn_step_backward": [(sm.rnn_step_forward, sm.rnn_step_backward)],
    "check_rnn_forward": [(sm.rnn_forward,), (sm.rnn_forward_arr,)],
    "check_rnn_backward": [(sm.rnn_forward, sm.rnn_backward), (sm.rnn_forward_arr, sm.rnn_backward_arr)],
    "check_softmax": [(sm.softmax,)],
    "check_softmax_cross_entropy": [(sm.softmax_cross_entropy,)],
    "check_perplexity": [(sm.perplexity,)],
    "check_numerical_gradient": [(sm.numerical_gradient,)],
    "check_clip_by_value": [(sm.clip_by_value,)],
    "check_clip_by_global_norm": [(sm.clip_by_global_norm,)],
    "check_sample_index": [(sm.sample_index,)],
    "check_char_lm_loss": [(sm.char_lm_loss,)],
    "check_char_lm_train_step": [(sm.char_lm_train_step,)],
    "check_many_to_one_loss": [(sm.many_to_one_loss,)],
    "check_encoder_decoder_forward": [(sm.encoder_decoder_forward,)],
    "check_bidirectional_forward": [(sm.bidirectional_forward,)],
    "check_bidirectional_backward": [(sm.bidirectional_forward, sm.bidirectional_backward)],
    "check_stacked_rnn_forward": [(sm.stacked_rnn_forward,)],
    "check_stacked_rnn_backward": [(sm.stacked_rnn_forward, sm.stacked_rnn_backward)],
    "check_lstm_step_forward": [(sm.lstm_step_forward,)],
    "check_lstm_step_backward": [(sm.lstm_step_forward, sm.lstm_step_backward)],
    "check_lstm_forward": [(sm.lstm_forward,)],
    "check_lstm_backward": [(sm.lstm_forward, sm.lstm_backward)],
    "check_gru_step_forward": [(sm.gru_step_forward,)],
    "check_gru_step_backward": [(sm.gru_step_forward, sm.gru_step_backward)],
    "check_gru_forward": [(sm.gru_forward,)],
    "check_gru_backward": [(sm.gru_forward, sm.gru_backward)],
    "check_gru_cho_step_forward": [(sm.gru_cho_step_forward,)],
    "check_gru_cho_step_backward": [(sm.gru_cho_step_forward, sm.gru_cho_step_backward)],
    "check_gru_cho_forward": [(sm.gru_cho_forward,)],
    "check_gru_cho_backward": [(sm.gru_cho_forward, sm.gru_cho_backward)],
    "check_additive_attention_forward": [(sm.additive_attention_forward,)],
    "check_additive_attention_backward": [(sm.additive_attention_forward, sm.additive_attention_backward)],
    "check_attention_encoder_decoder_loss": [(sm.attention_encoder_decoder_loss,)],
    "check_attention_training": [(sm.attention_encoder_decoder_loss,)],
}


def m(fn, mistake):
    return P(fn, mistake=mistake)


# (check, student functions, substrings the message must contain: the culprit output and the diagnosis)
MISTAKES = [
    # vanilla RNN, one step
    ("check_rnn_step_forward", (m(sm.rnn_step_forward, "W_T"),), ["h is wrong", "W_hh.T"]),
    ("check_rnn_step_forward", (m(sm.rnn_step_forward, "no_tanh"),), ["h is wrong", "tanh is missing"]),
    ("check_rnn_step_forward", (m(sm.rnn_step_forward, "no_b"),), ["h is wrong", "bias b is missing"]),
    ("check_rnn_step_forward", (m(sm.rnn_step_forward, "sigmoid"),), ["h is wrong", "sigmoid"]),
    ("check_rnn_step_forward", (m(sm.rnn_step_forward, "relu"),), ["h is wrong", "ReLU"]),
    ("check_rnn_forward", (m(sm.rnn_forward, "with_h0"),),
     ["h has shape (5, 3, 4); expected (4, 3, 4)", "Likely cause: your h has T + 1 states"]),
    ("check_rnn_forward", (m(sm.rnn_forward, "last_only"),),
     ["h has shape (3, 4); expected (4, 3, 4)", "Likely cause: you returned only the last state"]),
    ("check_bidirectional_forward", (m(sm.bidirectional_forward, "axis0"),),
     ["h has shape (8, 3, 4); expected (4, 3, 8)", "along the time axis"]),
    ("check_rnn_step_backward", (sm.rnn_step_forward, m(sm.rnn_step_backward, "no_tanh")),
     ["dx is wrong", "missing the tanh derivative"]),
    ("check_rnn_step_backward", (sm.rnn_step_forward, m(sm.rnn_step_backward, "tanh_of_h")),
     ["dx is wrong", "h is already tanh(a)"]),
    ("check_rnn_step_backward", (sm.rnn_step_forward, m(sm.rnn_step_backward, "W_notT")),
     ["dh_prev is wrong", "W_hh.T", "right: dx, dU_xh, dW_hh, db"]),
    ("check_rnn_step_backward", (sm.rnn_step_forward, m(sm.rnn_step_backward, "dW_T")),
     ["dW_hh is wrong", "transposed"]),
    ("check_rnn_step_backward", (sm.rnn_step_forward, m(sm.rnn_step_backward, "db_not_summed")),
     ["db has shape (3, 4); expected (4,). It has an extra leading axis", "sum over the batch"]),
    ("check_rnn_step_backward", (sm.rnn_step_forward, m(sm.rnn_step_backward, "db_mean")),
     ["db is wrong", "db is averaged", "sum over the batch"]),
    ("check_rnn_step_backward", (m(sm.rnn_step_forward, "W_T"), sm.rnn_step_backward),
     ["Your rnn_step_forward", "fix it first"]),
    ("check_rnn_step_backward", (sm.rnn_step_forward, m(sm.rnn_step_backward, "four")),
     ["should return 5 values (dx, dh_prev, dU_xh, dW_hh, db); yours returned 4"]),
    ("check_rnn_step_backward", (sm.rnn_step_forward, m(sm.rnn_step_backward, "mutate_dh")),
     ["modified its input `dh` in place"]),
    # vanilla RNN, sequences
    ("check_rnn_forward", (m(sm.rnn_forward, "W_T"),), ["h is wrong", "W_hh.T"]),
    ("check_rnn_forward", (m(sm.rnn_forward, "alias"),), ["h is wrong", "same (last) state"]),
    ("check_rnn_forward", (m(sm.rnn_forward, "prev_h0"),), ["h is wrong", "every step starts from h0"]),
    ("check_rnn_forward", (m(sm.rnn_forward, "shifted"),), ["h is wrong", "shifted by one step"]),
    ("check_rnn_forward", (m(sm.rnn_forward, "reversed"),), ["h is wrong", "reads x from the end"]),
    ("check_rnn_forward", (m(sm.rnn_forward, "raise"),),
     ["Your rnn_forward raised ValueError: something the student wrote", "case 1 of 4:"]),
    ("check_rnn_backward", (sm.rnn_forward, m(sm.rnn_backward, "no_tanh")),
     ["dx is wrong", "missing the tanh derivative"]),
    ("check_rnn_backward", (sm.rnn_forward, m(sm.rnn_backward, "W_notT")),
     ["dx is wrong", "W_hh.T"]),
    ("check_rnn_backward", (sm.rnn_forward, m(sm.rnn_backward, "assign")),
     ["dU_xh is wrong", "only one time step's contribution", "+=", "right: dx, dh0"]),
    ("check_rnn_backward", (sm.rnn_forward_arr, m(sm.rnn_backward_arr, "only_last")),
     ["dU_xh is wrong", "only the last time step's contribution"]),
    ("check_rnn_backward", (sm.rnn_forward, m(sm.rnn_backward, "no_time_flow")),
     ["dx is wrong", "no gradient flows back through time"]),
    ("check_rnn_backward", (sm.rnn_forward, m(sm.rnn_backward, "forward_loop")),
     ["dx is wrong", "runs forward"]),
    ("check_rnn_backward", (sm.rnn_forward, m(sm.rnn_backward, "skip_last")),
     ["dx is wrong", "starts at T-2"]),
    ("check_rnn_backward", (sm.rnn_forward, m(sm.rnn_backward, "skip_first")),
     ["dx is wrong", "stops before t = 0"]),
    ("check_rnn_backward", (sm.rnn_forward_arr, m(sm.rnn_backward_arr, "h_wrap")),
     ["dW_hh is wrong", "h[-1]", "h0"]),
    ("check_rnn_backward", (sm.rnn_forward_arr, m(sm.rnn_backward_arr, "h_misaligned")),
     ["dW_hh is wrong", "misaligned"]),
    ("check_rnn_backward", (sm.rnn_forward_arr, m(sm.rnn_backward_arr, "dh_only_last")),
     ["dx is wrong", "add dh[t]"]),
    ("check_rnn_backward", (sm.rnn_forward_arr, m(sm.rnn_backward_arr, "db_mean")), ["db is wrong", "a sum over"]),
    ("check_rnn_backward", (sm.rnn_forward_arr, m(sm.rnn_backward_arr, "dh0_da")), ["dh0 is wrong", "W_hh.T"]),
    ("check_rnn_backward", (sm.rnn_forward, m(sm.rnn_backward, "db_not_summed")),
     ["db has shape (3, 4); expected (4,). It has an extra leading axis", "sum over the batch"]),
    ("check_rnn_backward", (m(sm.rnn_forward, "alias"), sm.rnn_backward), ["Your rnn_forward", "fix it first"]),
    # losses
    ("check_softmax", (m(sm.softmax, "unstable"),), ["softmax(o) is wrong", "NaN", "subtract each row's max"]),
    ("check_softmax", (m(sm.softmax, "global_max"),), ["softmax(o) is wrong", "max of the whole array"]),
    ("check_softmax", (m(sm.softmax, "axis0"),), ["softmax(o) is wrong", "axis 0"]),
    ("check_softmax", (P(lambda o: np.exp(o - o.max(-1, keepdims=True))),),
     ["softmax(o) is wrong", "does not sum to 1"]),
    ("check_softmax", (m(sm.softmax, "ignores_axis"),), ["softmax(o) is wrong", "ignores its `axis` argument"]),
    ("check_softmax", (m(sm.softmax, "max_last"),), ["softmax(o) is wrong", "max along the last axis"]),
    ("check_softmax", (P(lambda o: sm.softmax(o)),), ["raised TypeError", "keep that signature"]),
    ("check_softmax", (m(sm.softmax, "no_keepdims"),), ["raised ValueError", "keepdims=True"]),
    ("check_softmax_cross_entropy", (m(sm.softmax_cross_entropy, "unstable"),),
     ["loss is wrong", "subtract each row's max"]),
    ("check_softmax_cross_entropy", (m(sm.softmax_cross_entropy, "loss_mean_T"),),
     ["loss is wrong", "averaged over time too"]),
    ("check_softmax_cross_entropy", (m(sm.softmax_cross_entropy, "loss_sum_B"),),
     ["loss is wrong", "not averaged over the batch"]),
    ("check_softmax_cross_entropy", (m(sm.softmax_cross_entropy, "do_noB"),),
     ["do is wrong", "missing the 1/B", "right: loss"]),
    ("check_softmax_cross_entropy", (m(sm.softmax_cross_entropy, "sign"),), ["do is wrong", "wrong sign"]),
    ("check_softmax_cross_entropy", (m(sm.softmax_cross_entropy, "loss_sign"),), ["loss is wrong", "MINUS"]),
    ("check_perplexity", (m(sm.perplexity, "pow10"),), ["perplexity is wrong", "10 ** loss"]),
    ("check_clip_by_value", (m(sm.clip_by_value, "abs"),), ["clipped['", "signs are lost"]),
    ("check_lstm_step_forward", (m(sm.lstm_step_forward, "c_tanh"),), ["c is wrong", "returned tanh(c)"]),
    ("check_char_lm_loss", (m(sm.char_lm_loss, "db_y_mean_T"),),
     ["grads['b_y'] is wrong", "exactly 1/4 times the right value (T = 4 in this case)"]),
    ("check_perplexity", (m(sm.perplexity, "exp_neg"),), ["perplexity is wrong", "exp(-loss)"]),
    ("check_perplexity", (m(sm.perplexity, "pow2"),), ["perplexity is wrong", "nats"]),
    ("check_perplexity", (m(sm.perplexity, "array"),), ["should be a single number", ".item()"]),
    # numerical gradient
    ("check_numerical_gradient", (m(sm.numerical_gradient, "forward"),), ["gradient is wrong", "forward difference"]),
    ("check_numerical_gradient", (m(sm.numerical_gradient, "no_restore"),), ["did not restore x"]),
    ("check_numerical_gradient", (m(sm.numerical_gradient, "fixed_step"),),
     ["gradient is wrong", "ignored the argument h"]),
    ("check_numerical_gradient", (m(sm.numerical_gradient, "denominator_h"),), ["gradient is wrong", "2h"]),
    ("check_numerical_gradient", (m(sm.numerical_gradient, "copy"),), ["gradient is wrong", "not a copy"]),
    ("check_numerical_gradient", (m(sm.numerical_gradient, "minus_on_copy"),),
     ["gradient is wrong", "f saw x[i] + h at both evaluations", "Set x[i] = old - h"]),
    ("check_numerical_gradient", (m(sm.numerical_gradient, "minus_adds_up"),),
     ["gradient is wrong", "never x[i] - h"]),
    # clipping
    ("check_clip_by_value", (m(sm.clip_by_value, "in_place"),), ["modified its input `grads` in place"]),
    ("check_clip_by_value", (m(sm.clip_by_value, "upper_only"),), ["clipped['", "only the upper limit"]),
    ("check_clip_by_value", (m(sm.clip_by_value, "norm"),), ["clipped['", "clipped the norm of each tensor"]),
    ("check_clip_by_value", (m(sm.clip_by_value, "list"),), ["clipped should be a dict"]),
    ("check_clip_by_global_norm", (m(sm.clip_by_global_norm, "per_tensor"),),
     ["clipped['", "scaled by its own norm"]),
    ("check_clip_by_global_norm", (m(sm.clip_by_global_norm, "always"),), ["clipped['", "not above max_norm"]),
    ("check_clip_by_global_norm", (m(sm.clip_by_global_norm, "no_sqrt"),), ["square root"]),
    ("check_clip_by_global_norm", (m(sm.clip_by_global_norm, "norm_after"),), ["norm is wrong", "before clipping"]),
    ("check_clip_by_global_norm", (m(sm.clip_by_global_norm, "in_place"),), ["modified its input `grads`"]),
    # sampling
    ("check_sample_index", (m(sm.sample_index, "after_softmax"),), ["indices is wrong", "after the softmax"]),
    ("check_sample_index", (m(sm.sample_index, "times_t"),), ["indices is wrong", "multiplied the logits"]),
    ("check_sample_index", (m(sm.sample_index, "ge"),), ["indices is wrong", "strictly"]),
    ("check_sample_index", (m(sm.sample_index, "div0"),), ["indices is wrong", "greedy"]),
    ("check_sample_index", (m(sm.sample_index, "float"),), ["integer indices"]),
    ("check_sample_index", (m(sm.sample_index, "random"),), ["indices is wrong", "does not change when u changes"]),
    ("check_sample_index", (m(sm.sample_index, "own_rng"),), ["indices is wrong", "draws its own random numbers"]),
    ("check_sample_index", (m(sm.sample_index, "argmax_none"),), ["indices is wrong", "returns 0"]),
    ("check_sample_index", (m(sm.sample_index, "unguarded"),),
     ["indices is wrong", "an index equal to K", "np.minimum(k, K - 1)", "u a hair below 1"]),
    # char LM
    ("check_char_lm_loss", (m(sm.char_lm_loss, "loss_mean_T"),), ["loss is wrong", "averaged over time too"]),
    ("check_char_lm_loss", (m(sm.char_lm_loss, "loss_sum_B"),), ["loss is wrong", "not averaged over the batch"]),
    ("check_char_lm_loss", (m(sm.char_lm_loss, "no_tanh"),), ["grads['U_xh'] is wrong", "tanh derivative"]),
    ("check_char_lm_loss", (m(sm.char_lm_loss, "assign"),), ["grads['W_hh'] is wrong", "one time step"]),
    ("check_char_lm_loss", (m(sm.char_lm_loss, "h_first"),), ["h_last is wrong", "h[0]"]),
    ("check_char_lm_train_step", (m(sm.char_lm_train_step, "no_clip"),),
     ["new_params['", "not clipped"]),
    ("check_char_lm_train_step", (m(sm.char_lm_train_step, "clip_value"),),
     ["new_params['", "clipped by value"]),
    ("check_char_lm_train_step", (m(sm.char_lm_train_step, "in_place"),), ["modified its input `params`"]),
    ("check_char_lm_train_step", (m(sm.char_lm_train_step, "fixed_lr"),),
     ["new_params['", "as if the learning rate were 0.1 instead of the lr = 0.25 given"]),
    # architectures
    ("check_many_to_one_loss", (m(sm.many_to_one_loss, "first_state"),), ["loss is wrong", "h[0]"]),
    ("check_many_to_one_loss", (m(sm.many_to_one_loss, "sum_B"),), ["loss is wrong", "summed over the batch"]),
    ("check_many_to_one_loss", (m(sm.many_to_one_loss, "only_last"),),
     ["grads['U_xh'] is wrong", "only the last time step contributes"]),
    ("check_many_to_one_loss", (m(sm.many_to_one_loss, "no_time_flow"),),
     ["grads['U_xh'] is wrong", "flow back from there through every earlier step"]),
    ("check_encoder_decoder_forward", (m(sm.encoder_decoder_forward, "zeros"),), ["logits is wrong", "from zeros"]),
    ("check_encoder_decoder_forward", (m(sm.encoder_decoder_forward, "enc_weights"),),
     ["logits is wrong", "uses W_enc"]),
    ("check_encoder_decoder_forward", (m(sm.encoder_decoder_forward, "context_every_step"),),
     ["logits is wrong", "INITIAL state only"]),
    ("check_encoder_decoder_forward", (m(sm.encoder_decoder_forward, "enc_first"),), ["logits is wrong", "FIRST"]),
    ("check_encoder_decoder_forward", (m(sm.encoder_decoder_forward, "no_b_y"),), ["logits is wrong", "bias b_y"]),
    ("check_many_to_one_loss", (m(sm.many_to_one_loss, "dh_every_step"),),
     ["grads['U_xh'] is wrong", "enters at every time step"]),
    ("check_many_to_one_loss", (m(sm.many_to_one_loss, "grad_B"),), ["grads['U_xh'] is wrong", "B times too large"]),
    ("check_bidirectional_forward", (m(sm.bidirectional_forward, "same_params"),), ["h is wrong", "params_b"]),
    ("check_bidirectional_forward", (m(sm.bidirectional_forward, "same_h0"),), ["h is wrong", "h0_b"]),
    ("check_bidirectional_backward", (sm.bidirectional_forward, m(sm.bidirectional_backward, "dparams_swapped")),
     ["dparams_f[0] (dU_xh) is wrong", "swapped"]),
    ("check_bidirectional_backward", (sm.bidirectional_forward, m(sm.bidirectional_backward, "dx_forward_only")),
     ["dx is wrong", "only the forward cell's part"]),
    ("check_stacked_rnn_forward", (m(sm.stacked_rnn_forward, "all_layers"),),
     ["h has shape (2, 4, 3, 4); expected (4, 3, 4)", "Likely cause: you returned every layer's states"]),
    ("check_stacked_rnn_backward", (sm.stacked_rnn_forward, m(sm.stacked_rnn_backward, "dx_top")),
     ["dx has shape (4, 3, 4); expected (4, 3, 5)", "Likely cause: dx is the top layer's dx"]),
    ("check_stacked_rnn_backward", (sm.stacked_rnn_forward, m(sm.stacked_rnn_backward, "dh0s_top_only")),
     ["dh0s is wrong", "dh0s[0] is all zeros and the rest of dh0s is right"]),
    ("check_stacked_rnn_backward", (sm.stacked_rnn_forward, m(sm.stacked_rnn_backward, "dh0s_reversed")),
     ["dh0s is wrong", "top-to-bottom"]),
    ("check_encoder_decoder_forward", (m(sm.encoder_decoder_forward, "h0"),), ["logits is wrong", "starts from h0"]),
    ("check_bidirectional_forward", (m(sm.bidirectional_forward, "no_reverse_out"),),
     ["h is wrong", "flip its states back"]),
    ("check_bidirectional_forward", (m(sm.bidirectional_forward, "no_reverse_in"),),
     ["h is wrong", "reads the sequence forward"]),
    ("check_bidirectional_forward", (m(sm.bidirectional_forward, "swapped"),), ["h is wrong", "halves are swapped"]),
    ("check_bidirectional_backward", (sm.bidirectional_forward, m(sm.bidirectional_backward, "dh_not_reversed")),
     ["is wrong", "not reversed in time"]),
    ("check_bidirectional_backward", (sm.bidirectional_forward, m(sm.bidirectional_backward, "dx_not_reversed")),
     ["dx is wrong", "reversed time order", "right: dh0_f, dh0_b"]),
    ("check_stacked_rnn_forward", (m(sm.stacked_rnn_forward, "h0_0"),), ["h is wrong", "h0s[0]"]),
    ("check_stacked_rnn_forward", (m(sm.stacked_rnn_forward, "bottom"),), ["h is wrong", "bottom layer"]),
    ("check_stacked_rnn_forward", (m(sm.stacked_rnn_forward, "all_x"),), ["raised ValueError", "layers [[(5, 4)"]),
    ("check_stacked_rnn_backward", (sm.stacked_rnn_forward, m(sm.stacked_rnn_backward, "dlayers_reversed")),
     ["dlayers[0][0] (dU_xh)", "top-to-bottom"]),
    ("check_stacked_rnn_backward", (sm.stacked_rnn_forward, m(sm.stacked_rnn_backward, "same_dh")),
     ["dx is wrong", "dx of the layer above"]),
    # LSTM
    ("check_lstm_step_forward", (m(sm.lstm_step_forward, "order_ifog"),),
     ["h is wrong", "i, f, o, g (CS231n's order)", "PyTorch"]),
    ("check_lstm_step_forward", (m(sm.lstm_step_forward, "order_fiog"),), ["is wrong", "f, i, g, o"]),
    ("check_lstm_step_forward", (m(sm.lstm_step_forward, "no_tanh_c"),), ["h is wrong", "tanh of the cell state"]),
    ("check_lstm_step_backward", (sm.lstm_step_forward, m(sm.lstm_step_backward, "dcprev_no_dh")),
     ["dc_prev is wrong", "through h reaches c"]),
    ("check_lstm_step_backward", (sm.lstm_step_forward, m(sm.lstm_step_backward, "no_dc_in")),
     ["dx is wrong", "incoming dc"]),
    ("check_lstm_step_backward", (sm.lstm_step_forward, m(sm.lstm_step_backward, "order_ifog")),
     ["dx is wrong", "i, f, o, g"]),
    ("check_lstm_forward", (m(sm.lstm_forward, "c_not_carried"),), ["h is wrong", "starts from c0"]),
    ("check_lstm_forward", (m(sm.lstm_forward, "order_ifog"),), ["h is wrong", "i, f, o, g"]),
    ("check_lstm_backward", (sm.lstm_forward, m(sm.lstm_backward, "no_dc_flow")),
     ["is wrong", "no gradient flows back through the cell state"]),
    ("check_lstm_backward", (sm.lstm_forward, m(sm.lstm_backward, "dcprev_no_dh")), ["is wrong", "reaches c too"]),
    ("check_lstm_backward", (sm.lstm_forward, m(sm.lstm_backward, "assign")), ["dWx is wrong", "one time step"]),
    ("check_lstm_step_backward", (sm.lstm_step_forward, m(sm.lstm_step_backward, "no_dh_in_dc")),
     ["dx is wrong", "the gradient through h never reaches c"]),
    ("check_lstm_step_backward", (sm.lstm_step_forward, m(sm.lstm_step_backward, "tanh_c_in_f")),
     ["dx is wrong", "forget gate's term uses tanh(c)", "c_prev"]),
    ("check_lstm_step_backward", (sm.lstm_step_forward, m(sm.lstm_step_backward, "dc_in_o")),
     ["dx is wrong", "output gate's term uses dc", "sees only dh"]),
    ("check_lstm_step_backward", (sm.lstm_step_forward, m(sm.lstm_step_backward, "g_sigmoid_grad")),
     ["dx is wrong", "1 - g**2"]),
    ("check_lstm_step_backward", (sm.lstm_step_forward, m(sm.lstm_step_backward, "dcprev_no_f")),
     ["dc_prev is wrong", "missing the forget gate"]),
    ("check_lstm_backward", (sm.lstm_forward, m(sm.lstm_backward, "dcprev_no_f")),
     ["is wrong", "missing the forget gate", "fix lstm_step_backward first"]),
    ("check_lstm_step_backward", (sm.lstm_step_forward, m(sm.lstm_step_backward, "dx_no_o")),
     ["dx is wrong", "The gate gradients are right (db agrees with the reference)", "dx = da @ Wx.T"]),
    ("check_lstm_step_backward", (sm.lstm_step_forward, m(sm.lstm_step_backward, "c_in_f")),
     ["dx is wrong", "in db, the gate block f (columns [H:2H]) is wrong and i, g, o are right",
      "forget gate (f)", "da_f = dc_total * c_prev"]),
    ("check_lstm_backward", (sm.lstm_forward, m(sm.lstm_backward, "no_dh_in_dc")),
     ["is wrong", "never reaches c", "fix lstm_step_backward first"]),
    ("check_lstm_backward", (sm.lstm_forward, m(sm.lstm_backward, "tanh_c_in_f")),
     ["is wrong", "uses tanh(c)", "fix lstm_step_backward first"]),
    ("check_lstm_backward", (sm.lstm_forward, m(sm.lstm_backward, "dc_in_o")),
     ["is wrong", "uses dc", "fix lstm_step_backward first"]),
    ("check_lstm_backward", (sm.lstm_forward, m(sm.lstm_backward, "c_in_f")),
     ["is wrong", "even in the T=1 case", "fix lstm_step_backward first", "forget gate (f)"]),
    ("check_lstm_backward", (sm.lstm_forward, m(sm.lstm_backward, "no_dc_in")),
     ["is wrong", "drops its dc argument"]),
    ("check_lstm_forward", (m(sm.lstm_forward, "return_c"),), ["h is wrong", "returned the cell states c"]),
    ("check_lstm_forward", (m(sm.lstm_forward, "reversed_out"),), ["h is wrong", "reversed time order"]),
    ("check_lstm_backward", (sm.lstm_forward, m(sm.lstm_backward, "dc0_zeros")),
     ["dc0 is wrong", "only dc0 is wrong", "dc0 is all zeros"]),
    ("check_gru_forward", (m(sm.gru_forward, "shifted"),), ["h is wrong", "shifted by one step"]),
    ("check_bidirectional_backward", (sm.bidirectional_forward, m(sm.bidirectional_backward, "dh0_swapped")),
     ["dh0_f is wrong", "dh0_f and dh0_b are swapped"]),
    ("check_lstm_forward", (m(sm.lstm_forward, "h_not_carried"),), ["h is wrong", "every step starts from h0"]),
    ("check_lstm_backward", (sm.lstm_forward, m(sm.lstm_backward, "forward_loop")), ["dx is wrong", "runs forward"]),
    ("check_lstm_backward", (sm.lstm_forward, m(sm.lstm_backward, "dh_only_last")), ["dx is wrong", "add dh[t]"]),
    ("check_lstm_backward", (sm.lstm_forward, m(sm.lstm_backward, "no_time_flow")),
     ["dx is wrong", "no gradient flows back through time"]),
    # GRU
    ("check_gru_forward", (m(sm.gru_forward, "not_carried"),), ["h is wrong", "every step starts from h0"]),
    ("check_gru_backward", (sm.gru_forward, m(sm.gru_backward, "forward_loop")), ["dx is wrong", "runs forward"]),
    ("check_gru_backward", (sm.gru_forward, m(sm.gru_backward, "dh_only_last")), ["dx is wrong", "add dh[t]"]),
    ("check_gru_step_backward", (sm.gru_step_forward, m(sm.gru_step_backward, "z_sign")),
     ["dx is wrong", "sign of dz is flipped"]),
    ("check_gru_step_backward", (sm.gru_step_forward, m(sm.gru_step_backward, "dr_no_ghn")),
     ["dx is wrong", "reset gate's term is missing what r multiplies"]),
    ("check_gru_step_backward", (sm.gru_step_forward, m(sm.gru_step_backward, "z_new_h")),
     ["dx is wrong", "in dbx, the gate block z (columns [H:2H]) is wrong and r, n are right", "update gate (z)"]),
    ("check_gru_backward", (sm.gru_forward, m(sm.gru_backward, "dr_no_ghn")),
     ["is wrong", "what r multiplies", "fix gru_step_backward first"]),
    ("check_gru_backward", (sm.gru_forward, m(sm.gru_backward, "z_new_h")),
     ["is wrong", "even in the T=1 case", "fix gru_step_backward first", "update gate (z)"]),
    ("check_gru_step_forward", (m(sm.gru_step_forward, "reset_before"),), ["h is wrong", "before the matrix product"]),
    ("check_gru_step_forward", (m(sm.gru_step_forward, "z_swapped"),), ["h is wrong", "roles are swapped"]),
    ("check_gru_step_backward", (sm.gru_step_forward, m(sm.gru_step_backward, "no_direct")),
     ["dh_prev is wrong", "direct path"]),
    ("check_gru_step_backward", (sm.gru_step_forward, m(sm.gru_step_backward, "no_tanh")),
     ["dx is wrong", "tanh derivative"]),
    ("check_gru_step_backward", (sm.gru_step_forward, m(sm.gru_step_backward, "dah_no_r")),
     ["dh_prev is wrong", "multiplied by r"]),
    ("check_gru_forward", (m(sm.gru_forward, "reset_before"),), ["h is wrong", "before the matrix product"]),
    ("check_gru_backward", (sm.gru_forward, m(sm.gru_backward, "no_time_flow")),
     ["dx is wrong", "no gradient flows back through time"]),
    ("check_gru_backward", (sm.gru_forward, m(sm.gru_backward, "assign")), ["dWx is wrong", "one time step"]),
    ("check_gru_backward", (sm.gru_forward, m(sm.gru_backward, "no_direct")), ["dx is wrong", "direct path"]),
    # Cho et al.'s GRU: a registered cell whose checks and diagnoses come from the registry and its mistakes module
    ("check_gru_cho_step_forward", (m(sm.gru_cho_step_forward, "reset_after"),),
     ["h is wrong", "reset gate after the matrix product"]),
    ("check_gru_cho_step_forward", (m(sm.gru_cho_step_forward, "z_swapped"),), ["h is wrong", "roles are swapped"]),
    ("check_gru_cho_forward", (m(sm.gru_cho_forward, "not_carried"),), ["h is wrong", "every step starts from h0"]),
    ("check_gru_cho_forward", (m(sm.gru_cho_forward, "reset_after"),),
     ["h is wrong", "reset gate after the matrix product", "fix gru_cho_step_forward first"]),
    ("check_gru_cho_step_backward", (sm.gru_cho_step_forward, m(sm.gru_cho_step_backward, "dWhn_hprev")),
     ["dWh is wrong", "(r * h_prev).T @ da_n"]),
    ("check_gru_cho_step_backward", (sm.gru_cho_step_forward, m(sm.gru_cho_step_backward, "drh_no_r")),
     ["dh_prev is wrong", "multiplied by r"]),
    ("check_gru_cho_step_backward", (sm.gru_cho_step_forward, m(sm.gru_cho_step_backward, "no_direct")),
     ["dh_prev is wrong", "direct path"]),
    ("check_gru_cho_step_backward", (sm.gru_cho_step_forward, m(sm.gru_cho_step_backward, "no_tanh")),
     ["is wrong", "tanh"]),
    ("check_gru_cho_backward", (sm.gru_cho_forward, m(sm.gru_cho_backward, "assign")), ["dWx is wrong", "one time step"]),
    ("check_gru_cho_backward", (sm.gru_cho_forward, m(sm.gru_cho_backward, "no_time_flow")),
     ["is wrong", "no gradient flows back through time"]),
    ("check_gru_cho_backward", (sm.gru_cho_forward, m(sm.gru_cho_backward, "forward_loop")), ["is wrong", "runs forward"]),
    ("check_gru_cho_backward", (sm.gru_cho_forward, m(sm.gru_cho_backward, "drh_no_r")),
     ["is wrong", "multiplied by r", "fix gru_cho_step_backward first"]),
    # attention
    ("check_additive_attention_forward", (m(sm.additive_attention_forward, "softmax_batch"),),
     ["context is wrong", "softmax runs over the batch", "axis 0"]),
    ("check_additive_attention_forward", (m(sm.additive_attention_forward, "no_s"),),
     ["context is wrong", "ignore the decoder state s"]),
    ("check_additive_attention_backward", (sm.additive_attention_forward, m(sm.additive_attention_backward,
                                                                             "no_direct")),
     ["dh_enc is wrong", "direct gradient of the context", "right: ds, dW_s, dW_h, dv"]),
    ("check_additive_attention_backward", (sm.additive_attention_forward, m(sm.additive_attention_backward,
                                                                             "softmax_no_sub")),
     ["ds is wrong", "sum_i alpha_i * dalpha_i"]),
    ("check_additive_attention_backward", (m(sm.additive_attention_forward, "softmax_batch"),
                                           sm.additive_attention_backward),
     ["Your additive_attention_forward", "fix it first"]),
    ("check_attention_encoder_decoder_loss", (m(sm.attention_encoder_decoder_loss, "no_direct"),),
     ["grads['U_enc'] is wrong", "direct gradient"]),
    ("check_attention_encoder_decoder_loss", (m(sm.attention_encoder_decoder_loss, "no_dec_init"),),
     ["grads['U_enc'] is wrong", "dh_enc[-1] += dh_dec0"]),
    ("check_attention_encoder_decoder_loss", (m(sm.attention_encoder_decoder_loss, "no_att_ds"),),
     ["grads['U_enc'] is wrong", "s_t also feeds the attention"]),
    ("check_attention_training", (m(sm.attention_encoder_decoder_loss, "ascent"),),
     ["of the test digits in the right place", "at least 90% expected"]),
    ("check_attention_training", (m(sm.attention_encoder_decoder_loss, "frozen_attention"),),
     ["of the test digits in the right place", "at least 90% expected"]),
]


def _id(item):
    chk, fns, _ = item
    last = fns[-1]
    return f"{chk[6:]}-{getattr(last, 'keywords', {}).get('mistake', 'forward')}"


def test_every_check_exists_with_the_documented_signature():
    import inspect
    for name in REFERENCE:
        params = list(inspect.signature(getattr(ck, name)).parameters.values())
        assert params[-1].name == "hidden" and params[-1].default is False, name
        assert len(params) == len(REFERENCE[name]) + 1, name
    # one check per graded function, the training run, the guard, and the helper that rebuilds a case
    assert sorted(ck.__all__) == sorted([*REFERENCE, "check_own_work", "check_char_lm_training", "case_inputs"])


@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_check_accepts_the_reference(name, hidden):
    assert getattr(ck, name)(*REFERENCE[name], hidden=hidden) is None


@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize("name,fns", [(n, f) for n, fs in sorted(ALTERNATES.items()) for f in fs],
                         ids=[f"{n[6:]}-{i}" for n, fs in sorted(ALTERNATES.items()) for i in range(len(fs))])
def test_check_accepts_a_correct_implementation_written_differently(name, fns, hidden):
    assert getattr(ck, name)(*fns, hidden=hidden) is None


@pytest.mark.parametrize("item", MISTAKES, ids=[_id(i) for i in MISTAKES])
def test_check_rejects_a_mistake_and_names_the_culprit(item):
    name, fns, expected = item
    with pytest.raises(AssertionError) as e:
        getattr(ck, name)(*fns)
    msg = str(e.value)
    assert msg.startswith(name + ":"), msg
    flat = " ".join(msg.split())  # messages are wrapped at 88 characters
    for s in expected:
        assert s in flat, f"{s!r} not in:\n{msg}"
    assert "Traceback" not in msg


@pytest.mark.parametrize("item", [i for i in MISTAKES if "fix it first" not in " ".join(i[2])],
                         ids=[_id(i) for i in MISTAKES if "fix it first" not in " ".join(i[2])])
def test_hidden_set_rejects_the_mistake_too(item):
    name, fns, _ = item
    with pytest.raises(AssertionError):
        getattr(ck, name)(*fns, hidden=True)


def _stub(*args, **kwargs):
    raise NotImplementedError


def _none(*args, **kwargs):
    return None


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_an_unfilled_stub_gives_one_clear_sentence(name):
    fns = REFERENCE[name]
    for bad, words in ((_stub, "not implemented yet"), (_none, "returned None")):
        student = fns[:-1] + (bad,)
        with pytest.raises(AssertionError) as e:
            getattr(ck, name)(*student)
        msg = str(e.value)
        assert words in " ".join(msg.split()) and "Traceback" not in msg, msg
        assert len(msg.splitlines()) <= 3, msg


@pytest.mark.parametrize("name", [n for n in sorted(REFERENCE) if n.endswith("backward")])
def test_a_backward_check_reports_an_unfilled_forward_first(name):
    with pytest.raises(AssertionError) as e:
        getattr(ck, name)(_stub, REFERENCE[name][1])
    assert "not implemented yet" in flat(e.value) and "forward" in flat(e.value)


@pytest.mark.parametrize("mistake,words", [
    ("float32", "dtype float32; expected float64"),
    ("int", "integer dtype"),
    ("transposed_out", "h has shape (4, 3); expected (3, 4). It looks transposed"),
    ("only_h", "should return 2 values (h, cache); yours returned an array of shape (3, 4)"),
    ("none", "returned None"),
    ("stub", "not implemented yet"),
])
def test_wrong_shapes_dtypes_and_arity_are_named(mistake, words):
    with pytest.raises(AssertionError) as e:
        ck.check_rnn_step_forward(m(sm.rnn_step_forward, mistake))
    assert words in flat(e.value), str(e.value)


def test_a_wrong_step_function_that_prints_passes_or_fails_quietly(capfd):
    assert ck.check_rnn_step_forward(m(sm.rnn_step_forward, "print")) is None
    assert ck.check_rnn_step_forward(m(sm.rnn_step_forward, "stderr")) is None
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_checks_write_nothing_to_stderr_even_when_numpy_warns(capfd):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # as a notebook would show them
        with pytest.raises(AssertionError) as e:
            ck.check_softmax(m(sm.softmax, "unstable"))
        with pytest.raises(AssertionError):
            ck.check_softmax_cross_entropy(m(sm.softmax_cross_entropy, "unstable"), hidden=True)
        with pytest.raises(AssertionError):
            ck.check_sample_index(m(sm.sample_index, "div0"))
    out, err = capfd.readouterr()
    assert err == "" and out == ""
    assert "numpy warned" in flat(e.value) and "overflow" in flat(e.value)


def test_checks_do_not_modify_the_callers_arrays():
    # the student's function gets copies: one that scribbles on its inputs is reported, and the cases stay intact
    def scribble(x, h_prev, U_xh, W_hh, b):
        h = np.tanh(x @ U_xh + h_prev @ W_hh + b)
        W_hh[...] = 0
        return h, None
    with pytest.raises(AssertionError) as e:
        ck.check_rnn_step_forward(scribble)
    assert "modified its input `W_hh` in place" in flat(e.value)
    assert ck.check_rnn_step_forward(rr.rnn_step_forward) is None


def test_a_special_case_that_passes_is_mentioned():
    # a batch-handling mistake that B=1 cannot see: the message says the B=1 case agrees
    def bwd(dh, cache):
        dx, dhp, dU, dW, db = rr.rnn_backward(dh, cache)
        return dx, dhp, dU, dW, db * (1 + 0.1 * (dh.shape[1] - 1))
    with pytest.raises(AssertionError) as e:
        ck.check_rnn_backward(rr.rnn_forward, bwd)
    assert "db is wrong" in flat(e.value) and "B=1 case" in flat(e.value)


def test_every_hypothesis_differs_from_the_reference_somewhere():
    # a hypothesis equal to the reference would blame a right answer
    from rnn_ref.checks import engine as C
    for name, fns in REFERENCE.items():
        if name in ("check_numerical_gradient", "check_attention_training"):   # not comparisons with hypotheses
            continue
        getattr(ck, name)(*fns)
        spec = C.SPECS[name]
        cases = spec.cases(False) + spec.cases(True)
        for hname, hyp, _ in spec.hyps:
            differs = False
            for c in cases:
                out = C.silently(hyp, c)
                if out is None:
                    continue
                if isinstance(out, C.Predicate):  # a property: never true of a right answer
                    assert not any(out.test(v) for v in C._leaves_of(spec.ref(c), spec).values()), (name, hname)
                    differs = True
                    continue
                L, R = C._leaves_of(out, spec), C._leaves_of(spec.ref(c), spec)
                differs |= any(not C.close(R[p], L[p]) for p in R if p in L)
            assert differs, (name, hname)


def test_a_wrong_function_that_prints_gets_its_print_mentioned(capfd):
    def noisy(x, h_prev, U_xh, W_hh, b):
        print("debugging", x.shape)
        return np.tanh(x @ U_xh + h_prev @ W_hh.T + b), None
    with pytest.raises(AssertionError) as e:
        ck.check_rnn_step_forward(noisy)
    assert "W_hh.T" in flat(e.value) and "your function printed output" in flat(e.value)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_a_right_function_that_warns_passes_silently(capfd):
    def warns(o, axis=-1):
        np.exp(np.array([1e4]))  # overflows, harmlessly
        return rr.softmax(o, axis)
    assert ck.check_softmax(warns, hidden=True) is None
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_a_list_where_an_array_is_expected_is_named():
    def bwd(dh, cache):
        dx, dh0s, dlayers = rr.stacked_rnn_backward(dh, cache)
        return dx, list(dh0s), dlayers
    with pytest.raises(AssertionError) as e:
        ck.check_stacked_rnn_backward(rr.stacked_rnn_forward, bwd)
    assert "dh0s should be one numpy array of shape (2, 3, 4)" in flat(e.value) and "np.stack" in flat(e.value)


def test_a_function_that_is_not_callable_is_named():
    with pytest.raises(AssertionError) as e:
        ck.check_softmax(None)
    assert "expected your function softmax, but it got None" in flat(e.value)


@pytest.mark.parametrize("change,words", [
    (lambda g: g[:4] + (np.zeros_like(g[4]),), ["db is wrong", "db is all zeros"]),       # a dropped bias gradient
    (lambda g: g[:3] + (2 * g[3], g[4]), ["dW_hh is wrong", "exactly 2 times"]),
    (lambda g: g[:3] + (g[3].T, g[4]), ["dW_hh is wrong", "transpose"]),
])
def test_generic_descriptions_of_a_wrong_output(change, words):
    def bwd(dh, cache):
        return change(tuple(rr.rnn_backward(dh, cache)))
    with pytest.raises(AssertionError) as e:
        ck.check_rnn_backward(rr.rnn_forward, bwd)
    for w in words:
        assert w in flat(e.value), str(e.value)


# ----------------------------------------------------------------------------------------- check_own_work
def _named(name, fn):
    fn.__name__ = name
    return fn


def test_check_own_work_rejects_the_reference_handed_in():
    import rnn_ref
    from rnn_ref import rnn_forward as aliased
    from rnn_ref.checks import check_own_work

    def wrapper(x, h0, U_xh, W_hh, b):
        return rnn_ref.rnn_forward(x, h0, U_xh, W_hh, b)

    def via_alias(*args):
        return aliased(*args)

    def imports_inside(*args):
        import rnn_ref as rr
        return rr.rnn_forward(*args)

    cheats = {"itself": rnn_ref.rnn_forward, "wrapper": _named("rnn_forward", wrapper),
              "alias": _named("rnn_forward", via_alias), "import inside": _named("rnn_forward", imports_inside)}
    for how, f in cheats.items():
        with pytest.raises(AssertionError, match="rnn_ref.rnn_forward"):
            check_own_work(f)
        print(how, "rejected")



def test_check_own_work_accepts_own_code_that_uses_other_reference_pieces():
    import rnn_ref
    from rnn_ref.checks import check_own_work

    def rnn_forward(x, h0, U_xh, W_hh, b):          # the student's own loop over rnn_ref's step
        hs, h = [], h0
        for x_t in x:
            h, _ = rnn_ref.rnn_step_forward(x_t, h, U_xh, W_hh, b)
            hs.append(h)
        return np.stack(hs), None

    def not_in_rnn_ref(x):                            # a name rnn_ref does not have: nothing to compare
        return x

    assert check_own_work(rnn_forward, not_in_rnn_ref) is None
    assert check_own_work(sm.rnn_backward) is None


def test_a_temperature_multiplied_gets_one_cause_not_two():
    with pytest.raises(AssertionError) as e:
        ck.check_sample_index(m(sm.sample_index, "times_t"))
    msg = flat(e.value)
    assert msg.count("Likely cause") == 1 and "multiplied the logits" in msg and "ignored" not in msg, msg


# ------------------------------------------------------------------------------------------------ own pieces
_NOTEBOOK = '''
import numpy as np
import rnn_ref

def clip_by_global_norm(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    scale = max_norm / norm if norm > max_norm else 1.0
    return {{name: g * scale for name, g in grads.items()}}, norm

def char_lm_train_step(params, inputs, targets, h0, lr, max_norm):
    loss, grads, h_last = rnn_ref.char_lm_loss(params, inputs, targets, h0)
    grads, _ = {clip}(grads, max_norm)
    return {{k: params[k] - lr * grads[k] for k in params}}, loss, h_last
'''


def _notebook_step(clip, prelude=""):
    """char_lm_train_step as a notebook defines it (module-level names in one namespace)."""
    ns = {"__name__": "__main__"}
    src = _NOTEBOOK.format(clip=clip)
    if prelude:
        src = src.replace("    loss, grads", f"    {prelude}\n    loss, grads")
    exec(compile(src, "<notebook>", "exec"), ns)
    return ns["char_lm_train_step"], ns


@pytest.mark.parametrize("clip,prelude", [
    ("rnn_ref.clip_by_global_norm", ""),
    ("cg", "from rnn_ref import clip_by_global_norm as cg"),
    ("rr.clip_by_global_norm", "import rnn_ref as rr"),
    ("rnn_ref.training.clip.clip_by_global_norm", ""),
])
def test_a_step_that_clips_with_rnn_refs_clip_is_told_to_use_its_own(clip, prelude):
    step, _ = _notebook_step(clip, prelude)
    for check in (ck.check_char_lm_train_step, ck.check_own_work):
        with pytest.raises(AssertionError) as e:
            check(step)
        assert "calls rnn_ref.clip_by_global_norm" in flat(e.value) and "YOUR clip_by_global_norm" in flat(e.value)


def test_a_step_whose_own_clip_wraps_rnn_refs_is_told_too():
    step, ns = _notebook_step("clip_by_global_norm")
    exec("def clip_by_global_norm(grads, max_norm):\n    return rnn_ref.clip_by_global_norm(grads, max_norm)\n", ns)
    with pytest.raises(AssertionError, match="calls rnn_ref.clip_by_global_norm"):
        ck.check_own_work(step)


def test_a_step_with_its_own_clip_and_rnn_refs_loss_passes():
    step, ns = _notebook_step("clip_by_global_norm")
    assert ck.check_char_lm_train_step(step) is None
    assert ck.check_char_lm_train_step(step, hidden=True) is None
    assert ck.check_own_work(step, ns["clip_by_global_norm"]) is None


# ------------------------------------------------------------------------------------------------ training run
@pytest.mark.parametrize("step", [rr.char_lm_train_step, sm.char_lm_train_step], ids=["reference", "student"])
@pytest.mark.parametrize("hidden", [False, True])
def test_the_training_run_passes_a_right_step_and_prints_nothing(step, hidden, capfd):
    assert ck.check_char_lm_training(step, hidden=hidden) is None
    out, err = capfd.readouterr()
    assert out == "" and err == ""


@pytest.mark.parametrize("mistake,words", [
    ("in_place", ["at training step 1 of", "modified its input `params` in place"]),
    ("per_tensor", ["Likely cause: you clipped each tensor by its own norm", "new_params['U_xh'] is wrong"]),
    ("no_clip", ["Likely cause: the gradients were not clipped", "clip_by_global_norm", "new_params['U_xh'] is wrong"]),
    ("clip_value", ["Clipping each entry by value is not the same"]),
    ("ascent", ["goes uphill"]),
    ("big_lr_no_clip", ["the training blew up", "Gradient clipping"]),
    ("fixed_lr", ["the loss fell", "as if the learning rate were 0.1 instead of the lr = 0.5 given"]),
    ("tiny_lr", ["the loss barely fell", "as if the learning rate were 0.001 instead of the lr = 0.5 given"]),
    ("stub", ["char_lm_train_step is not implemented yet"]),
])
def test_the_training_run_fails_a_wrong_step_with_its_cause(mistake, words, capfd):
    if mistake == "stub":
        def step(*args):
            raise NotImplementedError
    else:
        step = m(sm.char_lm_train_step, mistake)
    for hidden in (False, True):
        with pytest.raises(AssertionError) as e:
            ck.check_char_lm_training(step, hidden=hidden)
        msg = flat(e.value)
        assert msg.startswith("check_char_lm_training:"), msg
        for w in words:
            assert w in msg, f"{w!r} not in:\n{e.value}"
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_a_diverging_run_names_clipping():
    def exploding(params, inputs, targets, h0, lr, max_norm):   # no clipping, a step far too long
        loss, grads, h = rr.char_lm_loss(params, inputs, targets, h0)
        return {k: params[k] - 1e6 * grads[k] for k in params}, loss, h
    with pytest.raises(AssertionError) as e:
        ck.check_char_lm_training(exploding)
    msg = flat(e.value)
    assert ("diverged" in msg or "blew up" in msg) and "clip by the global norm" in msg, msg


def test_a_gradient_left_at_plus_h_is_not_blamed_on_a_copy():
    with pytest.raises(AssertionError) as e:
        ck.check_numerical_gradient(m(sm.numerical_gradient, "minus_on_copy"))
    assert "never saw" not in flat(e.value) and "x[i] + h at both evaluations" in flat(e.value)


# ------------------------------------------------------------------------------------------------ message format
def _all_wrong_calls():
    """(check, student functions) for every planted mistake, every stub and None-returner, a few shapes."""
    calls = [(name, fns) for name, fns, _ in MISTAKES]
    for name, fns in REFERENCE.items():
        calls += [(name, fns[:-1] + (bad,)) for bad in (_stub, _none)]
    calls += [("check_rnn_step_forward", (m(sm.rnn_step_forward, k),))
              for k in ("float32", "int", "transposed_out", "only_h")]
    calls += [("check_char_lm_training", (m(sm.char_lm_train_step, k),)) for k in ("in_place", "per_tensor", "no_clip")]
    calls += [("check_char_lm_training", (_stub,))]
    return calls


def _message_of(name, fns, hidden):
    try:
        getattr(ck, name)(*fns, hidden=hidden)
    except AssertionError as e:
        return str(e)
    return None


@pytest.mark.parametrize("hidden", [False, True])
def test_every_message_fits_88_columns_and_names_the_cause_early(hidden):
    """nbgrader validate cuts lines at about 90 characters: no line of any message is longer than 88, and a
    likely cause, when there is one, starts within the first 4 lines."""
    seen = 0
    for name, fns in _all_wrong_calls():
        msg = _message_of(name, fns, hidden)
        if msg is None:
            continue
        seen += 1
        lines = msg.splitlines()
        assert all(len(line) <= 88 for line in lines), (name, max(lines, key=len))
        first = next((i for i, line in enumerate(lines) if line.lstrip().startswith("Likely cause")), None)
        assert first is None or first < 4, f"{name}: 'Likely cause' on line {first + 1}:\n{msg}"
        assert lines[0].startswith(name + ":"), msg
        assert all(not line.strip() == "" for line in lines), msg
    assert seen >= 150


def test_check_own_work_messages_fit_88_columns_too():
    import rnn_ref
    step, _ = _notebook_step("rnn_ref.clip_by_global_norm")
    for f in (rnn_ref.rnn_forward, _named("rnn_forward", lambda *a: rnn_ref.rnn_forward(*a)), step):
        with pytest.raises(AssertionError) as e:
            ck.check_own_work(f)
        assert all(len(line) <= 88 for line in str(e.value).splitlines()), str(e.value)


def test_a_long_line_is_wrapped_with_its_indentation():
    from rnn_ref.checks.engine import wrap_message
    text = "check_x: " + "word " * 40 + "\n  Likely cause: " + "cause " * 30
    out = wrap_message(text)
    assert all(len(line) <= 88 for line in out.splitlines())
    assert " ".join(out.split()) == " ".join(text.split())
    cont = [line for line in out.splitlines()[1:] if not line.startswith("  Likely")]
    assert all(line.startswith("  ") for line in cont)
    assert wrap_message("short\n  line") == "short\n  line"


# ------------------------------------------------------------------------------------------------ case_inputs
def test_case_inputs_rebuilds_the_case_a_message_names():
    with pytest.raises(AssertionError) as e:
        ck.check_rnn_backward(sm.rnn_forward, m(sm.rnn_backward, "no_tanh"))
    msg = flat(e.value)
    import re
    n = int(re.search(r"case (\d+) of \d+:", msg).group(1))
    assert f"Rebuild it with rnn_ref.checks.case_inputs('check_rnn_backward', {n})." in msg
    inputs = ck.case_inputs("check_rnn_backward", n)
    assert list(inputs) == ["x", "h0", "U_xh", "W_hh", "b", "dh"]
    dh = inputs.pop("dh")
    h, cache = sm.rnn_forward(**inputs)
    mine = sm.rnn_backward(dh, cache, mistake="no_tanh")
    right = rr.rnn_backward(dh, rr.rnn_forward(**inputs)[1])
    assert rr.rel_error(mine[0], right[0]) > 1e-3  # the rebuilt case shows the same wrong dx
    assert np.allclose(sm.rnn_backward(dh, cache)[0], right[0])


@pytest.mark.parametrize("name", sorted(set(REFERENCE) - {"check_attention_training"}))  # a run, not cases
def test_case_inputs_gives_the_inputs_of_every_visible_case(name):
    from rnn_ref.checks import engine as C
    getattr(ck, name)(*REFERENCE[name])
    if name == "check_numerical_gradient":
        from rnn_ref.checks.mistakes import gradcheck as hy
        for i, case in enumerate(hy._ng_cases(False), 1):
            got = ck.case_inputs(name, i)
            assert np.array_equal(got["x"], case.arg("x")) and got["h"] == case.arg("h")
            assert got["f"]() == hy._ng_func(case.arg("x"), case.extra["w"])()  # f reads the returned x
            got["x"] += 1.0
            assert got["f"]() != hy._ng_func(case.arg("x"), case.extra["w"])()
        return
    cases = C.SPECS[name].cases(False)
    for i, case in enumerate(cases, 1):
        got = ck.case_inputs(name, i)
        assert list(got) == [k for k, _ in case.args + case.dargs]
        assert all(C.same_tree(v, got[k]) for k, v in case.args + case.dargs), (name, i)
        got_again = ck.case_inputs(name, i)
        for v in got.values():  # fresh copies: changing one leaves the next call alone
            if isinstance(v, np.ndarray):
                v[...] = 0
        assert all(C.same_tree(v, got_again[k]) for k, v in case.args + case.dargs)
    with pytest.raises(ValueError, match="hidden"):
        ck.case_inputs(name, len(cases) + 1)


def test_case_inputs_refuses_unknown_checks_and_bad_numbers():
    with pytest.raises(ValueError, match="check_name"):
        ck.case_inputs("check_nothing", 1)
    with pytest.raises(ValueError, match="case_number"):
        ck.case_inputs("check_rnn_forward", 0)
    with pytest.raises(ValueError, match="case_number"):
        ck.case_inputs("check_rnn_forward", "1")


def test_a_hidden_case_promises_no_rebuild():
    with pytest.raises(AssertionError) as e:
        ck.check_rnn_backward(sm.rnn_forward, m(sm.rnn_backward, "no_tanh"), hidden=True)
    assert "case_inputs" not in str(e.value) and "seed 1" in str(e.value)


# ------------------------------------------------------------------------------------------------ generic notes
def test_a_wrong_number_is_not_called_a_multiple_of_the_right_one_by_default():
    # any wrong number is SOME multiple of the right one: "exactly 1.38 times" would say nothing true of the mistake
    with pytest.raises(AssertionError) as e:
        ck.check_perplexity(lambda loss: float(np.exp(loss)) + 1.0)
    assert "times the right value" not in flat(e.value), flat(e.value)


def test_a_whole_factor_in_a_number_is_named():
    with pytest.raises(AssertionError) as e:
        ck.check_perplexity(lambda loss: 2.0 * float(np.exp(loss)))
    assert "perplexity is exactly 2 times the right value" in flat(e.value), flat(e.value)


def test_a_factor_that_is_the_batch_size_is_named_as_such():
    def sce(o, y):
        loss, do = rr.softmax_cross_entropy(o, y)
        return loss, do * o.shape[1] * 1.0
    with pytest.raises(AssertionError) as e:
        ck.check_softmax_cross_entropy(sce)
    assert "do is wrong" in flat(e.value) and "missing the 1/B" in flat(e.value)
    def bwd(dh, cache):
        dx, dh0, dU, dW, db = rr.rnn_backward(dh, cache)
        return dx, dh0, dU * 7.25, dW, db   # a factor no mistake explains, but the same for every entry
    with pytest.raises(AssertionError) as e:
        ck.check_rnn_backward(rr.rnn_forward, bwd)
    assert "dU_xh is exactly 7.25 times the right value, in every entry" in flat(e.value)
    assert "a mean instead of a sum" not in flat(e.value)  # no guess at a cause a factor of 7.25 does not suggest

    def bwd_B(dh, cache):
        dx, dh0, dU, dW, db = rr.rnn_backward(dh, cache)
        return dx, dh0, dU * dh.shape[1], dW, db
    with pytest.raises(AssertionError) as e:
        ck.check_rnn_backward(rr.rnn_forward, bwd_B)
    assert "dU_xh is exactly 3 times the right value (B = 3 in this case)" in flat(e.value), flat(e.value)


def test_the_students_page_shows_a_message_as_a_check_prints_it():
    """book/exercises/index.md quotes a check's message: it must be what the check says today."""
    import os
    import re
    import textwrap
    page = open(os.path.join(os.path.dirname(__file__), "..", "book", "exercises", "index.md"), encoding="utf-8").read()
    quoted = re.search(r"```text\n(  check_rnn_step_backward:.*?)\n  ```", page, re.S).group(1)
    with pytest.raises(AssertionError) as e:
        ck.check_rnn_step_backward(sm.rnn_step_forward, m(sm.rnn_step_backward, "no_tanh"))
    assert textwrap.dedent(quoted) == str(e.value)
    assert "case_inputs('check_rnn_step_backward', 1)" in page


def test_a_mistake_that_would_spoil_a_right_output_is_not_blamed():
    # only grads['b_y'] is divided by T: "the loss is averaged over time too" would be false (the loss is right)
    with pytest.raises(AssertionError) as e:
        ck.check_char_lm_loss(m(sm.char_lm_loss, "db_y_mean_T"))
    assert "averaged over time too" not in flat(e.value) and "right: loss" in flat(e.value)


def test_the_cho_gru_checks_know_pytorchs_gru_when_they_see_it():
    """The registered Cho et al. GRU gets its checks and diagnoses from the registry and its mistakes module:
    PyTorch's form (the reset gate after the product), handed in as Cho's, is named as exactly that, and a
    sequence built on it is sent back to the step."""
    with pytest.raises(AssertionError) as e:
        ck.check_gru_cho_step_forward(rr.gru_step_forward)
    assert "Likely cause: you applied the reset gate after the matrix product" in flat(e.value)
    with pytest.raises(AssertionError) as e:
        ck.check_gru_cho_forward(rr.gru_forward)
    assert "reset gate after the matrix product" in flat(e.value) and "fix gru_cho_step_forward first" in flat(e.value)
    assert ck.check_gru_cho_forward(rr.gru_cho_forward) is None
