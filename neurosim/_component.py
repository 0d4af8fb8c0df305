"""The one component protocol: every dynamical part of a simulation is an ``AbstractComponent``.

A component is an immutable pytree (an :class:`equinox.Module`: parameters are array leaves,
sizes and options static) with two pure methods:

* ``init(key, dt) -> state``: the state pytree before the first step (neuron/node axis
  first);
* ``step(state, drive, i, dt, key) -> (state, out)``: advance one step of ``dt`` ms, from
  ``t = i * dt`` to ``(i + 1) * dt``, under this step's ``drive``, and return the new state
  and what the component emits this step.

Neuron models, spike sources, rate (neural-mass) models, synaptic kinetics, projection
dynamics (short-term plasticity, STDP), stateful inputs and readouts all implement this pair;
what ``drive`` and ``out`` are is documented by each interface (e.g.
:class:`neurosim.neurons.AbstractNeuron`).
"""

from __future__ import annotations

import abc
import copy
from typing import Any

import equinox as eqx

__all__ = ["AbstractComponent"]


class AbstractComponent(eqx.Module):
    """A dynamical part of a simulation: ``init(key, dt)`` and ``step(state, drive, i, dt, key)``.

    Both methods are abstract: a subclass that does not define them cannot be instantiated
    (Python raises ``TypeError: Can't instantiate abstract class X ... 'step'``).

    Conventions shared by every component:

    * ``i``: the integer (int32) step counter; the step advances time from ``t = i dt`` to
      ``(i + 1) dt`` (ms). Time is never accumulated as a float.
    * ``dt``: the time step (ms); may be a traced scalar.
    * ``key``: a ``jax.random`` key for this component and this step (the caller has already
      folded in the step counter and the component's position). Deterministic components
      ignore it; it may be ``None`` for them.
    * ``drive``: what the component receives this step (interface-specific; may be ``None``).
    * the returned ``out``: what the component emits this step (interface-specific).

    Components whose size is only known where they are used (kinetics, stateful currents,
    projection dynamics) are *bound* to it first by a ``bind`` method of their interface,
    which returns a sized copy.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> import neurosim as ns
        >>> class Leak(ns.AbstractComponent):
        ...     tau: float = 10.0
        ...     def init(self, key, dt):
        ...         return {"x": jnp.ones(3)}
        ...     def step(self, state, drive, i, dt, key):
        ...         x = state["x"] * jnp.exp(-dt / self.tau) + (0.0 if drive is None else drive)
        ...         return {"x": x}, x
        >>> c = Leak()
        >>> s, out = c.step(c.init(None, 0.1), None, 0, 0.1, None)
    """

    @abc.abstractmethod
    def init(self, key, dt) -> Any:
        """The initial state pytree (neuron/node axis first); ``key`` for random initial values."""

    @abc.abstractmethod
    def step(self, state, drive, i, dt, key) -> tuple[Any, Any]:
        """Advance one step of ``dt`` ms from ``t = i dt``; returns ``(new_state, out)``."""


def replace_static(module: eqx.Module, **fields) -> eqx.Module:
    """A copy of ``module`` with the given (static or array) fields replaced.

    Used by ``bind`` methods to return a sized copy without re-running ``__init__`` (whose
    checks and conversions already ran).
    """
    new = copy.copy(module)
    for name, value in fields.items():
        object.__setattr__(new, name, value)
    return new
