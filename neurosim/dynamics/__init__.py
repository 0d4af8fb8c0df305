"""Dynamical-systems analysis of neurosim models by automatic differentiation."""

from ._continuation import Branch, Event, continuation, two_parameter
from ._fixed_points import (
    KINDS,
    FixedPoints,
    classify,
    fixed_points,
    fixed_points_sweep,
    newton,
)
from ._system import System, from_function, system

__all__ = [
    "System",
    "system",
    "from_function",
    "newton",
    "fixed_points",
    "fixed_points_sweep",
    "FixedPoints",
    "classify",
    "KINDS",
    "continuation",
    "two_parameter",
    "Branch",
    "Event",
]
