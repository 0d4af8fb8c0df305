"""Rate populations, cross-scale couplings and readouts of a network: structures and phases.

The structures are the immutable parts a :class:`neurosim.Network` holds next to its spiking
populations; the phase functions are the pieces of :func:`neurosim.network.network_step` that
concern them (each a pure function of the state). Networks without these parts never call
them (static Python branches), so a spiking network pays nothing for them.

Timing within step ``i`` (``t = i dt``), ``d`` a coupling's delay in steps:

* rate -> spiking: a target neuron in region ``k`` receives ``value(y_k(t - d dt))``;
* the rate nodes integrate from ``t`` to ``t + dt`` with their input ``c(t)`` held;
* spiking -> rate: the region signal ``s(t + dt)`` is computed from the spikes of step ``i``
  (population activity) or the receptors after the step (synaptic activity); the node input
  for the next step is ``c(t + dt) = sum(rate couplings) + sum_k G s_k(t + dt - d dt)``;
* readouts step last, on this step's spikes, the receptors and rate nodes after the step, and
  the values of earlier readouts.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from ..rates import AbstractCoupling, AbstractRateModel
from ._couplings import AbstractCrossCoupling, PopulationActivity, SynapticActivity
from ._regions import RegionMap, region_mean, region_spread, region_sum

__all__ = ["RatePopulation", "NodeCoupling", "CrossCoupling", "ReadoutSlot"]


class RatePopulation(eqx.Module):
    """``n`` neural-mass nodes of one rate model (its integrator and noise included)."""

    name: str = eqx.field(static=True)
    model: AbstractRateModel

    @property
    def n(self) -> int:
        return self.model.n


class NodeCoupling(eqx.Module):
    """A rate -> rate coupling (connectome weights, per-edge delays) within rate population
    ``pop``."""

    name: str = eqx.field(static=True)
    pop: int = eqx.field(static=True)
    coupling: AbstractCoupling


class CrossCoupling(eqx.Module):
    """A spiking <-> rate coupling: spiking population ``spiking`` (slice ``spiking_slice``,
    split into ``regions``) and rate population ``rate`` (region ``k`` <-> node
    ``nodes[k]``; ``()``: node ``k``), delay ``delay_steps``-resolved from ``delay`` (ms)."""

    name: str = eqx.field(static=True)
    spiking: int = eqx.field(static=True)
    spiking_slice: tuple[int, int] = eqx.field(static=True)
    rate: int = eqx.field(static=True)
    nodes: tuple[int, ...] = eqx.field(static=True)
    regions: RegionMap = eqx.field(static=True)
    receptor: int = eqx.field(static=True)  # SynapticActivity: receptor index, else -1
    delay: float = eqx.field(static=True)
    coupling: AbstractCrossCoupling

    @property
    def direction(self) -> str:
        return self.coupling.direction


class ReadoutSlot(eqx.Module):
    """A readout and where its drive comes from.

    ``kind``: ``"spikes"``/``"currents"`` (spiking population ``source``, slice
    ``source_slice``, split into ``regions``; ``receptors``: indices for currents), ``"node"``
    (rate population ``source``, ``variable`` or its output) or ``"readout"`` (the value of
    readout ``source``, an earlier one).
    """

    name: str = eqx.field(static=True)
    kind: str = eqx.field(static=True)
    source: int = eqx.field(static=True)
    source_slice: tuple[int, int] = eqx.field(static=True)
    regions: RegionMap | None = eqx.field(static=True)
    receptors: tuple[int, ...] = eqx.field(static=True)
    variable: str | None = eqx.field(static=True)
    n_out: int = eqx.field(static=True)
    readout: eqx.Module


# -- helpers ---------------------------------------------------------------------------------
def node_signal(model, nodes: dict, c, variable: str | None):
    """A node population's output, or one of its state variables / observables."""
    if variable is None:
        return model.output(nodes)
    if variable in nodes:
        return nodes[variable]
    return model.observables(nodes, c)[variable]


def _part(x, sl: tuple[int, int], n: int):
    return x if sl == (0, n) else x[sl[0] : sl[1]]


def _gather(v, nodes: tuple[int, ...]):
    return v if not nodes else v[jnp.asarray(nodes, jnp.int32)]


def _ring_read(ring, slot):
    return jax.lax.dynamic_index_in_dim(ring, slot % ring.shape[0], keepdims=False)


def _ring_write(ring, value, slot):
    return jax.lax.dynamic_update_index_in_dim(
        ring, value.astype(ring.dtype), slot % ring.shape[0], 0
    )


# -- rate -> spiking (phase 1, with the external inputs) -----------------------------------
def node_drives(net, plan, state, dt):
    """Per cross coupling (rate -> spiking only, else None): the target neurons' value
    (current pA or rate Hz, shape of the target slice) at the start of this step."""
    out = []
    for j, cc in enumerate(net.cross):
        if cc.direction != "rate->spiking":
            out.append(None)
            continue
        d = plan.cross_delay[j]
        if d == 0:
            rp = net.rate_populations[cc.rate]
            y = node_signal(
                rp.model, state.nodes[cc.rate], state.node_input[cc.rate], cc.coupling.variable
            )
            y = _gather(y, cc.nodes)
        else:
            y = _ring_read(state.cross[j]["ring"], state.step - d)
        _, val = cc.coupling.step(state.cross[j]["part"], y, state.step, dt, None)
        out.append(region_spread(cc.regions, val))
    return out


# -- rate nodes (phase 4) --------------------------------------------------------------------
def rate_nodes(net, state, k_step, dt):
    """Every rate population steps over ``dt`` with its input ``c(t)`` held (the model's
    integrator, noise and bounds; key folded from the step key and the population's
    position). Returns ``(new node states, outputs)``."""
    nodes, outputs = [], []
    for r, rp in enumerate(net.rate_populations):
        x, y = rp.model.step(
            state.nodes[r],
            state.node_input[r],
            state.step,
            dt,
            jax.random.fold_in(k_step, 0x5EED + r),
        )
        nodes.append(x)
        outputs.append(y)
    return tuple(nodes), tuple(outputs)


def node_history(net, plan, history, outputs, step_next):
    """Write each rate population's new output into its delay ring (slot ``step + 1``)."""
    return tuple(
        h if h is None else _ring_write(h, y, step_next)
        for h, y in zip(history, outputs, strict=True)
    )


# -- spiking -> rate and the node inputs (phase 5) -------------------------------------------
def region_signals(net, plan, cross_states, spikes, receptors, step_next, dt):
    """Spiking -> rate: the region signals used by the next step's node inputs.

    Returns ``(new cross states, per coupling (n_regions,) signal or None)``.
    """
    states, signals = list(cross_states), []
    for j, cc in enumerate(net.cross):
        if cc.direction != "spiking->rate":
            signals.append(None)
            continue
        pop = net.populations[cc.spiking]
        st = dict(states[j])
        if isinstance(cc.coupling, PopulationActivity):
            raw = region_mean(cc.regions, _part(spikes[cc.spiking], cc.spiking_slice, pop.n))
        else:
            raw = synaptic_signal(net, cc, receptors)
        st["part"], s = cc.coupling.step(st["part"], raw, step_next - 1, dt, None)
        d = plan.cross_delay[j]
        if d > 0:
            st["ring"] = _ring_write(st["ring"], s, step_next)
            s = _ring_read(st["ring"], step_next - d)
        states[j] = st
        signals.append(s)
    return tuple(states), signals


def synaptic_signal(net, cc, receptors):
    """Mean receptor value per region (SynapticActivity)."""
    pop = net.populations[cc.spiking]
    rec = pop.receptors[cc.receptor]
    g = rec.kinetics.value(receptors[cc.spiking][cc.receptor])
    return region_mean(cc.regions, _part(g, cc.spiking_slice, pop.n))


def node_inputs(net, nodes, outputs, history, signals, step, dt):
    """Node input ``c`` of every rate population at step ``step``: its rate couplings (from
    ``outputs`` and the delay rings) plus ``G`` times the spiking -> rate signals."""
    cs = [jnp.zeros_like(y) for y in outputs]
    for nc in net.node_couplings:
        h = history[nc.pop]
        cs[nc.pop] = cs[nc.pop] + (
            nc.coupling(outputs[nc.pop]) if h is None else nc.coupling(outputs[nc.pop], h, step, dt)
        )
    for cc, s in zip(net.cross, signals, strict=True):
        if s is None:
            continue
        val = cc.coupling.G * s
        if cc.nodes:
            cs[cc.rate] = cs[cc.rate].at[jnp.asarray(cc.nodes, jnp.int32)].add(val)
        else:
            cs[cc.rate] = cs[cc.rate] + val
    return tuple(cs)


def cross_rings(net, plan, cross_states, nodes, inputs, step_next):
    """Rate -> spiking with a delay: write the new node signal into the coupling's ring."""
    states = list(cross_states)
    for j, cc in enumerate(net.cross):
        if cc.direction == "rate->spiking" and plan.cross_delay[j] > 0:
            rp = net.rate_populations[cc.rate]
            y = _gather(
                node_signal(rp.model, nodes[cc.rate], inputs[cc.rate], cc.coupling.variable),
                cc.nodes,
            )
            states[j] = {**states[j], "ring": _ring_write(states[j]["ring"], y, step_next)}
    return tuple(states)


# -- readouts (phase 6) ----------------------------------------------------------------------
def receptor_currents(pop, receptor_states, v, which: tuple[int, ...]):
    """``sum_r |I_r|`` (pA) per neuron over the receptors ``which`` at potentials ``v``."""
    total = None
    for r in which:
        rec = pop.receptors[r]
        drv = rec.output.drive(rec.kinetics.value(receptor_states[r]), v)
        cur = jnp.abs(drv.at(v))
        total = cur if total is None else total + cur
    return total


def readout_drive(net, slot, spikes, neurons, receptors, nodes, inputs, values):
    """The drive of a readout this step (see :mod:`neurosim.network._readouts`)."""
    if slot.kind == "spikes":
        pop = net.populations[slot.source]
        return region_mean(slot.regions, _part(spikes[slot.source], slot.source_slice, pop.n))
    if slot.kind == "currents":
        pop = net.populations[slot.source]
        cur = receptor_currents(
            pop, receptors[slot.source], neurons[slot.source].get("v"), slot.receptors
        )
        return region_sum(slot.regions, _part(cur, slot.source_slice, pop.n))
    if slot.kind == "node":
        rp = net.rate_populations[slot.source]
        return node_signal(rp.model, nodes[slot.source], inputs[slot.source], slot.variable)
    return values[slot.source]


def step_readouts(net, state, spikes, neurons, receptors, nodes, inputs, k_step, dt):
    """Step every readout in order (a readout may read the value of an earlier one)."""
    new_states, values = [], []
    for j, slot in enumerate(net.readouts):
        drive = readout_drive(net, slot, spikes, neurons, receptors, nodes, inputs, values)
        st, val = slot.readout.step(
            state.readouts[j], drive, state.step, dt, jax.random.fold_in(k_step, 0xB01D + j)
        )
        new_states.append(st)
        values.append(val)
    return tuple(new_states), tuple(values)


def nonfinite_nodes(nodes: dict) -> jax.Array:
    """Per node, True if any of its variables is NaN/inf."""
    total = sum(jnp.reshape(v, (v.shape[0], -1)).sum(axis=1) for v in nodes.values())
    return ~jnp.isfinite(total)


__all__ += [
    "node_signal",
    "node_drives",
    "rate_nodes",
    "node_history",
    "region_signals",
    "synaptic_signal",
    "node_inputs",
    "cross_rings",
    "receptor_currents",
    "readout_drive",
    "step_readouts",
    "nonfinite_nodes",
    "SynapticActivity",
]
