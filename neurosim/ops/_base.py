"""Interface of sparse connectivity operators ("deliver these spikes through this matrix").

Backends (all compute ``spikes @ W``; the pure-JAX ``reference`` is the oracle the others
are tested against):

* ``"ffi"``: compiled C++ kernel through the XLA FFI (CPU); falls back to ``"loop"`` with a
  one-time warning when it cannot be built (no compiler) or for dtypes other than
  float32/float64. Procedural connectivity has its own kernel, which regenerates the spiking
  rows in C++ (:mod:`neurosim.ops._procedural_ffi`; the XLA path where it does not apply).
* ``"loop"``: ``while_loop`` over the neurons that spiked, scattering each one's row.
* ``"compact"``: the accelerator design: compact the indices of spiking rows and scatter
  ``capacity`` padded rows at once, in as many blocks as needed (no per-spike loop; the
  capacity only affects speed, never drops spikes).
* ``"reference"``: all synapses, masked by the spike values (transposable, defines gradients).
* ``"pallas"``: one Pallas (Triton) kernel, atomic adds (:mod:`neurosim.ops._pallas`);
  compiled on CUDA/ROCm GPUs, the same kernel in Pallas interpret mode elsewhere (tests).
* ``"dense"``: dense matrix product (tests, tiny networks).
* ``"auto"``: ``"ffi"`` (or ``"loop"`` without a compiler) on CPU, ``"pallas"`` on CUDA GPUs,
  ``"compact"`` elsewhere, decided per lowering platform (``jax.lax.platform_dependent``).
"""

from __future__ import annotations

import abc
import functools
import typing
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
from jax import lax

from .._validate import check_literal
from . import _build

__all__ = ["AbstractConnectivity", "Backend", "BACKENDS", "check_backend", "default_capacity"]

Backend = Literal["auto", "ffi", "loop", "compact", "pallas", "reference", "dense"]
"""The event-delivery backend names (see the module docstring)."""

BACKENDS: tuple[str, ...] = typing.get_args(Backend)


def check_backend(backend) -> Backend:
    """Validate an event-delivery backend name (:data:`Backend`) and return it.

    Raises ``TypeError`` for a non-string and ``ValueError`` (listing the names) for an
    unknown one, so a typo fails where the operator or projection is set up.

    Example:
        >>> import neurosim as ns
        >>> ns.ops.check_backend("loop")
        'loop'
    """
    return check_literal("backend", backend, Backend)


def default_capacity(n_pre: int) -> int:
    """Rows per block of the ``compact`` backend: ``max(64, n_pre // 128)``, at most ``n_pre``.

    At 20 Hz and dt = 0.1 ms about ``n_pre / 500`` neurons spike per step, so one block
    covers typical activity with ~4x headroom; bursts take more blocks, never lose spikes.
    """
    return max(1, min(int(n_pre), max(64, int(n_pre) // 128)))


def _cpu_branch(conn, spikes):
    return conn._cpu_fast(spikes)


def _compact_branch(conn, spikes, capacity):
    return conn.event_compact(spikes, capacity)


def _pallas_branch(conn, spikes):
    from ._pallas import pallas_event

    return pallas_event(conn, spikes, interpret=False)


class AbstractConnectivity(eqx.Module):
    """A weighted ``(n_pre, n_post)`` matrix ``W`` that presynaptic spikes are delivered through.

    Subclasses implement:

    * ``reference_matvec(x)``: ``x @ W`` over *all* synapses with plain JAX ops. It is linear
      in ``x`` and in the weights and JAX can transpose it, so it defines the gradient rules
      and is the reference that fast paths are tested against.
    * ``event_loop(spikes)``, ``event_compact(spikes, capacity)``, ``event_ffi(spikes)``:
      the fast paths for (mostly zero) spike vectors, touching only rows of spiking neurons.
    * ``transpose_matvec(y)``: ``W @ y`` (gather per row).
    * ``todense()``: the dense matrix (tests, tiny networks).
    * ``with_weights(w)`` / ``weight_tangent(tangent)``: swap / read the weight leaf.
    """

    n_pre: eqx.AbstractVar[int]
    n_post: eqx.AbstractVar[int]
    weights: eqx.AbstractVar[jax.Array]

    @abc.abstractmethod
    def reference_matvec(self, x) -> jax.Array:
        """``x @ W`` over all synapses with plain JAX ops (the reference and gradient rule)."""

    @abc.abstractmethod
    def transpose_matvec(self, y) -> jax.Array:
        """``W @ y`` (gather per row)."""

    @abc.abstractmethod
    def todense(self) -> jax.Array:
        """The dense ``(n_pre, n_post)`` matrix."""

    @abc.abstractmethod
    def with_weights(self, weights) -> AbstractConnectivity:
        """A copy with the weight leaf replaced by ``weights``."""

    def weight_tangent(self, tangent):
        return tangent.weights

    @property
    @abc.abstractmethod
    def nnz(self) -> int:
        """Number of stored (or expected) synapses."""

    def nbytes(self) -> int:
        """Bytes held by the operator's arrays."""
        return sum(x.nbytes for x in jax.tree.leaves(eqx.filter(self, eqx.is_array)))

    def out_dtype(self, spikes) -> jnp.dtype:
        """Floating dtype of ``spikes @ W``."""
        return jnp.result_type(self.weights.dtype, jnp.asarray(spikes).dtype, float)

    # -- backends -------------------------------------------------------------------------
    def row_window(self, pre):
        """``(targets, weights)`` of row(s) ``pre`` as fixed-width windows (padding: ``n_post``).

        ``weights`` is the scalar weight for homogeneous operators. Formats with stored rows
        implement this; the generic ``loop`` and ``compact`` backends are built on it.
        """
        raise TypeError(
            f"{type(self).__name__} stores no rows: the 'loop' and 'compact' backends need a "
            "stored format (ns.ops.CSR, ns.ops.ELL); use backend='auto' or 'reference'"
        )

    def event_loop(self, spikes) -> jax.Array:
        """Loop over the neurons that spiked; scatter each one's row (pure-JAX CPU path)."""
        spikes = jnp.asarray(spikes)
        dtype = self.out_dtype(spikes)
        active = spikes != 0
        count = jnp.sum(active, dtype=jnp.int32)
        (rows,) = jnp.nonzero(active, size=self.n_pre, fill_value=0)

        def body(k, out):
            pre = rows[k]
            idx, w = self.row_window(pre)
            return out.at[idx].add((w * spikes[pre]).astype(dtype), mode="drop")

        return lax.fori_loop(0, count, body, jnp.zeros((self.n_post,), dtype))

    def event_compact(self, spikes, capacity: int | None = None) -> jax.Array:
        """Compacted spiking rows, scattered ``capacity`` padded rows at a time (GPU path)."""
        from ._compact import compact_deliver

        cap = default_capacity(self.n_pre) if capacity is None else capacity
        return compact_deliver(spikes, self.n_post, self.out_dtype(spikes), cap, self.row_window)

    def event_ffi(self, spikes) -> jax.Array:
        """The compiled CPU kernel (stored formats only)."""
        raise TypeError(
            f"{type(self).__name__} has no compiled kernel: backend 'ffi' needs ns.ops.CSR or "
            "ns.ops.ELL; use backend='auto'"
        )

    def _cpu_fast(self, spikes):
        """The compiled kernel if it can run here, else the ``loop`` backend."""
        from ._ffi import FFI_DTYPES

        if self.out_dtype(spikes) in FFI_DTYPES and _build.load_kernels():
            return self.event_ffi(spikes)
        return self.event_loop(spikes)

    def event_matvec_impl(self, spikes, backend: Backend, capacity: int | None = None):
        """``spikes @ W`` with the named backend (see the module docstring)."""
        if backend == "reference":
            return self.reference_matvec(spikes).astype(self.out_dtype(spikes))
        if backend == "dense":
            dtype = self.out_dtype(spikes)
            return jnp.asarray(spikes, dtype) @ self.todense().astype(dtype)
        if backend == "loop":
            return self.event_loop(spikes)
        if backend == "compact":
            return self.event_compact(spikes, capacity)
        if backend == "ffi":
            return self._cpu_fast(spikes)
        if backend == "pallas":
            from ._pallas import pallas_auto

            return pallas_auto(self, spikes)
        if backend == "auto":
            # Plain functions of (conn, spikes): platform_dependent compares its branches.
            return lax.platform_dependent(
                self,
                spikes,
                cpu=_cpu_branch,
                cuda=_pallas_branch,
                default=functools.partial(_compact_branch, capacity=capacity),
            )
        check_backend(backend)
        raise AssertionError(f"backend {backend!r} is listed in Backend but not dispatched")
