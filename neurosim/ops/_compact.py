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

__all__ = ["compact_deliver", "compact_ranks"]


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


def compact_ranks(active) -> tuple[jax.Array, Callable[[jax.Array], jax.Array]]:
    """``(count, rows_of_rank)``: the number of True entries of ``active`` and a function
    giving the index of the ``k``-th one (0-based ranks, sorted by index).

    Two levels instead of ``jnp.nonzero`` (whose scatter over all ``n`` entries dominated the
    step at every size): the entries are packed into 32-bit words and their popcounts summed
    up (O(n) vectorised work); a rank is located by a binary search over the words and a
    5-step popcount select inside its word.

    Args:
        active: bool ``(n,)``, e.g. ``spikes != 0``.

    Returns:
        ``(count, rows_of_rank)``: int32 scalar, and a function mapping int32 ranks (any
        shape) to int32 indices (ranks ``>= count`` give unspecified in-range indices).

    Example:
        >>> import jax.numpy as jnp, neurosim as ns
        >>> count, rows_of_rank = ns.ops.compact_ranks(jnp.array([0, 1, 0, 1, 1]) != 0)
        >>> int(count), rows_of_rank(jnp.arange(3)).tolist()
        (3, [1, 3, 4])
    """
    n = active.shape[0]
    n_words = -(-n // 32)
    bits = jnp.pad(active, (0, n_words * 32 - n)).reshape(n_words, 32).astype(jnp.uint32)
    words = jnp.sum(bits << jnp.arange(32, dtype=jnp.uint32), axis=1, dtype=jnp.uint32)
    counts = lax.population_count(words).astype(jnp.int32)
    cum = jnp.cumsum(counts)

    def rows_of_rank(rank):
        g = jnp.minimum(jnp.searchsorted(cum, rank + 1, method="scan_unrolled"), n_words - 1)
        j = rank - (cum[g] - counts[g])  # rank inside word g
        w, pos = words[g], jnp.zeros_like(rank)
        for width in (16, 8, 4, 2, 1):
            c = lax.population_count(w & jnp.uint32((1 << width) - 1)).astype(jnp.int32)
            upper = j >= c
            j = jnp.where(upper, j - c, j)
            w = jnp.where(upper, w >> jnp.uint32(width), w)
            pos = pos + jnp.where(upper, width, 0)
        return (g * 32 + pos).astype(jnp.int32)

    return cum[-1], rows_of_rank
