"""Fixed-total-number connectivity (NEST's ``fixed_total_number`` rule)."""

from __future__ import annotations

import equinox as eqx
import jax
import numpy as np

from .._validate import check_size
from ._generators import AbstractGenerator, _csr_from_rows, _numpy_rng

__all__ = ["FixedTotalNumber"]

_CHOICE_MAX = 1 << 26  # candidate pairs up to which numpy's choice(replace=False) is used as is


def _distinct_pairs(rng: np.random.Generator, n_syn: int, n_pairs: int) -> np.ndarray:
    """``n_syn`` distinct flat pair indices drawn uniformly from ``[0, n_pairs)``."""
    if n_pairs <= _CHOICE_MAX or 2 * n_syn > n_pairs:
        return rng.choice(n_pairs, size=n_syn, replace=False, shuffle=False).astype(np.int64)
    # Sparse in a large candidate set: draw, drop duplicates, redraw the missing ones. Every
    # n_syn-subset is equally likely (the set of distinct values after each round is a uniform
    # subset of its size, and new draws are uniform over the rest after rejection).
    pairs = np.unique(rng.integers(0, n_pairs, size=n_syn, dtype=np.int64))
    while pairs.size < n_syn:
        extra = rng.integers(0, n_pairs, size=n_syn - pairs.size, dtype=np.int64)
        pairs = np.unique(np.concatenate([pairs, extra]))
    return pairs


class FixedTotalNumber(AbstractGenerator):
    """Exactly ``n`` synapses in the projection, each between a random pre/post pair.

    NEST's ``fixed_total_number`` rule (used by the Potjans & Diesmann 2014 microcircuit):
    with multapses (the default, as in NEST) every synapse picks its presynaptic and its
    postsynaptic neuron uniformly and independently, so the numbers of synapses per pair are
    multinomial ``(n; 1/(n_pre n_post), ...)``; without multapses the ``n`` synapses occupy
    ``n`` distinct pairs, a uniformly random subset. Without autapses (pre and post the same
    population) the ``n_pre`` self-pairs are excluded from the candidates. In- and out-degrees
    are random (binomial with multapses), unlike :class:`FixedInDegree`.

    Args:
        n: total number of synapses, an integer >= 0.
        allow_multapses: several synapses per pair allowed (default True, as in NEST).
        allow_autapses: self-connections allowed when pre and post are the same population
            (default True, as in NEST).

    Example:
        >>> import jax, neurosim as ns
        >>> W = ns.connectivity.FixedTotalNumber(5000).build(jax.random.key(0), 400, 300, 0.5)
        >>> W.nnz
        5000
    """

    n: int = eqx.field(static=True)
    allow_multapses: bool = eqx.field(static=True, default=True)
    allow_autapses: bool = eqx.field(static=True, default=True)

    def __check_init__(self):
        if isinstance(self.n, bool) or not isinstance(self.n, (int, np.integer)) or self.n < 0:
            raise ValueError(
                f"n (total number of synapses) must be an integer >= 0, got {self.n!r}"
            )

    def pairs(self, key, n_pre: int, n_post: int, same_population: bool = False):
        """The sampled ``(pre, post)`` index arrays (int64), sorted by ``pre``, then ``post``."""
        n_pre, n_post = check_size("n_pre", n_pre), check_size("n_post", n_post)
        skip_self = same_population and not self.allow_autapses
        if skip_self and n_pre != n_post:
            raise ValueError("same_population requires n_pre == n_post")
        n_cols = n_post - 1 if skip_self else n_post
        n_pairs = n_pre * n_cols
        n_syn = int(self.n)
        if n_syn and n_pairs < 1:
            raise ValueError(f"n={n_syn} synapses but there are no pre/post pairs to draw from")
        if not self.allow_multapses and n_syn > n_pairs:
            raise ValueError(
                f"n={n_syn} exceeds the {n_pairs} available pre/post pairs without multapses "
                "(lower n or pass allow_multapses=True)"
            )
        rng = _numpy_rng(key)
        if self.allow_multapses:
            flat = np.sort(rng.integers(0, max(n_pairs, 1), size=n_syn, dtype=np.int64))
        else:
            flat = np.sort(_distinct_pairs(rng, n_syn, n_pairs))
        pre, col = np.divmod(flat, max(n_cols, 1))
        post = np.where(col >= pre, col + 1, col) if skip_self else col
        return pre, post

    def build(self, key, n_pre, n_post, weight, same_population=False):
        k_pairs, k_w = jax.random.split(key)
        pre, post = self.pairs(k_pairs, n_pre, n_post, same_population)
        counts = np.bincount(pre, minlength=n_pre)
        return _csr_from_rows(counts, post.astype(np.int32), n_post, weight, k_w)
