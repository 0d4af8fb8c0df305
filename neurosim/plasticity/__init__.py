"""Synaptic plasticity as projection dynamics: short-term (Tsodyks–Markram) and STDP.

Pass an object of this package as ``dynamics=`` to :meth:`neurosim.NetworkBuilder.connect`.
"""

from ._delayed import DendriticDelaySTDP, with_synapse_delays
from ._pair import PairSTDP
from ._stack import Stack
from ._stdp import AbstractSTDP
from ._stp import TsodyksMarkram, tsodyks_markram_steady_state, tsodyks_markram_train
from ._triplet import PFISTER_GERSTNER_2006, TripletSTDP
from ._weights import plastic_weights

__all__ = [
    "TsodyksMarkram",
    "tsodyks_markram_train",
    "tsodyks_markram_steady_state",
    "AbstractSTDP",
    "PairSTDP",
    "TripletSTDP",
    "PFISTER_GERSTNER_2006",
    "plastic_weights",
    "Stack",
    "DendriticDelaySTDP",
    "with_synapse_delays",
]
