"""Spike-train distances on binned (0/1 or graded) trains: pure ``jnp``, differentiable.

One implementation for every caller: ``ns.train.van_rossum_distance`` (a training loss over
``(batch, T, n)`` rasters) and ``ns.fit.van_rossum_distance`` (per-train distances of
time-first recordings) are this function; their different layouts and reductions are
explicit arguments, never guessed.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["exponential_filter", "van_rossum_distance"]


def _axis(name: str, axis: int, ndim: int) -> int:
    if isinstance(axis, bool) or not isinstance(axis, int) or not -ndim <= axis < ndim:
        raise ValueError(f"{name} must be an integer axis of a {ndim}-d array, got {axis!r}")
    return axis % ndim


def exponential_filter(spikes, tau, dt, axis: int = 0):
    r"""Causal exponential filter of binned spike trains along ``axis`` (time).

    ``f[k] = exp(-dt/tau) f[k-1] + s[k]``: a spike in bin ``k`` contributes
    ``exp(-(j - k) dt / tau)`` to bin ``j >= k`` (van Rossum 2001's kernel on the grid).

    Args:
        spikes: 0/1 or graded (e.g. surrogate) spike trains.
        tau: filter time constant (ms).
        dt: bin width (ms).
        axis: the time axis (default 0: time first).

    Returns:
        The filtered trains, same shape as ``spikes``.

    Example:
        >>> import jax.numpy as jnp, neurosim as ns
        >>> f = ns.analysis.exponential_filter(jnp.array([1.0, 0.0, 0.0]), tau=1.0, dt=1.0)
        >>> [round(float(x), 4) for x in f]
        [1.0, 0.3679, 0.1353]
    """
    spikes = jnp.asarray(spikes)
    axis = _axis("axis", axis, spikes.ndim)
    decay = jnp.exp(-dt / jnp.asarray(tau, spikes.dtype))
    xt = jnp.moveaxis(spikes, axis, 0)

    def body(f, s):
        f = decay * f + s
        return f, f

    _, out = jax.lax.scan(body, jnp.zeros_like(xt[0]), xt)
    return jnp.moveaxis(out, 0, axis)


def van_rossum_distance(
    spikes_a,
    spikes_b,
    tau,
    dt,
    *,
    time_axis: int,
    neuron_axis: int | None = None,
    batch_mean: bool = False,
    squared: bool = True,
):
    r"""Van Rossum (2001) distance between binned spike trains.

    .. math::
        D^2 = \frac{1}{\tau} \int (f_a - f_b)^2 dt,
        \quad f = \sum_i e^{-(t - t_i)/\tau} H(t - t_i)

    discretised on the bins (``dt`` ms), so a lone unmatched spike contributes ~1/2 and two
    spikes ``delta`` apart contribute ``1 - exp(-|delta|/tau)`` (to O(dt/tau)).
    Differentiable in graded (surrogate) spikes. Reference: van Rossum (2001), Neural
    Comput. 13:751–763.

    Args:
        spikes_a, spikes_b: binned trains of equal shape.
        tau: kernel time constant (ms): small for precise timing, large for rates.
        dt: bin width (ms).
        time_axis: the time axis (keyword, required: ``0`` for time-first recordings as in
            :mod:`neurosim.fit`, ``-2`` for the ``(..., T, n)`` rasters of
            :mod:`neurosim.train`).
        neuron_axis: if given, ``D^2`` is summed over this axis too (the population
            distance); otherwise one distance per train.
        batch_mean: average the result over all remaining axes (a scalar loss).
        squared: return ``D^2`` (default); ``False`` returns ``D`` (taken per train or
            population before any ``batch_mean``; not differentiable where ``D = 0``).

    Returns:
        ``D^2`` (or ``D``) with the time axis (and ``neuron_axis``) reduced; a scalar with
        ``batch_mean``.

    Example:
        >>> import jax.numpy as jnp, neurosim as ns
        >>> a = jnp.zeros(1000).at[100].set(1.0)
        >>> d2 = ns.analysis.van_rossum_distance(a, jnp.zeros(1000), 10.0, 0.1, time_axis=0)
        >>> abs(float(d2) - 0.5) < 0.1 / 10.0  # a lone spike: 1/2, to O(dt/tau)
        True
    """
    diff = jnp.asarray(spikes_a) - jnp.asarray(spikes_b)
    t_ax = _axis("time_axis", time_axis, diff.ndim)
    axes = (t_ax,)
    if neuron_axis is not None:
        n_ax = _axis("neuron_axis", neuron_axis, diff.ndim)
        if n_ax == t_ax:
            raise ValueError(f"neuron_axis ({neuron_axis}) and time_axis ({time_axis}) must differ")
        axes = (t_ax, n_ax)
    filtered = exponential_filter(diff, tau, dt, axis=t_ax)
    d = jnp.sum(filtered**2, axis=axes) * (dt / tau)
    if not squared:
        d = jnp.sqrt(d)
    return jnp.mean(d) if batch_mean else d
