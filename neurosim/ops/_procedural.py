"""Procedural ("just-in-time") Bernoulli connectivity: rows regenerated, never stored.

The matrix is *defined* by the per-row counter-based streams of
:mod:`neurosim._streams` (keyed by the stream words and the presynaptic index):
every product below regenerates the rows it needs, so memory is O(1) for the operator and
O(neurons) for the temporaries of a product, and the event product, the transpose, the
reference product, ``todense`` and a stored CSR built by ``FixedProbability`` with the same
key are all the same matrix.

Two ways of walking a row:

* *chunked* (event product, transpose): a row is generated ``lanes`` targets at a time until
  it ends, so no row is ever cut, whatever its length;
* *fixed width* (``reference_matvec``, ``todense``): ``capacity`` lanes per row in a
  ``lax.scan`` over row blocks, which JAX can transpose (reverse-mode gradients). A row longer
  than ``capacity`` (probability < 1e-30 with the default) raises an error at run time
  instead of being truncated.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jax import lax
from jax.custom_derivatives import SymbolicZero

from .._init import AbstractInit
from .._streams import (
    chunk_lanes,
    count_rows,
    gap_scale,
    row_capacity,
    row_chunk,
    targets,
    unit_uniform,
)
from . import _procedural_delays, _procedural_ffi
from ._base import AbstractConnectivity, Backend, _cpu_branch, check_backend
from ._compact import compact_ranks

__all__ = ["ProceduralBernoulli"]

_FIXED_BLOCK_LANES = 1 << 15  # lanes per scan step of the fixed-width paths


def _pow2_at_least(x: int) -> int:
    return 1 << max(0, math.ceil(math.log2(max(x, 1))))


def _xla_event(conn, spikes):
    return conn._event(spikes)


class ProceduralBernoulli(AbstractConnectivity):
    """Bernoulli(p) connectivity regenerated from counter-based streams on every use.

    Build one with ``ns.connectivity.FixedProbability(p, procedural=True).build(...)`` (which
    gives the same matrix as the stored ``FixedProbability(p).build(...)`` with the same key).
    Memory does not grow with the number of synapses; each delivered spike costs regenerating
    its row (O(row length)), on CPU in a compiled C++ kernel for scalar, ``Constant`` and
    ``Uniform`` weights (:mod:`neurosim.ops._procedural_ffi`), in XLA otherwise. Weights are
    a scalar (homogeneous) or an initializer with a ``quantile`` (``ns.init.Normal``,
    ``Uniform``, ``Constant``): synapse ``k`` of row ``i`` has weight ``init.quantile(u_ik)``,
    ``u_ik`` from the row's own stream, and gradients with respect to the initializer's
    parameters (e.g. ``loc``, ``std``) are exact.

    Attributes:
        key: uint32 ``(2,)`` stream key words (an array: a new seed does not recompile).
        weights: scalar weight or initializer.
        n_pre, n_post: shape of the matrix.
        p: connection probability.
        skip_self: no autapses (pre and post are the same population).
        lanes: chunk width of the chunked paths (static tuning, no effect on the matrix).
        capacity: lanes per row of the fixed-width paths.
        block_rows: spiking rows generated together by the event product.

    Example:
        >>> import jax, jax.numpy as jnp, neurosim as ns
        >>> gen = ns.connectivity.FixedProbability(0.1, procedural=True)
        >>> W = gen.build(jax.random.key(0), 50, 40, 0.5)
        >>> out = ns.ops.event_matvec(W, (jnp.arange(50) % 7 == 0).astype(float))
    """

    key: jax.Array
    weights: jax.Array | AbstractInit
    n_pre: int = eqx.field(static=True)
    n_post: int = eqx.field(static=True)
    p: float = eqx.field(static=True)
    skip_self: bool = eqx.field(static=True, default=False)
    lanes: int = eqx.field(static=True, default=0)
    capacity: int = eqx.field(static=True, default=0)
    block_rows: int = eqx.field(static=True, default=0)

    def __init__(
        self,
        key,
        weights,
        n_pre: int,
        n_post: int,
        p: float,
        skip_self: bool = False,
        *,
        lanes: int | None = None,
        capacity: int | None = None,
        block_rows: int | None = None,
    ):
        self.key = jnp.asarray(key, jnp.uint32)
        if self.key.shape != (2,):
            raise ValueError(f"key must be 2 uint32 stream words, got shape {self.key.shape}")
        self.weights = weights if isinstance(weights, AbstractInit) else jnp.asarray(weights)
        self.n_pre, self.n_post, self.p = int(n_pre), int(n_post), float(p)
        self.skip_self = bool(skip_self)
        n_cand = self.n_cand
        if n_cand >= 2**30:
            raise ValueError(f"n_post must be < 2**30 for one projection, got {n_post}")
        self.lanes = int(lanes) if lanes else chunk_lanes(max(n_cand, 1), self.p)
        self.capacity = int(capacity) if capacity else row_capacity(max(n_cand, 1), self.p)
        if block_rows is None:
            # ~ the spikes expected per step at 20 Hz, dt = 0.1 ms (a tuning knob only).
            block_rows = min(128, max(4, _pow2_at_least(self.n_pre // 500)))
        self.block_rows = int(block_rows)

    # -- structure ------------------------------------------------------------------------
    @property
    def n_cand(self) -> int:
        return self.n_post - 1 if self.skip_self else self.n_post

    @property
    def empty(self) -> bool:
        return self.p <= 0.0 or self.n_cand <= 0

    @property
    def nnz(self) -> int:
        """*Expected* number of synapses, ``round(n_pre * n_cand * p)`` (see :meth:`count`)."""
        return 0 if self.empty else int(round(self.n_pre * self.n_cand * self.p))

    def count(self) -> tuple[int, int]:
        """Exact ``(number of synapses, longest row)``, by generating every row once."""
        if self.empty:
            return 0, 0
        counts = count_rows(self.key, self.n_pre, self.n_cand, self.p, self.lanes)
        return int(counts.sum()), int(counts.max())

    def nbytes(self) -> int:
        return sum(x.nbytes for x in jax.tree.leaves(eqx.filter(self, eqx.is_array)))

    def with_weights(self, weights) -> ProceduralBernoulli:
        w = weights if isinstance(weights, AbstractInit) else jnp.asarray(weights)
        return eqx.tree_at(lambda c: c.weights, self, w)

    def weight_tangent(self, tangent):
        w = tangent.weights
        if not isinstance(w, AbstractInit):
            return w
        leaves = jax.tree.leaves(w, is_leaf=lambda x: isinstance(x, SymbolicZero))
        zeros = [x for x in leaves if isinstance(x, SymbolicZero)]
        if zeros and len(zeros) == len(leaves):
            return zeros[0]
        return jax.tree.map(
            lambda x: jnp.zeros(x.shape, x.aval.dtype) if isinstance(x, SymbolicZero) else x,
            w,
            is_leaf=lambda x: isinstance(x, SymbolicZero),
        )

    def _dtype(self, *others):
        w = self.weights
        wd = jnp.result_type(*jax.tree.leaves(w)) if isinstance(w, AbstractInit) else w.dtype
        return jnp.result_type(wd, *others, float)

    def _lane_weights(self, b1):
        if isinstance(self.weights, AbstractInit):
            return self.weights.quantile(unit_uniform(b1))
        return self.weights

    def _chunk(self, rows, lane0, prev, live):
        """One chunk of every row in ``rows``: targets (n_post where invalid), weights, prev."""
        pos, b1 = row_chunk(self.key, rows, lane0, prev, self.lanes, gap_scale(self.p), self.n_cand)
        valid = (pos < self.n_cand) & live[:, None]
        tgt = jnp.where(valid, targets(pos, rows, self.skip_self), self.n_post)
        # Rows that ended stay at n_cand (their running sums would keep growing).
        return tgt, valid, self._lane_weights(b1), jnp.where(live, pos[:, -1], self.n_cand)

    def _walk(self, rows, live, carry, visit, with_lane0: bool = False):
        """Chunked walk over whole rows: ``carry = visit(carry, tgt, valid, w)`` per chunk
        (``visit(carry, tgt, valid, w, lane0)`` with ``with_lane0``)."""
        prev0 = jnp.where(live, -1, self.n_cand).astype(jnp.int32)

        def cond(c):
            return jnp.any(c[1] < self.n_cand)

        def body(c):
            lane0, prev, acc = c
            tgt, valid, w, last = self._chunk(rows, lane0, prev, prev < self.n_cand)
            acc = visit(acc, tgt, valid, w, lane0) if with_lane0 else visit(acc, tgt, valid, w)
            return lane0 + self.lanes, last, acc

        return lax.while_loop(cond, body, (jnp.asarray(0, jnp.int32), prev0, carry))[2]

    # -- event product --------------------------------------------------------------------
    def event_matvec_impl(self, spikes, backend: Backend, capacity=None):
        if backend == "reference":
            return self.reference_matvec(spikes)
        if backend == "dense":
            return jnp.asarray(spikes, self._dtype()) @ self.todense()
        check_backend(backend)
        from . import _pallas  # the fused generate-and-deliver kernel (CUDA under "auto")

        if backend == "pallas":
            return _pallas.pallas_auto(self, spikes)
        if backend == "auto":  # compiled C++ kernel on CPU, fused Pallas kernel on CUDA
            return lax.platform_dependent(
                self, spikes, cpu=_cpu_branch, cuda=_pallas.compiled, default=_xla_event
            )
        if backend == "ffi":
            return self._cpu_fast(spikes)
        # One event path for every platform: rows are regenerated and scattered in blocks of
        # spiking rows (no per-spike loop), which is also the accelerator design.
        return self._event(spikes)

    def _cpu_fast(self, spikes):
        """The compiled kernel where it can run, else :meth:`_event` (XLA)."""
        return _procedural_ffi.cpu_fast(self, spikes)

    def event_ffi(self, spikes):
        """``spikes @ W`` with the compiled CPU kernel (:mod:`neurosim.ops._procedural_ffi`)."""
        return _procedural_ffi.event_ffi(self, spikes)

    def _event(self, spikes):
        """Regenerate and scatter the rows of the neurons that spiked, ``block_rows`` at a time."""
        spikes = jnp.asarray(spikes)
        dtype = self._dtype(spikes.dtype)
        out = jnp.zeros((self.n_post,), dtype)
        if self.empty:
            return out
        B = self.block_rows
        count, rows_of_rank = compact_ranks(spikes != 0)

        def block(b, acc):
            rank = b * B + jnp.arange(B, dtype=jnp.int32)
            live = rank < count
            r = jnp.where(live, rows_of_rank(rank), 0)
            vals = jnp.where(live, spikes[r], 0).astype(dtype)

            def visit(o, tgt, valid, w):
                contrib = jnp.where(valid, w * vals[:, None], 0).astype(dtype)
                return o.at[tgt.ravel()].add(contrib.ravel(), mode="drop")

            return self._walk(r, live, acc, visit)

        return lax.fori_loop(0, (count + B - 1) // B, block, out)

    # -- per-synapse delays (regenerated, see neurosim.ops._procedural_delays) -----------
    def synapse_delays(self, delays) -> jax.Array:
        """Delay (ms) of every synapse in CSR order, from the initializer ``delays``.

        The delays a stored copy of this matrix (``FixedProbability(p).build`` with the same
        key) needs to be the same projection; see :mod:`neurosim.ops._procedural_delays`.
        """
        return _procedural_delays.synapse_delays(self, delays)

    def scatter_delayed(self, spikes, flat, dest, delays, events: bool = True):
        """Add every synapse's ``w * spikes[pre]`` into ``flat`` at ``dest(tgt, valid, d_ms)``.

        ``events``: only the rows of neurons that spiked (chunked walk); otherwise all rows
        (fixed width, linear and transposable: the reference and gradient path).
        """
        if events:
            return _procedural_delays.scatter_event(self, spikes, flat, dest, delays, compact_ranks)
        return _procedural_delays.scatter_all(self, spikes, flat, dest, delays)

    # -- transpose (gather per row) -------------------------------------------------------
    def transpose_matvec(self, y):
        """``W @ y`` (shape ``(n_pre,)``): each row gathers ``y`` at its targets (chunked)."""
        y = jnp.asarray(y)
        dtype = self._dtype(y.dtype)
        if self.empty:
            return jnp.zeros((self.n_pre,), dtype)
        ypad = jnp.concatenate([y.astype(dtype), jnp.zeros((1,), dtype)])
        R = self._fixed_block()
        n_blocks = -(-self.n_pre // R)

        def block(b, acc):
            r = b * R + jnp.arange(R, dtype=jnp.int32)
            live = r < self.n_pre

            def visit(s, tgt, valid, w):
                return s + jnp.sum(jnp.where(valid, w * ypad[tgt], 0).astype(dtype), axis=1)

            sums = self._walk(r, live, jnp.zeros((R,), dtype), visit)
            return lax.dynamic_update_slice(acc, sums, (b * R,))

        out = lax.fori_loop(0, n_blocks, block, jnp.zeros((n_blocks * R,), dtype))
        return out[: self.n_pre]

    # -- fixed-width, transposable paths --------------------------------------------------
    def _fixed_block(self) -> int:
        return max(1, min(self.n_pre, _FIXED_BLOCK_LANES // self.capacity))

    def _fixed_rows(self, rows):
        """``capacity`` lanes of each row: targets (n_post where invalid) and weights."""
        live = rows < self.n_pre
        prev = jnp.full(rows.shape, -1, jnp.int32)
        pos, b1 = row_chunk(self.key, rows, 0, prev, self.capacity, gap_scale(self.p), self.n_cand)
        incomplete = jnp.any(live & (pos[:, -1] < self.n_cand))
        pos = eqx.error_if(
            pos,
            incomplete,
            f"procedural connectivity ({self.n_pre} x {self.n_post}, p={self.p}): a row is "
            f"longer than the {self.capacity} lanes of the fixed-width (reference/gradient) "
            "path; build the operator with a larger capacity= (the event path is unaffected)",
        )
        valid = (pos < self.n_cand) & live[:, None]
        tgt = jnp.where(valid, targets(pos, rows, self.skip_self), self.n_post)
        return tgt, valid, self._lane_weights(b1)

    def _scan_rows(self, init, step):
        R = self._fixed_block()
        n_blocks = -(-self.n_pre // R)

        def body(acc, b):
            rows = b * R + jnp.arange(R, dtype=jnp.int32)
            return step(acc, b * R, rows, *self._fixed_rows(rows)), None

        return lax.scan(jax.checkpoint(body), init, jnp.arange(n_blocks, dtype=jnp.int32))[0]

    def reference_matvec(self, x):
        """``x @ W`` over all rows with fixed-width windows (linear, JAX-transposable)."""
        x = jnp.asarray(x)
        dtype = self._dtype(x.dtype)
        out = jnp.zeros((self.n_post,), dtype)
        if self.empty:
            return out
        R = self._fixed_block()
        xpad = jnp.concatenate([x.astype(dtype), jnp.zeros((R,), dtype)])

        def step(o, start, rows, tgt, valid, w):
            v = lax.dynamic_slice(xpad, (start,), (R,))
            contrib = jnp.where(valid, w * v[:, None], 0).astype(dtype)
            return o.at[tgt.ravel()].add(contrib.ravel(), mode="drop")

        return self._scan_rows(out, step)

    def todense(self):
        dtype = self._dtype()
        dense = jnp.zeros((self.n_pre, self.n_post), dtype)
        if self.empty:
            return dense

        def step(d, start, rows, tgt, valid, w):
            w = jnp.broadcast_to(jnp.where(valid, w, 0).astype(dtype), tgt.shape)
            r = jnp.broadcast_to(rows[:, None], tgt.shape)
            return d.at[r.ravel(), tgt.ravel()].add(w.ravel(), mode="drop")

        return self._scan_rows(dense, step)
