"""Postsynaptic partition: each device's block of neurons and their incoming synapses.

Device ``k`` gets a *local network*: its block of every sharded population (parameter arrays
taken along the neuron axis; see :class:`~neurosim.distributed.Layout` for the padding
of uneven blocks), the replicated spike sources, inputs and per-neuron Poisson
inputs, the rate populations, couplings and readouts (replicated), the network's timing
conventions, and for every
projection the synapses onto its block, as an operator whose rows are all presynaptic neurons
(the exchanged, global spike vector) and whose columns are the block. The blocks of a
projection are padded to a common size (number of synapses, longest row), so that all devices
share one static structure and the local networks stack into one pytree with a leading device
axis, which ``shard_map`` splits. Synapses keep their order within each row, so every
postsynaptic neuron sums its inputs in the same order as on one device.

The index arithmetic is done once on the host (numpy); weights and neuron parameters are
gathered with ``jnp``, so gradients with respect to them flow through the partition.
"""

from __future__ import annotations

import copy
import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..network import Network, NetworkState, Population, Projection, Receptor
from ..ops import CSR, ELL, ProceduralBernoulli
from ._layout import Layout

__all__ = [
    "local_networks",
    "replicated_rows",
    "stack",
    "split_state",
    "merge_state",
    "ShardedState",
]


class ShardedState(eqx.Module):
    """The state of a sharded run, every leaf with a leading device axis ``(D, ...)``.

    Attributes:
        net: per device, its local :class:`neurosim.NetworkState` (its block of neurons and
            receptors, replicated inputs and spike sources, the global spike-history rings,
            its block's rings of future input).
        buffer: per population, ``(interval, block)`` spikes not yet exchanged (or None).
        start: the first step whose spikes are not yet exchanged (buffer slot 0).
    """

    net: NetworkState
    buffer: tuple
    start: jax.Array


def _rows(x, rows: np.ndarray):
    """``x[rows]`` along the leading axis: a plain slice when ``rows`` is contiguous."""
    lo, hi = int(rows[0]), int(rows[-1]) + 1
    if hi - lo == rows.size:
        return x[lo:hi]
    return jnp.take(x, jnp.asarray(rows), axis=0)  # padding places repeat the last neuron


def _take_block(module, n: int, rows: np.ndarray):
    """``module`` with every array whose leading axis is the neuron axis taken at ``rows``."""

    def take(x):
        if eqx.is_array(x) and x.ndim >= 1 and x.shape[0] == n:
            return _rows(x, rows)
        return x

    out = jax.tree.map(take, module)
    if dataclasses.is_dataclass(out) and any(f.name == "n" for f in dataclasses.fields(out)):
        out = copy.copy(out)
        object.__setattr__(out, "n", int(rows.size))
    return out


def _csr_blocks(conn: CSR, delays, ps0: int, b: int, D: int):
    indptr = np.asarray(conn.indptr, np.int64)
    nnz = conn.nnz
    cols = ps0 + np.asarray(conn.indices[:nnz], np.int64)
    rows = np.repeat(np.arange(conn.n_pre), np.diff(indptr))
    sel = [np.flatnonzero((cols >= k * b) & (cols < (k + 1) * b)) for k in range(D)]
    counts = [np.bincount(rows[s], minlength=conn.n_pre) for s in sel]
    n_max = max(int(s.size) for s in sel)
    pad = max(1, max(int(c.max()) if c.size else 0 for c in counts))
    out = []
    for k, (s, c) in enumerate(zip(sel, counts, strict=True)):
        length = n_max + pad
        idx = np.full(length, b, np.int32)
        idx[: s.size] = cols[s] - k * b
        if conn.homogeneous:
            w = conn.weights
        else:
            w = jnp.zeros((length,), conn.weights.dtype).at[: s.size].set(conn.weights[s])
        local = CSR(
            indptr=jnp.asarray(np.concatenate([[0], np.cumsum(c)]), jnp.int32),
            indices=jnp.asarray(idx),
            weights=w,
            n_pre=conn.n_pre,
            n_post=b,
            max_row=pad,
            nnz_=n_max,
        )
        dl = None
        if delays is not None:
            dl = jnp.zeros((length,), delays.dtype).at[: s.size].set(jnp.asarray(delays)[s])
        out.append((local, dl))
    return out


def _ell_blocks(conn: ELL, delays, ps0: int, b: int, D: int):
    t = np.asarray(conn.targets, np.int64)
    valid = t < conn.n_post
    g = ps0 + t
    out, masks = [], []
    for k in range(D):
        mask = valid & (g >= k * b) & (g < (k + 1) * b)
        masks.append(mask)
    n_max = max(int(m.sum()) for m in masks)
    for k, mask in enumerate(masks):
        tgt = np.where(mask, g - k * b, b).astype(np.int32)
        w = conn.weights if conn.homogeneous else jnp.where(jnp.asarray(mask), conn.weights, 0)
        local = ELL(targets=jnp.asarray(tgt), weights=w, n_pre=conn.n_pre, n_post=b, nnz_=n_max)
        out.append((local, delays))
    return out


def replicated_rows(pr: Projection) -> bool:
    """True if every device holds the whole projection (procedural: rows regenerated from the
    same counter streams on every device, each keeping the columns of its block)."""
    return isinstance(pr.conn, ProceduralBernoulli)


def local_networks(net: Network, lay: Layout) -> list[Network]:
    """One local :class:`neurosim.Network` per device (same static structure on all)."""
    D = lay.n_devices
    per_proj = []
    for pr in net.projections:
        b = lay.block[pr.post]
        ps0 = pr.post_slice[0]
        if isinstance(pr.conn, ProceduralBernoulli):  # every device regenerates the rows
            per_proj.append([(pr.conn, None)] * D)
            continue
        fn = _csr_blocks if isinstance(pr.conn, CSR) else _ell_blocks
        per_proj.append(fn(pr.conn, pr.synapse_delays, ps0, b, D))
    nets = []
    for k in range(D):
        pops = []
        for i, p in enumerate(net.populations):
            if not lay.sharded[i]:
                pops.append(Population(p.name, p.neuron, p.receptors, ()))
                continue
            rows = lay.rows(i, k)
            recs = tuple(
                Receptor(r.name, _take_block(r.kinetics, p.n, rows), _take_block(
                    r.output, p.n, rows))
                for r in p.receptors
            )  # fmt: skip
            pops.append(Population(p.name, _take_block(p.neuron, p.n, rows), recs, ()))
        projs = []
        for pr, blocks in zip(net.projections, per_proj, strict=True):
            conn, dl = blocks[k]
            projs.append(
                Projection(
                    name=pr.name,
                    pre=pr.pre,
                    pre_slice=pr.pre_slice,
                    post=pr.post,
                    post_slice=pr.post_slice if replicated_rows(pr) else (0, lay.block[pr.post]),
                    receptor=pr.receptor,
                    conn=conn,
                    delay=pr.delay,
                    backend=pr.backend,
                    dynamics=None,
                    synapse_delays=dl,
                    max_delay=pr.max_delay,
                )
            )
        # The conventions travel with the block: sources read their stamp's step counter,
        # refractoriness and delay latencies follow the network's rules (shared phases).
        nets.append(
            Network(
                tuple(pops),
                tuple(projs),
                net.inputs,
                poisson_inputs=net.poisson_inputs,  # replicated: each block slices its counts
                rate_populations=net.rate_populations,  # replicated (see _multiscale)
                node_couplings=net.node_couplings,
                cross=net.cross,
                readouts=net.readouts,
                conventions=net.conventions,
            )
        )
    return nets


def stack(trees: list):
    """Stack pytrees of identical structure along a new leading (device) axis."""
    structs = {jax.tree.structure(t) for t in trees}
    if len(structs) != 1:  # pragma: no cover - guarded by the common padding above
        raise AssertionError("local networks differ in static structure")
    return jax.tree.map(lambda *xs: jnp.stack(xs), *trees)


def _ring_cols(pr: Projection, lay: Layout, k: int):
    """Columns of the projection's global future ring held by device ``k``'s block."""
    b = lay.block[pr.post]
    idx = k * b + np.arange(b) - pr.post_slice[0]
    valid = (idx >= 0) & (idx < pr.conn.n_post)
    return np.clip(idx, 0, max(pr.conn.n_post - 1, 0)), valid


def split_state(net: Network, lay: Layout, state: NetworkState) -> ShardedState:
    """The global ``state`` cut into per-device local states (stacked), nothing buffered."""
    D = lay.n_devices
    per_dev = []
    dtype = jnp.result_type(float)
    for k in range(D):

        def block(tree, i, k=k):
            if not lay.sharded[i]:
                return tree
            rows = lay.rows(i, k)
            return jax.tree.map(lambda a: _rows(a, rows), tree)

        rings = []
        for pr, r in zip(net.projections, state.delay_rings or (None,) * len(net.projections),
                         strict=True):  # fmt: skip
            if r is None:
                rings.append(None)
                continue
            idx, valid = _ring_cols(pr, lay, k)
            rings.append(jnp.where(jnp.asarray(valid), r[:, idx], 0).astype(r.dtype))
        local = dataclasses.replace(
            state,
            neurons=tuple(block(x, i) for i, x in enumerate(state.neurons)),
            receptors=tuple(block(x, i) for i, x in enumerate(state.receptors)),
            projections=tuple({} for _ in net.projections),
            delay_rings=tuple(rings) if state.delay_rings else state.delay_rings,
        )
        buffer = tuple(
            jnp.zeros((lay.interval, b), dtype) if x else None
            for b, x in zip(lay.block, lay.exchanged, strict=True)
        )
        per_dev.append(ShardedState(local, buffer, jnp.asarray(state.step, jnp.int32)))
    return stack(per_dev)


def merge_state(net: Network, lay: Layout, sh: ShardedState) -> NetworkState:
    """The global :class:`neurosim.NetworkState` of a sharded state with nothing buffered.

    Sharded blocks are concatenated, replicated parts taken from device 0, rings of future
    input reassembled from the blocks' columns, fault steps combined (first over devices).
    """
    st = sh.net
    D = lay.n_devices

    def merge(tree, i):
        if lay.sharded[i]:  # blocks in order, padding places dropped
            return jax.tree.map(lambda x: x.reshape((-1, *x.shape[2:]))[: lay.size[i]], tree)
        return jax.tree.map(lambda x: x[0], tree)

    rings = []
    for pr, r in zip(net.projections, st.delay_rings or (None,) * len(net.projections),
                     strict=True):  # fmt: skip
        if r is None:
            rings.append(None)
            continue
        out = jnp.zeros((r.shape[1], pr.conn.n_post), r.dtype)
        for k in range(D):
            idx, valid = _ring_cols(pr, lay, k)
            out = out.at[:, idx[valid]].set(r[k][:, np.flatnonzero(valid)])
        rings.append(out)
    fault = st.fault_step
    fault = jnp.where(fault < 0, jnp.iinfo(jnp.int32).max, fault).min(axis=0)
    fault = jnp.where(fault == jnp.iinfo(jnp.int32).max, -1, fault)
    return NetworkState(
        step=st.step[0],
        neurons=tuple(merge(x, i) for i, x in enumerate(st.neurons)),
        receptors=tuple(merge(x, i) for i, x in enumerate(st.receptors)),
        inputs=jax.tree.map(lambda x: x[0], st.inputs),
        projections=tuple({} for _ in net.projections),
        history=tuple(None if h is None else h[0] for h in st.history),
        fault_step=fault,
        delay_rings=tuple(rings) if st.delay_rings else st.delay_rings,
        **{  # rate populations, couplings, readouts: replicated, device 0's copy
            f: jax.tree.map(lambda x: x[0], getattr(st, f))
            for f in (
                "nodes",
                "node_input",
                "node_history",
                "node_fault",
                "cross",
                "readouts",
                "readout_values",
            )
        },  # fmt: skip
    )
