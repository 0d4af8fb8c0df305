"""Neuron models: pure step functions over explicit state, neuron axis first."""

from ._adex import ADEX_NAUD_2008, AdEx, ExpIF
from ._alif import ALIF
from ._base import AbstractLinearNeuron, AbstractNeuron, AbstractSpikeSource, SynapticDrive
from ._fhn import FitzHughNagumo
from ._hh import TraubMiles
from ._hh1952 import HodgkinHuxley
from ._hr import HindmarshRose
from ._izhikevich import IZHIKEVICH_2003, Izhikevich
from ._lif import LIF
from ._morris_lecar import MORRIS_LECAR_SETS, MorrisLecar
from ._poisson import PoissonSource
from ._qif import QIF
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
    "AbstractLinearNeuron",
    "AbstractSpikeSource",
    "SynapticDrive",
    "LIF",
    "ALIF",
    "TraubMiles",
    "HodgkinHuxley",
    "ExpIF",
    "AdEx",
    "ADEX_NAUD_2008",
    "QIF",
    "MorrisLecar",
    "MORRIS_LECAR_SETS",
    "FitzHughNagumo",
    "HindmarshRose",
    "Izhikevich",
    "IZHIKEVICH_2003",
    "PoissonSource",
    "AbstractSurrogate",
    "FastSigmoid",
    "SuperSpike",
    "Arctan",
    "Sigmoid",
    "Triangular",
    "Boxcar",
    "StraightThrough",
    "CustomSurrogate",
    "heaviside",
]
