"""Count statistics and spectra of spike trains (NumPy, host side)."""

from __future__ import annotations

from typing import Literal

import numpy as np

from .._validate import check_literal
from ._signals import power_spectrum
from ._spikes import _check

__all__ = ["spike_counts", "fano_factor", "spike_train_spectrum"]

Average = Literal["neurons", "population"]


def spike_counts(times, indices, n: int, duration_ms: float, bin_ms: float, t_start: float = 0.0):
    """Spike counts ``(n_bins, n)`` of neurons ``0..n-1`` in consecutive bins of ``bin_ms``.

    Only whole bins in ``[t_start, t_start + duration_ms)`` are counted
    (``n_bins = floor(duration_ms / bin_ms)``).
    """
    t, i = _check(times, indices)
    if bin_ms <= 0:
        raise ValueError(f"bin_ms must be > 0 ms, got {bin_ms}")
    if duration_ms <= 0:
        raise ValueError(f"duration_ms must be > 0 ms, got {duration_ms}")
    n_bins = int(np.floor(duration_ms / bin_ms + 1e-9))
    if n_bins < 1:
        raise ValueError(f"duration_ms ({duration_ms}) is shorter than one bin ({bin_ms} ms)")
    b = np.floor((t - t_start) / bin_ms).astype(np.int64)
    keep = (b >= 0) & (b < n_bins) & (i >= 0) & (i < n)
    counts = np.zeros((n_bins, n), np.float64)
    np.add.at(counts, (b[keep], i[keep]), 1.0)
    return counts


def fano_factor(
    times,
    indices,
    n: int,
    duration_ms: float,
    window_ms: float,
    t_start: float = 0.0,
    per_neuron: bool = False,
):
    """Fano factor of spike counts in consecutive windows: ``var(N) / mean(N)`` per neuron.

    Counts in ``floor(duration_ms / window_ms)`` (>= 2) windows of ``window_ms``; the variance
    is the unbiased one (``ddof=1``). A Poisson process has F = 1 for every window, a regular
    train F = 0 when the window is a multiple of its period; spikes arriving in bursts of
    exactly ``m`` at Poisson times give F = m.

    Returns:
        The mean over neurons that spiked (NaN if none), or with ``per_neuron`` an ``(n,)``
        array (NaN for silent neurons).

    Example:
        >>> import numpy as np, neurosim as ns
        >>> t = np.arange(0.5, 1000.0, 10.0)  # a 100 Hz regular train
        >>> float(ns.analysis.fano_factor(t, np.zeros_like(t, int), 1, 1000.0, 50.0))
        0.0
    """
    counts = spike_counts(times, indices, n, duration_ms, window_ms, t_start)
    if counts.shape[0] < 2:
        raise ValueError(f"need at least 2 windows of {window_ms} ms, duration_ms is {duration_ms}")
    mean = counts.mean(axis=0)
    var = counts.var(axis=0, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ff = np.where(mean > 0, var / mean, np.nan)
    if per_neuron:
        return ff
    return float(np.nanmean(ff)) if np.any(mean > 0) else float("nan")


def spike_train_spectrum(
    times,
    indices,
    n: int,
    duration_ms: float,
    bin_ms: float = 1.0,
    t_start: float = 0.0,
    *,
    average: Average = "neurons",
    n_segments: int = 1,
    block: int = 256,
):
    """Power spectrum (Hz) of spike trains binned at ``bin_ms``.

    Each train is binned into a rate signal (counts / bin width, Hz) and passed to
    :func:`power_spectrum` (two-sided density at ``f >= 0``, mean removed). With
    ``average="neurons"`` the spectra of the ``n`` single trains are averaged: a Poisson
    train of rate ``nu`` has a flat spectrum equal to ``nu`` (Hz), a regular train at ``f0``
    peaks at ``f0`` and its harmonics. With ``average="population"`` the spectrum is that of
    the summed train divided by ``n`` (equal to the above for independent trains, up to ``n``
    times larger for synchronous ones). Frequencies up to ``500 / bin_ms`` Hz, resolution
    ``1000 / (duration_ms / n_segments)`` Hz.

    Returns:
        ``(freqs_hz, psd_hz)`` as NumPy arrays.

    Example:
        >>> import numpy as np, neurosim as ns
        >>> t = np.arange(0.5, 2000.0, 25.0)  # 40 Hz regular train
        >>> f, p = ns.analysis.spike_train_spectrum(t, np.zeros_like(t, int), 1, 2000.0)
        >>> float(f[1:][np.argmax(p[1:])])
        40.0
    """
    check_literal("average", average, Average)
    t, i = _check(times, indices)
    if average == "population":
        keep = (i >= 0) & (i < n)
        rate = spike_counts(t[keep], np.zeros(int(keep.sum()), np.int64), 1, duration_ms,
                            bin_ms, t_start)  # fmt: skip
        f, p = power_spectrum(rate[:, 0] * (1e3 / bin_ms), bin_ms, n_segments=n_segments)
        return np.asarray(f), np.asarray(p) / n
    total = None
    for a in range(0, n, block):
        b = min(n, a + block)
        m = (i >= a) & (i < b)
        counts = spike_counts(t[m], i[m] - a, b - a, duration_ms, bin_ms, t_start)
        f, p = power_spectrum(counts * (1e3 / bin_ms), bin_ms, n_segments=n_segments)
        s = np.asarray(p).sum(axis=1)
        total = s if total is None else total + s
    return np.asarray(f), total / n
