"""Poisson spike sources."""

from __future__ import annotations

import equinox as eqx
import jax

from .._validate import as_param, check_nonnegative, check_size
from ._base import AbstractNeuron

__all__ = ["PoissonSource"]


class PoissonSource(AbstractNeuron):
    """``n`` independent Poisson spike trains with rate ``rate`` (Hz).

    Each step emits a spike with probability ``rate * dt / 1000`` (Bernoulli approximation,
    exact in the limit ``rate * dt << 1``; rates above ``1000/dt`` Hz saturate at one spike per
    step). A source has no state and ignores synaptic input.

    Example:
        >>> import jax, neurosim as ns
        >>> src = ns.neurons.PoissonSource(100, rate=10.0)
    """

    n: int = eqx.field(static=True)
    rate: jax.Array

    def __init__(self, n: int, rate=10.0):
        self.n = check_size("n", n)
        check_nonnegative("rate", rate, "Hz")
        self.rate = as_param(rate, n, "rate")

    @property
    def has_dynamics(self) -> bool:
        return False

    def init_state(self, key) -> dict:
        return {}

    def step(self, state, drive, i_ext, dt, key):
        p = self.rate * (dt * 1e-3)
        u = jax.random.uniform(key, (self.n,), dtype=self.rate.dtype)
        return state, (u < p).astype(self.rate.dtype)
