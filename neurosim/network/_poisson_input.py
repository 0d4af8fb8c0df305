r"""Independent Poisson input per neuron at any rate, without stored synapses.

Each neuron of the target receives ``K_i(t) ~ Poisson(rate_i dt)`` input spikes per step
(every rate, also far above ``1/dt``: NEST's ``poisson_generator`` connected one-to-one,
Brian2's ``PoissonInput``), and its receptor takes ``weight_i K_i`` as that step's
increment, exactly as if ``K_i`` presynaptic Poisson sources of total rate ``rate_i`` had each
spiked through a synapse of weight ``weight_i``. No sources, no synapses: O(n) work per step.

Gradients: with respect to ``weight`` exact (the counts are fixed draws); with respect to
``rate_hz`` the counts are passed straight through with the derivative of their mean,
``d K / d rate = dt / 1000`` (the pathwise gradient of the expected input; a draw itself is
not differentiable).

The counts come from :func:`neurosim._random.poisson_counts` (one uniform per count by
inversion for means up to 30 per step, ``jax.random.poisson`` above).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._component import AbstractComponent, replace_static
from .._random import poisson_counts
from .._validate import as_float_array, check_bound, check_nonnegative, check_size, is_concrete

__all__ = ["PoissonInput", "PoissonInputSlot"]


class PoissonInput(AbstractComponent):
    """Poisson spike counts per neuron and step times a weight (the increments of a receptor).

    A component (:mod:`neurosim._component`): ``init(key, dt) -> {}`` (no state);
    ``step(state, None, i, dt, key) -> (state, increments)`` with
    ``increments = weight * Poisson(rate_hz * dt / 1000)``, shape ``(n,)`` (nS, pA or mV, the
    receptor's units). Size-generic as written; the builder binds it to its target
    (:meth:`neurosim.NetworkBuilder.add_poisson_input`).

    Args:
        rate_hz: total input rate per neuron (Hz, >= 0, any size): a number or ``(n,)`` array.
        weight: increment per input spike (receptor units): a number or ``(n,)`` array.

    Example:
        >>> import jax, neurosim as ns
        >>> inp = ns.network.PoissonInput(rate_hz=20_000.0, weight=0.1).bind(4)
        >>> _, x = inp.step(inp.init(None, 0.1), None, 0, 0.1, jax.random.key(0))  # ~2 spikes
    """

    rate_hz: jax.Array
    weight: jax.Array
    n: int | None = eqx.field(default=None, static=True, kw_only=True)

    def __init__(self, rate_hz, weight, *, n: int | None = None):
        self.rate_hz = as_float_array(rate_hz)
        self.weight = as_float_array(weight)
        check_nonnegative("rate_hz", self.rate_hz, "Hz")
        if is_concrete(self.weight) and not np.all(np.isfinite(np.asarray(self.weight))):
            raise ValueError("weight must be finite")
        self.n = None if n is None else check_size("n", n)
        for name, x in (("rate_hz", self.rate_hz), ("weight", self.weight)):
            if self.n is not None and x.ndim and x.shape != (self.n,):
                raise ValueError(f"{name} must be a number or shape ({self.n},), got {x.shape}")

    def bind(self, n: int) -> PoissonInput:
        """A copy for ``n`` target neurons (checks the shapes of per-neuron arrays)."""
        n = check_size("n", n)
        for name, x in (("rate_hz", self.rate_hz), ("weight", self.weight)):
            if x.ndim and x.shape != (n,):
                raise ValueError(
                    f"{name} must be a number or one value per target neuron, shape ({n},); "
                    f"got shape {x.shape}"
                )
        return replace_static(self, n=n)

    def init(self, key, dt) -> dict:
        check_bound(self, self.n, "call .bind(n) first, e.g. PoissonInput(1e4, 0.1).bind(100)")
        return {}

    def step(self, state, drive, i, dt, key):
        check_bound(self, self.n, "call .bind(n) first, e.g. PoissonInput(1e4, 0.1).bind(100)")
        dtype = jnp.result_type(self.rate_hz, self.weight, float)
        lam = jnp.broadcast_to(self.rate_hz * (dt * 1e-3), (self.n,)).astype(dtype)
        counts = poisson_counts(key, jax.lax.stop_gradient(lam)).astype(dtype)
        counts = jnp.where(counts < 0, jnp.nan, counts)  # a NaN rate: NaN input, caught as a fault
        counts = counts + (lam - jax.lax.stop_gradient(lam))  # straight-through: d mean
        return state, self.weight * counts


class PoissonInputSlot(eqx.Module):
    """A :class:`PoissonInput` feeding receptor ``receptor`` of population ``target``
    (index range ``target_slice``)."""

    name: str = eqx.field(static=True)
    target: int = eqx.field(static=True)
    target_slice: tuple[int, int] = eqx.field(static=True)
    receptor: int = eqx.field(static=True)
    source: PoissonInput
