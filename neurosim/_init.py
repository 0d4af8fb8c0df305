"""Initial-value distributions for state variables and synaptic weights.

Each initializer is a small pytree with ``sample(key, shape) -> array``; its parameters are
arrays, so changing them does not recompile.
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.scipy.special

from ._validate import as_float_array, check_finite, check_nonnegative

__all__ = ["AbstractInit", "Constant", "Normal", "Uniform", "as_init"]


class AbstractInit(eqx.Module):
    """An initial-value distribution: ``sample(key, shape)``."""

    @abc.abstractmethod
    def sample(self, key, shape):
        """An array of ``shape`` drawn with ``key``."""

    @abc.abstractmethod
    def mean(self):
        """Expected value (used for summaries and capacity estimates)."""

    def quantile(self, u):
        """Inverse CDF at ``u`` in (0, 1): maps a uniform variate to this distribution.

        Used where each value must come from its own counter-based stream (per-synapse
        weights of procedural connectivity); linear in the initializer's parameters.
        """
        raise TypeError(
            f"{type(self).__name__} has no quantile(); use Constant, Normal or Uniform for "
            "per-synapse weights drawn from connectivity streams"
        )


class Constant(AbstractInit):
    """Every element equals ``value``."""

    value: jax.Array = eqx.field(converter=as_float_array)

    def __check_init__(self):
        check_finite("Constant.value", self.value)

    def sample(self, key, shape):
        return jnp.broadcast_to(self.value, shape).astype(self.value.dtype)

    def mean(self):
        return self.value

    def quantile(self, u):
        return jnp.broadcast_to(self.value, jnp.shape(u)).astype(self.value.dtype)


class Normal(AbstractInit):
    """Gaussian with ``mean`` and standard deviation ``std`` (same units as the variable)."""

    loc: jax.Array = eqx.field(converter=as_float_array)
    std: jax.Array = eqx.field(converter=as_float_array)

    def __check_init__(self):
        check_finite("Normal.loc", self.loc)
        check_nonnegative("Normal.std", self.std)

    def sample(self, key, shape):
        return self.loc + self.std * jax.random.normal(key, shape, dtype=self.loc.dtype)

    def mean(self):
        return self.loc

    def quantile(self, u):
        return self.loc + self.std * jax.scipy.special.ndtri(jnp.asarray(u, self.loc.dtype))


class Uniform(AbstractInit):
    """Uniform on ``[low, high)``."""

    low: jax.Array = eqx.field(converter=as_float_array)
    high: jax.Array = eqx.field(converter=as_float_array)

    def __check_init__(self):
        check_finite("Uniform.low", self.low)
        check_finite("Uniform.high", self.high)
        check_nonnegative("Uniform.high - Uniform.low", self.high - self.low)

    def sample(self, key, shape):
        return jax.random.uniform(
            key, shape, dtype=self.low.dtype, minval=self.low, maxval=self.high
        )

    def mean(self):
        return 0.5 * (self.low + self.high)

    def quantile(self, u):
        return self.low + (self.high - self.low) * jnp.asarray(u, self.low.dtype)


def as_init(x) -> AbstractInit:
    """Wrap a number (or array) as :class:`Constant`; pass initializers through."""
    return x if isinstance(x, AbstractInit) else Constant(x)
