"""Firing-pattern features and classification of one neuron's response to a current step."""

from __future__ import annotations

import numpy as np

__all__ = ["firing_features", "firing_pattern", "PATTERNS"]

PATTERNS = (
    "silent",
    "transient",
    "tonic",
    "adapting",
    "accelerating",
    "irregular",
    "initial_burst",
    "bursting",
)

# Criteria (fixed in advance, following the qualitative definitions of Naud et al. 2008 and
# Izhikevich 2003/2004; they are conventions, not fitted to any model):
BURST_GAP = 3.0  # ISIs form two groups if sorted ISIs jump by this factor ("short" vs "long")
ADAPT_RATIO = 1.5  # steady ISI / first ISI above this: adapting; below 1/this: accelerating
CV_IRREGULAR = 0.25  # CV of the late ISIs above this (and no burst structure): irregular
DELAY_FACTOR = 2.0  # first-spike latency above this many mean ISIs: "delayed_" prefix


def _bursts(isi: np.ndarray):
    """``(threshold, clusters)``: clusters are ``(start, stop)`` runs of short ISIs."""
    if isi.size < 2:
        return None, []
    s = np.sort(isi)
    ratios = s[1:] / np.maximum(s[:-1], 1e-12)
    k = int(np.argmax(ratios))
    if ratios[k] < BURST_GAP:
        return None, []
    thr = float(np.sqrt(s[k] * s[k + 1]))
    short = isi < thr
    clusters, start = [], None
    for i, sh in enumerate(short):
        if sh and start is None:
            start = i
        if not sh and start is not None:
            clusters.append((start, i))
            start = None
    if start is not None:
        clusters.append((start, len(short)))
    return thr, clusters


def firing_features(spike_times, t_on: float, t_off: float) -> dict:
    """Features of the spikes of one neuron during a current step ``[t_on, t_off)`` (ms).

    Returns a dict with ``n_spikes``, ``latency`` (ms, first spike after ``t_on``),
    ``first_isi``, ``steady_isi`` (mean of the last three ISIs), ``adaptation_ratio``
    (``steady_isi / first_isi``), ``cv_late`` (CV of the ISIs of the second half of the
    train), ``n_bursts`` (clusters of >= 2 spikes separated by ISIs at least ``BURST_GAP``
    times longer) and ``burst_threshold`` (ms). Missing values are ``nan``.
    """
    t = np.sort(np.asarray(spike_times, dtype=np.float64))
    t = t[(t >= t_on) & (t < t_off)]
    isi = np.diff(t)
    nan = float("nan")
    thr, clusters = _bursts(isi)
    late = isi[isi.size // 2 :]
    return {
        "n_spikes": int(t.size),
        "latency": float(t[0] - t_on) if t.size else nan,
        "last_spike": float(t[-1] - t_on) if t.size else nan,
        "first_isi": float(isi[0]) if isi.size else nan,
        "steady_isi": float(isi[-3:].mean()) if isi.size else nan,
        "mean_isi": float(isi.mean()) if isi.size else nan,
        "adaptation_ratio": float(isi[-3:].mean() / isi[0]) if isi.size else nan,
        "cv_late": float(late.std() / late.mean()) if late.size >= 2 else nan,
        "n_bursts": len(clusters),
        "burst_threshold": thr if thr is not None else nan,
        "initial_burst_only": len(clusters) == 1 and clusters[0][0] == 0,
    }


def firing_pattern(spike_times, t_on: float, t_off: float) -> str:
    """Classify a neuron's response to a current step ``[t_on, t_off)`` (ms).

    Rules, applied in order (thresholds are the module constants):

    1. no spike: ``"silent"``; fewer than three spikes or none in the second half of the
       step: ``"transient"``;
    2. ISIs split into short and long ones (a factor ``BURST_GAP`` between groups):
       two or more clusters of short ISIs: ``"bursting"``; one cluster at the start only:
       ``"initial_burst"``;
    3. otherwise, late ISIs with CV above ``CV_IRREGULAR``: ``"irregular"``;
    4. otherwise steady ISI / first ISI above ``ADAPT_RATIO``: ``"adapting"``, below its
       inverse: ``"accelerating"``, else ``"tonic"``.

    Patterns from rules 2-4 get the prefix ``"delayed_"`` when the first-spike latency exceeds
    ``DELAY_FACTOR`` mean ISIs (Naud et al. 2008's delayed accelerating / delayed bursting).

    Example:
        >>> firing_pattern([10.0, 20.0, 30.0, 40.0, 50.0, 60.0], 0.0, 100.0)
        'tonic'
    """
    f = firing_features(spike_times, t_on, t_off)
    if f["n_spikes"] == 0:
        return "silent"
    if f["last_spike"] < 0.5 * (t_off - t_on) or f["n_spikes"] < 3:
        return "transient"
    if f["n_bursts"] >= 2:
        name = "bursting"
    elif f["initial_burst_only"]:
        name = "initial_burst"
    elif f["cv_late"] > CV_IRREGULAR:
        name = "irregular"
    elif f["adaptation_ratio"] > ADAPT_RATIO:
        name = "adapting"
    elif f["adaptation_ratio"] < 1.0 / ADAPT_RATIO:
        name = "accelerating"
    else:
        name = "tonic"
    if f["latency"] > DELAY_FACTOR * f["mean_isi"]:
        name = "delayed_" + name
    return name
