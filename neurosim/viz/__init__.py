"""Plots (the only subpackage that imports matplotlib, lazily)."""

from ._connectome import connectome, functional_connectivity
from ._dynamics import bifurcation, phase_plane
from ._raster import raster
from ._training import training_curves

__all__ = [
    "raster",
    "training_curves",
    "phase_plane",
    "bifurcation",
    "connectome",
    "functional_connectivity",
]
