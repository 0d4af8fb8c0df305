"""Plots (the only subpackage that imports matplotlib, lazily)."""

from ._connectome import connectome, functional_connectivity
from ._raster import raster
from ._training import training_curves

__all__ = ["raster", "training_curves", "connectome", "functional_connectivity"]
