"""Morris–Lecar (1981) barnacle-muscle model, Rinzel & Ermentrout (1989) parameter sets."""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._init import AbstractInit, as_init
from .._validate import as_param, check_finite, check_nonnegative, check_positive, check_size
from ..integrators import AbstractIntegrator, ExpEuler
from ._base import AbstractNeuron, SynapticDrive, refractory_update
from ._spiking import upward_crossing
from ._surrogate import AbstractSurrogate, FastSigmoid

__all__ = ["MorrisLecar", "MORRIS_LECAR_SETS"]

# Rinzel & Ermentrout (1989), in Koch & Segev (eds.) *Methods in Neuronal Modeling*, and
# Ermentrout & Terman (2010), *Mathematical Foundations of Neuroscience*, Table 3.1: the
# parameters that differ between the Hopf (class II) and saddle-node-on-invariant-circle
# (class I) regimes; the rest is shared (the class defaults).
MORRIS_LECAR_SETS: dict[str, dict[str, float]] = {
    "hopf": dict(g_ca=4.4, v3=2.0, v4=30.0, phi=0.04),
    "snic": dict(g_ca=4.0, v3=12.0, v4=17.4, phi=1.0 / 15.0),
}


class MorrisLecar(AbstractNeuron):
    r"""Morris–Lecar model: a fast, instantaneous Ca²⁺ current and a delayed K⁺ current.

    .. math::
        C \frac{dv}{dt} &= -g_{Ca} m_\infty(v) (v - E_{Ca}) - g_K w (v - E_K) - g_L (v - E_L)
            + I_{syn}(v) + I_e + I_{ext} \\
        \frac{dw}{dt} &= \phi \frac{w_\infty(v) - w}{\tau_w(v)}

    with ``m_inf = (1 + tanh((v - V1)/V2))/2``, ``w_inf = (1 + tanh((v - V3)/V4))/2`` and
    ``tau_w = 1 / cosh((v - V3)/(2 V4))`` (ms). Defaults are the Hopf (class II) set of
    Rinzel & Ermentrout (1989): C = 20 µF/cm², g_L = 2, g_Ca = 4.4, g_K = 8 mS/cm²,
    E_L = -60, E_Ca = 120, E_K = -84 mV, V1 = -1.2, V2 = 18, V3 = 2, V4 = 30 mV,
    phi = 0.04 /ms. :meth:`from_set` gives the saddle-node-on-invariant-circle (class I) set
    (g_Ca = 4, V3 = 12, V4 = 17.4, phi = 1/15): firing then starts at zero frequency.

    **Units** as for :class:`HodgkinHuxley`: absolute pF/nS/pA whose default values equal the
    published densities for a 100 µm² patch (20 pF is 20 µF/cm², 1 pA is 1 µA/cm²).

    A spike is an upward crossing of ``v_th`` (default 0 mV) outside ``t_ref``; there is no
    reset.

    References: Morris & Lecar (1981), Biophys. J. 35:193-213; Rinzel & Ermentrout (1989),
    *Methods in Neuronal Modeling*, ch. 5 (MIT Press).

    Args:
        n: number of neurons.
        c_m (pF), g_l, g_ca, g_k (nS), e_l, e_ca, e_k (mV), v1, v2, v3, v4 (mV, ``v2, v4 > 0``),
        phi (1/ms, > 0): model parameters.
        v_th: spike-detection threshold (mV). t_ref: detection dead time (ms).
        i_e: bias current (pA). v_init: initial ``v`` (mV); ``w`` starts at ``w_inf(v)``.
        integrator: default exponential Euler.
        surrogate: surrogate derivative of the spike.

    Example:
        >>> import jax, neurosim as ns
        >>> m = ns.neurons.MorrisLecar.from_set("snic", 2, i_e=45.0)
        >>> s = m.init(jax.random.key(0), 0.1)
    """

    SETS: ClassVar[dict] = MORRIS_LECAR_SETS

    n: int = eqx.field(static=True)
    c_m: jax.Array
    g_l: jax.Array
    g_ca: jax.Array
    g_k: jax.Array
    e_l: jax.Array
    e_ca: jax.Array
    e_k: jax.Array
    v1: jax.Array
    v2: jax.Array
    v3: jax.Array
    v4: jax.Array
    phi: jax.Array
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
        c_m=20.0,
        g_l=2.0,
        g_ca=4.4,
        g_k=8.0,
        e_l=-60.0,
        e_ca=120.0,
        e_k=-84.0,
        v1=-1.2,
        v2=18.0,
        v3=2.0,
        v4=30.0,
        phi=0.04,
        v_th=0.0,
        t_ref=2.0,
        i_e=0.0,
        v_init=-60.0,
        integrator: AbstractIntegrator | None = None,
        surrogate: AbstractSurrogate | None = None,
    ):
        self.n = check_size("n", n)
        check_positive("c_m", c_m, "pF")
        for name, val in (("g_l", g_l), ("g_ca", g_ca), ("g_k", g_k)):
            check_nonnegative(name, val, "nS")
        check_positive("v2", v2, "mV")
        check_positive("v4", v4, "mV")
        check_positive("phi", phi, "1/ms")
        check_nonnegative("t_ref", t_ref, "ms")
        for name, val in (("e_l", e_l), ("e_ca", e_ca), ("e_k", e_k), ("v1", v1), ("v3", v3)):
            check_finite(name, val)
        check_finite("v_th", v_th)
        check_finite("i_e", i_e)
        p = lambda x, name: as_param(x, n, name)  # noqa: E731
        self.c_m, self.g_l, self.g_ca, self.g_k = (
            p(c_m, "c_m"),
            p(g_l, "g_l"),
            p(g_ca, "g_ca"),
            p(g_k, "g_k"),
        )
        self.e_l, self.e_ca, self.e_k = p(e_l, "e_l"), p(e_ca, "e_ca"), p(e_k, "e_k")
        self.v1, self.v2, self.v3, self.v4 = p(v1, "v1"), p(v2, "v2"), p(v3, "v3"), p(v4, "v4")
        self.phi, self.v_th, self.t_ref = p(phi, "phi"), p(v_th, "v_th"), p(t_ref, "t_ref")
        self.i_e = p(i_e, "i_e")
        self.v_init = as_init(v_init)
        self.integrator = integrator if integrator is not None else ExpEuler()
        self.surrogate = surrogate if surrogate is not None else FastSigmoid()

    @classmethod
    def from_set(cls, names, n: int | None = None, **overrides) -> MorrisLecar:
        """Neurons with the ``"hopf"`` or ``"snic"`` parameters of :data:`MORRIS_LECAR_SETS`.

        ``names`` is one set name (then ``n`` neurons, default 1) or a list (one neuron each).
        """
        single = isinstance(names, str)
        names = [names] * (n or 1) if single else list(names)
        unknown = [k for k in names if k not in MORRIS_LECAR_SETS]
        if unknown or not names:
            raise ValueError(f"unknown Morris-Lecar sets {unknown}; known: hopf, snic")
        keys = MORRIS_LECAR_SETS["hopf"].keys()
        params = {k: np.array([MORRIS_LECAR_SETS[s][k] for s in names]) for k in keys}
        return cls(len(names), **{**params, **overrides})

    def m_inf(self, v):
        return 0.5 * (1.0 + jnp.tanh((v - self.v1) / self.v2))

    def w_inf(self, v):
        return 0.5 * (1.0 + jnp.tanh((v - self.v3) / self.v4))

    def tau_w(self, v):
        """``1 / cosh((v - V3) / (2 V4))`` (ms)."""
        return 1.0 / jnp.cosh((v - self.v3) / (2.0 * self.v4))

    def init(self, key, dt) -> dict:
        v = self.v_init.sample(key, (self.n,))
        return {"v": v, "w": self.w_inf(v), "refractory": jnp.zeros((self.n,), jnp.int32)}

    def vector_field(self, y, drive: SynapticDrive, i_ext):
        v, w = y["v"], y["w"]
        i_ion = (
            self.g_ca * self.m_inf(v) * (v - self.e_ca)
            + self.g_k * w * (v - self.e_k)
            + self.g_l * (v - self.e_l)
        )
        dv = (drive.at(v) + self.i_e + i_ext - i_ion) / self.c_m
        dw = self.phi * (self.w_inf(v) - w) / self.tau_w(v)
        return {"v": dv, "w": dw}

    def step(self, state, drive, i, dt, key):
        y = {"v": state["v"], "w": state["w"]}
        y_new = self.integrator.step(lambda z: self.vector_field(z, drive, 0.0), y, dt)
        v_new = y_new["v"] + drive.jump
        held = state["refractory"] > 0
        spike = upward_crossing(state["v"], v_new, self.v_th, held, self.surrogate)
        counter = refractory_update(state["refractory"], spike, self.t_ref, dt)
        return {"v": v_new, "w": y_new["w"], "refractory": counter}, spike
