"""Wilson–Cowan excitatory–inhibitory rate model."""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax

from .._validate import check_nonnegative, check_positive, check_size
from ._base import AbstractRateModel, node_inits, node_integration, node_params

__all__ = ["WilsonCowan"]


def _shifted_sigmoid(x, a, theta):
    """Wilson & Cowan's response function, shifted so that ``S(0) = 0``."""
    return jax.nn.sigmoid(a * (x - theta)) - jax.nn.sigmoid(-a * theta)


class WilsonCowan(AbstractRateModel):
    r"""Wilson–Cowan (1972) model: fractions ``E``, ``I`` of active excitatory/inhibitory cells.

    .. math::
        \tau_e \frac{dE}{dt} &= -E + (k_e - r_e E)\, S_e(c_{ee} E - c_{ei} I + P + c) \\
        \tau_i \frac{dI}{dt} &= -I + (k_i - r_i I)\, S_i(c_{ie} E - c_{ii} I + Q) \\
        S(x) &= \frac{1}{1 + e^{-a(x - \theta)}} - \frac{1}{1 + e^{a\theta}}

    ``c`` is the coupling input (other nodes' ``E``). ``E`` and ``I`` are dimensionless
    (proportions), as are the weights and inputs; ``k`` defaults to ``S(+inf)``
    ``= 1 - 1/(1 + e^{a theta})``, the paper's choice. The defaults are the parameters of
    Wilson & Cowan (1972, *Biophys. J.* 12:1), Fig. 9 (c_ee = 16, c_ei = 12, c_ie = 15,
    c_ii = 3, a_e = 1.3, theta_e = 4, a_i = 2, theta_i = 3.7, r = 1): with ``P = 0.5`` the
    single fixed point (E ~ 0.0063) is stable, with ``P = 1.25`` it is an unstable focus
    surrounded by a limit cycle (E oscillating with peak-to-peak ~0.17). Time constants (the
    paper's unit of time) default to 10 ms.

    Args:
        n: number of nodes.
        tau_e, tau_i: time constants (ms), > 0.
        c_ee, c_ei, c_ie, c_ii: coupling coefficients (E->E, I->E, E->I, I->I), >= 0.
        a_e, a_i: sigmoid slopes, > 0; theta_e, theta_i: sigmoid thresholds.
        r_e, r_i: refractoriness, >= 0.
        k_e, k_i: maximal response (default ``S(+inf)``).
        P, Q: external inputs to E and I.
        init: initial values per variable (numbers or ``ns.init`` objects), default 0.
        integrator, noise: the step's integrator (default Heun) and optional
            :class:`~neurosim.rates.AdditiveNoise` (see :class:`AbstractRateModel`).

    Example:
        >>> import jax, neurosim as ns
        >>> wc = ns.rates.WilsonCowan(1, P=1.25)
        >>> res = ns.rates.simulate(wc, None, 200.0, 0.1, key=jax.random.key(0))
    """

    n: int = eqx.field(static=True)
    tau_e: jax.Array
    tau_i: jax.Array
    c_ee: jax.Array
    c_ei: jax.Array
    c_ie: jax.Array
    c_ii: jax.Array
    a_e: jax.Array
    a_i: jax.Array
    theta_e: jax.Array
    theta_i: jax.Array
    r_e: jax.Array
    r_i: jax.Array
    k_e: jax.Array
    k_i: jax.Array
    P: jax.Array
    Q: jax.Array
    inits: dict
    state_names: ClassVar[tuple[str, ...]] = ("E", "I")

    def __init__(
        self,
        n: int,
        *,
        tau_e=10.0,
        tau_i=10.0,
        c_ee=16.0,
        c_ei=12.0,
        c_ie=15.0,
        c_ii=3.0,
        a_e=1.3,
        a_i=2.0,
        theta_e=4.0,
        theta_i=3.7,
        r_e=1.0,
        r_i=1.0,
        k_e=None,
        k_i=None,
        P=0.0,
        Q=0.0,
        init=None,
        integrator=None,
        noise=None,
    ):
        self.n = check_size("n", n)
        check_positive("tau_e", tau_e, "ms")
        check_positive("tau_i", tau_i, "ms")
        check_positive("a_e", a_e)
        check_positive("a_i", a_i)
        p = node_params(
            n, tau_e=tau_e, tau_i=tau_i, c_ee=c_ee, c_ei=c_ei, c_ie=c_ie, c_ii=c_ii, a_e=a_e,
            a_i=a_i, theta_e=theta_e, theta_i=theta_i, r_e=r_e, r_i=r_i, P=P, Q=Q,
        )  # fmt: skip
        for name in ("c_ee", "c_ei", "c_ie", "c_ii", "r_e", "r_i"):
            check_nonnegative(name, p[name])
        if k_e is None:
            k_e = 1.0 - jax.nn.sigmoid(-p["a_e"] * p["theta_e"])
        if k_i is None:
            k_i = 1.0 - jax.nn.sigmoid(-p["a_i"] * p["theta_i"])
        p.update(node_params(n, k_e=k_e, k_i=k_i))
        for name, val in p.items():
            setattr(self, name, val)
        self.inits = node_inits(self.state_names, {"E": 0.0, "I": 0.0}, init)
        self.integrator, self.noise = node_integration(self, integrator, noise)

    def vector_field(self, state, c):
        E, I = state["E"], state["I"]
        x_e = self.c_ee * E - self.c_ei * I + self.P + c
        x_i = self.c_ie * E - self.c_ii * I + self.Q
        dE = -E + (self.k_e - self.r_e * E) * _shifted_sigmoid(x_e, self.a_e, self.theta_e)
        dI = -I + (self.k_i - self.r_i * I) * _shifted_sigmoid(x_i, self.a_i, self.theta_i)
        return {"E": dE / self.tau_e, "I": dI / self.tau_i}

    def output(self, state):
        return state["E"]
