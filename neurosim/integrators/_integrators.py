"""Fixed-step ODE integrators as objects.

An integrator advances ``dy/dt = f(y)`` over one step ``dt`` (ms), where ``y`` is a pytree of
arrays and ``f`` a pure function returning a pytree of the same structure. Inputs that are held
constant over the step (synaptic drive, external current) are closed over by ``f``.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

__all__ = ["AbstractIntegrator", "Euler", "Heun", "RK4", "ExpEuler", "Exact"]

VectorField = Callable[[object], object]


def _axpy(a, x, y):
    """``y + a * x`` over pytrees."""
    return jax.tree.map(lambda xi, yi: yi + a * xi, x, y)


class AbstractIntegrator(eqx.Module):
    """Base class: ``step(f, y, dt) -> y_next``."""

    order: eqx.AbstractClassVar[int]

    @abc.abstractmethod
    def step(self, f: VectorField, y, dt):
        """``y`` advanced by ``dt`` under ``dy/dt = f(y)``."""


class Euler(AbstractIntegrator):
    """Forward Euler, order 1: ``y + dt f(y)``."""

    order: ClassVar[int] = 1

    def step(self, f, y, dt):
        return _axpy(dt, f(y), y)


class Heun(AbstractIntegrator):
    """Heun's method (explicit trapezoid, RK2), order 2."""

    order: ClassVar[int] = 2

    def step(self, f, y, dt):
        k1 = f(y)
        k2 = f(_axpy(dt, k1, y))
        return jax.tree.map(lambda yi, a, b: yi + 0.5 * dt * (a + b), y, k1, k2)


class RK4(AbstractIntegrator):
    """Classical fourth-order Runge–Kutta, order 4."""

    order: ClassVar[int] = 4

    def step(self, f, y, dt):
        k1 = f(y)
        k2 = f(_axpy(0.5 * dt, k1, y))
        k3 = f(_axpy(0.5 * dt, k2, y))
        k4 = f(_axpy(dt, k3, y))
        return jax.tree.map(
            lambda yi, a, b, c, d: yi + (dt / 6.0) * (a + 2.0 * b + 2.0 * c + d), y, k1, k2, k3, k4
        )


def _phi1(z):
    """``(exp(z) - 1) / z``, stable at ``z = 0``.

    float32: a degree-6 Taylor polynomial below ``|z| = 0.1`` (truncation < 3e-12, far below
    float32 rounding) and ``(exp(z) - 1) / z`` above (cancellation < 1e-6 relative). ``exp``
    is several times cheaper than ``expm1`` on XLA's CPU backend, and in a network step
    ``|z| = dt / tau_eff`` is almost always small. Other dtypes use ``expm1`` (full precision).
    """
    if z.dtype == jnp.float32:
        small = jnp.abs(z) < 0.1
        series = 1.0 + z * (
            1 / 2 + z * (1 / 6 + z * (1 / 24 + z * (1 / 120 + z * (1 / 720 + z / 5040))))
        )
        z_safe = jnp.where(small, 1.0, z)
        return jnp.where(small, series, (jnp.exp(z_safe) - 1.0) / z_safe)
    small = jnp.abs(z) < 1e-4
    z_safe = jnp.where(small, 1.0, z)
    return jnp.where(small, 1.0 + 0.5 * z + z * z / 6.0, jnp.expm1(z_safe) / z_safe)


def _diagonal_rate(f, y):
    """Per-element ``a = d f_k / d y_k`` for every leaf ``k`` (elementwise systems).

    Each leaf is perturbed on its own with a tangent of ones, so cross-terms between
    variables (``dm/dt`` depending on ``v``) are excluded. Valid when element ``j`` of a leaf
    depends on element ``j`` of that leaf only, which holds for per-neuron dynamics.
    """
    leaves, treedef = jax.tree.flatten(y)
    rates = []
    for k, leaf in enumerate(leaves):

        def f_k(x, k=k):
            ls = list(leaves)
            ls[k] = x
            return jax.tree.leaves(f(jax.tree.unflatten(treedef, ls)))[k]

        _, a_k = jax.jvp(f_k, (leaf,), (jnp.ones_like(leaf),))
        rates.append(a_k)
    return jax.tree.unflatten(treedef, rates)


class ExpEuler(AbstractIntegrator):
    """Exponential Euler for conditionally linear systems, order 1.

    Each variable is treated as linear in itself, ``dy/dt = a(y) y + b(y)``, with ``a`` and
    ``b`` frozen at the start of the step: ``y + dt * phi1(a dt) * f(y)`` with
    ``phi1(z) = (e^z - 1)/z``. Exact for linear equations with constant drive (an LIF
    between events, exponential synapses) and unconditionally stable for gating variables
    (Hodgkin–Huxley), like Brian2's ``exponential_euler``. ``a`` is obtained by automatic
    differentiation of ``f``, so models need not provide it.
    """

    order: ClassVar[int] = 1

    def step(self, f, y, dt):
        dy = f(y)
        a = _diagonal_rate(f, y)
        return jax.tree.map(lambda yi, ai, di: yi + dt * _phi1(ai * dt) * di, y, a, dy)


class Exact(ExpEuler):
    """Exact integration of linear subthreshold dynamics (Rotter & Diesmann 1999).

    On its own (a vector field with its input held over the step) this is the
    exponential-Euler update, exact for ``dy/dt = a y + b`` with constant ``a, b``. Its
    purpose is the pair *linear membrane + linear current kinetics*: a neuron that declares a
    linear membrane (:class:`neurosim.neurons.AbstractLinearNeuron`, e.g. ``LIF``) and uses
    ``Exact`` (the LIF default) is driven by the network with each current-based receptor's
    *membrane average* over the step
    (:meth:`neurosim.synapses.AbstractLinearKinetics.membrane_average`) instead of its value
    at the start of the step, which makes the membrane step the exact propagator of the
    LIF + exponential / alpha / dual-exponential current system (no ``dt/tau_s`` bias; see
    :mod:`neurosim.integrators._propagators`). Conductance-based receptors are held at their
    start-of-step value (exponential Euler with a frozen conductance: first order in ``dt``,
    measured in ``docs/integration.md``). Pass :class:`ExpEuler` to hold every receptor
    (neurosim's behaviour before exact integration). For non-linear ``f`` it reduces to
    exponential Euler.

    Example:
        >>> import neurosim as ns
        >>> lif = ns.neurons.LIF(10, integrator=ns.integrators.Exact())  # the default
    """
