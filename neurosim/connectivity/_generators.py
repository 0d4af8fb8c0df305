"""Random connectivity generators, producing stored sparse (CSR) operators.

All generators are seeded by a JAX key and vectorised; identical keys give identical
matrices. Weights are a number (homogeneous, stored once) or an initializer from
:mod:`neurosim.init` (one weight per synapse, drawn from its own stream).
"""

from __future__ import annotations

import abc
from functools import partial
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._init import AbstractInit
from .._streams import (
    block_rows,
    chunk_lanes,
    count_rows,
    gap_scale,
    row_chunk,
    stream_key,
    targets,
    unit_uniform,
)
from .._validate import check, check_literal, check_size, not_a_string
from ..ops import CSR

__all__ = [
    "AbstractGenerator",
    "FixedProbability",
    "FixedInDegree",
    "FixedOutDegree",
    "AllToAll",
    "from_dense",
    "from_edges",
]

Format = Literal["csr", "ell"]
"""Storage of a fixed-degree sample: ``ns.ops.CSR`` or ``ns.ops.ELL``."""

_ROW_BLOCK = 1 << 15
_HOST_FILL_MAX = 1 << 22  # synapses; larger stored builds fill device arrays in place


def _numpy_rng(key) -> np.random.Generator:
    data = np.asarray(jax.random.key_data(key)).ravel().astype(np.uint64)
    return np.random.default_rng(np.random.SeedSequence([int(x) for x in data]))


def _weights(weight, key, nnz: int):
    if isinstance(weight, AbstractInit):
        return weight.sample(key, (nnz,))
    not_a_string("weight", weight)
    w = jnp.asarray(weight, dtype=jnp.result_type(float))
    if w.ndim != 0:
        raise ValueError(
            f"weight must be a number or an initializer (ns.init.Normal, ...), got shape {w.shape}"
        )
    return w


class AbstractGenerator(eqx.Module):
    """``build(key, n_pre, n_post, weight, same_population=False) -> CSR``."""

    @abc.abstractmethod
    def build(self, key, n_pre: int, n_post: int, weight, same_population: bool = False) -> CSR:
        """Sample the ``(n_pre, n_post)`` connectivity with weights ``weight``."""


def _csr_from_rows(counts: np.ndarray, indices: np.ndarray, n_post: int, weight, key) -> CSR:
    indptr = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    w = _weights(weight, key, int(indptr[-1]))
    return CSR.from_arrays(indptr, indices, w, n_post)


class FixedProbability(AbstractGenerator):
    """Each pair ``(pre, post)`` is connected independently with probability ``p``.

    Rows are geometric skips through per-row counter-based streams
    (:mod:`neurosim._streams`), O(synapses) work. Stored (default): the rows are
    generated on the device in blocks straight into preallocated CSR arrays (a counting pass
    sizes them exactly), so building needs about the memory of the result. Procedural
    (``procedural=True``): nothing is stored; the operator
    (:class:`neurosim.ops.ProceduralBernoulli`) regenerates rows when they are used. Both give
    exactly the same matrix for the same key. Per-synapse weights from an initializer use
    ``init.quantile`` of the synapse's own stream word (``Constant``, ``Normal``, ``Uniform``).

    Args:
        p: connection probability in [0, 1].
        allow_autapses: if False and pre/post are the same population, no self-connections.
        procedural: return a procedural operator (memory O(1) instead of O(synapses)).

    Example:
        >>> import jax, neurosim as ns
        >>> W = ns.connectivity.FixedProbability(0.02).build(jax.random.key(0), 4000, 4000, 0.6)
        >>> V = ns.connectivity.FixedProbability(0.02, procedural=True).build(
        ...     jax.random.key(0), 4000, 4000, 0.6)
    """

    p: float = eqx.field(static=True)
    allow_autapses: bool = eqx.field(static=True, default=True)
    procedural: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        check(lambda a: (a >= 0) & (a <= 1), "p", self.p, "must lie in [0, 1]")

    def build(self, key, n_pre, n_post, weight, same_population=False):
        n_pre, n_post = check_size("n_pre", n_pre), check_size("n_post", n_post)
        skip_self = same_population and not self.allow_autapses
        if skip_self and n_pre != n_post:
            raise ValueError("same_population requires n_pre == n_post")
        words = stream_key(key)
        if self.procedural:
            from ..ops import ProceduralBernoulli

            return ProceduralBernoulli(
                words, _stream_weight(weight, required=True), n_pre, n_post, self.p, skip_self
            )
        return _build_stored(words, key, n_pre, n_post, float(self.p), skip_self, weight)


def _stream_weight(weight, required: bool):
    """A scalar weight array, or an initializer with ``quantile`` (None if it has none)."""
    if isinstance(weight, AbstractInit):
        if type(weight).quantile is not AbstractInit.quantile:
            return weight
        if required:
            raise ValueError(
                f"weight={type(weight).__name__}(...) has no quantile(), so procedural "
                "connectivity cannot draw it per synapse; use ns.init.Normal, Uniform or "
                "Constant, or stored connectivity"
            )
        return None
    return _weights(weight, None, 0)


@partial(jax.jit, static_argnames=("n_cand", "lanes", "rows", "skip_self"))
def _fill_chunk(
    words, start, offsets, lane0, prev, scale, weight, *, n_cand, lanes, rows, skip_self
):
    """One chunk of rows ``start ..``: destinations (-1: none), targets, weights, new ``prev``."""
    r = start + jnp.arange(rows, dtype=jnp.int32)
    live = prev < n_cand
    pos, b1 = row_chunk(words, r, lane0, prev, lanes, scale, n_cand)
    valid = (pos < n_cand) & live[:, None]
    dest = jnp.where(valid, offsets[:, None] + lane0 + jnp.arange(lanes, dtype=jnp.int32), -1)
    w = None if weight is None else weight.quantile(unit_uniform(b1))
    prev = jnp.where(live, pos[:, -1], n_cand)
    return dest, targets(pos, r, skip_self), w, prev, jnp.any(prev < n_cand)


@partial(jax.jit, donate_argnums=(0, 1))
def _scatter(idx, w, dest, tgt, w_vals):
    """``idx[dest] = tgt`` (and weights) in place; ``dest < 0`` is skipped."""
    dest = jnp.where(dest < 0, idx.shape[0], dest)
    idx = idx.at[dest].set(tgt, mode="drop")
    if w is not None:
        w = w.at[dest].set(w_vals.astype(w.dtype), mode="drop")
    return idx, w


def _build_stored(words, key, n_pre, n_post, p, skip_self, weight) -> CSR:
    """Stored CSR of the stream matrix: count pass, then fill preallocated device arrays."""
    n_cand = n_post - 1 if skip_self else n_post
    stream_w = _stream_weight(weight, required=False)
    counts = count_rows(words, n_pre, n_cand, p)
    indptr = np.zeros(n_pre + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    nnz = int(indptr[-1])
    if nnz >= 2**31 - (1 << 20):
        raise ValueError(
            f"{nnz} synapses in one projection exceed the int32 CSR limit; split the "
            "projection or use FixedProbability(p, procedural=True)"
        )
    max_row = int(counts.max()) if nnz else 0
    pad = max(max_row, 1)
    per_synapse = isinstance(stream_w, AbstractInit)
    w_dtype = jnp.result_type(*jax.tree.leaves(stream_w), float) if per_synapse else None
    # Small: fill host arrays (no per-size compilation). Large: fill preallocated device
    # arrays in place, so the build needs about the memory of the result.
    on_host = nnz + pad <= _HOST_FILL_MAX
    xp = np if on_host else jnp
    idx = xp.full((nnz + pad,), n_post, xp.int32)
    w = xp.zeros((nnz + pad,), w_dtype) if per_synapse else None
    if nnz:  # the generation kernel does not depend on nnz (compiled once per shape class)
        lanes = chunk_lanes(n_cand, p)
        rows = min(block_rows(lanes), n_pre)
        scale = gap_scale(p)
        starts = indptr[:-1].astype(np.int32)
        for start in range(0, n_pre, rows):
            off = np.zeros(rows, np.int32)
            chunk = starts[start : start + rows]
            off[: len(chunk)] = chunk
            prev = np.where(np.arange(start, start + rows) < n_pre, -1, n_cand).astype(np.int32)
            prev, lane0, more = jnp.asarray(prev), 0, True
            while more:
                dest, tgt, wv, prev, more = _fill_chunk(
                    words, start, jnp.asarray(off), lane0, prev, scale,
                    stream_w if per_synapse else None,
                    n_cand=n_cand, lanes=lanes, rows=rows, skip_self=skip_self,
                )  # fmt: skip
                if on_host:
                    dest = np.asarray(dest)
                    keep = dest >= 0
                    idx[dest[keep]] = np.asarray(tgt)[keep]
                    if per_synapse:
                        w[dest[keep]] = np.asarray(wv)[keep]
                else:
                    idx, w = _scatter(idx, w, dest, tgt, wv)
                lane0 += lanes
                more = bool(more)
    if stream_w is None:  # an initializer without quantile(): its own sample, not the stream
        w = weight.sample(jax.random.fold_in(key, 1), (nnz,))
        w = jnp.concatenate([w, jnp.zeros((pad,), w.dtype)])
    elif not per_synapse:
        w = stream_w
    idx, w = jnp.asarray(idx), jnp.asarray(w)
    # Built in place (no copies of the synapse arrays): CSR layout with `pad` >= max_row
    # padding entries (target n_post, weight 0), as CSR.from_arrays would make.
    return CSR(
        indptr=jnp.asarray(indptr.astype(np.int32)),
        indices=idx,
        weights=w,
        n_pre=n_pre,
        n_post=n_post,
        max_row=pad,
        nnz_=nnz,
    )


def _distinct_draws(rng, n_rows: int, k: int, n_cand: int, multapses: bool) -> np.ndarray:
    """``(n_rows, k)`` draws from ``[0, n_cand)``, distinct within a row unless ``multapses``."""
    draws = rng.integers(0, n_cand, size=(n_rows, k), dtype=np.int64)
    if multapses or k <= 1:
        return np.sort(draws, axis=1)
    draws.sort(axis=1)
    while True:
        dup = np.zeros_like(draws, dtype=bool)
        dup[:, 1:] = draws[:, 1:] == draws[:, :-1]
        n_dup = int(dup.sum())
        if n_dup == 0:
            return draws
        draws[dup] = rng.integers(0, n_cand, size=n_dup, dtype=np.int64)
        draws.sort(axis=1)


class _FixedDegree(AbstractGenerator):
    k: int = eqx.field(static=True)
    allow_multapses: bool = eqx.field(static=True, default=False)
    allow_autapses: bool = eqx.field(static=True, default=True)
    format: Format = eqx.field(static=True, default="csr")

    def __check_init__(self):
        if isinstance(self.k, bool) or not isinstance(self.k, (int, np.integer)) or self.k < 0:
            raise ValueError(f"k must be an integer >= 0, got {self.k!r}")
        check_literal("format", self.format, Format)

    def _as_format(self, csr: CSR):
        return csr.to_ell() if self.format == "ell" else csr

    def _draw(self, key, n_rows, n_cols, same_population):
        """Per-row distinct column draws: ``(n_rows, k)`` sorted."""
        skip_self = same_population and not self.allow_autapses
        n_cand = n_cols - 1 if skip_self else n_cols
        if not self.allow_multapses and self.k > n_cand:
            raise ValueError(
                f"k={self.k} exceeds the {n_cand} available partners without multapses "
                "(lower k or pass allow_multapses=True)"
            )
        if self.k > 0 and n_cand < 1:
            raise ValueError(f"k={self.k} but there are no partners to draw from")
        rng = _numpy_rng(key)
        out = np.empty((n_rows, self.k), np.int64)
        for start in range(0, n_rows, _ROW_BLOCK):
            stop = min(start + _ROW_BLOCK, n_rows)
            d = _distinct_draws(rng, stop - start, self.k, n_cand, self.allow_multapses)
            if skip_self:
                own = np.arange(start, stop)[:, None]
                d = np.where(d >= own, d + 1, d)
            out[start:stop] = d
        return out


class FixedInDegree(_FixedDegree):
    """Every postsynaptic neuron receives exactly ``k`` synapses from random presynaptic ones.

    Args:
        k: in-degree.
        allow_multapses: allow several synapses between the same pair (default False; then
            ``k`` must not exceed the number of presynaptic neurons).
        allow_autapses: allow self-connections when pre and post are the same population.
        format: ``"csr"`` (default) or ``"ell"`` (:class:`neurosim.ops.ELL`, rows padded to
            the largest out-degree; the same matrix).
    """

    def build(self, key, n_pre, n_post, weight, same_population=False):
        n_pre, n_post = check_size("n_pre", n_pre), check_size("n_post", n_post)
        k_rows, k_w = jax.random.split(key)
        pres = self._draw(k_rows, n_post, n_pre, same_population)  # (n_post, k)
        pre = pres.ravel()
        post = np.repeat(np.arange(n_post, dtype=np.int32), self.k)
        order = np.argsort(pre, kind="stable")
        counts = np.bincount(pre, minlength=n_pre)
        return self._as_format(_csr_from_rows(counts, post[order], n_post, weight, k_w))


class FixedOutDegree(_FixedDegree):
    """Every presynaptic neuron makes exactly ``k`` synapses onto random postsynaptic ones.

    Args:
        k: out-degree.
        allow_multapses: allow several synapses between the same pair (default False).
        allow_autapses: allow self-connections when pre and post are the same population.
        format: ``"csr"`` (default) or ``"ell"``: the padded ``(n_pre, k)`` target table
            (:class:`neurosim.ops.ELL`, no row pointers, no padding for fixed fan-out), the
            same matrix for the same key.

    Example:
        >>> import jax, neurosim as ns
        >>> gen = ns.connectivity.FixedOutDegree(8, format="ell")
        >>> W = gen.build(jax.random.key(0), 100, 50, 1.0)
    """

    def build(self, key, n_pre, n_post, weight, same_population=False):
        n_pre, n_post = check_size("n_pre", n_pre), check_size("n_post", n_post)
        k_rows, k_w = jax.random.split(key)
        posts = self._draw(k_rows, n_pre, n_post, same_population)
        counts = np.full(n_pre, self.k, np.int64)
        csr = _csr_from_rows(counts, posts.ravel().astype(np.int32), n_post, weight, k_w)
        return self._as_format(csr)


class AllToAll(AbstractGenerator):
    """Every presynaptic neuron connects to every postsynaptic one."""

    allow_autapses: bool = eqx.field(static=True, default=True)

    def build(self, key, n_pre, n_post, weight, same_population=False):
        n_pre, n_post = check_size("n_pre", n_pre), check_size("n_post", n_post)
        mask = np.ones((n_pre, n_post), bool)
        if same_population and not self.allow_autapses:
            np.fill_diagonal(mask, False)
        pre, post = np.nonzero(mask)
        return _csr_from_rows(mask.sum(1), post.astype(np.int32), n_post, weight, key)


def from_edges(pre, post, weights, n_pre: int, n_post: int) -> CSR:
    """CSR from edge lists ``pre[k] -> post[k]`` with ``weights`` (scalar or per edge)."""
    pre = np.asarray(pre, np.int64)
    post = np.asarray(post, np.int64)
    if pre.shape != post.shape or pre.ndim != 1:
        raise ValueError(f"pre and post must be 1-D of equal length, got {pre.shape}, {post.shape}")
    if pre.size and (pre.min() < 0 or pre.max() >= n_pre):
        raise ValueError(f"pre indices must lie in [0, {n_pre})")
    order = np.argsort(pre, kind="stable")
    w = jnp.asarray(weights, dtype=jnp.result_type(float))
    if w.ndim == 1:
        w = w[jnp.asarray(order)]
    counts = np.bincount(pre, minlength=n_pre)
    indptr = np.zeros(n_pre + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    return CSR.from_arrays(indptr, post[order].astype(np.int32), w, n_post)


def from_dense(matrix) -> CSR:
    """CSR with the non-zero entries of a dense ``(n_pre, n_post)`` weight matrix."""
    m = np.asarray(matrix)
    if m.ndim != 2:
        raise ValueError(f"matrix must be 2-D (n_pre, n_post), got shape {m.shape}")
    pre, post = np.nonzero(m)
    return from_edges(pre, post, m[pre, post], m.shape[0], m.shape[1])
