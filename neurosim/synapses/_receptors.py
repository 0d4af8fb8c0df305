"""Receptor presets (kinetics + output rule with literature parameters) and pairing checks.

A preset is a :class:`SynapseModel`; pass it as ``synapse=`` to
:meth:`neurosim.NetworkBuilder.connect` (the output rule comes with it, and the receptor is
named after the preset, e.g. ``"AMPA"``, so traces read ``"E.AMPA.g"``).

Parameter sources:

* AMPA, GABA_A, NMDA: Brunel & Wang (2001), J. Comput. Neurosci. 11:63, and Wang (2002),
  Neuron 36:955 (AMPA decay 2 ms, E = 0 mV; GABA_A decay 5 ms, E = -70 mV; NMDA rise 2 ms,
  decay 100 ms, E = 0 mV, [Mg²⁺] = 1 mM with the Jahr & Stevens 1990 block).
* GABA_B: Hill & Tononi (2005), J. Neurophysiol. 93:1671 (rise 60 ms, decay 200 ms,
  E = -90 mV; the defaults of NEST's ``ht_neuron``).

Deviations, stated: Brunel & Wang's NMDA gating saturates (``ds/dt = -s/tau + alpha x (1-s)``);
here it is linear (dual-exponential, peak-normalised), which is exact at low presynaptic rates
and overestimates the conductance when a neuron's NMDA input saturates. GABA_B is a G-protein
cascade (Destexhe et al. 1998); the dual-exponential is the usual linear reduction
(Hill & Tononi 2005). Weights of all presets are peak conductances in nS.
"""

from __future__ import annotations

import equinox as eqx
import jax

from ._dual import DualExponential
from ._kinetics import AbstractKinetics, Delta, Exponential
from ._outputs import COBA, CUBA, AbstractOutput, MgBlock, VoltageJump

__all__ = [
    "SynapseModel",
    "AMPA",
    "GABA_A",
    "GABA_B",
    "NMDA",
    "resolve_synapse",
    "check_receptor",
]


class SynapseModel(eqx.Module):
    """A receptor type: kinetics, output rule and a name (the default receptor name).

    Example:
        >>> import neurosim as ns
        >>> syn = ns.synapses.SynapseModel(ns.synapses.Exponential(3.0), ns.synapses.COBA(0.0),
        ...                               "fast_exc")
    """

    kinetics: AbstractKinetics
    output: AbstractOutput
    name: str = eqx.field(static=True)


def _kinetics(tau_rise, tau_decay):
    if tau_rise is None:
        return Exponential(tau_decay)
    return DualExponential(tau_rise, tau_decay)


def AMPA(*, tau_decay=2.0, tau_rise=None, e_rev=0.0) -> SynapseModel:
    """AMPA receptor: conductance, exponential decay 2 ms, E = 0 mV (Brunel & Wang 2001).

    Args:
        tau_decay: decay time constant (ms).
        tau_rise: rise time constant (ms); ``None`` (default) for an instantaneous rise
            (exponential kinetics), else dual-exponential (e.g. 0.5 ms, Hill & Tononi 2005).
        e_rev: reversal potential (mV).

    Example:
        >>> import neurosim as ns
        >>> ampa = ns.synapses.AMPA()
    """
    return SynapseModel(_kinetics(tau_rise, tau_decay), COBA(e_rev), "AMPA")


def GABA_A(*, tau_decay=5.0, tau_rise=None, e_rev=-70.0) -> SynapseModel:
    """GABA_A receptor: conductance, exponential decay 5 ms, E = -70 mV (Brunel & Wang 2001).

    Args:
        tau_decay: decay time constant (ms).
        tau_rise: rise time constant (ms) or ``None`` (instantaneous rise).
        e_rev: reversal potential (mV).

    Example:
        >>> import neurosim as ns
        >>> gaba = ns.synapses.GABA_A()
    """
    return SynapseModel(_kinetics(tau_rise, tau_decay), COBA(e_rev), "GABA_A")


def GABA_B(*, tau_rise=60.0, tau_decay=200.0, e_rev=-90.0) -> SynapseModel:
    """GABA_B receptor: dual-exponential 60/200 ms, E = -90 mV (Hill & Tononi 2005).

    Args:
        tau_rise: rise time constant (ms).
        tau_decay: decay time constant (ms).
        e_rev: reversal potential (mV).

    Example:
        >>> import neurosim as ns
        >>> gaba_b = ns.synapses.GABA_B()
    """
    return SynapseModel(DualExponential(tau_rise, tau_decay), COBA(e_rev), "GABA_B")


def NMDA(*, tau_rise=2.0, tau_decay=100.0, e_rev=0.0, mg=1.0) -> SynapseModel:
    """NMDA receptor: dual-exponential 2/100 ms, E = 0 mV, Jahr–Stevens Mg²⁺ block, 1 mM.

    Parameters of Brunel & Wang (2001); output :class:`~neurosim.synapses.MgBlock` (block
    evaluated at the start-of-step membrane potential, see there).

    Args:
        tau_rise: rise time constant (ms).
        tau_decay: decay time constant (ms).
        e_rev: reversal potential (mV).
        mg: extracellular Mg²⁺ (mM); 0 removes the block.

    Example:
        >>> import neurosim as ns
        >>> nmda = ns.synapses.NMDA(mg=1.0)
    """
    return SynapseModel(DualExponential(tau_rise, tau_decay), MgBlock(e_rev=e_rev, mg=mg), "NMDA")


def resolve_synapse(synapse, output) -> tuple[AbstractKinetics, AbstractOutput, str | None]:
    """``(kinetics, output, default receptor name)`` from the builder's ``synapse``/``output``.

    A :class:`SynapseModel` brings its own output (passing ``output`` too is an error); bare
    kinetics get ``output`` or, if None, :class:`VoltageJump` for :class:`Delta` and
    :class:`CUBA` otherwise.
    """
    if isinstance(synapse, SynapseModel):
        if output is not None:
            raise ValueError(
                f"synapse {synapse.name!r} is a receptor preset that includes its output rule; "
                "do not pass output= (set e_rev etc. on the preset, e.g. ns.synapses.AMPA(e_rev=0))"
            )
        return synapse.kinetics, synapse.output, synapse.name
    if not isinstance(synapse, AbstractKinetics):
        raise ValueError(
            "synapse must be a kinetics object (ns.synapses.Exponential(...)) or a receptor "
            f"preset (ns.synapses.AMPA()), got {synapse!r}"
        )
    if output is None:
        output = VoltageJump() if isinstance(synapse, Delta) else CUBA()
    if not isinstance(output, AbstractOutput):
        raise ValueError(
            f"output must be an output rule (ns.synapses.COBA(e_rev), CUBA(), MgBlock(), "
            f"VoltageJump()), got {output!r}"
        )
    return synapse, output, None


def check_receptor(kinetics: AbstractKinetics, output: AbstractOutput, neuron) -> None:
    """Raise ``ValueError`` for kinetics/output/neuron combinations that cannot work.

    Delta kinetics and :class:`VoltageJump` go together (a jump is not a current); outputs
    that need the membrane potential need a neuron with a ``"v"`` state variable.
    """
    is_delta, is_jump = isinstance(kinetics, Delta), isinstance(output, VoltageJump)
    if is_delta and not is_jump:
        raise ValueError(
            f"Delta kinetics deliver voltage jumps (mV); use output=ns.synapses.VoltageJump() "
            f"(or leave output unset), got {type(output).__name__}"
        )
    if is_jump and not is_delta:
        raise ValueError(
            f"VoltageJump needs Delta kinetics (a jump per spike), got {type(kinetics).__name__}; "
            "use COBA/CUBA outputs for kinetics with a time course"
        )
    if output.needs_voltage:
        shapes = jax.eval_shape(neuron.init, jax.random.key(0), 0.1)
        if "v" not in shapes:
            raise ValueError(
                f"{type(output).__name__} needs the postsynaptic membrane potential, but "
                f"{type(neuron).__name__} has no 'v' state variable (it has {sorted(shapes)})"
            )
