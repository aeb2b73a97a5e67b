"""rnn_ref: the numpy reference implementation of the RNN course.

Every function takes and returns numpy arrays (float64 by default; the cells keep float32 as float32). Shapes are
time-major: x (T, B, D), h (T, B, H); one step sees x (B, D) and states (B, H). The calling contract:

- The cells (rnn_ref.cells, one record each in rnn_ref.cells.CELLS: "rnn", "lstm", "gru", "gru_cho"):
    <cell>_step_forward(x, *state_prev, *params)  -> (*state, cache)    rnn_step_forward -> (h, cache),
                                                                        lstm_step_forward -> (h, c, cache)
    <cell>_step_backward(*dstate, cache)          -> (dx, *dstate_prev, *dparams)
    <cell>_forward(x, *state0, *params)           -> (h, cache)          h (T, B, H): every hidden state
    <cell>_backward(dh, cache)                    -> (dx, *dstate0, *dparams)
  The state is h, or (h, c) for the LSTM; gradients come back in the order of the forward function's inputs.
  Caches are namedtuples; handing a backward function anything but its forward's cache is a ValueError.
- Layers with one output follow CS231n: forward(...) -> (out, cache), backward(dout, cache) -> the gradients
  of the float inputs in input order (softmax_cross_entropy returns (loss, do) instead).
- The models (rnn_ref.models) come in two kinds. Layers built from a cell (bidirectional, stacked, grid,
  attention, embedding) follow the cells: parameter tuples in, (out, cache) out. Models with a loss take one flat
  params dict and their *_loss functions return (loss, grads), grads a dict keyed like params (char_lm_loss and
  embedding_lm_loss also return the last hidden state: (loss, grads, h_last)).
- Bad input raises a ValueError whose message starts with the name of the wrong argument.

The graders of the exercises are in rnn_ref.checks; the book's diagrams in rnn_ref.diagrams (matplotlib).
"""
# The cells (rnn_ref.cells; the registry: rnn_ref.cells.CELLS)
from .cells.rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from .cells.lstm import lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward
from .cells.gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward
from .cells.gru_cho import gru_cho_backward, gru_cho_forward, gru_cho_step_backward, gru_cho_step_forward
from .numerics import sigmoid
# Training (rnn_ref.training): the loss, gradient checks, clipping, truncated BPTT, optimisers, initialisers, dropout
from .training.loss import bits_per_char, log_softmax, perplexity, softmax, softmax_cross_entropy
from .training.gradcheck import grad_check, norm_rel_error, numerical_gradient, numerical_gradient_array, rel_error
from .training.clip import clip_by_global_norm, clip_by_value, global_norm
from .training.tbptt import tbptt_grads, tbptt_train, tbptt_windows
from .training.optim import adagrad_step, adam_step, fit, make_optimizer, sgd_momentum_step
from .training.initializers import identity_init, orthogonal_init, spectral_radius
from .training.dropout import dropout_backward, dropout_forward
# Models (rnn_ref.models): variants, shapes of problem, attention, language models, batches of unequal length
from .models.bidirectional import bidirectional_backward, bidirectional_forward
from .models.grid2d import grid_rnn_backward, grid_rnn_forward, init_grid_rnn
from .models.deep import (deep_transition_backward, deep_transition_forward, deep_transition_loss,
                          init_deep_transition, init_stacked, path_lengths, stacked_backward, stacked_forward,
                          stacked_loss, stacked_predict, stacked_rnn_backward, stacked_rnn_forward, unrolled_edges)
from .models.architectures import (encoder_decoder_backward, encoder_decoder_forward, encoder_decoder_generate,
                                   encoder_decoder_loss, init_one_to_many, init_sequence_model, init_tagger,
                                   many_to_many_loss, many_to_one_loss, one_to_many_backward, one_to_many_forward,
                                   one_to_many_generate, one_to_many_loss, sequence_classifier_loss,
                                   sequence_predict, sequence_regression_loss, tagger_forward, tagger_loss)
from .models.attention import (additive_attention_backward, additive_attention_forward,
                               attention_encoder_decoder_backward, attention_encoder_decoder_forward,
                               attention_encoder_decoder_loss, attention_greedy_decode,
                               init_attention_encoder_decoder, init_encoder_decoder)
from .models.charlm import (char_lm_loss, char_lm_train_step, evaluate_char_lm, generate, init_char_lm, one_hot,
                            sample_index, sgd_step, train_char_lm)
from .models.embedding import (PAD, UNK, embedding_backward, embedding_forward, embedding_lm_loss, encode_words,
                               init_embedding_lm, make_word_vocab, tokenize_words)
from .models.masking import (last_state_backward, last_state_forward, length_mask, masked_rnn_backward,
                             masked_rnn_forward, masked_softmax_cross_entropy, pad_batch, reverse_padded)
from .models.decoding import beam_search, scheduled_sampling_inputs, sequence_log_prob
# The data
from .data import (adding_problem, batchify, bigram_log_probs, bigram_loss, decode, delayed_recall, encode,
                   lm_windows, load_corpus, make_vocab, parity, train_valid_split)
# PyTorch weights in and out (torch is imported only when these are called)
from .torch_io import from_torch_gru, from_torch_lstm, from_torch_rnn, to_torch_gru, to_torch_lstm, to_torch_rnn
