"""Gap junctions placed in a network: which population (range) they couple, and their drive."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp

from ..neurons import SynapticDrive
from ..synapses import GapJunctions

__all__ = ["Electrical", "gap_drives"]


class Electrical(eqx.Module):
    """Gap junctions among the neurons ``pop_slice`` of population ``pop``.

    Added with :meth:`neurosim.NetworkBuilder.gap_junctions`; their drive is computed from the
    membrane potentials at the start of each step and added to the receptors' drive.
    """

    name: str = eqx.field(static=True)
    pop: int = eqx.field(static=True)
    pop_slice: tuple[int, int] = eqx.field(static=True)
    junctions: GapJunctions


def _pad(x, n: int, start: int):
    return jnp.zeros((n,), x.dtype).at[start : start + x.shape[0]].set(x)


def gap_drives(electrical, populations, neuron_states) -> list[SynapticDrive | None]:
    """Per population, the summed gap-junction drive (``None`` where there is none)."""
    out: list[SynapticDrive | None] = [None] * len(populations)
    for el in electrical:
        n = populations[el.pop].n
        a, b = el.pop_slice
        v = neuron_states[el.pop]["v"]
        d = el.junctions.drive(v[a:b] if (a, b) != (0, n) else v)
        if (a, b) != (0, n):
            d = SynapticDrive(_pad(d.conductance, n, a), _pad(d.current, n, a))
        out[el.pop] = d if out[el.pop] is None else out[el.pop] + d
    return out
