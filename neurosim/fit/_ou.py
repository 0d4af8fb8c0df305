"""Ornstein–Uhlenbeck noise currents (the stimulus of the fitting experiments)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._validate import check_finite, check_nonnegative, check_positive

__all__ = ["ou_current"]


def ou_current(key, n_steps: int, dt, *, mean=0.0, sigma=100.0, tau=10.0):
    r"""A sample path of an Ornstein–Uhlenbeck current (pA), one value per time step.

    .. math::
        \tau \frac{dI}{dt} = (\mu - I) + \sigma \sqrt{2 \tau}\, \xi(t)

    sampled exactly on the grid (Gillespie 1996, Phys. Rev. E 54:2084): with
    ``rho = exp(-dt/tau)``, ``I[k+1] = mu + rho (I[k] - mu) + sigma sqrt(1 - rho^2) z[k]``, started
    in the stationary distribution ``N(mu, sigma^2)``. ``I[k]`` is the current applied during step
    ``k`` (from ``k dt`` to ``(k+1) dt``), as :class:`neurosim.inputs.ArrayCurrent` reads it.

    Args:
        key: random key.
        n_steps: number of samples.
        dt: time step (ms), > 0.
        mean: stationary mean ``mu`` (pA).
        sigma: stationary standard deviation (pA), >= 0.
        tau: correlation time (ms), > 0.

    Returns:
        Array of shape ``(n_steps,)`` (pA).

    Example:
        >>> import jax, neurosim as ns
        >>> i = ns.fit.ou_current(jax.random.key(0), 1000, 0.1, mean=200.0, sigma=50.0)
    """
    n_steps = int(n_steps)
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    check_positive("dt", dt, "ms")
    check_positive("tau", tau, "ms")
    check_nonnegative("sigma", sigma, "pA")
    check_finite("mean", mean)
    dtype = jnp.result_type(float)
    rho = jnp.exp(-jnp.asarray(dt, dtype) / tau)
    z = jax.random.normal(key, (n_steps,), dtype)
    x0 = z[0]  # stationary start (unit variance)
    innov = jnp.sqrt(1.0 - rho**2) * z[1:]

    def body(x, e):
        x = rho * x + e
        return x, x

    _, rest = jax.lax.scan(body, x0, innov)
    x = jnp.concatenate([x0[None], rest])
    return mean + sigma * x
