"""The ``pallas`` backend: event delivery as one Pallas (Triton) kernel on NVIDIA/AMD GPUs.

Design (one launch per delivery):

1. Outside the kernel, the indices of the spiking presynaptic neurons are compacted
   (``jnp.nonzero``, parallel on a GPU) and counted.
2. The kernel runs a 1-D grid of ``ceil(n_pre / BLOCK_ROWS)`` programs; program ``b`` takes
   the spiking rows of ranks ``b * BLOCK_ROWS ...`` (programs past the spike count return at
   once), reads their rows ``LANES`` targets at a time (a contiguous window of a CSR row or
   ELL table row, or a procedural row regenerated from its counter-based stream, see
   :mod:`neurosim.ops._pallas_procedural`), scales the weights by the spike values and
   adds them into the output with atomic adds.

Every tensor inside the kernel has a power-of-two shape (a Triton requirement); rows of any
length are walked in chunks, so nothing is truncated. Masked lanes add nothing.

On CPU the same kernels run in Pallas *interpret* mode (tests only: slow). There, the atomic
add is emulated by a scatter-add with the same semantics, because JAX's interpreter of
Triton's ``atomic_rmw`` supports neither masks nor repeated indices; everything else
(compaction, row windows, chunk loops, stream regeneration) is the code the GPU runs.
Gradients never go through the kernel: :func:`neurosim.ops.event_matvec`'s custom JVP sends
tangents through the pure-JAX reference product.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax import lax
from jax.experimental import pallas as pl

__all__ = ["BLOCK_ROWS", "pallas_event", "pallas_auto", "compiled"]

BLOCK_ROWS = 16  # spiking rows per program (power of two)
MAX_LANES = 128  # targets per row read at once (power of two)


def pow2_at_least(x: int) -> int:
    """Smallest power of two ``>= max(x, 1)``."""
    return 1 << max(0, math.ceil(math.log2(max(int(x), 1))))


def lanes_for(width: int) -> int:
    """Chunk width (power of two, at most :data:`MAX_LANES`) for rows of ``width`` entries."""
    return min(MAX_LANES, pow2_at_least(width))


def scatter_add(o_ref, idx, vals, ok, n_post: int, interpret: bool):
    """``o_ref[idx[ok]] += vals[ok]`` from every program at once (atomic on a GPU)."""
    vals = jnp.where(ok, vals, jnp.zeros((), vals.dtype))
    if interpret:  # see the module docstring: emulated, same result
        idx = jnp.where(ok, idx, n_post)
        add = (
            jnp.zeros((n_post,), vals.dtype).at[idx.reshape(-1)].add(vals.reshape(-1), mode="drop")
        )
        o_ref[...] = o_ref[...] + add
    else:
        from jax.experimental.pallas import triton as plgpu

        plgpu.atomic_add(o_ref, (jnp.where(ok, idx, 0),), vals, mask=ok)


def launch(kernel, spikes, operands, n_post: int, dtype, interpret: bool):
    """Compact the spiking rows and run ``kernel(count, rows, spikes, *operands, out)``.

    ``kernel`` takes the refs ``(count (1,), rows (n_blocks * BLOCK_ROWS,), spikes (n_pre,),
    *operands, zeros (n_post,), out (n_post,))``; ``out`` aliases ``zeros`` (the kernel only
    adds into it).
    """
    spikes = jnp.asarray(spikes).astype(dtype)
    n_pre = spikes.shape[0]
    n_blocks = -(-n_pre // BLOCK_ROWS)
    active = spikes != 0
    count = jnp.sum(active, dtype=jnp.int32).reshape(1)
    (rows,) = jnp.nonzero(active, size=n_blocks * BLOCK_ROWS, fill_value=0)
    operands = (count, rows.astype(jnp.int32), spikes, *operands, jnp.zeros((n_post,), dtype))
    kw = {}
    if not interpret:
        from jax.experimental.pallas import triton as plgpu

        kw["compiler_params"] = plgpu.CompilerParams(num_warps=4)
    return pl.pallas_call(
        kernel,
        out_shape=jax.ShapeDtypeStruct((n_post,), dtype),
        grid=(n_blocks,),
        input_output_aliases={len(operands) - 1: 0},
        interpret=interpret,
        name="event_delivery_pallas",
        **kw,
    )(*operands)


def block_rows(count_ref, rows_ref, spk_ref):
    """This program's rows (0 where past the count), their liveness and spike values."""
    b = pl.program_id(0)
    rank = b * BLOCK_ROWS + jnp.arange(BLOCK_ROWS, dtype=jnp.int32)
    live = rank < count_ref[0]
    rows = jnp.where(live, rows_ref[pl.ds(b * BLOCK_ROWS, BLOCK_ROWS)], 0)
    vals = jnp.where(live, spk_ref[rows], jnp.zeros((), spk_ref.dtype))
    return b, live, rows, vals


def _ell_kernel(k, n_post, homogeneous, interpret):
    lanes = lanes_for(k)
    n_chunks = -(-k // lanes)

    def kernel(count_ref, rows_ref, spk_ref, tgt_ref, w_ref, _zeros, o_ref):
        b, live, rows, vals = block_rows(count_ref, rows_ref, spk_ref)

        @pl.when(b * BLOCK_ROWS < count_ref[0])
        def _():
            def chunk(c, carry):
                cols = c * lanes + jnp.arange(lanes, dtype=jnp.int32)
                flat = rows[:, None] * k + jnp.minimum(cols, k - 1)[None, :]
                tgt = tgt_ref[flat]
                ok = live[:, None] & (cols < k)[None, :] & (tgt < n_post)
                w = w_ref[0] if homogeneous else w_ref[flat]
                scatter_add(o_ref, tgt, w * vals[:, None], ok, n_post, interpret)
                return carry

            lax.fori_loop(0, n_chunks, chunk, 0)

    return kernel


def _csr_kernel(max_row, n_post, homogeneous, interpret):
    lanes = lanes_for(max_row)

    def kernel(count_ref, rows_ref, spk_ref, indptr_ref, idx_ref, w_ref, _zeros, o_ref):
        b, live, rows, vals = block_rows(count_ref, rows_ref, spk_ref)

        @pl.when(b * BLOCK_ROWS < count_ref[0])
        def _():
            start = indptr_ref[rows]
            length = jnp.where(live, indptr_ref[rows + 1] - start, 0)
            n_chunks = (jnp.max(length) + lanes - 1) // lanes

            def chunk(c, carry):
                lane = c * lanes + jnp.arange(lanes, dtype=jnp.int32)
                # Windows stay inside the arrays: they carry max_row padding entries.
                pos = start[:, None] + jnp.minimum(lane, max_row - 1)[None, :]
                tgt = idx_ref[pos]
                ok = (lane[None, :] < length[:, None]) & (tgt < n_post)
                w = w_ref[0] if homogeneous else w_ref[pos]
                scatter_add(o_ref, tgt, w * vals[:, None], ok, n_post, interpret)
                return carry

            lax.fori_loop(0, n_chunks, chunk, 0)

    return kernel


def pallas_event(conn, spikes, *, interpret: bool) -> jax.Array:
    """``spikes @ W`` for ``conn`` (:class:`~neurosim.ops.CSR`, :class:`~neurosim.ops.ELL`,
    :class:`~neurosim.ops.ProceduralBernoulli`) with the Pallas kernel.

    Args:
        conn: the connectivity operator.
        spikes: ``(n_pre,)`` spike values (graded values scale the row).
        interpret: run in Pallas interpret mode (any platform; tests) instead of compiling
            the Triton kernel (GPU only).

    Example:
        >>> import jax.numpy as jnp, neurosim as ns
        >>> from neurosim.ops._pallas import pallas_event
        >>> W = ns.ops.ELL.from_arrays([[1, 2], [0, 3]], 0.5, n_post=3)
        >>> pallas_event(W, jnp.array([1.0, 1.0]), interpret=True).tolist()
        [0.5, 0.5, 0.5]
    """
    from ._csr import CSR
    from ._ell import ELL
    from ._procedural import ProceduralBernoulli

    if isinstance(conn, ProceduralBernoulli):
        from ._pallas_procedural import procedural_event

        return procedural_event(conn, spikes, interpret=interpret)
    if not isinstance(conn, CSR | ELL):
        raise TypeError(
            f"backend 'pallas' supports ns.ops.CSR, ns.ops.ELL and ns.ops.ProceduralBernoulli, "
            f"got {type(conn).__name__}; use backend='auto'"
        )
    dtype = conn.out_dtype(spikes)
    w = jnp.asarray(conn.weights).astype(dtype)
    hom = w.ndim == 0
    if isinstance(conn, ELL):
        if conn.k == 0 or conn.nnz == 0:
            return jnp.zeros((conn.n_post,), dtype)
        kernel = _ell_kernel(conn.k, conn.n_post, hom, interpret)
        ops = (conn.targets.reshape(-1), w.reshape(1) if hom else w.reshape(-1))
    else:
        if conn.nnz == 0:
            return jnp.zeros((conn.n_post,), dtype)
        kernel = _csr_kernel(conn.max_row, conn.n_post, hom, interpret)
        ops = (conn.indptr, conn.indices, w.reshape(1) if hom else w)
    return launch(kernel, spikes, ops, conn.n_post, dtype, interpret)


def compiled(conn, spikes):
    return pallas_event(conn, spikes, interpret=False)


def _interpreted(conn, spikes):
    return pallas_event(conn, spikes, interpret=True)


def pallas_auto(conn, spikes) -> jax.Array:
    """Backend ``"pallas"``: the compiled Triton kernel when lowered for CUDA or ROCm, the
    same kernel in interpret mode elsewhere (CPU tests), decided per lowering platform."""
    return lax.platform_dependent(conn, spikes, cuda=compiled, rocm=compiled, default=_interpreted)
