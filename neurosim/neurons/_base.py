"""Neuron interface and shared pieces (synaptic drive, refractoriness, reset)."""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp

__all__ = ["AbstractNeuron", "SynapticDrive", "refractory_update", "reset_value"]


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

    def at(self, v):
        """Synaptic current (pA) at membrane potential ``v`` (mV)."""
        return self.current - self.conductance * v


class AbstractNeuron(eqx.Module):
    """A population of ``n`` neurons of one model.

    Parameters are arrays of shape ``(n,)``; state is a dict of arrays whose leading axis is
    the neuron axis. Subclasses implement:

    * ``init_state(key) -> dict``
    * ``step(state, drive, i_ext, dt, key) -> (state, spikes)``: advance one step of ``dt``
      ms under synaptic ``drive`` (:class:`SynapticDrive`) and external current ``i_ext``
      (pA, shape ``(n,)``); ``spikes`` is a float array of 0/1 whose derivative is the
      surrogate's.
    """

    n: eqx.AbstractVar[int]

    def init_state(self, key) -> dict:
        raise NotImplementedError

    def step(self, state: dict, drive: SynapticDrive, i_ext, dt, key):
        raise NotImplementedError

    @property
    def has_dynamics(self) -> bool:
        """False for pure spike sources (no synaptic input is integrated)."""
        return True


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
