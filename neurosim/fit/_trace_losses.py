"""Losses and metrics for fitting to recordings: voltage traces and spike trains.

Named ``trace_*``/``spike_*`` to keep them apart from the training losses of
:mod:`neurosim.train`; all differentiable ones are pure ``jnp`` functions over arrays whose
leading axis is time.

``exponential_filter`` and ``van_rossum_distance`` are the shared
:mod:`neurosim.analysis` functions (also used by :mod:`neurosim.train`); for time-first
recordings call the distance with ``time_axis=0``.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..analysis import exponential_filter, van_rossum_distance

__all__ = [
    "trace_mse",
    "exponential_filter",
    "van_rossum_distance",
    "coincidence_factor",
    "smoothed_coincidence_loss",
]


def trace_mse(model, data, mask=None):
    """Mean squared difference of two traces (mV²) over the samples where ``mask`` is true.

    Args:
        model, data: arrays of equal shape (time first).
        mask: optional boolean/0-1 array of the same shape; ``None`` uses every sample.

    Example:
        >>> import jax.numpy as jnp, neurosim as ns
        >>> float(ns.fit.trace_mse(jnp.zeros(4), jnp.ones(4), jnp.array([1, 1, 0, 0])))
        1.0
    """
    err = (model - data) ** 2
    if mask is None:
        return jnp.mean(err)
    m = jnp.asarray(mask, err.dtype)
    return jnp.sum(err * m) / jnp.maximum(jnp.sum(m), 1.0)


def coincidence_factor(times_model, times_data, delta, duration):
    r"""Coincidence factor Gamma of two spike trains (Kistler et al. 1997; Jolivet et al. 2008).

    .. math::
        \Gamma = \frac{N_{coinc} - 2 \nu \Delta N_{data}}{\tfrac12 (N_{data} + N_{model})}
            \cdot \frac{1}{1 - 2 \nu \Delta}

    with ``N_coinc`` the number of data spikes matched one-to-one (greedily, in time order)
    to a model spike within ``+-delta``, and ``nu = N_model / duration`` the model's rate.
    1 for identical trains, ~0 for chance agreement. A metric (NumPy), not differentiable.

    Args:
        times_model, times_data: spike times (ms), any order.
        delta: coincidence window (ms), e.g. 2 or 4.
        duration: length of the recording (ms).

    Example:
        >>> import neurosim as ns
        >>> ns.fit.coincidence_factor([10.0, 50.0], [10.5, 50.2], delta=2.0, duration=100.0)
        1.0
    """
    a = np.sort(np.asarray(times_model, float))
    b = np.sort(np.asarray(times_data, float))
    if a.size == 0 and b.size == 0:
        return 1.0
    if a.size == 0 or b.size == 0:
        return 0.0
    i = j = n_coinc = 0
    while i < a.size and j < b.size:
        if abs(a[i] - b[j]) <= delta:
            n_coinc += 1
            i += 1
            j += 1
        elif a[i] < b[j]:
            i += 1
        else:
            j += 1
    nu = a.size / float(duration)
    expected = 2.0 * nu * delta * b.size
    norm = 1.0 - 2.0 * nu * delta
    return float((n_coinc - expected) / (0.5 * (a.size + b.size)) / norm)


def smoothed_coincidence_loss(t_model, t_data, delta):
    r"""``1 - exp(-(t_model - t_data)^2 / (2 delta^2))`` per matched spike pair.

    A smooth stand-in for missing the coincidence window of :func:`coincidence_factor`: 0 for
    a perfect match, 1 for a spike far outside ``delta``; differentiable in spike times
    (e.g. those of :func:`neurosim.fit.first_crossing`). Anneal ``delta`` from coarse to fine.

    Args:
        t_model, t_data: matched spike times (ms), equal shapes.
        delta: width (ms).
    """
    return 1.0 - jnp.exp(-((t_model - t_data) ** 2) / (2.0 * delta**2))
