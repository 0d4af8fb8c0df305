"""Synapses: kinetics per postsynaptic neuron, output rules, receptor presets, gap junctions."""

from ._dual import Alpha, DualExponential
from ._gap import GapJunctions
from ._kinetics import AbstractKinetics, AbstractLinearKinetics, Delta, Exponential
from ._outputs import (
    COBA,
    CUBA,
    AbstractOutput,
    MgBlock,
    ScaledConductance,
    VoltageJump,
    mg_block,
)
from ._receptors import (
    AMPA,
    GABA_A,
    GABA_B,
    NMDA,
    SynapseModel,
    check_receptor,
    resolve_synapse,
)

__all__ = [
    "AbstractKinetics",
    "AbstractLinearKinetics",
    "Delta",
    "Exponential",
    "DualExponential",
    "Alpha",
    "AbstractOutput",
    "CUBA",
    "COBA",
    "VoltageJump",
    "MgBlock",
    "ScaledConductance",
    "mg_block",
    "SynapseModel",
    "AMPA",
    "GABA_A",
    "GABA_B",
    "NMDA",
    "GapJunctions",
    "resolve_synapse",
    "check_receptor",
]
