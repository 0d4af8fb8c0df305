"""Event-driven per-synapse updates on CSR storage: row windows (pre) and column windows (post).

A presynaptic spike touches the synapses of its CSR row (contiguous, a ``max_row`` window);
a postsynaptic spike touches its incoming synapses, found through a column index built once
from the CSR (synapse ids sorted by target, O(nnz) ints, padded to a ``max_col`` window).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .._validate import is_concrete
from ..ops import CSR

__all__ = ["column_index", "update_rows", "update_cols", "synapse_pre_ids"]


def column_index(conn: CSR) -> dict:
    """Transpose permutation of a CSR: per postsynaptic neuron, the ids of its synapses.

    Returns ``{"col_ptr": (n_post + 1,), "col_syn": (nnz + max_col,), "col_pre":
    (nnz + max_col,)}`` (int32): the incoming synapses of neuron ``j`` are
    ``col_syn[col_ptr[j]:col_ptr[j+1]]`` (positions in the CSR arrays), from presynaptic
    neurons ``col_pre[...]``. Padding entries point past the weight array (dropped on write).
    The window size ``max_col`` is the largest in-degree (the padding length), or ``nnz``
    when the connectivity is traced (built under ``jit``).
    """
    nnz, n_pre, n_post = conn.nnz, conn.n_pre, conn.n_post
    length = conn.indices.shape[0]  # weight/index array length, CSR padding included
    if is_concrete(conn.indices) and is_concrete(conn.indptr):
        post = np.asarray(conn.indices)[:nnz].astype(np.int64)
        indptr = np.asarray(conn.indptr).astype(np.int64)
        order = np.argsort(post, kind="stable")
        counts = np.bincount(post, minlength=n_post)
        col_ptr = np.concatenate([[0], np.cumsum(counts)])
        pad = max(int(counts.max()) if nnz else 0, 1)
        pre = np.repeat(np.arange(n_pre), np.diff(indptr))
        col_syn = np.concatenate([order, np.full(pad, length)])
        col_pre = np.concatenate([pre[order], np.zeros(pad, np.int64)])
        return {
            "col_ptr": jnp.asarray(col_ptr, jnp.int32),
            "col_syn": jnp.asarray(col_syn, jnp.int32),
            "col_pre": jnp.asarray(col_pre, jnp.int32),
        }
    post = conn.indices[:nnz]
    order = jnp.argsort(post, stable=True).astype(jnp.int32)
    counts = jnp.bincount(post, length=n_post)
    col_ptr = jnp.concatenate([jnp.zeros(1, jnp.int32), jnp.cumsum(counts).astype(jnp.int32)])
    pad = max(nnz, 1)
    pre = synapse_pre_ids(conn)
    return {
        "col_ptr": col_ptr,
        "col_syn": jnp.concatenate([order, jnp.full(pad, length, jnp.int32)]),
        "col_pre": jnp.concatenate([pre[order], jnp.zeros(pad, jnp.int32)]),
    }


def synapse_pre_ids(conn: CSR) -> jax.Array:
    """Presynaptic neuron of every unpadded synapse, shape ``(nnz,)``."""
    return conn.row_ids()


def _active(spikes):
    n = spikes.shape[0]
    active = spikes != 0
    count = jnp.sum(active, dtype=jnp.int32)
    (ids,) = jnp.nonzero(active, size=n, fill_value=0)
    return ids, count


def update_rows(w, conn: CSR, spikes, fn):
    """For every presynaptic neuron ``i`` with ``spikes[i] != 0`` update its row of ``w``.

    ``fn(w_win, post_win, i, s) -> w_win`` gets the row's weights and targets as fixed
    ``max_row`` windows (lanes past the row end are masked out here) and the spike value.
    """
    lane = jnp.arange(conn.max_row, dtype=jnp.int32)
    ids, count = _active(spikes)

    def body(k, w):
        i = ids[k]
        start = conn.indptr[i]
        valid = lane < conn.indptr[i + 1] - start
        w_win = lax.dynamic_slice(w, (start,), (conn.max_row,))
        post = lax.dynamic_slice(conn.indices, (start,), (conn.max_row,))
        post = jnp.where(valid, post, 0)
        new = fn(w_win, post, i, spikes[i])
        return lax.dynamic_update_slice(w, jnp.where(valid, new, w_win), (start,))

    return lax.fori_loop(0, count, body, w)


def update_cols(w, conn: CSR, cols: dict, spikes, fn):
    """For every postsynaptic neuron ``j`` with ``spikes[j] != 0`` update its incoming synapses.

    ``fn(w_win, pre_win, j, s) -> w_win`` gets the weights and presynaptic ids of the column as
    fixed ``max_col`` windows (padding lanes are dropped on write).
    """
    col_ptr, col_syn, col_pre = cols["col_ptr"], cols["col_syn"], cols["col_pre"]
    max_col = col_syn.shape[0] - conn.nnz  # static: the padding length
    lane = jnp.arange(max_col, dtype=jnp.int32)
    ids, count = _active(spikes)

    def body(k, w):
        j = ids[k]
        start = col_ptr[j]
        valid = lane < col_ptr[j + 1] - start
        syn = lax.dynamic_slice(col_syn, (start,), (max_col,))
        syn = jnp.where(valid, syn, w.shape[0])
        pre = jnp.where(valid, lax.dynamic_slice(col_pre, (start,), (max_col,)), 0)
        w_win = w.at[syn].get(mode="fill", fill_value=0)
        new = fn(w_win, pre, j, spikes[j])
        return w.at[syn].set(new, mode="drop")

    return lax.fori_loop(0, count, body, w)


# -- STDP weight updates ------------------------------------------------------------------
# ``rule`` provides ``on_pre(w, pre_traces, post_traces)``, ``on_post(...)`` and ``_clip``.


def weight_update_dense(rule, w, conn: CSR, pre_tr, post_tr, s_pre, s_post):
    """Update all synapses with masks (O(nnz) per step): pre updates, then post updates."""
    nnz = conn.nnz
    pre_ids, post_ids = conn.row_ids(), conn.indices[:nnz]
    wn = w[:nnz]
    sp, so = s_pre[pre_ids], s_post[post_ids]
    a, b = pre_tr[:, pre_ids], post_tr[:, post_ids]
    wn = jnp.where(sp != 0, rule._clip(wn + sp * rule.on_pre(wn, a, b)), wn)
    wn = jnp.where(so != 0, rule._clip(wn + so * rule.on_post(wn, a, b)), wn)
    return w.at[:nnz].set(wn)


def _weight_update_loops(rule, w, conn, cols, pre_tr, post_tr, s_pre, s_post):
    def at_pre(w_win, post, i, s):
        return rule._clip(w_win + s * rule.on_pre(w_win, pre_tr[:, i], post_tr[:, post]))

    def at_post(w_win, pre, j, s):
        return rule._clip(w_win + s * rule.on_post(w_win, pre_tr[:, pre], post_tr[:, j]))

    w = update_rows(w, conn, s_pre, at_pre)
    return update_cols(w, conn, cols, s_post, at_post)


@jax.custom_jvp
def weight_update_event(rule, w, conn: CSR, cols: dict, pre_tr, post_tr, s_pre, s_post):
    """Same result as :func:`weight_update_dense`, touching only the synapses of neurons that
    spiked (loops over them). Its derivative is the dense update's (a custom JVP: the loops
    themselves cannot be reverse-differentiated), so it works under ``grad``."""
    return _weight_update_loops(rule, w, conn, cols, pre_tr, post_tr, s_pre, s_post)


@weight_update_event.defjvp
def _weight_update_event_jvp(primals, tangents):
    out = weight_update_event(*primals)

    def dense(rule, w, conn, cols, pre_tr, post_tr, s_pre, s_post):
        return weight_update_dense(rule, w, conn, pre_tr, post_tr, s_pre, s_post)

    _, tan = jax.jvp(dense, primals, tangents)
    return out, tan
