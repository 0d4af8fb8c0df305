"""Initial-value distributions for states and weights."""

from ._init import AbstractInit, Constant, Normal, Uniform, as_init

__all__ = ["AbstractInit", "Constant", "Normal", "Uniform", "as_init"]
