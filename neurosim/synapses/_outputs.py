r"""Output rules: how a synaptic variable becomes input to the membrane equation.

An output rule maps the synaptic variable ``g`` of a receptor (shape ``(n,)``) to a
:class:`~neurosim.neurons.SynapticDrive`, which is linear in the membrane potential within a
step: ``I_syn(v) = current - conductance * v`` (pA), plus a voltage ``jump`` (mV). Rules whose
gain depends on the membrane potential (:class:`MgBlock`) receive ``v``, the postsynaptic
membrane potential at the start of the step (``needs_voltage = True``).
"""

from __future__ import annotations

import abc
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from .._validate import as_float_array, check_finite, check_nonnegative, check_positive
from ..neurons import SynapticDrive

__all__ = [
    "AbstractOutput",
    "CUBA",
    "COBA",
    "VoltageJump",
    "MgBlock",
    "ScaledConductance",
    "mg_block",
]


class AbstractOutput(eqx.Module):
    """Maps a synaptic variable ``g`` (shape ``(n,)``) to a :class:`SynapticDrive`.

    ``drive(g, v=None)``: ``v`` is the postsynaptic membrane potential (mV) at the start of
    the step; rules that use it set the class attribute ``needs_voltage = True`` (the
    network then passes the population's ``"v"`` state).
    """

    needs_voltage: ClassVar[bool] = False
    # True where ``g`` is a conductance (nS): the builder refuses negative weights onto it.
    conductance: ClassVar[bool] = False

    @abc.abstractmethod
    def drive(self, g, v=None) -> SynapticDrive:
        """The :class:`SynapticDrive` of synaptic variable ``g`` at membrane potential ``v``."""


class CUBA(AbstractOutput):
    """Current-based: the synaptic variable is a current ``I = g`` (pA)."""

    def drive(self, g, v=None):
        return SynapticDrive(jnp.zeros_like(g), g)


class COBA(AbstractOutput):
    """Conductance-based: ``I = g (e_rev - v)`` with ``g`` in nS.

    Args:
        e_rev: reversal potential (mV).

    Example:
        >>> import neurosim as ns
        >>> exc = ns.synapses.COBA(e_rev=0.0)
    """

    conductance: ClassVar[bool] = True
    e_rev: jax.Array = eqx.field(converter=as_float_array)

    def __check_init__(self):
        check_finite("e_rev", self.e_rev)

    def drive(self, g, v=None):
        return SynapticDrive(g, g * self.e_rev)


class VoltageJump(AbstractOutput):
    """Delta-synapse output: the synaptic variable is a membrane-potential jump (mV).

    Pair it with :class:`~neurosim.synapses.Delta` kinetics (the builder does so by default);
    weights are in mV.

    Example:
        >>> import neurosim as ns
        >>> out = ns.synapses.VoltageJump()
    """

    def drive(self, g, v=None):
        z = jnp.zeros_like(g)
        return SynapticDrive(z, z, g)


def mg_block(v, mg=1.0, beta=0.062, mg_scale=3.57):
    r"""Jahr–Stevens Mg²⁺ unblock fraction ``B(v) = 1 / (1 + [Mg]/mg_scale * exp(-beta v))``.

    Computed as the logistic ``sigmoid(beta v - ln([Mg]/mg_scale))`` (no overflow for very
    negative ``v``); ``B = 1`` when ``mg = 0``.

    Args:
        v: membrane potential (mV).
        mg: extracellular Mg²⁺ concentration (mM), >= 0.
        beta: voltage sensitivity (1/mV).
        mg_scale: Mg²⁺ concentration scale (mM).
    """
    mg = jnp.asarray(mg, jnp.result_type(float))
    has_mg = mg > 0
    log_ratio = jnp.log(jnp.where(has_mg, mg, 1.0) / mg_scale)
    return jnp.where(has_mg, jax.nn.sigmoid(beta * v - log_ratio), 1.0)


class MgBlock(AbstractOutput):
    r"""Conductance output with voltage-dependent Mg²⁺ block (NMDA receptors).

    .. math::
        I = g\, B(v)\, (E_{rev} - v), \qquad
        B(v) = \frac{1}{1 + \frac{[\mathrm{Mg}^{2+}]}{3.57\,\mathrm{mM}}\, e^{-0.062\, v}}

    (Jahr & Stevens 1990, J. Neurosci. 10:3178; the form used by Brunel & Wang 2001,
    J. Comput. Neurosci. 11:63, with ``v`` in mV).

    Approximation: to keep the drive linear in ``v`` within a step (the contract of
    :class:`SynapticDrive`), ``B`` is evaluated at the membrane potential at the *start* of the
    step, ``v_0``, and held: the step integrates ``I = g B(v_0) (E_rev - v)``. The error per
    step is ``g |E_rev - v| |B'(v)| |dv|`` with ``|B'| <= beta/4 = 0.0155 /mV`` and ``dv`` the
    change of ``v`` over the step, so it is first order in ``dt`` and vanishes at rest;
    during a spike (``dv`` of tens of mV per step) the block is lagged by one step, which is
    immaterial since the NMDA current is small next to the spike currents. Gradients flow
    through ``B(v_0)``.

    Args:
        e_rev: reversal potential (mV), default 0.
        mg: extracellular Mg²⁺ concentration (mM), >= 0 (default 1 mM; 0 removes the block).
        beta: voltage sensitivity (1/mV), default 0.062.
        mg_scale: concentration scale (mM), > 0, default 3.57.

    Example:
        >>> import neurosim as ns
        >>> nmda_out = ns.synapses.MgBlock(e_rev=0.0, mg=1.0)
    """

    needs_voltage: ClassVar[bool] = True
    conductance: ClassVar[bool] = True
    e_rev: jax.Array = eqx.field(converter=as_float_array, default=0.0)
    mg: jax.Array = eqx.field(converter=as_float_array, default=1.0)
    beta: jax.Array = eqx.field(converter=as_float_array, default=0.062)
    mg_scale: jax.Array = eqx.field(converter=as_float_array, default=3.57)

    def __check_init__(self):
        check_finite("e_rev", self.e_rev)
        check_nonnegative("mg", self.mg, "mM")
        check_finite("beta", self.beta)
        check_positive("mg_scale", self.mg_scale, "mM")

    def block(self, v):
        """Unblocked fraction ``B(v)`` in [0, 1] at membrane potential ``v`` (mV)."""
        return mg_block(v, self.mg, self.beta, self.mg_scale)

    def drive(self, g, v=None):
        if v is None:
            raise ValueError(
                "MgBlock needs the postsynaptic membrane potential: its population must have a "
                "'v' state variable"
            )
        gb = g * self.block(v)
        return SynapticDrive(gb, gb * self.e_rev)


class ScaledConductance(AbstractOutput):
    r"""A conductance output with a per-neuron gain: ``drive = gain * inner.drive(g, v)``.

    Scaling a postsynaptic neuron's receptor drive by ``gain[i]`` equals scaling every
    weight onto that receptor of neuron ``i`` (the receptor variable is linear in the
    weights), so this is the per-neuron synaptic-conductance parameter of the Digital Twin
    Brain's hierarchy (Lu et al. 2023) without per-synapse storage. ``gain`` is an array leaf
    (``(n,)`` or scalar): replace it with ``eqx.tree_at`` to change it without recompiling.

    Args:
        inner: a conductance output (:class:`COBA` or :class:`MgBlock`).
        gain: per-neuron gain ``(n,)`` or a scalar, finite and >= 0.

    Example:
        >>> import jax.numpy as jnp, neurosim as ns
        >>> out = ns.synapses.ScaledConductance(ns.synapses.COBA(0.0), jnp.ones(4))
    """

    needs_voltage: ClassVar[bool] = True  # passed on to the inner rule (COBA ignores it)
    conductance: ClassVar[bool] = True
    inner: AbstractOutput
    gain: jax.Array = eqx.field(converter=as_float_array)

    def __check_init__(self):
        if not isinstance(self.inner, AbstractOutput) or not self.inner.conductance:
            raise ValueError(
                f"inner must be a conductance output (COBA or MgBlock), got {self.inner!r}"
            )
        check_nonnegative("gain", self.gain)

    def drive(self, g, v=None):
        d = self.inner.drive(g, v if self.inner.needs_voltage else None)
        return SynapticDrive(self.gain * d.conductance, self.gain * d.current)
