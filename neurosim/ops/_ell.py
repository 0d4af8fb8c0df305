"""Padded fixed-width ("ELLPACK") connectivity: a ``(n_pre, k)`` table of targets per row.

The natural format of fixed fan-out connectivity (every presynaptic neuron has ``k``
targets): no row pointers, every row read is one contiguous, aligned ``k``-wide block, which
suits vector units and GPUs. Rows with fewer than ``k`` targets are padded with the target
index ``n_post`` (dropped on delivery) and weight 0, so any connectivity can be stored this
way (at the cost of the padding when row lengths vary).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._base import AbstractConnectivity
from ._ffi import ell_event_ffi

__all__ = ["ELL"]


class ELL(AbstractConnectivity):
    """Presynaptic-row padded table: row ``i`` targets ``targets[i, :]`` (padding ``n_post``).

    Weights are homogeneous (a scalar) or one per table entry, shape ``(n_pre, k)`` (0 at
    padding entries). Build one with :meth:`from_arrays`, :meth:`from_csr`,
    :meth:`neurosim.ops.CSR.to_ell`, or a generator with ``format="ell"``
    (e.g. :class:`neurosim.connectivity.FixedOutDegree`).

    Example:
        >>> import jax.numpy as jnp, neurosim as ns
        >>> W = ns.ops.ELL.from_arrays([[1, 2], [0, 3]], 0.5, n_post=3)  # 3 = padding
        >>> ns.ops.event_matvec(W, jnp.array([1.0, 1.0])).tolist()
        [0.5, 0.5, 0.5]
    """

    targets: jax.Array  # int32 (n_pre, k); entries == n_post are padding
    weights: jax.Array  # float () homogeneous, or (n_pre, k)
    n_pre: int = eqx.field(static=True)
    n_post: int = eqx.field(static=True)
    nnz_: int = eqx.field(static=True)

    @classmethod
    def from_arrays(cls, targets, weights, n_post: int) -> ELL:
        """Build from a ``(n_pre, k)`` target table (``n_post`` marks padding) and weights.

        Args:
            targets: integer table, entries in ``[0, n_post]``; ``n_post`` = no synapse.
            weights: a scalar, or ``(n_pre, k)`` per entry (padding entries are zeroed).
            n_post: number of postsynaptic neurons.
        """
        t = np.asarray(targets)
        n_post = int(n_post)
        if t.ndim != 2 or t.shape[0] < 1:
            raise ValueError(f"targets must have shape (n_pre >= 1, k), got {t.shape}")
        if t.size and (t.min() < 0 or t.max() > n_post):
            raise ValueError(
                f"targets must lie in [0, n_post={n_post}] (n_post = padding), "
                f"got [{t.min()}, {t.max()}]"
            )
        if n_post >= 2**31 - 1:
            raise ValueError(f"n_post={n_post} does not fit int32 indices")
        t = t.astype(np.int32)
        valid = t < n_post
        w = jnp.asarray(weights, dtype=jnp.result_type(float))
        if w.ndim == 2:
            if w.shape != t.shape:
                raise ValueError(f"weights must be a scalar or have shape {t.shape}, got {w.shape}")
            w = jnp.where(jnp.asarray(valid), w, 0)
        elif w.ndim != 0:
            raise ValueError(f"weights must be a scalar or 2-D {t.shape}, got shape {w.shape}")
        return cls(
            targets=jnp.asarray(t),
            weights=w,
            n_pre=t.shape[0],
            n_post=n_post,
            nnz_=int(valid.sum()),
        )

    @classmethod
    def from_csr(cls, csr) -> ELL:
        """The same matrix as ``csr`` (a :class:`neurosim.ops.CSR`), rows padded to the longest."""
        indptr = np.asarray(csr.indptr, np.int64)
        counts = np.diff(indptr)
        k = int(counts.max()) if counts.size else 0
        nnz = csr.nnz
        rows = np.repeat(np.arange(csr.n_pre), counts)
        cols = np.arange(nnz) - np.repeat(indptr[:-1], counts)
        table = np.full((csr.n_pre, k), csr.n_post, np.int32)
        table[rows, cols] = np.asarray(csr.indices[:nnz])
        if csr.homogeneous:
            w = csr.weights
        else:
            w = jnp.zeros((csr.n_pre, k), csr.weights.dtype)
            w = w.at[rows, cols].set(csr.weights[:nnz])
        return cls.from_arrays(table, w, csr.n_post)

    @property
    def nnz(self) -> int:
        return self.nnz_

    @property
    def k(self) -> int:
        """Width of the table (the longest row)."""
        return self.targets.shape[1]

    @property
    def homogeneous(self) -> bool:
        return self.weights.ndim == 0

    def with_weights(self, weights) -> ELL:
        return eqx.tree_at(lambda c: c.weights, self, jnp.asarray(weights))

    def table_values(self, values, fill=0.0) -> jax.Array:
        """Per-synapse ``values`` ``(nnz,)`` (row-major order of the table's valid entries,
        i.e. CSR order for a table from :meth:`from_csr`) laid out as a ``(n_pre, k)`` table
        (``fill`` at padding entries); a ``(n_pre, k)`` array is returned as is.

        Used for per-synapse data aligned with the table, e.g. per-synapse delays (ms).
        """
        v = jnp.asarray(values)
        if v.shape == self.targets.shape:
            return v
        if v.shape != (self.nnz,):
            raise ValueError(
                f"per-synapse values of an ELL table must have shape ({self.nnz},) (valid "
                f"entries in row-major order) or {self.targets.shape}, got {v.shape}"
            )
        valid = np.asarray(self.targets) < self.n_post
        table = jnp.full(self.targets.shape, fill, v.dtype)
        return table.at[np.nonzero(valid)].set(v)

    def _entry_weights(self):
        return jnp.broadcast_to(self.weights, self.targets.shape)

    # -- reference and dense ------------------------------------------------------------
    def reference_matvec(self, x):
        x = jnp.asarray(x)
        vals = x[:, None] * self._entry_weights()
        out = jnp.zeros((self.n_post,), vals.dtype)
        return out.at[self.targets.reshape(-1)].add(vals.reshape(-1), mode="drop")

    def transpose_matvec(self, y):
        y = jnp.asarray(y)
        y_pad = jnp.concatenate([y, jnp.zeros((1,), y.dtype)])  # padding reads 0
        return jnp.sum(y_pad[self.targets] * self._entry_weights(), axis=1)

    def todense(self):
        rows = jnp.broadcast_to(jnp.arange(self.n_pre)[:, None], self.targets.shape)
        dense = jnp.zeros((self.n_pre, self.n_post), self.weights.dtype)
        return dense.at[rows, self.targets].add(self._entry_weights(), mode="drop")

    # -- event-driven fast paths ----------------------------------------------------------
    def row_window(self, pre):
        w = self.weights if self.homogeneous else self.weights[pre]
        return self.targets[pre], w

    def event_ffi(self, spikes, base=None, scale=None):
        """Compiled CPU kernel (``csrc/event_kernels.cc``); ``base * scale`` is added."""
        return ell_event_ffi(
            spikes,
            self.targets,
            self.weights,
            self.n_post,
            self.out_dtype(spikes),
            base=base,
            scale=scale,
        )
