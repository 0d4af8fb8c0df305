"""One step of a device's block, run inside ``shard_map``: the one-device phases per block.

Inputs, neurons and receptors are the engine's own phases (:func:`neurosim.network.step_inputs`,
:func:`~neurosim.network.step_neurons`, :func:`~neurosim.network.step_receptors`) applied to
the device's local network; only the delivery differs: presynaptic spikes come from the
exchanged global vector. Spikes of sharded populations are buffered for ``interval`` steps
and then exchanged, bit-packed, with one ``all_gather`` (NEST's min-delay scheme): the
exchange writes them into the (replicated) spike-history rings and scatters those of
projections with per-synapse delays into the block's rings of future input, in emission
order, so every synapse adds in the same order as on one device.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from ..network import (
    Network,
    deliver_delayed,
    step_inputs,
    step_neurons,
    step_receptors,
)
from ..ops import any_nonfinite, event_matvec
from ._layout import Layout
from ._multiscale import is_multiscale, node_values, step_multiscale
from ._partition import ShardedState, replicated_rows

__all__ = ["block_step", "flush", "InputView"]


class _Sized(NamedTuple):
    n: int


class InputView(NamedTuple):
    """What the input phase needs of the global network: population sizes, inputs."""

    populations: tuple
    inputs: tuple
    cross: tuple = ()

    @classmethod
    def of(cls, local: Network, lay: Layout) -> InputView:
        return cls(tuple(_Sized(n) for n in lay.size), local.inputs)


def _gather_fn(axis: str):
    """All-gather of bit-packed spike blocks; the tangent is gathered as floats."""

    @jax.custom_jvp
    def gather(bufs):
        packed = [jnp.packbits(x > 0, axis=1) for x in bufs]
        allp = lax.all_gather(jnp.concatenate(packed, axis=1), axis)  # (D, L, bytes)
        out, off = [], 0
        for x, p in zip(bufs, packed, strict=True):
            part = allp[:, :, off : off + p.shape[1]]
            off += p.shape[1]
            bits = jnp.unpackbits(part, axis=2, count=x.shape[1])  # (D, L, block)
            out.append(jnp.swapaxes(bits, 0, 1).reshape(x.shape[0], -1).astype(x.dtype))
        return tuple(out)

    @gather.defjvp
    def _jvp(primals, tangents):
        (bufs,), (dots,) = primals, tangents
        tan = tuple(
            jnp.swapaxes(lax.all_gather(d, axis), 0, 1).reshape(d.shape[0], -1) for d in dots
        )
        return gather(bufs), tan

    return gather


def _slice(x, sl):
    return x if sl == (0, x.shape[0]) else x[sl[0] : sl[1]]


def _exchange(local: Network, lay: Layout, st, buffer, start, count, dt, axis):
    """Gather the first ``count`` buffered steps; ``(history, rings, global spikes)``."""
    pops = [i for i, x in enumerate(lay.exchanged) if x]
    gathered = _gather_fn(axis)(tuple(buffer[i] for i in pops))
    glob = {i: g[:, : lay.size[i]] for i, g in zip(pops, gathered, strict=True)}  # no padding
    history = list(st.history)
    for i in pops:
        if history[i] is None:
            continue

        def write(m, h, i=i):
            slot = (start + m) % h.shape[0]
            old = lax.dynamic_index_in_dim(h, slot, keepdims=False)
            new = lax.dynamic_index_in_dim(glob[i], m, keepdims=False).astype(h.dtype)
            return lax.dynamic_update_index_in_dim(h, jnp.where(m < count, new, old), slot, 0)

        history[i] = lax.fori_loop(0, lay.interval, write, history[i])
    rings = list(st.delay_rings or (None,) * len(local.projections))
    for j, pr in enumerate(local.projections):
        if pr.synapse_delays is None or not lay.exchanged[pr.pre]:
            continue

        def scatter(m, ring, pr=pr):
            t = start + m
            vals = lax.dynamic_index_in_dim(glob[pr.pre], m, keepdims=False)
            vals = _slice(jnp.where(m < count, vals, 0), pr.pre_slice)
            ring, now = deliver_delayed(
                pr.conn, pr.synapse_delays, vals, ring, t, dt, pr.backend, rule=_rule(local, pr)
            )
            return lax.dynamic_update_index_in_dim(ring, now, t % ring.shape[0], 0)  # no read

        rings[j] = lax.fori_loop(0, lay.interval, scatter, rings[j])
    return tuple(history), tuple(rings), tuple(glob.get(i) for i in range(len(lay.size)))


def _rule(local: Network, pr) -> tuple[int, int]:
    """The per-synapse delay rule of ``pr`` under the network's conventions."""
    return local.conventions.synapse_delay_rule(local.onto_jump(pr))


def _block(x, lay: Layout, i: int, dev):
    """Device ``dev``'s block of a global per-neuron vector of population ``i``."""
    if not lay.sharded[i]:
        return x
    b = lay.block[i]
    if lay.padded(i):  # padding places get zero
        x = jnp.pad(x, (0, b * lay.n_devices - x.shape[0]))
    return lax.dynamic_slice_in_dim(x, dev * b, b)


def _post_block(out, pr, lay: Layout, dev):
    """Device ``dev``'s block of a projection's whole output (its post slice, zero outside)."""
    n = lay.size[pr.post]
    if pr.post_slice != (0, n):
        lo, hi = pr.post_slice
        out = jnp.zeros((n,), out.dtype).at[lo:hi].add(out)
    return _block(out, lay, pr.post, dev)


def _mask_padding(spikes, lay: Layout, dev):
    """Spikes of the padding places of uneven blocks set to zero (they never leave)."""
    out = []
    for i, x in enumerate(spikes):
        if lay.padded(i):
            x = jnp.where(dev * lay.block[i] + jnp.arange(lay.block[i]) < lay.size[i], x, 0)
        out.append(x)
    return tuple(out)


def _poisson_inputs(local: Network, lay: Layout, step, increments, k_step, dt, dev):
    """Per-neuron Poisson counts x weight, the numbers one device draws, cut to the block.

    Each input draws its whole target range with the one-device key (``fold_in(k_step,
    0x9015)`` folded with the input's index) and keeps the device's block: bitwise the
    one-device increments, at the cost of drawing every target neuron's count on every
    device (O(n) per device and step; cheap next to the synapses, and exact).
    """
    key = jax.random.fold_in(k_step, 0x9015)
    for j, slot in enumerate(local.poisson_inputs):
        _, x = slot.source.step({}, None, step, dt, jax.random.fold_in(key, j))
        i, n = slot.target, lay.size[slot.target]
        if slot.target_slice != (0, n):
            lo, hi = slot.target_slice
            x = jnp.zeros((n,), x.dtype).at[lo:hi].add(x)
        x = _block(x, lay, i, dev)
        cur = increments[i][slot.receptor]
        increments[i][slot.receptor] = x if cur is None else cur + x
    return increments


def _maybe_exchange(local, lay, st, buffer, start, count, due, dt, axis):
    if not any(lay.exchanged):
        return st.history, st.delay_rings, (None,) * len(lay.size)
    if lay.interval == 1:  # every step: no branch
        return _exchange(local, lay, st, buffer, start, count, dt, axis)

    def skip(_):
        _, _, glob = jax.eval_shape(
            lambda: _exchange(local, lay, st, buffer, start, count, dt, axis)
        )
        zeros = tuple(None if g is None else jnp.zeros(g.shape, g.dtype) for g in glob)
        return st.history, tuple(st.delay_rings or (None,) * len(local.projections)), zeros

    def do(_):
        return _exchange(local, lay, st, buffer, start, count, dt, axis)

    hist, rings, glob = lax.cond(due, do, skip, None)
    return hist, rings, glob


def block_step(local: Network, lay: Layout, sst: ShardedState, key, dt, axis: str):
    """Advance a device's block by one step; returns ``(state, spikes of its block)``."""
    st, start = sst.net, sst.start
    s = st.step
    k_step = jax.random.fold_in(key, s)
    k_neu, k_inp = jax.random.split(k_step)
    dev = lax.axis_index(axis)
    view = InputView.of(local, lay)._replace(cross=local.cross)
    i_ext_g, new_inputs, rates = step_inputs(view, st, k_inp, dt, node_values(local, lay, st, dt))
    i_ext = [_block(x, lay, i, dev) for i, x in enumerate(i_ext_g)]
    rates = [None if r is None else _block(r, lay, i, dev) for i, r in enumerate(rates)]
    new_neurons, spikes = step_neurons(local, st, i_ext, rates, k_neu, dt)
    spikes = _mask_padding(spikes, lay, dev)
    buffer = tuple(
        None
        if buf is None
        else lax.dynamic_update_index_in_dim(buf, x.astype(buf.dtype), s - start, 0)
        for buf, x in zip(sst.buffer, spikes, strict=True)
    )
    due = s - start + 1 == lay.interval
    history, rings, glob = _maybe_exchange(
        local, lay, st, buffer, start, lay.interval, due, dt, axis
    )
    rings = list(rings)
    increments = [[None] * len(p.receptors) for p in local.populations]
    for j, pr in enumerate(local.projections):
        d, pre = lay.delay_steps[j], pr.pre
        if pr.synapse_delays is not None and lay.exchanged[pre]:
            ring = rings[j]  # scattered at the exchange: read and clear this step's slot
            slot = s % ring.shape[0]
            out = lax.dynamic_index_in_dim(ring, slot, keepdims=False)
            rings[j] = lax.dynamic_update_index_in_dim(ring, jnp.zeros_like(out), slot, 0)
        else:
            if d == 0:
                src = glob[pre][0] if lay.exchanged[pre] else spikes[pre]
            else:
                h = history[pre]
                src = lax.dynamic_index_in_dim(h, (s - d) % h.shape[0], keepdims=False)
            src = _slice(src, pr.pre_slice)
            if replicated_rows(pr):  # the one-device product, this block kept
                out = _post_block(event_matvec(pr.conn, src, backend=pr.backend), pr, lay, dev)
            elif pr.synapse_delays is not None:
                rings[j], out = deliver_delayed(
                    pr.conn, pr.synapse_delays, src, rings[j], s, dt, pr.backend,
                    rule=_rule(local, pr),
                )  # fmt: skip
            else:
                out = event_matvec(pr.conn, src, backend=pr.backend)
        cur = increments[pr.post][pr.receptor]
        increments[pr.post][pr.receptor] = out if cur is None else cur + out
    if local.poisson_inputs:
        increments = _poisson_inputs(local, lay, s, increments, k_step, dt, dev)
    new_receptors = step_receptors(local, st, increments, dt)
    history = tuple(
        h
        if h is None or lay.exchanged[i]
        else lax.dynamic_update_index_in_dim(h, spikes[i].astype(h.dtype), s % h.shape[0], 0)
        for i, h in enumerate(history)
    )
    bad = jnp.stack(
        [any_nonfinite((new_neurons[i], new_receptors[i])) for i in range(len(lay.size))]
    )
    fault = jnp.where((st.fault_step < 0) & bad, s, st.fault_step)
    more = {}
    if is_multiscale(local):
        more = step_multiscale(local, lay, st, spikes, new_neurons, new_receptors, k_step, dt, axis)
    new = dataclasses.replace(
        st,
        **more,
        step=s + 1,
        neurons=new_neurons,
        receptors=new_receptors,
        inputs=new_inputs,
        history=history,
        delay_rings=tuple(rings) if st.delay_rings else st.delay_rings,
        fault_step=fault,
    )
    return ShardedState(new, buffer, jnp.where(due, s + 1, start)), spikes


def flush(local: Network, lay: Layout, sst: ShardedState, dt, axis: str) -> ShardedState:
    """Exchange what is buffered now (an early exchange changes no result)."""
    if lay.interval == 1 or not any(lay.exchanged):
        return sst
    st = sst.net
    count = st.step - sst.start
    history, rings, _ = _maybe_exchange(
        local, lay, st, sst.buffer, sst.start, count, count > 0, dt, axis
    )
    st = dataclasses.replace(
        st, history=history, delay_rings=tuple(rings) if st.delay_rings else st.delay_rings
    )
    return ShardedState(st, sst.buffer, st.step)
