"""Output rules: how a synaptic variable becomes input to the membrane equation."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from .._validate import check_finite
from ..neurons import SynapticDrive

__all__ = ["AbstractOutput", "CUBA", "COBA"]


class AbstractOutput(eqx.Module):
    """Maps a synaptic variable ``g`` (shape ``(n,)``) to a :class:`SynapticDrive`."""

    def drive(self, g) -> SynapticDrive:
        raise NotImplementedError


class CUBA(AbstractOutput):
    """Current-based: the synaptic variable is a current ``I = g`` (pA)."""

    def drive(self, g):
        return SynapticDrive(jnp.zeros_like(g), g)


class COBA(AbstractOutput):
    """Conductance-based: ``I = g (e_rev - v)`` with ``g`` in nS.

    Args:
        e_rev: reversal potential (mV).

    Example:
        >>> import neurosim as ns
        >>> exc = ns.synapses.COBA(e_rev=0.0)
    """

    e_rev: jax.Array = eqx.field(converter=lambda x: jnp.asarray(x, dtype=jnp.result_type(float)))

    def __check_init__(self):
        check_finite("e_rev", self.e_rev)

    def drive(self, g):
        return SynapticDrive(g, g * self.e_rev)
