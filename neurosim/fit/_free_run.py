"""Free-running simulation of many parameter sets under one recorded current."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from ..network import ArrayCurrent, NetworkBuilder, run

__all__ = ["run_free"]


def run_free(neuron, current, dt: float, initial: dict | None = None, *, record=()):
    """Simulate every neuron of ``neuron`` under the same injected current with ``ns.run``.

    The neurons are candidate parameter sets (the model's parameters given as arrays of length
    ``neuron.n``, possibly traced: e.g. a population of a global search, or a ``vmap``-ed
    batch), each running free — its own threshold and resets — from the same initial state.
    One call is one ``lax.scan`` over time, so a whole population of candidates costs about
    as much as one neuron on a CPU until the arithmetic dominates.

    Args:
        neuron: a neuron model; its parameters may be arrays of shape ``(neuron.n,)``.
        current: injected current (pA) per step, shape ``(T,)`` (shared) or ``(T, n)``.
        dt: time step (ms), concrete.
        initial: state variables to set, e.g. ``{"v": -65.0}``; scalars are broadcast.
        record: state variables to return as ``(T, n)`` traces (the state after each step).

    Returns:
        ``(spikes, traces)``: the ``(T, n)`` spike output and a dict of recorded traces.

    Example:
        >>> import jax.numpy as jnp, neurosim as ns
        >>> cell = ns.neurons.LIF(3, tau_m=jnp.array([10.0, 20.0, 30.0]))
        >>> spikes, _ = ns.fit.run_free(cell, jnp.full(2000, 300.0), 0.1)
        >>> spikes.shape
        (2000, 3)
    """
    current = jnp.asarray(current)
    if current.ndim not in (1, 2) or (current.ndim == 2 and current.shape[1] != neuron.n):
        raise ValueError(
            f"current must have shape (T,) or (T, {neuron.n}) for neuron.n={neuron.n}, "
            f"got {current.shape}"
        )
    spikes, traces, _ = simulate_population(neuron, current, dt, initial, record)
    return spikes, traces


def simulate_population(neuron, current, dt, initial, record):
    """One population under an :class:`ArrayCurrent` for ``len(current)`` steps with ``ns.run``.

    The shared mechanism of :func:`run_free`, :func:`~neurosim.fit.run_segments` and
    :func:`~neurosim.fit.record_neuron`. Returns ``(spikes, traces, initial_state)``.
    """
    b = NetworkBuilder()
    b.add_population("cell", neuron)
    b.add_input("cell", ArrayCurrent(current))
    net = b.build()
    state = net.init_state(jax.random.key(0), dt)
    st = dict(state.neurons[0])
    for k, val in (initial or {}).items():
        if k not in st:
            raise ValueError(f"{type(neuron).__name__} has no state variable {k!r}; has {list(st)}")
        st[k] = jnp.broadcast_to(jnp.asarray(val, st[k].dtype), st[k].shape)
    state = eqx.tree_at(lambda s: s.neurons, state, (st,))
    _, out = run(
        net,
        state,
        int(current.shape[0]),
        dt,
        key=jax.random.key(0),
        record=[f"cell.{r}" for r in record],
    )
    return out.spikes["cell"], {r: out.traces[f"cell.{r}"] for r in record}, st
