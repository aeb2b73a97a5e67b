"""The mistake catalogue: typical student mistakes, written as functions of a check's case, for rnn_ref.checks to
recognise. One module per topic; messages.py holds the sentences several of them share.

Each list holds (name, hyp(case) -> outputs shaped like the reference's, message). When the student's first wrong
output equals a hypothesis's, the check says the message in plain words. {out} is replaced by the output's name.
A hypothesis may instead return engine.Predicate(test): a property of the wrong output.
"""
