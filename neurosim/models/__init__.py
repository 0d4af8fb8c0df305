"""Built-in networks: the Brette et al. (2007) benchmarks COBA, CUBA and COBAHH."""

from ._brette import coba, cobahh, cuba
from ._resolve import resolve_connectivity, stored_synapse_bytes

MODELS = {"coba": coba, "cuba": cuba, "cobahh": cobahh}

__all__ = ["coba", "cuba", "cobahh", "MODELS", "resolve_connectivity", "stored_synapse_bytes"]
