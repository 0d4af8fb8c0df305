"""Which parameters train, and how physical parameters stay in range.

* :func:`trainable` turns "these parts of the model" into a filter spec for
  ``eqx.partition``; everything else (and every non-float leaf) stays fixed.
* :class:`Positive` and :class:`Bounded` store an unconstrained ``raw`` value and map it into
  range (softplus, scaled sigmoid), so gradient steps can never produce e.g. a negative time
  constant. Put them into a model with :func:`constrain`; :func:`unwrap` replaces them by
  their values before the model is run (the training step does this for you).
"""

from __future__ import annotations

import abc
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["AbstractConstrained", "Positive", "Bounded", "constrain", "unwrap", "trainable"]


def _inv_softplus(y):
    # log(exp(y) - 1), stable for large y.
    return y + jnp.log(-jnp.expm1(-y))


class AbstractConstrained(eqx.Module):
    """A parameter stored as an unconstrained ``raw`` array; ``value`` is the physical one."""

    raw: eqx.AbstractVar[jax.Array]

    @property
    @abc.abstractmethod
    def value(self) -> jax.Array:
        """The physical (constrained) value."""


class Positive(AbstractConstrained):
    """``value = lower + softplus(raw)`` > ``lower`` (e.g. time constants, conductances).

    Example:
        >>> import neurosim as ns
        >>> p = ns.train.Positive(20.0, lower=1.0)
        >>> float(p.value)  # doctest: +ELLIPSIS
        20.0...
    """

    raw: jax.Array
    lower: float = eqx.field(static=True)

    def __init__(self, value, lower: float = 0.0):
        value = jnp.asarray(value, jnp.result_type(float))
        self.lower = float(lower)
        if not isinstance(value, jax.core.Tracer) and not bool(jnp.all(value > self.lower)):
            raise ValueError(f"Positive: value must be > lower = {self.lower:g}, got {value}")
        self.raw = _inv_softplus(value - self.lower)

    @property
    def value(self):
        return self.lower + jax.nn.softplus(self.raw)


class Bounded(AbstractConstrained):
    """``value = low + (high - low) sigmoid(raw)`` in ``(low, high)``.

    Example:
        >>> import neurosim as ns
        >>> b = ns.train.Bounded(-50.0, low=-60.0, high=-40.0)
        >>> round(float(b.value), 4)
        -50.0
    """

    raw: jax.Array
    low: float = eqx.field(static=True)
    high: float = eqx.field(static=True)

    def __init__(self, value, low: float, high: float):
        value = jnp.asarray(value, jnp.result_type(float))
        self.low, self.high = float(low), float(high)
        if not self.high > self.low:
            raise ValueError(f"Bounded: need high > low, got low={low}, high={high}")
        if not isinstance(value, jax.core.Tracer):
            v = np.asarray(value)
            if not np.all((v > self.low) & (v < self.high)):
                raise ValueError(
                    f"Bounded: value must lie strictly inside ({self.low:g}, {self.high:g}), "
                    f"got {value}"
                )
        frac = (value - self.low) / (self.high - self.low)
        self.raw = jnp.log(frac) - jnp.log1p(-frac)

    @property
    def value(self):
        return self.low + (self.high - self.low) * jax.nn.sigmoid(self.raw)


def _is_constrained(x) -> bool:
    return isinstance(x, AbstractConstrained)


def unwrap(tree):
    """Replace every :class:`AbstractConstrained` node by its ``value`` (idempotent)."""
    return jax.tree.map(
        lambda x: x.value if _is_constrained(x) else x, tree, is_leaf=_is_constrained
    )


def _as_tuple(nodes):
    return nodes if isinstance(nodes, tuple | list) else (nodes,)


def constrain(tree, where: Callable, low: float | None = None, high: float | None = None):
    """Reparametrise the leaves selected by ``where`` to stay in range while training.

    ``low`` only: :class:`Positive` (``value > low``); ``low`` and ``high``: :class:`Bounded`.

    Args:
        tree: a model (pytree).
        where: ``model -> leaf`` or a tuple of leaves (as for ``eqx.tree_at``).
        low, high: bounds, in the parameter's units.

    Example:
        >>> import jax, neurosim as ns
        >>> net = ns.train.make_snn(jax.random.key(0), [4, 8, 2])
        >>> net = ns.train.constrain(net, lambda m: m.layers[0].neuron.tau_m, low=1.0, high=100.0)
        >>> float(ns.train.unwrap(net).layers[0].neuron.tau_m[0])  # doctest: +ELLIPSIS
        10.0...
    """
    if low is None:
        raise ValueError("constrain needs at least low= (a lower bound)")

    def make(x):
        if _is_constrained(x):
            x = x.value
        return Positive(x, low) if high is None else Bounded(x, low, high)

    return eqx.tree_at(where, tree, replace_fn=make)


def trainable(tree, where: Callable | None = None):
    """A filter spec (bool pytree) selecting the float arrays under ``where(tree)``.

    With ``where=None`` every inexact array trains (``eqx.is_inexact_array``). Use the result
    with ``eqx.partition(tree, spec)`` or pass it as ``filter_spec`` to the training helpers.

    Example:
        >>> import jax, equinox as eqx, neurosim as ns
        >>> net = ns.train.make_snn(jax.random.key(0), [4, 8, 2])
        >>> spec = ns.train.trainable(net, lambda m: (m.layers[0].linear, m.readout.linear))
        >>> params, static = eqx.partition(net, spec)
    """
    if where is None:
        return jax.tree.map(eqx.is_inexact_array, tree)
    spec = jax.tree.map(lambda _: False, tree)
    nodes = _as_tuple(where(tree))
    marks = tuple(jax.tree.map(eqx.is_inexact_array, n) for n in nodes)

    def where_spec(s):
        return tuple(_as_tuple(where(s)))

    return eqx.tree_at(where_spec, spec, replace=marks)
