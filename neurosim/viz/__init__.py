"""Plots (the only subpackage that imports matplotlib, lazily)."""

from ._raster import raster

__all__ = ["raster"]
