"""Poisson spike sources."""

from __future__ import annotations

import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validate import as_param, check_nonnegative, check_size, is_concrete
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
        _check_saturation(self.rate, dt)
        return {}

    def step(self, state, drive, i, dt, key):
        rate = self.rate if drive is None else jnp.maximum(self.rate + drive, 0.0)
        p = rate * (dt * 1e-3)
        u = jax.random.uniform(key, (self.n,), dtype=self.rate.dtype)
        return state, (u < p).astype(self.rate.dtype)


SATURATION_WARN_P = 0.1  # spike probability per step above which the Bernoulli step misleads


def _check_saturation(rate, dt) -> None:
    """Refuse ``rate * dt > 1`` (saturation), warn above ``SATURATION_WARN_P`` (host values)."""
    if not (is_concrete(rate) and is_concrete(dt)):
        return
    r_max = float(np.max(np.asarray(rate))) if np.size(rate) else 0.0
    dt = float(dt)
    p = r_max * dt * 1e-3
    fix = (
        "; for background input at this rate use NetworkBuilder.add_poisson_input(target, "
        "rate_hz=..., weight=..., synapse=...) (Poisson counts per neuron, any rate)"
    )
    if p > 1.0:
        raise ValueError(
            f"PoissonSource rate {r_max:g} Hz exceeds 1/dt = {1e3 / dt:g} Hz at dt = {dt:g} ms: "
            f"one Bernoulli draw per step would saturate at {1e3 / dt:g} Hz" + fix
        )
    if p > SATURATION_WARN_P:
        warnings.warn(
            f"PoissonSource rate {r_max:g} Hz is {p:.0%} of 1/dt = {1e3 / dt:g} Hz at dt = "
            f"{dt:g} ms: one Bernoulli draw per step loses {p:.0%} of the count variance "
            "(at most one spike per step)" + fix,
            stacklevel=3,
        )
