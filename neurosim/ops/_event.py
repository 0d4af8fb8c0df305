"""The public event-delivery operator and its differentiation rules."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax.custom_derivatives import SymbolicZero

from ._base import AbstractConnectivity

__all__ = ["event_matvec", "event_matmat"]

BACKENDS = ("auto", "loop", "reference", "dense")


@functools.cache
def _event_op(backend: str):
    @jax.custom_jvp
    def op(conn, spikes):
        return conn.event_matvec_impl(spikes, backend)

    def jvp(primals, tangents):
        conn, spikes = primals
        conn_dot, spikes_dot = tangents
        out = op(conn, spikes)
        tan = jnp.zeros_like(out)
        # Spike tangents go through the *full* product, so surrogate gradients reach
        # presynaptic neurons that did not spike in the forward pass.
        if not isinstance(spikes_dot, SymbolicZero):
            tan = tan + conn.reference_matvec(spikes_dot).astype(out.dtype)
        w_dot = conn.weight_tangent(conn_dot)
        if not isinstance(w_dot, SymbolicZero):
            tan = tan + conn.with_weights(w_dot).reference_matvec(spikes).astype(out.dtype)
        return out, tan

    op.defjvp(jvp, symbolic_zeros=True)
    return op


def event_matvec(conn: AbstractConnectivity, spikes, *, backend: str = "auto") -> jax.Array:
    """Deliver a spike vector through ``conn``: ``spikes @ W`` (shape ``(n_post,)``).

    Only the rows of neurons with non-zero ``spikes`` are touched by the fast backends.
    Spikes may be graded (the row is scaled by the spike value). Differentiable: the JVP
    with respect to ``spikes`` is the full product ``spikes_dot @ W`` (every presynaptic
    neuron, spiking or not), the JVP with respect to the weights is ``spikes @ W_dot``; both
    are expressed with transposable JAX ops, so reverse mode works too.

    Args:
        conn: a connectivity operator (e.g. :class:`CSR`).
        spikes: shape ``(n_pre,)``, 0/1 or graded.
        backend: ``"auto"`` (fastest for the platform), ``"loop"`` (loop over spiking rows),
            ``"reference"`` (all synapses, masked), ``"dense"`` (dense matrix; tests only).

    Example:
        >>> import jax, jax.numpy as jnp, neurosim as ns
        >>> W = ns.connectivity.FixedProbability(0.1).build(jax.random.key(0), 50, 40, 0.5)
        >>> out = ns.ops.event_matvec(W, (jnp.arange(50) % 7 == 0).astype(float))
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    spikes = jnp.asarray(spikes)
    if spikes.shape != (conn.n_pre,):
        raise ValueError(f"spikes must have shape ({conn.n_pre},), got {spikes.shape}")
    return _event_op(backend)(conn, spikes)


def event_matmat(conn: AbstractConnectivity, spikes, *, backend: str = "auto") -> jax.Array:
    """Deliver a batch of spike vectors: ``(batch, n_pre)`` -> ``(batch, n_post)``."""
    return jax.vmap(lambda s: event_matvec(conn, s, backend=backend))(spikes)
