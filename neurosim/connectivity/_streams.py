"""Counter-based random row streams that *define* random connectivity.

Row ``pre`` of a Bernoulli(p) matrix is generated from its own stream keyed by
``fold_in(key, pre)``: geometric skips ``gap_k = floor(log(1 - u_k) / log(1 - p)) + 1`` give
the target positions in increasing order, so a row costs O(its synapses), any row can be
regenerated on its own (procedural connectivity), and stored CSR built from the same streams is
the same matrix.
"""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp

__all__ = ["bernoulli_row_capacity", "bernoulli_row", "bernoulli_rows"]


def bernoulli_row_capacity(n_targets: int, p: float) -> int:
    """Static capacity for one Bernoulli row: mean + 12 sd + 16, at most ``n_targets``.

    A row longer than this has probability < 1e-30; generators still check and report it.
    """
    mean = n_targets * p
    sd = math.sqrt(max(n_targets * p * (1.0 - p), 0.0))
    return int(max(1, min(n_targets, math.ceil(mean + 12.0 * sd + 16.0))))


def bernoulli_row(key, pre, p, n_targets: int, capacity: int, skip_self: bool = False):
    """Targets of row ``pre``: ``(positions (capacity,), valid (capacity,), complete)``.

    ``positions[valid]`` are the (sorted, distinct) targets in ``[0, n_targets)``;
    ``complete`` is False if the capacity was too small to reach the end of the row. With
    ``skip_self`` the row draws over ``n_targets - 1`` candidates and skips ``pre`` itself.
    """
    n_cand = n_targets - 1 if skip_self else n_targets
    k = jax.random.fold_in(key, pre)
    u = jax.random.uniform(k, (capacity,), dtype=jnp.float32)
    p = jnp.asarray(p, jnp.float32)
    log_q = jnp.log1p(-p)
    ratio = jnp.log1p(-u) / jnp.where(p > 0, log_q, -1.0)
    gaps = jnp.floor(jnp.minimum(ratio, float(n_cand + 1))).astype(jnp.int32) + 1
    gaps = jnp.where(p > 0, gaps, n_cand + 1)
    pos = jnp.cumsum(gaps) - 1
    valid = pos < n_cand
    complete = (pos[-1] >= n_cand) | (capacity >= n_cand)  # a full row cannot be longer
    if skip_self:
        pos = jnp.where(pos >= pre, pos + 1, pos)
    pos = jnp.where(valid, pos, n_targets).astype(jnp.int32)
    return pos, valid, complete


@partial(jax.jit, static_argnames=("n_targets", "capacity", "skip_self"))
def bernoulli_rows(key, rows, p, n_targets: int, capacity: int, skip_self: bool = False):
    """:func:`bernoulli_row` for a block of row indices (vmapped)."""
    return jax.vmap(lambda r: bernoulli_row(key, r, p, n_targets, capacity, skip_self))(rows)
