"""Pallas kernel for procedural (regenerated) Bernoulli rows: generate and deliver in one pass.

Each program regenerates the rows of its spiking neurons from their counter-based streams
(:mod:`neurosim._streams`: Threefry-2x32 counters ``(pre, lane)``, geometric gaps from the
fixed-point log table) ``LANES`` lanes at a time, until every row has passed its last
candidate, and atomically adds ``w * spike`` at the targets. A lane's value depends only on
``(key, pre, lane)``, never on the chunk width, so this walks *the same* matrix as the
reference, the transpose and a stored copy. The log table is an input of the kernel (a
kernel may not capture array constants); :func:`geometric_gaps_ref` mirrors
:func:`neurosim._streams.geometric_gaps` on it, and the tests compare the two lane by lane.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from .. import _streams
from .._init import AbstractInit
from ._pallas import BLOCK_ROWS, block_rows, lanes_for, launch, scatter_add

__all__ = ["procedural_event", "geometric_gaps_ref"]


def geometric_gaps_ref(table_ref, b0, scale, max_gap: int):
    """:func:`neurosim._streams.geometric_gaps` reading the log table from a ref (or array)."""
    u = jnp.uint32
    r = b0 | u(1)
    z = lax.clz(r)
    f = (r << z) << u(1)
    i = (f >> u(32 - _streams._TBITS)).astype(jnp.int32)
    t = (f >> u(32 - _streams._TBITS - _streams._IBITS)) & u((1 << _streams._IBITS) - 1)
    lo = table_ref[i]
    hi = table_ref[i + 1]
    lg = lo + (((hi - lo) * t) >> u(_streams._IBITS))
    fixed = ((z + u(1)) << u(_streams._FRAC)) - lg
    g = jnp.floor(fixed.astype(jnp.float32) * jnp.float32(scale))
    g = jnp.minimum(g, jnp.float32(max_gap - 1))
    return g.astype(jnp.int32) + 1


def _kernel(conn, lanes, treedef, n_leaves, dtype, interpret):
    n_cand, n_post, skip_self = conn.n_cand, conn.n_post, conn.skip_self
    scale = _streams.gap_scale(conn.p)
    is_init = treedef is not None

    def kernel(count_ref, rows_ref, spk_ref, key_ref, table_ref, *rest):
        w_refs, o_ref = rest[:n_leaves], rest[-1]
        b, live, rows, vals = block_rows(count_ref, rows_ref, spk_ref)

        @pl_when(b * BLOCK_ROWS < count_ref[0])
        def _():
            k0, k1 = key_ref[0], key_ref[1]
            if is_init:
                init = jax.tree.unflatten(treedef, [r[0] for r in w_refs])
            else:
                w0 = w_refs[0][0]
            x0 = jnp.broadcast_to(rows.astype(jnp.uint32)[:, None], (BLOCK_ROWS, lanes))

            def cond(c):
                return jnp.min(c[1]) < n_cand  # (Triton lowers no reduce_or)

            def body(c):
                lane0, prev = c
                alive = prev < n_cand
                x1 = lane0.astype(jnp.uint32) + jnp.arange(lanes, dtype=jnp.uint32)
                b0, b1 = _streams.threefry2x32(k0, k1, x0, x1[None, :])
                g = geometric_gaps_ref(table_ref, b0, scale, n_cand + 1)
                pos = prev[:, None] + jnp.cumsum(g, axis=1)
                ok = (pos < n_cand) & alive[:, None]
                tgt = _streams.targets(pos, rows, skip_self)
                w = init.quantile(_streams.unit_uniform(b1)) if is_init else w0
                contrib = (w * vals[:, None]).astype(dtype)
                scatter_add(o_ref, tgt, contrib, ok, n_post, interpret)
                # cumsum of positive gaps: the last lane is the row's maximum.
                return lane0 + lanes, jnp.where(alive, jnp.max(pos, axis=1), n_cand)

            prev0 = jnp.where(live, -1, n_cand).astype(jnp.int32)
            lax.while_loop(cond, body, (jnp.asarray(0, jnp.int32), prev0))

    return kernel


def _kernel_safe(init) -> bool:
    """Whether ``init.quantile`` uses no array constants (a kernel may not capture any;
    e.g. ``ndtri``'s polynomial tables for ``ns.init.Normal``)."""
    closed = jax.make_jaxpr(init.quantile)(jnp.full((2,), 0.5, jnp.float32))
    return all(jnp.ndim(c) == 0 for c in closed.consts)


def pl_when(pred):
    from jax.experimental import pallas as pl

    return pl.when(pred)


def procedural_event(conn, spikes, *, interpret: bool) -> jax.Array:
    """``spikes @ W`` for a :class:`~neurosim.ops.ProceduralBernoulli` with the fused kernel.

    Falls back to the operator's pure-JAX event path (same result) where the kernel does not
    apply: running sums that could overflow int32 (``(lanes + 1) (n_cand + 1) >= 2^31``) or
    initializer weights with non-scalar parameters or a quantile that needs array constants
    (``ns.init.Normal``: ``ndtri``'s tables; ``Constant`` and ``Uniform`` run in the kernel).

    Example:
        >>> import jax, jax.numpy as jnp, neurosim as ns
        >>> from neurosim.ops._pallas_procedural import procedural_event
        >>> W = ns.connectivity.FixedProbability(0.2, procedural=True).build(
        ...     jax.random.key(0), 20, 16, 0.5)
        >>> out = procedural_event(W, jnp.ones(20), interpret=True)
    """
    spikes = jnp.asarray(spikes)
    dtype = conn._dtype(spikes.dtype)
    if conn.empty:
        return jnp.zeros((conn.n_post,), dtype)
    lanes = lanes_for(conn.lanes)
    w = conn.weights
    if isinstance(w, AbstractInit):
        leaves, treedef = jax.tree.flatten(w)
        scalar = all(jnp.ndim(x) == 0 for x in leaves) and _kernel_safe(w)
        w_ops = tuple(jnp.asarray(x).reshape(1) for x in leaves)
    else:
        treedef, scalar = None, jnp.ndim(w) == 0
        w_ops = (jnp.asarray(w).astype(dtype).reshape(1),) if scalar else ()
    if not scalar or (lanes + 1) * (conn.n_cand + 1) >= 2**31 - 1:
        return conn._event(spikes)
    ops = (conn.key, jnp.asarray(_streams.LOG2_TABLE), *w_ops)
    kernel = _kernel(conn, lanes, treedef, len(w_ops), dtype, interpret)
    return launch(kernel, spikes, ops, conn.n_post, dtype, interpret)
