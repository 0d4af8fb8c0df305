"""Traub–Miles Hodgkin–Huxley neuron (the COBAHH benchmark model)."""

from __future__ import annotations

from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp

from .._init import AbstractInit, as_init
from .._validate import (
    as_param,
    check_finite,
    check_literal,
    check_nonnegative,
    check_positive,
    check_size,
)
from ..integrators import AbstractIntegrator, ExpEuler
from ._base import AbstractNeuron, SynapticDrive, refractory_update
from ._surrogate import AbstractSurrogate, FastSigmoid

__all__ = ["TraubMiles", "x_over_expm1"]

GatesInit = Literal["steady_state", "zero"]


def x_over_expm1(x, k):
    """``x / (exp(x/k) - 1)``, continuous (value ``k``) and differentiable at ``x = 0``."""
    z = x / k
    small = jnp.abs(z) < 1e-4
    z_safe = jnp.where(small, 1.0, z)
    return jnp.where(small, k * (1.0 - 0.5 * z), x / jnp.expm1(z_safe))


class TraubMiles(AbstractNeuron):
    r"""Hodgkin–Huxley neuron with Traub & Miles (1991) kinetics, as in Brette et al. 2007 (COBAHH).

    .. math::
        C \frac{dv}{dt} = g_L (E_L - v) - \bar g_{Na} m^3 h (v - E_{Na})
            - \bar g_K n^4 (v - E_K) + I_{syn}(v) + I_e + I_{ext}

    with ``dx/dt = alpha_x(v) (1 - x) - beta_x(v) x`` for ``x in (m, h, n)`` and (ms⁻¹, mV,
    ``u = v - v_t``)::

        alpha_m = 0.32 (13 - u) / (exp((13 - u)/4) - 1)
        beta_m  = 0.28 (u - 40) / (exp((u - 40)/5) - 1)
        alpha_h = 0.128 exp((17 - u)/18)                   beta_h = 4 / (1 + exp((40 - u)/5))
        alpha_n = 0.032 (15 - u) / (exp((15 - u)/5) - 1)   beta_n = 0.5 exp((10 - u)/40)

    A spike is an upward crossing of ``v_th`` outside the refractory period; there is no
    reset. Defaults are the COBAHH values (area 20,000 µm²).

    Args:
        n: number of neurons.
        c_m: membrane capacitance (pF). g_l, g_na, g_k: conductances (nS).
        e_l, e_na, e_k: reversal potentials (mV). v_t: kinetics offset (mV).
        v_th: spike-detection threshold (mV). t_ref: refractory period for detection (ms).
        i_e: bias current (pA). v_init: initial ``v`` (mV), number or initializer.
        gates_init: ``"steady_state"`` (gates at their steady state for the initial ``v``) or
            ``"zero"`` (``m = h = n = 0``, as Brian2's COBAHH example leaves them).
        integrator: default exponential Euler (stable at dt = 0.1 ms).
    """

    n: int = eqx.field(static=True)
    c_m: jax.Array
    g_l: jax.Array
    g_na: jax.Array
    g_k: jax.Array
    e_l: jax.Array
    e_na: jax.Array
    e_k: jax.Array
    v_t: jax.Array
    v_th: jax.Array
    t_ref: jax.Array
    i_e: jax.Array
    v_init: AbstractInit
    gates_init: GatesInit = eqx.field(static=True)
    integrator: AbstractIntegrator
    surrogate: AbstractSurrogate

    def __init__(
        self,
        n: int,
        *,
        c_m=200.0,
        g_l=10.0,
        g_na=20000.0,
        g_k=6000.0,
        e_l=-60.0,
        e_na=50.0,
        e_k=-90.0,
        v_t=-63.0,
        v_th=-20.0,
        t_ref=3.0,
        i_e=0.0,
        v_init=None,
        gates_init: GatesInit = "steady_state",
        integrator: AbstractIntegrator | None = None,
        surrogate: AbstractSurrogate | None = None,
    ):
        self.n = check_size("n", n)
        check_positive("c_m", c_m, "pF")
        for name, val in (("g_l", g_l), ("g_na", g_na), ("g_k", g_k)):
            check_nonnegative(name, val, "nS")
        check_nonnegative("t_ref", t_ref, "ms")
        for name, val in (("e_l", e_l), ("e_na", e_na), ("e_k", e_k), ("v_t", v_t), ("i_e", i_e)):
            check_finite(name, val)
        check_literal("gates_init", gates_init, GatesInit)
        p = lambda x, name: as_param(x, n, name)  # noqa: E731
        self.c_m, self.g_l, self.g_na, self.g_k = (
            p(c_m, "c_m"),
            p(g_l, "g_l"),
            p(g_na, "g_na"),
            p(g_k, "g_k"),
        )
        self.e_l, self.e_na, self.e_k = p(e_l, "e_l"), p(e_na, "e_na"), p(e_k, "e_k")
        self.v_t, self.v_th, self.t_ref, self.i_e = (
            p(v_t, "v_t"),
            p(v_th, "v_th"),
            p(t_ref, "t_ref"),
            p(i_e, "i_e"),
        )
        self.v_init = as_init(e_l if v_init is None else v_init)
        self.gates_init = gates_init
        self.integrator = integrator if integrator is not None else ExpEuler()
        self.surrogate = surrogate if surrogate is not None else FastSigmoid()

    def rates(self, v):
        """``(alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n)`` in ms⁻¹ at ``v`` (mV)."""
        u = v - self.v_t
        a_m = 0.32 * x_over_expm1(13.0 - u, 4.0)
        b_m = 0.28 * x_over_expm1(u - 40.0, 5.0)
        a_h = 0.128 * jnp.exp((17.0 - u) / 18.0)
        b_h = 4.0 / (1.0 + jnp.exp((40.0 - u) / 5.0))
        a_n = 0.032 * x_over_expm1(15.0 - u, 5.0)
        b_n = 0.5 * jnp.exp((10.0 - u) / 40.0)
        return a_m, b_m, a_h, b_h, a_n, b_n

    def init(self, key, dt) -> dict:
        v = self.v_init.sample(key, (self.n,))
        if self.gates_init == "zero":
            m = h = n_ = jnp.zeros_like(v)
        else:
            a_m, b_m, a_h, b_h, a_n, b_n = self.rates(v)
            m, h, n_ = a_m / (a_m + b_m), a_h / (a_h + b_h), a_n / (a_n + b_n)
        return {"v": v, "m": m, "h": h, "n": n_, "refractory": jnp.zeros((self.n,), jnp.int32)}

    def vector_field(self, y, drive: SynapticDrive, i_ext):
        v, m, h, n_ = y["v"], y["m"], y["h"], y["n"]
        a_m, b_m, a_h, b_h, a_n, b_n = self.rates(v)
        i_ion = self.g_na * m**3 * h * (v - self.e_na) + self.g_k * n_**4 * (v - self.e_k)
        dv = (self.g_l * (self.e_l - v) - i_ion + drive.at(v) + self.i_e + i_ext) / self.c_m
        return {
            "v": dv,
            "m": a_m * (1.0 - m) - b_m * m,
            "h": a_h * (1.0 - h) - b_h * h,
            "n": a_n * (1.0 - n_) - b_n * n_,
        }

    def step(self, state, drive, i, dt, key):
        y = {k: state[k] for k in ("v", "m", "h", "n")}
        y_new = self.integrator.step(lambda z: self.vector_field(z, drive, 0.0), y, dt)
        y_new = {**y_new, "v": y_new["v"] + drive.jump}
        held = state["refractory"] > 0
        crossed = (state["v"] < self.v_th) & ~held
        spike = self.surrogate(y_new["v"] - self.v_th) * crossed
        counter = refractory_update(state["refractory"], spike, self.t_ref, dt)
        return {**y_new, "refractory": counter}, spike
