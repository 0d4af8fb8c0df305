"""Parameters in the augmented state: bounded transforms, random walk, per-neuron draws."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

__all__ = ["Bounded", "Positive", "random_walk", "gamma_heterogeneity"]


class Bounded(eqx.Module):
    r"""Logit coordinates for a parameter in ``(lo, hi)``: ``lo + (hi - lo) sigmoid(u / c)``.

    ``c`` is the logit scale (DTB uses 10): a random walk of std ``sigma`` in ``u`` moves
    ``theta`` by about ``(hi - lo) sigma / (4 c)`` near the middle of the interval.

    Args:
        lo, hi: bounds (scalars or arrays), ``lo < hi``.
        scale: logit scale ``c`` > 0.

    Example:
        >>> import neurosim as ns
        >>> b = ns.assimilate.Bounded(0.2, 0.5)
        >>> round(float(b.forward(b.inverse(0.3))), 6)
        0.3
    """

    lo: jax.Array
    hi: jax.Array
    scale: float = eqx.field(static=True)

    def __init__(self, lo, hi, scale: float = 1.0):
        lo, hi = jnp.asarray(lo, jnp.result_type(float)), jnp.asarray(hi, jnp.result_type(float))
        if not bool(jnp.all(lo < hi)):
            raise ValueError(f"Bounded needs lo < hi, got lo={lo!r}, hi={hi!r}")
        if not scale > 0:
            raise ValueError(f"scale must be > 0, got {scale!r}")
        self.lo, self.hi, self.scale = lo, hi, float(scale)

    def forward(self, u):
        """Unconstrained ``u`` -> parameter ``theta`` in ``(lo, hi)``."""
        return self.lo + (self.hi - self.lo) * jax.nn.sigmoid(u / self.scale)

    def inverse(self, theta):
        """Parameter ``theta`` in ``(lo, hi)`` -> unconstrained ``u``."""
        p = (jnp.asarray(theta) - self.lo) / (self.hi - self.lo)
        return self.scale * (jnp.log(p) - jnp.log1p(-p))


class Positive(eqx.Module):
    """Log coordinates for a positive parameter: ``theta = exp(u)``.

    Example:
        >>> import neurosim as ns
        >>> round(float(ns.assimilate.Positive().forward(0.0)), 6)
        1.0
    """

    def forward(self, u):
        """Unconstrained ``u`` -> ``theta > 0``."""
        return jnp.exp(u)

    def inverse(self, theta):
        """``theta > 0`` -> unconstrained ``u``."""
        return jnp.log(theta)


def random_walk(key, u, sigma):
    """``u + sigma * N(0, 1)``: the parameter random walk of state augmentation (pure).

    It keeps parameter spread alive between analyses (a form of additive inflation);
    ``sigma`` is in unconstrained units, a scalar or broadcastable to ``u``.

    Example:
        >>> import jax, jax.numpy as jnp, neurosim as ns
        >>> u = ns.assimilate.random_walk(jax.random.key(0), jnp.zeros((8, 3)), 0.1)
    """
    u = jnp.asarray(u)
    return u + jnp.asarray(sigma, u.dtype) * jax.random.normal(key, u.shape, u.dtype)


def gamma_heterogeneity(key, hyper, n_per: int, shape: float = 5.0):
    """Per-neuron parameters: ``hyper`` times a Gamma(shape, 1/shape) draw (mean 1).

    The Digital Twin Brain's hierarchy (Lu et al. 2023, arXiv 2308.01241): each neuron's
    parameter is its population's hyperparameter times a Gamma(5, scale 1/5) factor, CV
    ``1/sqrt(shape)`` (0.45 for 5). Draw the factors once per member with a fixed key and
    keep them for the whole assimilation (only the hyperparameters are updated).

    Args:
        key: random key (use one per ensemble member, fixed over windows).
        hyper: hyperparameters ``(..., P)`` (e.g. per region).
        n_per: neurons per hyperparameter (>= 1).
        shape: Gamma shape ``k`` (> 0); scale ``1/k``.

    Returns:
        ``(..., P, n_per)`` per-neuron values.

    Example:
        >>> import jax, jax.numpy as jnp, neurosim as ns
        >>> g = ns.assimilate.gamma_heterogeneity(jax.random.key(0), jnp.ones(3), 400)
        >>> g.shape
        (3, 400)
    """
    if isinstance(n_per, bool) or not isinstance(n_per, int) or n_per < 1:
        raise ValueError(f"n_per must be an integer >= 1, got {n_per!r}")
    if not shape > 0:
        raise ValueError(f"shape must be > 0 (Gamma shape), got {shape!r}")
    hyper = jnp.asarray(hyper, jnp.result_type(float))
    factor = jax.random.gamma(key, shape, (*hyper.shape, n_per), hyper.dtype) / shape
    return hyper[..., None] * factor
