"""Reading plastic weights out of a network state."""

from __future__ import annotations

import jax

__all__ = ["plastic_weights"]


def plastic_weights(net, state, projection: str) -> jax.Array:
    """Current weight of every synapse of a plastic projection, shape ``(nnz,)`` (CSR order).

    Example:
        >>> # res = ns.simulate(net, 100.0, key=key)
        >>> # w = ns.plasticity.plastic_weights(net, res.final_state, "pre->post")
    """
    names = [p.name for p in net.projections]
    if projection not in names:
        raise ValueError(f"unknown projection {projection!r}; known: {names}")
    j = names.index(projection)
    st = state.projections[j]
    if "w" not in st:
        raise ValueError(
            f"projection {projection!r} has no plastic weights (dynamics: "
            f"{type(net.projections[j].dynamics).__name__})"
        )
    return st["w"][: net.projections[j].conn.nnz]
