"""Analysis of recordings: rates, ISI statistics, population activity."""

from ._patterns import PATTERNS, firing_features, firing_pattern
from ._spikes import firing_rates, isi_cv, population_rate

__all__ = [
    "firing_rates",
    "isi_cv",
    "population_rate",
    "firing_features",
    "firing_pattern",
    "PATTERNS",
]
