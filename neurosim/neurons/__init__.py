"""Neuron models: pure step functions over explicit state, neuron axis first."""

from ._alif import ALIF
from ._base import AbstractNeuron, SynapticDrive
from ._hh import TraubMiles
from ._lif import LIF
from ._poisson import PoissonSource
from ._surrogate import (
    AbstractSurrogate,
    Arctan,
    Boxcar,
    CustomSurrogate,
    FastSigmoid,
    Sigmoid,
    StraightThrough,
    SuperSpike,
    Triangular,
    heaviside,
)

__all__ = [
    "AbstractNeuron",
    "SynapticDrive",
    "LIF",
    "ALIF",
    "TraubMiles",
    "PoissonSource",
    "AbstractSurrogate",
    "FastSigmoid",
    "Arctan",
    "Sigmoid",
    "SuperSpike",
    "Triangular",
    "Boxcar",
    "StraightThrough",
    "CustomSurrogate",
    "heaviside",
]
