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
from ..ops import CSR, FFI_DTYPES, event_matvec, ffi_available, stdp_update_ffi

__all__ = [
    "column_index",
    "update_rows",
    "update_cols",
    "synapse_pre_ids",
    "use_kernel",
    "weight_update_event",
    "weight_update_dense",
    "deliver_and_update",
]


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


CHUNK = 32  # spiking neurons handled together in one vectorised loop iteration


def _active(spikes):
    """Indices of the non-zero entries first (padded with 0) and their count."""
    n = spikes.shape[0]
    active = spikes != 0
    pos = jnp.cumsum(active, dtype=jnp.int32) - 1
    ids = (
        jnp.zeros((n,), jnp.int32)
        .at[jnp.where(active, pos, n)]
        .set(jnp.arange(n, dtype=jnp.int32), mode="drop", unique_indices=True)
    )
    return ids, pos[-1] + 1


def _chunks(spikes, fn, w):
    """Run ``fn(w, ids (C,), live (C,)) -> w`` over the spiking neurons, ``CHUNK`` at a time.

    A sequential loop over single neurons pays XLA's per-operation overhead for every
    neuron (CPU: ~10 us each); a chunk of neurons costs about the same as one.
    """
    n = spikes.shape[0]
    chunk = min(CHUNK, n)
    ids, count = _active(spikes)
    lane = jnp.arange(chunk, dtype=jnp.int32)

    def body(c, w):
        k = c * chunk + lane
        return fn(w, ids[jnp.minimum(k, n - 1)], k < count)

    return lax.fori_loop(0, (count + chunk - 1) // chunk, body, w)


def _apply(w, pos, valid, w_win, new):
    """Add ``new - w_win`` at positions ``pos`` where ``valid`` (distinct synapses)."""
    length = w.shape[0]
    return w.at[jnp.where(valid, pos, length)].add(
        jnp.where(valid, new - w_win, 0.0), mode="drop", unique_indices=True
    )


def update_rows(w, conn: CSR, spikes, fn):
    """For every presynaptic neuron ``i`` with ``spikes[i] != 0`` update its row of ``w``.

    ``fn(w_win, post_win, i, s) -> w_win`` gets, for a chunk of ``C`` spiking neurons, their
    rows' weights and targets as ``(C, max_row)`` windows (lanes past a row's end are
    masked out here), the neurons ``i`` and spike values ``s`` (shape ``(C, 1)``).
    """
    lane = jnp.arange(conn.max_row, dtype=jnp.int32)

    def on_chunk(w, i, live):
        start = conn.indptr[i][:, None]
        valid = live[:, None] & (lane[None, :] < conn.indptr[i + 1][:, None] - start)
        pos = jnp.where(valid, start + lane[None, :], 0)
        w_win = w[pos]
        post = jnp.where(valid, conn.indices[pos], 0)
        new = fn(w_win, post, i[:, None], spikes[i][:, None])
        return _apply(w, pos, valid, w_win, new)

    return _chunks(spikes, on_chunk, w)


def update_cols(w, conn: CSR, cols: dict, spikes, fn):
    """For every postsynaptic neuron ``j`` with ``spikes[j] != 0`` update its incoming synapses.

    ``fn(w_win, pre_win, j, s) -> w_win`` gets ``(C, max_col)`` windows of the weights and
    presynaptic ids of a chunk of spiking neurons' columns, ``j`` and ``s`` of shape ``(C, 1)``.
    """
    col_ptr, col_syn, col_pre = cols["col_ptr"], cols["col_syn"], cols["col_pre"]
    max_col = col_syn.shape[0] - conn.nnz  # static: the padding length
    lane = jnp.arange(max_col, dtype=jnp.int32)

    def on_chunk(w, j, live):
        start = col_ptr[j][:, None]
        valid = live[:, None] & (lane[None, :] < col_ptr[j + 1][:, None] - start)
        at = jnp.where(valid, start + lane[None, :], 0)
        pos = jnp.where(valid, col_syn[at], 0)
        w_win = w[pos]
        pre = jnp.where(valid, col_pre[at], 0)
        new = fn(w_win, pre, j[:, None], spikes[j][:, None])
        return _apply(w, pos, valid, w_win, new)

    return _chunks(spikes, on_chunk, w)


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
    def at_pre(w_win, post, i, s):  # i, s: (C, 1); w_win, post: (C, max_row)
        return rule._clip(w_win + s * rule.on_pre(w_win, pre_tr[:, i], post_tr[:, post]))

    def at_post(w_win, pre, j, s):  # j, s: (C, 1); w_win, pre: (C, max_col)
        return rule._clip(w_win + s * rule.on_post(w_win, pre_tr[:, pre], post_tr[:, j]))

    w = update_rows(w, conn, s_pre, at_pre)
    return update_cols(w, conn, cols, s_post, at_post)


def _kernel_update(rule, w, conn, cols, pre_tr, post_tr, s_pre, s_post):
    name, params = rule._kernel_spec()
    return stdp_update_ffi(name, params, w, conn, cols, pre_tr, post_tr, s_pre, s_post)


def use_kernel(rule, w) -> bool:
    """Whether the event update may run the compiled CPU kernel: the rule has one
    (``_kernel_spec``), ``w`` is float32/float64 and the kernels are built (not disabled by
    ``NEUROSIM_DISABLE_FFI=1``). On other platforms the loops run regardless."""
    return rule._kernel_spec() is not None and w.dtype in FFI_DTYPES and ffi_available()


@jax.custom_jvp
def weight_update_event(rule, w, conn: CSR, cols: dict, pre_tr, post_tr, s_pre, s_post):
    """Same result as :func:`weight_update_dense`, touching only the synapses of neurons that
    spiked: on CPU the compiled kernel (``csrc/plasticity_kernels.cc``, same arithmetic in
    the same order) when :func:`use_kernel`, else pure-JAX loops over the spiking neurons.
    Its derivative is the dense update's (a custom JVP: neither the kernel nor the loops
    can be reverse-differentiated), so it works under ``grad``."""
    args = (rule, w, conn, cols, pre_tr, post_tr, s_pre, s_post)
    if use_kernel(rule, w):
        return lax.platform_dependent(*args, cpu=_kernel_update, default=_weight_update_loops)
    return _weight_update_loops(*args)


@weight_update_event.defjvp
def _weight_update_event_jvp(primals, tangents):
    out = weight_update_event(*primals)

    def dense(rule, w, conn, cols, pre_tr, post_tr, s_pre, s_post):
        return weight_update_dense(rule, w, conn, pre_tr, post_tr, s_pre, s_post)

    _, tan = jax.jvp(dense, primals, tangents)
    return out, tan


def _deliver_kernel(rule, w, conn, cols, pre_tr, post_tr, s_pre, s_post):
    name, params = rule._kernel_spec()
    return stdp_update_ffi(
        name, params, w, conn, cols, pre_tr, post_tr, s_pre, s_post, deliver=True
    )


def _deliver_loops(rule, w, conn, cols, pre_tr, post_tr, s_pre, s_post):
    out = event_matvec(conn.with_weights(w), s_pre)
    return out, _weight_update_loops(rule, w, conn, cols, pre_tr, post_tr, s_pre, s_post)


@jax.custom_jvp
def deliver_and_update(rule, w, conn: CSR, cols: dict, pre_tr, post_tr, s_pre, s_post):
    """``(s_pre @ W, updated w)``: delivery through the weights before the update (weight
    units) and :func:`weight_update_event`, in one compiled pass on CPU (each weight read
    once, updated in place; callers check :func:`use_kernel`), else ``event_matvec`` and
    the loops. The derivative is that of the reference product and the dense update."""
    args = (rule, w, conn, cols, pre_tr, post_tr, s_pre, s_post)
    return lax.platform_dependent(*args, cpu=_deliver_kernel, default=_deliver_loops)


@deliver_and_update.defjvp
def _deliver_and_update_jvp(primals, tangents):
    out = deliver_and_update(*primals)

    def reference(rule, w, conn, cols, pre_tr, post_tr, s_pre, s_post):
        delivered = conn.with_weights(w).reference_matvec(s_pre)
        return delivered, weight_update_dense(rule, w, conn, pre_tr, post_tr, s_pre, s_post)

    _, tan = jax.jvp(reference, primals, tangents)
    return out, tan
