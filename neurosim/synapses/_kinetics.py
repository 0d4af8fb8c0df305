"""Linear synaptic kinetics, stored per postsynaptic neuron.

A kinetics object describes how the summed input of all presynaptic spikes arriving at a
postsynaptic neuron evolves in time. Because the kinetics are linear, all projections onto
the same receptor share one state array of shape ``(n_post, ...)`` (O(neurons) memory, not
O(synapses)). Units follow the output rule: nS for conductance-based receptors, pA for
current-based ones.
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import jax.numpy as jnp

from .._component import AbstractComponent, replace_static
from .._init import AbstractInit, as_init
from .._validate import as_float_array, check_bound, check_positive, check_size
from ..integrators import exp_kernel

__all__ = ["AbstractKinetics", "AbstractLinearKinetics", "Delta", "Exponential", "linear_step"]


class AbstractKinetics(AbstractComponent):
    """Receptor kinetics of ``n`` postsynaptic neurons (a component: :mod:`neurosim._component`).

    Size-generic as written (``Exponential(5.0)``); :meth:`bind` returns a copy sized for
    ``n`` postsynaptic neurons, which the network builder does at ``connect``.

    * ``init(key, dt) -> dict``: the state before any input (bound kinetics only);
    * ``step(state, drive, i, dt, key) -> (state, value)``: advance over ``dt`` ms (exactly,
      for linear kinetics), then add ``drive`` — the summed spike-triggered increments
      ``(n,)`` arriving this step, or ``None`` — and return the new state and
      :meth:`value` of it;
    * ``value(state)``: the synaptic variable seen by the output rule (conductance nS or
      current pA).

    The linear kinetics of this package also expose the two halves of a step,
    ``decay(state, dt)`` and ``add(state, x)``.

    Example:
        >>> import jax.numpy as jnp, neurosim as ns
        >>> syn = ns.synapses.Exponential(5.0).bind(3)
        >>> st = syn.init(None, 0.1)
        >>> st, g = syn.step(st, jnp.array([1.0, 0.0, 2.0]), 0, 0.1, None)
    """

    n: int | None = eqx.field(default=None, static=True, kw_only=True)

    def bind(self, n: int) -> AbstractKinetics:
        """A copy of these kinetics for ``n`` postsynaptic neurons."""
        return replace_static(self, n=check_size("n", n))

    def _size(self) -> int:
        check_bound(self, self.n, f"call .bind(n) first, e.g. {type(self).__name__}(...).bind(100)")
        return self.n

    @abc.abstractmethod
    def init(self, key, dt) -> dict:
        """State of the ``n`` bound postsynaptic neurons before any input."""

    @abc.abstractmethod
    def step(self, state: dict, drive, i, dt, key) -> tuple[dict, jax.Array]:
        """Decay over ``dt`` ms, add ``drive`` (increments ``(n,)`` or None); ``(state, value)``."""

    @abc.abstractmethod
    def value(self, state: dict):
        """The synaptic variable seen by the output rule (conductance nS or current pA)."""


class AbstractLinearKinetics(AbstractKinetics):
    r"""Linear kinetics with a time course: exact decay, additive input, membrane average.

    Besides the component methods, implement

    * ``decay(state, dt)``: the state after ``dt`` ms without input (exact);
    * ``add(state, x)``: the state after the increments ``x`` ``(n,)`` arrive;
    * ``membrane_average(state, dt, rate)``: the constant value that, held over the next
      ``dt`` ms, has the same effect on a linear membrane of decay rate ``rate`` (1/ms,
      ``(g_L + g)/C``) as the true time course of :meth:`value`:

      .. math::
          \bar I = \frac{\int_0^{dt} e^{-\lambda (dt - s)} I(s)\, ds}
                         {\int_0^{dt} e^{-\lambda (dt - s)}\, ds}.

      Current-based receptors (``CUBA``) on a neuron with the
      :class:`~neurosim.integrators.Exact` integrator are fed this value, which makes the
      membrane step the exact propagator of Rotter & Diesmann (1999); see
      :mod:`neurosim.integrators._propagators`.

    Example:
        >>> import jax.numpy as jnp, neurosim as ns
        >>> syn = ns.synapses.Exponential(2.0).bind(1)
        >>> st = syn.add(syn.init(None, 0.1), jnp.array([100.0]))
        >>> i_bar = syn.membrane_average(st, 0.1, 1 / 20.0)  # < 100 pA: it decays in the step
    """

    @abc.abstractmethod
    def decay(self, state: dict, dt) -> dict:
        """The state after ``dt`` ms without input."""

    @abc.abstractmethod
    def add(self, state: dict, x) -> dict:
        """The state after increments ``x`` ``(n,)`` arrive."""

    @abc.abstractmethod
    def membrane_average(self, state: dict, dt, rate):
        """Value held over ``dt`` ms equivalent, for a membrane of rate ``rate`` (1/ms)."""


def linear_step(kinetics, state: dict, drive, dt) -> tuple[dict, jax.Array]:
    """The step of linear kinetics: exact decay over ``dt``, then the increments ``drive``."""
    st = kinetics.decay(state, dt)
    if drive is not None:
        st = kinetics.add(st, drive)
    return st, kinetics.value(st)


class Delta(AbstractKinetics):
    r"""Delta synapse: each spike makes the membrane potential jump by its weight ``w`` (mV).

    The state holds the sum of the weights that arrived in the previous step; the matching
    output rule :class:`~neurosim.synapses.VoltageJump` passes it as ``SynapticDrive.jump``,
    which the neuron adds to ``v`` after integrating its step, so the jump is exact (no
    smoothing): ``v -> v + sum_k w_k``. The pending jump is consumed in one step
    (``decay`` resets it to 0). With the minimal one-step latency, a spike emitted in step
    ``i`` is added to the postsynaptic ``v`` at the end of step ``i + 1`` (``t = (i + 2) dt``),
    before that step's threshold test, like NEST's ``iaf_psc_delta``. Neurons held by
    refractoriness (LIF-type) ignore jumps arriving then (NEST's default as well).

    Example:
        >>> import neurosim as ns
        >>> syn = ns.synapses.Delta()  # weights in mV; output defaults to VoltageJump()
    """

    def init(self, key, dt) -> dict:
        return {"jump": jnp.zeros((self._size(),), jnp.result_type(float))}

    def step(self, state, drive, i, dt, key):
        return linear_step(self, state, drive, dt)

    def decay(self, state, dt):
        return {"jump": jnp.zeros_like(state["jump"])}

    def add(self, state, x):
        return {"jump": state["jump"] + x}

    def value(self, state):
        return state["jump"]


class Exponential(AbstractLinearKinetics):
    r"""Exponentially decaying synapse: :math:`dg/dt = -g/\tau`, ``g += w`` at each spike.

    The decay is integrated exactly, ``g(t + dt) = g(t) exp(-dt/tau)``.

    Args:
        tau: decay time constant (ms), > 0.
        init: initial value of ``g`` (a number or an initializer; default 0); stored as
            ``g_init``.

    Example:
        >>> import neurosim as ns
        >>> ampa = ns.synapses.Exponential(tau=5.0)
    """

    tau: jax.Array
    g_init: AbstractInit | None

    def __init__(self, tau, init: AbstractInit | float | None = None, *, n: int | None = None):
        self.tau = as_float_array(tau)
        self.g_init = None if init is None else as_init(init)
        self.n = None if n is None else check_size("n", n)
        check_positive("tau", self.tau, "ms")

    def init(self, key, dt) -> dict:
        n = self._size()
        if self.g_init is None:
            return {"g": jnp.zeros((n,), self.tau.dtype)}
        return {"g": self.g_init.sample(key, (n,)).astype(self.tau.dtype)}

    def step(self, state, drive, i, dt, key):
        return linear_step(self, state, drive, dt)

    def decay(self, state, dt):
        return {"g": state["g"] * jnp.exp(-dt / self.tau)}

    def add(self, state, x):
        return {"g": state["g"] + x}

    def membrane_average(self, state, dt, rate):
        held = exp_kernel(dt, rate, 0.0)
        return state["g"] * (exp_kernel(dt, rate, 1.0 / self.tau) / held)

    def value(self, state):
        return state["g"]
