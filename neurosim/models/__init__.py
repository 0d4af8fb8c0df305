"""Built-in networks: the Brette et al. (2007) benchmarks COBA, CUBA and COBAHH; a mixed network."""

from ._brette import coba, cobahh, cuba
from ._mixed import mixed_receptors
from ._resolve import resolve_connectivity, stored_synapse_bytes

MODELS = {"coba": coba, "cuba": cuba, "cobahh": cobahh}

__all__ = [
    "coba",
    "cuba",
    "cobahh",
    "mixed_receptors",
    "MODELS",
    "resolve_connectivity",
    "stored_synapse_bytes",
]
