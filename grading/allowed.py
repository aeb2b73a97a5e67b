"""What rnn_ref offers inside each assignment's sandbox: only the earlier pieces the assignment builds on.

The graded functions of an assignment, and anything that computes the same thing, are never offered: handing
in rnn_ref's function, or calling another that does the work, fails in the sandbox with a message that says
so. tests/test_trusted_grading.py checks that every rnn_ref name a solution's own cells use is listed, and
that no graded function of an assignment is.
"""
ALLOWED = {
    "a1_forward": (),
    "a2_loss": (),
    "a3_bptt": ("rel_error",),
    "a4_char_lm": ("char_lm_loss", "init_char_lm", "one_hot", "rnn_forward"),
    "a5_architectures": ("one_hot", "rnn_backward", "rnn_forward", "softmax_cross_entropy"),
    "a6_bidirectional_deep": ("rnn_backward", "rnn_forward"),
    "a7_lstm": ("rel_error", "sigmoid"),
    "a8_gru": ("rel_error", "sigmoid"),
    "a9_attention": ("one_hot", "rnn_backward", "rnn_forward", "softmax_cross_entropy"),
}

# A check whose function calls other graded functions is graded on its own when it fails: those functions are
# swapped for the reference, and if the check then passes, only they (graded in their own cells) were wrong.
ISOLATE = {
    "check_char_lm_train_step": ("clip_by_global_norm",),
    "check_char_lm_training": ("clip_by_global_norm",),
    "check_attention_encoder_decoder_loss": ("additive_attention_forward", "additive_attention_backward"),
    "check_attention_training": ("additive_attention_forward", "additive_attention_backward"),
    "check_rnn_forward": ("rnn_step_forward",),
    "check_rnn_backward": ("rnn_step_forward", "rnn_step_backward"),
    "check_lstm_forward": ("lstm_step_forward",),
    "check_lstm_backward": ("lstm_step_forward", "lstm_step_backward"),
    "check_gru_forward": ("gru_step_forward",),
    "check_gru_backward": ("gru_step_forward", "gru_step_backward"),
}


def allowed(assignment):
    """The rnn_ref names the sandbox of `assignment` offers (nothing for an assignment it does not know)."""
    return ALLOWED.get(assignment, ())
