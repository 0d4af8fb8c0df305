"""The ``compact`` backend: spike delivery without a per-spike loop (accelerator design).

Step 1 compacts the indices of the spiking presynaptic neurons (one ``jnp.nonzero`` over the
spike vector, O(n_pre) and parallel on a GPU). Step 2 gathers the padded rows of ``capacity``
of them at once, a ``(capacity, row_width)`` block of targets and weights, and scatter-adds
the whole block in one op (atomic adds on a GPU). If more than ``capacity`` neurons spiked,
further blocks follow (a ``while_loop`` up to ``ceil(n_spiking / capacity)``), so the
capacity only trades memory and wasted lanes against the number of blocks: no spike is ever
dropped.
On CPU this is slower than the ``loop`` and ``ffi`` backends; it is tested there through the
same code path it runs on GPU.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import lax

__all__ = ["compact_deliver"]


def compact_deliver(
    spikes,
    n_post: int,
    dtype,
    capacity: int,
    rows_fn: Callable[[jax.Array], tuple[jax.Array, jax.Array]],
) -> jax.Array:
    """``spikes @ W`` where ``rows_fn(rows) -> (targets, weights)`` reads padded rows of ``W``.

    Args:
        spikes: ``(n_pre,)`` spike values (0 = no spike; graded values scale the row).
        n_post: number of postsynaptic neurons; targets ``>= n_post`` are dropped (padding).
        dtype: output dtype.
        capacity: rows per block (static, >= 1).
        rows_fn: maps ``(capacity,)`` row indices (all valid) to ``(capacity, width)``
            targets and weights (weights may be a scalar for homogeneous matrices).
    """
    spikes = jnp.asarray(spikes)
    n_pre = spikes.shape[0]
    cap = max(1, min(int(capacity), n_pre))
    active = spikes != 0
    count = jnp.sum(active, dtype=jnp.int32)
    n_blocks = (count + (cap - 1)) // cap
    pad = (-n_pre) % cap
    (rows_all,) = jnp.nonzero(active, size=n_pre + pad, fill_value=n_pre)

    def block(b, out):
        rows = lax.dynamic_slice_in_dim(rows_all, b * cap, cap)
        valid = rows < n_pre
        safe = jnp.where(valid, rows, 0)
        targets, weights = rows_fn(safe)
        targets = jnp.where(valid[:, None], targets, n_post)
        values = (weights * spikes[safe][:, None]).astype(dtype)
        values = jnp.broadcast_to(values, targets.shape)
        return out.at[targets.reshape(-1)].add(values.reshape(-1), mode="drop")

    # The first block runs unconditionally; only bursts beyond `capacity` spiking rows enter
    # the loop (on a GPU each loop test is a device-to-host sync, so keep it off the
    # common path).
    out = block(0, jnp.zeros((n_post,), dtype))
    return lax.fori_loop(1, jnp.maximum(n_blocks, 1), block, out)
