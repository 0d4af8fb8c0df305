"""Counter-based random row streams that *define* Bernoulli(p) connectivity.

Row ``pre`` of a Bernoulli(p) matrix over ``n`` candidate targets is a sequence of geometric
gaps drawn from its own counter-based stream, so a row costs O(its synapses), any row can be
regenerated on its own (procedural connectivity), and a stored CSR built from the same stream
is the same matrix, whatever order or grouping the rows are generated in.

Definition (stream version 2). Given two 32-bit key words ``(k0, k1)`` (from the projection's
JAX key, :func:`stream_key`):

1. Lane ``k = 0, 1, 2, ...`` of row ``pre`` draws ``(b0, b1) = threefry2x32((k0, k1), (pre, k))``
   (Threefry-2x32 with 20 rounds, Salmon et al. 2011, "Parallel random numbers: as easy as
   1, 2, 3", SC'11; the generator behind ``jax.random``).
2. ``b0`` gives the gap by inversion of the geometric law with *integer-only* arithmetic plus
   one IEEE-754 float32 multiplication, so every backend (XLA on CPU/GPU, NumPy, C++, CUDA)
   gets the same bits: ``r = b0 | 1`` (``v = r / 2^32`` is uniform on (0, 1));
   ``L = round(2^26 * -log2(v))`` in fixed point from ``clz(r)`` and a 4097-entry table of
   ``round(2^26 log2(1 + j/4096))`` with linear interpolation on the next 16 bits (absolute
   error < 2e-8, far below the 2^-26 resolution that matters here);
   ``gap = 1 + floor(float32(L) * s)`` with ``s = float32(1 / (2^26 * -log2(1 - p)))``,
   computed once on the host with :mod:`decimal` (machine independent); the gap is clamped to
   ``n + 1``. ``P(gap > k) = (1 - p)^k`` up to the 2^-31 granularity of ``v``: gaps longer than
   ``~22 / p`` (probability ``e^-22``) are cut at that length.
3. Targets are the running sums ``pos_k = gap_0 + ... + gap_k - 1`` below ``n``; with
   ``skip_self`` (no autapses) the candidates exclude ``pre`` (``pos >= pre`` shifts by one).
4. ``b1`` is the lane's private uniform ``u = (b1 >> 8 + 1/2) / 2^24`` for a random weight
   (``init.quantile(u)``), so the structure does not depend on the weights.

Structure (targets, row lengths) is therefore bit-exact across implementations; per-synapse
weights are exact for constant and uniform initializers up to the rounding of their own
formula, and within a few ulps across backends for transcendental ones (normal quantile).
"""

from __future__ import annotations

import decimal
import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

__all__ = [
    "STREAM_VERSION",
    "stream_key",
    "threefry2x32",
    "gap_scale",
    "geometric_gaps",
    "unit_uniform",
    "row_chunk",
    "chunk_lanes",
    "row_capacity",
    "bernoulli_row_capacity",
    "bernoulli_row",
    "bernoulli_rows",
    "block_rows",
    "count_rows",
]

STREAM_VERSION = 2
_FRAC = 26  # fixed-point fraction bits of L = -log2(v)
_TBITS = 12  # table index bits
_IBITS = 16  # interpolation bits


def _log2_table() -> np.ndarray:
    x = 2.0**_FRAC * np.log2(1.0 + np.arange(2**_TBITS + 1) / 2**_TBITS)
    frac = x - np.floor(x)
    # Every entry is >= 1e-5 away from a rounding tie, and float64 log2 is accurate to ~1e-8
    # here, so the rounded table is the same on every machine.
    assert np.all(np.abs(frac - 0.5) > 1e-7)
    return np.round(x).astype(np.uint32)


LOG2_TABLE = _log2_table()
_ROT = ((13, 15, 26, 6), (17, 29, 16, 24))


def stream_key(key) -> jax.Array:
    """The two uint32 stream key words of a JAX key (any PRNG implementation)."""
    return jax.random.bits(jax.random.fold_in(key, 0x5EED), (2,), jnp.uint32)


def threefry2x32(k0, k1, x0, x1):
    """Threefry-2x32-20 (Random123) of counters ``(x0, x1)`` under key ``(k0, k1)``; uint32."""
    u = jnp.uint32
    k0, k1, x0, x1 = (jnp.asarray(a, u) for a in (k0, k1, x0, x1))
    ks = (k0, k1, k0 ^ k1 ^ u(0x1BD11BDA))
    x0, x1 = x0 + k0, x1 + k1
    for i in range(5):
        for r in _ROT[i % 2]:
            x0 = x0 + x1
            x1 = (x1 << u(r)) | (x1 >> u(32 - r))
            x1 = x1 ^ x0
        x0 = x0 + ks[(i + 1) % 3]
        x1 = x1 + ks[(i + 2) % 3] + u(i + 1)
    return x0, x1


def gap_scale(p: float) -> np.float32:
    """``float32(1 / (2^26 * -log2(1 - p)))``, computed exactly (decimal) on the host."""
    p = float(p)
    if not 0.0 < p <= 1.0:
        raise ValueError(f"p must lie in (0, 1] for a geometric gap, got {p}")
    if p == 1.0:
        return np.float32(0.0)
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        one, dp = decimal.Decimal(1), decimal.Decimal(p)
        if p < 1e-12:  # 1 - p rounds to 1 at 50 digits: -ln(1 - p) = p + p^2/2 + O(p^3)
            c = (dp + dp * dp / 2) / decimal.Decimal(2).ln()
        else:
            c = -(one - dp).ln() / decimal.Decimal(2).ln()
        scale = float(one / (decimal.Decimal(2**_FRAC) * c))
        # a tiny p gives gaps beyond any row (clamped by the caller): keep the scale finite
        return np.float32(min(scale, float(np.finfo(np.float32).max)))


def geometric_gaps(b0, scale, max_gap: int):
    """Geometric gaps (>= 1, clamped to ``max_gap``) from uint32 words ``b0``; int32."""
    table = jnp.asarray(LOG2_TABLE)
    u = jnp.uint32
    r = jnp.asarray(b0, u) | u(1)
    z = lax.clz(r)  # r = 2^(31 - z) * (1 + f)
    f = (r << z) << u(1)  # mantissa fraction in 32-bit fixed point
    i = f >> u(32 - _TBITS)
    t = (f >> u(32 - _TBITS - _IBITS)) & u((1 << _IBITS) - 1)
    lo = table[i]
    lg = lo + (((table[i + 1] - lo) * t) >> u(_IBITS))  # 2^26 log2(1 + f)
    fixed = ((z + u(1)) << u(_FRAC)) - lg  # 2^26 * (32 - log2 r) = 2^26 * -log2(v)
    g = jnp.floor(fixed.astype(jnp.float32) * jnp.float32(scale))
    g = jnp.minimum(g, jnp.float32(max_gap - 1))
    return g.astype(jnp.int32) + 1


def unit_uniform(b1) -> jax.Array:
    """A float32 uniform on (0, 1) from uint32 words (top 24 bits, centred; exact)."""
    top = (jnp.asarray(b1, jnp.uint32) >> jnp.uint32(8)).astype(jnp.float32)
    return (top + jnp.float32(0.5)) * jnp.float32(2.0**-24)


def _saturating_cumsum(g, limit: int):
    def add(a, b):
        return jnp.minimum(a + b, limit)

    return lax.associative_scan(add, g, axis=1)


def row_chunk(key2, rows, lane0, prev, lanes: int, scale, n_cand: int):
    """Lanes ``lane0 .. lane0 + lanes - 1`` of each row in ``rows``.

    Args:
        key2: uint32 ``(2,)`` stream key words.
        rows: int32 ``(R,)`` row (presynaptic) indices.
        lane0: int32 scalar, index of the first lane.
        prev: int32 ``(R,)`` position reached before ``lane0`` (``-1`` at the row start).
        lanes: static chunk width.
        scale: :func:`gap_scale` of ``p``.
        n_cand: static number of candidate targets.

    Returns:
        ``(pos, b1)``: int32 ``(R, lanes)`` candidate positions (``>= n_cand``: past the row's
        end) and the uint32 weight words of the lanes.
    """
    x0 = jnp.broadcast_to(rows.astype(jnp.uint32)[:, None], (rows.shape[0], lanes))
    x1 = jnp.asarray(lane0).astype(jnp.uint32) + jnp.arange(lanes, dtype=jnp.uint32)
    b0, b1 = threefry2x32(key2[0], key2[1], x0, x1[None, :])
    g = geometric_gaps(b0, scale, n_cand + 1)
    if (lanes + 1) * (n_cand + 1) < 2**31 - 1:
        pos = prev[:, None] + jnp.cumsum(g, axis=1)
    else:  # the running sum could overflow int32; saturate once past the row's end
        g = g.at[:, 0].add(prev)
        pos = _saturating_cumsum(g, n_cand + 1)
    return pos, b1


def targets(pos, rows, skip_self: bool):
    """Candidate positions -> target indices (skipping ``pre`` itself when ``skip_self``)."""
    if not skip_self:
        return pos
    return jnp.where(pos >= rows[:, None], pos + 1, pos)


def chunk_lanes(n_cand: int, p: float) -> int:
    """Static chunk width: mean + 3 sd + 4 lanes (multiple of 8), at most ``n_cand + 1``.

    Rows longer than a chunk continue in further chunks, so this only trades generated lanes
    against loop iterations; it never limits a row.
    """
    mean = n_cand * p
    sd = math.sqrt(max(mean * (1.0 - p), 0.0))
    lanes = 8 * math.ceil((mean + 3.0 * sd + 4.0) / 8)
    return int(max(1, min(n_cand + 1, lanes)))


def row_capacity(n_cand: int, p: float) -> int:
    """Static capacity for fixed-width paths: mean + 12 sd + 16 lanes, at most ``n_cand + 1``.

    A row needs one lane past its last target to be known complete; a row longer than this
    has probability < 1e-30 and is reported (never truncated silently).
    """
    mean = n_cand * p
    sd = math.sqrt(max(mean * (1.0 - p), 0.0))
    return int(max(1, min(n_cand + 1, math.ceil(mean + 12.0 * sd + 16.0))))


def bernoulli_row_capacity(n_targets: int, p: float) -> int:
    """Static lanes for :func:`bernoulli_row` (see :func:`row_capacity`)."""
    return row_capacity(n_targets, p)


def bernoulli_row(key, pre, p, n_targets: int, capacity: int, skip_self: bool = False):
    """Targets of row ``pre``: ``(targets (capacity,), valid (capacity,), complete)``.

    ``targets[valid]`` are the (sorted, distinct) targets in ``[0, n_targets)``; ``complete``
    is False if ``capacity`` lanes did not reach the end of the row. With ``skip_self`` the row
    draws over ``n_targets - 1`` candidates and skips ``pre`` itself. ``key`` is a JAX key
    (turned into stream words with :func:`stream_key`).
    """
    pos, valid, complete = bernoulli_rows(
        key, jnp.asarray(pre, jnp.int32)[None], p, n_targets, capacity, skip_self
    )
    return pos[0], valid[0], complete[0]


@partial(jax.jit, static_argnames=("p", "n_targets", "capacity", "skip_self"))
def bernoulli_rows(key, rows, p: float, n_targets: int, capacity: int, skip_self: bool = False):
    """:func:`bernoulli_row` for a block of row indices."""
    n_cand = n_targets - 1 if skip_self else n_targets
    rows = jnp.asarray(rows, jnp.int32)
    if p <= 0 or n_cand <= 0:
        shape = (rows.shape[0], capacity)
        return (
            jnp.full(shape, n_targets, jnp.int32),
            jnp.zeros(shape, bool),
            jnp.ones(rows.shape, bool),
        )
    prev = jnp.full(rows.shape, -1, jnp.int32)
    pos, _ = row_chunk(stream_key(key), rows, 0, prev, capacity, gap_scale(p), n_cand)
    valid = pos < n_cand
    complete = pos[:, -1] >= n_cand
    tgt = jnp.where(valid, targets(pos, rows, skip_self), n_targets)
    return tgt, valid, complete


def block_rows(lanes: int) -> int:
    """Rows generated together by the host-driven passes (count, fill): ~2^17 lanes a block."""
    return max(1, min(1 << 16, (1 << 17) // lanes))


@partial(jax.jit, static_argnames=("n_cand", "lanes", "rows"))
def _count_block(words, start, n_pre, scale, *, n_cand, lanes, rows):
    r = start + jnp.arange(rows, dtype=jnp.int32)
    prev0 = jnp.where(r < n_pre, -1, n_cand).astype(jnp.int32)

    def body(c):
        lane0, prev, cnt = c
        live = prev < n_cand
        pos, _ = row_chunk(words, r, lane0, prev, lanes, scale, n_cand)
        cnt = cnt + jnp.sum((pos < n_cand) & live[:, None], axis=1, dtype=jnp.int32)
        return lane0 + lanes, jnp.where(live, pos[:, -1], n_cand), cnt

    init = (jnp.asarray(0, jnp.int32), prev0, jnp.zeros((rows,), jnp.int32))
    return lax.while_loop(lambda c: jnp.any(c[1] < n_cand), body, init)[2]


def count_rows(words, n_pre: int, n_cand: int, p: float, lanes: int | None = None) -> np.ndarray:
    """Exact length of every row of a Bernoulli(p) stream matrix (int32, shape ``(n_pre,)``)."""
    counts = np.zeros(n_pre, np.int32)
    if p <= 0 or n_cand <= 0:
        return counts
    lanes = lanes or chunk_lanes(n_cand, p)
    rows = min(block_rows(lanes), n_pre)
    scale = gap_scale(p)
    for start in range(0, n_pre, rows):
        c = _count_block(words, start, n_pre, scale, n_cand=n_cand, lanes=lanes, rows=rows)
        stop = min(start + rows, n_pre)
        counts[start:stop] = np.asarray(c)[: stop - start]
    return counts
