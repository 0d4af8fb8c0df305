"""Analysis of recordings: rates, ISI and count statistics, spectra, synchrony, FC, patterns.

Spike-train statistics (``firing_rates``, ``isi_cv``, ``population_rate``, ``spike_counts``,
``fano_factor``, ``spike_train_spectrum``) work on ``(times, indices)`` with NumPy; statistics
of continuous signals (``power_spectrum``, ``peak_frequency``, ``synchrony_chi``,
``functional_connectivity``, ``fc_similarity``, ``kuramoto_order``) are pure ``jax.numpy``
functions, usable inside ``jit`` and differentiable. ``firing_pattern`` classifies a single
neuron's response to a current step (tonic, adapting, bursting, ...).
``van_rossum_distance`` (with ``exponential_filter``) compares binned spike trains; it is the
one implementation behind ``ns.train.van_rossum_distance`` and ``ns.fit.van_rossum_distance``.
"""

from ._counts import fano_factor, spike_counts, spike_train_spectrum
from ._distances import exponential_filter, van_rossum_distance
from ._patterns import PATTERNS, firing_features, firing_pattern
from ._signals import (
    fc_similarity,
    functional_connectivity,
    kuramoto_order,
    peak_frequency,
    power_spectrum,
    synchrony_chi,
)
from ._spikes import firing_rates, isi_cv, population_rate

__all__ = [
    "firing_rates",
    "isi_cv",
    "population_rate",
    "spike_counts",
    "fano_factor",
    "spike_train_spectrum",
    "exponential_filter",
    "van_rossum_distance",
    "power_spectrum",
    "peak_frequency",
    "synchrony_chi",
    "functional_connectivity",
    "fc_similarity",
    "kuramoto_order",
    "firing_features",
    "firing_pattern",
    "PATTERNS",
]
