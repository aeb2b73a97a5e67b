"""Training: the loss, gradient checks, clipping, truncated BPTT, optimisers, initialisers, dropout."""
