"""Spike sources driven by time: inhomogeneous Poisson processes and given spike times.

Both are spike sources (:class:`neurosim.neurons.AbstractSpikeSource`, like
:class:`neurosim.neurons.PoissonSource`): add them as a population and connect them with
projections. They read the time from the step counter ``i`` that every component's ``step``
receives, so they have no state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .._validate import (
    check_literal,
    check_positive,
    check_rate_per_step,
    check_size,
    is_concrete,
    user_stacklevel,
)
from ..neurons import AbstractSpikeSource

__all__ = ["InhomogeneousPoisson", "SpikeTimes"]

SameStep = Literal["refuse", "merge"]
"""What :class:`SpikeTimes` does with spikes of one neuron that round to the same step."""


class InhomogeneousPoisson(AbstractSpikeSource):
    r"""``n`` independent Poisson spike trains with a time-dependent rate :math:`\lambda(t)` (Hz).

    In step ``i`` (time ``[i dt, (i+1) dt)``) each neuron spikes with probability
    :math:`\lambda(t_i + dt/2)\,dt` (rate at the middle of the step; Bernoulli approximation as
    in :class:`~neurosim.neurons.PoissonSource`: exact mean count, variance lower by the factor
    :math:`1 - \lambda dt`, saturating at one spike per step).

    The rate is either

    * a function ``rate(t_ms) -> Hz`` written with ``jax.numpy`` (a scalar or shape ``(n,)``
      result), e.g. ``lambda t: 10 + 5 * jnp.sin(2 * jnp.pi * 4.0 * t / 1000)``; or
    * an array of samples, shape ``(T,)`` or ``(T, n)``, piecewise constant over bins of
      ``rate_dt`` ms (``rates[k]`` holds on ``[k rate_dt, (k+1) rate_dt)``); the rate is 0 after
      the last bin.

    Args:
        n: number of spike trains.
        rate: rate function or array (Hz, >= 0).
        rate_dt: bin width of an array rate (ms); required with an array.

    Example:
        >>> import jax.numpy as jnp, neurosim as ns
        >>> src = ns.inputs.InhomogeneousPoisson(
        ...     100, lambda t: 20.0 + 15.0 * jnp.sin(2 * jnp.pi * 5.0 * t / 1000.0))
    """

    n: int = eqx.field(static=True)
    step_counter: ClassVar[str] = "interval"  # step i spans [i dt, (i+1) dt) in any convention
    rates: jax.Array | None
    rate_fn: Callable | None = eqx.field(static=True)
    rate_dt: jax.Array | None

    def __init__(self, n: int, rate, rate_dt=None):
        self.n = check_size("n", n)
        if callable(rate):
            if rate_dt is not None:
                raise ValueError("rate_dt is only used with an array rate, not a function")
            self.rate_fn, self.rates, self.rate_dt = rate, None, None
            return
        r = jnp.asarray(rate, dtype=jnp.result_type(float))
        if r.ndim not in (1, 2) or (r.ndim == 2 and r.shape[1] != n) or r.shape[0] < 1:
            raise ValueError(
                f"rate must be a function of t (ms) or an array of shape (T,) or (T, {n}), "
                f"got shape {r.shape}"
            )
        if is_concrete(r) and not np.all(np.isfinite(np.asarray(r)) & (np.asarray(r) >= 0)):
            raise ValueError("rate samples must be finite and >= 0 Hz")
        if rate_dt is None:
            raise ValueError("rate_dt (ms, the bin width of the rate samples) is required")
        check_positive("rate_dt", rate_dt, "ms")
        self.rate_fn, self.rates = None, r
        self.rate_dt = jnp.asarray(rate_dt, dtype=r.dtype)

    def init(self, key, dt) -> dict:
        if self.rates is not None:  # a function rate is not known before the run
            check_rate_per_step("InhomogeneousPoisson", self.rates, dt)
        return {}

    def rate_at(self, t) -> jax.Array:
        """Rate (Hz) at time ``t`` (ms), shape ``(n,)``."""
        dtype = jnp.result_type(float)
        if self.rate_fn is not None:
            return jnp.broadcast_to(jnp.asarray(self.rate_fn(t), dtype), (self.n,))
        k = jnp.floor(t / self.rate_dt).astype(jnp.int32)
        inside = (k >= 0) & (k < self.rates.shape[0])
        r = self.rates[jnp.clip(k, 0, self.rates.shape[0] - 1)]
        return jnp.broadcast_to(jnp.where(inside, r, 0.0), (self.n,))

    def step(self, state, drive, i, dt, key):
        t_mid = (i + 0.5) * dt
        p = self.rate_at(t_mid) * (dt * 1e-3)
        u = jax.random.uniform(key, (self.n,), dtype=p.dtype)
        return state, (u < p).astype(p.dtype)


def _is_flat(times) -> bool:
    try:
        return np.asarray(times, dtype=np.float64).ndim == 1
    except (ValueError, TypeError):
        return False


class SpikeTimes(AbstractSpikeSource):
    """Spikes at given times: neuron ``indices[k]`` fires at ``times[k]`` (ms).

    A spike at time ``t`` is emitted in step ``round(t / dt)`` (ties at half steps go to the
    later step), so the simulator reports it at exactly ``round(t/dt) * dt``; on-grid times are
    reproduced exactly. When the step is known (``init(key, dt)``, i.e. when a network state
    is made), off-grid times give a ``UserWarning`` with the largest rounding error, and two
    spikes of one neuron in the same step raise ``ValueError`` unless ``same_step="merge"``
    (they then merge into one spike, with a warning). Pass ``dt=`` to have the times checked
    strictly at construction (on the grid, at most one spike per neuron and step), as NEST's
    ``spike_generator`` does.

    Args:
        n: number of neurons.
        times: spike times (ms, >= 0): a 1-D array with ``indices``, or a sequence of ``n``
            per-neuron arrays when ``indices`` is None (for ``n = 1`` also a flat list).
        indices: neuron index of each spike (in ``[0, n)``).
        dt: optional simulation step (ms) to validate the times against.
        same_step: ``"refuse"`` (default) or ``"merge"`` spikes of one neuron that round to
            the same step.

    Example:
        >>> import neurosim as ns
        >>> gen = ns.inputs.SpikeTimes(2, times=[1.0, 5.0, 5.0], indices=[0, 0, 1])
        >>> gen2 = ns.inputs.SpikeTimes(2, times=[[1.0, 5.0], [5.0]])
    """

    n: int = eqx.field(static=True)
    times: jax.Array  # sorted
    indices: jax.Array  # int32, same order
    same_step: SameStep = eqx.field(static=True)

    def __init__(self, n: int, times, indices=None, *, dt=None, same_step: SameStep = "refuse"):
        self.n = check_size("n", n)
        self.same_step = check_literal("same_step", same_step, SameStep)
        if indices is None and n == 1 and _is_flat(times):
            times = [times]  # one neuron: a flat list of its times
        if indices is None:
            if len(times) != n:
                raise ValueError(
                    f"without indices, times must hold one array per neuron ({n}), got {len(times)}"
                )
            per = [np.asarray(t, np.float64).ravel() for t in times]
            t_all = np.concatenate(per) if per else np.zeros(0)
            i_all = np.concatenate([np.full(len(t), k, np.int64) for k, t in enumerate(per)])
        else:
            t_all = np.asarray(times, np.float64).ravel()
            i_all = np.asarray(indices).ravel()
            if t_all.shape != i_all.shape:
                raise ValueError(
                    f"times and indices must have the same length, got {t_all.size} and "
                    f"{i_all.size}"
                )
            if i_all.size and not np.issubdtype(i_all.dtype, np.integer):
                raise ValueError(f"indices must be integers, got dtype {i_all.dtype}")
        if t_all.size:
            if not np.all(np.isfinite(t_all)) or t_all.min() < 0:
                raise ValueError(f"spike times must be finite and >= 0 ms, got min {t_all.min()}")
            if i_all.min() < 0 or i_all.max() >= n:
                raise ValueError(
                    f"indices must lie in [0, {n}), got [{i_all.min()}, {i_all.max()}]"
                )
        if dt is not None:
            check_positive("dt", dt, "ms")
            steps = np.floor(t_all / dt + 0.5)
            off = np.abs(t_all - steps * dt)
            if off.size and off.max() > 1e-6 * max(dt, 1.0):
                k = int(np.argmax(off))
                raise ValueError(
                    f"spike time {t_all[k]} ms is not on the dt={dt} ms grid; round the times "
                    "to multiples of dt"
                )
            pairs = np.stack([i_all, steps.astype(np.int64)], 1)
            if len(np.unique(pairs, axis=0)) != len(pairs):
                raise ValueError(
                    f"a neuron has two spikes in the same step of dt={dt} ms; "
                    "spikes of one neuron must be at least dt apart"
                )
        order = np.argsort(t_all, kind="stable")
        self.times = jnp.asarray(t_all[order], dtype=jnp.result_type(float))
        self.indices = jnp.asarray(i_all[order], dtype=jnp.int32)

    def init(self, key, dt) -> dict:
        if is_concrete(dt) and is_concrete(self.times):
            self._check_grid(float(dt))
        return {}

    def _check_grid(self, dt: float) -> None:
        """Warn about off-grid times (largest error); refuse same-step spikes unless merged."""
        import warnings

        t = np.asarray(self.times, np.float64)
        if not t.size:
            return
        steps = np.floor(t / dt + 0.5)
        err = np.abs(t - steps * dt)
        k = int(np.argmax(err))
        if err[k] > 1e-3 * dt:
            warnings.warn(
                f"SpikeTimes: {int((err > 1e-3 * dt).sum())} spike time(s) are not on the "
                f"dt={dt:g} ms grid and are rounded to the nearest step (largest error "
                f"{err[k]:.3g} ms: {t[k]:g} -> {steps[k] * dt:g} ms); round the times to "
                "multiples of dt to silence this",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        pairs = np.stack([np.asarray(self.indices, np.int64), steps.astype(np.int64)], 1)
        n_dup = len(pairs) - len(np.unique(pairs, axis=0))
        if n_dup:
            what = (
                f"SpikeTimes: {n_dup} spike(s) fall into the same dt={dt:g} ms step as an "
                "earlier spike of the same neuron"
            )
            if self.same_step == "refuse":
                raise ValueError(
                    f"{what} and would be lost; space each neuron's spikes at least dt apart, "
                    'use a smaller dt, or pass same_step="merge" to merge them into one spike'
                )
            warnings.warn(
                f"{what}; merged into one spike each (same_step='merge')",
                UserWarning,
                stacklevel=user_stacklevel(),
            )

    def step(self, state, drive, i, dt, key):
        dtype = self.times.dtype
        lo = jnp.searchsorted(self.times, (i - 0.5) * dt, side="left")
        hi = jnp.searchsorted(self.times, (i + 0.5) * dt, side="left")

        def body(k, s):
            return s.at[self.indices[k]].set(1.0)

        spikes = lax.fori_loop(lo, hi, body, jnp.zeros((self.n,), dtype))
        return state, spikes
