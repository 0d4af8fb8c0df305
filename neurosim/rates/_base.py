"""Rate-model interface: a vector field over explicit per-node state, node axis first."""

from __future__ import annotations

import abc
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from .._component import AbstractComponent, replace_static
from .._init import as_init
from .._validate import as_param, check_finite
from ..integrators import AbstractIntegrator, Heun
from ._noise import AdditiveNoise, check_integrator, check_noise

__all__ = [
    "AbstractRateModel",
    "node_params",
    "node_inits",
    "node_integration",
    "wong_wang_rate",
]


class AbstractRateModel(AbstractComponent):
    """``n`` nodes (neural masses, rate populations or oscillators) of one model.

    A component (:mod:`neurosim._component`). Parameters are arrays of shape ``(n,)``; the
    state is a dict of arrays of shape ``(n,)`` named by ``state_names``. Subclasses
    implement:

    * ``vector_field(state, c) -> dict``: time derivatives (per ms) given the coupling input
      ``c`` (what :mod:`neurosim.rates` couplings compute from the other nodes' ``output``);
    * ``output(state) -> array`` of shape ``(n,)`` or ``(n, k)``: what a node sends to the
      others (a firing rate, a gating variable, a phase, ...);
    * optionally ``observables(state, c) -> dict`` of derived ``(n,)`` quantities that can be
      recorded (rates in Hz, EEG-like signals) and ``bound(state)``, applied after every step
      (e.g. keep gating variables in ``[0, 1]``).

    The component pair is shared: ``init(key, dt)`` samples each variable from its
    initializer in ``inits``; ``step(state, c, i, dt, key) -> (state, y)`` integrates
    ``vector_field`` over ``dt`` with ``c`` held, using the model's ``integrator`` (default
    :class:`~neurosim.integrators.Heun`), adds the model's ``noise`` (an
    :class:`~neurosim.rates.AdditiveNoise` or None; ``key`` is this step's key), applies
    ``bound`` and returns the new state and ``y = output(state)``. Replace the integrator or
    the noise with :meth:`with_integration`.

    Example:
        >>> import jax, jax.numpy as jnp, neurosim as ns
        >>> m = ns.rates.ReducedWongWangEI(2)
        >>> s = m.init(jax.random.key(0), 0.1)
        >>> s, y = m.step(s, jnp.zeros(2), 0, 0.1, None)
    """

    n: eqx.AbstractVar[int]
    inits: eqx.AbstractVar[dict]
    state_names: ClassVar[tuple[str, ...]]
    integrator: AbstractIntegrator = eqx.field(default=Heun(), kw_only=True)
    noise: AdditiveNoise | None = eqx.field(default=None, kw_only=True)

    def init(self, key, dt) -> dict:
        """Initial state: each variable sampled from its initializer in ``inits``."""
        keys = jax.random.split(key, len(self.state_names))
        return {
            name: self.inits[name].sample(k, (self.n,))
            for name, k in zip(self.state_names, keys, strict=True)
        }

    def step(self, state: dict, drive, i, dt, key) -> tuple[dict, jax.Array]:
        """Integrate one step of ``dt`` ms with the coupling input ``drive`` held; ``(state, y)``.

        Noise (Euler–Maruyama increment ``sigma sqrt(dt) xi`` after the drift step) uses
        ``fold_in(key, index of the variable in state_names)``.
        """
        nodes = self.integrator.step(lambda x: self.vector_field(x, drive), state, dt)
        if self.noise is not None:
            sq = jnp.sqrt(dt)
            for k, name in enumerate(self.state_names):
                if name in self.noise.sigma:
                    xi = jax.random.normal(jax.random.fold_in(key, k), (self.n,), nodes[name].dtype)
                    nodes = {**nodes, name: nodes[name] + self.noise.sigma[name] * sq * xi}
        nodes = self.bound(nodes)
        return nodes, self.output(nodes)

    def with_integration(self, *, integrator=None, noise=None) -> AbstractRateModel:
        """A copy with ``integrator`` and/or ``noise`` replaced (``None``: keep the model's).

        Example:
            >>> import neurosim as ns
            >>> m = ns.rates.ReducedWongWangEI(2).with_integration(
            ...     integrator=ns.integrators.RK4(), noise=ns.rates.AdditiveNoise({"S_e": 1e-3}))
        """
        new = {}
        if integrator is not None:
            check_integrator(integrator)
            new["integrator"] = integrator
        if noise is not None:
            check_noise(noise, self)
            new["noise"] = noise
        return replace_static(self, **new) if new else self

    @abc.abstractmethod
    def vector_field(self, state: dict, c) -> dict:
        """Time derivatives ``{name: (n,) per ms}`` given the coupling input ``c``."""

    @abc.abstractmethod
    def output(self, state: dict):
        """What a node sends to the others, ``(n,)`` or ``(n, k)``."""

    def observables(self, state: dict, c) -> dict:
        return {}

    def bound(self, state: dict) -> dict:
        return state

    def coupling_shape(self) -> tuple[int, ...]:
        """Trailing shape of ``output`` per node (``()`` for a scalar output)."""
        out = jax.eval_shape(self.output, jax.eval_shape(self.init, jax.random.key(0), 0.1))
        return tuple(out.shape[1:])


def node_params(n: int, **values) -> dict:
    """Check finiteness and broadcast every value to ``(n,)`` (the node axis)."""
    out = {}
    for name, val in values.items():
        check_finite(name, val)
        out[name] = as_param(val, n, name)
    return out


def node_integration(model, integrator, noise) -> tuple:
    """``(integrator, noise)`` for a model's constructor: validated, Heun by default."""
    if integrator is not None:
        check_integrator(integrator)
    if noise is not None:
        check_noise(noise, model)
    return (integrator if integrator is not None else Heun()), noise


def node_inits(names: tuple[str, ...], defaults: dict, given: dict | None) -> dict:
    """Initializers per state variable: ``given`` (numbers or ``ns.init`` objects) over defaults."""
    given = dict(given or {})
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise ValueError(f"init has unknown state variables {unknown}; the model has {list(names)}")
    return {k: as_init(given.get(k, defaults[k])) for k in names}


def wong_wang_rate(current, a, b, d):
    """Abbott–Chance transfer function of Wong & Wang (2006) (Hz).

    ``H(I) = u / (1 - exp(-d u))`` with ``u = a I - b`` (Hz), ``a`` (Hz/nA), ``b`` (Hz) and
    ``d`` (ms; ``d u`` is made dimensionless with the factor 1e-3). ``H -> 1/d`` as ``u -> 0``;
    evaluated there with a series so the value and its gradient stay finite.
    """
    u = a * current - b
    z = d * u * 1e-3
    small = jnp.abs(z) < 1e-6
    z_safe = jnp.where(small, 1.0, z)
    # z / (1 - e^-z); for z < -80 the value is below 1e-33, and clipping the exponent keeps
    # it (and its gradient) finite instead of overflowing.
    denom = -jnp.expm1(-jnp.maximum(z_safe, -80.0))
    ratio = jnp.where(small, 1.0 + 0.5 * z, z_safe / denom)
    return ratio / (d * 1e-3)
