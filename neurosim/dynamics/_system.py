"""Continuous-time systems ``dx/dt = f(x, p)`` derived from neurosim models.

A :class:`System` is a pytree holding the model; its right-hand side is the model's own
``vector_field`` (nothing is re-typed here), evaluated for one unit (neuron or node) or for a
whole coupled rate network. The free state variables form a flat vector ``x``; other state
variables are frozen at given values. Parameters ``p`` (a dict) override model fields, the
input (``i_ext`` for neurons, ``c`` for rate nodes), coupling fields (``G``) and frozen state
values by name; values are traced arrays, so one compiled analysis serves a whole grid.
"""

from __future__ import annotations

import abc
import inspect
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["System", "system", "from_function"]


def _float():
    return jnp.result_type(float)


def _array_fields(module) -> dict:
    """Names and values of a module's inexact array fields (the physiological parameters)."""
    out = {}
    for name in getattr(module, "__dataclass_fields__", {}):
        val = getattr(module, name, None)
        if eqx.is_inexact_array(val):
            out[name] = val
    return out


def _inject(module, values: dict):
    """``module`` with each named field replaced by ``value`` broadcast to the field's shape."""
    names = [k for k in values if k in _array_fields(module)]
    if not names:
        return module
    olds = [getattr(module, k) for k in names]
    news = [
        jnp.broadcast_to(jnp.asarray(values[k], o.dtype), o.shape)
        for k, o in zip(names, olds, strict=True)
    ]
    return eqx.tree_at(lambda m: [getattr(m, k) for k in names], module, news)


class System(eqx.Module):
    """A continuous-time system ``dx/dt = f(x, p)`` (time in ms).

    Attributes:
        names: the free state variables, in the order of ``x``.
        defaults: every adjustable parameter and its default value (``p`` overrides them).

    Call it as ``system(x, p)`` (``x`` of shape ``(dim,)``, ``p`` a dict or None).
    """

    names: tuple[str, ...] = eqx.field(static=True)
    defaults: dict

    @abc.abstractmethod
    def bind(self, q: dict) -> Callable:
        """``x -> dx/dt`` for the full parameter dict ``q`` (parameters injected once)."""

    def _rhs(self, x, q: dict):
        return self.bind(q)(x)

    @property
    def dim(self) -> int:
        return len(self.names)

    def params(self, p: dict | None = None) -> dict:
        """``defaults`` overridden by ``p``; unknown names raise ``ValueError``."""
        p = {} if p is None else dict(p)
        unknown = sorted(set(p) - set(self.defaults))
        if unknown:
            raise ValueError(
                f"unknown parameters {unknown}; this system's parameters are "
                f"{sorted(self.defaults)}"
            )
        q = dict(self.defaults)
        for k, v in p.items():
            q[k] = jnp.asarray(v, jnp.result_type(self.defaults[k]))
        return q

    def __call__(self, x, p: dict | None = None):
        return self._rhs(jnp.asarray(x, _float()), self.params(p))

    def jacobian(self, x, p: dict | None = None):
        """``df/dx`` at ``x`` (``(dim, dim)``), by forward-mode autodiff."""
        q = self.params(p)
        return jax.jacfwd(lambda y: self._rhs(y, q))(jnp.asarray(x, _float()))

    def index(self, name: str) -> int:
        """Position of state variable ``name`` in ``x``."""
        if name not in self.names:
            raise ValueError(f"unknown state variable {name!r}; free variables are {self.names}")
        return self.names.index(name)


class _NeuronSystem(System):
    model: eqx.Module
    drive: object
    all_vars: tuple[str, ...] = eqx.field(static=True)
    unit: int = eqx.field(static=True)
    array_state: bool = eqx.field(static=True)
    has_held: bool = eqx.field(static=True)

    def bind(self, q):
        model = _inject(self.model, q)
        n = model.n
        i_ext = jnp.broadcast_to(q["i_ext"], (n,))
        extra = (jnp.zeros((n,), bool),) if self.has_held else ()

        def f(x):
            vals = {k: x[self.names.index(k)] if k in self.names else q[k] for k in self.all_vars}
            state = {k: jnp.broadcast_to(v, (n,)) for k, v in vals.items()}
            y = state["v"] if self.array_state else state
            out = model.vector_field(y, self.drive, i_ext, *extra)
            out = {"v": out} if self.array_state else out
            return jnp.stack([out[k][self.unit] for k in self.names])

        return f


class _RateSystem(System):
    model: eqx.Module
    coupling: eqx.Module | None
    all_vars: tuple[str, ...] = eqx.field(static=True)
    unit: int = eqx.field(static=True)  # -1: the whole network
    c_shape: tuple[int, ...] = eqx.field(static=True)

    def bind(self, q):
        model = _inject(self.model, q)
        n = model.n
        c_in = jnp.broadcast_to(q["c"], (n,) + self.c_shape)
        if self.unit >= 0:

            def f(x):
                vals = {k: x[self.names.index(k)] if k in self.names else q[k]
                        for k in self.all_vars}  # fmt: skip
                state = {k: jnp.broadcast_to(v, (n,)) for k, v in vals.items()}
                out = model.vector_field(state, c_in)
                return jnp.stack([out[k][self.unit] for k in self.names])

            return f
        free = [k for k in self.all_vars if f"{k}[0]" in self.names]
        coupling = _inject(self.coupling, q)

        def g(x):
            xs = x.reshape(len(free), n)
            state = {k: xs[free.index(k)] if k in free else jnp.broadcast_to(q[k], (n,))
                     for k in self.all_vars}  # fmt: skip
            out = model.vector_field(state, coupling(model.output(state)) + c_in)
            return jnp.concatenate([out[k] for k in free])

        return g


class _FlatSystem(System):
    model: eqx.Module

    def bind(self, q):
        return lambda x: self.model.vector_field(x, q["u"])


class _FunctionSystem(System):
    fun: Callable = eqx.field(static=True)

    def bind(self, q):
        return lambda x: jnp.asarray(self.fun(x, q), x.dtype)


def _split_vars(all_vars, free, frozen, state0):
    free = tuple(all_vars) if free is None else tuple([free] if isinstance(free, str) else free)
    bad = [k for k in free if k not in all_vars]
    if bad or not free:
        raise ValueError(f"free={list(free)} must name state variables among {list(all_vars)}")
    frozen = dict(frozen or {})
    bad = [k for k in frozen if k not in all_vars or k in free]
    if bad:
        raise ValueError(
            f"frozen={sorted(frozen)} must name state variables that are not free "
            f"(state variables {list(all_vars)}, free {list(free)})"
        )
    held = {}
    for k in all_vars:
        if k not in free:
            held[k] = jnp.asarray(frozen.get(k, state0[k]), _float())
    return free, held


def system(
    model,
    coupling=None,
    *,
    free=None,
    frozen: dict | None = None,
    unit: int = 0,
    drive=None,
    i_ext=0.0,
    c=0.0,
    u=None,
) -> System:
    """The vector field of a neurosim neuron, rate node or coupled rate network.

    Derived from the model's own ``vector_field``. A model with ``flat_state = True``
    (``ns.train.RateRNN``) is one vector ``x`` of ``model.n`` variables (``"x[0]"``, ...)
    with ``dx/dt = model.vector_field(x, u)``; its weights are traced, so one compiled
    analysis serves any trained copy of the same shape. A neuron's spike/reset rule and its
    refractoriness are not part of the flow (``held`` is False); ``v_peak`` cut-offs of the
    models stay (their vector fields are evaluated below the peak).

    Args:
        model: an ``ns.neurons`` model (any with ``vector_field(y, drive, i_ext[, held])``)
            or an ``ns.rates`` model (``vector_field(state, c)``).
        coupling: an ``ns.rates`` coupling: analyse the whole network of ``model.n`` nodes
            (state variables named ``"E[0]", "E[1]", ...``; delays are ignored, which leaves
            the fixed points unchanged but not their stability under delays).
        free: the state variables that evolve (default all); the others are frozen.
        frozen: values of the frozen variables (default: the model's initial state of that
            unit); they are parameters too (``p={"w": 100.0}``).
        unit: which neuron/node of a population (parameters are taken from it).
        drive: a fixed ``ns.neurons.SynapticDrive`` for neurons (default none).
        i_ext: default external current for neurons (pA; parameter ``"i_ext"``).
        c: default coupling input for rate nodes (parameter ``"c"``; added to the network's
            coupling when ``coupling`` is given).
        u: default input ``(model.n_in,)`` of a flat-state model (parameter ``"u"``;
            default zeros).

    Returns:
        A :class:`System`; its parameters are the model's array fields (values of ``unit``;
        the whole node arrays for a network), the input, ``G`` etc. of the coupling, and the
        frozen variables.

    Example:
        >>> import neurosim as ns
        >>> adex = ns.dynamics.system(ns.neurons.AdEx(1), i_ext=300.0)
        >>> adex.names
        ('v', 'w')
    """
    if not isinstance(model, eqx.Module) or not hasattr(model, "vector_field"):
        raise TypeError(f"model must be a neurosim model with vector_field, got {type(model)}")
    if getattr(model, "flat_state", False):
        return _flat_system(model, u)
    n = int(model.n)
    if not 0 <= int(unit) < n:
        raise ValueError(f"unit must be in [0, {n}) for a model of n={n}, got {unit}")
    unit = int(unit)
    state0 = {k: v for k, v in model.init(jax.random.key(0), 0.1).items()
              if eqx.is_inexact_array(v)}  # fmt: skip
    fields = _array_fields(model)
    sig = inspect.signature(model.vector_field).parameters
    is_rate = len(sig) == 2
    if is_rate:
        c_shape = tuple(model.coupling_shape())
        out = jax.eval_shape(model.vector_field, state0, jnp.zeros((n,) + c_shape))
        all_vars = tuple(k for k in model.state_names if k in out)
        if coupling is None:
            free_, held = _split_vars(all_vars, free, frozen, {k: state0[k][unit] for k in state0})
            defaults = {k: v[unit] for k, v in fields.items() if v.shape[:1] == (n,)}
            defaults.update(held, c=jnp.broadcast_to(jnp.asarray(c, _float()), c_shape))
            return _RateSystem(free_, defaults, model, None, all_vars, unit, c_shape)
        if int(coupling.n) != n:
            raise ValueError(f"coupling has n={coupling.n} nodes but the model has n={n}")
        free_v, held = _split_vars(all_vars, free, frozen, state0)
        names = tuple(f"{k}[{i}]" for k in free_v for i in range(n))
        defaults = dict(fields)
        defaults.update(_array_fields(coupling))
        defaults.update({k: jnp.broadcast_to(v, (n,)) for k, v in held.items()})
        defaults["c"] = jnp.broadcast_to(jnp.asarray(c, _float()), (n,) + c_shape)
        return _RateSystem(names, defaults, model, coupling, all_vars, -1, c_shape)
    if coupling is not None:
        raise ValueError("coupling is for rate models; neurons take a fixed drive instead")
    from ..neurons import SynapticDrive

    drive = SynapticDrive.zeros(n) if drive is None else drive
    has_held = "held" in sig
    extra = (jnp.zeros((n,), bool),) if has_held else ()
    zeros = jnp.zeros((n,), _float())
    try:
        out = jax.eval_shape(model.vector_field, state0, drive, zeros, *extra)
        array_state = not isinstance(out, dict)
    except (TypeError, AttributeError, KeyError):
        array_state = True
    if array_state:
        if "v" not in state0:
            raise TypeError(f"{type(model).__name__}: cannot adapt its vector_field")
        all_vars, state0 = ("v",), {"v": state0["v"]}
    else:
        all_vars = tuple(k for k in state0 if k in out)
    free_, held = _split_vars(all_vars, free, frozen, {k: state0[k][unit] for k in all_vars})
    defaults = {k: v[unit] for k, v in fields.items() if v.shape[:1] == (n,)}
    defaults.update(held, i_ext=jnp.asarray(i_ext, _float()))
    return _NeuronSystem(free_, defaults, model, drive, all_vars, unit, array_state, has_held)


def _flat_system(model, u) -> System:
    n, n_in = int(model.n), int(model.n_in)
    u = jnp.zeros((n_in,), _float()) if u is None else jnp.asarray(u, _float())
    if u.shape != (n_in,):
        raise ValueError(
            f"u must have shape (n_in,) = ({n_in},) for this {type(model).__name__}, got "
            f"{u.shape}; pass one input vector"
        )
    return _FlatSystem(tuple(f"x[{i}]" for i in range(n)), {"u": u}, model)


def from_function(fun: Callable, names, params: dict | None = None) -> System:
    """A :class:`System` from a plain function ``fun(x, p) -> dx/dt``.

    Args:
        fun: pure JAX function of the state ``x`` (``(dim,)``) and the parameter dict ``p``;
            define it once at module level so that compiled analyses are reused.
        names: names of the state variables (their number is ``dim``).
        params: default parameter values (numbers or arrays).

    Example:
        >>> import jax.numpy as jnp, neurosim as ns
        >>> lin = ns.dynamics.from_function(lambda x, p: p["A"] @ x, ("x", "y"),
        ...                                 {"A": -jnp.eye(2)})
        >>> lin.dim
        2
    """
    names = tuple([names] if isinstance(names, str) else names)
    if not names:
        raise ValueError("names must list at least one state variable")
    defaults = {k: jnp.asarray(v, _float()) for k, v in (params or {}).items()}
    sys_ = _FunctionSystem(names, defaults, fun)
    out = jax.eval_shape(sys_._rhs, jnp.zeros((len(names),), _float()), defaults)
    if out.shape != (len(names),):
        raise ValueError(
            f"fun must return dx/dt of shape ({len(names)},) like names, got {out.shape}"
        )
    return sys_


def as_box(system_: System, box) -> tuple[np.ndarray, np.ndarray]:
    """``(lo, hi)`` arrays of shape ``(dim,)`` from a box ``[(lo, hi), ...]`` per variable."""
    arr = np.asarray(box, float)
    if arr.shape != (system_.dim, 2):
        raise ValueError(
            f"box must give (lo, hi) for each of the {system_.dim} variables {system_.names}, "
            f"got shape {arr.shape}"
        )
    if not np.all(arr[:, 1] > arr[:, 0]):
        raise ValueError(f"box needs lo < hi for every variable, got {arr.tolist()}")
    return arr[:, 0], arr[:, 1]
