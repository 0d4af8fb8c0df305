"""Assignment of a spiking population's neurons to regions (the nodes of a rate population).

Cross-scale couplings and readouts summarise a spiking population per region: a region is a
set of its neurons, given as contiguous equal blocks, as named groups, or as an index array
(one region index per neuron). Resolved once at construction into a static
:class:`RegionMap`, so aggregation inside the loop is a reshape (blocks) or a segment sum.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["RegionMap", "resolve_regions", "region_sum", "region_mean", "region_spread"]


class RegionMap(NamedTuple):
    """Static map neuron -> region of a population slice (hashable).

    Attributes:
        n: number of neurons mapped (the population or group size).
        n_regions: number of regions.
        block: region size when the regions are contiguous equal blocks covering all ``n``
            neurons in order (fast path: a reshape), else 0.
        ids: region index per neuron (``()`` on the block path).
        sizes: number of neurons per region.
    """

    n: int
    n_regions: int
    block: int
    ids: tuple[int, ...]
    sizes: tuple[int, ...]


def _blocks(n: int, k: int, what: str) -> RegionMap:
    if n % k:
        raise ValueError(
            f"{what}: {n} neurons cannot be split into {k} equal contiguous regions; pass "
            "regions= as a list of group names or an index array (one region per neuron)"
        )
    return RegionMap(n, k, n // k, (), (n // k,) * k)


def resolve_regions(
    regions, n: int, groups: tuple, offset: int, n_default: int, what: str
) -> RegionMap:
    """Resolve a user ``regions`` specification for ``n`` neurons starting at ``offset``.

    Args:
        regions: None (``n_default`` equal contiguous blocks), an int ``k`` (``k`` equal
            blocks), a sequence of group names (each group one region, in that order), or an
            integer array of length ``n`` with the region of each neuron (``0 .. k-1``, every
            region non-empty).
        n: neurons covered (population or group size).
        groups: the population's ``(name, start, stop)`` groups.
        offset: start of the covered slice within the population.
        n_default: number of regions when ``regions`` is None.
        what: description for error messages (e.g. ``"coupling 'E->wong'"``).
    """
    if regions is None:
        return _blocks(n, n_default, what)
    if isinstance(regions, (int, np.integer)) and not isinstance(regions, bool):
        if regions < 1:
            raise ValueError(f"{what}: regions must be >= 1, got {regions}")
        return _blocks(n, int(regions), what)
    if isinstance(regions, (list, tuple)) and regions and all(isinstance(g, str) for g in regions):
        by_name = {g: (a, b) for g, a, b in groups}
        ids = np.full(n, -1, np.int64)
        for k, g in enumerate(regions):
            if g not in by_name:
                raise ValueError(
                    f"{what}: regions names group {g!r}, which is not a group of this "
                    f"population; its groups: {list(by_name)}"
                )
            a, b = by_name[g][0] - offset, by_name[g][1] - offset
            if a < 0 or b > n:
                raise ValueError(f"{what}: group {g!r} lies outside the coupled neurons")
            if np.any(ids[a:b] >= 0):
                raise ValueError(f"{what}: group {g!r} overlaps another region")
            ids[a:b] = k
        if np.any(ids < 0):
            raise ValueError(
                f"{what}: the groups {list(regions)} leave {int(np.sum(ids < 0))} neurons "
                "without a region; name groups that cover the population"
            )
        return _from_ids(ids, what)
    arr = np.asarray(regions)
    if arr.ndim != 1 or arr.shape[0] != n or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"{what}: regions must be None, an int, a list of group names or an integer array "
            f"of shape ({n},) (region per neuron); got {regions!r:.80}"
        )
    return _from_ids(arr.astype(np.int64), what)


def _from_ids(ids: np.ndarray, what: str) -> RegionMap:
    if ids.size == 0 or ids.min() < 0:
        raise ValueError(f"{what}: region indices must be >= 0")
    k = int(ids.max()) + 1
    sizes = np.bincount(ids, minlength=k)
    if np.any(sizes == 0):
        raise ValueError(
            f"{what}: regions {np.flatnonzero(sizes == 0).tolist()} have no neurons; region "
            f"indices must be 0..{k - 1} with every region non-empty"
        )
    n = int(ids.size)
    if np.all(sizes == sizes[0]) and np.array_equal(ids, np.repeat(np.arange(k), sizes[0])):
        return RegionMap(n, k, int(sizes[0]), (), tuple(int(s) for s in sizes))
    return RegionMap(n, k, 0, tuple(int(i) for i in ids), tuple(int(s) for s in sizes))


def region_sum(rm: RegionMap, x: jax.Array) -> jax.Array:
    """Sum of ``x`` ``(n,)`` over each region: ``(n_regions,)``."""
    if rm.block:
        return jnp.sum(x.reshape(rm.n_regions, rm.block), axis=1)
    return jax.ops.segment_sum(x, jnp.asarray(rm.ids, jnp.int32), num_segments=rm.n_regions)


def region_mean(rm: RegionMap, x: jax.Array) -> jax.Array:
    """Mean of ``x`` ``(n,)`` over each region: ``(n_regions,)``."""
    if rm.block:
        return jnp.mean(x.reshape(rm.n_regions, rm.block), axis=1)
    return region_sum(rm, x) / jnp.asarray(rm.sizes, x.dtype)


def region_spread(rm: RegionMap, v: jax.Array) -> jax.Array:
    """Each neuron's region value: ``v`` ``(n_regions,)`` -> ``(n,)``."""
    if rm.block:
        return jnp.repeat(v, rm.block, total_repeat_length=rm.n)
    return v[jnp.asarray(rm.ids, jnp.int32)]
