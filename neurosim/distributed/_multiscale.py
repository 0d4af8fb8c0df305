"""Rate populations, cross-scale couplings and readouts in a sharded run: replicated.

Every device holds all rate populations (nodes), their couplings, the cross-scale coupling
states and the readouts, and steps them with the one-device phases
(:func:`neurosim.network._multiscale.rate_nodes`, ``node_inputs``, ...) and the one-device
random keys; only the per-neuron vectors they read come from all devices. Why replicate
rather than shard along the region axis: a rate population has one node per region (tens to
a few hundred), far fewer numbers than one block of spiking neurons, so stepping all nodes on
every device costs less than the collectives a region-sharded layout would need, and the
node states stay bitwise those of one device (a region split would also have to follow the
spiking blocks, which regions need not align with).

Coupling, per step:

* rate -> spiking: every device computes the per-neuron drive of the whole target population
  (:func:`~neurosim.network._multiscale.node_drives`, ``region_spread``) and keeps its block,
  as it does with injected currents;
* spiking -> rate and readouts: the per-neuron values they summarise (this step's spikes, a
  receptor's value, the receptor currents) are computed on each block and joined with one
  tiled ``all_gather`` per population and step, then reduced per region exactly as on one
  device (the same ``region_mean``/``region_sum`` over the same vector).

That gather runs every step, not once per minimum delay: a region signal of step ``i`` feeds
the node input of step ``i + 1``. It moves ``n`` floats per summarised population and step.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from ..network import (
    Network,
    Plan,
    PopulationActivity,
    cross_rings,
    node_drives,
    node_history,
    node_inputs,
    nonfinite_nodes,
    rate_nodes,
    readout_drive,
    receptor_currents,
    region_mean,
    region_sum,
)
from ._layout import Layout

__all__ = ["GlobalView", "is_multiscale", "node_values", "step_multiscale"]


class _Sized(NamedTuple):
    n: int


class GlobalView(NamedTuple):
    """What the replicated phases read of the global network: population sizes (global),
    rate populations, rate and cross-scale couplings, readouts."""

    populations: tuple
    rate_populations: tuple
    node_couplings: tuple
    cross: tuple
    readouts: tuple

    @classmethod
    def of(cls, local: Network, lay: Layout) -> GlobalView:
        return cls(
            tuple(_Sized(n) for n in lay.size),
            local.rate_populations,
            local.node_couplings,
            local.cross,
            local.readouts,
        )


def is_multiscale(net) -> bool:
    return bool(net.rate_populations or net.cross or net.readouts)


def plan_of(lay: Layout) -> Plan:
    return Plan(lay.delay_steps, lay.ring_len, lay.future_len, lay.node_ring, lay.cross_delay)


def node_values(local: Network, lay: Layout, st, dt) -> tuple:
    """Rate -> spiking drives (global per-neuron vectors; None for other couplings)."""
    if not local.cross:
        return ()
    return tuple(node_drives(GlobalView.of(local, lay), plan_of(lay), st, dt))


def _join(x, lay: Layout, i: int, axis: str):
    """The global vector of population ``i`` from every device's block (padding dropped)."""
    if not lay.sharded[i]:
        return x
    return lax.all_gather(x, axis, tiled=True)[: lay.size[i]]


def _region_signals(view, lay, plan, local, st, spikes_g, receptors, step_next, dt, axis):
    """Spiking -> rate signals (engine's ``region_signals``; receptor values joined)."""
    states, signals = list(st.cross), []
    for j, cc in enumerate(view.cross):
        if cc.direction != "spiking->rate":
            signals.append(None)
            continue
        i, (lo, hi) = cc.spiking, cc.spiking_slice
        if isinstance(cc.coupling, PopulationActivity):
            x = spikes_g[i]
        else:  # SynapticActivity: the receptor's value, per block, then joined
            rec = local.populations[i].receptors[cc.receptor]
            x = _join(rec.kinetics.value(receptors[i][cc.receptor]), lay, i, axis)
        raw = region_mean(cc.regions, x if (lo, hi) == (0, lay.size[i]) else x[lo:hi])
        s_j = dict(states[j])
        s_j["part"], s = cc.coupling.step(s_j["part"], raw, step_next - 1, dt, None)
        d = plan.cross_delay[j]
        if d > 0:
            ring = s_j["ring"]
            s_j["ring"] = lax.dynamic_update_index_in_dim(
                ring, s.astype(ring.dtype), step_next % ring.shape[0], 0
            )
            s = lax.dynamic_index_in_dim(s_j["ring"], (step_next - d) % ring.shape[0], 0, False)
        states[j] = s_j
        signals.append(s)
    return tuple(states), signals


def _readouts(view, lay, local, st, spikes_g, neurons, receptors, nodes, inputs, k_step, dt, axis):
    """Every readout in order (engine's ``step_readouts``; per-neuron drives joined)."""
    new_states, values = [], []
    for j, slot in enumerate(view.readouts):
        if slot.kind == "currents":
            i, (lo, hi) = slot.source, slot.source_slice
            pop = local.populations[i]
            cur = receptor_currents(pop, receptors[i], neurons[i].get("v"), slot.receptors)
            cur = _join(cur, lay, i, axis)
            drive = region_sum(slot.regions, cur if (lo, hi) == (0, lay.size[i]) else cur[lo:hi])
        else:
            drive = readout_drive(view, slot, spikes_g, None, None, nodes, inputs, values)
        s_j, val = slot.readout.step(
            st.readouts[j], drive, st.step, dt, jax.random.fold_in(k_step, 0xB01D + j)
        )
        new_states.append(s_j)
        values.append(val)
    return tuple(new_states), tuple(values)


def _summarised(view) -> set[int]:
    """Spiking populations whose global spikes a coupling or readout reads."""
    out = {cc.spiking for cc in view.cross if isinstance(cc.coupling, PopulationActivity)}
    return out | {r.source for r in view.readouts if r.kind == "spikes"}


def step_multiscale(local, lay, st, spikes, new_neurons, new_receptors, k_step, dt, axis):
    """The replicated phases 5-6 of :func:`neurosim.network.network_step` and node faults;
    returns the state fields they update."""
    view, plan = GlobalView.of(local, lay), plan_of(lay)
    step_next = st.step + 1
    want = _summarised(view)
    spikes_g = [
        _join(s, lay, i, axis) if i in want else None for i, s in enumerate(spikes)
    ]  # fmt: skip
    nodes, outputs = rate_nodes(view, st, k_step, dt)
    hist = node_history(view, plan, st.node_history, outputs, step_next)
    cross, signals = _region_signals(
        view, lay, plan, local, st, spikes_g, new_receptors, step_next, dt, axis
    )
    inputs = node_inputs(view, nodes, outputs, hist, signals, step_next, dt)
    cross = cross_rings(view, plan, cross, nodes, inputs, step_next)
    readouts, values = _readouts(
        view, lay, local, st, spikes_g, new_neurons, new_receptors, nodes, inputs, k_step, dt,
        axis,
    )  # fmt: skip
    node_fault = tuple(
        jnp.where((f < 0) & nonfinite_nodes(x), st.step, f)
        for f, x in zip(st.node_fault, nodes, strict=True)
    )
    return dict(
        nodes=nodes,
        node_input=inputs,
        node_history=hist,
        node_fault=node_fault,
        cross=cross,
        readouts=readouts,
        readout_values=values,
    )
