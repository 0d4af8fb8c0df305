"""Phase and amplitude oscillators: Stuart–Landau (Hopf normal form) and Kuramoto."""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from .._init import Uniform
from .._validate import check_size
from ._base import AbstractRateModel, node_inits, node_integration, node_params

__all__ = ["StuartLandau", "Kuramoto"]


class StuartLandau(AbstractRateModel):
    r"""Stuart–Landau oscillator, the normal form of a supercritical Hopf bifurcation.

    With :math:`z = x + i y`:

    .. math::
        \frac{dz}{dt} = (a + i\omega) z - |z|^2 z + c

    i.e. :math:`\dot x = (a - x^2 - y^2) x - \omega y + c_x`,
    :math:`\dot y = (a - x^2 - y^2) y + \omega x + c_y`. In polar form
    :math:`\dot r = a r - r^3`, :math:`\dot\theta = \omega`: for ``a > 0`` a stable limit cycle
    of amplitude ``sqrt(a)`` at angular frequency ``omega`` (frequency
    ``1000 omega / (2 pi)`` Hz); for ``a < 0`` a stable focus, small oscillations decaying as
    ``exp(a t)``. Units: time in ms, ``a`` and ``omega`` in 1/ms (rad/ms); ``x, y`` are
    dimensionless (the cubic coefficient is 1/ms). A node sends ``(x, y)`` (output shape
    ``(n, 2)``), as in whole-brain Hopf models with diffusive coupling (Deco et al. 2017,
    *Sci. Rep.* 7:3095; use :class:`DifferenceCoupling`). Kuznetsov (2004), *Elements of
    Applied Bifurcation Theory*, §3.4.

    Args:
        n: number of nodes.
        a: bifurcation parameter (1/ms).
        omega: angular frequency (rad/ms).
        init: initial values per variable, default uniform in [-0.5, 0.5).
        integrator, noise: the step's integrator (default Heun) and optional
            :class:`~neurosim.rates.AdditiveNoise` (see :class:`AbstractRateModel`).

    Example:
        >>> import jax, neurosim as ns
        >>> hopf = ns.rates.StuartLandau(1, a=0.01, omega=2 * 3.14159 * 0.010)  # 10 Hz
        >>> res = ns.rates.simulate(hopf, None, 1000.0, 0.1, key=jax.random.key(0))
    """

    n: int = eqx.field(static=True)
    a: jax.Array
    omega: jax.Array
    inits: dict
    state_names: ClassVar[tuple[str, ...]] = ("x", "y")

    def __init__(
        self, n: int, *, a=0.0, omega=2 * jnp.pi * 0.01, init=None, integrator=None, noise=None
    ):
        self.n = check_size("n", n)
        par = node_params(n, a=a, omega=omega)
        self.a, self.omega = par["a"], par["omega"]
        u = Uniform(-0.5, 0.5)
        self.inits = node_inits(self.state_names, {"x": u, "y": u}, init)
        self.integrator, self.noise = node_integration(self, integrator, noise)

    def vector_field(self, state, c):
        x, y = state["x"], state["y"]
        g = self.a - x * x - y * y
        return {"x": g * x - self.omega * y + c[:, 0], "y": g * y + self.omega * x + c[:, 1]}

    def output(self, state):
        return jnp.stack([state["x"], state["y"]], axis=-1)


class Kuramoto(AbstractRateModel):
    r"""Kuramoto phase oscillators: :math:`\dot\theta_i = \omega_i + c_i`.

    With :class:`KuramotoCoupling`,
    :math:`c_i = G \sum_j W_{ij} \sin(\theta_j(t - d_{ij}) - \theta_i(t))`; the classic model
    (all-to-all, ``W = 1/N``, ``G = K``) synchronises for ``K`` above
    :math:`K_c = 2 / (\pi g(0))`, ``g`` the density of the natural frequencies (Kuramoto 1975;
    Strogatz 2000, *Physica D* 143:1). Phases (rad) are not wrapped (use
    ``ns.analysis.kuramoto_order``). Units: ``omega`` in rad/ms.

    Args:
        n: number of oscillators.
        omega: natural angular frequencies (rad/ms).
        init: initial phases, default uniform in [0, 2 pi).
        integrator, noise: the step's integrator (default Heun) and optional
            :class:`~neurosim.rates.AdditiveNoise` (see :class:`AbstractRateModel`).

    Example:
        >>> import jax, numpy as np, neurosim as ns
        >>> osc = ns.rates.Kuramoto(50, omega=0.01 * np.random.default_rng(0).standard_normal(50))
        >>> cpl = ns.rates.KuramotoCoupling(np.ones((50, 50)) / 50, G=0.05)
        >>> res = ns.rates.simulate(osc, cpl, 500.0, 0.5, key=jax.random.key(0))
    """

    n: int = eqx.field(static=True)
    omega: jax.Array
    inits: dict
    state_names: ClassVar[tuple[str, ...]] = ("theta",)

    def __init__(self, n: int, *, omega=0.0, init=None, integrator=None, noise=None):
        self.n = check_size("n", n)
        self.omega = node_params(n, omega=omega)["omega"]
        self.inits = node_inits(self.state_names, {"theta": Uniform(0.0, 2 * jnp.pi)}, init)
        self.integrator, self.noise = node_integration(self, integrator, noise)

    def vector_field(self, state, c):
        return {"theta": self.omega + c}

    def output(self, state):
        return state["theta"]
