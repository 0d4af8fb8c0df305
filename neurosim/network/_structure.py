"""The immutable pieces of a network: populations, receptors, projections, inputs."""

from __future__ import annotations

import equinox as eqx
import jax

from .._init import AbstractInit
from ..neurons import AbstractNeuron, AbstractSpikeSource, SynapticDrive
from ..ops import AbstractConnectivity
from ..synapses import AbstractKinetics, AbstractOutput
from ._dynamics import AbstractProjectionDynamics
from ._inputs import AbstractCurrent

__all__ = ["Receptor", "Population", "Projection", "Input"]


class Receptor(eqx.Module):
    """Synaptic kinetics + output rule on a population; one state per postsynaptic neuron.

    All projections onto the same receptor of a population add into the same state.
    """

    name: str = eqx.field(static=True)
    kinetics: AbstractKinetics
    output: AbstractOutput


class Population(eqx.Module):
    """A neuron model instance (``n`` neurons), its receptors and its named index groups.

    ``groups`` are contiguous sub-ranges ``(name, start, stop)`` (e.g. E and I cells of one
    population sharing its parameters) usable wherever a population name is.
    """

    name: str = eqx.field(static=True)
    neuron: AbstractNeuron | AbstractSpikeSource
    receptors: tuple[Receptor, ...]
    groups: tuple[tuple[str, int, int], ...] = eqx.field(static=True)

    @property
    def n(self) -> int:
        return self.neuron.n

    def drive(self, receptor_states, v=None) -> SynapticDrive:
        """Total synaptic drive from all receptors.

        ``v`` (mV): the membrane potential at the start of the step, passed to output rules
        that depend on it (:class:`neurosim.synapses.MgBlock`); ``None`` for spike sources.
        """
        total = SynapticDrive.zeros(self.n)
        for rec, st in zip(self.receptors, receptor_states, strict=True):
            total = total + rec.output.drive(rec.kinetics.value(st), v)
        return total


class Projection(eqx.Module):
    """Presynaptic spikes -> connectivity -> a receptor of the postsynaptic population.

    ``pre_slice``/``post_slice`` select contiguous index ranges (groups); ``delay`` (ms) is
    homogeneous, a multiple of ``dt`` after rounding (``round(delay/dt)`` steps beyond the
    one-step minimum: a spike in step ``i`` reaches the receptor at the end of step
    ``i + round(delay/dt)``). ``dynamics`` (optional) carries per-projection state such as
    short-term plasticity or a learning rule (:class:`AbstractProjectionDynamics`).

    ``synapse_delays`` (optional, ms) replaces the homogeneous ``delay`` by per-synapse
    delays delivered through a ring of future input (:mod:`neurosim.network._delays`): one per
    synapse in CSR order (``CSR``), a ``(n_pre, k)`` table (``ELL``) or the initializer the
    delays are regenerated from (procedural connectivity); ``max_delay`` is their maximum
    (static: it sizes the ring).
    """

    name: str = eqx.field(static=True)
    pre: int = eqx.field(static=True)
    pre_slice: tuple[int, int] = eqx.field(static=True)
    post: int = eqx.field(static=True)
    post_slice: tuple[int, int] = eqx.field(static=True)
    receptor: int = eqx.field(static=True)
    conn: AbstractConnectivity
    delay: float = eqx.field(static=True)
    backend: str = eqx.field(static=True)
    dynamics: AbstractProjectionDynamics | None = None
    synapse_delays: jax.Array | AbstractInit | None = None
    max_delay: float = eqx.field(static=True, default=0.0)


class Input(eqx.Module):
    """A current injected into ``target`` population's index range ``target_slice``."""

    name: str = eqx.field(static=True)
    target: int = eqx.field(static=True)
    target_slice: tuple[int, int] = eqx.field(static=True)
    current: AbstractCurrent
