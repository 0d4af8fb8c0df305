"""Deterministic current waveforms (pA): linear ramps and sinusoids."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validate import as_float_array, check_finite, check_nonnegative, is_concrete
from ._inputs import AbstractCurrent

__all__ = ["RampCurrent", "SinusoidalCurrent"]


class RampCurrent(AbstractCurrent):
    r"""A linear ramp from ``amplitude_start`` at ``start`` to ``amplitude_stop`` at ``stop`` (pA).

    Zero before ``start`` and from ``stop`` on (``hold=True``: ``amplitude_stop`` is held after
    ``stop``). Step ``k`` injects the value at the middle of the step, :math:`t_k + dt/2`,
    which is the exact step average of the ramp.

    Args:
        start, stop: ramp start and end (ms), ``start < stop``.
        amplitude_start, amplitude_stop: current at ``start`` and ``stop`` (pA); scalars or
            one per target neuron.
        hold: keep ``amplitude_stop`` after ``stop``.

    Example:
        >>> import neurosim as ns
        >>> ramp = ns.inputs.RampCurrent(100.0, 600.0, 0.0, 500.0)  # 1 pA/ms for 500 ms
    """

    start: jax.Array = eqx.field(converter=as_float_array)
    stop: jax.Array = eqx.field(converter=as_float_array)
    amplitude_start: jax.Array = eqx.field(converter=as_float_array)
    amplitude_stop: jax.Array = eqx.field(converter=as_float_array)
    hold: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        for name in ("start", "stop", "amplitude_start", "amplitude_stop"):
            check_finite(name, getattr(self, name))
        if is_concrete(self.start) and not np.all(np.asarray(self.stop) > np.asarray(self.start)):
            raise ValueError(f"stop must be > start (ms), got start={self.start}, stop={self.stop}")

    def step(self, state, drive, i, dt, key):
        t = (i + 0.5) * dt
        frac = (t - self.start) / (self.stop - self.start)
        ramp = self.amplitude_start + (self.amplitude_stop - self.amplitude_start) * frac
        after = self.amplitude_stop if self.hold else jnp.zeros_like(ramp)
        out = jnp.where(t < self.start, 0.0, jnp.where(t < self.stop, ramp, after))
        return state, out


class SinusoidalCurrent(AbstractCurrent):
    r"""Sinusoidal current :math:`I(t) = I_0 + A \sin(2\pi f t + \varphi)` (pA), t in ms.

    Step ``k`` injects the value at the middle of the step, :math:`t_k + dt/2` (second-order
    accurate step average). ``start``/``stop`` (ms) limit it to a window (zero outside).

    Args:
        amplitude: :math:`A` (pA).
        frequency: :math:`f` (Hz), >= 0.
        phase: :math:`\varphi` (rad).
        offset: :math:`I_0` (pA).
        start, stop: active window (ms); default always on.

    Example:
        >>> import neurosim as ns
        >>> ac = ns.inputs.SinusoidalCurrent(amplitude=50.0, frequency=10.0, offset=200.0)
    """

    amplitude: jax.Array = eqx.field(converter=as_float_array)
    frequency: jax.Array = eqx.field(converter=as_float_array)
    phase: jax.Array = eqx.field(converter=as_float_array, default=0.0)
    offset: jax.Array = eqx.field(converter=as_float_array, default=0.0)
    start: jax.Array = eqx.field(converter=as_float_array, default=0.0)
    stop: jax.Array = eqx.field(converter=as_float_array, default=np.inf)

    def __check_init__(self):
        for name in ("amplitude", "phase", "offset", "start"):
            check_finite(name, getattr(self, name))
        check_nonnegative("frequency", self.frequency, "Hz")

    def step(self, state, drive, i, dt, key):
        t = (i + 0.5) * dt
        val = self.offset + self.amplitude * jnp.sin(
            2.0 * jnp.pi * self.frequency * 1e-3 * t + self.phase
        )
        return state, jnp.where((t >= self.start) & (t < self.stop), val, 0.0)
