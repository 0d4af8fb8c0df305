"""Exponential integrate-and-fire (ExpIF) and adaptive exponential IF (AdEx) neurons."""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._init import AbstractInit, as_init
from .._validate import as_param, check_finite, check_nonnegative, check_positive, check_size
from ..integrators import AbstractIntegrator, Heun
from ._base import AbstractNeuron, SynapticDrive, refractory_update
from ._spiking import EXP_ARG_MAX, below_peak, check_order, fire_and_reset
from ._surrogate import AbstractSurrogate, FastSigmoid

__all__ = ["ExpIF", "AdEx", "ADEX_NAUD_2008"]


def _exp_current(v, g_l, v_t, delta_t):
    """Spike-generating current ``g_L Delta_T exp((v - V_T)/Delta_T)`` (pA), overflow-safe."""
    return g_l * delta_t * jnp.exp(jnp.minimum((v - v_t) / delta_t, EXP_ARG_MAX))


# Naud, Marcille, Clopath & Gerstner (2008), Biol. Cybern. 99:335-347, Table 1: parameters
# (C pF, g_L nS, E_L mV, V_T mV, Delta_T mV, tau_w ms, a nS, b pA, V_r mV) and the step
# current I (pA) that evokes each firing pattern (their Fig. 4). Checked value by value
# against the set used in Brian2's example `frompapers/Naud_et_al_2008_adex_firing_patterns`
# (Schmitt & Billaudelle 2022, "adapted by P. Mueller to match figures").
ADEX_NAUD_2008: dict[str, dict[str, float]] = {
    "tonic": dict(
        c_m=200, g_l=10, e_l=-70, v_t=-50, delta_t=2, tau_w=30, a=2, b=0, v_reset=-58, i_step=500
    ),
    "adapting": dict(
        c_m=200, g_l=12, e_l=-70, v_t=-50, delta_t=2, tau_w=300, a=2, b=60, v_reset=-58,
        i_step=500,
    ),
    "initial_burst": dict(
        c_m=130, g_l=18, e_l=-58, v_t=-50, delta_t=2, tau_w=150, a=4, b=120, v_reset=-50,
        i_step=400,
    ),
    "bursting": dict(
        c_m=200, g_l=10, e_l=-58, v_t=-50, delta_t=2, tau_w=120, a=2, b=100, v_reset=-46,
        i_step=210,
    ),
    "delayed_accelerating": dict(
        c_m=200, g_l=12, e_l=-70, v_t=-50, delta_t=2, tau_w=300, a=-10, b=0, v_reset=-58,
        i_step=300,
    ),
    "delayed_bursting": dict(
        c_m=100, g_l=10, e_l=-65, v_t=-50, delta_t=2, tau_w=90, a=-10, b=30, v_reset=-47,
        i_step=110,
    ),
    "transient": dict(
        c_m=100, g_l=10, e_l=-65, v_t=-50, delta_t=2, tau_w=90, a=10, b=100, v_reset=-47,
        i_step=180,
    ),
    "irregular": dict(
        c_m=100, g_l=12, e_l=-60, v_t=-50, delta_t=2, tau_w=130, a=-11, b=30, v_reset=-48,
        i_step=160,
    ),
}  # fmt: skip


class ExpIF(AbstractNeuron):
    r"""Exponential integrate-and-fire neuron (Fourcaud-Trocmé et al. 2003).

    .. math::
        C \frac{dv}{dt} = g_L (E_L - v) + g_L \Delta_T e^{(v - V_T)/\Delta_T}
            + I_{syn}(v) + I_e + I_{ext}

    ``v`` diverges in finite time once it passes the rheobase threshold; a spike is emitted
    when it reaches the cut-off ``v_peak``, after which ``v`` is set to ``v_reset`` and held
    for ``t_ref``. Without input the rheobase current is ``g_L (V_T - E_L - Delta_T)``.

    Reference: Fourcaud-Trocmé, Hansel, van Vreeswijk & Brunel (2003), J. Neurosci.
    23:11628; Gerstner et al. (2014), *Neuronal Dynamics*, ch. 5.2.

    Args:
        n: number of neurons.
        c_m: capacitance (pF), > 0. g_l: leak conductance (nS), > 0.
        e_l: leak reversal (mV). v_t: rheobase threshold ``V_T`` (mV).
        delta_t: slope factor ``Delta_T`` (mV), > 0.
        v_peak: spike cut-off (mV), above ``v_t``. v_reset: reset (mV), below ``v_peak``.
        t_ref: absolute refractory period (ms), >= 0. i_e: bias current (pA).
        v_init: initial ``v`` (mV), number or initializer (default ``e_l``).
        integrator: default :class:`~neurosim.integrators.Heun` (exponential Euler is not
            suited: the exponential current is not conditionally linear).
        surrogate: surrogate derivative of the spike. detach_reset: see :class:`LIF`.

    Example:
        >>> import jax, neurosim as ns
        >>> m = ns.neurons.ExpIF(2, i_e=600.0)
        >>> s, spikes = m.step(m.init(jax.random.key(0), 0.1),
        ...                    ns.neurons.SynapticDrive.zeros(2), 0, 0.1, None)
    """

    n: int = eqx.field(static=True)
    c_m: jax.Array
    g_l: jax.Array
    e_l: jax.Array
    v_t: jax.Array
    delta_t: jax.Array
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
        c_m=281.0,
        g_l=30.0,
        e_l=-70.6,
        v_t=-50.4,
        delta_t=2.0,
        v_peak=0.0,
        v_reset=-70.6,
        t_ref=0.0,
        i_e=0.0,
        v_init=None,
        integrator: AbstractIntegrator | None = None,
        surrogate: AbstractSurrogate | None = None,
        detach_reset: bool = True,
    ):
        self.n = check_size("n", n)
        _check_exp(c_m, g_l, e_l, v_t, delta_t, v_peak, v_reset, t_ref, i_e)
        p = lambda x, name: as_param(x, n, name)  # noqa: E731
        self.c_m, self.g_l, self.e_l = p(c_m, "c_m"), p(g_l, "g_l"), p(e_l, "e_l")
        self.v_t, self.delta_t = p(v_t, "v_t"), p(delta_t, "delta_t")
        self.v_peak, self.v_reset = p(v_peak, "v_peak"), p(v_reset, "v_reset")
        self.t_ref, self.i_e = p(t_ref, "t_ref"), p(i_e, "i_e")
        self.v_init = as_init(e_l if v_init is None else v_init)
        self.integrator = integrator if integrator is not None else Heun()
        self.surrogate = surrogate if surrogate is not None else FastSigmoid()
        self.detach_reset = bool(detach_reset)

    def rheobase(self):
        """Smallest constant current (pA) that makes the neuron fire: ``g_L (V_T - E_L - D_T)``."""
        return self.g_l * (self.v_t - self.e_l - self.delta_t)

    def init(self, key, dt) -> dict:
        return {
            "v": self.v_init.sample(key, (self.n,)),
            "refractory": jnp.zeros((self.n,), jnp.int32),
        }

    def vector_field(self, v, drive: SynapticDrive, i_ext):
        """``dv/dt`` (mV/ms), evaluated at ``min(v, v_peak)``."""
        v = below_peak(v, self.v_peak)
        i_total = drive.at(v) + self.i_e + i_ext
        i_spk = _exp_current(v, self.g_l, self.v_t, self.delta_t)
        return (self.g_l * (self.e_l - v) + i_spk + i_total) / self.c_m

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


class AdEx(AbstractNeuron):
    r"""Adaptive exponential integrate-and-fire neuron (Brette & Gerstner 2005).

    .. math::
        C \frac{dv}{dt} &= g_L (E_L - v) + g_L \Delta_T e^{(v - V_T)/\Delta_T} - w
            + I_{syn}(v) + I_e + I_{ext} \\
        \tau_w \frac{dw}{dt} &= a (v - E_L) - w

    When ``v`` reaches the cut-off ``v_peak`` a spike is emitted, ``v -> v_reset`` and
    ``w -> w + b``; ``v`` is then held at ``v_reset`` for ``t_ref`` while ``w`` keeps
    evolving. Units: ``v`` mV, ``w`` pA, ``a`` nS, ``b`` pA, ``tau_w`` ms.

    For ``a / g_L < tau_m / tau_w`` (``tau_m = C / g_L``) firing starts through a
    saddle-node bifurcation at the rheobase
    ``(g_L + a) (V_T - E_L - Delta_T + Delta_T ln(1 + a / g_L))`` (Touboul 2008); see
    :meth:`rheobase`. Firing patterns (tonic, adapting, bursting, ...) for the parameter sets of
    Naud et al. (2008) are in :data:`ADEX_NAUD_2008` and :meth:`from_presets`.

    Defaults are the parameters of Brette & Gerstner (2005) (C = 281 pF, g_L = 30 nS,
    E_L = -70.6 mV, V_T = -50.4 mV, Delta_T = 2 mV, tau_w = 144 ms, a = 4 nS, b = 80.5 pA),
    with reset to ``E_L`` and cut-off at 0 mV.

    References: Brette & Gerstner (2005), J. Neurophysiol. 94:3637-3642; Naud et al. (2008),
    Biol. Cybern. 99:335-347; Touboul (2008), SIAM J. Appl. Math. 68:1045-1079.

    Args:
        n: number of neurons.
        c_m, g_l, e_l, v_t, delta_t, v_peak, v_reset, t_ref, i_e: as in :class:`ExpIF`.
        a: subthreshold adaptation (nS), any sign. b: spike-triggered adaptation (pA).
        tau_w: adaptation time constant (ms), > 0.
        v_init: initial ``v`` (mV). w_init: initial ``w`` (pA). Numbers or initializers.
        integrator: default :class:`~neurosim.integrators.Heun`.
        surrogate, detach_reset: see :class:`LIF`.

    Example:
        >>> import jax, neurosim as ns
        >>> m = ns.neurons.AdEx.from_presets(["tonic", "bursting"])
        >>> s = m.init(jax.random.key(0), 0.1)
    """

    PRESETS: ClassVar[dict] = ADEX_NAUD_2008

    n: int = eqx.field(static=True)
    c_m: jax.Array
    g_l: jax.Array
    e_l: jax.Array
    v_t: jax.Array
    delta_t: jax.Array
    v_peak: jax.Array
    v_reset: jax.Array
    t_ref: jax.Array
    a: jax.Array
    b: jax.Array
    tau_w: jax.Array
    i_e: jax.Array
    v_init: AbstractInit
    w_init: AbstractInit
    integrator: AbstractIntegrator
    surrogate: AbstractSurrogate
    detach_reset: bool = eqx.field(static=True)

    def __init__(
        self,
        n: int,
        *,
        c_m=281.0,
        g_l=30.0,
        e_l=-70.6,
        v_t=-50.4,
        delta_t=2.0,
        v_peak=0.0,
        v_reset=-70.6,
        t_ref=0.0,
        a=4.0,
        b=80.5,
        tau_w=144.0,
        i_e=0.0,
        v_init=None,
        w_init=0.0,
        integrator: AbstractIntegrator | None = None,
        surrogate: AbstractSurrogate | None = None,
        detach_reset: bool = True,
    ):
        self.n = check_size("n", n)
        _check_exp(c_m, g_l, e_l, v_t, delta_t, v_peak, v_reset, t_ref, i_e)
        check_finite("a", a)
        check_finite("b", b)
        check_positive("tau_w", tau_w, "ms")
        p = lambda x, name: as_param(x, n, name)  # noqa: E731
        self.c_m, self.g_l, self.e_l = p(c_m, "c_m"), p(g_l, "g_l"), p(e_l, "e_l")
        self.v_t, self.delta_t = p(v_t, "v_t"), p(delta_t, "delta_t")
        self.v_peak, self.v_reset = p(v_peak, "v_peak"), p(v_reset, "v_reset")
        self.t_ref, self.i_e = p(t_ref, "t_ref"), p(i_e, "i_e")
        self.a, self.b, self.tau_w = p(a, "a"), p(b, "b"), p(tau_w, "tau_w")
        self.v_init = as_init(e_l if v_init is None else v_init)
        self.w_init = as_init(w_init)
        self.integrator = integrator if integrator is not None else Heun()
        self.surrogate = surrogate if surrogate is not None else FastSigmoid()
        self.detach_reset = bool(detach_reset)

    @classmethod
    def from_presets(cls, names, **overrides) -> AdEx:
        """One neuron per name in ``names`` with the parameters of :data:`ADEX_NAUD_2008`.

        The preset step currents are not applied (see ``ADEX_NAUD_2008[name]["i_step"]``);
        ``overrides`` (e.g. ``v_peak=0.0``, ``integrator=...``) apply to all neurons.
        """
        names = [names] if isinstance(names, str) else list(names)
        unknown = [k for k in names if k not in ADEX_NAUD_2008]
        if unknown or not names:
            raise ValueError(f"unknown AdEx presets {unknown}; known: {sorted(ADEX_NAUD_2008)}")
        keys = [k for k in ADEX_NAUD_2008[names[0]] if k != "i_step"]
        params = {k: np.array([ADEX_NAUD_2008[m][k] for m in names], float) for k in keys}
        return cls(len(names), **{**params, **overrides})

    def rheobase(self):
        """Saddle-node rheobase (pA) for ``a > -g_L``; valid when ``a/g_L < tau_m/tau_w``."""
        g = self.g_l + self.a
        return g * (self.v_t - self.e_l - self.delta_t + self.delta_t * jnp.log(g / self.g_l))

    def init(self, key, dt) -> dict:
        kv, kw = jax.random.split(key)
        return {
            "v": self.v_init.sample(kv, (self.n,)),
            "w": self.w_init.sample(kw, (self.n,)),
            "refractory": jnp.zeros((self.n,), jnp.int32),
        }

    def vector_field(self, y, drive: SynapticDrive, i_ext, held):
        """``{"v": dv/dt, "w": dw/dt}`` (mV/ms, pA/ms); ``dv/dt = 0`` while ``held``."""
        v, w = below_peak(y["v"], self.v_peak), y["w"]
        i_total = drive.at(v) + self.i_e + i_ext
        i_spk = _exp_current(v, self.g_l, self.v_t, self.delta_t)
        dv = (self.g_l * (self.e_l - v) + i_spk - w + i_total) / self.c_m
        dw = (self.a * (v - self.e_l) - w) / self.tau_w
        return {"v": jnp.where(held, 0.0, dv), "w": dw}

    def step(self, state, drive, i, dt, key):
        held = state["refractory"] > 0
        y = {"v": state["v"], "w": state["w"]}
        y_new = self.integrator.step(lambda z: self.vector_field(z, drive, 0.0, held), y, dt)
        v_new = jnp.where(held, state["v"], below_peak(y_new["v"] + drive.jump, self.v_peak))
        spike, v_out = fire_and_reset(
            v_new, held, self.v_peak, self.v_reset, self.surrogate, self.detach_reset
        )
        w_out = y_new["w"] + self.b * spike
        counter = refractory_update(state["refractory"], spike, self.t_ref, dt)
        return {"v": v_out, "w": w_out, "refractory": counter}, spike


def _check_exp(c_m, g_l, e_l, v_t, delta_t, v_peak, v_reset, t_ref, i_e):
    check_positive("c_m", c_m, "pF")
    check_positive("g_l", g_l, "nS")
    check_positive("delta_t", delta_t, "mV")
    check_nonnegative("t_ref", t_ref, "ms")
    for name, val in (("e_l", e_l), ("v_t", v_t), ("v_peak", v_peak), ("v_reset", v_reset)):
        check_finite(name, val)
    check_finite("i_e", i_e)
    check_order("v_t", v_t, "v_peak", v_peak)
    check_order("v_reset", v_reset, "v_peak", v_peak)
