"""Shared pieces of the spiking models: spike cut-off, threshold-and-reset, upward crossings."""

from __future__ import annotations

import jax.numpy as jnp

from .._validate import check
from ._base import reset_value

__all__ = ["below_peak", "fire_and_reset", "upward_crossing", "check_order", "EXP_ARG_MAX"]

# Largest exponent evaluated by exponential spike currents. exp(60) ~ 1e26 keeps every product
# finite in float32 (max ~3e38); it is only reached far above threshold, where the membrane
# crosses the spike cut-off within the step anyway.
EXP_ARG_MAX = 60.0


def below_peak(v, v_peak):
    """``min(v, v_peak)``: the potential seen by the vector field of a model with a spike cut.

    Models whose potential diverges in finite time (QIF, ExpIF, AdEx, Izhikevich) are
    evaluated at most at the cut-off ``v_peak``, as NEST's ``aeif`` models do. This changes
    nothing below the cut-off and keeps intermediate stages of multi-stage integrators (and
    their gradients) finite.
    """
    return jnp.minimum(v, v_peak)


def fire_and_reset(v_new, held, threshold, v_reset, surrogate, detach: bool):
    """Spike where ``v_new >= threshold`` outside refractoriness; reset to ``v_reset`` there.

    Returns ``(spike, v_out)``; ``spike`` carries the surrogate derivative in
    ``v_new - threshold`` and the reset is differentiable unless ``detach``.
    """
    spike = surrogate(v_new - threshold) * (~held)
    return spike, reset_value(v_new, spike, v_reset, detach)


def upward_crossing(v_old, v_new, v_th, held, surrogate):
    """Spike on an upward crossing of ``v_th`` in this step (models without a reset)."""
    crossed = (v_old < v_th) & ~held
    return surrogate(v_new - v_th) * crossed


def check_order(low_name: str, low, high_name: str, high, unit: str = "mV") -> None:
    """Raise ``ValueError`` unless ``low < high`` elementwise (e.g. reset below the cut-off)."""
    diff = jnp.asarray(high) - jnp.asarray(low)
    check(
        lambda a: a > 0,
        f"{high_name} - {low_name}",
        diff,
        f"must be > 0 {unit}",
        f"{low_name} must lie below {high_name}",
    )
