"""Heaviside spike function with surrogate derivatives.

``spike = H(x)`` in the forward pass (``x = v - v_th`` in mV); in the backward pass the
derivative is replaced by a pseudo-derivative ``sigma'(x)`` with an explicit ``scale``
(1/mV), so the same model code serves simulation and gradient training (Neftci, Mostafa &
Zenke 2019, *IEEE Signal Process. Mag.* 36:51).

Every surrogate has its maximum at ``x = 0``; ``scale`` sets its width (about ``1/scale`` mV).
Peak heights differ by family and are stated per class. A surrogate with peak 1 and width
``1/scale`` gives gradients of the order of the true Heaviside averaged over ``1/scale`` mV.

Whether the membrane reset carries gradient is a neuron option (``detach_reset``, default True:
Zenke & Vogels 2021, *Neural Comput.* 33:899, found detaching the reset from the graph helps
learning; Eshraghian et al. 2023, *Proc. IEEE* 111:1016, use the same default).
"""

from __future__ import annotations

import abc
import functools
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp

__all__ = [
    "AbstractSurrogate",
    "FastSigmoid",
    "SuperSpike",
    "Arctan",
    "Sigmoid",
    "Triangular",
    "Boxcar",
    "StraightThrough",
    "CustomSurrogate",
    "heaviside",
]


@functools.cache
def _make_heaviside(grad_fn):
    @jax.custom_jvp
    def h(x, scale, amplitude):
        x = jnp.asarray(x)
        return (x >= 0).astype(x.dtype)

    @h.defjvp
    def h_jvp(primals, tangents):
        x, scale, amplitude = primals
        x, x_dot = jnp.asarray(x), tangents[0]
        out = (x >= 0).astype(x.dtype)
        scale, amplitude = jax.lax.stop_gradient((scale, amplitude))
        return out, (amplitude * grad_fn(x, scale)).astype(x.dtype) * x_dot

    return h


class AbstractSurrogate(eqx.Module):
    """A Heaviside step whose derivative is replaced by ``derivative(x, scale)``.

    Subclasses define a static method ``derivative(x, scale)``, a ``scale`` field (1/mV when
    ``x`` is in mV) and an ``amplitude`` field (default 1) multiplying the pseudo-derivative.
    Both are array leaves: changing them does not recompile; no gradient flows into them.

    ``amplitude`` converts between conventions: libraries that work with a membrane
    potential normalised by the threshold (snnTorch, Norse, Zenke & Vogels 2021) use peak 1
    per threshold unit; in mV with a distance ``theta`` (mV) from reset to threshold that is
    ``scale = beta / theta`` and ``amplitude = 1 / theta``. The amplitude matters for
    recurrent networks (it sets the gain of the backward recursion); for feed-forward
    networks trained with Adam it is nearly irrelevant.
    """

    scale: eqx.AbstractVar[jax.Array]
    amplitude: eqx.AbstractVar[jax.Array]

    @staticmethod
    @abc.abstractmethod
    def derivative(x, scale):
        """The pseudo-derivative at ``x`` (before ``amplitude``)."""

    def _grad_fn(self):
        return type(self).derivative

    def __call__(self, x):
        x = jnp.asarray(x, jnp.result_type(x, float))
        return _make_heaviside(self._grad_fn())(
            x, jnp.asarray(self.scale, x.dtype), jnp.asarray(self.amplitude, x.dtype)
        )


def _check_scale(s):
    s = jnp.asarray(s, dtype=float)
    if not isinstance(s, jax.core.Tracer) and not bool(jnp.all(s > 0)):
        raise ValueError(f"surrogate scale must be > 0 (1/mV), got {s}")
    return s


def _scale_field(default):
    return eqx.field(default=default, converter=_check_scale)


def _check_amplitude(a):
    a = jnp.asarray(a, dtype=float)
    if not isinstance(a, jax.core.Tracer) and not bool(jnp.all(a >= 0)):
        raise ValueError(f"surrogate amplitude must be >= 0, got {a}")
    return a


def _amplitude_field():
    return eqx.field(default=1.0, converter=_check_amplitude)


class FastSigmoid(AbstractSurrogate):
    """SuperSpike / fast sigmoid (Zenke & Ganguli 2018, *Neural Comput.* 30:1514).

    ``sigma'(x) = 1 / (1 + scale |x|)^2``; peak 1, integral ``2/scale``.
    """

    scale: jax.Array = _scale_field(1.0)
    amplitude: jax.Array = _amplitude_field()

    @staticmethod
    def derivative(x, scale):
        return 1.0 / (1.0 + scale * jnp.abs(x)) ** 2


SuperSpike = FastSigmoid


class Arctan(AbstractSurrogate):
    """Arctan surrogate (Fang et al. 2021, *ICCV*): ``1 / (1 + (pi scale x / 2)^2)``.

    Proportional to the derivative of ``atan(pi scale x / 2)``: peak 1, integral ``2/scale``.
    """

    scale: jax.Array = _scale_field(1.0)
    amplitude: jax.Array = _amplitude_field()

    @staticmethod
    def derivative(x, scale):
        return 1.0 / (1.0 + (jnp.pi / 2.0 * scale * x) ** 2)


class Sigmoid(AbstractSurrogate):
    """Logistic surrogate: derivative of ``sigmoid(scale x)``, i.e. ``scale s (1 - s)``.

    Peak ``scale / 4``, integral 1 (the derivative of a smooth step).
    """

    scale: jax.Array = _scale_field(1.0)
    amplitude: jax.Array = _amplitude_field()

    @staticmethod
    def derivative(x, scale):
        s = jax.nn.sigmoid(scale * x)
        return scale * s * (1.0 - s)


class Triangular(AbstractSurrogate):
    """Triangular (piecewise-linear) surrogate (Bellec et al. 2018, *NeurIPS*; 2020).

    ``sigma'(x) = max(0, 1 - scale |x|)``: peak 1, support ``|x| < 1/scale``, integral
    ``1/scale``. Bellec et al. use peak 0.3 and support one threshold-to-reset distance;
    multiply the loss or choose ``scale`` accordingly.
    """

    scale: jax.Array = _scale_field(1.0)
    amplitude: jax.Array = _amplitude_field()

    @staticmethod
    def derivative(x, scale):
        return jnp.maximum(0.0, 1.0 - scale * jnp.abs(x))


class Boxcar(AbstractSurrogate):
    """Rectangular surrogate (Wu et al. 2018, *Front. Neurosci.* 12:331).

    ``sigma'(x) = 1`` for ``|x| < 1/(2 scale)``, else 0: peak 1, width ``1/scale``, integral
    ``1/scale``.
    """

    scale: jax.Array = _scale_field(1.0)
    amplitude: jax.Array = _amplitude_field()

    @staticmethod
    def derivative(x, scale):
        return (jnp.abs(x) < 0.5 / scale).astype(x.dtype)


class StraightThrough(AbstractSurrogate):
    """Straight-through estimator (Bengio, Léonard & Courville 2013, arXiv:1308.3432).

    ``sigma'(x) = scale`` everywhere (default 1): the gradient passes the step unchanged.
    """

    scale: jax.Array = _scale_field(1.0)
    amplitude: jax.Array = _amplitude_field()

    @staticmethod
    def derivative(x, scale):
        return jnp.broadcast_to(scale, x.shape).astype(x.dtype)


class CustomSurrogate(AbstractSurrogate):
    """A user-defined surrogate: ``fn(x, scale)`` is the pseudo-derivative.

    Args:
        fn: a pure JAX function of ``x`` (mV) and ``scale`` returning an array shaped like
            ``x``. It is a static field: use a module-level function (not a fresh lambda per
            call) so that compiled code is reused.
        scale: its width parameter (1/mV), > 0.
        amplitude: factor on ``fn`` (default 1).

    Example:
        >>> import jax.numpy as jnp, neurosim as ns
        >>> gauss = ns.neurons.CustomSurrogate(lambda x, s: jnp.exp(-((s * x) ** 2)), 2.0)
        >>> z = gauss(jnp.array([-1.0, 0.5]))
    """

    fn: Callable = eqx.field(static=True)
    scale: jax.Array
    amplitude: jax.Array

    def __init__(self, fn: Callable, scale=1.0, amplitude=1.0):
        if not callable(fn):
            raise ValueError(f"fn must be a function of (x, scale), got {fn!r}")
        self.fn = fn
        self.scale = _check_scale(scale)
        self.amplitude = _check_amplitude(amplitude)

    def derivative(self, x, scale):
        """The pseudo-derivative ``fn(x, scale)``."""
        return self.fn(x, scale)

    def _grad_fn(self):
        return self.fn


def heaviside(x, surrogate: AbstractSurrogate | None = None):
    """``H(x)`` (1 where ``x >= 0``) with ``surrogate``'s derivative (default fast sigmoid).

    Example:
        >>> import jax, jax.numpy as jnp, neurosim as ns
        >>> g = jax.grad(lambda x: ns.neurons.heaviside(x, ns.neurons.Triangular(0.5)).sum())
        >>> g(jnp.array([0.0, 1.0, 3.0]))  # 1 - 0.5 |x|, clipped at 0
        Array([1. , 0.5, 0. ], dtype=float32)
    """
    return (surrogate if surrogate is not None else FastSigmoid())(x)
