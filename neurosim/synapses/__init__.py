"""Synaptic kinetics (per postsynaptic neuron) and output rules (CUBA, COBA)."""

from ._kinetics import AbstractKinetics, Exponential
from ._outputs import COBA, CUBA, AbstractOutput

__all__ = ["AbstractKinetics", "Exponential", "AbstractOutput", "CUBA", "COBA"]
