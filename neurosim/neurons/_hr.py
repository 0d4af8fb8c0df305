"""Hindmarsh–Rose (1984) bursting model (dimensionless)."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from .._init import AbstractInit, as_init
from .._validate import as_param, check_finite, check_nonnegative, check_positive, check_size
from ..integrators import RK4, AbstractIntegrator
from ._base import AbstractNeuron, SynapticDrive, refractory_update
from ._spiking import upward_crossing
from ._surrogate import AbstractSurrogate, FastSigmoid

__all__ = ["HindmarshRose"]


class HindmarshRose(AbstractNeuron):
    r"""Hindmarsh–Rose model of thalamic/molluscan bursting.

    .. math::
        \tau \frac{dx}{dt} &= y - a x^3 + b x^2 - z + I \\
        \tau \frac{dy}{dt} &= c - d x^2 - y \\
        \tau \frac{dz}{dt} &= r \left(s (x - x_R) - z\right)

    ``x`` ("membrane potential", stored as state ``"v"``), ``y`` (fast recovery) and ``z``
    (slow adaptation current) are **dimensionless**, as in Hindmarsh & Rose (1984); time is in
    units of ``tau`` ms (default 1 ms). The input ``I`` is dimensionless: synaptic and
    external currents are added to it as numbers, so use current-based synapses.

    Defaults are the classic values ``a = 1, b = 3, c = 1, d = 5, s = 4, x_R = -1.6,
    r = 0.001``. The slow variable ``z`` moves the fast ``(x, y)`` subsystem across its
    bistable range, giving square-wave bursting for intermediate ``I`` (e.g. ``I = 2``: bursts
    of a few spikes every ~300 time units), tonic spiking for large ``I`` (e.g. 4) and rest for
    small ``I`` (e.g. 1).

    A spike is an upward crossing of ``v_th`` (default 1.0) outside ``t_ref``.

    References: Hindmarsh & Rose (1984), Proc. R. Soc. Lond. B 221:87-102; Shilnikov &
    Kolomiets (2008), Int. J. Bifurc. Chaos 18:2141.

    Args:
        n: number of neurons.
        a, b, c, d, s, x_r: fast-subsystem and coupling parameters. r: slow rate (> 0).
        tau: time unit (ms), > 0. i_e: bias input (dimensionless).
        v_th: detection threshold for ``x``. t_ref: detection dead time (ms).
        v_init, y_init, z_init: initial ``x, y, z`` (numbers or initializers).
        integrator: default :class:`~neurosim.integrators.RK4` (stable for dt <= ~0.1 tau).
        surrogate: surrogate derivative of the spike.

    Example:
        >>> import jax, neurosim as ns
        >>> m = ns.neurons.HindmarshRose(3, i_e=2.0)
        >>> s = m.init(jax.random.key(0), 0.1)
    """

    n: int = eqx.field(static=True)
    a: jax.Array
    b: jax.Array
    c: jax.Array
    d: jax.Array
    s: jax.Array
    x_r: jax.Array
    r: jax.Array
    tau: jax.Array
    i_e: jax.Array
    v_th: jax.Array
    t_ref: jax.Array
    v_init: AbstractInit
    y_init: AbstractInit
    z_init: AbstractInit
    integrator: AbstractIntegrator
    surrogate: AbstractSurrogate

    def __init__(
        self,
        n: int,
        *,
        a=1.0,
        b=3.0,
        c=1.0,
        d=5.0,
        s=4.0,
        x_r=-1.6,
        r=0.001,
        tau=1.0,
        i_e=0.0,
        v_th=1.0,
        t_ref=1.0,
        v_init=-1.6,
        y_init=-11.8,
        z_init=0.0,
        integrator: AbstractIntegrator | None = None,
        surrogate: AbstractSurrogate | None = None,
    ):
        self.n = check_size("n", n)
        for name, val in (("a", a), ("b", b), ("c", c), ("d", d), ("s", s), ("x_r", x_r)):
            check_finite(name, val)
        check_positive("r", r)
        check_positive("tau", tau, "ms")
        check_finite("i_e", i_e)
        check_finite("v_th", v_th)
        check_nonnegative("t_ref", t_ref, "ms")
        p = lambda x, name: as_param(x, n, name)  # noqa: E731
        self.a, self.b, self.c, self.d = p(a, "a"), p(b, "b"), p(c, "c"), p(d, "d")
        self.s, self.x_r, self.r, self.tau = p(s, "s"), p(x_r, "x_r"), p(r, "r"), p(tau, "tau")
        self.i_e, self.v_th, self.t_ref = p(i_e, "i_e"), p(v_th, "v_th"), p(t_ref, "t_ref")
        self.v_init, self.y_init, self.z_init = as_init(v_init), as_init(y_init), as_init(z_init)
        self.integrator = integrator if integrator is not None else RK4()
        self.surrogate = surrogate if surrogate is not None else FastSigmoid()

    def init(self, key, dt) -> dict:
        kx, ky, kz = jax.random.split(key, 3)
        return {
            "v": self.v_init.sample(kx, (self.n,)),
            "y": self.y_init.sample(ky, (self.n,)),
            "z": self.z_init.sample(kz, (self.n,)),
            "refractory": jnp.zeros((self.n,), jnp.int32),
        }

    def vector_field(self, st, drive: SynapticDrive, i_ext):
        x, y, z = st["v"], st["y"], st["z"]
        i_in = drive.at(x) + self.i_e + i_ext
        dx = y - self.a * x**3 + self.b * x**2 - z + i_in
        dy = self.c - self.d * x**2 - y
        dz = self.r * (self.s * (x - self.x_r) - z)
        return {"v": dx / self.tau, "y": dy / self.tau, "z": dz / self.tau}

    def step(self, state, drive, i, dt, key):
        y = {k: state[k] for k in ("v", "y", "z")}
        y_new = self.integrator.step(lambda q: self.vector_field(q, drive, 0.0), y, dt)
        v_new = y_new["v"] + drive.jump
        held = state["refractory"] > 0
        spike = upward_crossing(state["v"], v_new, self.v_th, held, self.surrogate)
        counter = refractory_update(state["refractory"], spike, self.t_ref, dt)
        return {**y_new, "v": v_new, "refractory": counter}, spike
