"""``network_step``: one step of the whole network, as a sequence of named phases.

Each phase is a pure function of the state (and of the results of earlier phases). Phases
for parts a network does not have are skipped by static Python branches, so a spiking network
without rate populations, cross-scale couplings or readouts compiles to the same step as
before they existed, and a pure rate network has no spiking work.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from ..neurons import AbstractSpikeSource
from ..ops import any_nonfinite, event_matvec
from ._couplings import CurrentDrive
from ._delays import deliver_delayed
from ._dynamics import ProjectionDrive
from ._fused import fused_populations, fused_step
from ._gap import gap_drives
from ._multiscale import (
    cross_rings,
    node_drives,
    node_history,
    node_inputs,
    nonfinite_nodes,
    rate_nodes,
    region_signals,
    step_readouts,
)
from ._network import Network, NetworkState, Plan

__all__ = ["network_step"]


def _slice(x, sl: tuple[int, int], n: int):
    return x if sl == (0, n) else x[sl[0] : sl[1]]


def _add_slice(base, sl: tuple[int, int], val):
    if sl == (0, base.shape[0]):
        return base + val
    return base.at[sl[0] : sl[1]].add(val)


def _nonfinite(tree) -> jax.Array:
    """True if any floating leaf of ``tree`` holds NaN or inf (compiled check on CPU)."""
    return any_nonfinite(tree)


# -- phase 1: external inputs -----------------------------------------------------------------
def external_inputs(net: Network, state: NetworkState, k_inp, dt, node_values):
    """Currents (pA) per spiking population at ``t`` from inputs and rate -> spiking current
    couplings; returns ``(i_ext, new input states, rates of rate-driven sources or None)``."""
    dtype = jnp.result_type(float)
    step = state.step
    i_ext = [jnp.zeros((p.n,), dtype) for p in net.populations]
    new_inputs = []
    for j, inp in enumerate(net.inputs):
        st, cur = inp.current.step(state.inputs[j], None, step, dt, jax.random.fold_in(k_inp, j))
        n_t = inp.target_slice[1] - inp.target_slice[0]
        i_ext[inp.target] = _add_slice(
            i_ext[inp.target], inp.target_slice, jnp.broadcast_to(cur, (n_t,)).astype(dtype)
        )
        new_inputs.append(st)
    source_rates = [None] * len(net.populations)
    for cc, val in zip(net.cross, node_values, strict=True):
        if val is None:
            continue
        if isinstance(cc.coupling, CurrentDrive):
            i_ext[cc.spiking] = _add_slice(i_ext[cc.spiking], cc.spiking_slice, val.astype(dtype))
        else:
            base = source_rates[cc.spiking]
            base = jnp.zeros((net.populations[cc.spiking].n,), dtype) if base is None else base
            source_rates[cc.spiking] = _add_slice(base, cc.spiking_slice, val.astype(dtype))
    return i_ext, tuple(new_inputs), source_rates


# -- phase 2: neurons -------------------------------------------------------------------------
def neurons(net: Network, state: NetworkState, i_ext, source_rates, k_neu, dt):
    """Every spiking population integrates from ``t`` to ``t + dt`` under the synaptic drive
    of its receptors and gap junctions at ``t``; threshold and reset. ``(states, spikes)``."""
    new_neurons, spikes, _ = neurons_fused(net, state, i_ext, source_rates, k_neu, dt)
    return new_neurons, spikes


def neurons_fused(net: Network, state: NetworkState, i_ext, source_rates, k_neu, dt, fuse=None):
    """:func:`neurons`, the populations in ``fuse`` (see :mod:`._fused`) by their fused step;
    ``(states, spikes, fused)``, ``fused`` mapping those that took it to their receptor states
    after it (their delivery and decay are done) and their fault flag."""
    new_neurons, spikes, fused = [], [], {}
    step = state.step
    gap = gap_drives(net.gap_junctions, net.populations, state.neurons)
    for i, p in enumerate(net.populations):
        out = fused_step(net, state, i, fuse[i], dt) if fuse and i in fuse else None
        if out is not None:
            new_neurons.append(out[0])
            spikes.append(out[1])
            fused[i] = out[2:]
            continue
        k = jax.random.fold_in(k_neu, i)
        if isinstance(p.neuron, AbstractSpikeSource):  # drive: None, or a rate (Hz)
            # time-given sources read the step counter of their stamp (NEST: step i is stamped
            # i + 1); rate-given ones the step itself, whose interval their rate is taken over
            src_step = step
            if p.neuron.step_counter == "stamp":
                src_step = step + net.conventions.stamp_offset
            st, s = p.neuron.step(state.neurons[i], source_rates[i], src_step, dt, k)
            new_neurons.append(st)
            spikes.append(s)
            continue
        drive = p.drive(state.receptors[i], state.neurons[i].get("v"), dt)
        if gap[i] is not None:
            drive = drive + gap[i]
        st, s = p.neuron.step(state.neurons[i], drive.with_current(i_ext[i]), step, dt, k)
        if net.conventions.refractory == "nest":
            st = nest_refractory(p.neuron, st, s, dt)
        new_neurons.append(st)
        spikes.append(s)
    return tuple(new_neurons), tuple(spikes), fused


def nest_refractory(neuron, st, spikes, dt):
    """NEST's refractory length: ``round(t_ref/dt)`` held steps after the spike step.

    Neurons count the steps still held in ``state["refractory"]`` and restart it at
    ``round(t_ref/dt) - 1`` after a spike (neurosim's default, see
    :func:`neurosim.neurons.refractory_update`); NEST's ``RefractoryCounts`` holds one step
    more. Models without that counter are unchanged.
    """
    if "refractory" not in st or not hasattr(neuron, "t_ref"):
        return st
    ref = st["refractory"]
    steps = jnp.round(neuron.t_ref / dt).astype(ref.dtype)
    return {**st, "refractory": jnp.where(spikes > 0, steps, ref)}


# -- phase 3: delivery ------------------------------------------------------------------------
def delivery(net: Network, plan: Plan, state: NetworkState, spikes, dt, skip=()):
    """Spikes of this step (or of step ``i - d``) through every projection's dynamics and
    operator; returns ``(increments per population and receptor, projection states, rings)``.
    Projections onto the populations in ``skip`` were delivered by their fused step."""
    step = state.step
    increments = [[None] * len(p.receptors) for p in net.populations]
    new_projections = []
    rings = list(state.delay_rings or (None,) * len(net.projections))
    for j, (pr, d) in enumerate(zip(net.projections, plan.delay_steps, strict=True)):
        if pr.post in skip:  # stateless (no dynamics, no delays): nothing to carry
            new_projections.append(state.projections[j])
            continue
        pre_pop, post_pop = net.populations[pr.pre], net.populations[pr.post]
        if d == 0:
            src = spikes[pr.pre]
        else:
            ring = state.history[pr.pre]
            src = jax.lax.dynamic_index_in_dim(ring, (step - d) % ring.shape[0], keepdims=False)
        src = _slice(src, pr.pre_slice, pre_pop.n)
        conn, values, pst, fused = pr.conn, src, state.projections[j], None
        if pr.dynamics is not None:  # deterministic: key None
            post_spikes = _slice(spikes[pr.post], pr.post_slice, post_pop.n)
            pst, tr = pr.dynamics.step(
                pst, ProjectionDrive(conn, src, post_spikes, pr.backend), step, dt, None
            )
            (values, conn), fused = tr, tr.out
        if pr.synapse_delays is not None:  # per-synapse delays: ring of future input
            rings[j], out = deliver_delayed(
                conn,
                pr.synapse_delays,
                values,
                rings[j],
                step,
                dt,
                pr.backend,
                rule=net.conventions.synapse_delay_rule(net.onto_jump(pr)),
            )
        elif fused is not None:  # delivered by the dynamics (fused with learning)
            out = fused
        else:
            out = event_matvec(conn, values, backend=pr.backend)
        new_projections.append(pst)
        if pr.post_slice != (0, post_pop.n):
            out = _add_slice(jnp.zeros((post_pop.n,), out.dtype), pr.post_slice, out)
        cur = increments[pr.post][pr.receptor]
        increments[pr.post][pr.receptor] = out if cur is None else cur + out
    rings = tuple(rings) if state.delay_rings else state.delay_rings
    return increments, tuple(new_projections), rings


# -- phase 3b: per-neuron Poisson input --------------------------------------------------------
def poisson_inputs(net: Network, state: NetworkState, increments, key, dt):
    """Add every Poisson input's counts x weight of this step to its receptor's increments."""
    for j, slot in enumerate(net.poisson_inputs):
        _, x = slot.source.step({}, None, state.step, dt, jax.random.fold_in(key, j))
        p = net.populations[slot.target]
        if slot.target_slice != (0, p.n):
            x = _add_slice(jnp.zeros((p.n,), x.dtype), slot.target_slice, x)
        cur = increments[slot.target][slot.receptor]
        increments[slot.target][slot.receptor] = x if cur is None else cur + x
    return increments


# -- phase 4: receptors -----------------------------------------------------------------------
def receptors(net: Network, state: NetworkState, increments, dt, fused=None):
    """Receptors advance over ``dt`` (decay exactly) and take this step's increments (they act
    from step ``i + 1`` on); those of populations in ``fused`` come from their fused step."""
    new_receptors = []
    for i, p in enumerate(net.populations):
        if fused and i in fused:
            new_receptors.append(fused[i][0])
            continue
        recs = []
        for r, rec in enumerate(p.receptors):  # deterministic: key None
            st, _ = rec.kinetics.step(state.receptors[i][r], increments[i][r], state.step, dt, None)
            recs.append(st)
        new_receptors.append(tuple(recs))
    return tuple(new_receptors)


# -- phase 7: spike history -------------------------------------------------------------------
def spike_history(state: NetworkState, spikes):
    """Write this step's spikes into the rings of populations with delayed projections."""
    out = []
    for i, h in enumerate(state.history):
        if h is None:
            out.append(None)
        else:
            out.append(
                jax.lax.dynamic_update_index_in_dim(
                    h, spikes[i].astype(h.dtype), state.step % h.shape[0], 0
                )
            )
    return tuple(out)


# -- phase 8: faults --------------------------------------------------------------------------
def faults(net: Network, state: NetworkState, new_neurons, new_receptors, new_nodes, fused=None):
    """First step at which a population's (or a node's) state stops being finite (populations
    in ``fused`` were checked by their fused step)."""
    step = state.step
    fault = state.fault_step
    fused = fused or {}
    if net.populations:
        bad = jnp.stack(
            [
                fused[i][1] if i in fused else _nonfinite((new_neurons[i], new_receptors[i]))
                for i in range(len(net.populations))
            ]
        )
        fault = jnp.where((fault < 0) & bad, step, fault)
    node_fault = tuple(
        jnp.where((f < 0) & nonfinite_nodes(x), step, f)
        for f, x in zip(state.node_fault, new_nodes, strict=True)
    )
    return fault, node_fault


def network_step(net: Network, plan: Plan, state: NetworkState, key, dt, fused: bool = False):
    """Advance the whole network by one step of ``dt`` (ms). Pure; returns ``(state, spikes)``.

    ``fused``: let populations that qualify (:func:`fused_populations`: LIF with exponential
    conductances, self-projections only, CPU) take phases 2-4 in one compiled call, bitwise
    the same result; not differentiable, so :func:`neurosim.simulate` sets it and
    :func:`neurosim.run` does not.

    Order within step ``i`` (``t = i dt``), as in Brian2's default schedule for the spiking
    part:

    1. external inputs: currents at ``t`` (inputs, rate -> spiking current couplings) and the
       rates of rate-driven spike sources (node outputs at ``t - d``);
    2. neurons: every spiking population integrates from ``t`` to ``t + dt`` with the synaptic
       drive of its receptors and gap junctions at ``t`` (voltage-dependent outputs and gap
       junctions see the membrane potentials at ``t``); threshold and reset;
    3. delivery: spikes (of this step, or of step ``i - d`` for delay ``d``) pass through the
       projections' dynamics and event-driven operators;
    4. receptors decay exactly over ``dt`` and take the delivered increments (and the counts
       of per-neuron Poisson inputs), so spikes act from step ``i + 1`` on;
    5. rate nodes integrate from ``t`` to ``t + dt`` with their input ``c(t)`` held; their
       outputs enter the delay rings; spiking -> rate signals and the rate couplings give
       ``c(t + dt)``;
    6. readouts step on this step's spikes and the states after the step;
    7. spike history for delayed projections;
    8. fault detection (first non-finite step per population and per node).

    ``spikes`` is a tuple with one float array of shape ``(n,)`` per spiking population.
    """
    step = state.step
    k_step = jax.random.fold_in(key, step)
    k_neu, k_inp = jax.random.split(k_step)
    multiscale = bool(net.rate_populations or net.cross or net.readouts)

    node_values = node_drives(net, plan, state, dt) if net.cross else ()
    i_ext, new_inputs, source_rates = external_inputs(net, state, k_inp, dt, node_values)
    fuse = fused_populations(net, plan) if fused else None
    new_neurons, spikes, done = neurons_fused(net, state, i_ext, source_rates, k_neu, dt, fuse)
    increments, new_projections, rings = delivery(net, plan, state, spikes, dt, done)
    if net.poisson_inputs:
        increments = poisson_inputs(net, state, increments, jax.random.fold_in(k_step, 0x9015), dt)
    new_receptors = receptors(net, state, increments, dt, done)
    new = dict(
        step=step + 1,
        neurons=new_neurons,
        receptors=new_receptors,
        inputs=new_inputs,
        projections=new_projections,
        history=spike_history(state, spikes),
        delay_rings=rings,
    )
    if not multiscale:
        fault, _ = faults(net, state, new_neurons, new_receptors, (), done)
        return dataclasses.replace(state, fault_step=fault, **new), spikes

    nodes, outputs = rate_nodes(net, state, k_step, dt)
    hist = node_history(net, plan, state.node_history, outputs, step + 1)
    cross, signals = region_signals(net, plan, state.cross, spikes, new_receptors, step + 1, dt)
    inputs = node_inputs(net, nodes, outputs, hist, signals, step + 1, dt)
    cross = cross_rings(net, plan, cross, nodes, inputs, step + 1)
    readouts, values = step_readouts(
        net, state, spikes, new_neurons, new_receptors, nodes, inputs, k_step, dt
    )
    fault, node_fault = faults(net, state, new_neurons, new_receptors, nodes, done)
    new_state = dataclasses.replace(
        state,
        fault_step=fault,
        nodes=nodes,
        node_input=inputs,
        node_history=hist,
        node_fault=node_fault,
        cross=cross,
        readouts=readouts,
        readout_values=values,
        **new,
    )
    return new_state, spikes
