"""Adaptive-threshold LIF (ALIF / LSNN, GIF-style with a spike-triggered current)."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from .._init import AbstractInit, as_init
from .._validate import as_param, check_finite, check_nonnegative, check_positive, check_size
from ..integrators import AbstractIntegrator, ExpEuler
from ._base import AbstractNeuron, SynapticDrive, refractory_update, reset_value
from ._spiking import check_order
from ._surrogate import AbstractSurrogate, FastSigmoid

__all__ = ["ALIF"]

_RESETS = ("value", "subtract")


class ALIF(AbstractNeuron):
    r"""Leaky integrate-and-fire neuron with an adaptive threshold and adaptation current.

    .. math::
        \tau_m \frac{dv}{dt} &= (E_L - v) + \frac{I_{syn}(v) + I_e + I_{ext} - w}{g_L} \\
        \tau_a \frac{da}{dt} &= -a, \qquad \tau_w \frac{dw}{dt} = -w \\
        \theta(t) &= v_{th} + \beta\, a(t)

    A spike is emitted when ``v >= theta`` (``theta`` uses ``a`` at the end of the step);
    then ``a -> a + 1``, ``w -> w + b`` and ``v`` is reset (``reset="value"``: to
    ``v_reset``; ``reset="subtract"``: by ``theta - v_reset``, keeping the overshoot, as in
    Bellec et al. 2018) and held for ``t_ref``. Between spikes the threshold is therefore
    ``theta(t) = v_th + beta sum_k exp(-(t - t_k)/tau_a)`` over past spikes ``t_k``.

    With ``b = 0`` this is the ALIF of the long short-term memory spiking networks (LSNN,
    Bellec et al. 2018; their discrete ``a_{t+1} = rho a_t + (1 - rho) z_t`` corresponds to
    ``beta = beta_Bellec (1 - rho)``). With ``beta, b != 0`` it is a deterministic GIF
    neuron with one exponential spike-triggered current (``eta``) and one moving-threshold
    kernel (``gamma``) (Mensi et al. 2012; Pozzorini et al. 2015).

    Units: ``v, theta, beta`` mV; ``a`` dimensionless (spikes); ``w, b`` pA; times ms.

    References: Bellec, Salaj, Subramoney, Legenstein & Maass (2018), NeurIPS 31;
    Mensi et al. (2012), J. Neurophysiol. 107:1756; Pozzorini et al. (2015), PLoS Comput.
    Biol. 11:e1004275.

    Args:
        n: number of neurons.
        tau_m, e_l, v_th, v_reset, t_ref, g_l, i_e: as in :class:`LIF` (``v_th`` is the
            baseline threshold).
        beta: threshold increase per unit of ``a`` (mV). tau_a: threshold time constant (ms).
        b: spike-triggered current jump (pA). tau_w: its time constant (ms).
        reset: ``"value"`` (default) or ``"subtract"``.
        v_init: initial ``v`` (mV), default ``e_l``.
        integrator: default exponential Euler (exact for ``v`` with input held over the step
            and for the decays of ``a`` and ``w``).
        surrogate, detach_reset: see :class:`LIF`.

    Example:
        >>> import jax, neurosim as ns
        >>> m = ns.neurons.ALIF(3, beta=2.0, tau_a=200.0, i_e=250.0)
        >>> s = m.init(jax.random.key(0), 0.1)
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
    b: jax.Array
    tau_w: jax.Array
    v_init: AbstractInit
    reset: str = eqx.field(static=True)
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
        beta=1.0,
        tau_a=200.0,
        b=0.0,
        tau_w=100.0,
        reset: str = "value",
        v_init=None,
        integrator: AbstractIntegrator | None = None,
        surrogate: AbstractSurrogate | None = None,
        detach_reset: bool = True,
    ):
        self.n = check_size("n", n)
        check_positive("tau_m", tau_m, "ms")
        check_nonnegative("t_ref", t_ref, "ms")
        check_positive("g_l", g_l, "nS")
        check_positive("tau_a", tau_a, "ms")
        check_positive("tau_w", tau_w, "ms")
        for name, val in (("e_l", e_l), ("v_th", v_th), ("v_reset", v_reset), ("i_e", i_e)):
            check_finite(name, val)
        check_order("v_reset", v_reset, "v_th", v_th)
        check_finite("beta", beta)
        check_finite("b", b)
        if reset not in _RESETS:
            raise ValueError(f"reset must be one of {_RESETS}, got {reset!r}")
        p = lambda x, name: as_param(x, n, name)  # noqa: E731
        self.tau_m, self.e_l, self.v_th = p(tau_m, "tau_m"), p(e_l, "e_l"), p(v_th, "v_th")
        self.v_reset, self.t_ref, self.g_l = p(v_reset, "v_reset"), p(t_ref, "t_ref"), p(g_l, "g_l")
        self.i_e, self.beta, self.tau_a = p(i_e, "i_e"), p(beta, "beta"), p(tau_a, "tau_a")
        self.b, self.tau_w = p(b, "b"), p(tau_w, "tau_w")
        self.reset = reset
        self.v_init = as_init(e_l if v_init is None else v_init)
        self.integrator = integrator if integrator is not None else ExpEuler()
        self.surrogate = surrogate if surrogate is not None else FastSigmoid()
        self.detach_reset = bool(detach_reset)

    def init(self, key, dt) -> dict:
        z = jnp.zeros((self.n,), self.e_l.dtype)
        return {
            "v": self.v_init.sample(key, (self.n,)),
            "a": z,
            "w": z,
            "refractory": jnp.zeros((self.n,), jnp.int32),
        }

    def threshold(self, state):
        """Current threshold ``v_th + beta a`` (mV)."""
        return self.v_th + self.beta * state["a"]

    def vector_field(self, y, drive: SynapticDrive, i_ext, held):
        """``{"v", "a", "w"}`` derivatives (mV/ms, 1/ms, pA/ms); ``dv/dt = 0`` while held."""
        v, a, w = y["v"], y["a"], y["w"]
        i_total = drive.at(v) + self.i_e + i_ext - w
        dv = ((self.e_l - v) + i_total / self.g_l) / self.tau_m
        return {"v": jnp.where(held, 0.0, dv), "a": -a / self.tau_a, "w": -w / self.tau_w}

    def step(self, state, drive, i, dt, key):
        held = state["refractory"] > 0
        y = {k: state[k] for k in ("v", "a", "w")}
        y_new = self.integrator.step(lambda z: self.vector_field(z, drive, 0.0, held), y, dt)
        v_new = jnp.where(held, state["v"], y_new["v"] + drive.jump)
        theta = self.v_th + self.beta * y_new["a"]
        spike = self.surrogate(v_new - theta) * (~held)
        target = self.v_reset if self.reset == "value" else v_new - (theta - self.v_reset)
        v_out = reset_value(v_new, spike, target, self.detach_reset)
        out = {
            "v": v_out,
            "a": y_new["a"] + spike,
            "w": y_new["w"] + self.b * spike,
            "refractory": refractory_update(state["refractory"], spike, self.t_ref, dt),
        }
        return out, spike
