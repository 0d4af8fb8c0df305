r"""Exact propagators of linear membranes driven by linear synaptic kinetics.

The subthreshold LIF and its current-based synapses form a linear, time-invariant system
between spikes, so one step of ``h`` ms is an exact matrix exponential (Rotter & Diesmann
1999, Biol. Cybern. 81:381; NEST's ``iaf_psc_exp`` and ``iaf_psc_alpha``). Every entry of that
propagator is a convolution of decaying exponentials over the step,

.. math::
    k_1(h; a, b) = \int_0^h e^{-a (h - s)} e^{-b s}\, ds, \qquad
    k_2(h; a, b, c) = \int_0^h e^{-c (h - s)} k_1(s; a, b)\, ds,

with rates ``a, b, c`` (1/ms). They are the first and second divided differences of
``lambda -> exp(-h lambda)`` (Hermite–Genocchi), symmetric in their rates and finite when
rates coincide (``tau_s == tau_m``, alpha kinetics), where naive formulas divide 0 by 0:

* :func:`exp_kernel` evaluates ``k_1 = h e^{-h min(a,b)} phi(h |a - b|)`` with
  ``phi(z) = (1 - e^{-z})/z`` (a series near 0);
* :func:`exp_kernel2` evaluates ``k_2`` from the sorted rates: a difference of ``k_1`` when
  the rates span more than ``1/h`` (no cancellation), else the Taylor series of the divided
  difference (complete homogeneous polynomials of the scaled rate gaps), so it is exact to
  rounding in float32 and float64 and continuous across equal rates.

For an LIF with capacitance ``C`` and membrane rate ``lambda = g/C`` (leak plus any frozen
conductance), a current ``I(t)`` contributes ``(1/C) int_0^h e^{-lambda (h-s)} I(s) ds`` to
``v`` after the step. The kinetics of :mod:`neurosim.synapses` return the constant current
with the same effect, their *membrane average* (``k_1(h; lambda, 1/tau) / k_1(h; lambda, 0)``
for an exponential current); the neuron's held-input update (exact for a held input) then
reproduces the exact propagator step.
"""

from __future__ import annotations

import jax.numpy as jnp

__all__ = ["exp_kernel", "exp_kernel2"]


def _phi(z):
    """``(1 - exp(-z)) / z`` for ``z >= 0``, stable near 0."""
    small = z < 1e-3
    z_safe = jnp.where(small, 1.0, z)
    return jnp.where(small, 1.0 - z / 2.0 + z * z / 6.0, -jnp.expm1(-z_safe) / z_safe)


def _scaled_k1(p, q):
    """``int_0^1 e^{-p (1-s)} e^{-q s} ds`` (dimensionless rates), symmetric, stable."""
    lo = jnp.minimum(p, q)
    return jnp.exp(-lo) * _phi(jnp.abs(p - q))


def exp_kernel(h, a, b):
    """``k_1(h; a, b) = int_0^h e^{-a(h-s)} e^{-b s} ds`` (ms) for rates ``a, b`` (1/ms).

    ``k_1(h; a, 0) = (1 - e^{-a h})/a`` is the response to a held unit input; equal rates give
    ``h e^{-a h}``.

    Example:
        >>> import neurosim as ns
        >>> round(float(ns.integrators.exp_kernel(0.1, 0.05, 0.5)), 6)
        0.097301
    """
    h = jnp.asarray(h)
    return h * _scaled_k1(h * a, h * b)


_N_TERMS = 18  # series of the second divided difference: remainder < 17/18! ~ 3e-15


def _scaled_k2(p, q, r):
    """Second divided difference of ``u -> e^{-u}`` at ``p, q, r`` (all >= 0), stable."""
    lo = jnp.minimum(jnp.minimum(p, q), r)
    hi = jnp.maximum(jnp.maximum(p, q), r)
    mid = p + q + r - lo - hi
    spread = hi - lo
    wide = spread > 1.0
    # Wide: difference of first differences over the largest gap (relative error ~ eps).
    direct = (_scaled_k1(lo, mid) - _scaled_k1(mid, hi)) / jnp.where(wide, spread, 1.0)
    # Narrow: e^{-mid} sum_{n>=2} (-1)^n / n! H_{n-2}(u, w), u = lo - mid, w = hi - mid in
    # [-1, 1], with H_m(u, w) = sum_i u^i w^(m-i) = w H_{m-1} + u^m.
    u = jnp.where(wide, 0.0, lo - mid)
    w = jnp.where(wide, 0.0, hi - mid)
    big_h = jnp.ones_like(u)
    u_pow = jnp.ones_like(u)
    total = 0.5 * big_h
    coef = 0.5
    for n in range(3, _N_TERMS + 1):
        u_pow = u_pow * u
        big_h = w * big_h + u_pow
        coef = -coef / n
        total = total + coef * big_h
    series = jnp.exp(-mid) * total
    return jnp.where(wide, direct, series)


def exp_kernel2(h, a, b, c):
    """``k_2(h; a, b, c)``: the triple convolution of ``e^{-a t}, e^{-b t}, e^{-c t}`` (ms²).

    Symmetric in the rates (1/ms, >= 0); ``k_2(h; a, a, a) = h^2 e^{-a h} / 2``. It is the
    membrane response (times ``C``) to the rise variable of alpha/dual-exponential kinetics.

    Example:
        >>> import neurosim as ns
        >>> round(float(ns.integrators.exp_kernel2(0.1, 0.5, 0.5, 0.5)), 8)
        0.00475615
    """
    h = jnp.asarray(h)
    return h * h * _scaled_k2(h * a, h * b, h * c)
