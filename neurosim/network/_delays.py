"""Per-synapse (heterogeneous) delays: a ring buffer of future input per postsynaptic neuron.

A projection with per-synapse delays ``d_ij`` (in steps, ``round(delay_ij / dt)``) keeps a
ring ``R`` of shape ``(D, n_post)``, ``D = max_ij d_ij + 1``. In step ``s`` a spike of
presynaptic neuron ``i`` adds ``w_ij`` to ``R[(s + d_ij) % D, j]`` for each of its synapses;
then row ``R[s % D]`` is what arrives in step ``s`` (added to the receptor at the end of the
step, like an undelayed projection) and is cleared. So ``d_ij = 0`` behaves exactly like the
default one-step transmission and ``d_ij = k`` like a homogeneous delay of ``k`` steps.

Rounding (documented contract): ``d_ij = round_half_even(delay_ij / dt)`` in the delays'
floating dtype (float32 unless x64 is enabled), as for homogeneous delays; a delay below
``dt / 2`` therefore adds no step, and a delay that is not a multiple of ``dt`` lands on the
nearest step.

Delivery touches only the synapses of neurons that spiked (rows in blocks); the JVP uses the
full product over all synapses (like :func:`neurosim.ops.event_matvec`), so surrogate
gradients reach neurons that did not spike, and gradients w.r.t. the weights are exact.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.custom_derivatives import SymbolicZero

from ..ops import CSR
from ..ops import compact_ranks as _compact

__all__ = ["deliver_delayed", "delay_steps_max", "ring_length"]

_MAX_RING_BYTES = 4 << 30


def _steps(delays, dt):
    """Integer delay steps, ``round(delays / dt)`` in the delays' dtype."""
    d = jnp.round(delays / jnp.asarray(dt, delays.dtype))
    return d.astype(jnp.int32)


def delay_steps_max(max_delay: float, dtype, dt: float) -> int:
    """Host-side ``round(max_delay / dt)`` with the same arithmetic as the device kernel."""
    dtype = np.dtype(dtype)
    return int(np.round(np.asarray(max_delay, dtype) / np.asarray(dt, dtype)))


def ring_length(max_delay: float, dtype, dt: float, n_post: int, name: str) -> int:
    """Static ring length ``D = max steps + 1`` for a concrete ``dt`` (checked for size)."""
    length = delay_steps_max(max_delay, dtype, dt) + 1
    nbytes = length * n_post * np.dtype(dtype).itemsize
    if nbytes > _MAX_RING_BYTES:
        raise ValueError(
            f"per-synapse delays of projection {name!r} (max {max_delay:g} ms) need a ring of "
            f"{length} steps x {n_post} neurons ({nbytes / 2**30:.1f} GiB) at dt={dt} ms; "
            "shorten the delays or use a larger dt"
        )
    return length


def _block_rows(max_row: int) -> int:
    return int(max(1, min(64, 4096 // max(max_row, 1))))


def _deliver_events(conn: CSR, delays, spikes, ring, step, dt):
    """Add the synapses of the spiking rows into ``ring`` (blocks of rows, fixed windows)."""
    n_slots, n_post = ring.shape
    dtype = ring.dtype
    count, rows_of_rank = _compact(spikes != 0)
    B, M = _block_rows(conn.max_row), conn.max_row
    lane = jnp.arange(M, dtype=jnp.int32)

    def block(b, flat):
        rank = b * B + jnp.arange(B, dtype=jnp.int32)
        live = rank < count
        r = jnp.where(live, rows_of_rank(rank), 0)
        start = conn.indptr[r]
        ok = (lane[None, :] < (conn.indptr[r + 1] - start)[:, None]) & live[:, None]
        k = jnp.where(ok, start[:, None] + lane[None, :], 0)
        d = jnp.clip(_steps(delays[k], dt), 0, n_slots - 1)
        dest = ((step + d) % n_slots) * n_post + conn.indices[k]
        dest = jnp.where(ok, dest, n_slots * n_post)
        w = conn.weights if conn.homogeneous else conn.weights[k]
        vals = (w * spikes[r][:, None]).astype(dtype)
        return flat.at[dest.ravel()].add(jnp.broadcast_to(vals, dest.shape).ravel(), mode="drop")

    n_blocks = (count + B - 1) // B
    flat = lax.fori_loop(0, n_blocks, block, ring.reshape(-1))
    return flat.reshape(n_slots, n_post)


def _deliver_all(conn: CSR, delays, x, ring, step, dt):
    """Reference: every synapse, masked by ``x`` (linear in ``x``, the weights and ``ring``)."""
    n_slots, n_post = ring.shape
    nnz = conn.nnz
    d = jnp.clip(_steps(delays[:nnz], dt), 0, n_slots - 1)
    dest = ((step + d) % n_slots) * n_post + conn.indices[:nnz]
    vals = (jnp.asarray(x)[conn.row_ids()] * conn.synapse_weights()).astype(ring.dtype)
    return (ring.reshape(-1).at[dest].add(vals)).reshape(n_slots, n_post)


@functools.cache
def _delayed_op(backend: str):
    @jax.custom_jvp
    def op(conn, delays, spikes, ring, step, dt):
        if backend in ("reference", "dense"):
            return _deliver_all(conn, delays, spikes, ring, step, dt)
        return _deliver_events(conn, delays, spikes, ring, step, dt)

    def jvp(primals, tangents):
        conn, delays, spikes, ring, step, dt = primals
        conn_dot, _, spikes_dot, ring_dot, _, _ = tangents
        out = op(*primals)
        zero = jnp.zeros_like(out)
        tan = zero if isinstance(ring_dot, SymbolicZero) else ring_dot.astype(out.dtype)
        # Spike tangents go through every synapse (surrogate gradients of silent neurons).
        if not isinstance(spikes_dot, SymbolicZero):
            tan = tan + _deliver_all(conn, delays, spikes_dot, zero, step, dt)
        w_dot = conn.weight_tangent(conn_dot)
        if not isinstance(w_dot, SymbolicZero):
            tan = tan + _deliver_all(conn.with_weights(w_dot), delays, spikes, zero, step, dt)
        return out, tan

    op.defjvp(jvp, symbolic_zeros=True)
    return op


def deliver_delayed(conn: CSR, delays, spikes, ring, step, dt, backend: str = "auto"):
    """One step of per-synapse delayed delivery: ``(new ring, input arriving now)``.

    Args:
        conn: stored CSR connectivity (rows = presynaptic neurons).
        delays: per-synapse delays (ms), aligned with the CSR's synapse order.
        spikes: presynaptic spikes (or graded values) of this step, shape ``(n_pre,)``.
        ring: ``(D, n_post)`` future input; ``ring[(s + d) % D]`` arrives in step ``s + d``.
        step: integer step counter ``s``.
        dt: time step (ms).
        backend: ``"auto"``/``"loop"`` (spiking rows only) or ``"reference"`` (all synapses).

    Returns:
        The ring with this step's slot cleared, and that slot's content ``(n_post,)``.
    """
    ring = _delayed_op(backend)(conn, delays, spikes, ring, step, dt)
    slot = step % ring.shape[0]
    now = lax.dynamic_index_in_dim(ring, slot, keepdims=False)
    return lax.dynamic_update_index_in_dim(ring, jnp.zeros_like(now), slot, 0), now
