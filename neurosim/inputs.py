"""Inputs: injected currents (pA) and time-driven spike sources.

Currents are added to a population with ``NetworkBuilder.add_input``; spike sources
(``PoissonSource``, ``InhomogeneousPoisson``, ``SpikeTimes``) are populations of their own,
connected with projections.
"""

from .network import (
    AbstractCurrent,
    ArrayCurrent,
    ConstantCurrent,
    InhomogeneousPoisson,
    OUCurrent,
    RampCurrent,
    SinusoidalCurrent,
    SpikeTimes,
    StepCurrent,
    WhiteNoiseCurrent,
)
from .neurons import PoissonSource

__all__ = [
    "AbstractCurrent",
    "ConstantCurrent",
    "StepCurrent",
    "ArrayCurrent",
    "RampCurrent",
    "SinusoidalCurrent",
    "OUCurrent",
    "WhiteNoiseCurrent",
    "PoissonSource",
    "InhomogeneousPoisson",
    "SpikeTimes",
]
