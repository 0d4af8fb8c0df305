"""Noise currents (pA): Ornstein–Uhlenbeck (coloured) and Gaussian white noise."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from .._validate import as_float_array, check_finite, check_nonnegative, check_positive
from ._inputs import AbstractCurrent

__all__ = ["OUCurrent", "WhiteNoiseCurrent"]


def _per_target(x, n: int, name: str):
    if x.ndim == 0 or x.shape == (n,):
        return jnp.broadcast_to(x, (n,))
    raise ValueError(f"{name} must be a scalar or have shape ({n},) (one per target neuron)")


class OUCurrent(AbstractCurrent):
    r"""Ornstein–Uhlenbeck noise current, independent per target neuron.

    .. math::
        \tau \frac{dI}{dt} = \mu - I + \sigma \sqrt{2\tau}\,\xi(t)

    with stationary mean :math:`\mu`, stationary standard deviation :math:`\sigma` and
    autocorrelation :math:`\sigma^2 e^{-|s|/\tau}` (Uhlenbeck & Ornstein 1930). Each step uses
    the exact update (Gillespie 1996, *Phys. Rev. E* 54:2084)

    .. math::
        I_{k+1} = \mu + (I_k - \mu) e^{-dt/\tau} + \sigma\sqrt{1 - e^{-2dt/\tau}}\,\xi_k,

    so the sampled process has exactly these statistics at any ``dt``. ``I_k`` is injected
    during step ``k``; ``I_0`` is drawn from the stationary distribution (``stationary=True``,
    default) or set to ``mu``.

    Args:
        mean: stationary mean :math:`\mu` (pA); scalar or one per target neuron.
        std: stationary standard deviation :math:`\sigma` (pA), >= 0.
        tau: correlation time (ms), > 0.
        stationary: start from a stationary sample (else from ``mean``).

    Example:
        >>> import neurosim as ns
        >>> noise = ns.inputs.OUCurrent(mean=100.0, std=50.0, tau=5.0)
    """

    mean: jax.Array = eqx.field(converter=as_float_array)
    std: jax.Array = eqx.field(converter=as_float_array)
    tau: jax.Array = eqx.field(converter=as_float_array)
    stationary: bool = eqx.field(static=True, default=True)

    def __check_init__(self):
        check_finite("mean", self.mean)
        check_nonnegative("std", self.std, "pA")
        check_positive("tau", self.tau, "ms")

    def init(self, key, dt) -> dict:
        n = self._size()
        mean = _per_target(self.mean, n, "mean")
        std = _per_target(self.std, n, "std")
        _per_target(self.tau, n, "tau")
        if self.stationary:
            i0 = mean + std * jax.random.normal(key, (n,), mean.dtype)
        else:
            i0 = mean
        return {"i": i0}

    def step(self, state, drive, i, dt, key):
        cur = state["i"]
        a = jnp.exp(-dt / self.tau)
        xi = jax.random.normal(key, cur.shape, cur.dtype)
        i_next = self.mean + (cur - self.mean) * a + self.std * jnp.sqrt(1.0 - a * a) * xi
        return {"i": i_next}, cur


class WhiteNoiseCurrent(AbstractCurrent):
    r"""Gaussian white-noise current :math:`I(t) = \mu + \sigma\,\xi(t)`, independent per neuron.

    :math:`\langle \xi(t)\xi(t')\rangle = \delta(t - t')`, so :math:`\sigma` has units of
    pA·ms^½. Step ``k`` injects the step average of the noise, :math:`I_k = \mu + \sigma
    \xi_k / \sqrt{dt}` with :math:`\xi_k \sim N(0, 1)`; the integrated input is then exact in
    distribution and the statistics do not depend on ``dt``. For an LIF neuron
    (:math:`\tau_m, g_L`) this is the diffusion approximation's input with mean
    :math:`\mu_V = E_L + \mu / g_L` (mV) and noise amplitude :math:`\sigma_V =
    \sigma / (g_L \sqrt{\tau_m})` (mV) in :math:`\tau_m \dot V = \mu_V - V + \sigma_V
    \sqrt{\tau_m}\,\xi` (Brunel 2000, *J. Comput. Neurosci.* 8:183); see
    :func:`neurosim.theory.siegert_rate`.

    Args:
        mean: mean current :math:`\mu` (pA); scalar or one per target neuron.
        sigma: noise intensity :math:`\sigma` (pA·ms^½), >= 0.

    Example:
        >>> import neurosim as ns
        >>> noise = ns.inputs.WhiteNoiseCurrent(mean=150.0, sigma=100.0)
    """

    mean: jax.Array = eqx.field(converter=as_float_array)
    sigma: jax.Array = eqx.field(converter=as_float_array)

    def __check_init__(self):
        check_finite("mean", self.mean)
        check_nonnegative("sigma", self.sigma, "pA ms^0.5")

    def init(self, key, dt) -> dict:
        n = self._size()
        # "i": the current of the last step (its shape fixes the number of independent draws).
        return {"i": _per_target(self.mean, n, "mean") + 0.0 * _per_target(self.sigma, n, "sigma")}

    def step(self, state, drive, i, dt, key):
        xi = jax.random.normal(key, state["i"].shape, state["i"].dtype)
        cur = self.mean + self.sigma * xi / jnp.sqrt(dt)
        return {"i": cur}, cur
