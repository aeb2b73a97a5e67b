"""rnn_ref: the numpy reference implementation of the RNN course.

Every function takes and returns numpy arrays; `*_forward` returns (out, cache) and `*_backward(dout, cache)`
returns gradients in a fixed order. Shapes are time-major: x (T, B, D), h (T, B, H).
"""
from .clip import clip_by_global_norm, clip_by_value, global_norm
from .gradcheck import grad_check, norm_rel_error, numerical_gradient, numerical_gradient_array, rel_error
from .gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward
from .loss import bits_per_char, log_softmax, perplexity, softmax, softmax_cross_entropy
from .lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward, sigmoid
from .rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from .architectures import encoder_decoder_backward, encoder_decoder_forward, encoder_decoder_loss, many_to_one_loss
from .bidirectional import bidirectional_backward, bidirectional_forward
from .charlm import char_lm_loss, char_lm_train_step, generate, init_char_lm, one_hot, sample_index, sgd_step
from .deep import stacked_rnn_backward, stacked_rnn_forward
