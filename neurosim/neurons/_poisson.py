"""Poisson spike sources."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from .._validate import as_param, check_nonnegative, check_rate_per_step, check_size
from ._base import AbstractSpikeSource

__all__ = ["PoissonSource"]


class PoissonSource(AbstractSpikeSource):
    """``n`` independent Poisson spike trains with rate ``rate`` (Hz).

    Each step emits a spike with probability ``p = rate * dt / 1000`` (Bernoulli: exact mean,
    count variance lower by the factor ``1 - p``). ``init`` refuses rates above ``1000/dt`` Hz
    (``p > 1`` would saturate at one spike per step) and warns above ``p = 0.1``; for
    background input at such rates use
    :meth:`neurosim.NetworkBuilder.add_poisson_input` (Poisson counts per neuron and step, any
    rate, no stored synapses). A source has no state and receives no synapses. As a component
    its ``drive`` is ``None`` or an additional rate (Hz, shape ``(n,)``, e.g. a neural-mass
    node's output through a rate-to-spiking coupling): the step then uses
    ``max(rate + drive, 0)``.

    Example:
        >>> import jax, neurosim as ns
        >>> src = ns.neurons.PoissonSource(100, rate=10.0)
        >>> state, spikes = src.step(src.init(None, 0.1), None, 0, 0.1, jax.random.key(0))
    """

    n: int = eqx.field(static=True)
    rate: jax.Array

    def __init__(self, n: int, rate=10.0):
        self.n = check_size("n", n)
        check_nonnegative("rate", rate, "Hz")
        self.rate = as_param(rate, n, "rate")

    def init(self, key, dt) -> dict:
        check_rate_per_step("PoissonSource", self.rate, dt)
        return {}

    def step(self, state, drive, i, dt, key):
        rate = self.rate if drive is None else jnp.maximum(self.rate + drive, 0.0)
        p = rate * (dt * 1e-3)
        u = jax.random.uniform(key, (self.n,), dtype=self.rate.dtype)
        return state, (u < p).astype(self.rate.dtype)
