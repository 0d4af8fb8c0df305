"""The optional ``nir`` package, imported on first use with an install hint."""

from __future__ import annotations

import importlib


def nir_module():
    """Return the ``nir`` package or raise ImportError saying how to install it."""
    try:
        return importlib.import_module("nir")
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "ns.nir needs the `nir` package: pip install 'neurosim[nir]' (or pip install nir)"
        ) from e
