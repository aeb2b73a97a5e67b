"""Checks that exercise test cells call: check_<function>(<student function>).

Each check runs the student's function and the reference on several seeded cases (random shapes, B=1, T=1,
H=1, large logits; hidden=True runs another, harder set) and compares every output. It returns None when they
agree (elementwise relative error below 1e-6) and otherwise raises AssertionError naming the first wrong
output, the case, the largest error and, when it can tell, the likely cause. A backward check takes the
student's forward too and hands the student's own cache to the student's backward.

Checks never print or write to stderr: warnings of the student's code are caught and reported in the message.
Messages are wrapped at 88 characters (nbgrader validate cuts longer lines), the likely cause right after the
first line. case_inputs(check_name, n) returns the inputs of visible case n, to rebuild a failing case.
check_char_lm_training runs a short training with the student's char_lm_train_step.

The parts: engine.py runs a check and words its message; mistakes/ is the catalogue of typical mistakes;
cases.py holds the case sizes and case_inputs; cells.py generates the four checks of every registered cell
(rnn_ref.cells.registry); losses.py, training.py, models.py, attention.py and own_work.py hold the others.
"""
from .cases import case_inputs
from .cells import CELL_CHECKS
from .cells import (check_gru_backward, check_gru_forward, check_gru_step_backward, check_gru_step_forward,
                    check_lstm_backward, check_lstm_forward, check_lstm_step_backward, check_lstm_step_forward,
                    check_rnn_backward, check_rnn_forward, check_rnn_step_backward, check_rnn_step_forward)
from .losses import check_perplexity, check_softmax, check_softmax_cross_entropy
from .models import (check_bidirectional_backward, check_bidirectional_forward, check_encoder_decoder_forward,
                     check_many_to_one_loss, check_stacked_rnn_backward, check_stacked_rnn_forward)
from .own_work import check_own_work
from .training import (check_char_lm_loss, check_char_lm_train_step, check_char_lm_training, check_clip_by_global_norm,
                       check_clip_by_value, check_numerical_gradient, check_sample_index)
from .attention import (check_additive_attention_backward, check_additive_attention_forward,
                        check_attention_encoder_decoder_loss, check_attention_training)

__all__ = [
    "check_rnn_step_forward", "check_rnn_step_backward", "check_rnn_forward", "check_rnn_backward",
    "check_softmax", "check_softmax_cross_entropy", "check_perplexity", "check_numerical_gradient",
    "check_clip_by_value", "check_clip_by_global_norm", "check_sample_index", "check_char_lm_loss",
    "check_char_lm_train_step", "check_many_to_one_loss", "check_encoder_decoder_forward",
    "check_bidirectional_forward", "check_bidirectional_backward", "check_stacked_rnn_forward",
    "check_stacked_rnn_backward", "check_lstm_step_forward", "check_lstm_step_backward", "check_lstm_forward",
    "check_lstm_backward", "check_gru_step_forward", "check_gru_step_backward", "check_gru_forward",
    "check_gru_backward", "check_additive_attention_forward", "check_additive_attention_backward",
    "check_attention_encoder_decoder_loss", "check_attention_training", "check_own_work",
    "check_char_lm_training", "case_inputs",
]
# the checks of every other registered cell (rnn_ref.cells.registry), check_<cell>_step_forward, ...
globals().update(CELL_CHECKS)
__all__ += [name for name in CELL_CHECKS if name not in __all__]
