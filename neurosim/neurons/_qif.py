"""Quadratic integrate-and-fire neuron (theta-neuron normal form)."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from .._init import AbstractInit, as_init
from .._validate import (
    as_param,
    check_finite,
    check_nonnegative,
    check_positive,
    check_size,
    reject_renamed,
)
from ..integrators import AbstractIntegrator, Heun
from ._base import AbstractNeuron, SynapticDrive, refractory_update
from ._spiking import below_peak, check_order, fire_and_reset
from ._surrogate import AbstractSurrogate, FastSigmoid

__all__ = ["QIF"]


class QIF(AbstractNeuron):
    r"""Quadratic integrate-and-fire neuron.

    .. math::
        C \frac{dv}{dt} = k (v - E_L) (v - v_c) + I_{syn}(v) + I_e + I_{ext}

    Units: ``v`` mV, ``C`` pF, ``k`` nS/mV, currents pA. A spike is emitted when ``v``
    reaches ``v_peak``; ``v`` is set to ``v_reset`` and held for ``t_ref``. This is the
    normal form of a saddle-node on invariant circle (type I) neuron; with
    ``x = v - (e_l + v_c)/2`` it reads ``C dx/dt = k x^2 + I - I_rh`` with the rheobase
    ``I_rh = k (v_c - e_l)^2 / 4``. Above it, the inter-spike interval for constant ``I`` is

    .. math::
        T = t_{ref} + \frac{C}{\sqrt{k (I - I_{rh})}} \left[\arctan\frac{x_{peak}}{\omega}
            - \arctan\frac{x_{reset}}{\omega}\right], \qquad \omega = \sqrt{(I - I_{rh})/k},

    which tends to ``pi C / sqrt(k (I - I_rh))`` for ``v_peak -> inf``, ``v_reset -> -inf``
    (the theta neuron ``dv/dt = v^2 + I``: ``T = pi / sqrt(I)``).

    References: Ermentrout & Kopell (1986), SIAM J. Appl. Math. 46:233; Latham et al. (2000),
    J. Neurophysiol. 83:808; Izhikevich (2007), *Dynamical Systems in Neuroscience*, §8.1.
    Defaults (C = 100 pF, k = 0.7 nS/mV, e_l = -60 mV, v_c = -40 mV, v_peak = 35 mV,
    v_reset = -50 mV) are Izhikevich's (2007) regular-spiking values without recovery
    variable; ``I_rh = 70`` pA.

    Args:
        n: number of neurons.
        c_m: capacitance (pF), > 0. k: curvature (nS/mV), > 0.
        e_l: stable rest (mV); the old keyword ``v_rest`` is refused with a pointer here.
        v_c: critical (unstable) potential (mV), > ``e_l``.
        v_peak: spike cut-off (mV), > ``v_c``. v_reset: reset (mV), < ``v_peak``.
        t_ref: absolute refractory period (ms), >= 0. i_e: bias current (pA).
        v_init: initial ``v`` (mV), default ``e_l``.
        integrator: default :class:`~neurosim.integrators.Heun`.
        surrogate, detach_reset: see :class:`LIF`.

    Example:
        >>> import jax, neurosim as ns
        >>> m = ns.neurons.QIF(4, i_e=100.0)
        >>> s = m.init(jax.random.key(0), 0.1)
    """

    n: int = eqx.field(static=True)
    c_m: jax.Array
    k: jax.Array
    e_l: jax.Array
    v_c: jax.Array
    v_peak: jax.Array
    v_reset: jax.Array
    t_ref: jax.Array
    i_e: jax.Array
    v_init: AbstractInit
    integrator: AbstractIntegrator
    surrogate: AbstractSurrogate
    detach_reset: bool = eqx.field(static=True)

    def __init__(
        self,
        n: int,
        *,
        c_m=100.0,
        k=0.7,
        e_l=-60.0,
        v_c=-40.0,
        v_peak=35.0,
        v_reset=-50.0,
        t_ref=0.0,
        i_e=0.0,
        v_init=None,
        integrator: AbstractIntegrator | None = None,
        surrogate: AbstractSurrogate | None = None,
        detach_reset: bool = True,
        **renamed,
    ):
        reject_renamed(type(self).__name__, renamed)
        self.n = check_size("n", n)
        check_positive("c_m", c_m, "pF")
        check_positive("k", k, "nS/mV")
        check_nonnegative("t_ref", t_ref, "ms")
        for name, val in (("e_l", e_l), ("v_c", v_c), ("v_peak", v_peak)):
            check_finite(name, val)
        check_finite("v_reset", v_reset)
        check_finite("i_e", i_e)
        check_order("e_l", e_l, "v_c", v_c)
        check_order("v_c", v_c, "v_peak", v_peak)
        check_order("v_reset", v_reset, "v_peak", v_peak)
        p = lambda x, name: as_param(x, n, name)  # noqa: E731
        self.c_m, self.k = p(c_m, "c_m"), p(k, "k")
        self.e_l, self.v_c = p(e_l, "e_l"), p(v_c, "v_c")
        self.v_peak, self.v_reset = p(v_peak, "v_peak"), p(v_reset, "v_reset")
        self.t_ref, self.i_e = p(t_ref, "t_ref"), p(i_e, "i_e")
        self.v_init = as_init(e_l if v_init is None else v_init)
        self.integrator = integrator if integrator is not None else Heun()
        self.surrogate = surrogate if surrogate is not None else FastSigmoid()
        self.detach_reset = bool(detach_reset)

    def rheobase(self):
        """``k (v_c - e_l)^2 / 4`` (pA): the saddle-node current."""
        return 0.25 * self.k * (self.v_c - self.e_l) ** 2

    def init(self, key, dt) -> dict:
        return {
            "v": self.v_init.sample(key, (self.n,)),
            "refractory": jnp.zeros((self.n,), jnp.int32),
        }

    def vector_field(self, v, drive: SynapticDrive, i_ext):
        """``dv/dt`` (mV/ms), evaluated at ``min(v, v_peak)``."""
        v = below_peak(v, self.v_peak)
        i_total = drive.at(v) + self.i_e + i_ext
        return (self.k * (v - self.e_l) * (v - self.v_c) + i_total) / self.c_m

    def step(self, state, drive, i, dt, key):
        v = state["v"]
        held = state["refractory"] > 0
        v_new = self.integrator.step(lambda y: self.vector_field(y, drive, 0.0), v, dt)
        v_new = jnp.where(held, v, below_peak(v_new + drive.jump, self.v_peak))
        spike, v_out = fire_and_reset(
            v_new, held, self.v_peak, self.v_reset, self.surrogate, self.detach_reset
        )
        counter = refractory_update(state["refractory"], spike, self.t_ref, dt)
        return {"v": v_out, "refractory": counter}, spike
