"""The mistake catalogue: typical student mistakes, written as functions of a check's case, for rnn_ref.checks to
recognise. One module per topic (losses, training, models, attention, gradcheck); messages.py is the message table.

Each list holds (name, hyp(case) -> outputs shaped like the reference's, message). When the student's first wrong
output equals a hypothesis's, the check says the message in plain words. {out} is replaced by the output's name.
A hypothesis may instead return engine.Predicate(test): a property of the wrong output (give it a planted example
in tests/student_mistakes.py PREDICATE_EXAMPLES). tests/test_catalogue.py plants every hypothesis and checks that
it is diagnosed as itself.

The cells' mistakes: sequence.py writes the time loop's mistakes and the generic step mistakes (gate order, a
missing bias, averaged bias gradients) once for every registered cell, from the cell's reference step functions.
A cell's own step mistakes go in a module named after it (rnn.py, lstm.py, gru.py, gru_cho.py), which may define
    STEP_FORWARD   [(name, fn(x, *state_prev, *params) -> state tuple, message)]
    STEP_BACKWARD  [(name, fn(*dstate, x, *state_prev, *params) -> (dx, *dstate_prev, *dparams), message)]
    STEP_ONLY      like STEP_BACKWARD, for the step check only (not lifted to the sequence)
    FORWARD, BACKWARD  [(name, hyp(case), message)]: more hypotheses of the sequence checks
and sequence.py lifts the step mistakes to the sequence checks with the "fix the step first" wording.
"""
