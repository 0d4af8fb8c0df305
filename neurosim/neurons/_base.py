"""Neuron interface and shared pieces (synaptic drive, refractoriness, reset)."""

from __future__ import annotations

import abc
from typing import ClassVar, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp

from .._component import AbstractComponent

__all__ = [
    "AbstractNeuron",
    "AbstractLinearNeuron",
    "AbstractSpikeSource",
    "SynapticDrive",
    "refractory_update",
    "reset_value",
]


class SynapticDrive(NamedTuple):
    """Synaptic input to a population, linear in the membrane potential.

    ``I_syn(v) = current - conductance * v`` (pA), with ``conductance`` in nS and ``current``
    in pA. Conductance-based receptors contribute ``(g, g * e_rev)``, current-based ones
    ``(0, I)``. Neurons with exponential Euler treat the conductance part implicitly.
    ``jump`` (mV) is added to the membrane potential after the step's integration (delta
    synapses); neurons clamped by refractoriness (LIF-type) ignore it.
    """

    conductance: jax.Array
    current: jax.Array
    jump: jax.Array | float = 0.0

    @classmethod
    def zeros(cls, n: int, dtype=None) -> SynapticDrive:
        z = jnp.zeros((n,), dtype or jnp.result_type(float))
        return cls(z, z, z)

    def __add__(self, other: SynapticDrive) -> SynapticDrive:  # type: ignore[override]
        return SynapticDrive(
            self.conductance + other.conductance,
            self.current + other.current,
            self.jump + other.jump,
        )

    def with_current(self, i_ext) -> SynapticDrive:
        """This drive with an external current ``i_ext`` (pA) added to ``current``."""
        return SynapticDrive(self.conductance, self.current + i_ext, self.jump)

    def at(self, v):
        """Synaptic current (pA) at membrane potential ``v`` (mV)."""
        return self.current - self.conductance * v


class AbstractNeuron(AbstractComponent):
    """A population of ``n`` neurons of one model (a component, see :mod:`neurosim._component`).

    Parameters are arrays of shape ``(n,)``; state is a dict of arrays whose leading axis is
    the neuron axis. Subclasses implement:

    * ``init(key, dt) -> dict``: the initial state (``key`` samples random initial values);
    * ``step(state, drive, i, dt, key) -> (state, spikes)``: advance one step of ``dt`` ms,
      from ``t = i dt``, under ``drive`` (:class:`SynapticDrive`). External (injected)
      currents are part of the drive: the caller adds them to ``drive.current`` (pA).
      ``spikes`` is a float array ``(n,)`` of 0/1 whose derivative is the surrogate's;
    * ``vector_field(...)``: the continuous-time right-hand side (model-specific signature,
      used by the dynamics analysis).

    Example:
        >>> import jax, neurosim as ns
        >>> lif = ns.neurons.LIF(2, i_e=300.0)
        >>> s = lif.init(jax.random.key(0), 0.1)
        >>> drive = ns.neurons.SynapticDrive.zeros(2).with_current(50.0)  # + 50 pA injected
        >>> s, spikes = lif.step(s, drive, 0, 0.1, None)
    """

    n: eqx.AbstractVar[int]

    @abc.abstractmethod
    def init(self, key, dt) -> dict:
        """Initial state ``{name: (n,) array}``."""

    @abc.abstractmethod
    def step(self, state: dict, drive: SynapticDrive, i, dt, key) -> tuple[dict, jax.Array]:
        """One step of ``dt`` ms under ``drive``; returns ``(state, spikes)``."""


class AbstractLinearNeuron(AbstractNeuron):
    """A neuron whose subthreshold membrane is linear: ``C dv/dt = -g_L (v - E_L) + I``.

    Implement ``exact_membrane() -> (g_l, c_m) | None``: the leak conductance (nS) and
    capacitance (pF), each ``(n,)``, when the neuron integrates its membrane exactly for an
    input held over the step (its integrator is :class:`~neurosim.integrators.Exact`), else
    ``None``. The network then feeds current-based receptors with their membrane average over
    the step (exact integration, Rotter & Diesmann 1999); with ``None`` they are held at their
    start-of-step value.

    Example:
        >>> import neurosim as ns
        >>> g_l, c_m = ns.neurons.LIF(2, tau_m=20.0, g_l=10.0).exact_membrane()  # 10 nS, 200 pF
    """

    @abc.abstractmethod
    def exact_membrane(self) -> tuple[jax.Array, jax.Array] | None:
        """``(g_l nS, c_m pF)`` if the membrane step is exact for held input, else ``None``."""


class AbstractSpikeSource(AbstractComponent):
    """A population of ``n`` spike sources: spikes given by time (and an optional rate drive).

    Not a neuron: a source integrates no synaptic input (it cannot be the target of a
    projection or of an injected current). ``step(state, drive, i, dt, key) -> (state,
    spikes)``: ``drive`` is ``None`` or a rate (Hz, shape ``(n,)``) from a rate-to-spiking
    coupling, for sources that accept one (:class:`neurosim.neurons.PoissonSource`);
    ``spikes`` is a float array ``(n,)`` of 0/1.

    Example:
        >>> import jax, neurosim as ns
        >>> src = ns.neurons.PoissonSource(4, rate=20.0)
        >>> s, spikes = src.step(src.init(None, 0.1), None, 0, 0.1, jax.random.key(0))
    """

    n: eqx.AbstractVar[int]
    # which step counter ``step`` receives in a network: "stamp" (the step of its spikes' time
    # stamp, ``i + 1`` in step ``i`` under NEST conventions: sources given by spike times) or
    # "interval" (``i``, the step spanning ``[i dt, (i+1) dt)``: sources given by a rate)
    step_counter: ClassVar[str] = "stamp"

    @abc.abstractmethod
    def init(self, key, dt) -> dict:
        """Initial state (often ``{}``)."""

    @abc.abstractmethod
    def step(self, state: dict, drive, i, dt, key) -> tuple[dict, jax.Array]:
        """Spikes of step ``i``; returns ``(state, spikes)``."""


def refractory_update(counter, spike, t_ref, dt):
    """Count down the refractory steps left; restart at a spike.

    A spike in step ``i`` holds the neuron for the next ``round(t_ref/dt) - 1`` steps, so it
    integrates again in step ``i + round(t_ref/dt)``: the reset value is held for ``t_ref``
    measured between spike stamps, the convention of Brian2. Counting integer steps avoids
    float drift of ``t - t_last``.
    """
    ref_steps = jnp.round(t_ref / dt).astype(counter.dtype)
    restart = jnp.maximum(ref_steps - 1, 0)
    return jnp.where(spike > 0, restart, jnp.maximum(counter - 1, 0))


def reset_value(v, spike, v_reset, detach: bool):
    """``v_reset`` where ``spike`` is 1, else ``v``; differentiable in ``spike`` unless detached.

    The value is exact (a select, not ``v + s (v_reset - v)`` which rounds), and the gradient
    is that of ``v (1 - s) + v_reset s``.
    """
    hard = jnp.where(spike > 0, v_reset, v)
    if detach:
        return hard
    s_soft = spike - jax.lax.stop_gradient(spike)
    return hard + s_soft * (v_reset - v)
