"""External current inputs (pA) injected into populations.

An input is a pure function of the integer step counter (and its own state, for noise
processes): ``init_state(n, key) -> dict`` and ``__call__(state, step, dt, key) ->
(state, current)``, with ``current`` broadcastable to ``(n,)``.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validate import check_finite

__all__ = ["AbstractCurrent", "ConstantCurrent", "StepCurrent", "ArrayCurrent"]


def _arr(x):
    return jnp.asarray(x, dtype=jnp.result_type(float))


class AbstractCurrent(eqx.Module):
    """Base class of injected currents (pA)."""

    def init_state(self, n: int, key) -> dict:
        return {}

    def __call__(self, state: dict, step, dt, key):
        raise NotImplementedError

    def n_steps_available(self) -> int | None:
        """Number of steps the input is defined for (``None``: unbounded)."""
        return None


class ConstantCurrent(AbstractCurrent):
    """A constant current ``amplitude`` (pA), scalar or one value per target neuron."""

    amplitude: jax.Array = eqx.field(converter=_arr)

    def __check_init__(self):
        check_finite("amplitude", self.amplitude)

    def __call__(self, state, step, dt, key):
        return state, self.amplitude


class StepCurrent(AbstractCurrent):
    """Piecewise-constant current: ``amplitudes[k]`` (pA) from ``times[k]`` (ms) on.

    Zero before ``times[0]``. Example: ``StepCurrent([100, 600], [250.0, 0.0])`` is a 500 ms
    pulse of 250 pA starting at 100 ms.
    """

    times: jax.Array = eqx.field(converter=_arr)
    amplitudes: jax.Array = eqx.field(converter=_arr)

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

    def __call__(self, state, step, dt, key):
        t = step * dt
        # Compare on the step grid, so a change at ``times[k]`` takes effect at the step
        # whose start time is ``times[k]`` (half-step tolerance against rounding).
        k = jnp.sum(self.times <= t + 0.5 * dt) - 1
        amp = self.amplitudes[jnp.clip(k, 0, None)]
        return state, jnp.where(k >= 0, amp, jnp.zeros_like(amp))


class ArrayCurrent(AbstractCurrent):
    """A current given per time step: ``values[step]`` (pA), shape ``(T,)`` or ``(T, n)``.

    Simulating past ``T`` steps is an error (checked by :func:`neurosim.simulate`).
    """

    values: jax.Array = eqx.field(converter=_arr)

    def __check_init__(self):
        if self.values.ndim not in (1, 2):
            raise ValueError(f"values must have shape (T,) or (T, n), got {self.values.shape}")

    def __call__(self, state, step, dt, key):
        return state, self.values[jnp.clip(step, 0, self.values.shape[0] - 1)]

    def n_steps_available(self) -> int:
        return int(self.values.shape[0])
