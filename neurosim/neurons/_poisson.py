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

    Each step emits a spike with probability ``rate * dt / 1000`` (Bernoulli approximation,
    exact in the limit ``rate * dt << 1``). ``init(key, dt)`` refuses a rate above one spike
    per step (``rate * dt / 1000 > 1``: it would saturate at ``1000/dt`` Hz) and warns above
    0.1 spikes per step (the count variance is low by ``1 - rate * dt / 1000``); for such
    rates use a smaller ``dt`` or a Poisson input with counts per step.
    A source has no state and receives no synapses. As a component its ``drive`` is
    ``None`` or an additional rate (Hz, shape ``(n,)``, e.g. a neural-mass node's output
    through a rate-to-spiking coupling): the step then uses ``max(rate + drive, 0)``.

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
