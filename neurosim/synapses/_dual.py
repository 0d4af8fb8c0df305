r"""Two-state linear kinetics: dual-exponential (rise and decay) and alpha synapses.

Both are the linear chain

.. math::
    \frac{dx}{dt} = -\frac{x}{\tau_r}, \qquad \frac{dg}{dt} = -\frac{g}{\tau_d} + x,

with a spike of weight ``w`` adding ``kappa * w`` to ``x``. For ``x(0) = x_0, g(0) = g_0``
the exact solution after ``h`` ms is

.. math::
    x(h) = x_0 e^{-h/\tau_r}, \qquad
    g(h) = g_0 e^{-h/\tau_d} + x_0 E(h), \qquad
    E(h) = \frac{e^{-h/\tau_d} - e^{-h/\tau_r}}{1/\tau_r - 1/\tau_d}
         = h\, e^{-h/\tau_d}\, \varphi\big(h (1/\tau_r - 1/\tau_d)\big),

with ``phi(z) = (1 - e^{-z})/z``, which is evaluated stably near ``z = 0``; at
``tau_r == tau_d`` it gives ``E(h) = h e^{-h/tau}`` (the alpha function), so the propagator is
exact, continuous and differentiable across equal time constants. ``kappa = 1/E(t_peak)``
normalises the response to one spike so that its peak equals ``w``:

.. math::
    t_{peak} = \frac{\tau_r \tau_d}{\tau_d - \tau_r} \ln\frac{\tau_d}{\tau_r}
    \;(= \tau \text{ if } \tau_r = \tau_d).

This is the normalisation of NEST's ``iaf_cond_beta``/``ht_neuron`` and of ``iaf_psc_alpha``
(peak = weight). Reference: Rotter & Diesmann (1999), Biol. Cybern. 81:381 (exact integration
of linear systems); Roth & van Rossum (2009), in *Computational Modeling Methods for
Neuroscientists*, ch. 6 (dual-exponential and alpha conductances).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from .._validate import as_float_array, check, check_positive
from ..integrators import exp_kernel, exp_kernel2
from ._kinetics import AbstractLinearKinetics, linear_step

__all__ = ["DualExponential", "Alpha", "chain_response", "peak_time"]


def _one_minus_exp_neg_over(z):
    """``(1 - exp(-z)) / z``, stable (and smooth) near ``z = 0``."""
    small = jnp.abs(z) < 1e-3
    z_safe = jnp.where(small, 1.0, z)
    return jnp.where(small, 1.0 - z / 2.0 + z * z / 6.0, -jnp.expm1(-z_safe) / z_safe)


def _log1p_over(y):
    """``log(1 + y) / y``, stable near ``y = 0``."""
    small = jnp.abs(y) < 1e-3
    y_safe = jnp.where(small, 1.0, y)
    return jnp.where(small, 1.0 - y / 2.0 + y * y / 3.0, jnp.log1p(y_safe) / y_safe)


def chain_response(h, tau_rise, tau_decay):
    """``E(h)``: value of ``g`` at time ``h`` (ms) after ``x = 1``, ``g = 0`` (units of ms)."""
    z = h * (1.0 / tau_rise - 1.0 / tau_decay)
    return h * jnp.exp(-h / tau_decay) * _one_minus_exp_neg_over(z)


def peak_time(tau_rise, tau_decay):
    """Time (ms) of the maximum of the dual-exponential response to one spike."""
    return tau_decay * _log1p_over(tau_decay / tau_rise - 1.0)


def _chain_average(state, dt, rate, tau_rise, tau_decay):
    """Membrane average of the chain's ``g`` over ``dt`` for a membrane of rate ``rate``."""
    x, g = state["x"], state["g"]
    r_d, r_r = 1.0 / tau_decay, 1.0 / tau_rise
    held = exp_kernel(dt, rate, 0.0)
    return (g * exp_kernel(dt, rate, r_d) + x * exp_kernel2(dt, rate, r_r, r_d)) / held


def _decay_chain(state, dt, tau_rise, tau_decay):
    x, g = state["x"], state["g"]
    g_new = g * jnp.exp(-dt / tau_decay) + x * chain_response(dt, tau_rise, tau_decay)
    return {"x": x * jnp.exp(-dt / tau_rise), "g": g_new}


class DualExponential(AbstractLinearKinetics):
    r"""Dual-exponential (difference-of-exponentials, "beta") synapse, normalised to peak ``w``.

    One spike of weight ``w`` at ``t = 0`` gives

    .. math::
        g(t) = w\, \frac{e^{-t/\tau_d} - e^{-t/\tau_r}}{e^{-t_p/\tau_d} - e^{-t_p/\tau_r}},
        \qquad t_p = \frac{\tau_r \tau_d}{\tau_d - \tau_r} \ln\frac{\tau_d}{\tau_r},

    (the alpha function when ``tau_rise == tau_decay``). Integrated exactly as the linear
    chain described in :mod:`neurosim.synapses._dual`; state ``x`` (rise, nS/ms or pA/ms) and
    ``g`` (the synaptic variable, nS or pA).

    Args:
        tau_rise: rise time constant (ms), > 0 and <= ``tau_decay``.
        tau_decay: decay time constant (ms), > 0.

    Example:
        >>> import neurosim as ns
        >>> nmda = ns.synapses.DualExponential(tau_rise=2.0, tau_decay=100.0)
    """

    tau_rise: jax.Array = eqx.field(converter=as_float_array)
    tau_decay: jax.Array = eqx.field(converter=as_float_array)

    def __check_init__(self):
        check_positive("tau_rise", self.tau_rise, "ms")
        check_positive("tau_decay", self.tau_decay, "ms")
        check(
            lambda a: a <= 0,
            "tau_rise - tau_decay",
            self.tau_rise - self.tau_decay,
            "must be <= 0 ms (tau_rise <= tau_decay)",
            "swap the two time constants",
        )

    @property
    def t_peak(self):
        """Time to peak (ms) after a spike."""
        return peak_time(self.tau_rise, self.tau_decay)

    def init(self, key, dt) -> dict:
        z = jnp.zeros((self._size(),), self.tau_decay.dtype)
        return {"x": z, "g": z}

    def step(self, state, drive, i, dt, key):
        return linear_step(self, state, drive, dt)

    def decay(self, state, dt):
        return _decay_chain(state, dt, self.tau_rise, self.tau_decay)

    def add(self, state, x):
        kappa = 1.0 / chain_response(self.t_peak, self.tau_rise, self.tau_decay)
        return {"x": state["x"] + kappa * x, "g": state["g"]}

    def membrane_average(self, state, dt, rate):
        return _chain_average(state, dt, rate, self.tau_rise, self.tau_decay)

    def value(self, state):
        return state["g"]


class Alpha(AbstractLinearKinetics):
    r"""Alpha-function synapse, normalised to peak ``w`` at ``t = tau``.

    One spike of weight ``w`` at ``t = 0`` gives :math:`g(t) = w\,(t/\tau)\,e^{1 - t/\tau}`
    (NEST's ``iaf_psc_alpha`` convention). Integrated exactly as the linear chain of
    :mod:`neurosim.synapses._dual` with ``tau_rise = tau_decay = tau``:
    ``g(t+h) = (g + h x) e^{-h/tau}``, ``x(t+h) = x e^{-h/tau}``, a spike adds ``e w / tau``
    to ``x``.

    Args:
        tau: time constant = time to peak (ms), > 0.

    Example:
        >>> import neurosim as ns
        >>> syn = ns.synapses.Alpha(tau=2.0)
    """

    tau: jax.Array = eqx.field(converter=as_float_array)

    def __check_init__(self):
        check_positive("tau", self.tau, "ms")

    @property
    def t_peak(self):
        """Time to peak (ms) after a spike (``tau``)."""
        return self.tau

    def init(self, key, dt) -> dict:
        z = jnp.zeros((self._size(),), self.tau.dtype)
        return {"x": z, "g": z}

    def step(self, state, drive, i, dt, key):
        return linear_step(self, state, drive, dt)

    def decay(self, state, dt):
        e = jnp.exp(-dt / self.tau)
        return {"x": state["x"] * e, "g": (state["g"] + dt * state["x"]) * e}

    def add(self, state, x):
        return {"x": state["x"] + (jnp.e / self.tau) * x, "g": state["g"]}

    def membrane_average(self, state, dt, rate):
        return _chain_average(state, dt, rate, self.tau, self.tau)

    def value(self, state):
        return state["g"]
