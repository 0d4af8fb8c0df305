"""Sharded simulation: ``simulate`` (chunks streamed to the host) and ``run`` (differentiable)."""

from __future__ import annotations

import functools
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from .._driver import HashableTree, OnFault, check_on_fault
from .._validate import check_key, check_positive
from ..network import (
    Network,
    NetworkState,
    SimulationResult,
    decode_packed_spikes,
    resolve_record_spikes,
    simulation_result,
)
from ._layout import AXIS, Layout, layout
from ._partition import local_networks, merge_state, split_state, stack
from ._step import block_step, flush

__all__ = ["simulate", "run", "shard"]

_COMPILED: dict = {}


def _check_mesh(mesh) -> int:
    if not isinstance(mesh, Mesh) or AXIS not in mesh.axis_names or len(mesh.axis_names) != 1:
        raise ValueError(
            f"mesh must be a 1-D jax.sharding.Mesh with axis {AXIS!r} "
            f"(ns.distributed.make_mesh()), got {mesh!r:.120}"
        )
    return int(mesh.shape[AXIS])


def shard(net: Network, mesh: Mesh, dt: float, min_delay: float | None = None):
    """``(layout, stacked local networks)``: ``net`` partitioned over ``mesh`` for step ``dt``.

    Example:
        >>> import jax, neurosim as ns
        >>> net = ns.models.coba(n=64, key=jax.random.key(0))
        >>> lay, local = ns.distributed.shard(net, ns.distributed.make_mesh(1), dt=0.1)
        >>> lay.interval, lay.block
        (1, (64,))
    """
    lay = layout(net, _check_mesh(mesh), float(dt), min_delay)
    return lay, stack(local_networks(net, lay))


def _squeeze(tree):
    return jax.tree.map(lambda x: x[0], tree)


def _expand(tree):
    return jax.tree.map(lambda x: x[None], tree)


def _chunk(static, lay: Layout, capacity: int, rec: tuple, dyn, sst, key, dt, n_active):
    """Per device: up to ``capacity`` steps (``n_active`` of them), the local spikes of the
    populations ``rec`` bit-packed."""
    local = eqx.combine(_squeeze(dyn), static.tree)
    sst = _squeeze(sst)
    bufs = tuple(jnp.zeros((capacity, (lay.block[i] + 7) // 8), jnp.uint8) for i in rec)

    def body(c):
        i, st, sb = c
        st, spikes = block_step(local, lay, st, key, dt, AXIS)
        sb = tuple(
            jax.lax.dynamic_update_index_in_dim(b, jnp.packbits(spikes[j] > 0), i, 0)
            for b, j in zip(sb, rec, strict=True)
        )
        return i + 1, st, sb

    _, sst, bufs = jax.lax.while_loop(
        lambda c: c[0] < n_active, body, (jnp.asarray(0, jnp.int32), sst, bufs)
    )
    sst = flush(local, lay, sst, dt, AXIS)
    return _expand(sst), _expand(bufs)


def _compiled(static, lay, capacity, rec, mesh):
    key = (static, lay, capacity, rec, mesh)
    if key not in _COMPILED:
        fn = jax.shard_map(
            functools.partial(_chunk, static, lay, capacity, rec),
            mesh=mesh,
            in_specs=(P(AXIS), P(AXIS), P(), P(), P()),
            out_specs=(P(AXIS), P(AXIS)),
            check_vma=False,
        )
        _COMPILED[key] = jax.jit(fn)
    return _COMPILED[key]


def _put(tree, mesh, spec):
    """Global arrays of ``tree`` laid out as ``spec`` (works with several processes)."""
    sharding = NamedSharding(mesh, spec)

    def put(x):
        if not eqx.is_array(x):
            return x
        if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
            return jax.random.wrap_key_data(
                put(jax.random.key_data(x)), impl=jax.random.key_impl(x)
            )
        host = np.asarray(x)
        return jax.make_array_from_callback(host.shape, sharding, lambda idx: host[idx])

    return jax.tree.map(put, tree)


def _host(x) -> np.ndarray:
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        return np.asarray(multihost_utils.process_allgather(x, tiled=True))
    return np.asarray(x)


def _decode(lay: Layout, rec: tuple, bufs, n_active: int, offsets):
    """``(steps within the chunk, global indices)`` per device block of the recorded
    populations, in increasing index order (a replicated population: its first copy)."""
    for i, buf in zip(rec, bufs, strict=True):
        host = _host(buf)[:, :n_active]  # (D, steps, bytes)
        for k in range(lay.n_devices) if lay.sharded[i] else [0]:
            steps, idx = decode_packed_spikes(host[k], lay.block[i])
            shift = k * lay.block[i] if lay.sharded[i] else 0
            yield steps, idx + shift + offsets[i]


def simulate(
    network: Network,
    duration: float,
    dt: float = 0.1,
    *,
    key,
    mesh: Mesh,
    state: NetworkState | None = None,
    min_delay: float | None = None,
    chunk_steps: int | None = None,
    on_fault: OnFault = "raise",
    record=(),
    record_spikes=None,
) -> SimulationResult:
    """Simulate ``network`` sharded along the neuron axis over the devices of ``mesh``.

    The same result as :func:`neurosim.simulate` on one device: identical spike rasters and
    the same final state to float rounding (each neuron sums its synaptic inputs in the same
    order). Every spiking population is split into contiguous blocks, one per device,
    with the synapses onto each block (postsynaptic partition); spike sources and inputs are
    replicated. Spikes are exchanged, bit-packed, with one ``all_gather`` every minimum
    delay; recorded spikes stay on their device until the end of each chunk. The result is
    made by the same function as :func:`neurosim.simulate`'s
    (:func:`neurosim.network.simulation_result`): same spike stamps (network conventions),
    ``spikes_recorded`` and fault report.

    Args:
        network: a network with stored or procedural connectivity (no gap junctions or
            plastic projections); rate populations and readouts are replicated.
        duration: biological time (ms); dt: time step (ms).
        key: random key (initial state when ``state`` is None, stochastic inputs).
        mesh: a 1-D mesh from :func:`neurosim.distributed.make_mesh`, at most as many
            devices as the smallest spiking population (uneven blocks are padded).
        state: initial global state (default ``network.init_state(key, dt)``, as one device).
        min_delay: exchange interval (ms); default the network's minimum delay (``dt`` plus
            the shortest delay of a projection leaving a sharded population). Must be a
            multiple of ``dt``, at least ``dt``, at most that minimum.
        chunk_steps: steps per compiled chunk (default up to 2000).
        on_fault: ``"raise"`` or ``"return"`` when a state becomes non-finite.
        record: must be empty: sharded runs record spikes only (the final state is returned).
        record_spikes: populations whose spikes are recorded, as in :func:`neurosim.simulate`:
            ``None`` (default) every population except spike sources, ``"all"``, a population
            name or a sequence of them, or ``()`` for none.

    Returns:
        A :class:`neurosim.SimulationResult` (spikes, final global state; no traces).

    Example:
        >>> import jax, neurosim as ns
        >>> net = ns.models.coba(n=64, key=jax.random.key(0))
        >>> mesh = ns.distributed.make_mesh(1)
        >>> res = ns.distributed.simulate(net, 20.0, 0.1, key=jax.random.key(1), mesh=mesh)
        >>> res.status
        'ok'
    """
    if record:
        raise ValueError(
            "sharded runs record spikes only (record=() ); read variables from "
            "result.final_state, or simulate on one device to record traces"
        )
    check_on_fault(on_fault)
    check_positive("duration", duration, "ms")
    check_positive("dt", dt, "ms")
    key = check_key(key)
    dt = float(dt)
    n_steps = int(round(float(duration) / dt))
    if n_steps < 1:
        raise ValueError(f"duration ({duration} ms) is shorter than one step (dt={dt} ms)")
    rec = resolve_record_spikes(network, record_spikes)
    k_init, k_run = jax.random.split(key)
    if state is None:
        state = network.init_state(k_init, dt)
    else:
        network.check_state(state, dt)
    lay, local = shard(network, mesh, dt, min_delay)
    start_step = int(state.step)
    dyn, static = eqx.partition(local, eqx.is_array)
    static = HashableTree(static)
    capacity = int(min(chunk_steps or 2000, n_steps))
    exe = _compiled(static, lay, capacity, rec, mesh)
    sst = _put(split_state(network, lay, state), mesh, P(AXIS))
    dyn = _put(dyn, mesh, P(AXIS))
    k_run, dt_arr = _put((k_run, jnp.asarray(dt, jnp.result_type(float))), mesh, P())
    t0 = time.perf_counter()
    compile_s = 0.0
    offsets = np.concatenate([[0], np.cumsum(lay.size)[:-1]])
    steps_all, idx_all = [], []  # per chunk, blocks in increasing index order
    done = 0
    while done < n_steps:
        n_active = min(capacity, n_steps - done)
        t_c = time.perf_counter()
        sst, bufs = exe(dyn, sst, k_run, dt_arr, _put(jnp.asarray(n_active, jnp.int32), mesh, P()))
        if done == 0:
            jax.block_until_ready(sst)
            compile_s = time.perf_counter() - t_c  # first call: compile + first chunk
        for st_k, ix_k in _decode(lay, rec, bufs, n_active, offsets):
            steps_all.append(st_k + start_step + done)
            idx_all.append(ix_k)
        done += n_active
        fault = _host(sst.net.fault_step)
        if np.any(fault >= 0):
            break
    run_s = time.perf_counter() - t0 - compile_s
    final = merge_state(network, lay, sst)
    if jax.process_count() > 1:
        final = jax.tree.map(_host, final)
    return simulation_result(
        network,
        steps=np.concatenate(steps_all) if steps_all else np.zeros(0, np.int64),
        indices=np.concatenate(idx_all) if idx_all else np.zeros(0, np.int64),
        recorded=rec,
        final_state=final,
        start_step=start_step,
        n_steps=n_steps,
        done=done,
        dt=dt,
        compile_s=compile_s,
        run_s=run_s,
        devices=[str(d) for d in mesh.devices.flat],
        on_fault=on_fault,
    )


def run(
    net: Network,
    state: NetworkState,
    n_steps: int,
    dt: float,
    *,
    key,
    mesh: Mesh,
    min_delay: float | None = None,
) -> tuple[NetworkState, dict]:
    """Sharded counterpart of :func:`neurosim.run`: pure, jit- and grad-able (one process).

    Returns the final global state and, per spiking population, its spikes ``(n_steps, n)``
    (differentiable through the surrogate: the exchange passes tangents as floats).

    Example:
        >>> import jax, neurosim as ns
        >>> net = ns.models.coba(n=64, key=jax.random.key(0))
        >>> s0 = net.init_state(jax.random.key(1), 0.1)
        >>> mesh = ns.distributed.make_mesh(1)
        >>> s1, spikes = ns.distributed.run(net, s0, 10, 0.1, key=jax.random.key(2), mesh=mesh)
        >>> spikes["P"].shape
        (10, 64)
    """
    dt = float(dt)
    lay, local = shard(net, mesh, dt, min_delay)
    dyn, static = eqx.partition(local, eqx.is_array)
    sst = split_state(net, lay, state)

    def per_device(dyn, sst, key):
        loc = eqx.combine(_squeeze(dyn), static)
        sst = _squeeze(sst)

        def body(c, _):
            c, spikes = block_step(loc, lay, c, key, dt, AXIS)
            return c, spikes

        sst, spikes = jax.lax.scan(body, sst, None, length=int(n_steps))
        sst = flush(loc, lay, sst, dt, AXIS)
        return _expand(sst), _expand(spikes)

    fn = jax.shard_map(
        per_device,
        mesh=mesh,
        in_specs=(P(AXIS), P(AXIS), P()),
        out_specs=(P(AXIS), P(AXIS)),
        check_vma=False,
    )
    sst, spikes = fn(dyn, sst, key)
    out = {}
    for i, p in enumerate(net.populations):
        s = spikes[i]  # (D, n_steps, block)
        out[p.name] = (
            jnp.swapaxes(s, 0, 1).reshape(int(n_steps), -1)[:, : p.n] if lay.sharded[i] else s[0]
        )
    return merge_state(net, lay, sst), out
