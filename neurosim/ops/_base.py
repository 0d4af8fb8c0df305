"""Interface of sparse connectivity operators ("deliver these spikes through this matrix")."""

from __future__ import annotations

import equinox as eqx
import jax

__all__ = ["AbstractConnectivity"]


class AbstractConnectivity(eqx.Module):
    """A weighted ``(n_pre, n_post)`` matrix ``W`` that presynaptic spikes are delivered through.

    Subclasses implement:

    * ``reference_matvec(x)``: ``x @ W`` over *all* synapses with plain JAX ops. It is linear
      in ``x`` and in the weights and JAX can transpose it, so it defines the gradient rules
      and is the reference that fast paths are tested against.
    * ``event_matvec_impl(spikes, backend)``: the fast path for (mostly zero) spike vectors,
      touching only the rows of neurons that spiked.
    * ``transpose_matvec(y)``: ``W @ y`` (gather per row).
    * ``todense()``: the dense matrix (tests, tiny networks).
    * ``weight_tangent(tangent)``: the weight leaf of a tangent pytree of ``self``.
    """

    n_pre: eqx.AbstractVar[int]
    n_post: eqx.AbstractVar[int]

    def reference_matvec(self, x) -> jax.Array:
        raise NotImplementedError

    def event_matvec_impl(self, spikes, backend: str) -> jax.Array:
        raise NotImplementedError

    def transpose_matvec(self, y) -> jax.Array:
        raise NotImplementedError

    def todense(self) -> jax.Array:
        raise NotImplementedError

    def with_weights(self, weights) -> AbstractConnectivity:
        raise NotImplementedError

    @property
    def nnz(self) -> int:
        raise NotImplementedError

    def nbytes(self) -> int:
        """Bytes held by the operator's arrays."""
        return sum(x.nbytes for x in jax.tree.leaves(eqx.filter(self, eqx.is_array)))
