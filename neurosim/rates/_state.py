"""Rate networks on the one engine: noise, the one-population network, its initial state.

A rate network is a :class:`neurosim.Network` with one rate population (named ``"nodes"``)
and its connectome coupling; :func:`init_state`, :func:`neurosim.rates.run` and
:func:`neurosim.rates.simulate` are short wrappers over :meth:`neurosim.Network.init_state`,
:func:`neurosim.run` and :func:`neurosim.simulate`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._validate import check
from ._noise import AdditiveNoise

__all__ = ["AdditiveNoise", "NODES", "network", "init_state", "record_traces"]

NODES = "nodes"  # the rate population's name in networks made by :func:`network`


def network(model, coupling=None, *, noise=None, integrator=None):
    """The one-population rate network of ``model`` and its ``coupling`` (a ``Network``).

    Its rate population is named ``"nodes"`` (traces ``"nodes.S_e"``, ...). Built without
    host-side checks of values, so it works on traced parameters (inside ``jax.grad``).

    Example:
        >>> import numpy as np, neurosim as ns
        >>> net = ns.rates.network(ns.rates.ReducedWongWangEI(2),
        ...                        ns.rates.LinearCoupling(np.ones((2, 2)), G=0.1))
        >>> net.rate_populations[0].name
        'nodes'
    """
    from ..network import Network, NodeCoupling, RatePopulation, check_rate_parts

    check_rate_parts(model, coupling, noise, integrator)
    if noise is not None or integrator is not None:
        model = model.with_integration(integrator=integrator, noise=noise)
    pop = RatePopulation(name=NODES, model=model)
    couplings = () if coupling is None else (NodeCoupling(f"{NODES}->{NODES}", 0, coupling),)
    return Network(
        populations=(), projections=(), inputs=(), rate_populations=(pop,),
        node_couplings=couplings,
    )  # fmt: skip


def init_state(model, coupling, key, dt: float, nodes: dict | None = None):
    """Initial state of the rate network: node variables sampled with ``key`` (or given),
    a constant past; a :class:`neurosim.NetworkState`.

    Args:
        model: the rate model.
        coupling: its coupling (or None).
        key: random key for the model's initializers.
        dt: time step (ms); sizes the delay ring (``max round(d_ij/dt) + 1`` steps).
        nodes: optional state dict to start from instead of sampling.

    Example:
        >>> import jax, neurosim as ns
        >>> m = ns.rates.Kuramoto(3)
        >>> s0 = ns.rates.init_state(m, None, jax.random.key(0), dt=0.1)
    """
    check(lambda a: a > 0, "dt", dt, "must be > 0 ms")
    net = network(model, coupling)
    return net.init_state(key, dt, nodes=None if nodes is None else {NODES: nodes})


def record_traces(model, record, every) -> tuple:
    """``ns.Trace("nodes.<name>", every=every)`` for each recorded name (default: all state
    variables); names must be state variables or observables of ``model``."""
    from ..network import Trace

    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(f"every must be an integer >= 1, got {every!r}")
    if record is None:
        return tuple(Trace(f"{NODES}.{v}", every=every) for v in model.state_names)
    if isinstance(record, str):
        record = (record,)
    x0 = jax.eval_shape(model.init, jax.random.key(0), 0.1)
    c0 = jax.eval_shape(model.output, x0)
    obs = jax.eval_shape(model.observables, x0, jnp.zeros(c0.shape, jnp.result_type(float)))
    known = list(model.state_names) + list(obs)
    out = []
    for name in record:
        if name not in known:
            raise ValueError(f"cannot record {name!r}; available: {known}")
        if name in out:
            raise ValueError(f"{name!r} is recorded twice")
        out.append(name)
    if not out:
        raise ValueError("record must name at least one variable")
    return tuple(Trace(f"{NODES}.{v}", every=every) for v in out)
