"""The public event-delivery operator and its differentiation rules."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax.custom_derivatives import SymbolicZero

from ._base import BACKENDS, AbstractConnectivity, Backend, check_backend

__all__ = ["event_matvec", "event_matmat", "BACKENDS"]


@functools.cache
def _event_op(backend: Backend, capacity: int | None):
    @jax.custom_jvp
    def op(conn, spikes):
        return conn.event_matvec_impl(spikes, backend, capacity)

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


def _check(conn, backend, capacity):
    if not isinstance(conn, AbstractConnectivity):
        raise ValueError(
            f"conn must be a neurosim connectivity operator (ns.ops.CSR, ns.ops.ELL), "
            f"got {type(conn).__name__}"
        )
    check_backend(backend)
    if capacity is not None and (
        isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1
    ):
        raise ValueError(f"capacity must be an integer >= 1 or None, got {capacity!r}")


def event_matvec(
    conn: AbstractConnectivity, spikes, *, backend: Backend = "auto", capacity: int | None = None
) -> jax.Array:
    """Deliver a spike vector through ``conn``: ``spikes @ W`` (shape ``(n_post,)``).

    Only the rows of neurons with non-zero ``spikes`` are touched by the fast backends.
    Spikes may be graded (the row is scaled by the spike value). Differentiable: the JVP
    with respect to ``spikes`` is the full product ``spikes_dot @ W`` (every presynaptic
    neuron, spiking or not), the JVP with respect to the weights is ``spikes @ W_dot``; both
    are expressed with transposable JAX ops, so reverse mode works too. Under ``vmap`` over
    spike vectors the fast backends stay batched (the compiled kernel becomes one
    matrix–matrix call). Units are those of the weights (nS or pA per spike).

    Args:
        conn: a connectivity operator (:class:`CSR`, :class:`ELL`).
        spikes: shape ``(n_pre,)``, 0/1 or graded.
        backend: ``"auto"`` (compiled kernel on CPU, ``"compact"`` on accelerators),
            ``"ffi"`` (compiled CPU kernel; ``"loop"`` if it cannot be built), ``"loop"``
            (``while_loop`` over spiking rows), ``"compact"`` (blocks of compacted spiking
            rows, no per-spike loop), ``"reference"`` (all synapses, masked), ``"dense"``
            (dense matrix; tests only). See :mod:`neurosim.ops`.
        capacity: rows per block of the ``"compact"`` backend (default
            :func:`neurosim.ops.default_capacity`); affects speed only, never drops spikes.

    Example:
        >>> import jax, jax.numpy as jnp, neurosim as ns
        >>> W = ns.connectivity.FixedProbability(0.1).build(jax.random.key(0), 50, 40, 0.5)
        >>> out = ns.ops.event_matvec(W, (jnp.arange(50) % 7 == 0).astype(float))
    """
    _check(conn, backend, capacity)
    spikes = jnp.asarray(spikes)
    if spikes.shape != (conn.n_pre,):
        raise ValueError(f"spikes must have shape ({conn.n_pre},), got {spikes.shape}")
    return _event_op(backend, capacity)(conn, spikes)


def event_matmat(
    conn: AbstractConnectivity, spikes, *, backend: Backend = "auto", capacity: int | None = None
) -> jax.Array:
    """Deliver a batch of spike vectors: ``(batch, n_pre)`` -> ``(batch, n_post)``.

    The same operator as :func:`event_matvec` mapped over the leading axis with ``vmap``,
    which turns the compiled kernel into one batched (matrix–matrix) call.

    Example:
        >>> import jax, jax.numpy as jnp, neurosim as ns
        >>> W = ns.connectivity.FixedProbability(0.1).build(jax.random.key(0), 50, 40, 0.5)
        >>> out = ns.ops.event_matmat(W, jnp.eye(3, 50))
        >>> out.shape
        (3, 40)
    """
    _check(conn, backend, capacity)
    spikes = jnp.asarray(spikes)
    if spikes.ndim != 2 or spikes.shape[1] != conn.n_pre:
        raise ValueError(f"spikes must have shape (batch, {conn.n_pre}), got {spikes.shape}")
    return jax.vmap(lambda s: event_matvec(conn, s, backend=backend, capacity=capacity))(spikes)
