"""Reduced Wong–Wang mean-field models: one population (Deco 2013) and E–I (Deco 2014)."""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from .._validate import check, check_nonnegative, check_positive, check_size
from ._base import AbstractRateModel, node_inits, node_integration, node_params, wong_wang_rate

__all__ = ["ReducedWongWang", "ReducedWongWangEI"]


def _clip01(state):
    return {k: jnp.clip(v, 0.0, 1.0) for k, v in state.items()}


class ReducedWongWang(AbstractRateModel):
    r"""Reduced Wong–Wang model, one excitatory population per node (NMDA gating ``S``).

    .. math::
        x &= w J_N S + I_o + J_N c \\
        H(x) &= \frac{a x - b}{1 - e^{-d (a x - b)}} \\
        \frac{dS}{dt} &= -\frac{S}{\tau_S} + (1 - S)\, \gamma H(x)

    ``c`` is the coupling input (other nodes' ``S``, weighted by the connectome and ``G``).
    Units: currents nA, ``H`` in Hz, ``a`` Hz/nA, ``b`` Hz, ``d`` and ``tau_s`` ms; ``gamma``
    is dimensionless and ``gamma H`` is converted to 1/ms (``S`` is in [0, 1] and kept there).
    From Wong & Wang (2006, *J. Neurosci.* 26:1314) as reduced by Deco et al. (2013,
    *J. Neurosci.* 33:11239). Defaults are those of The Virtual Brain (a = 270 Hz/nA,
    b = 108 Hz, d = 154 ms, gamma = 0.641, tau_s = 100 ms, J_N = 0.2609 nA, w = 0.6,
    I_o = 0.33 nA); Deco et al. (2013) used w = 0.9 and I_o = 0.3 nA.

    Args:
        n: number of nodes.
        a: gain (Hz/nA), > 0; b: threshold (Hz); d: curvature (ms), > 0.
        gamma: kinetic parameter (dimensionless), >= 0.
        tau_s: NMDA decay time constant (ms), > 0.
        w: local excitatory recurrence, >= 0.
        J_N: synaptic coupling (nA), >= 0.
        I_o: external input current (nA).
        init: initial ``S`` (number or ``ns.init`` object), default 0.1.
        integrator, noise: the step's integrator (default Heun) and optional
            :class:`~neurosim.rates.AdditiveNoise` (see :class:`AbstractRateModel`).

    Example:
        >>> import jax, neurosim as ns
        >>> ww = ns.rates.ReducedWongWang(2)
        >>> res = ns.rates.simulate(ww, None, 500.0, 0.1, key=jax.random.key(0))
    """

    n: int = eqx.field(static=True)
    a: jax.Array
    b: jax.Array
    d: jax.Array
    gamma: jax.Array
    tau_s: jax.Array
    w: jax.Array
    J_N: jax.Array
    I_o: jax.Array
    inits: dict
    state_names: ClassVar[tuple[str, ...]] = ("S",)

    def __init__(
        self,
        n: int,
        *,
        a=270.0,
        b=108.0,
        d=154.0,
        gamma=0.641,
        tau_s=100.0,
        w=0.6,
        J_N=0.2609,
        I_o=0.33,
        init=None,
        integrator=None,
        noise=None,
    ):
        self.n = check_size("n", n)
        check_positive("a", a, "Hz/nA")
        check_positive("d", d, "ms")
        check_positive("tau_s", tau_s, "ms")
        for name, val in (("gamma", gamma), ("w", w), ("J_N", J_N)):
            check_nonnegative(name, val)
        par = node_params(n, a=a, b=b, d=d, gamma=gamma, tau_s=tau_s, w=w, J_N=J_N, I_o=I_o)
        for name, val in par.items():
            setattr(self, name, val)
        self.inits = node_inits(self.state_names, {"S": 0.1}, init)
        self.integrator, self.noise = node_integration(self, integrator, noise)

    def current(self, state, c=0.0):
        """Total input current ``x`` (nA)."""
        return self.w * self.J_N * state["S"] + self.I_o + self.J_N * c

    def vector_field(self, state, c):
        S = state["S"]
        H = wong_wang_rate(self.current(state, c), self.a, self.b, self.d)
        return {"S": -S / self.tau_s + (1.0 - S) * self.gamma * H * 1e-3}

    def output(self, state):
        return state["S"]

    def observables(self, state, c):
        """``r``: firing rate ``H(x)`` (Hz)."""
        return {"r": wong_wang_rate(self.current(state, c), self.a, self.b, self.d)}

    def bound(self, state):
        return _clip01(state)


class ReducedWongWangEI(AbstractRateModel):
    r"""Reduced Wong–Wang model with excitatory and inhibitory pools (Deco et al. 2014).

    .. math::
        I_E &= W_E I_o + w_+ J_N S_E - J_i S_I + J_N c + I_{ext} \\
        I_I &= W_I I_o + J_N S_E - S_I + \lambda J_N c \\
        r_E &= H_E(I_E), \quad r_I = H_I(I_I), \quad
        H(x) = \frac{a x - b}{1 - e^{-d (a x - b)}} \\
        \frac{dS_E}{dt} &= -\frac{S_E}{\tau_E} + (1 - S_E)\, \gamma_E r_E \\
        \frac{dS_I}{dt} &= -\frac{S_I}{\tau_I} + \gamma_I r_I

    ``c`` is the coupling input (other nodes' ``S_E``, weighted by the connectome and ``G``).
    Units: currents nA, rates Hz, ``a`` Hz/nA, ``b`` Hz, ``d`` and ``tau`` ms; the gammas are
    dimensionless, ``gamma r`` converted to 1/ms. Deco et al. (2014, *J. Neurosci.*
    34:7886); defaults are The Virtual Brain's (``ReducedWongWangExcInh``): a_e = 310,
    b_e = 125, d_e = 160, gamma_e = 0.641, tau_e = 100; a_i = 615, b_i = 177, d_i = 87,
    gamma_i = 1, tau_i = 10; w_p = 1.4, J_N = 0.15 nA, J_i = 1 nA, W_e = 1, W_i = 0.7,
    I_o = 0.382 nA, lambda = 0. Uncoupled, these settle at S_E ~ 0.1648, S_I ~ 0.0392
    (r_E ~ 3.08 Hz).

    Args:
        n: number of nodes.
        a_e, b_e, d_e, a_i, b_i, d_i: transfer functions (Hz/nA, Hz, ms); a, d > 0.
        gamma_e, gamma_i: kinetic parameters (dimensionless), >= 0.
        tau_e, tau_i: NMDA / GABA decay time constants (ms), > 0.
        w_p: local excitatory recurrence, >= 0.
        J_N: NMDA coupling (nA), >= 0; J_i: local inhibitory coupling (nA), >= 0.
        W_e, W_i: scaling of the external current for E and I, >= 0.
        I_o: external input current (nA); I_ext: extra current to E (nA), e.g. a stimulus.
        lamda: fraction of long-range input onto the inhibitory pool, in [0, 1].
        init: initial values per variable, default ``S_e = 0.1, S_i = 0.1``.
        integrator, noise: the step's integrator (default Heun) and optional
            :class:`~neurosim.rates.AdditiveNoise` (see :class:`AbstractRateModel`).

    Example:
        >>> import jax, neurosim as ns
        >>> ww = ns.rates.ReducedWongWangEI(1)
        >>> res = ns.rates.simulate(ww, None, 2000.0, 0.1, key=jax.random.key(0))
        >>> round(float(res.traces["nodes.S_e"][-1, 0]), 3)
        0.165
    """

    n: int = eqx.field(static=True)
    a_e: jax.Array
    b_e: jax.Array
    d_e: jax.Array
    gamma_e: jax.Array
    tau_e: jax.Array
    a_i: jax.Array
    b_i: jax.Array
    d_i: jax.Array
    gamma_i: jax.Array
    tau_i: jax.Array
    w_p: jax.Array
    J_N: jax.Array
    J_i: jax.Array
    W_e: jax.Array
    W_i: jax.Array
    I_o: jax.Array
    I_ext: jax.Array
    lamda: jax.Array
    inits: dict
    state_names: ClassVar[tuple[str, ...]] = ("S_e", "S_i")

    def __init__(
        self,
        n: int,
        *,
        a_e=310.0,
        b_e=125.0,
        d_e=160.0,
        gamma_e=0.641,
        tau_e=100.0,
        a_i=615.0,
        b_i=177.0,
        d_i=87.0,
        gamma_i=1.0,
        tau_i=10.0,
        w_p=1.4,
        J_N=0.15,
        J_i=1.0,
        W_e=1.0,
        W_i=0.7,
        I_o=0.382,
        I_ext=0.0,
        lamda=0.0,
        init=None,
        integrator=None,
        noise=None,
    ):
        self.n = check_size("n", n)
        for name, val, unit in (("a_e", a_e, "Hz/nA"), ("a_i", a_i, "Hz/nA"), ("d_e", d_e, "ms"),
                                ("d_i", d_i, "ms"), ("tau_e", tau_e, "ms"),
                                ("tau_i", tau_i, "ms")):  # fmt: skip
            check_positive(name, val, unit)
        for name, val in (("gamma_e", gamma_e), ("gamma_i", gamma_i), ("w_p", w_p),
                          ("J_N", J_N), ("J_i", J_i), ("W_e", W_e), ("W_i", W_i)):  # fmt: skip
            check_nonnegative(name, val)
        check(lambda x: (x >= 0) & (x <= 1), "lamda", lamda, "must lie in [0, 1]")
        par = node_params(
            n, a_e=a_e, b_e=b_e, d_e=d_e, gamma_e=gamma_e, tau_e=tau_e, a_i=a_i, b_i=b_i,
            d_i=d_i, gamma_i=gamma_i, tau_i=tau_i, w_p=w_p, J_N=J_N, J_i=J_i, W_e=W_e,
            W_i=W_i, I_o=I_o, I_ext=I_ext, lamda=lamda,
        )  # fmt: skip
        for name, val in par.items():
            setattr(self, name, val)
        self.inits = node_inits(self.state_names, {"S_e": 0.1, "S_i": 0.1}, init)
        self.integrator, self.noise = node_integration(self, integrator, noise)

    def currents(self, state, c=0.0):
        """Input currents ``(I_E, I_I)`` (nA)."""
        S_e, S_i = state["S_e"], state["S_i"]
        long_range = self.J_N * c
        I_E = self.W_e * self.I_o + self.w_p * self.J_N * S_e - self.J_i * S_i + self.I_ext
        I_I = self.W_i * self.I_o + self.J_N * S_e - S_i
        return I_E + long_range, I_I + self.lamda * long_range

    def rates(self, state, c=0.0):
        """Firing rates ``(r_E, r_I)`` (Hz)."""
        I_E, I_I = self.currents(state, c)
        return (
            wong_wang_rate(I_E, self.a_e, self.b_e, self.d_e),
            wong_wang_rate(I_I, self.a_i, self.b_i, self.d_i),
        )

    def vector_field(self, state, c):
        S_e, S_i = state["S_e"], state["S_i"]
        r_e, r_i = self.rates(state, c)
        return {
            "S_e": -S_e / self.tau_e + (1.0 - S_e) * self.gamma_e * r_e * 1e-3,
            "S_i": -S_i / self.tau_i + self.gamma_i * r_i * 1e-3,
        }

    def output(self, state):
        return state["S_e"]

    def observables(self, state, c):
        """``r_e``, ``r_i``: firing rates (Hz)."""
        r_e, r_i = self.rates(state, c)
        return {"r_e": r_e, "r_i": r_i}

    def bound(self, state):
        return _clip01(state)
