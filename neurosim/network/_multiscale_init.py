"""Initial state of the multi-scale parts of a network: rate nodes, a constant past, the node
inputs of step 0, cross-scale coupling and readout states."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from ._multiscale import node_inputs, node_signal, synaptic_signal

__all__ = ["init_scales", "initial_nodes"]


def initial_nodes(net, nodes: dict | None, key, dt) -> tuple[dict, ...]:
    """Node states per rate population: given (``nodes[name]``) or sampled."""
    nodes = nodes or {}
    names = [rp.name for rp in net.rate_populations]
    unknown = sorted(set(nodes) - set(names))
    if unknown:
        raise ValueError(f"nodes names unknown rate populations {unknown}; known: {names}")
    out = []
    dtype = jnp.result_type(float)
    for r, rp in enumerate(net.rate_populations):
        if rp.name not in nodes:
            out.append(rp.model.init(jax.random.fold_in(key, r), dt))
            continue
        given = nodes[rp.name]
        missing = sorted(set(rp.model.state_names) - set(given))
        if missing:
            raise ValueError(
                f"nodes[{rp.name!r}] is missing state variables {missing}; the model has "
                f"{list(rp.model.state_names)}"
            )
        out.append(
            {
                k: jnp.broadcast_to(jnp.asarray(given[k], dtype), (rp.n,))
                for k in rp.model.state_names
            }
        )
    return tuple(out)


def init_scales(net, state, key, dt, plan, nodes=None):
    """Rate nodes (sampled, or ``nodes``), a constant past, initial node inputs, readouts."""
    k_nod, k_out = jax.random.split(key)
    nodes = initial_nodes(net, nodes, k_nod, dt)
    outputs = tuple(rp.model.output(x) for rp, x in zip(net.rate_populations, nodes, strict=True))
    hist = tuple(
        jnp.broadcast_to(y, (D, *y.shape)) if D > 0 else None
        for y, D in zip(outputs, plan.node_ring, strict=True)
    )
    cross, signals = [], []
    for j, (cc, d) in enumerate(zip(net.cross, plan.cross_delay, strict=True)):
        st = {"part": cc.coupling.init(jax.random.fold_in(k_out, 0xC0 + j), dt)}
        if cc.direction == "spiking->rate":
            if cc.receptor >= 0:  # synaptic activity: the receptors at rest
                s = synaptic_signal(net, cc, state.receptors)
            else:  # population activity: its filter's initial rate
                s = st["part"]["r"]
            signals.append(s)
        else:
            rp = net.rate_populations[cc.rate]
            c0 = jnp.zeros_like(outputs[cc.rate])
            s = node_signal(rp.model, nodes[cc.rate], c0, cc.coupling.variable)
            s = s if not cc.nodes else s[jnp.asarray(cc.nodes, jnp.int32)]
            signals.append(None)
        if d > 0:
            st["ring"] = jnp.broadcast_to(s, (d + 1, *s.shape))
        cross.append(st)
    inputs = node_inputs(net, nodes, outputs, hist, signals, state.step, dt)
    # rate -> spiking rings of observables depend on c(0): refill them with it
    for j, (cc, d) in enumerate(zip(net.cross, plan.cross_delay, strict=True)):
        if cc.direction == "rate->spiking" and d > 0:
            rp = net.rate_populations[cc.rate]
            s = node_signal(rp.model, nodes[cc.rate], inputs[cc.rate], cc.coupling.variable)
            s = s if not cc.nodes else s[jnp.asarray(cc.nodes, jnp.int32)]
            cross[j] = {**cross[j], "ring": jnp.broadcast_to(s, (d + 1, *s.shape))}
    readouts, values = [], []
    for j, slot in enumerate(net.readouts):
        st = slot.readout.init(jax.random.fold_in(k_out, j), dt)
        readouts.append(st)
        values.append(jnp.zeros((slot.n_out,), jnp.result_type(float)))
    return dataclasses.replace(
        state,
        nodes=tuple(nodes),
        node_input=inputs,
        node_history=hist,
        node_fault=tuple(jnp.full((rp.n,), -1, jnp.int32) for rp in net.rate_populations),
        cross=tuple(cross),
        readouts=tuple(readouts),
        readout_values=tuple(values),
    )
