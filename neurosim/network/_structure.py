"""The immutable pieces of a network: populations, receptors, projections, inputs."""

from __future__ import annotations

import equinox as eqx
import jax

from .._init import AbstractInit
from ..neurons import AbstractLinearNeuron, AbstractNeuron, AbstractSpikeSource, SynapticDrive
from ..ops import AbstractConnectivity
from ..synapses import CUBA, AbstractKinetics, AbstractLinearKinetics, AbstractOutput
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

    def drive(self, receptor_states, v=None, dt=None) -> SynapticDrive:
        """Total synaptic drive from all receptors over the coming step.

        ``v`` (mV): the membrane potential at the start of the step, passed to output rules
        that depend on it (:class:`neurosim.synapses.MgBlock`); ``None`` for spike sources.

        Exact integration: when ``dt`` (ms) is given and the neuron declares an exact linear
        membrane (:meth:`neurosim.neurons.AbstractLinearNeuron.exact_membrane`, e.g. an LIF
        with the default ``Exact`` integrator), every current-based receptor (``CUBA`` output,
        linear kinetics) contributes its membrane average over the step for the membrane rate
        ``(g_L + g)/C``, ``g`` the conductance of the other receptors held over the step, so
        the held-input membrane update reproduces the exact propagator (exact for CUBA-only
        populations; with conductances, exact for the frozen-conductance step). Other
        receptors contribute their value at the start of the step.
        """
        exact = None
        if dt is not None and isinstance(self.neuron, AbstractLinearNeuron):
            exact = self.neuron.exact_membrane()
        total = SynapticDrive.zeros(self.n)
        averaged = []
        for rec, st in zip(self.receptors, receptor_states, strict=True):
            if (
                exact is not None
                and isinstance(rec.output, CUBA)
                and isinstance(rec.kinetics, AbstractLinearKinetics)
            ):
                averaged.append((rec, st))
                continue
            total = total + rec.output.drive(rec.kinetics.value(st), v)
        if averaged:
            g_l, c_m = exact
            rate = (g_l + total.conductance) / c_m
            for rec, st in averaged:
                total = total + rec.output.drive(rec.kinetics.membrane_average(st, dt, rate), v)
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
