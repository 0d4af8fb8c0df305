"""Per-synapse delays of procedural connectivity, regenerated from the row streams.

Definition (the delays are part of the matrix, like the targets and the weights): synapse
``k`` of row ``pre`` (its ``k``-th target in increasing order, i.e. lane ``k`` of the row's
stream) has delay ``delays.quantile(u)`` (ms), with ``u = unit_uniform(b0)`` and ``b0`` the
first word of ``threefry2x32((k0, k1), (pre, 2**31 | k))``, the projection's own stream key
words ``(k0, k1)``. Lane counters of the structure stream stay below ``2**30``, so the delay
words never coincide with the words that draw targets and weights, and the structure does not
depend on the delays. Nothing is stored: every product regenerates the delays of the rows it
touches (O(row length) per row), so memory stays O(neurons). The event path (rows of the
neurons that spiked, chunked), the reference path (all rows, fixed width) and
:func:`synapse_delays` (the stored equivalent, CSR order) all see the same delays.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .._streams import threefry2x32, unit_uniform

__all__ = ["DELAY_COUNTER", "lane_delays", "scatter_event", "scatter_all", "synapse_delays"]

DELAY_COUNTER = 1 << 31  # second counter word of the delay stream: 2**31 | lane


def lane_delays(conn, delays, rows, lane0, lanes: int):
    """Delays (ms) of lanes ``lane0 .. lane0 + lanes - 1`` of each row, shape ``(R, lanes)``."""
    x0 = jnp.broadcast_to(rows.astype(jnp.uint32)[:, None], (rows.shape[0], lanes))
    lane = jnp.asarray(lane0).astype(jnp.uint32) + jnp.arange(lanes, dtype=jnp.uint32)
    b0, _ = threefry2x32(conn.key[0], conn.key[1], x0, (lane | jnp.uint32(DELAY_COUNTER))[None])
    return delays.quantile(unit_uniform(b0))


def scatter_event(conn, spikes, flat, dest, delays, compact):
    """Add the synapses of the spiking rows into ``flat`` at ``dest(tgt, valid, d_ms)``.

    ``dest`` returns flat indices (out of range where ``valid`` is False, dropped);
    ``compact`` is the spiking-row compaction of :mod:`neurosim.ops._procedural`.
    """
    spikes = jnp.asarray(spikes)
    if conn.empty:
        return flat
    B = conn.block_rows
    count, rows_of_rank = compact(spikes != 0)

    def block(b, acc):
        rank = b * B + jnp.arange(B, dtype=jnp.int32)
        live = rank < count
        r = jnp.where(live, rows_of_rank(rank), 0)
        vals = jnp.where(live, spikes[r], 0).astype(flat.dtype)

        def visit(o, tgt, valid, w, lane0):
            idx = dest(tgt, valid, lane_delays(conn, delays, r, lane0, conn.lanes))
            contrib = jnp.where(valid, w * vals[:, None], 0).astype(o.dtype)
            return o.at[idx.ravel()].add(contrib.ravel(), mode="drop")

        return conn._walk(r, live, acc, visit, with_lane0=True)

    return lax.fori_loop(0, (count + B - 1) // B, block, flat)


def scatter_all(conn, x, flat, dest, delays):
    """Every synapse, masked by ``x`` (fixed-width scan; linear and JAX-transposable)."""
    x = jnp.asarray(x)
    if conn.empty:
        return flat
    R = conn._fixed_block()
    xpad = jnp.concatenate([x.astype(flat.dtype), jnp.zeros((R,), flat.dtype)])

    def step(o, start, rows, tgt, valid, w):
        v = lax.dynamic_slice(xpad, (start,), (R,))
        idx = dest(tgt, valid, lane_delays(conn, delays, rows, 0, conn.capacity))
        contrib = jnp.broadcast_to(jnp.where(valid, w * v[:, None], 0), tgt.shape)
        return o.at[idx.ravel()].add(contrib.astype(o.dtype).ravel(), mode="drop")

    return conn._scan_rows(flat, step)


def synapse_delays(conn, delays) -> jax.Array:
    """Delay (ms) of every synapse in CSR order (rows in order, targets increasing)."""
    if conn.empty:
        return jnp.zeros((0,), jnp.result_type(*jax.tree.leaves(delays), float))
    rows = jnp.arange(conn.n_pre, dtype=jnp.int32)
    _, valid, _ = conn._fixed_rows(rows)
    d = lane_delays(conn, delays, rows, 0, conn.capacity)
    valid = np.asarray(valid)
    return jnp.asarray(np.asarray(d)[valid])
