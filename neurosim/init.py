"""Initial-value distributions for states, weights and delays."""

from ._init import AbstractInit, Constant, Normal, Uniform, as_init
from ._init_bounded import Clipped, TruncatedNormal

__all__ = [
    "AbstractInit",
    "Constant",
    "Normal",
    "Uniform",
    "TruncatedNormal",
    "Clipped",
    "as_init",
]
