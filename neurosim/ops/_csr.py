"""Compressed sparse row (CSR) connectivity, rows = presynaptic neurons."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._base import AbstractConnectivity
from ._ffi import csr_event_ffi

__all__ = ["CSR"]


class CSR(AbstractConnectivity):
    """Presynaptic-row CSR matrix with homogeneous (scalar) or per-synapse weights.

    Row ``i`` holds the targets ``indices[indptr[i]:indptr[i+1]]`` of presynaptic neuron ``i``.
    The index and weight arrays carry ``max_row`` padding entries at the end (target
    ``n_post``, weight 0), so any row can be read as a fixed-size window.

    Use :meth:`from_arrays` (or a generator in :mod:`neurosim.connectivity`) to build one;
    :meth:`to_ell` gives the same matrix as a padded table. Spikes are delivered with
    :func:`neurosim.ops.event_matvec` through any backend (compiled kernel, loop, compact,
    reference, dense).

    Example:
        >>> import jax.numpy as jnp, neurosim as ns
        >>> W = ns.ops.CSR.from_arrays([0, 2, 3], [0, 2, 1], 0.5, n_post=3)
        >>> ns.ops.event_matvec(W, jnp.array([1.0, 2.0])).tolist()
        [0.5, 1.0, 0.5]
    """

    indptr: jax.Array  # int32 (n_pre + 1,)
    indices: jax.Array  # int32 (nnz + max_row,)
    weights: jax.Array  # float () homogeneous, or (nnz + max_row,)
    n_pre: int = eqx.field(static=True)
    n_post: int = eqx.field(static=True)
    max_row: int = eqx.field(static=True)
    nnz_: int = eqx.field(static=True)

    @classmethod
    def from_arrays(cls, indptr, indices, weights, n_post: int) -> CSR:
        """Build from unpadded numpy/JAX arrays (``weights`` scalar or one per synapse)."""
        indptr = np.asarray(indptr, dtype=np.int64)
        indices = np.asarray(indices)
        n_pre = len(indptr) - 1
        nnz = int(indptr[-1])
        if n_pre < 1:
            raise ValueError(f"indptr must have at least 2 entries, got {len(indptr)}")
        if indices.shape != (nnz,):
            raise ValueError(
                f"indices must have shape ({nnz},) = (indptr[-1],), got {indices.shape}"
            )
        if np.any(np.diff(indptr) < 0):
            raise ValueError("indptr must be non-decreasing")
        if nnz and (indices.min() < 0 or indices.max() >= n_post):
            raise ValueError(
                f"indices must lie in [0, n_post={n_post}), got [{indices.min()}, {indices.max()}]"
            )
        if nnz >= 2**31:
            raise ValueError(f"more than 2**31 synapses ({nnz}) in one CSR; split the projection")
        max_row = int(np.diff(indptr).max()) if nnz else 0
        pad = max(max_row, 1)
        idx = np.concatenate([indices.astype(np.int32), np.full(pad, n_post, np.int32)])
        w = jnp.asarray(weights, dtype=jnp.result_type(float))
        if w.ndim == 1:
            if w.shape[0] != nnz:
                raise ValueError(f"weights must be a scalar or have shape ({nnz},), got {w.shape}")
            # padded on the host: a device concatenate compiles once per new length, i.e. once
            # per projection when a network has many (the microcircuit: 64)
            w_host = np.asarray(w)
            w = jnp.asarray(np.concatenate([w_host, np.zeros(pad, w_host.dtype)]))
        elif w.ndim != 0:
            raise ValueError(f"weights must be a scalar or 1-D, got shape {w.shape}")
        return cls(
            indptr=jnp.asarray(indptr, dtype=jnp.int32),
            indices=jnp.asarray(idx),
            weights=w,
            n_pre=n_pre,
            n_post=int(n_post),
            max_row=pad,
            nnz_=nnz,
        )

    @property
    def nnz(self) -> int:
        return self.nnz_

    @property
    def homogeneous(self) -> bool:
        return self.weights.ndim == 0

    def with_weights(self, weights) -> CSR:
        w = jnp.asarray(weights)
        if w.ndim == 1 and w.shape[0] == self.nnz:
            w = jnp.concatenate([w, jnp.zeros(self.indices.shape[0] - self.nnz, w.dtype)])
        return eqx.tree_at(lambda c: c.weights, self, w)

    def synapse_weights(self) -> jax.Array:
        """Weight of every (unpadded) synapse, shape ``(nnz,)``."""
        if self.homogeneous:
            return jnp.broadcast_to(self.weights, (self.nnz,))
        return self.weights[: self.nnz]

    def row_ids(self) -> jax.Array:
        """Presynaptic index of every (unpadded) synapse, shape ``(nnz,)``."""
        counts = jnp.diff(self.indptr)
        return jnp.repeat(
            jnp.arange(self.n_pre, dtype=jnp.int32), counts, total_repeat_length=self.nnz
        )

    # -- reference and dense ------------------------------------------------------------
    def reference_matvec(self, x):
        x = jnp.asarray(x)
        vals = x[self.row_ids()] * self.synapse_weights()
        out = jnp.zeros((self.n_post,), vals.dtype)
        return out.at[self.indices[: self.nnz]].add(vals, mode="drop")

    def transpose_matvec(self, y):
        vals = jnp.asarray(y)[self.indices[: self.nnz]] * self.synapse_weights()
        return jax.ops.segment_sum(vals, self.row_ids(), num_segments=self.n_pre)

    def todense(self):
        dense = jnp.zeros((self.n_pre, self.n_post), self.weights.dtype)
        return dense.at[self.row_ids(), self.indices[: self.nnz]].add(self.synapse_weights())

    # -- event-driven fast paths -----------------------------------------------------------
    def row_window(self, pre):
        """Targets and weights of row(s) ``pre`` as fixed ``max_row`` windows (pad -> n_post)."""
        pre = jnp.asarray(pre)
        start = self.indptr[pre]
        length = self.indptr[pre + 1] - start
        lane = jnp.arange(self.max_row, dtype=jnp.int32)
        pos = start[..., None] + lane
        idx = jnp.where(lane < length[..., None], self.indices[pos], self.n_post)
        w = self.weights if self.homogeneous else self.weights[pos]
        return idx, w

    def event_ffi(self, spikes, base=None, scale=None):
        """Compiled CPU kernel (``csrc/event_kernels.cc``); ``base * scale`` is added."""
        return csr_event_ffi(
            spikes,
            self.indptr,
            self.indices,
            self.weights,
            self.n_post,
            self.out_dtype(spikes),
            base=base,
            scale=scale,
        )

    def to_ell(self):
        """The same matrix as a padded fixed-width table (:class:`neurosim.ops.ELL`)."""
        from ._ell import ELL

        return ELL.from_csr(self)
