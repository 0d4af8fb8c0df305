"""Linear synaptic kinetics, stored per postsynaptic neuron.

A kinetics object describes how the summed input of all presynaptic spikes arriving at a
postsynaptic neuron evolves in time. Because the kinetics are linear, all projections onto
the same receptor share one state array of shape ``(n_post, ...)`` (O(neurons) memory, not
O(synapses)). Units follow the output rule: nS for conductance-based receptors, pA for
current-based ones.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from .._init import AbstractInit, as_init
from .._validate import check_positive

__all__ = ["AbstractKinetics", "Delta", "Exponential"]


def _arr(x):
    return jnp.asarray(x, dtype=jnp.result_type(float))


class AbstractKinetics(eqx.Module):
    """Interface: ``init_state(n)``, ``decay(state, dt)``, ``add(state, x)``, ``value(state)``."""

    def init_state(self, n: int, key) -> dict:
        """State of ``n`` postsynaptic neurons before any input (``key``: random initial values)."""
        raise NotImplementedError

    def decay(self, state: dict, dt) -> dict:
        """Advance ``state`` over ``dt`` (ms) without input (exactly, for linear kinetics)."""
        raise NotImplementedError

    def add(self, state: dict, x) -> dict:
        """Add the summed spike-triggered increments ``x`` (shape ``(n,)``)."""
        raise NotImplementedError

    def value(self, state: dict):
        """The synaptic variable seen by the output rule (conductance nS or current pA)."""
        raise NotImplementedError


class Delta(AbstractKinetics):
    r"""Delta synapse: each spike makes the membrane potential jump by its weight ``w`` (mV).

    The state holds the sum of the weights that arrived in the previous step; the matching
    output rule :class:`~neurosim.synapses.VoltageJump` passes it as ``SynapticDrive.jump``,
    which the neuron adds to ``v`` after integrating its step, so the jump is exact (no
    smoothing): ``v -> v + sum_k w_k``. The pending jump is consumed in one step
    (``decay`` resets it to 0). With the minimal one-step latency, a spike emitted in step
    ``i`` is added to the postsynaptic ``v`` at the end of step ``i + 1`` (``t = (i + 2) dt``),
    before that step's threshold test, like NEST's ``iaf_psc_delta``. Neurons held by
    refractoriness (LIF-type) ignore jumps arriving then (NEST's default as well).

    Example:
        >>> import neurosim as ns
        >>> syn = ns.synapses.Delta()  # weights in mV; output defaults to VoltageJump()
    """

    def init_state(self, n: int, key) -> dict:
        return {"jump": jnp.zeros((n,), jnp.result_type(float))}

    def decay(self, state, dt):
        return {"jump": jnp.zeros_like(state["jump"])}

    def add(self, state, x):
        return {"jump": state["jump"] + x}

    def value(self, state):
        return state["jump"]


class Exponential(AbstractKinetics):
    r"""Exponentially decaying synapse: :math:`dg/dt = -g/\tau`, ``g += w`` at each spike.

    The decay is integrated exactly, ``g(t + dt) = g(t) exp(-dt/tau)``.

    Args:
        tau: decay time constant (ms), > 0.
        init: initial value of ``g`` (a number or an initializer; default 0).

    Example:
        >>> import neurosim as ns
        >>> ampa = ns.synapses.Exponential(tau=5.0)
    """

    tau: jax.Array = eqx.field(converter=_arr)
    init: AbstractInit | None = None

    def __check_init__(self):
        check_positive("tau", self.tau, "ms")

    def init_state(self, n: int, key) -> dict:
        if self.init is None:
            return {"g": jnp.zeros((n,), self.tau.dtype)}
        return {"g": as_init(self.init).sample(key, (n,)).astype(self.tau.dtype)}

    def decay(self, state, dt):
        return {"g": state["g"] * jnp.exp(-dt / self.tau)}

    def add(self, state, x):
        return {"g": state["g"] + x}

    def value(self, state):
        return state["g"]
