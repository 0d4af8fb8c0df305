"""Built-in networks: the Brette et al. (2007) benchmarks COBA, CUBA and COBAHH; a mixed network;
the NEST validation networks (Potjans & Diesmann 2014 microcircuit, Brunel 2000 model A)."""

from ._brette import coba, cobahh, cuba
from ._brunel import brunel2000, brunel2000_mean_field, brunel2000_parameters
from ._mixed import mixed_receptors
from ._potjans_diesmann import PD14_POPULATIONS, potjans_diesmann, potjans_diesmann_parameters
from ._resolve import resolve_connectivity, stored_synapse_bytes

MODELS = {"coba": coba, "cuba": cuba, "cobahh": cobahh}

__all__ = [
    "coba",
    "cuba",
    "cobahh",
    "mixed_receptors",
    "potjans_diesmann",
    "potjans_diesmann_parameters",
    "PD14_POPULATIONS",
    "brunel2000",
    "brunel2000_parameters",
    "brunel2000_mean_field",
    "MODELS",
    "resolve_connectivity",
    "stored_synapse_bytes",
]
