"""Inputs: injected currents (pA) and time-driven spike sources.

Currents are added to a population with ``NetworkBuilder.add_input``; spike sources
(``PoissonSource``, ``InhomogeneousPoisson``, ``SpikeTimes``) are populations of their own,
connected with projections.
"""

from .network._inputs import AbstractCurrent, ArrayCurrent, ConstantCurrent, StepCurrent
from .network._inputs_stochastic import OUCurrent, WhiteNoiseCurrent
from .network._inputs_waveforms import RampCurrent, SinusoidalCurrent
from .network._spike_sources import InhomogeneousPoisson, SpikeTimes
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
