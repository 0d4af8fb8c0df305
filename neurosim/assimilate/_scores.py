"""Scores and observation noise shared by the twin experiments (a: rate, b: spiking)."""

from __future__ import annotations

import numpy as np

__all__ = ["noisy_bold", "region_corr", "recovery"]


def noisy_bold(y_true, obs_noise: float, rng):
    """``(y_obs, R, sd)``: ``y_true`` ``(T, M)`` plus Gaussian noise of std ``obs_noise`` x
    the median over regions of the temporal BOLD std (``sd``); ``R`` its variance."""
    sd = float(np.median(y_true.std(0)))
    y_obs = y_true + obs_noise * sd * rng.standard_normal(y_true.shape)
    return y_obs, (obs_noise * sd) ** 2, sd


def region_corr(a, b) -> np.ndarray:
    """Per-column (region) Pearson correlation of two ``(T, M)`` series."""
    return np.array([np.corrcoef(a[:, i], b[:, i])[0, 1] for i in range(a.shape[1])])


def recovery(name: str, est, start, true) -> dict:
    """Parameter recovery of the final estimate vs the starting ensemble's mean: correlation
    with the truth and median relative error, and the ratio of the errors (end / start)."""

    def rel(x):
        return float(np.median(np.abs(x - true) / np.abs(true)))

    return {
        f"{name}_corr": float(np.corrcoef(est, true)[0, 1]),
        f"{name}_corr_start": float(np.corrcoef(start, true)[0, 1]),
        f"{name}_median_rel_err": rel(est),
        f"{name}_median_rel_err_start": rel(start),
        f"{name}_err_ratio": rel(est) / rel(start),
    }
