"""Models built from the cells: bidirectional, stacked, 2-D grid, the sequence shapes, attention, language models.

Two kinds of function live here, with one contract each.

- Layers, used inside bigger models, follow the cells: arrays and parameter tuples in the cell's API order in,
  *_forward(...) -> (out, cache) with a namedtuple cache, *_backward(dout, cache) -> the gradients in the order
  of the inputs (a tuple of parameter gradients for a tuple of parameters). bidirectional_*, stacked_*,
  stacked_rnn_*, grid_rnn_* (its params: a dict of four such tuples), additive_attention_*, embedding_*,
  masked_rnn_*, last_state_*.
- Models with a loss take one flat dict params (name -> array, made by their init_* function) and return
  (loss, grads), grads keyed like params, which is what rnn_ref.training.optim's optimisers update:
  many_to_one_loss, sequence_*_loss, many_to_many_loss, encoder_decoder_*, attention_encoder_decoder_*,
  one_to_many_*, tagger_*, deep_transition_*, stacked_loss, char_lm_loss, embedding_lm_loss. Their forward
  functions return (logits, cache) (the attention model (logits, alpha, cache)).

Every function that can run any cell takes cell="rnn", a name in rnn_ref.cells.CELLS, and reads the cell's
parameters, state and functions from its registry entry. A backward function handed another function's cache
raises a ValueError naming the forward that makes the right one.
"""
