"""Encoders: analog values -> spike trains ``(..., T, n)`` (time axis before the last)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._random import poisson_counts
from .._validate import check_nonnegative, check_positive

__all__ = ["rate_bernoulli", "rate_poisson", "latency", "delta"]


def _as_float(x):
    return jnp.asarray(x, jnp.result_type(float))


def rate_bernoulli(key, x, n_steps: int, dt, max_rate_hz=100.0):
    """Bernoulli rate code: spike in each step with probability ``x * max_rate_hz * dt``.

    Args:
        key: random key.
        x: intensities in [0, 1], shape ``(..., n)``.
        n_steps: number of steps T.
        dt: step (ms).
        max_rate_hz: rate (Hz) for ``x = 1``; ``max_rate_hz * dt / 1000 <= 1`` is required.

    Returns:
        0/1 float array ``(..., T, n)``.

    Example:
        >>> import jax, jax.numpy as jnp, neurosim as ns
        >>> s = ns.train.rate_bernoulli(jax.random.key(0), jnp.array([0.0, 0.5, 1.0]), 100, 1.0)
    """
    check_positive("dt", dt, "ms")
    check_nonnegative("max_rate_hz", max_rate_hz, "Hz")
    p_max = max_rate_hz * dt / 1000.0
    if isinstance(p_max, float) and p_max > 1.0:
        raise ValueError(
            f"max_rate_hz * dt = {p_max:g} spikes per step > 1: lower the rate or dt "
            "(or use rate_poisson for graded counts)"
        )
    x = _as_float(x)
    p = jnp.clip(x, 0.0, 1.0) * p_max
    shape = x.shape[:-1] + (int(n_steps), x.shape[-1])
    u = jax.random.uniform(key, shape, x.dtype)
    return (u < p[..., None, :]).astype(x.dtype)


def rate_poisson(key, rates_hz, n_steps: int, dt, clip: bool = True):
    """Poisson rate code: ``Poisson(rate * dt)`` events per step.

    Args:
        key: random key.
        rates_hz: rates (Hz), shape ``(..., n)``, >= 0.
        n_steps: number of steps.
        dt: step (ms).
        clip: cap counts at 1 (a spike train); False keeps graded counts.

    Returns:
        float array ``(..., T, n)``.
    """
    check_positive("dt", dt, "ms")
    rates = _as_float(rates_hz)
    check_nonnegative("rates_hz", rates, "Hz")
    lam = rates * dt / 1000.0
    shape = rates.shape[:-1] + (int(n_steps), rates.shape[-1])
    counts = poisson_counts(key, jnp.broadcast_to(lam[..., None, :], shape)).astype(rates.dtype)
    counts = jnp.where(counts < 0, jnp.nan, counts)  # a NaN rate gives NaN, not a count
    return jnp.minimum(counts, 1.0) if clip else counts


def latency(x, n_steps: int, dt, *, t_min=0.0, t_max=None, early_high: bool = True):
    """Latency (time-to-first-spike) code: one spike per input, at a time set by its value.

    Linear code ``t = t_min + (1 - x)(t_max - t_min)`` for ``x`` in [0, 1] (large values fire
    early; with ``early_high=False``, ``t = t_min + x (t_max - t_min)`` as in the Yin-Yang
    encoding of Göltz et al. 2021). Values outside [0, 1] are clipped; a spike time at or
    beyond ``n_steps * dt`` is dropped. The spike falls in step ``floor(t / dt)``.

    Args:
        x: values, shape ``(..., n)``.
        n_steps: number of steps.
        dt: step (ms).
        t_min, t_max: earliest and latest spike time (ms); ``t_max`` defaults to
            ``(n_steps - 1) dt``.

    Returns:
        0/1 float array ``(..., T, n)``.
    """
    check_positive("dt", dt, "ms")
    x = jnp.clip(_as_float(x), 0.0, 1.0)
    t_max = (n_steps - 1) * dt if t_max is None else t_max
    frac = (1.0 - x) if early_high else x
    t = t_min + frac * (t_max - t_min)
    idx = jnp.floor(t / dt + 1e-6).astype(jnp.int32)
    steps = jnp.arange(int(n_steps))
    return (steps[:, None] == idx[..., None, :]).astype(x.dtype)


def delta(signal, threshold, *, off_spikes: bool = True):
    """Delta (send-on-change) code, as in event cameras and Eshraghian et al. 2023.

    An ON spike when the signal has risen by ``threshold`` since the channel's last event
    (or the first sample), an OFF spike when it has fallen by ``threshold``; the reference
    then moves to the current value.

    Args:
        signal: ``(..., T, n)``.
        threshold: change needed for an event (signal units), > 0.
        off_spikes: also emit OFF events (output ``(..., T, 2n)``: ON channels, then OFF).

    Returns:
        0/1 float array ``(..., T, n)`` or ``(..., T, 2n)``.
    """
    check_positive("threshold", threshold)
    signal = _as_float(signal)
    st = jnp.moveaxis(signal, -2, 0)

    def body(ref, s):
        on = s - ref >= threshold
        off = ref - s >= threshold
        ref = jnp.where(on | off, s, ref)
        return ref, (on, off)

    _, (on, off) = jax.lax.scan(body, st[0], st)
    on = jnp.moveaxis(on, 0, -2).astype(signal.dtype)
    off = jnp.moveaxis(off, 0, -2).astype(signal.dtype)
    return jnp.concatenate([on, off], axis=-1) if off_spikes else on
