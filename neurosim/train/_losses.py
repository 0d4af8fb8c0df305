"""Losses on spike trains and membrane potentials, and activity regularisers.

Conventions: arrays are ``(..., T, n)`` (time, then neurons, after any batch axes); integer
labels are ``(...)``; losses return the mean over batch axes. ``dt`` in ms, rates in Hz.
Spikes are the surrogate-differentiable 0/1 arrays of the neuron models.

``van_rossum_distance`` is :func:`neurosim.analysis.van_rossum_distance` (shared with
:mod:`neurosim.fit`); for this module's layout call it with ``time_axis=-2, neuron_axis=-1,
batch_mean=True``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ..analysis import exponential_filter, van_rossum_distance

__all__ = [
    "cross_entropy",
    "rate_cross_entropy",
    "max_membrane_cross_entropy",
    "membrane_cross_entropy",
    "first_spike_times",
    "first_spike_loss",
    "exp_filter",
    "van_rossum_distance",
    "voltage_mse",
    "rate_loss",
    "summary_statistics",
    "summary_loss",
    "rate_bounds",
    "l1_activity",
    "accuracy",
]


def cross_entropy(logits, labels):
    """Mean softmax cross-entropy of ``logits (..., C)`` against integer ``labels (...)``."""
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.mean(jnp.take_along_axis(logp, labels[..., None].astype(jnp.int32), -1))


def accuracy(logits, labels):
    """Fraction of ``argmax(logits, -1) == labels``."""
    return jnp.mean(jnp.argmax(logits, axis=-1) == labels)


def rate_cross_entropy(spikes, labels, scale=1.0):
    """Cross-entropy with spike counts as logits (``scale * sum_t z``).

    The class whose output neuron fires most wins (rate/count coding; e.g. Neftci et al.
    2019, Eshraghian et al. 2023).

    Example:
        >>> import jax.numpy as jnp, neurosim as ns
        >>> z = jnp.zeros((4, 20, 3)).at[:, :5, 1].set(1.0)
        >>> loss = ns.train.rate_cross_entropy(z, jnp.array([1, 1, 1, 1]))
    """
    return cross_entropy(scale * jnp.sum(spikes, axis=-2), labels)


def membrane_cross_entropy(v, labels, reduce: str = "max"):
    """Cross-entropy with a readout membrane (``(..., T, C)``, mV) reduced over time as logits.

    ``reduce``: ``"max"`` (Cramer et al. 2022; Zenke & Vogels 2021), ``"mean"`` or ``"last"``.
    """
    if reduce == "max":
        logits = jnp.max(v, axis=-2)
    elif reduce == "mean":
        logits = jnp.mean(v, axis=-2)
    elif reduce == "last":
        logits = v[..., -1, :]
    else:
        raise ValueError(f"reduce must be 'max', 'mean' or 'last', got {reduce!r}")
    return cross_entropy(logits, labels)


def max_membrane_cross_entropy(v, labels):
    """Cross-entropy of ``max_t v`` of a non-spiking readout (``(..., T, C)``, mV).

    The usual readout for surrogate-gradient classification (Zenke & Vogels 2021,
    *Neural Comput.* 33:899; Cramer et al. 2022, *IEEE TNNLS* 33:2744).
    """
    return membrane_cross_entropy(v, labels, "max")


def first_spike_times(spikes, dt, t_max=None):
    """Differentiable time of the first spike (ms) per neuron: ``(..., T, n) -> (..., n)``.

    ``t = sum_t t z_t prod_{s<t} (1 - z_s) + t_max prod_s (1 - z_s)`` with ``t = (i + 1) dt``
    for step ``i``: exactly the first-spike time (``t_max``, default ``T dt``, if none) in the
    forward pass, and differentiable through the surrogate of every ``z``.
    """
    n_steps = spikes.shape[-2]
    t_max = n_steps * dt if t_max is None else t_max
    times = dt * jnp.arange(1, n_steps + 1, dtype=spikes.dtype)
    silent = jnp.cumprod(1.0 - spikes, axis=-2)  # prod_{s<=t} (1 - z_s)
    before = jnp.concatenate([jnp.ones_like(silent[..., :1, :]), silent[..., :-1, :]], axis=-2)
    first = spikes * before
    return jnp.sum(times[:, None] * first, axis=-2) + t_max * silent[..., -1, :]


def first_spike_loss(spikes, labels, dt, tau0=2.0, alpha=0.0, tau1=10.0):
    """Time-to-first-spike classification loss (Göltz et al. 2021, *Nat. Mach. Intell.* 3:823).

    ``CE(softmax(-t / tau0), label) + alpha (exp(t_label / tau1) - 1)``: the label neuron
    should fire first; the second term (off with ``alpha = 0``) pushes it to fire early.

    Args:
        spikes: output spikes ``(..., T, C)``.
        labels: integer classes ``(...)``.
        dt: step (ms). tau0, tau1: time scales (ms). alpha: weight of the earliness term.
    """
    t = first_spike_times(spikes, dt)
    loss = cross_entropy(-t / tau0, labels)
    if alpha:
        t_label = jnp.take_along_axis(t, labels[..., None].astype(jnp.int32), -1)
        loss = loss + alpha * jnp.mean(jnp.exp(t_label / tau1) - 1.0)
    return loss


def exp_filter(x, tau, dt, axis: int = -2):
    """Causal exponential filter along ``axis``: ``y_t = y_{t-1} exp(-dt/tau) + x_t``.

    :func:`neurosim.analysis.exponential_filter` with this module's default layout (time
    second to last).
    """
    return exponential_filter(x, tau, dt, axis=axis)


def voltage_mse(v, v_target, mask=None):
    """Mean squared error between membrane traces (mV^2), optionally weighted by ``mask``."""
    err = (v - v_target) ** 2
    if mask is None:
        return jnp.mean(err)
    mask = jnp.broadcast_to(mask, err.shape)
    return jnp.sum(err * mask) / jnp.maximum(jnp.sum(mask), 1.0)


def _rates_hz(spikes, dt):
    return jnp.mean(spikes, axis=-2) * (1000.0 / dt)


def rate_loss(spikes, target_hz, dt):
    """Mean squared error (Hz^2) of per-neuron firing rates against ``target_hz``."""
    return jnp.mean((_rates_hz(spikes, dt) - target_hz) ** 2)


def summary_statistics(spikes, dt, window: int = 10):
    """Differentiable summary statistics of a spike raster ``(..., T, n)``.

    Returns a dict of ``(...)`` arrays:

    * ``rate_hz``: mean rate over neurons and time;
    * ``rate_std_hz``: standard deviation of per-neuron rates;
    * ``fano``: Fano factor of per-neuron spike counts in windows of ``window`` steps,
      averaged over neurons (1 for Poisson);
    * ``synchrony``: Golomb (2007, *Scholarpedia* 2:1347) chi^2, variance of the population
      mean signal over the mean single-neuron variance of the windowed counts (0 asynchronous,
      1 fully synchronous).
    """
    r = _rates_hz(spikes, dt)
    n_steps = spikes.shape[-2]
    n_win = n_steps // window
    if n_win < 2:
        raise ValueError(f"need at least 2 windows of {window} steps, got T = {n_steps}")
    c = spikes[..., : n_win * window, :]
    c = c.reshape(c.shape[:-2] + (n_win, window, c.shape[-1])).sum(-2)  # (..., W, n)
    mean_c, var_c = jnp.mean(c, -2), jnp.var(c, -2)
    fano = jnp.mean(var_c / (mean_c + 1e-6), -1)
    pop = jnp.mean(c, -1)  # (..., W)
    sync = jnp.var(pop, -1) / (jnp.mean(var_c, -1) + 1e-9)
    return {
        "rate_hz": jnp.mean(r, -1),
        "rate_std_hz": jnp.std(r, -1),
        "fano": fano,
        "synchrony": sync,
    }


def summary_loss(stats: dict, targets: dict, scales: dict | None = None):
    """``sum_k ((stats[k] - targets[k]) / scales[k])^2`` over the keys of ``targets``.

    Example:
        >>> import jax, neurosim as ns
        >>> z = (jax.random.uniform(jax.random.key(0), (200, 50)) < 0.01).astype(float)
        >>> s = ns.train.summary_statistics(z, dt=1.0)
        >>> loss = ns.train.summary_loss(s, {"rate_hz": 5.0}, {"rate_hz": 1.0})
    """
    scales = scales or {}
    total = 0.0
    for k, t in targets.items():
        if k not in stats:
            raise ValueError(f"unknown statistic {k!r}; available: {sorted(stats)}")
        total = total + jnp.mean(((stats[k] - t) / scales.get(k, 1.0)) ** 2)
    return total


def rate_bounds(spikes, dt, low_hz=0.0, high_hz=None):
    """Per-neuron firing-rate bounds: ``mean_j relu(low - r_j)^2 + relu(r_j - high)^2`` (Hz^2).

    A soft version of the per-neuron lower and upper activity bounds of Zenke & Vogels 2021
    (*Neural Comput.* 33:899): silent neurons get gradient to fire, hyperactive ones to calm.
    """
    r = _rates_hz(spikes, dt)
    loss = jnp.mean(jax.nn.relu(low_hz - r) ** 2)
    if high_hz is not None:
        loss = loss + jnp.mean(jax.nn.relu(r - high_hz) ** 2)
    return loss


def l1_activity(spikes):
    """Mean spike count per neuron (an L1 penalty on activity; counts are >= 0)."""
    return jnp.mean(jnp.sum(jnp.abs(spikes), axis=-2))
