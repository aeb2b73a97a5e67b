"""Shared fixtures (keep this file small: each test file builds its own inputs)."""
import os

import numpy as np
import pytest

# Hidden check cases are drawn from a secret (the course's, in the grader); the tests fix one so that every run
# draws the same hidden cases.
os.environ.setdefault("RNN_REF_HIDDEN_SECRET", "tests")


@pytest.fixture
def rng():
    """A seeded numpy Generator, fresh for each test."""
    return np.random.default_rng(1234)
