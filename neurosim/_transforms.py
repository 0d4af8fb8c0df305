"""Bijections between an unconstrained space and a parameter's physical range.

One module for both users: :mod:`neurosim.fit` optimises dicts of unconstrained values
through a :class:`~neurosim.fit.ParameterSpace` of these transforms, and :mod:`neurosim.train`
stores constrained model leaves (:class:`neurosim.train.Positive`,
:class:`neurosim.train.Bounded`) whose values are computed by them.

Two maps to positive values are kept on purpose, under distinct names, because they behave
differently and each caller relies on its behaviour:

* :class:`ExpPositive` (``x = scale * exp(u)``): a step in ``u`` is a *relative* change of
  ``x`` at every scale, which is what fitting time constants and conductances over orders of
  magnitude wants (``ns.fit.Positive`` is this class).
* :class:`SoftplusPositive` (``x = lower + softplus(u)``): linear (gradient ``~1``) far above
  the bound and bounded below by ``lower``, so gradient training of time constants neither
  explodes for large values nor crosses a floor (``ns.train.Positive`` computes its value
  with it).

Every ``to_unconstrained`` checks (for concrete values) that ``x`` lies in the range and
raises ``ValueError`` naming the transform, the range and the value.
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._validate import is_concrete

__all__ = ["AbstractTransform", "ExpPositive", "SoftplusPositive", "Affine", "Bounded"]


def _float(x) -> jax.Array:
    return jnp.asarray(x, jnp.result_type(float))


def inv_softplus(y):
    """``log(exp(y) - 1)``, the inverse of softplus (stable for large ``y``)."""
    return y + jnp.log(-jnp.expm1(-y))


class AbstractTransform(eqx.Module):
    """``to_physical(u)`` and its inverse ``to_unconstrained(x)`` (elementwise)."""

    @abc.abstractmethod
    def to_physical(self, u) -> jax.Array:
        """The physical value of unconstrained ``u``."""

    @abc.abstractmethod
    def to_unconstrained(self, x) -> jax.Array:
        """The unconstrained value of physical ``x`` (``ValueError`` if out of range)."""


class ExpPositive(AbstractTransform):
    """``x = scale * exp(u)``: positive parameters, steps in ``u`` are relative changes.

    Attributes:
        scale: the value at ``u = 0``, in the parameter's units (> 0).

    Example:
        >>> import neurosim as ns
        >>> t = ns.fit.ExpPositive(10.0)
        >>> round(float(t.to_physical(t.to_unconstrained(20.0))), 4)
        20.0
    """

    scale: float = 1.0

    def __check_init__(self):
        if is_concrete(self.scale) and not float(self.scale) > 0:
            raise ValueError(f"ExpPositive: scale must be > 0, got {self.scale}")

    def to_physical(self, u):
        return self.scale * jnp.exp(u)

    def to_unconstrained(self, x):
        x = _float(x)
        if is_concrete(x) and bool(jnp.any(x <= 0)):
            raise ValueError(f"Positive (exp) transform needs values > 0, got {x}")
        return jnp.log(x / self.scale)


class SoftplusPositive(AbstractTransform):
    """``x = lower + softplus(u)`` > ``lower``: linear far above the bound, floored at it.

    Attributes:
        lower: the (excluded) lower bound, in the parameter's units.

    Example:
        >>> import neurosim as ns
        >>> t = ns.train.SoftplusPositive(lower=1.0)
        >>> round(float(t.to_physical(t.to_unconstrained(20.0))), 4)
        20.0
    """

    lower: float = 0.0

    def to_physical(self, u):
        return self.lower + jax.nn.softplus(u)

    def to_unconstrained(self, x):
        x = _float(x)
        if is_concrete(x) and not bool(jnp.all(x > self.lower)):
            raise ValueError(
                f"Positive (softplus): value must be > lower = {float(self.lower):g}, got {x}"
            )
        return inv_softplus(x - self.lower)


class Affine(AbstractTransform):
    """``x = loc + scale * u``: unbounded parameters (voltages, mV), scaled to O(1).

    Example:
        >>> import neurosim as ns
        >>> float(ns.fit.Affine(-50.0, 10.0).to_physical(0.5))
        -45.0
    """

    loc: float = 0.0
    scale: float = 1.0

    def to_physical(self, u):
        return self.loc + self.scale * u

    def to_unconstrained(self, x):
        return (_float(x) - self.loc) / self.scale


class Bounded(AbstractTransform):
    """``x = low + (high - low) * sigmoid(u)``: parameters confined to ``(low, high)``.

    Example:
        >>> import neurosim as ns
        >>> t = ns.fit.Bounded(-60.0, -40.0)
        >>> round(float(t.to_physical(t.to_unconstrained(-50.0))), 4)
        -50.0
    """

    low: float
    high: float

    def __check_init__(self):
        if is_concrete(self.high - self.low) and not float(self.high) > float(self.low):
            raise ValueError(f"Bounded needs high > low, got ({self.low}, {self.high})")

    def to_physical(self, u):
        return self.low + (self.high - self.low) * jax.nn.sigmoid(u)

    def to_unconstrained(self, x):
        x = _float(x)
        if is_concrete(x):
            v = np.asarray(x)
            if not np.all((v > self.low) & (v < self.high)):
                raise ValueError(
                    f"Bounded: value must lie strictly inside ({float(self.low):g}, "
                    f"{float(self.high):g}), got {x}"
                )
        p = (x - self.low) / (self.high - self.low)
        return jnp.log(p) - jnp.log1p(-p)
