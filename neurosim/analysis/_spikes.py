"""Spike-train statistics over recorded (times, indices) arrays (NumPy, host side)."""

from __future__ import annotations

import numpy as np

__all__ = ["firing_rates", "isi_cv", "population_rate"]


def _check(times, indices):
    t = np.asarray(times, dtype=np.float64)
    i = np.asarray(indices, dtype=np.int64)
    if t.shape != i.shape or t.ndim != 1:
        raise ValueError(f"times and indices must be 1-D of equal length, got {t.shape}, {i.shape}")
    return t, i


def firing_rates(times, indices, n: int, duration_ms: float) -> np.ndarray:
    """Per-neuron firing rates (Hz) of neurons ``0..n-1`` over ``duration_ms``."""
    _, i = _check(times, indices)
    if duration_ms <= 0:
        raise ValueError(f"duration_ms must be > 0, got {duration_ms}")
    return np.bincount(i, minlength=n)[:n] / (duration_ms * 1e-3)


def isi_cv(times, indices, min_spikes: int = 3) -> float:
    """Mean coefficient of variation of inter-spike intervals over neurons.

    Neurons with fewer than ``min_spikes`` spikes are skipped; ``nan`` if none qualifies.
    A Poisson process has CV 1, a regular train CV 0.
    """
    t, i = _check(times, indices)
    if t.size == 0:
        return float("nan")
    order = np.lexsort((t, i))
    t, i = t[order], i[order]
    same = i[1:] == i[:-1]
    isi = np.diff(t)[same]
    owner = i[1:][same]
    if isi.size == 0:
        return float("nan")
    uniq, inv, counts = np.unique(owner, return_inverse=True, return_counts=True)
    s1 = np.bincount(inv, weights=isi)
    s2 = np.bincount(inv, weights=isi * isi)
    ok = counts >= max(min_spikes - 1, 2)
    if not np.any(ok):
        return float("nan")
    mean = s1[ok] / counts[ok]
    var = np.maximum(s2[ok] / counts[ok] - mean**2, 0.0) * counts[ok] / (counts[ok] - 1)
    return float(np.mean(np.sqrt(var) / mean))


def population_rate(times, n: int, duration_ms: float, bin_ms: float = 1.0, t_start: float = 0.0):
    """Population rate (Hz per neuron) in bins of ``bin_ms``: ``(bin_centres_ms, rate_hz)``."""
    t = np.asarray(times, dtype=np.float64)
    if bin_ms <= 0:
        raise ValueError(f"bin_ms must be > 0, got {bin_ms}")
    n_bins = max(1, int(np.ceil(duration_ms / bin_ms - 1e-9)))
    edges = t_start + np.arange(n_bins + 1) * bin_ms
    counts, _ = np.histogram(t, bins=edges)
    return 0.5 * (edges[1:] + edges[:-1]), counts / max(n, 1) / (bin_ms * 1e-3)
