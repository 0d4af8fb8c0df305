"""Leaky integrate-and-fire neuron with absolute refractoriness."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from .._init import AbstractInit, as_init
from .._validate import as_param, check_finite, check_nonnegative, check_positive, check_size
from ..integrators import AbstractIntegrator, Exact
from ._base import AbstractLinearNeuron, SynapticDrive, refractory_update, reset_value
from ._surrogate import AbstractSurrogate, FastSigmoid

__all__ = ["LIF"]


class LIF(AbstractLinearNeuron):
    r"""Leaky integrate-and-fire neuron.

    .. math::
        \tau_m \frac{dv}{dt} = (E_L - v) + \frac{I_{syn}(v) + I_e + I_{ext}}{g_L}

    A spike is emitted when ``v >= v_th``; ``v`` is then set to ``v_reset`` and held there for
    ``t_ref`` (Gerstner et al. 2014, *Neuronal Dynamics*, ch. 1; Brette et al. 2007).

    Args:
        n: number of neurons.
        tau_m: membrane time constant (ms), > 0.
        e_l: leak reversal / resting potential (mV).
        v_th: threshold (mV).
        v_reset: reset potential (mV).
        t_ref: absolute refractory period (ms), >= 0.
        g_l: leak conductance (nS), > 0; ``R = 1/g_l`` (GΩ), ``C = tau_m g_l`` (pF).
        i_e: constant bias current (pA).
        v_init: initial membrane potential (mV): a number or an initializer
            (e.g. ``ns.init.Normal(-55.0, 2.0)``).
        integrator: an integrator object. Default :class:`~neurosim.integrators.Exact`: in a
            network, current-based exponential/alpha/dual-exponential receptors are then
            integrated exactly with the membrane (Rotter & Diesmann 1999); conductances are
            held over the step (exponential Euler). ``ExpEuler()`` holds every receptor at its
            start-of-step value (the behaviour before exact integration).
        surrogate: surrogate derivative of the spike nonlinearity.
        detach_reset: if True (default, as recommended by Zenke & Vogels 2021) the reset
            does not carry gradient through the spike.

    Example:
        >>> import jax, neurosim as ns
        >>> lif = ns.neurons.LIF(3, tau_m=20.0, i_e=250.0)
        >>> s = lif.init(jax.random.key(0), 0.1)
        >>> s, spikes = lif.step(s, ns.neurons.SynapticDrive.zeros(3), 0, 0.1, None)
    """

    n: int = eqx.field(static=True)
    tau_m: jax.Array
    e_l: jax.Array
    v_th: jax.Array
    v_reset: jax.Array
    t_ref: jax.Array
    g_l: jax.Array
    i_e: jax.Array
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
        v_init=None,
        integrator: AbstractIntegrator | None = None,
        surrogate: AbstractSurrogate | None = None,
        detach_reset: bool = True,
    ):
        self.n = check_size("n", n)
        check_positive("tau_m", tau_m, "ms")
        check_nonnegative("t_ref", t_ref, "ms")
        check_positive("g_l", g_l, "nS")
        for name, val in (("e_l", e_l), ("v_th", v_th), ("v_reset", v_reset), ("i_e", i_e)):
            check_finite(name, val)
        self.tau_m = as_param(tau_m, n, "tau_m")
        self.e_l = as_param(e_l, n, "e_l")
        self.v_th = as_param(v_th, n, "v_th")
        self.v_reset = as_param(v_reset, n, "v_reset")
        self.t_ref = as_param(t_ref, n, "t_ref")
        self.g_l = as_param(g_l, n, "g_l")
        self.i_e = as_param(i_e, n, "i_e")
        self.v_init = as_init(e_l if v_init is None else v_init)
        self.integrator = integrator if integrator is not None else Exact()
        self.surrogate = surrogate if surrogate is not None else FastSigmoid()
        self.detach_reset = bool(detach_reset)

    def init(self, key, dt) -> dict:
        return {
            "v": self.v_init.sample(key, (self.n,)),
            "refractory": jnp.zeros((self.n,), jnp.int32),
        }

    def exact_membrane(self):
        if isinstance(self.integrator, Exact):
            return self.g_l, self.tau_m * self.g_l
        return None

    def vector_field(self, v, drive: SynapticDrive, i_ext):
        """``dv/dt`` (mV/ms)."""
        i_total = drive.at(v) + self.i_e + i_ext
        return ((self.e_l - v) + i_total / self.g_l) / self.tau_m

    def step(self, state, drive, i, dt, key):
        v = state["v"]
        held = state["refractory"] > 0
        v_new = self.integrator.step(lambda y: self.vector_field(y, drive, 0.0), v, dt)
        v_new = jnp.where(held, v, v_new + drive.jump)
        spike = self.surrogate(v_new - self.v_th) * (~held)
        v_out = reset_value(v_new, spike, self.v_reset, self.detach_reset)
        counter = refractory_update(state["refractory"], spike, self.t_ref, dt)
        return {"v": v_out, "refractory": counter}, spike
