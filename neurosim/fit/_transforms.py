"""Parameter transforms: optimise in an unconstrained space, simulate in physical units.

Gradient steps on ``log tau`` instead of ``tau`` keep time constants and conductances
positive and make relative (not absolute) changes the natural step; voltages are shifted and
scaled to O(1). A :class:`ParameterSpace` maps a dict of physical values to a dict of
unconstrained arrays and back.
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax.numpy as jnp

from .._validate import is_concrete

__all__ = ["AbstractTransform", "Positive", "Affine", "Bounded", "ParameterSpace"]


class AbstractTransform(eqx.Module):
    """``to_physical(u)`` and its inverse ``to_unconstrained(x)``."""

    @abc.abstractmethod
    def to_physical(self, u):
        """The physical value of the unconstrained ``u``."""

    @abc.abstractmethod
    def to_unconstrained(self, x):
        """The unconstrained value of the physical ``x`` (inverse of :meth:`to_physical`)."""


class Positive(AbstractTransform):
    """``x = scale * exp(u)``: positive parameters (time constants, conductances)."""

    scale: float = 1.0

    def to_physical(self, u):
        return self.scale * jnp.exp(u)

    def to_unconstrained(self, x):
        x = jnp.asarray(x, float)
        if is_concrete(x) and bool(jnp.any(x <= 0)):
            raise ValueError(f"Positive transform needs values > 0, got {x}")
        return jnp.log(x / self.scale)


class Affine(AbstractTransform):
    """``x = loc + scale * u``: unbounded parameters (voltages, mV), scaled to O(1)."""

    loc: float = 0.0
    scale: float = 1.0

    def to_physical(self, u):
        return self.loc + self.scale * u

    def to_unconstrained(self, x):
        return (jnp.asarray(x, float) - self.loc) / self.scale


class Bounded(AbstractTransform):
    """``x = low + (high - low) * sigmoid(u)``: parameters confined to ``(low, high)``."""

    low: float
    high: float

    def __check_init__(self):
        if not self.high > self.low:
            raise ValueError(f"Bounded needs high > low, got ({self.low}, {self.high})")

    def to_physical(self, u):
        return self.low + (self.high - self.low) / (1.0 + jnp.exp(-u))

    def to_unconstrained(self, x):
        p = (jnp.asarray(x, float) - self.low) / (self.high - self.low)
        if is_concrete(p) and bool(jnp.any((p <= 0) | (p >= 1))):
            raise ValueError(f"Bounded({self.low}, {self.high}) needs values inside, got {x}")
        return jnp.log(p) - jnp.log1p(-p)


class ParameterSpace(eqx.Module):
    """Named transforms; converts parameter dicts between physical and unconstrained space.

    Example:
        >>> import neurosim as ns
        >>> space = ns.fit.ParameterSpace(
        ...     {"tau_m": ns.fit.Positive(10.0), "v_th": ns.fit.Affine(-50.0, 10.0)})
        >>> u = space.to_unconstrained({"tau_m": 20.0, "v_th": -45.0})
        >>> x = space.to_physical(u)  # back to {"tau_m": 20.0, "v_th": -45.0}
    """

    transforms: dict

    def __init__(self, transforms: dict):
        bad = [k for k, t in transforms.items() if not isinstance(t, AbstractTransform)]
        if bad:
            raise ValueError(f"transforms must be ns.fit.Positive/Affine/Bounded; not for {bad}")
        self.transforms = dict(transforms)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.transforms)

    def to_physical(self, u: dict) -> dict:
        return {k: t.to_physical(u[k]) for k, t in self.transforms.items()}

    def to_unconstrained(self, x: dict) -> dict:
        missing = [k for k in self.transforms if k not in x]
        if missing:
            raise ValueError(f"missing parameters {missing}")
        return {k: t.to_unconstrained(x[k]) for k, t in self.transforms.items()}
