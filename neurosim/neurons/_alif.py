"""Adaptive-threshold leaky integrate-and-fire neuron (ALIF; Bellec et al. 2018, 2020)."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from .._init import AbstractInit, as_init
from .._validate import as_param, check_finite, check_nonnegative, check_positive, check_size
from ..integrators import AbstractIntegrator, ExpEuler
from ._base import AbstractNeuron, SynapticDrive, refractory_update, reset_value
from ._surrogate import AbstractSurrogate, FastSigmoid

__all__ = ["ALIF"]


class ALIF(AbstractNeuron):
    r"""LIF neuron with a spike-triggered adaptive threshold.

    .. math::
        \tau_m \frac{dv}{dt} = (E_L - v) + \frac{I_{syn}(v) + I_e + I_{ext}}{g_L}, \qquad
        \frac{da}{dt} = -\frac{a}{\tau_a} + \sum_k \delta(t - t_k)

    A spike is emitted when ``v >= v_th + beta a``; ``v`` is then reset to ``v_reset`` and held
    for ``t_ref``, and ``a`` (dimensionless) jumps by 1. This is the adaptive neuron of the
    long short-term memory spiking networks (LSNN) of Bellec et al. 2018 (*NeurIPS*) and of
    e-prop (Bellec et al. 2020, *Nat. Commun.* 11:3625), with ``a`` decaying exactly
    (``a <- a exp(-dt/tau_a)``) and the threshold tested with the decayed ``a``. With
    ``beta = 0`` it is the :class:`LIF`.

    Args:
        n: number of neurons.
        tau_m: membrane time constant (ms), > 0.
        e_l: resting potential (mV).
        v_th: baseline threshold (mV).
        v_reset: reset potential (mV).
        t_ref: absolute refractory period (ms), >= 0.
        g_l: leak conductance (nS), > 0.
        i_e: constant bias current (pA).
        beta: threshold increase per unit of adaptation (mV), >= 0.
        tau_a: adaptation time constant (ms), > 0 (Bellec et al. use 200-2000 ms).
        v_init: initial membrane potential (mV) or an initializer.
        integrator: integrator for ``v`` (default exponential Euler).
        surrogate: surrogate derivative of the spike nonlinearity.
        detach_reset: the reset carries no gradient (default True, as in :class:`LIF`).

    Example:
        >>> import jax, neurosim as ns
        >>> alif = ns.neurons.ALIF(3, tau_m=20.0, i_e=250.0, beta=2.0, tau_a=200.0)
        >>> s = alif.init_state(jax.random.key(0))
        >>> s, spikes = alif.step(s, ns.neurons.SynapticDrive.zeros(3), 0.0, 0.1, None)
    """

    n: int = eqx.field(static=True)
    tau_m: jax.Array
    e_l: jax.Array
    v_th: jax.Array
    v_reset: jax.Array
    t_ref: jax.Array
    g_l: jax.Array
    i_e: jax.Array
    beta: jax.Array
    tau_a: jax.Array
    v_init: AbstractInit
    integrator: AbstractIntegrator
    surrogate: AbstractSurrogate
    detach_reset: bool = eqx.field(static=True)

    def __init__(
        self,
        n: int,
        *,
        tau_m=20.0,
        e_l=-65.0,
        v_th=-50.0,
        v_reset=-65.0,
        t_ref=2.0,
        g_l=10.0,
        i_e=0.0,
        beta=1.8,
        tau_a=200.0,
        v_init=None,
        integrator: AbstractIntegrator | None = None,
        surrogate: AbstractSurrogate | None = None,
        detach_reset: bool = True,
    ):
        self.n = check_size("n", n)
        check_positive("tau_m", tau_m, "ms")
        check_nonnegative("t_ref", t_ref, "ms")
        check_positive("g_l", g_l, "nS")
        check_nonnegative("beta", beta, "mV")
        check_positive("tau_a", tau_a, "ms")
        for name, val in (("e_l", e_l), ("v_th", v_th), ("v_reset", v_reset), ("i_e", i_e)):
            check_finite(name, val)
        self.tau_m = as_param(tau_m, n, "tau_m")
        self.e_l = as_param(e_l, n, "e_l")
        self.v_th = as_param(v_th, n, "v_th")
        self.v_reset = as_param(v_reset, n, "v_reset")
        self.t_ref = as_param(t_ref, n, "t_ref")
        self.g_l = as_param(g_l, n, "g_l")
        self.i_e = as_param(i_e, n, "i_e")
        self.beta = as_param(beta, n, "beta")
        self.tau_a = as_param(tau_a, n, "tau_a")
        self.v_init = as_init(e_l if v_init is None else v_init)
        self.integrator = integrator if integrator is not None else ExpEuler()
        self.surrogate = surrogate if surrogate is not None else FastSigmoid()
        self.detach_reset = bool(detach_reset)

    def init_state(self, key) -> dict:
        return {
            "v": self.v_init.sample(key, (self.n,)),
            "a": jnp.zeros((self.n,), self.tau_a.dtype),
            "refractory": jnp.zeros((self.n,), jnp.int32),
        }

    def vector_field(self, v, drive: SynapticDrive, i_ext):
        """``dv/dt`` (mV/ms)."""
        i_total = drive.at(v) + self.i_e + i_ext
        return ((self.e_l - v) + i_total / self.g_l) / self.tau_m

    def threshold(self, a):
        """Effective threshold ``v_th + beta a`` (mV)."""
        return self.v_th + self.beta * a

    def step(self, state, drive, i_ext, dt, key):
        v = state["v"]
        held = state["refractory"] > 0
        v_new = self.integrator.step(lambda y: self.vector_field(y, drive, i_ext), v, dt)
        v_new = jnp.where(held, v, v_new + drive.jump)
        a = state["a"] * jnp.exp(-dt / self.tau_a)
        spike = self.surrogate(v_new - self.threshold(a)) * (~held)
        v_out = reset_value(v_new, spike, self.v_reset, self.detach_reset)
        counter = refractory_update(state["refractory"], spike, self.t_ref, dt)
        return {"v": v_out, "a": a + spike, "refractory": counter}, spike
