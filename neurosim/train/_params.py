"""Which parameters train, and how physical parameters stay in range.

* :func:`trainable` turns "these parts of the model" into a filter spec for
  ``eqx.partition``; everything else (and every non-float leaf) stays fixed.
* :class:`Positive` and :class:`Bounded` store an unconstrained ``raw`` value and map it into
  range (softplus, scaled sigmoid), so gradient steps can never produce e.g. a negative time
  constant. Put them into a model with :func:`constrain`; :func:`unwrap` replaces them by
  their values before the model is run (the training step does this for you). The maps are
  the shared transforms of :mod:`neurosim._transforms` (:class:`SoftplusPositive`, and the
  sigmoid ``Bounded`` map that ``ns.fit`` uses too).
"""

from __future__ import annotations

import abc
from collections.abc import Callable

import equinox as eqx
import jax

from .._transforms import AbstractTransform, SoftplusPositive
from .._transforms import Bounded as _BoundedMap

__all__ = [
    "AbstractConstrained",
    "Positive",
    "Bounded",
    "SoftplusPositive",
    "constrain",
    "unwrap",
    "trainable",
]


class AbstractConstrained(eqx.Module):
    """A parameter stored as an unconstrained ``raw`` array; ``value`` is the physical one."""

    raw: eqx.AbstractVar[jax.Array]

    @abc.abstractmethod
    def transform(self) -> AbstractTransform:
        """The map from ``raw`` to ``value`` (a shared :mod:`neurosim._transforms` bijection)."""

    @property
    def value(self) -> jax.Array:
        """The physical value, ``transform().to_physical(raw)``."""
        return self.transform().to_physical(self.raw)


class Positive(AbstractConstrained):
    """``value = lower + softplus(raw)`` > ``lower`` (e.g. time constants, conductances).

    The map is :class:`SoftplusPositive` (linear far above ``lower``); ``ns.fit.Positive`` is
    the *exponential* map :class:`~neurosim.fit.ExpPositive`, a different transform.

    Example:
        >>> import neurosim as ns
        >>> p = ns.train.Positive(20.0, lower=1.0)
        >>> float(p.value)  # doctest: +ELLIPSIS
        20.0...
    """

    raw: jax.Array
    lower: float = eqx.field(static=True)

    def __init__(self, value, lower: float = 0.0):
        self.lower = float(lower)
        self.raw = self.transform().to_unconstrained(value)

    def transform(self) -> SoftplusPositive:
        return SoftplusPositive(self.lower)


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
        self.low, self.high = float(low), float(high)
        self.raw = self.transform().to_unconstrained(value)

    def transform(self) -> _BoundedMap:
        return _BoundedMap(self.low, self.high)


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
