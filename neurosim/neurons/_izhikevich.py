"""Izhikevich (2003) simple spiking model."""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._init import AbstractInit, as_init
from .._validate import as_param, check_finite, check_positive, check_size
from ..integrators import AbstractIntegrator, Euler
from ._base import AbstractNeuron, SynapticDrive
from ._spiking import below_peak, check_order, fire_and_reset
from ._surrogate import AbstractSurrogate, FastSigmoid

__all__ = ["Izhikevich", "IZHIKEVICH_2003"]

# Izhikevich (2003), IEEE Trans. Neural Netw. 14:1569, Fig. 2: (a, b, c, d) of the cortical
# and thalamic cell classes; each responds to a step of dc current I = 10 with its pattern.
IZHIKEVICH_2003: dict[str, dict[str, float]] = {
    "RS": dict(a=0.02, b=0.2, c=-65.0, d=8.0),  # regular spiking (excitatory)
    "IB": dict(a=0.02, b=0.2, c=-55.0, d=4.0),  # intrinsically bursting
    "CH": dict(a=0.02, b=0.2, c=-50.0, d=2.0),  # chattering
    "FS": dict(a=0.1, b=0.2, c=-65.0, d=2.0),  # fast spiking (inhibitory)
    "LTS": dict(a=0.02, b=0.25, c=-65.0, d=2.0),  # low-threshold spiking
    "TC": dict(a=0.02, b=0.25, c=-65.0, d=0.05),  # thalamo-cortical
    "RZ": dict(a=0.1, b=0.26, c=-65.0, d=2.0),  # resonator
}


class Izhikevich(AbstractNeuron):
    r"""Izhikevich (2003) simple model of spiking neurons.

    .. math::
        \frac{dv}{dt} &= 0.04 v^2 + 5 v + 140 - u + \frac{I_{syn}(v) + I_e + I_{ext}}{C} \\
        \frac{du}{dt} &= a (b v - u)

    with ``v`` in mV and time in ms. When ``v >= v_peak`` (30 mV) a spike is emitted,
    ``v -> c`` and ``u -> u + d``. The model's own "current" ``I`` (and ``u``) have units of
    mV/ms; input currents in pA are divided by the scale ``c_m`` (pF), since
    pA / pF = mV/ms. With the default ``c_m = 1`` pF, 10 pA is Izhikevich's ``I = 10``.
    ``a`` (1/ms) is the recovery rate, ``b`` (1/ms) the coupling of ``u`` to ``v``, ``c`` (mV)
    the reset, ``d`` (mV/ms) the spike-triggered jump of ``u``. The parameter sets of the
    paper's Fig. 2 (RS, IB, CH, FS, LTS, TC, RZ) are in :data:`IZHIKEVICH_2003`.

    Reference: Izhikevich (2003), "Simple model of spiking neurons", IEEE Trans. Neural Netw.
    14:1569-1572. The paper integrates with forward Euler, the default here.

    Args:
        n: number of neurons.
        a, b, c, d: model parameters (see above); default regular spiking (RS).
        v_peak: spike cut-off (mV), default 30. c_m: input scale (pF), > 0.
        i_e: bias current (pA).
        v_init: initial ``v`` (mV), default -65. u_init: initial ``u`` (mV/ms), default
            ``b * v_init`` (the paper's choice); numbers or initializers.
        integrator: default :class:`~neurosim.integrators.Euler`.
        surrogate, detach_reset: see :class:`LIF`.

    Example:
        >>> import jax, neurosim as ns
        >>> m = ns.neurons.Izhikevich.from_presets(["RS", "FS"], i_e=10.0)
        >>> s, spikes = m.step(m.init(jax.random.key(0), 0.1),
        ...                    ns.neurons.SynapticDrive.zeros(2), 0, 0.1, None)
    """

    PRESETS: ClassVar[dict] = IZHIKEVICH_2003

    n: int = eqx.field(static=True)
    a: jax.Array
    b: jax.Array
    c: jax.Array
    d: jax.Array
    v_peak: jax.Array
    c_m: jax.Array
    i_e: jax.Array
    v_init: AbstractInit
    u_init: AbstractInit | None
    integrator: AbstractIntegrator
    surrogate: AbstractSurrogate
    detach_reset: bool = eqx.field(static=True)

    def __init__(
        self,
        n: int,
        *,
        a=0.02,
        b=0.2,
        c=-65.0,
        d=8.0,
        v_peak=30.0,
        c_m=1.0,
        i_e=0.0,
        v_init=-65.0,
        u_init=None,
        integrator: AbstractIntegrator | None = None,
        surrogate: AbstractSurrogate | None = None,
        detach_reset: bool = True,
    ):
        self.n = check_size("n", n)
        for name, val in (("a", a), ("b", b), ("c", c), ("d", d), ("i_e", i_e)):
            check_finite(name, val)
        check_finite("v_peak", v_peak)
        check_positive("c_m", c_m, "pF")
        check_order("c", c, "v_peak", v_peak)
        p = lambda x, name: as_param(x, n, name)  # noqa: E731
        self.a, self.b, self.c, self.d = p(a, "a"), p(b, "b"), p(c, "c"), p(d, "d")
        self.v_peak, self.c_m, self.i_e = p(v_peak, "v_peak"), p(c_m, "c_m"), p(i_e, "i_e")
        self.v_init = as_init(v_init)
        self.u_init = None if u_init is None else as_init(u_init)
        self.integrator = integrator if integrator is not None else Euler()
        self.surrogate = surrogate if surrogate is not None else FastSigmoid()
        self.detach_reset = bool(detach_reset)

    @classmethod
    def from_presets(cls, names, **overrides) -> Izhikevich:
        """One neuron per name in ``names`` (keys of :data:`IZHIKEVICH_2003`)."""
        names = [names] if isinstance(names, str) else list(names)
        unknown = [k for k in names if k not in IZHIKEVICH_2003]
        if unknown or not names:
            raise ValueError(
                f"unknown Izhikevich presets {unknown}; known: {sorted(IZHIKEVICH_2003)}"
            )
        params = {k: np.array([IZHIKEVICH_2003[m][k] for m in names]) for k in "abcd"}
        return cls(len(names), **{**params, **overrides})

    def init(self, key, dt) -> dict:
        kv, ku = jax.random.split(key)
        v = self.v_init.sample(kv, (self.n,))
        u = self.b * v if self.u_init is None else self.u_init.sample(ku, (self.n,))
        return {"v": v, "u": u}

    def vector_field(self, y, drive: SynapticDrive, i_ext):
        """``{"v": dv/dt, "u": du/dt}`` (mV/ms, mV/ms²), evaluated at ``min(v, v_peak)``."""
        v, u = below_peak(y["v"], self.v_peak), y["u"]
        i_in = (drive.at(v) + self.i_e + i_ext) / self.c_m
        dv = 0.04 * v * v + 5.0 * v + 140.0 - u + i_in
        return {"v": dv, "u": self.a * (self.b * v - u)}

    def step(self, state, drive, i, dt, key):
        y_new = self.integrator.step(lambda z: self.vector_field(z, drive, 0.0), state, dt)
        v_new = below_peak(y_new["v"] + drive.jump, self.v_peak)
        no_hold = jnp.zeros(v_new.shape, bool)
        spike, v_out = fire_and_reset(
            v_new, no_hold, self.v_peak, self.c, self.surrogate, self.detach_reset
        )
        return {"v": v_out, "u": y_new["u"] + self.d * spike}, spike
