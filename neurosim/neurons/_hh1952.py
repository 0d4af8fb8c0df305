"""Hodgkin–Huxley (1952) squid giant axon."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from .._init import AbstractInit, as_init
from .._validate import as_param, check_finite, check_nonnegative, check_positive, check_size
from ..integrators import AbstractIntegrator, ExpEuler
from ._base import AbstractNeuron, SynapticDrive, refractory_update
from ._hh import x_over_expm1
from ._spiking import upward_crossing
from ._surrogate import AbstractSurrogate, FastSigmoid

__all__ = ["HodgkinHuxley"]


class HodgkinHuxley(AbstractNeuron):
    r"""Hodgkin–Huxley (1952) model of the squid giant axon membrane.

    .. math::
        C \frac{dv}{dt} = -\bar g_{Na} m^3 h (v - E_{Na}) - \bar g_K n^4 (v - E_K)
            - g_L (v - E_L) + I_{syn}(v) + I_e + I_{ext}

    with ``dx/dt = phi (alpha_x(v) (1 - x) - beta_x(v) x)`` for ``x in (m, h, n)``, in the
    modern sign convention (``v`` in mV, rest -65 mV; rates in 1/ms)::

        alpha_m = 0.1 (v + 40) / (1 - exp(-(v + 40)/10))    beta_m = 4 exp(-(v + 65)/18)
        alpha_h = 0.07 exp(-(v + 65)/20)                   beta_h = 1 / (1 + exp(-(v + 35)/10))
        alpha_n = 0.01 (v + 55) / (1 - exp(-(v + 55)/10))   beta_n = 0.125 exp(-(v + 65)/80)

    and the temperature factor ``phi = 3^((T - 6.3)/10)`` (``Q10 = 3``; HH 1952 measured at
    6.3 °C).

    **Units.** The paper gives densities (µF/cm², mS/cm², µA/cm²). Here parameters are
    absolute (pF, nS) and currents are in pA, like every neuron of the library; the defaults
    are the squid densities for a membrane patch of 100 µm² (= 1e-6 cm²), for which the
    numbers coincide: ``c_m = 1`` pF is 1 µF/cm², ``g_na = 120`` nS is 120 mS/cm², and an
    input of 1 pA is 1 µA/cm². For another area ``A`` (µm²) multiply ``c_m`` and the
    conductances by ``A / 100`` (currents then scale the same way).

    A spike is an upward crossing of ``v_th`` outside the detection dead time ``t_ref``;
    there is no reset. Repetitive firing starts abruptly (class II, Hodgkin 1948): for the
    standard parameters periodic solutions appear at ``I ~ 6.26`` µA/cm² and the rest state
    loses stability through a subcritical Hopf bifurcation at ``I ~ 9.78`` µA/cm²
    (Rinzel & Miller 1980), with a firing rate that jumps from 0 to ~50 Hz.

    References: Hodgkin & Huxley (1952), J. Physiol. 117:500-544; Rinzel & Miller (1980),
    Math. Biosci. 49:27-59; Gerstner et al. (2014), *Neuronal Dynamics*, ch. 2.

    Args:
        n: number of neurons.
        c_m: capacitance (pF). g_na, g_k, g_l: maximal conductances (nS).
        e_na, e_k, e_l: reversal potentials (mV); ``e_l = -54.387`` mV puts rest at -65 mV.
        temperature: °C (rates scaled by ``3^((T - 6.3)/10)``).
        v_th: spike-detection threshold (mV). t_ref: detection dead time (ms).
        i_e: bias current (pA). v_init: initial ``v`` (mV), number or initializer; the gates
            start at their steady state for it.
        integrator: default exponential Euler (as Brian2's ``exponential_euler``).
        surrogate: surrogate derivative of the spike (at ``v - v_th``).

    Example:
        >>> import jax, neurosim as ns
        >>> hh = ns.neurons.HodgkinHuxley(3, i_e=10.0)  # 10 µA/cm² at the default patch size
        >>> s = hh.init(jax.random.key(0), 0.1)
    """

    n: int = eqx.field(static=True)
    c_m: jax.Array
    g_na: jax.Array
    g_k: jax.Array
    g_l: jax.Array
    e_na: jax.Array
    e_k: jax.Array
    e_l: jax.Array
    temperature: jax.Array
    v_th: jax.Array
    t_ref: jax.Array
    i_e: jax.Array
    v_init: AbstractInit
    integrator: AbstractIntegrator
    surrogate: AbstractSurrogate

    def __init__(
        self,
        n: int,
        *,
        c_m=1.0,
        g_na=120.0,
        g_k=36.0,
        g_l=0.3,
        e_na=50.0,
        e_k=-77.0,
        e_l=-54.387,
        temperature=6.3,
        v_th=-20.0,
        t_ref=2.0,
        i_e=0.0,
        v_init=-65.0,
        integrator: AbstractIntegrator | None = None,
        surrogate: AbstractSurrogate | None = None,
    ):
        self.n = check_size("n", n)
        check_positive("c_m", c_m, "pF")
        for name, val in (("g_na", g_na), ("g_k", g_k), ("g_l", g_l)):
            check_nonnegative(name, val, "nS")
        check_nonnegative("t_ref", t_ref, "ms")
        for name, val in (("e_na", e_na), ("e_k", e_k), ("e_l", e_l), ("v_th", v_th)):
            check_finite(name, val)
        check_finite("temperature", temperature)
        check_finite("i_e", i_e)
        p = lambda x, name: as_param(x, n, name)  # noqa: E731
        self.c_m, self.g_na, self.g_k = p(c_m, "c_m"), p(g_na, "g_na"), p(g_k, "g_k")
        self.g_l, self.e_na, self.e_k = p(g_l, "g_l"), p(e_na, "e_na"), p(e_k, "e_k")
        self.e_l, self.temperature = p(e_l, "e_l"), p(temperature, "temperature")
        self.v_th, self.t_ref, self.i_e = p(v_th, "v_th"), p(t_ref, "t_ref"), p(i_e, "i_e")
        self.v_init = as_init(v_init)
        self.integrator = integrator if integrator is not None else ExpEuler()
        self.surrogate = surrogate if surrogate is not None else FastSigmoid()

    def rates(self, v):
        """``(alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n)`` in 1/ms at ``v`` (mV)."""
        phi = 3.0 ** ((self.temperature - 6.3) / 10.0)
        a_m = 0.1 * x_over_expm1(-(v + 40.0), 10.0)
        b_m = 4.0 * jnp.exp(-(v + 65.0) / 18.0)
        a_h = 0.07 * jnp.exp(-(v + 65.0) / 20.0)
        b_h = 1.0 / (1.0 + jnp.exp(-(v + 35.0) / 10.0))
        a_n = 0.01 * x_over_expm1(-(v + 55.0), 10.0)
        b_n = 0.125 * jnp.exp(-(v + 65.0) / 80.0)
        return tuple(phi * r for r in (a_m, b_m, a_h, b_h, a_n, b_n))

    def init(self, key, dt) -> dict:
        v = self.v_init.sample(key, (self.n,))
        a_m, b_m, a_h, b_h, a_n, b_n = self.rates(v)
        return {
            "v": v,
            "m": a_m / (a_m + b_m),
            "h": a_h / (a_h + b_h),
            "n": a_n / (a_n + b_n),
            "refractory": jnp.zeros((self.n,), jnp.int32),
        }

    def vector_field(self, y, drive: SynapticDrive, i_ext):
        v, m, h, n_ = y["v"], y["m"], y["h"], y["n"]
        a_m, b_m, a_h, b_h, a_n, b_n = self.rates(v)
        i_ion = (
            self.g_na * m**3 * h * (v - self.e_na)
            + self.g_k * n_**4 * (v - self.e_k)
            + self.g_l * (v - self.e_l)
        )
        dv = (drive.at(v) + self.i_e + i_ext - i_ion) / self.c_m
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
        spike = upward_crossing(state["v"], y_new["v"], self.v_th, held, self.surrogate)
        counter = refractory_update(state["refractory"], spike, self.t_ref, dt)
        return {**y_new, "refractory": counter}, spike
