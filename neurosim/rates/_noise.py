"""Additive noise of rate models (a field of every :class:`~neurosim.rates.AbstractRateModel`)."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp

from .._validate import check_nonnegative
from ..integrators import AbstractIntegrator

__all__ = ["AdditiveNoise", "check_noise", "check_integrator"]


class AdditiveNoise(eqx.Module):
    r"""Additive white noise: :math:`dX = f(X)\,dt + \sigma\, dW` per state variable.

    Each step adds ``sigma * sqrt(dt) * xi`` with ``xi ~ N(0, 1)`` independent per node and
    variable (Euler–Maruyama; with a higher-order integrator the drift is integrated by it and
    the noise increment added after). ``sigma`` has units of the variable per sqrt(ms).

    Args:
        sigma: ``{variable: sigma}``, each a scalar or an ``(n,)`` array, >= 0.

    Example:
        >>> import neurosim as ns
        >>> noise = ns.rates.AdditiveNoise({"S_e": 0.001})
    """

    sigma: dict

    def __init__(self, sigma: dict):
        if not isinstance(sigma, dict) or not sigma:
            raise ValueError(f"sigma must be a non-empty dict {{variable: value}}, got {sigma!r}")
        out = {}
        for name, val in sigma.items():
            check_nonnegative(f"sigma[{name!r}]", val)
            out[name] = jnp.asarray(val, dtype=jnp.result_type(float))
        self.sigma = out


def check_noise(noise, model) -> None:
    """Raise ``ValueError`` unless ``noise`` is an :class:`AdditiveNoise` fitting ``model``."""
    if not isinstance(noise, AdditiveNoise):
        raise ValueError(f"noise must be ns.rates.AdditiveNoise or None, got {noise!r}")
    unknown = sorted(set(noise.sigma) - set(model.state_names))
    if unknown:
        raise ValueError(
            f"noise on unknown state variables {unknown}; the model has {list(model.state_names)}"
        )
    for name, s in noise.sigma.items():
        if s.ndim > 1 or (s.ndim == 1 and s.shape[0] not in (1, model.n)):
            raise ValueError(
                f"noise sigma[{name!r}] must be a scalar or ({model.n},), got {s.shape}"
            )


def check_integrator(integrator) -> None:
    """Raise ``ValueError`` unless ``integrator`` is an integrator object."""
    if not isinstance(integrator, AbstractIntegrator):
        raise ValueError(
            f"integrator must be an ns.integrators object (e.g. ns.integrators.Heun()), "
            f"got {integrator!r}"
        )
