"""Heaviside spike function with surrogate derivatives.

``spike = H(x)`` in the forward pass (``x = v - v_th`` in mV); in the backward pass the
derivative is replaced by a smooth pseudo-derivative ``sigma'(x)`` with an explicit ``scale``
(1/mV), so the same model code serves simulation and gradient training.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp

__all__ = ["AbstractSurrogate", "FastSigmoid", "Arctan", "Sigmoid", "heaviside"]


@functools.cache
def _make_heaviside(grad_fn):
    @jax.custom_jvp
    def h(x, scale):
        return (x >= 0).astype(x.dtype)

    @h.defjvp
    def h_jvp(primals, tangents):
        x, scale = primals
        x_dot, _ = tangents
        out = (x >= 0).astype(x.dtype)
        return out, grad_fn(x, jax.lax.stop_gradient(scale)) * x_dot

    return h


class AbstractSurrogate(eqx.Module):
    """A Heaviside step whose derivative is replaced by ``derivative(x, scale)``.

    Subclasses define a static method ``derivative(x, scale)`` and a ``scale`` field.
    """

    scale: eqx.AbstractVar[jax.Array]

    @staticmethod
    def derivative(x, scale):
        raise NotImplementedError

    def __call__(self, x):
        return _make_heaviside(type(self).derivative)(x, jnp.asarray(self.scale, x.dtype))


def _scale_field(default):
    return eqx.field(default=default, converter=lambda s: jnp.asarray(s, dtype=float))


class FastSigmoid(AbstractSurrogate):
    """SuperSpike / fast sigmoid (Zenke & Ganguli 2018): ``1 / (1 + scale |x|)^2``."""

    scale: jax.Array = _scale_field(1.0)

    @staticmethod
    def derivative(x, scale):
        return 1.0 / (1.0 + scale * jnp.abs(x)) ** 2


class Arctan(AbstractSurrogate):
    """Arctan surrogate: ``1 / (1 + (pi scale x / 2)^2)`` (derivative of ``atan``-step)."""

    scale: jax.Array = _scale_field(1.0)

    @staticmethod
    def derivative(x, scale):
        return 1.0 / (1.0 + (jnp.pi / 2.0 * scale * x) ** 2)


class Sigmoid(AbstractSurrogate):
    """Logistic surrogate: derivative of ``sigmoid(scale x)``, i.e. ``scale s (1 - s)``."""

    scale: jax.Array = _scale_field(1.0)

    @staticmethod
    def derivative(x, scale):
        s = jax.nn.sigmoid(scale * x)
        return scale * s * (1.0 - s)


def heaviside(x, surrogate: AbstractSurrogate | None = None):
    """``H(x)`` (1 where ``x >= 0``) with ``surrogate``'s derivative (default fast sigmoid)."""
    return (surrogate if surrogate is not None else FastSigmoid())(x)
