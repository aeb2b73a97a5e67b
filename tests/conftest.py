"""Shared fixtures (keep this file small: each test file builds its own inputs)."""
import numpy as np
import pytest


@pytest.fixture
def rng():
    """A seeded numpy Generator, fresh for each test."""
    return np.random.default_rng(1234)
