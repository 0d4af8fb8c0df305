"""Neuron models: pure step functions over explicit state, neuron axis first."""

from ._base import AbstractNeuron, SynapticDrive
from ._hh import TraubMiles
from ._lif import LIF
from ._poisson import PoissonSource
from ._surrogate import AbstractSurrogate, Arctan, FastSigmoid, Sigmoid, heaviside

__all__ = [
    "AbstractNeuron",
    "SynapticDrive",
    "LIF",
    "TraubMiles",
    "PoissonSource",
    "AbstractSurrogate",
    "FastSigmoid",
    "Arctan",
    "Sigmoid",
    "heaviside",
]
