"""FitzHugh–Nagumo model (dimensionless)."""

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

__all__ = ["FitzHughNagumo"]


class FitzHughNagumo(AbstractNeuron):
    r"""FitzHugh–Nagumo model, a two-variable reduction of Hodgkin–Huxley excitability.

    .. math::
        \tau \frac{dv}{dt} &= v - \frac{v^3}{3} - w + I \\
        \tau \frac{dw}{dt} &= \varepsilon (v + a - b w)

    ``v`` (fast, "voltage") and ``w`` (slow recovery) are **dimensionless**, as in FitzHugh
    (1961); time is measured in units of ``tau`` ms (default 1 ms, i.e. the model's time
    unit is read as 1 ms). The input ``I`` is dimensionless too: synaptic and external
    currents are added to it as numbers (``i_ext = 0.5`` means ``I = 0.5``), so use
    current-based synapses (a conductance-based drive would treat ``v`` as if in mV).

    Defaults are FitzHugh's (1961) ``a = 0.7``, ``b = 0.8``, ``epsilon = 0.08``. The rest
    state ``v*`` solves ``v - v^3/3 - (v + a)/b + I = 0``; it is unstable, and the model
    oscillates on a relaxation limit cycle, where the Jacobian trace ``1 - v*^2 - eps b`` is
    positive, i.e. between the Hopf points ``v*^2 = 1 - eps b`` (I ~ 0.331 and ~1.419 for the
    defaults).

    A "spike" is an upward crossing of ``v_th`` (default 1.0) outside ``t_ref``.

    References: FitzHugh (1961), Biophys. J. 1:445-466; Nagumo, Arimoto & Yoshizawa (1962),
    Proc. IRE 50:2061-2070; Izhikevich & FitzHugh (2006), Scholarpedia 1:1349.

    Args:
        n: number of neurons.
        a, b: recovery parameters (b >= 0). epsilon: time-scale ratio (> 0).
        tau: time unit (ms), > 0. i_e: bias input (dimensionless).
        v_th: detection threshold. t_ref: detection dead time (ms).
        v_init, w_init: initial values (numbers or initializers).
        integrator: default :class:`~neurosim.integrators.RK4` (smooth polynomial field).
        surrogate: surrogate derivative of the spike.

    Example:
        >>> import jax, neurosim as ns
        >>> m = ns.neurons.FitzHughNagumo(2, i_e=0.5)
        >>> s = m.init(jax.random.key(0), 0.1)
    """

    n: int = eqx.field(static=True)
    a: jax.Array
    b: jax.Array
    epsilon: jax.Array
    tau: jax.Array
    i_e: jax.Array
    v_th: jax.Array
    t_ref: jax.Array
    v_init: AbstractInit
    w_init: AbstractInit
    integrator: AbstractIntegrator
    surrogate: AbstractSurrogate

    def __init__(
        self,
        n: int,
        *,
        a=0.7,
        b=0.8,
        epsilon=0.08,
        tau=1.0,
        i_e=0.0,
        v_th=1.0,
        t_ref=1.0,
        v_init=-1.2,
        w_init=-0.6,
        integrator: AbstractIntegrator | None = None,
        surrogate: AbstractSurrogate | None = None,
    ):
        self.n = check_size("n", n)
        check_finite("a", a)
        check_nonnegative("b", b)
        check_positive("epsilon", epsilon)
        check_positive("tau", tau, "ms")
        check_finite("i_e", i_e)
        check_finite("v_th", v_th)
        check_nonnegative("t_ref", t_ref, "ms")
        p = lambda x, name: as_param(x, n, name)  # noqa: E731
        self.a, self.b, self.epsilon, self.tau = (
            p(a, "a"),
            p(b, "b"),
            p(epsilon, "epsilon"),
            p(tau, "tau"),
        )
        self.i_e, self.v_th, self.t_ref = p(i_e, "i_e"), p(v_th, "v_th"), p(t_ref, "t_ref")
        self.v_init, self.w_init = as_init(v_init), as_init(w_init)
        self.integrator = integrator if integrator is not None else RK4()
        self.surrogate = surrogate if surrogate is not None else FastSigmoid()

    def init(self, key, dt) -> dict:
        kv, kw = jax.random.split(key)
        return {
            "v": self.v_init.sample(kv, (self.n,)),
            "w": self.w_init.sample(kw, (self.n,)),
            "refractory": jnp.zeros((self.n,), jnp.int32),
        }

    def vector_field(self, y, drive: SynapticDrive, i_ext):
        v, w = y["v"], y["w"]
        i_in = drive.at(v) + self.i_e + i_ext
        dv = (v - v**3 / 3.0 - w + i_in) / self.tau
        dw = self.epsilon * (v + self.a - self.b * w) / self.tau
        return {"v": dv, "w": dw}

    def step(self, state, drive, i, dt, key):
        y = {"v": state["v"], "w": state["w"]}
        y_new = self.integrator.step(lambda z: self.vector_field(z, drive, 0.0), y, dt)
        v_new = y_new["v"] + drive.jump
        held = state["refractory"] > 0
        spike = upward_crossing(state["v"], v_new, self.v_th, held, self.surrogate)
        counter = refractory_update(state["refractory"], spike, self.t_ref, dt)
        return {"v": v_new, "w": y_new["w"], "refractory": counter}, spike
