"""Shared fixtures: a seeded random generator and small float64 inputs."""
import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def randn(rng, *shape, scale=1.0):
    """float64 standard normal values times `scale` (an importable helper, not a fixture)."""
    return rng.standard_normal(shape) * scale
