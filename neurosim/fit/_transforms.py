"""Parameter transforms: optimise in an unconstrained space, simulate in physical units.

Gradient steps on ``log tau`` instead of ``tau`` keep time constants and conductances
positive and make relative (not absolute) changes the natural step; voltages are shifted and
scaled to O(1). A :class:`ParameterSpace` maps a dict of physical values to a dict of
unconstrained arrays and back.

The transforms themselves live in :mod:`neurosim._transforms`, shared with
:mod:`neurosim.train`: ``ns.fit.Positive`` is :class:`ExpPositive` (``x = scale * exp(u)``),
``ns.fit.Bounded`` and ``ns.fit.Affine`` are the shared ones. ``ns.fit.SoftplusPositive``
(the map behind ``ns.train.Positive``) is available here too.
"""

from __future__ import annotations

import equinox as eqx

from .._transforms import AbstractTransform, Affine, Bounded, ExpPositive, SoftplusPositive

__all__ = [
    "AbstractTransform",
    "Positive",
    "ExpPositive",
    "SoftplusPositive",
    "Affine",
    "Bounded",
    "ParameterSpace",
]

Positive = ExpPositive
"""``ns.fit.Positive`` (``x = scale * exp(u)``) is :class:`ExpPositive`."""


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
            raise ValueError(
                "transforms must be ns.fit.Positive (ExpPositive), SoftplusPositive, Affine or "
                f"Bounded; not for {bad}"
            )
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
