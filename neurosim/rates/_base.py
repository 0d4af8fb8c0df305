"""Rate-model interface: a vector field over explicit per-node state, node axis first."""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from .._init import as_init
from .._validate import as_param, check_finite

__all__ = ["AbstractRateModel", "node_params", "node_inits", "wong_wang_rate"]


class AbstractRateModel(eqx.Module):
    """``n`` nodes (neural masses, rate populations or oscillators) of one model.

    Parameters are arrays of shape ``(n,)``; the state is a dict of arrays of shape ``(n,)``
    named by ``state_names``. Subclasses implement:

    * ``vector_field(state, c) -> dict``: time derivatives (per ms) given the coupling input
      ``c`` (what :mod:`neurosim.rates` couplings compute from the other nodes' ``output``);
    * ``output(state) -> array`` of shape ``(n,)`` or ``(n, k)``: what a node sends to the
      others (a firing rate, a gating variable, a phase, ...);
    * optionally ``observables(state, c) -> dict`` of derived ``(n,)`` quantities that can be
      recorded (rates in Hz, EEG-like signals) and ``bound(state)``, applied after every step
      (e.g. keep gating variables in ``[0, 1]``).

    The time derivative is integrated by an integrator object (:mod:`neurosim.integrators`)
    with ``c`` held over the step; the simulation drivers add noise and coupling.
    """

    n: eqx.AbstractVar[int]
    init: eqx.AbstractVar[dict]
    state_names: ClassVar[tuple[str, ...]]

    def init_state(self, key) -> dict:
        """Initial state: each variable sampled from its initializer in ``init``."""
        keys = jax.random.split(key, len(self.state_names))
        return {
            name: self.init[name].sample(k, (self.n,))
            for name, k in zip(self.state_names, keys, strict=True)
        }

    def vector_field(self, state: dict, c) -> dict:
        raise NotImplementedError

    def output(self, state: dict):
        raise NotImplementedError

    def observables(self, state: dict, c) -> dict:
        return {}

    def bound(self, state: dict) -> dict:
        return state

    def coupling_shape(self) -> tuple[int, ...]:
        """Trailing shape of ``output`` per node (``()`` for a scalar output)."""
        out = jax.eval_shape(self.output, jax.eval_shape(self.init_state, jax.random.key(0)))
        return tuple(out.shape[1:])


def node_params(n: int, **values) -> dict:
    """Check finiteness and broadcast every value to ``(n,)`` (the node axis)."""
    out = {}
    for name, val in values.items():
        check_finite(name, val)
        out[name] = as_param(val, n, name)
    return out


def node_inits(names: tuple[str, ...], defaults: dict, given: dict | None) -> dict:
    """Initializers per state variable: ``given`` (numbers or ``ns.init`` objects) over defaults."""
    given = dict(given or {})
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise ValueError(f"init has unknown state variables {unknown}; the model has {list(names)}")
    return {k: as_init(given.get(k, defaults[k])) for k in names}


def wong_wang_rate(current, a, b, d):
    """Abbott–Chance transfer function of Wong & Wang (2006) (Hz).

    ``H(I) = u / (1 - exp(-d u))`` with ``u = a I - b`` (Hz), ``a`` (Hz/nA), ``b`` (Hz) and
    ``d`` (ms; ``d u`` is made dimensionless with the factor 1e-3). ``H -> 1/d`` as ``u -> 0``;
    evaluated there with a series so the value and its gradient stay finite.
    """
    u = a * current - b
    z = d * u * 1e-3
    small = jnp.abs(z) < 1e-6
    z_safe = jnp.where(small, 1.0, z)
    # z / (1 - e^-z); for z < -80 the value is below 1e-33, and clipping the exponent keeps
    # it (and its gradient) finite instead of overflowing.
    denom = -jnp.expm1(-jnp.maximum(z_safe, -80.0))
    ratio = jnp.where(small, 1.0 + 0.5 * z, z_safe / denom)
    return ratio / (d * 1e-3)
