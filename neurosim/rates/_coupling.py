"""Coupling of rate-model nodes through a connectivity matrix with per-edge delays."""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validate import check, check_finite, check_nonnegative

__all__ = ["AbstractCoupling", "LinearCoupling", "DifferenceCoupling", "KuramotoCoupling"]


def _matrix(name: str, value, n: int | None):
    arr = jnp.asarray(value, dtype=jnp.result_type(float))
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be a square (n, n) matrix, got shape {tuple(arr.shape)}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n}, {n}) like weights, got {arr.shape}")
    check_finite(name, arr)
    return arr


class AbstractCoupling(eqx.Module):
    r"""Input to each node: :math:`c_i = G \sum_j W_{ij} f(y_j(t - d_{ij}), y_i(t))`.

    ``y`` is the nodes' ``output`` (:class:`AbstractRateModel`), ``W[i, j]`` the weight from
    node ``j`` to node ``i`` (rows are targets, as in a structural connectome used as
    ``W @ y``), ``d[i, j]`` the conduction delay (ms) of that edge, and ``G`` the global
    coupling strength. Delays are rounded to whole steps, ``round(d / dt)``; the simulation
    keeps a ring buffer of the last ``max_steps + 1`` node outputs (its length is fixed when
    the state is made, so delays may change without recompiling as long as they fit).
    Before the start, each node's history is its initial output (a constant past).

    Subclasses define the pairwise function ``f`` (``pair``) and a fast path without delays.
    """

    n: int = eqx.field(static=True)
    weights: jax.Array
    delays: jax.Array | None
    G: jax.Array

    def __init__(self, weights, G=1.0, delays=None):
        """Args:
        weights: ``(n, n)`` weights, ``W[i, j]`` from node ``j`` to node ``i``.
        G: global coupling strength (scalar; units make ``c`` match the model's input).
        delays: ``(n, n)`` conduction delays (ms), >= 0, or None for none.
        """
        self.weights = _matrix("weights", weights, None)
        self.n = int(self.weights.shape[0])
        if delays is not None:
            delays = _matrix("delays", delays, self.n)
            check_nonnegative("delays", delays, "ms")
        self.delays = delays
        g = jnp.asarray(G, dtype=jnp.result_type(float))
        if g.ndim != 0:
            raise ValueError(f"G must be a scalar, got shape {tuple(g.shape)}")
        check_finite("G", g)
        self.G = g

    # -- delays ---------------------------------------------------------------------------
    def max_delay_steps(self, dt: float) -> int:
        """Longest delay in whole steps of ``dt`` (host side; 0 without delays)."""
        if self.delays is None:
            return 0
        check(lambda a: a > 0, "dt", dt, "must be > 0 ms")
        return int(np.max(np.round(np.asarray(self.delays) / float(dt))))

    def delay_steps(self, dt):
        """``round(d_ij / dt)`` as int32 (traceable)."""
        return jnp.round(self.delays / dt).astype(jnp.int32)

    # -- the coupling ---------------------------------------------------------------------
    @abc.abstractmethod
    def pair(self, y_pre, y_post):
        """``f(y_j(t - d_ij), y_i(t))`` elementwise (``y_post`` broadcast over ``j``)."""

    def instantaneous(self, y):
        """``sum_j W_ij f(y_j(t), y_i(t))`` without delays (default: dense pairwise form)."""
        return self._reduce(self.pair(y[None, :], _expand(y)))

    def _reduce(self, pairwise):
        return jnp.einsum("ij,ij...->i...", self.weights, pairwise)

    def __call__(self, y, history=None, step=None, dt=None):
        """Coupling input ``c`` (same trailing shape as ``y``).

        Args:
            y: current outputs ``(n, ...)``.
            history: ring ``(D, n, ...)`` of past outputs (slot ``s % D`` holds step ``s``,
                the current step already written), or None when there are no delays.
            step: current integer step (with ``history``).
            dt: time step (ms) (with ``history``).
        """
        if history is None or self.delays is None:
            return self.G * self.instantaneous(y)
        depth = history.shape[0]
        lag = jnp.clip(self.delay_steps(dt), 0, depth - 1)
        slot = (step - lag) % depth
        delayed = history[slot, jnp.arange(self.n)[None, :]]  # (n, n, ...): y_j(t - d_ij)
        return self.G * self._reduce(self.pair(delayed, _expand(y)))


def _expand(y):
    """``y_i`` as ``(n, 1, ...)`` to broadcast against ``(n, n, ...)`` pairwise arrays."""
    return y[:, None]


class LinearCoupling(AbstractCoupling):
    r""":math:`c_i = G \sum_j W_{ij}\, y_j(t - d_{ij})` (TVB's ``Linear`` with slope ``G``).

    Example:
        >>> import numpy as np, neurosim as ns
        >>> W = np.array([[0.0, 1.0], [1.0, 0.0]])
        >>> cpl = ns.rates.LinearCoupling(W, G=0.5, delays=5.0 * W)
    """

    def pair(self, y_pre, y_post):
        return jnp.broadcast_to(y_pre, jnp.broadcast_shapes(y_pre.shape, y_post.shape))

    def instantaneous(self, y):
        return jnp.tensordot(self.weights, y, axes=1)


class DifferenceCoupling(AbstractCoupling):
    r""":math:`c_i = G \sum_j W_{ij}\,(y_j(t - d_{ij}) - y_i(t))` (diffusive; e.g. Hopf networks,
    Deco et al. 2017).

    Example:
        >>> import numpy as np, neurosim as ns
        >>> cpl = ns.rates.DifferenceCoupling(np.ones((3, 3)) - np.eye(3), G=0.1)
    """

    def pair(self, y_pre, y_post):
        return y_pre - y_post

    def instantaneous(self, y):
        deg = jnp.sum(self.weights, axis=1).reshape((self.n,) + (1,) * (y.ndim - 1))
        return jnp.tensordot(self.weights, y, axes=1) - deg * y


class KuramotoCoupling(AbstractCoupling):
    r""":math:`c_i = G \sum_j W_{ij} \sin(\theta_j(t - d_{ij}) - \theta_i(t))` (Kuramoto 1975).

    For the classic all-to-all model with strength ``K`` use ``W = ones((N, N)) / N`` and
    ``G = K``.

    Example:
        >>> import numpy as np, neurosim as ns
        >>> cpl = ns.rates.KuramotoCoupling(np.ones((10, 10)) / 10, G=0.02)
    """

    def pair(self, y_pre, y_post):
        return jnp.sin(y_pre - y_post)

    def instantaneous(self, y):
        # sin(a - b) = sin a cos b - cos a sin b: two matrix-vector products, O(n^2).
        s, c = jnp.sin(y), jnp.cos(y)
        return c * jnp.tensordot(self.weights, s, axes=1) - s * jnp.tensordot(
            self.weights, c, axes=1
        )
