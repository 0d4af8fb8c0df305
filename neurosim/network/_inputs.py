"""External current inputs (pA) injected into populations.

An input is a component (:mod:`neurosim._component`): a pure function of the integer step
counter (and of its own state, for noise processes), ``init(key, dt) -> dict`` and
``step(state, None, i, dt, key) -> (state, current)``, with ``current`` (pA) broadcastable to
``(n,)``. Inputs are size-generic as written; ``bind(n)`` sizes one for ``n`` target neurons
(the network builder does it at ``add_input``).
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._component import AbstractComponent, replace_static
from .._validate import as_float_array, check_bound, check_finite, check_size

__all__ = ["AbstractCurrent", "ConstantCurrent", "StepCurrent", "ArrayCurrent"]


class AbstractCurrent(AbstractComponent):
    """Base class of injected currents (pA), a component (see :mod:`neurosim._component`).

    * ``init(key, dt) -> dict``: the state for the bound number of targets (``{}`` for
      deterministic waveforms);
    * ``step(state, drive, i, dt, key) -> (state, current)``: the current (pA) injected
      during step ``i`` (from ``t = i dt``), broadcastable to ``(n,)``; ``drive`` is unused
      (``None``).

    Example:
        >>> import neurosim as ns
        >>> cur = ns.inputs.StepCurrent([10.0], [200.0]).bind(5)
        >>> state, i_pa = cur.step(cur.init(None, 0.1), None, 100, 0.1, None)
    """

    n: int | None = eqx.field(default=None, static=True, kw_only=True)

    def bind(self, n: int) -> AbstractCurrent:
        """A copy of this input for ``n`` target neurons."""
        return replace_static(self, n=check_size("n", n))

    def _size(self) -> int:
        check_bound(self, self.n, f"call .bind(n) first, e.g. {type(self).__name__}(...).bind(100)")
        return self.n

    def init(self, key, dt) -> dict:
        """State of the bound input; deterministic inputs have none (``{}``)."""
        self._size()
        return {}

    @abc.abstractmethod
    def step(self, state: dict, drive, i, dt, key) -> tuple[dict, jax.Array]:
        """The current (pA) of step ``i``; returns ``(state, current)``."""

    def n_steps_available(self) -> int | None:
        """Number of steps the input is defined for (``None``: unbounded)."""
        return None


class ConstantCurrent(AbstractCurrent):
    """A constant current ``amplitude`` (pA), scalar or one value per target neuron."""

    amplitude: jax.Array = eqx.field(converter=as_float_array)

    def __check_init__(self):
        check_finite("amplitude", self.amplitude)

    def step(self, state, drive, i, dt, key):
        return state, self.amplitude


class StepCurrent(AbstractCurrent):
    """Piecewise-constant current: ``amplitudes[k]`` (pA) from ``times[k]`` (ms) on.

    Zero before ``times[0]``. Example: ``StepCurrent([100, 600], [250.0, 0.0])`` is a 500 ms
    pulse of 250 pA starting at 100 ms.
    """

    times: jax.Array = eqx.field(converter=as_float_array)
    amplitudes: jax.Array = eqx.field(converter=as_float_array)

    def __check_init__(self):
        t = self.times
        if t.ndim != 1 or self.amplitudes.shape[:1] != t.shape:
            raise ValueError(
                f"times must be 1-D and amplitudes must have the same leading length, got "
                f"{t.shape} and {self.amplitudes.shape}"
            )
        if not isinstance(t, jax.core.Tracer) and np.any(np.diff(np.asarray(t)) < 0):
            raise ValueError(f"times must be non-decreasing (ms), got {np.asarray(t)}")
        check_finite("amplitudes", self.amplitudes)

    def step(self, state, drive, i, dt, key):
        t = i * dt
        # Compare on the step grid, so a change at ``times[k]`` takes effect at the step
        # whose start time is ``times[k]`` (half-step tolerance against rounding).
        k = jnp.sum(self.times <= t + 0.5 * dt) - 1
        amp = self.amplitudes[jnp.clip(k, 0, None)]
        return state, jnp.where(k >= 0, amp, jnp.zeros_like(amp))


class ArrayCurrent(AbstractCurrent):
    """A current given per time step: ``values[step]`` (pA), shape ``(T,)`` or ``(T, n)``.

    Simulating past ``T`` steps is an error (checked by :func:`neurosim.simulate`).
    """

    values: jax.Array = eqx.field(converter=as_float_array)

    def __check_init__(self):
        if self.values.ndim not in (1, 2):
            raise ValueError(f"values must have shape (T,) or (T, n), got {self.values.shape}")

    def step(self, state, drive, i, dt, key):
        return state, self.values[jnp.clip(i, 0, self.values.shape[0] - 1)]

    def n_steps_available(self) -> int:
        return int(self.values.shape[0])
